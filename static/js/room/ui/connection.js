// The connection badge in the room's head, and the card shown when the session has ended.

import { $ } from "../dom.js";
import { sessionView } from "../state.js";
import { LABELS } from "./labels.js";

const BADGES = {
  connecting: ["connecting", LABELS.connecting],
  open: ["open", LABELS.connected],
  reconnecting: ["reconnecting", LABELS.reconnecting],
  not_allowed: ["closed", LABELS.notAllowed],
  ended: ["closed", LABELS.sessionEnded],
};

export function createConnectionStatus({ root }) {
  const badge = $("conn-status");
  const endedCard = $("ended-card");
  const endedText = $("ended-text");

  function render(state, prev) {
    if (!prev || state.connection !== prev.connection) {
      const [key, label] = BADGES[state.connection] || BADGES.connecting;
      badge.dataset.state = key;
      badge.textContent = label;
    }
    if (!prev || state.ended !== prev.ended) {
      const view = sessionView(state);
      endedText.textContent = view.endedText;
      endedCard.hidden = !view.ended;
      root.classList.toggle("room-ended", view.ended);
    }
  }

  return { render };
}
