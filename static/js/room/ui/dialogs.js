// Confirmation dialogs (<dialog>: [data-close] buttons cancel) and the toolbar's three-dots menu,
// both usable by keyboard: the dialog takes the focus when it opens (showModal) and gives it back
// when it closes; the menu follows the WAI-ARIA menu button pattern (Enter, Space or the arrows
// open it, the arrows, Home and End move, Escape and Tab close it, Escape back to its button).

// Can `el` take the focus back (still in the page and shown)?
export function canFocus(el) {
  if (!el || !el.isConnected || el.disabled) return false;
  return typeof el.checkVisibility === "function" ? el.checkVisibility() : !el.closest("[hidden]");
}

// Focus the first of `candidates` that can take it.
export function focusFirst(...candidates) {
  const el = candidates.find(canFocus);
  if (el) el.focus();
  return el || null;
}

export function wireDialog(dialog, confirmButton, onConfirm, { fallback = null } = {}) {
  let returnTo = null;
  let hadFocus = null; // what had the focus as the dialog opened (the browser gives it back on close)
  dialog.querySelectorAll("[data-close]").forEach((b) => b.addEventListener("click", () => dialog.close()));
  confirmButton.addEventListener("click", () => {
    dialog.close();
    onConfirm();
  });
  // Escape closes a modal <dialog> by itself ("cancel", then "close"); every way out ends here.
  dialog.addEventListener("close", () => {
    const target = returnTo;
    const had = hadFocus;
    returnTo = hadFocus = null;
    // "close" comes a task after the dialog hid: a busy page may have let the person move on to
    // something else by then (a click, a key), and that focus is theirs to keep.
    const now = document.activeElement;
    if (now && now !== document.body && now !== had && now !== target && !dialog.contains(now)) return;
    focusFirst(target, typeof fallback === "function" ? fallback() : fallback);
  });
  return {
    // `opener`: where the focus goes back to (the element that had it, unless said otherwise).
    open(opener = document.activeElement) {
      returnTo = opener;
      hadFocus = document.activeElement;
      dialog.showModal();
    },
    close: () => dialog.close(),
    element: dialog,
  };
}

export function wireMenu(button, menu) {
  const items = () => [...menu.querySelectorAll('[role="menuitem"]')].filter((el) => !el.hidden && !el.disabled);
  const isOpen = () => !menu.hidden;

  function open(focus = "first") {
    menu.hidden = false;
    button.setAttribute("aria-expanded", "true");
    const list = items();
    const target = focus === "last" ? list[list.length - 1] : list[0];
    if (target) target.focus();
  }

  function close({ restoreFocus = false } = {}) {
    if (!isOpen()) return;
    menu.hidden = true;
    button.setAttribute("aria-expanded", "false");
    if (restoreFocus) button.focus();
  }

  function move(delta) {
    const list = items();
    if (!list.length) return;
    const at = list.indexOf(document.activeElement);
    const next = at < 0 ? 0 : (at + delta + list.length) % list.length;
    list[next].focus();
  }

  // A click (or Enter/Space, which click a button) toggles; the arrows open it too.
  button.addEventListener("click", (e) => {
    e.stopPropagation();
    if (isOpen()) close();
    else open("first");
  });
  button.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      open(e.key === "ArrowUp" ? "last" : "first");
    }
  });
  menu.addEventListener("keydown", (e) => {
    switch (e.key) {
      case "ArrowDown":
        e.preventDefault();
        move(1);
        break;
      case "ArrowUp":
        e.preventDefault();
        move(-1);
        break;
      case "Home":
        e.preventDefault();
        items()[0]?.focus();
        break;
      case "End":
        e.preventDefault();
        items().at(-1)?.focus();
        break;
      case "Escape":
        e.preventDefault();
        e.stopPropagation();
        close({ restoreFocus: true });
        break;
      case "Tab":
        close({ restoreFocus: true }); // then Tab moves on from the button's place in the toolbar
        break;
      default:
        break;
    }
  });
  document.addEventListener("click", (e) => {
    if (!menu.contains(e.target)) close();
  });
  // The focus leaving the menu (a click elsewhere, the page losing it) closes it.
  menu.addEventListener("focusout", (e) => {
    if (e.relatedTarget && !menu.contains(e.relatedTarget) && e.relatedTarget !== button) close();
  });
  // A menu item does its thing and the menu closes; what it opens gives the focus back to the
  // menu's button (the item itself may be hidden by then).
  const item = (element, action) =>
    element.addEventListener("click", () => {
      close();
      action(button);
    });
  return { close, item, button };
}
