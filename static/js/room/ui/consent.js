// Consent to be recorded (issue 12): in a room that asks, everyone is asked in a modal dialog
// when a recording starts and when they join while it runs, with the reason and who will have
// access. Until they agree nothing of theirs is recorded (state.js captureView; the server
// refuses their segments anyway). Closing the dialog without answering leaves them not recorded;
// the "Not recorded — Change" control beside the recording indicator opens it again.
// #room carries data-consent: "" (nothing to answer), "none", "agree" or "decline".

import { $ } from "../dom.js";
import { consentView } from "../state.js";

export function createConsent({ root, onAnswer }) {
  const dialog = $("dlg-consent");
  const status = $("consent-status");
  const change = $("consent-change");
  let askedFor = null; // the recording whose dialog opened by itself (it opens by itself once)
  let current = { uid: null };

  function open() {
    if (!dialog.open) dialog.showModal();
  }

  function answer(value) {
    dialog.close();
    if (current.uid) onAnswer(value, current.uid);
  }

  $("consent-agree").addEventListener("click", () => answer("agree"));
  $("consent-decline").addEventListener("click", () => answer("decline"));
  change.addEventListener("click", open);
  // Escape or a closed dialog without an answer: still not recorded; the focus goes to Change.
  dialog.addEventListener("close", () => {
    if (!status.hidden) change.focus();
  });

  function render(state, prev) {
    if (prev && state.recording === prev.recording && state.consent === prev.consent && state.ended === prev.ended) {
      return;
    }
    const view = consentView(state);
    current = view;
    root.dataset.consent = view.uid ? view.answer || "none" : "";
    status.hidden = !view.notRecorded;
    status.dataset.answer = view.answer || "none";
    if (view.ask && askedFor !== view.uid) {
      askedFor = view.uid;
      open();
    } else if (!view.uid && dialog.open) {
      dialog.close(); // the recording stopped (or the session ended): nothing to answer any more
    }
  }

  return { render, open };
}
