// The agent app's entry module: live updates, keyboard shortcuts and small conveniences.
// Everything else is server-rendered HTML that htmx swaps in.
import { startLive } from "./live.js";
import { startShortcuts } from "./shortcuts.js";
import { startTheme } from "./theme.js";
import { startProfile } from "./profile.js";
import "./presence.js"; // the conversation header: presence, typing and its menus
import "./contact.js"; // the contact sidebar: live refreshes wait for unsaved edits
import "./list.js"; // the conversation list: j/k, the open marker, bulk selection
import "./settings.js"; // settings: copy buttons and the confirm dialog
import "./attachments.js"; // the composer's files: drag and drop, paste, the picker, uploads
import "./composer.js"; // the conversation: composer tabs, drafts, snippets, mentions, typing
import "./email.js"; // email conversations: recipients, forwarding and their drafts
import "./bot-editor.js"; // settings → bots: the step editor and its widget preview
import "./chat-settings.js"; // live chat settings: the snippet's copy button, the chatflow editor

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
  startTheme();
  if (document.body.dataset.userId) {
    startLive(t);
    startShortcuts();
    startProfile();
  }
});
