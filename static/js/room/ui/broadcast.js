// A broadcast starts in preview: everyone sees which it is, hosts see "Go live".

import { $ } from "../dom.js";
import { sessionView } from "../state.js";
import { LABELS } from "./labels.js";

export function createBroadcastBadge({ onGoLive }) {
  const badge = $("broadcast-state"); // broadcast rooms only
  const goLive = $("btn-go-live"); // and their hosts and moderators
  if (goLive) goLive.addEventListener("click", () => onGoLive());

  function render(state, prev) {
    if (!badge || (prev && state.session === prev.session)) return;
    const { live } = sessionView(state);
    badge.textContent = live ? LABELS.live : LABELS.preview;
    badge.dataset.state = live ? "live" : "preview";
    if (goLive) goLive.hidden = live;
  }

  return { render };
}
