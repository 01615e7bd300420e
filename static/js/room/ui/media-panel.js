// Media and Files in the room's side panel, so hosts never leave the room. The panel shows the
// server-rendered fragment (templates/media_library/_room_media_panel.html, whose comment is the
// contract): links marked [data-panel-href] load into the panel, forms marked [data-panel-form]
// are posted with fetch to `action + "?panel=1"` and answer with the fragment again. Without
// JavaScript the same fragment works by plain navigation.
//
// Also here, for the panel and for the full Media and Files page (which loads this module on its
// own): a control marked [data-submit-on-change] submits its form as soon as it changes (the
// "Upload file" button). One delegated listener on the document does it, for fragments loaded
// later too.

import { csrfToken } from "../dom.js";
import { LABELS } from "./labels.js";

export function installSubmitOnChange(doc = document) {
  if (doc.documentElement.dataset.submitOnChange === "1") return; // once per page
  doc.documentElement.dataset.submitOnChange = "1";
  doc.addEventListener("change", (e) => {
    const control = e.target.closest && e.target.closest("[data-submit-on-change]");
    if (control && control.form) control.form.requestSubmit();
  });
}

if (typeof document !== "undefined") installSubmitOnChange(document);

function failed(body) {
  const p = document.createElement("p");
  p.className = "muted";
  p.textContent = LABELS.panelFailed;
  body.replaceChildren(p);
}

export function panelPostUrl(action) {
  return action + (action.includes("?") ? "&" : "?") + "panel=1";
}

export function createMediaPanel({ panel, body, closeButton, url }) {
  async function load(href, init = {}) {
    try {
      const response = await fetch(href, { credentials: "same-origin", ...init });
      if (response.status >= 500) return failed(body);
      body.innerHTML = await response.text(); // our own server's fragment (4xx: its .mf-error)
    } catch (err) {
      failed(body);
    }
  }

  body.addEventListener("click", (e) => {
    const link = e.target.closest("[data-panel-href]");
    if (!link) return;
    e.preventDefault();
    load(link.dataset.panelHref);
  });
  body.addEventListener("submit", (e) => {
    const form = e.target.closest("[data-panel-form]");
    if (!form) return;
    e.preventDefault();
    load(panelPostUrl(form.getAttribute("action") || location.pathname), {
      method: "POST",
      body: new FormData(form),
      headers: { "X-CSRFToken": csrfToken() },
    });
  });
  closeButton.addEventListener("click", () => (panel.hidden = true));

  function open() {
    panel.hidden = false;
    load(url);
  }

  return { open };
}
