// The hosts' "Processing recording… n%" bar after a recording stops. #room[data-progress] keeps
// the last figure heard.

import { $ } from "../dom.js";
import { progressView } from "../state.js";
import { LABELS } from "./labels.js";

export function createProgressBar({ root }) {
  const box = $("rec-progress"); // hosts and moderators only
  const bar = $("rec-progress-bar");
  const label = $("rec-progress-label");

  function render(state, prev) {
    if (prev && state.progress === prev.progress) return;
    const view = progressView(state);
    if (view.value !== null) root.dataset.progress = String(view.value);
    if (!box) return;
    box.hidden = !view.visible;
    if (view.value !== null) {
      bar.value = view.value;
      label.textContent = LABELS.processing(view.value);
    }
  }

  return { render };
}
