// Live updates over /api/v1/realtime. The page declares what it shows: an element with
// data-live="conversation.* message.created" and data-live-url="/inbox?view=mine" is
// re-fetched and morphed into place when a matching event arrives (a burst of events costs
// one fetch). data-live-conversation="7" narrows it to one conversation's events;
// data-live-target names the block to ask for (default: the element's id).
//
// The socket resumes from the last sequence number it saw, so nothing is missed across a
// lost connection; on resync_required every live element is simply refreshed.
// Presence and typing frames are re-dispatched on document as "parley:presence" and
// "parley:typing" events for the conversation pane's script; send() lets it send frames.

let socket = null;
let lastSeq = 0;
let retry = 0;
let pending = new Set();
let flushTimer = null;
const listeners = new Set();

export function send(frame) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
}

// onOpen runs fn each time the socket (re)connects, e.g. to announce presence again.
export function onOpen(fn) { listeners.add(fn); }

function matches(el, ev) {
  const types = (el.dataset.live || "").split(/\s+/).filter(Boolean);
  const ok = types.some((p) => p === ev.type || (p.endsWith(".*") && ev.type.startsWith(p.slice(0, -1))));
  if (!ok) return false;
  const conv = el.dataset.liveConversation;
  if (!conv) return true;
  const d = ev.data || {};
  const id = d.conversation_id ?? (ev.type.startsWith("conversation.") ? d.id : undefined);
  return String(id) === conv;
}

function refresh(el) {
  const url = el.dataset.liveUrl || location.pathname + location.search;
  const target = el.dataset.liveTarget || el.id;
  const swapEl = target && target !== el.id ? document.getElementById(target) : el;
  if (!swapEl || !window.htmx) return;
  window.htmx.ajax("GET", url, { target: swapEl, swap: "morph:outerHTML", headers: { "HX-Target": swapEl.id } });
}

function schedule(el) {
  pending.add(el);
  if (flushTimer) return;
  flushTimer = setTimeout(() => {
    flushTimer = null;
    const els = pending;
    pending = new Set();
    const seen = new Set();
    for (const el of els) {
      const key = (el.dataset.liveTarget || el.id) + "|" + (el.dataset.liveUrl || "");
      if (!seen.has(key) && el.isConnected) { seen.add(key); refresh(el); }
    }
  }, 120);
}

function onEvent(ev) {
  for (const el of document.querySelectorAll("[data-live]")) {
    if (matches(el, ev)) schedule(el);
  }
  document.dispatchEvent(new CustomEvent("parley:event", { detail: ev }));
}

function refreshAll() {
  for (const el of document.querySelectorAll("[data-live]")) schedule(el);
}

export function startLive(t) {
  const indicator = document.getElementById("connection");
  let everConnected = false;
  const connect = () => {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const since = lastSeq > 0 ? "?since=" + lastSeq : "";
    socket = new WebSocket(proto + "//" + location.host + "/api/v1/realtime" + since);
    socket.onopen = () => {
      retry = 0;
      for (const fn of listeners) fn();
    };
    socket.onmessage = (m) => {
      let f;
      try { f = JSON.parse(m.data); } catch { return; }
      switch (f.type) {
        case "ready":
          if (lastSeq > 0 && f.seq > lastSeq) refreshAll();
          if (lastSeq === 0 && everConnected) refreshAll();
          lastSeq = Math.max(lastSeq, f.seq || 0);
          everConnected = true;
          indicator.hidden = true;
          document.body.dataset.live = "connected";
          break;
        case "resync_required":
          lastSeq = f.seq || 0;
          refreshAll();
          break;
        case "presence":
        case "typing":
          document.dispatchEvent(new CustomEvent("parley:" + f.type, { detail: f }));
          break;
        case "error":
          break;
        default:
          if (typeof f.seq === "number") {
            if (f.seq <= lastSeq) return;
            lastSeq = f.seq;
          }
          onEvent(f);
      }
    };
    socket.onclose = (e) => {
      socket = null;
      document.body.dataset.live = "disconnected";
      if (e.code === 4401 || e.code === 1008) return; // signed out: the next page load goes to sign-in
      indicator.textContent = everConnected ? t("live.catching_up") : t("live.offline");
      // Show the indicator only if reconnecting takes a moment; a blip stays invisible.
      setTimeout(() => { if (!socket || socket.readyState !== WebSocket.OPEN) indicator.hidden = false; }, 1500);
      const delay = Math.min(30000, 500 * 2 ** retry) * (0.5 + Math.random() / 2);
      retry++;
      setTimeout(connect, delay);
    };
  };
  // The page itself is current as of its load; start from the server's present.
  connect();
  window.addEventListener("online", () => { if (!socket) connect(); });
}
