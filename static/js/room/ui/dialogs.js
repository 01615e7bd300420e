// Confirmation dialogs (<dialog>: [data-close] buttons cancel) and the toolbar's three-dots menu.

export function wireDialog(dialog, confirmButton, onConfirm) {
  dialog.querySelectorAll("[data-close]").forEach((b) => b.addEventListener("click", () => dialog.close()));
  confirmButton.addEventListener("click", () => {
    dialog.close();
    onConfirm();
  });
  return dialog;
}

export function wireMenu(button, menu) {
  const close = () => {
    menu.hidden = true;
    button.setAttribute("aria-expanded", "false");
  };
  button.addEventListener("click", (e) => {
    e.stopPropagation();
    menu.hidden = !menu.hidden;
    button.setAttribute("aria-expanded", String(!menu.hidden));
  });
  document.addEventListener("click", close);
  document.addEventListener("keydown", (e) => e.key === "Escape" && close());
  // A menu item does its thing and the menu closes.
  const item = (element, action) =>
    element.addEventListener("click", () => {
      close();
      action();
    });
  return { close, item };
}
