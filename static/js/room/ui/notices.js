// Notices: toasts in the page's live region (#notices, role=status), each carrying its text in
// data-text. Sticky ones stay; the others go after a while.

import { LABELS } from "./labels.js";

const LIFETIME_MS = 9000;
const LEVELS = new Set(["info", "warning", "error", "success"]);

export function showNotice(text, { level = "info", link = null, sticky = false } = {}) {
  const box = document.getElementById("notices");
  const el = document.createElement("div");
  el.className = `notice notice-${LEVELS.has(level) ? level : "info"}`;
  el.dataset.text = text;
  el.textContent = text;
  if (link) {
    const a = document.createElement("a");
    a.href = link;
    a.textContent = LABELS.open;
    a.className = "notice-link";
    el.append(" ", a);
  }
  box.append(el);
  if (!sticky) setTimeout(() => el.remove(), LIFETIME_MS);
  return el;
}

// A server notice's level as the room shows it (anything unknown is plain information).
export function noticeLevel(level) {
  return level === "error" || level === "warning" ? level : "info";
}
