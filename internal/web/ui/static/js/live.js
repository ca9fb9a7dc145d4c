// Live updates over /api/v1/realtime. The page declares what it shows: an element with
// data-live="conversation.* message.created" and data-live-url="/inbox?view=mine" is
// re-fetched and morphed into place when a matching event arrives (a burst of events costs
// one fetch). data-live-conversation="7" narrows it to one conversation's events;
// data-live-target names the block to ask for (default: the element's id).
//
// The socket resumes from the last sequence number it saw (?since=), so a lost connection
// misses nothing: the server replays what happened meanwhile (the presence and typing
// listeners see those events too), and every live element is refreshed once when the socket is
// back, so that one whose refresh failed during the outage catches up as well. If the server no
// longer has that far back (resync_required), the same refresh brings the page up to date. Nothing ever asks the
// agent to reload. Reconnecting backs off exponentially with jitter, so a restarted server is
// not stampeded by every open browser at once. A quiet indicator (#connection) shows only when
// reconnecting takes more than a moment. A socket refused because the session ended stops
// reconnecting; the next navigation then lands on the sign-in page.
//
// Presence and typing frames are re-dispatched on document as "parley:presence" and
// "parley:typing" events for the conversation pane's script; send() lets it send frames.

const SHOW_AFTER = 1500; // ms a disconnection may last before the indicator shows
const MAX_DELAY = 15000; // ms, the longest wait between reconnection attempts
const REFRESH_BATCH = 120; // ms to gather a burst of events into one fetch per element

let socket = null;
let lastSeq = 0;
let retry = 0;
let everReady = false;
let signedOut = false;
let reconnectTimer = null;
let indicatorTimer = null;
let pending = new Set();
let flushTimer = null;
let translate = (k) => k;
const listeners = new Set();

export function send(frame) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
}

// onOpen runs fn each time the socket is (re)connected and caught up, e.g. to announce
// presence again.
export function onOpen(fn) { listeners.add(fn); }

function matches(el, ev) {
  const types = (el.dataset.live || "").split(/\s+/).filter(Boolean);
  const ok = types.some((p) => p === "*" || p === ev.type || (p.endsWith(".*") && ev.type.startsWith(p.slice(0, -1))));
  if (!ok) return false;
  const conv = el.dataset.liveConversation;
  if (!conv) return true;
  const d = ev.data || {};
  const id = d.conversation_id ?? (ev.type.startsWith("conversation.") ? d.id : undefined);
  return String(id) === conv;
}

// Live refreshes must not wipe what the agent is typing: while one is swapped in, the
// morph leaves the value of the focused field alone. Swaps the agent caused (sending a
// reply clears the composer) morph normally.
const LIVE_HEADER = "X-Parley-Live";
function isLive(e) { return !!e.detail?.requestConfig?.headers?.[LIVE_HEADER]; }
// (Idiomorph's option also skips the focused element's children, so it is only set while a
// text field has focus; a focused row link must still get its new preview.)
document.addEventListener("htmx:beforeSwap", (e) => {
  const a = document.activeElement;
  const field = a && (a.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(a.tagName));
  if (isLive(e) && field && window.Idiomorph) window.Idiomorph.defaults.ignoreActiveValue = true;
});
const unsetIgnore = () => { if (window.Idiomorph) window.Idiomorph.defaults.ignoreActiveValue = false; };
document.addEventListener("htmx:afterSwap", unsetIgnore);
document.addEventListener("htmx:afterRequest", unsetIgnore);

function refresh(el) {
  const url = el.dataset.liveUrl || location.pathname + location.search;
  const target = el.dataset.liveTarget || el.id;
  const swapEl = target && target !== el.id ? document.getElementById(target) : el;
  if (!swapEl || !swapEl.id || !window.htmx) return;
  // The element is the request's source too: htmx keeps one request per source, and with
  // the default source (body) refreshes of different elements would drop each other.
  window.htmx.ajax("GET", url, {
    source: swapEl, target: swapEl, swap: "morph:outerHTML",
    headers: { "HX-Target": swapEl.id, [LIVE_HEADER]: "1" },
  }).catch(() => {}); // a failed refresh is retried by the next event or reconnect
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
      if (!el.isConnected) continue;
      const key = (el.dataset.liveTarget || el.id) + "|" + (el.dataset.liveUrl || "");
      if (!seen.has(key)) { seen.add(key); refresh(el); }
    }
  }, REFRESH_BATCH);
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

function indicator() { return document.getElementById("connection"); }

function showIndicatorSoon() {
  if (indicatorTimer) return;
  indicatorTimer = setTimeout(() => {
    indicatorTimer = null;
    const el = indicator();
    if (!el || signedOut || (socket && socket.readyState === WebSocket.OPEN && document.body.dataset.live === "connected")) return;
    el.textContent = everReady ? translate("live.catching_up") : translate("live.offline");
    el.hidden = false;
  }, SHOW_AFTER);
}

function hideIndicator() {
  clearTimeout(indicatorTimer);
  indicatorTimer = null;
  const el = indicator();
  if (el) el.hidden = true;
}

function connect() {
  clearTimeout(reconnectTimer);
  reconnectTimer = null;
  if (signedOut || socket) return;
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const since = lastSeq > 0 ? "?since=" + lastSeq : "";
  const ws = new WebSocket(proto + "//" + location.host + "/api/v1/realtime" + since);
  socket = ws;
  let opened = false;
  ws.onopen = () => { opened = true; };
  ws.onmessage = (m) => {
    let f;
    try { f = JSON.parse(m.data); } catch { return; }
    switch (f.type) {
      case "ready": {
        // Back after a lost connection: the replay refreshed what its events touch, but a
        // refresh that failed while the server was unreachable would stay stale, and without
        // a known position nothing was replayed. Refresh every live element once (one batch).
        if (everReady) refreshAll();
        lastSeq = Math.max(lastSeq, f.seq || 0);
        everReady = true;
        retry = 0;
        document.body.dataset.live = "connected";
        hideIndicator();
        for (const fn of listeners) fn();
        break;
      }
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
          if (f.seq <= lastSeq) return; // replayed twice across a reconnect
          lastSeq = f.seq;
        }
        onEvent(f);
    }
  };
  ws.onclose = (e) => {
    if (socket === ws) socket = null;
    if (signedOut) return;
    document.body.dataset.live = "disconnected";
    if (e.code === 4003) { stop(); return; } // deactivated: the server will not take us back
    showIndicatorSoon();
    if (opened) { later(); return; }
    // Refused before it opened: the server is down, or the session has ended. Ask which.
    fetch("/api/v1/me", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => { if (r.status === 401) stop(); else later(); })
      .catch(() => later());
  };
}

// later schedules the next attempt: exponential backoff with full jitter over its upper half.
function later() {
  if (signedOut || reconnectTimer) return;
  const base = Math.min(MAX_DELAY, 500 * 2 ** retry);
  retry = Math.min(retry + 1, 10);
  reconnectTimer = setTimeout(connect, base / 2 + Math.random() * base / 2);
}

// stop gives up for good: the session ended. The page stays as it is; the next navigation or
// action goes to the server, which sends the browser to the sign-in page.
function stop() {
  signedOut = true;
  clearTimeout(reconnectTimer);
  hideIndicator();
  document.body.dataset.live = "signed-out";
  if (socket) { const ws = socket; socket = null; ws.close(); }
}

// reconnectNow skips the backoff wait when there is reason to think the network is back.
function reconnectNow() {
  if (signedOut || socket) return;
  retry = 0;
  connect();
}

export function startLive(t) {
  if (t) translate = t;
  // The page is current as of its load: start from the server's present.
  connect();
  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") reconnectNow(); });
  // A page shown again from the back/forward cache has a dead socket and stale content.
  window.addEventListener("pageshow", (e) => { if (e.persisted) { refreshAll(); reconnectNow(); } });
}
