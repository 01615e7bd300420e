// Small DOM helpers shared by the room's modules.

export const $ = (id) => document.getElementById(id);

export function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}
