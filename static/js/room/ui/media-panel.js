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
import { focusFirst } from "./dialogs.js";
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

// `onPresent(entryId)`: a row's "Present" button was pressed (the room page puts it on the stage).
export function createMediaPanel({ panel, body, closeButton, title, url, onPresent = null }) {
  let returnTo = null;

  async function load(href, init = {}) {
    const hadFocus = panel.contains(document.activeElement);
    try {
      const response = await fetch(href, { credentials: "same-origin", ...init });
      if (response.status >= 500) failed(body);
      else body.innerHTML = await response.text(); // our own server's fragment (4xx: its .mf-error)
    } catch (err) {
      failed(body);
    }
    // The link or form that had the focus is gone with the old fragment: keep the focus in the
    // drawer, on what was done (its status line) if it says so, else on the drawer's title.
    if (hadFocus && !panel.contains(document.activeElement)) {
      const done = body.querySelector(".mf-done, .mf-error");
      if (done) done.tabIndex = -1;
      (done || title).focus();
    }
  }

  body.addEventListener("click", (e) => {
    const present = e.target.closest("[data-present-entry]");
    if (present && onPresent) {
      e.preventDefault();
      onPresent(Number(present.dataset.presentEntry));
      close(); // the stage is what they want to see now
      return;
    }
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

  function close() {
    if (panel.hidden) return;
    panel.hidden = true;
    const target = returnTo;
    returnTo = null;
    focusFirst(target);
  }

  closeButton.addEventListener("click", close);
  // Escape closes an open row menu (<details>) first, then the drawer.
  panel.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    e.preventDefault();
    const openMenu = e.target.closest && e.target.closest("details[open]");
    if (openMenu && panel.contains(openMenu)) {
      openMenu.open = false;
      openMenu.querySelector("summary").focus();
      return;
    }
    close();
  });

  // `opener`: where the focus goes back to when the drawer closes.
  function open(opener = document.activeElement) {
    returnTo = opener;
    panel.hidden = false;
    title.focus();
    load(url);
  }

  return { open, close };
}
