// The agent app's entry module: live updates, keyboard shortcuts and small conveniences.
// Everything else is server-rendered HTML that htmx swaps in.
import { startLive } from "./live.js";
import { startShortcuts } from "./shortcuts.js";

const strings = JSON.parse(document.body.dataset.strings || "{}");
export const t = (key) => strings[key] || key;

// Toasts hide themselves after a few seconds; errors stay a little longer.
function hideToasts(root) {
  for (const el of root.querySelectorAll("[data-autohide]")) {
    el.removeAttribute("data-autohide");
    const ms = el.classList.contains("toast--error") ? 7000 : 3500;
    setTimeout(() => el.remove(), ms);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  hideToasts(document);
  document.body.addEventListener("htmx:afterSettle", () => hideToasts(document));
  if (document.body.dataset.userId) {
    startLive(t);
    startShortcuts();
  }
});
