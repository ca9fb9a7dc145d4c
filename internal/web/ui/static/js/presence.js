// The conversation header's scripts: its menus (menus.js) and, here, who else is on the open
// conversation, shown in the header's live region (#presence): "Ana is viewing", "Ana is
// typing a reply…". live.js re-dispatches the socket's presence and typing frames as
// parley:presence / parley:typing; the header names the people who can see the conversation
// in data-people (id → name). Your own user is never shown. A typing notice fades 5 s after
// that person's last typing frame. The state is kept per conversation, so a header re-rendered
// by a live update, or another conversation opened, shows it again at once. A live chat
// visitor's typing comes as a typing frame "from": "visitor" without a user id: the header
// says "Ada is typing…" (the contact's name, data-visitor-typing-named) or "The visitor is
// typing…" (data-visitor-typing), fading the same way.
import { startMenus } from "./menus.js";

const TYPING_MS = 5000;
const strings = JSON.parse(document.body.dataset.strings || "{}");
const me = document.body.dataset.userId || "";
const viewers = new Map(); // conversation id → [user id]
const typing = new Map(); // conversation id → Map(user id, or VISITOR → {mode, timer})
const VISITOR = "visitor";

const fmt = (s, arg) => (s || "").replace("%s", arg);

function listOf(names) {
  try {
    return new Intl.ListFormat(document.documentElement.lang || "en", { type: "conjunction" }).format(names);
  } catch {
    return names.join(", ");
  }
}

function render() {
  const head = document.getElementById("conversation-header");
  const region = document.getElementById("presence");
  if (!head || !region) return;
  const conv = head.dataset.conversationId;
  let people = {};
  try { people = JSON.parse(head.dataset.people || "{}"); } catch { /* keep the fallback names */ }
  const name = (id) => people[id] || region.dataset.someone || "?";
  const typers = typing.get(conv) || new Map();
  const parts = [];
  for (const [id, st] of typers) {
    if (id === me) continue;
    if (id === VISITOR) {
      parts.push(region.dataset.visitorTypingNamed || region.dataset.visitorTyping || "");
      continue;
    }
    parts.push(fmt(strings[st.mode === "comment" ? "typing.comment" : "typing.reply"], name(id)));
  }
  const watching = (viewers.get(conv) || []).filter((id) => id !== me && !typers.has(id)).map(name);
  if (watching.length === 1) parts.push(fmt(strings["presence.viewing"], watching[0]));
  else if (watching.length > 1) parts.push(fmt(region.dataset.viewingMany, listOf(watching)));
  const text = parts.join(" · ");
  // Only a real change is written, so the live region does not repeat itself.
  if (region.textContent !== text) region.textContent = text;
  region.toggleAttribute("data-typing", [...typers.keys()].some((id) => id !== me));
}

document.addEventListener("parley:presence", (e) => {
  const f = e.detail || {};
  const conv = String(f.conversation_id);
  const ids = (f.user_ids || []).map(String);
  viewers.set(conv, ids);
  // Someone who left is not typing any more.
  const typers = typing.get(conv);
  if (typers) {
    for (const [id, st] of typers) {
      if (id !== VISITOR && !ids.includes(id)) { clearTimeout(st.timer); typers.delete(id); }
    }
  }
  render();
});

document.addEventListener("parley:typing", (e) => {
  const f = e.detail || {};
  const conv = String(f.conversation_id);
  const id = f.from === VISITOR ? VISITOR : String(f.user_id);
  if (id === me) return;
  if (!typing.has(conv)) typing.set(conv, new Map());
  const typers = typing.get(conv);
  clearTimeout(typers.get(id)?.timer);
  const timer = setTimeout(() => { typers.delete(id); render(); }, TYPING_MS);
  typers.set(id, { mode: f.mode, timer });
  render();
});

// A swap may have replaced the header (live update, action, another conversation opened).
document.addEventListener("htmx:afterSettle", render);

if (me) {
  startMenus();
  render();
}
