// The conversation's composer and timeline (templates/partials/composer.html, timeline.html):
// - Reply / Comment tabs (r and c via data-shortcut; shortcuts.js then focuses the text);
// - a draft per conversation in sessionStorage, so text survives any re-render of the pane,
//   switching conversations and a reload, until it is sent;
// - "/" at the start of a line opens the snippet picker, "@" in a comment the mention picker
//   (server-rendered <li role="option"> lists; a snippet's tokens are filled in server-side);
// - typing frames at most every 3 s, and view/leave frames for the open conversation;
// - the timeline kept scrolled to the newest entry when the reader was there.
import { send, onOpen } from "./live.js";

const TYPING_EVERY_MS = 3000;
const NEAR_BOTTOM_PX = 80;

const $ = (id) => document.getElementById(id);
const draftKey = (conv) => "parley:draft:" + conv;

function composer() { return $("composer"); }
function textArea() { return $("composer-text"); }
function conversationID() {
  const pane = $("conversation");
  return Number((pane && pane.dataset.conversationId) || (composer() && composer().dataset.conversationId) || 0);
}

// --- drafts ---------------------------------------------------------------------------------

// A draft remembers its tab too: a comment must never come back as a reply to the customer.
function saveDraft() {
  const f = composer(), ta = textArea();
  if (!f || !ta) return;
  try {
    if (ta.value) sessionStorage.setItem(draftKey(f.dataset.conversationId), JSON.stringify({ mode: f.elements.mode.value, text: ta.value }));
    else sessionStorage.removeItem(draftKey(f.dataset.conversationId));
  } catch { /* storage full or disabled: the draft just is not kept */ }
}

function restoreDraft() {
  const f = composer(), ta = textArea();
  if (!f || !ta || ta.value) return;
  let draft = null;
  try { draft = JSON.parse(sessionStorage.getItem(draftKey(f.dataset.conversationId)) || "null"); } catch { return; }
  if (!draft || !draft.text) return;
  ta.value = draft.text;
  // A reply draft on a conversation that can no longer take replies stays in the comment box
  // (setMode refuses the disabled tab) rather than vanishing.
  if (draft.mode !== f.elements.mode.value) setMode(draft.mode, false);
}

function forgetDraft(conv) {
  try { sessionStorage.removeItem(draftKey(conv)); } catch { /* nothing kept */ }
}

// --- tabs -----------------------------------------------------------------------------------

let lastTyping = 0;

function setMode(mode, focus = true) {
  const f = composer();
  if (!f) return;
  const tab = $("tab-" + mode);
  if (!tab || tab.getAttribute("aria-disabled") === "true") return;
  f.elements.mode.value = mode;
  f.classList.toggle("composer--reply", mode === "reply");
  f.classList.toggle("composer--comment", mode === "comment");
  for (const t of f.querySelectorAll('[role="tab"]')) t.setAttribute("aria-selected", String(t === tab));
  const ta = textArea();
  ta.placeholder = f.dataset[mode === "reply" ? "placeholderReply" : "placeholderComment"] || "";
  const label = f.querySelector('label[for="composer-text"]');
  if (label) label.textContent = tab.textContent;
  lastTyping = 0; // the other tab is news to whoever watches
  closeMenu();
  saveDraft();
  if (focus) ta.focus();
}

// --- the picker (snippets and mentions) ---------------------------------------------------------

// menu is the open picker: what triggered it and where its text starts.
let menu = null; // {kind: "snippet"|"mention", start, query}
let fetchSeq = 0;
let fetchTimer = null;

function menuEl() { return $("composer-menu"); }
function options() { return [...(menuEl()?.querySelectorAll('[role="option"]') || [])]; }

function closeMenu() {
  menu = null;
  clearTimeout(fetchTimer);
  fetchSeq++;
  const m = menuEl(), ta = textArea();
  if (m) { m.hidden = true; m.replaceChildren(); }
  if (ta) { ta.setAttribute("aria-expanded", "false"); ta.removeAttribute("aria-activedescendant"); }
}

function activate(opt) {
  for (const o of options()) o.setAttribute("aria-selected", String(o === opt));
  const ta = textArea();
  if (opt) { ta.setAttribute("aria-activedescendant", opt.id); opt.scrollIntoView({ block: "nearest" }); }
}

// trigger finds a picker trigger just before the caret: "/word" at the start of a line, or
// in a comment "@word" at the start or after a space.
function trigger(ta) {
  const before = ta.value.slice(0, ta.selectionStart);
  let m = /(?:^|\n)\/([\p{L}\p{N}_-]*)$/u.exec(before);
  if (m) return { kind: "snippet", start: before.length - m[1].length - 1, query: m[1] };
  if (composer().elements.mode.value === "comment") {
    m = /(?:^|[\s(])@([^\s@]*)$/u.exec(before);
    if (m) return { kind: "mention", start: before.length - m[1].length - 1, query: m[1] };
  }
  return null;
}

function updateMenu() {
  const ta = textArea();
  const t = trigger(ta);
  if (!t) { if (menu) closeMenu(); return; }
  if (menu && menu.kind === t.kind && menu.start === t.start && menu.query === t.query) return;
  menu = t;
  clearTimeout(fetchTimer);
  fetchTimer = setTimeout(() => loadMenu(t), 120);
}

async function loadMenu(t) {
  const f = composer();
  const seq = ++fetchSeq;
  const base = t.kind === "snippet" ? f.dataset.snippetsUrl : f.dataset.mentionsUrl;
  let html;
  try {
    const res = await fetch(base + "?q=" + encodeURIComponent(t.query), { credentials: "same-origin" });
    if (!res.ok) return;
    html = await res.text();
  } catch { return; }
  if (seq !== fetchSeq || menu !== t) return; // the text moved on meanwhile
  const m = menuEl();
  m.innerHTML = html; // our own server-rendered, escaped fragment
  m.hidden = false;
  textArea().setAttribute("aria-expanded", "true");
  activate(options()[0] || null);
}

// replaceTrigger puts text in place of the trigger ("/wor", "@an") and the caret after it.
function replaceTrigger(text) {
  const ta = textArea();
  const end = ta.selectionStart;
  ta.setRangeText(text, menu.start, end, "end");
  ta.dispatchEvent(new Event("input", { bubbles: true }));
}

async function pick(opt) {
  if (!menu || !opt) return;
  const f = composer();
  if (menu.kind === "mention") {
    replaceTrigger(opt.dataset.insert + " ");
    if (opt.dataset.team) {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = "mention_team";
      input.value = opt.dataset.team;
      f.append(input);
    }
  } else {
    const t = menu;
    let text;
    try {
      const res = await fetch(opt.dataset.snippetUrl, { credentials: "same-origin" });
      if (!res.ok) return;
      text = await res.text();
    } catch { return; }
    if (menu !== t) return;
    replaceTrigger(text);
  }
  closeMenu();
  textArea().focus();
}

function onKeydown(e) {
  if (!menu || menuEl().hidden || e.isComposing) return;
  const opts = options();
  const at = opts.findIndex((o) => o.getAttribute("aria-selected") === "true");
  switch (e.key) {
    case "ArrowDown":
    case "ArrowUp":
      if (!opts.length) return;
      e.preventDefault();
      activate(opts[(at + (e.key === "ArrowDown" ? 1 : -1) + opts.length) % opts.length]);
      break;
    case "Enter":
    case "Tab":
      if (e.ctrlKey || e.metaKey) { closeMenu(); return; } // Ctrl+Enter still sends
      if (at < 0) return;
      e.preventDefault();
      pick(opts[at]);
      break;
    case "Escape":
      e.preventDefault(); // keep the caret in the text (shortcuts.js blurs on Escape)
      closeMenu();
      break;
  }
}

// --- typing and viewing frames --------------------------------------------------------------

function typed() {
  const f = composer();
  const now = Date.now();
  if (!f || now - lastTyping < TYPING_EVERY_MS) return;
  lastTyping = now;
  send({ type: "typing", conversation_id: Number(f.dataset.conversationId), mode: f.elements.mode.value });
}

let viewing = 0;

// announce tells the server which conversation this page shows, after any swap.
function announce() {
  const id = conversationID();
  if (id === viewing) return;
  if (viewing) send({ type: "leave", conversation_id: viewing });
  viewing = id;
  if (viewing) send({ type: "view", conversation_id: viewing });
}

// --- the timeline's scroll ------------------------------------------------------------------

let shownTimeline = 0; // the conversation whose timeline was last scrolled into place
let stuck = true; // the reader is at the newest entry

function scrollTimeline() {
  const tl = $("timeline");
  if (!tl) { shownTimeline = 0; return; }
  const conv = Number(tl.dataset.conversationId);
  if (conv !== shownTimeline || stuck) {
    if (tl.scrollHeight > tl.clientHeight) tl.scrollTop = tl.scrollHeight;
    // On a phone the whole pane scrolls instead of the timeline.
    else if (tl.lastElementChild && getComputedStyle(tl).overflowY === "visible") tl.lastElementChild.scrollIntoView({ block: "end" });
  }
  shownTimeline = conv;
  stuck = true;
}

// --- wiring ---------------------------------------------------------------------------------

function settle() {
  restoreDraft();
  scrollTimeline();
  announce();
}

export function startComposer() {
  document.addEventListener("click", (e) => {
    const tab = e.target.closest && e.target.closest("#composer [role=tab]");
    if (tab) { e.preventDefault(); setMode(tab.dataset.mode); return; }
    const opt = e.target.closest && e.target.closest("#composer-menu [role=option]");
    if (opt) { e.preventDefault(); pick(opt); return; }
    if (menu && !(e.target.closest && e.target.closest("#composer-menu, #composer-text"))) closeMenu();
  });
  // Options are picked on click; mousedown must not take the focus from the text.
  document.addEventListener("mousedown", (e) => {
    if (e.target.closest && e.target.closest("#composer-menu")) e.preventDefault();
  });
  document.addEventListener("input", (e) => {
    if (e.target.id !== "composer-text") return;
    saveDraft();
    const err = $("composer-error");
    if (err && err.firstChild) err.replaceChildren();
    updateMenu();
    if (e.isTrusted) typed();
  });
  document.addEventListener("keydown", (e) => { if (e.target.id === "composer-text") onKeydown(e); });
  document.addEventListener("focusout", (e) => {
    // Leaving the text closes the picker (a click on an option keeps the focus, see mousedown).
    if (e.target.id === "composer-text") setTimeout(() => { if (document.activeElement !== textArea()) closeMenu(); }, 150);
  });
  // Whether the reader is at the newest entry decides if a live update scrolls them along.
  document.addEventListener("scroll", (e) => {
    if (e.target.id === "timeline") {
      const tl = e.target;
      stuck = tl.scrollHeight - tl.scrollTop - tl.clientHeight < NEAR_BOTTOM_PX;
    }
  }, true);
  document.body.addEventListener("htmx:beforeSwap", (e) => {
    // A sent composer comes back empty: its draft is spent.
    const elt = e.detail.requestConfig && e.detail.requestConfig.elt;
    if (elt && elt.id === "composer" && e.detail.xhr.status === 200) {
      forgetDraft(elt.dataset.conversationId);
      closeMenu();
      stuck = true;
    }
  });
  document.body.addEventListener("htmx:afterSettle", settle);
  onOpen(() => { if (viewing) send({ type: "view", conversation_id: viewing }); });
  window.addEventListener("pagehide", () => { if (viewing) send({ type: "leave", conversation_id: viewing }); });
  settle();
}

if (document.body.dataset.userId) startComposer();
