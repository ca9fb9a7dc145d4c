/* Parley chat widget (SPEC CHAT-1, 2, 7, 8). Framework-free ES2019; served by Parley at
 * /widget/<public_id>.js. Everything renders inside a closed shadow root so the host page's CSS
 * cannot reach it and its CSS cannot reach the page. The visitor token lives in localStorage
 * under a per-channel key: the page's own scripts can read that storage (nothing in a page can
 * hide from them), but no global of the widget exposes it. */
(function () {
  "use strict";
  var w = window, d = document;
  var pre = w.Parley;
  if (pre && pre.loaded) return; // the snippet pasted twice

  var script = d.currentScript;
  if (!script || !/\/widget\/[^/]+\.js/.test(script.src)) {
    script = d.querySelector('script[src*="/widget/"][src$=".js"]');
  }
  var m = script && /^(https?:\/\/[^?#]*?)\/widget\/([A-Za-z0-9_-]+)\.js(?:[?#].*)?$/.exec(script.src);
  if (!m) return;
  var base = m[1], pid = m[2];
  var api = base + "/widget/v1/" + pid;
  var tokenKey = "parley:" + pid + ":token";

  var STR = {
    en: { title: "Chat with us", open: "Open chat", close: "Close chat", input: "Write a message…", send: "Send",
      sending: "Sending…", failed: "Not sent. Select to retry.", typing: "{n} is typing…", team: "The team",
      unread: "{n} unread", away: "We're away right now. Leave a message and we'll get back to you.",
      reconnect: "Reconnecting…", you: "You", log: "Messages" },
    sv: { title: "Chatta med oss", open: "Öppna chatten", close: "Stäng chatten", input: "Skriv ett meddelande…",
      send: "Skicka", sending: "Skickas…", failed: "Inte skickat. Välj för att försöka igen.", typing: "{n} skriver…",
      team: "Teamet", unread: "{n} olästa", away: "Vi är inte här just nu. Lämna ett meddelande så återkommer vi.",
      reconnect: "Återansluter…", you: "Du", log: "Meddelanden" },
    nb: { title: "Chat med oss", open: "Åpne chatten", close: "Lukk chatten", input: "Skriv en melding…", send: "Send",
      sending: "Sender…", failed: "Ikke sendt. Velg for å prøve igjen.", typing: "{n} skriver…", team: "Teamet",
      unread: "{n} uleste", away: "Vi er ikke til stede akkurat nå. Legg igjen en melding, så tar vi kontakt.",
      reconnect: "Kobler til igjen…", you: "Du", log: "Meldinger" },
    da: { title: "Chat med os", open: "Åbn chatten", close: "Luk chatten", input: "Skriv en besked…", send: "Send",
      sending: "Sender…", failed: "Ikke sendt. Vælg for at prøve igen.", typing: "{n} skriver…", team: "Teamet",
      unread: "{n} ulæste", away: "Vi er ikke til stede lige nu. Skriv en besked, så vender vi tilbage.",
      reconnect: "Genopretter forbindelsen…", you: "Du", log: "Beskeder" }
  };
  function pickLang(l) {
    l = String(l || "").toLowerCase().split("-")[0];
    if (l === "no" || l === "nn") l = "nb";
    return STR[l] ? l : "";
  }
  var lang = pickLang(navigator.language) || "en";
  function t(k, n) { return STR[lang][k].replace("{n}", n); }

  // Storage can throw (blocked cookies, sandboxed frames): the widget then lives for the page.
  var mem = {};
  function load(k) { try { return w.localStorage.getItem(k); } catch (e) { return mem[k] || null; } }
  function save(k, v) { try { w.localStorage.setItem(k, v); } catch (e) { mem[k] = v; } }

  // ---- DOM -------------------------------------------------------------------------------
  function el(tag, attrs, kids) {
    var e = d.createElement(tag);
    for (var k in attrs || {}) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "class") e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    (kids || []).forEach(function (c) { e.appendChild(c); });
    return e;
  }

  var CSS = ":host{all:initial!important;display:block!important;position:fixed!important;z-index:2147483000!important;" +
    "--accent:#2563eb;bottom:20px!important;right:20px!important;left:auto!important;top:auto!important;visibility:visible!important;opacity:1!important;" +
    "width:auto!important;height:auto!important;margin:0!important;padding:0!important;transform:none!important;filter:none!important}" +
    ":host([data-side=left]){left:20px!important;right:auto!important}" +
    ":host([hidden]){display:none!important}" +
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;font-size:15px;line-height:1.4;color:#111827}" +
    "[hidden]{display:none!important}" +
    "button{cursor:pointer;border:0;background:none;padding:0;margin:0}" +
    ".launch{display:flex;align-items:center;justify-content:center;width:56px;height:56px;border-radius:50%;" +
    "background:var(--accent);box-shadow:0 4px 14px rgba(0,0,0,.25);position:relative}" +
    ".launch svg{width:28px;height:28px;fill:#fff}" +
    ".badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 6px;border-radius:10px;" +
    "background:#dc2626;color:#fff;font-size:12px;font-weight:700;line-height:20px;text-align:center}" +
    ".panel{position:absolute;bottom:72px;right:0;width:360px;height:520px;max-height:calc(100vh - 110px);" +
    "display:flex;flex-direction:column;background:#fff;border-radius:14px;overflow:hidden;box-shadow:0 10px 40px rgba(0,0,0,.25)}" +
    ":host([data-side=left]) .panel{right:auto;left:0}" +
    ".head{display:flex;align-items:center;gap:8px;padding:14px 16px;background:var(--accent)}" +
    ".head h2{flex:1;margin:0;font-size:17px;font-weight:600;color:#fff}" +
    ".x{width:32px;height:32px;border-radius:8px;color:#fff;font-size:22px;line-height:32px}" +
    ".status{padding:6px 16px;background:#fef3c7;font-size:13px}" +
    ".log{flex:1;overflow-y:auto;margin:0;padding:12px;list-style:none;display:flex;flex-direction:column;gap:8px;background:#f9fafb}" +
    ".msg{max-width:80%;padding:8px 12px;border-radius:14px;white-space:pre-wrap;overflow-wrap:anywhere;background:#fff;" +
    "border:1px solid #e5e7eb;align-self:flex-start}" +
    ".msg.me{align-self:flex-end;background:var(--accent);border-color:var(--accent);color:#fff}" +
    ".msg.me *{color:#fff}.msg.pending{opacity:.6}.msg.failed{background:#fee2e2;border-color:#dc2626;color:#7f1d1d;cursor:pointer}" +
    ".who{display:block;font-size:12px;font-weight:600;color:#4b5563}" +
    ".note{display:block;font-size:12px}" +
    ".typing{padding:0 16px 4px;font-size:13px;color:#4b5563;min-height:18px;background:#f9fafb}" +
    "form{display:flex;gap:8px;padding:10px;border-top:1px solid #e5e7eb;background:#fff;margin:0}" +
    "textarea{flex:1;resize:none;height:44px;max-height:120px;padding:10px;border:1px solid #d1d5db;border-radius:10px;background:#fff}" +
    ".send{padding:0 14px;border-radius:10px;background:var(--accent);color:#fff;font-weight:600}" +
    ":focus-visible{outline:3px solid var(--accent);outline-offset:2px}" +
    ".vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}" +
    "@media (max-width:480px){.panel{position:fixed;inset:0;width:100%;height:100%;max-height:none;border-radius:0}" +
    ":host(.open) .launch{display:none}}";

  var host = el("parley-chat");
  var root = host.attachShadow({ mode: "closed" });
  var accent = "";
  // Constructed style sheets are not subject to the page's CSP style-src; a <style> is the
  // fallback for browsers without them.
  function styles() {
    var css = CSS + (accent ? ":host{--accent:" + accent + "!important}" : "");
    if (root.adoptedStyleSheets && w.CSSStyleSheet && CSSStyleSheet.prototype.replaceSync) {
      var sh = new CSSStyleSheet();
      sh.replaceSync(css);
      root.adoptedStyleSheets = [sh];
    } else {
      var st = root.querySelector("style") || root.insertBefore(el("style"), root.firstChild);
      st.textContent = css;
    }
  }
  var icon = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg>';
  var launch = el("button", { class: "launch", type: "button", "aria-expanded": "false", "aria-controls": "p" });
  launch.innerHTML = icon; // a constant
  var badge = el("span", { class: "badge", hidden: "" });
  launch.appendChild(badge);
  var title = el("h2", { id: "h" });
  var closeBtn = el("button", { class: "x", type: "button", text: "×" });
  var status = el("div", { class: "status", role: "status", hidden: "" });
  var log = el("ol", { class: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions" });
  var typing = el("div", { class: "typing", "aria-live": "polite" });
  var input = el("textarea", { rows: "1", maxlength: "4000" });
  var sendBtn = el("button", { class: "send", type: "submit" });
  var form = el("form", {}, [input, sendBtn]);
  var panel = el("section", { class: "panel", id: "p", role: "dialog", "aria-labelledby": "h", hidden: "" },
    [el("div", { class: "head" }, [title, closeBtn]), status, log, typing, form]);
  root.appendChild(panel);
  root.appendChild(launch);
  styles();
  host.hidden = true; // until the session says the page shows it

  function texts() {
    title.textContent = t("title");
    launch.setAttribute("aria-label", t("open"));
    closeBtn.setAttribute("aria-label", t("close"));
    input.setAttribute("placeholder", t("input"));
    input.setAttribute("aria-label", t("input"));
    sendBtn.textContent = t("send");
    log.setAttribute("aria-label", t("log"));
  }
  texts();

  // ---- state -----------------------------------------------------------------------------
  var token = load(tokenKey) || "";
  var identity = null;
  var session = null;
  var ws = null, live = false, seq = 0, failures = 0, timer = 0, hidden = false;
  var isOpen = false, unread = 0, lastAgent = 0, readSent = 0, typingAt = 0, typingTimer = 0;
  var seen = {};      // message id → true
  var pending = {};   // client_id → {text, li}
  var handlers = { message: [] };
  var welcome = null;

  function emit(kind, data) {
    (handlers[kind] || []).forEach(function (fn) { try { fn(data); } catch (e) { setTimeout(function () { throw e; }); } });
  }

  function scroll() { log.scrollTop = log.scrollHeight; }

  function bubble(mine, who, text) {
    var li = el("li", { class: "msg" + (mine ? " me" : "") });
    li.appendChild(el("span", { class: "vh", text: mine ? t("you") + ": " : "" }));
    if (!mine && who) li.appendChild(el("span", { class: "who", text: who }));
    li.appendChild(d.createTextNode(text));
    return li;
  }

  function setNote(li, text) {
    var n = li.querySelector(".note");
    if (!text) { if (n) n.remove(); return; }
    if (!n) { n = el("span", { class: "note" }); li.appendChild(n); }
    n.textContent = text;
  }

  function setUnread(n) {
    unread = n;
    badge.hidden = !n;
    badge.textContent = n > 9 ? "9+" : String(n);
    launch.setAttribute("aria-label", n ? t("open") + ", " + t("unread", n) : t("open"));
  }

  function showWelcome() {
    var text = session && session.chatflow && (session.chatflow.away ?
      (session.chatflow.away_message || t("away")) : session.chatflow.welcome_message);
    if (welcome) { welcome.remove(); welcome = null; }
    if (text && !log.querySelector("[data-id]")) {
      welcome = bubble(false, "", text);
      log.insertBefore(welcome, log.firstChild);
    }
  }

  function onMessage(msg, replay) {
    if (!msg || seen[msg.id]) return;
    seen[msg.id] = true;
    var mine = msg.from === "visitor";
    var p = mine && msg.client_id && pending[msg.client_id];
    var li;
    if (p) {
      li = p.li;
      li.classList.remove("pending", "failed");
      setNote(li, "");
      delete pending[msg.client_id];
    } else {
      li = bubble(mine, msg.author_name, msg.text);
      log.appendChild(li);
    }
    li.setAttribute("data-id", msg.id);
    if (welcome) { welcome.remove(); welcome = null; }
    if (!mine) {
      lastAgent = Math.max(lastAgent, msg.id);
      typing.textContent = "";
      if (!replay && !isOpen) setUnread(unread + 1);
    }
    if (!replay) emit("message", { id: msg.id, from: msg.from, text: msg.text, author_name: msg.author_name, created_at: msg.created_at });
    scroll();
    markRead();
  }

  function markRead() {
    if (isOpen && live && lastAgent > readSent && d.visibilityState !== "hidden") {
      readSent = lastAgent;
      frame({ type: "read", message_id: lastAgent });
    }
  }

  function frame(f) {
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify(f)); return true; }
    return false;
  }

  // ---- session and socket ----------------------------------------------------------------
  function start() {
    clearTimeout(timer);
    var body = { token: token, page_url: location.href, referrer: d.referrer, language: navigator.language || "",
      mobile: w.matchMedia("(max-width: 600px)").matches };
    if (identity) body.identity = identity;
    return fetch(api + "/session", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), credentials: "omit" })
      .then(function (r) {
        if (!r.ok) throw new Error("parley: session " + r.status);
        return r.json();
      })
      .then(function (s) {
        if (s.token && s.token !== token) {
          // A new visitor: what was on screen belonged to the previous one.
          token = s.token;
          save(tokenKey, token);
          reset();
        }
        session = s;
        var a = s.appearance || {};
        if (/^#[0-9a-f]{6}$/i.test(a.accent_color || "") && a.accent_color !== accent) { accent = a.accent_color; styles(); }
        host.setAttribute("data-side", a.position === "left" ? "left" : "right");
        var f = s.chatflow;
        var l = pickLang(f && f.language);
        if (l && l !== lang) { lang = l; texts(); setUnread(unread); }
        host.hidden = hidden || (f ? !f.launcher : false);
        showWelcome();
        if (f && f.action === "open" && (!f.trigger || f.trigger.kind === "load")) openPanel(false);
        connect();
      })
      .catch(function (e) {
        retry();
        if (failures > 3) console.warn(e.message || e);
      });
  }

  function reset() {
    seen = {}; seq = 0; lastAgent = 0; readSent = 0;
    Array.prototype.slice.call(log.children).forEach(function (li) { if (!li.classList.contains("pending")) li.remove(); });
    setUnread(0);
  }

  function connect() {
    if (ws) { ws.onclose = null; ws.close(); }
    live = false;
    var url = api.replace(/^http/, "ws") + "/ws?token=" + encodeURIComponent(token) + (seq ? "&since=" + seq : "");
    var s = ws = new WebSocket(url);
    var replaying = true;
    s.onmessage = function (ev) {
      var f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      switch (f.type) {
        case "message":
          onMessage(f.message, replaying);
          if (f.seq > seq) seq = f.seq;
          break;
        case "ack":
          // The message is committed: it is the message frame with this id, which the
          // connection may not deliver (a resend of a stored message gets only the ack).
          var p = pending[f.client_id];
          if (p && !seen[f.message_id]) {
            seen[f.message_id] = true;
            delete pending[f.client_id];
            p.li.classList.remove("pending");
            p.li.setAttribute("data-id", f.message_id);
            setNote(p.li, "");
            emit("message", { id: f.message_id, from: "visitor", text: p.text });
          }
          break;
        case "typing":
          typing.textContent = t("typing", f.name || t("team"));
          clearTimeout(typingTimer);
          typingTimer = setTimeout(function () { typing.textContent = ""; }, 5000);
          break;
        case "ready":
          replaying = false;
          live = true;
          failures = 0;
          if (f.seq > seq) seq = f.seq;
          status.hidden = true;
          for (var id in pending) if (!pending[id].failed) frame({ type: "message", client_id: id, text: pending[id].text });
          markRead();
          break;
        case "resync_required":
          reset();
          seq = 0;
          connect();
          break;
        case "error":
          var q = f.client_id && pending[f.client_id];
          if (q) {
            q.failed = true;
            q.li.classList.remove("pending");
            q.li.classList.add("failed");
            setNote(q.li, t("failed"));
          }
          break;
      }
    };
    s.onclose = function () {
      if (ws !== s) return;
      ws = null;
      live = false;
      status.textContent = t("reconnect");
      status.hidden = false;
      retry();
    };
  }

  // retry reconnects with exponential backoff and jitter; every third failure starts a new
  // session first, since the token may no longer be valid.
  function retry() {
    failures++;
    clearTimeout(timer);
    var delay = Math.min(30000, 500 * Math.pow(2, failures - 1)) * (0.5 + Math.random() / 2);
    timer = setTimeout(failures % 3 === 0 || !session ? start : connect, delay);
  }

  // ---- sending ---------------------------------------------------------------------------
  function send() {
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    var id = "c-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10);
    var li = bubble(true, "", text);
    li.classList.add("pending");
    setNote(li, t("sending"));
    log.appendChild(li);
    if (welcome) { welcome.remove(); welcome = null; }
    pending[id] = { text: text, li: li };
    li.addEventListener("click", function () {
      var p = pending[id];
      if (p && p.failed) {
        p.failed = false;
        li.classList.remove("failed");
        li.classList.add("pending");
        setNote(li, t("sending"));
        if (live) frame({ type: "message", client_id: id, text: text });
      }
    });
    if (live) frame({ type: "message", client_id: id, text: text });
    scroll();
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); send(); input.focus(); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
  });
  input.addEventListener("input", function () {
    var now = Date.now();
    if (input.value && now - typingAt > 3000 && live) { typingAt = now; frame({ type: "typing" }); }
  });

  // ---- open and close --------------------------------------------------------------------
  function openPanel(focus) {
    if (isOpen) return;
    isOpen = true;
    panel.hidden = false;
    host.classList.add("open");
    launch.setAttribute("aria-expanded", "true");
    setUnread(0);
    scroll();
    markRead();
    if (focus !== false) input.focus();
  }
  function closePanel() {
    if (!isOpen) return;
    var inside = root.activeElement;
    isOpen = false;
    panel.hidden = true;
    host.classList.remove("open");
    launch.setAttribute("aria-expanded", "false");
    if (inside) launch.focus();
  }
  launch.addEventListener("click", function () { isOpen ? closePanel() : openPanel(); });
  closeBtn.addEventListener("click", closePanel);
  root.addEventListener("keydown", function (e) { if (e.key === "Escape" && isOpen) { e.stopPropagation(); closePanel(); } });
  d.addEventListener("visibilitychange", markRead);

  // ---- the page's API --------------------------------------------------------------------
  var Parley = {
    loaded: true,
    open: function () { if (!hidden) { host.hidden = false; openPanel(); } },
    close: closePanel,
    hide: function () { hidden = true; closePanel(); host.hidden = true; },
    show: function () { hidden = false; host.hidden = !!(session && session.chatflow && !session.chatflow.launcher); },
    on: function (kind, fn) {
      if (typeof fn === "function" && handlers[kind]) handlers[kind].push(fn);
    },
    // identify claims the site's signed-in user: {email, name, hash} with hash =
    // hex(HMAC-SHA256(identity secret, email)), computed by the site's server.
    identify: function (id) {
      identity = id && id.email ? { email: String(id.email), name: String(id.name || ""), hash: String(id.hash || "") } : null;
      if (session) start();
    }
  };
  w.Parley = Parley;
  // Calls made before the script loaded: window.Parley = {q: [["identify", {...}], ...]}.
  ((pre && pre.q) || []).forEach(function (c) { if (Parley[c[0]]) Parley[c[0]].apply(null, [].slice.call(c, 1)); });

  function mount() {
    (d.body || d.documentElement).appendChild(host);
    start();
  }
  if (d.body) mount(); else d.addEventListener("DOMContentLoaded", mount);
})();
