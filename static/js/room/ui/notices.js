// Notices: toasts in the page's live region (#notices, role=status, aria-live=polite; an error is
// role=alert, said at once). Each carries its text in data-text and its code in data-code; a new one
// replaces those it supersedes (notice-rules.js), and each has a "Dismiss notice" button. Sticky
// ones stay until dismissed; the others go after a while, but not while pointed at or focused.

import { announceRole, superseded } from "../notice-rules.js";
import { LABELS } from "./labels.js";

const LIFETIME_MS = 9000;
const LEVELS = new Set(["info", "warning", "error", "success"]);

const box = () => document.getElementById("notices");

// Remove a notice; if the focus was in it, it goes to the next notice's dismiss button, else the
// previous one's, else the room (it must not fall to the page's start).
export function dismiss(el) {
  if (!el.isConnected) return;
  const hadFocus = el.contains(document.activeElement);
  const next = el.nextElementSibling || el.previousElementSibling;
  el.remove();
  if (!hadFocus) return;
  const target = (next && next.querySelector(".notice-dismiss")) || document.getElementById("room");
  if (target) target.focus();
}

function dismissButton(el) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "notice-dismiss";
  button.setAttribute("aria-label", LABELS.dismissNotice);
  button.title = LABELS.dismiss;
  const cross = document.createElement("span");
  cross.setAttribute("aria-hidden", "true");
  cross.textContent = "×";
  button.append(cross);
  button.addEventListener("click", () => dismiss(el));
  return button;
}

function expireLater(el) {
  setTimeout(() => {
    if (el.matches(":hover, :focus-within")) expireLater(el); // someone is reading or acting on it
    else el.remove();
  }, LIFETIME_MS);
}

export function showNotice(text, { level = "info", code = null, link = null, sticky = false } = {}) {
  const container = box();
  const incoming = { code, text };
  const shown = [...container.querySelectorAll(".notice[data-code]")].map((node) => ({
    code: node.dataset.code,
    text: node.dataset.text,
    node,
  }));
  superseded(shown, incoming).forEach(({ node }) => node.remove());

  const el = document.createElement("div");
  el.className = `notice notice-${LEVELS.has(level) ? level : "info"}`;
  el.dataset.text = text;
  if (code) el.dataset.code = code;
  const role = announceRole(level);
  if (role) el.setAttribute("role", role);
  const body = document.createElement("span");
  body.className = "notice-text";
  body.textContent = text;
  if (link) {
    const a = document.createElement("a");
    a.href = link;
    a.textContent = LABELS.open;
    a.className = "notice-link";
    body.append(" ", a);
  }
  el.append(body, dismissButton(el));
  container.append(el);
  if (!sticky) expireLater(el);
  return el;
}

// Notices the server drew into the page (Django's messages) get a dismiss button too; those with
// their own dismiss control (a form that marks a notice seen) keep it.
export function enhanceShownNotices() {
  const container = box();
  if (!container) return;
  for (const el of container.querySelectorAll(".notice")) {
    if (el.querySelector(".notice-dismiss")) continue;
    const body = document.createElement("span");
    body.className = "notice-text";
    body.append(...el.childNodes);
    el.append(body, dismissButton(el));
  }
}

// A server notice's level as the room shows it (anything unknown is plain information).
export function noticeLevel(level) {
  return level === "error" || level === "warning" ? level : "info";
}
