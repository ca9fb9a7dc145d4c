/* Parley chat widget's frame. widget.js draws the widget on the customer's page and embeds this
 * hidden page, served by Parley at /widget/v1/<public_id>/frame, which keeps the visitor token in
 * Parley's own storage and does all of the widget's networking: the session, the WebSocket and
 * files. The page talks to it with postMessage. A page's scripts can read whatever the page
 * stores, but not another origin's storage, so the token never leaves this frame: no answer to the
 * page carries it. The frame's CSP (frame-ancestors) lets only the channel's allowed sites embed
 * it, and messages are taken only from the embedding window on one of those origins. */
(function () {
  "use strict";
  var w = window, up = w.parent;
  var m = /^(.*\/widget\/v1\/([A-Za-z0-9_-]+))\/frame$/.exec(location.pathname);
  if (!m || up === w) return;
  var api = m[1], key = "parley:" + m[2] + ":token";
  var origins = (document.documentElement.getAttribute("data-origins") || "").split(" ");
  var site = ""; // the embedding page's origin, from its first message
  var ws = null, wsN = 0;

  // Storage can throw (third-party storage blocked): the token then lives as long as the page.
  var mem = "";
  function token() { try { return w.localStorage.getItem(key) || mem; } catch (e) { return mem; } }
  function keep(v) { mem = v; try { w.localStorage.setItem(key, v); } catch (e) { /* kept in memory */ } }

  function post(msg) { msg.p = "parley"; up.postMessage(msg, site); }
  function reply(q, r) { r.op = "reply"; r.id = q.id; post(r); }
  function auth() { return { Authorization: "Bearer " + token() }; }
  // answer turns a response into {ok, status, data}: data is the JSON body (a problem on failure).
  function answer(r) {
    return r.json().then(function (j) { return { ok: r.ok, status: r.status, data: j }; },
      function () { return { ok: false, status: r.status }; });
  }
  function failed() { return { ok: false, status: 0 }; }

  var ops = {
    // session starts or resumes the visitor. legacy is a token an older widget kept in the
    // page's storage: taken over once, so those visitors keep their conversation.
    session: function (q) {
      var had = token(), body = q.body || {};
      body.token = had || String(q.legacy || "");
      fetch(api + "/session", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), credentials: "omit" })
        .then(answer, failed)
        .then(function (a) {
          if (a.ok && a.data) {
            if (a.data.token) keep(a.data.token);
            else if (!had && body.token) keep(body.token);
            a.data.new_visitor = !!a.data.token;
            delete a.data.token;
          }
          reply(q, a);
        });
    },
    // connect opens the visitor's socket number n, closing the one before.
    connect: function (q) {
      if (ws) { ws.onclose = null; ws.close(); }
      var n = wsN = q.n, tok = token();
      if (!tok) { post({ op: "closed", n: n }); return; }
      var s = ws = new WebSocket(location.origin.replace(/^http/, "ws") + api + "/ws?token=" + encodeURIComponent(tok) +
        (q.since > 0 ? "&since=" + Number(q.since) : ""));
      s.onopen = function () { post({ op: "open", n: n }); };
      s.onmessage = function (ev) { if (typeof ev.data === "string") post({ op: "frame", n: n, data: ev.data }); };
      s.onclose = function () {
        if (ws === s) ws = null;
        post({ op: "closed", n: n });
      };
    },
    send: function (q) {
      if (ws && wsN === q.n && ws.readyState === 1 && typeof q.data === "string") ws.send(q.data);
    },
    close: function (q) {
      if (ws && wsN === q.n) { ws.onclose = null; ws.close(); ws = null; }
    },
    upload: function (q) {
      if (!(q.file instanceof Blob)) return reply(q, failed());
      var body = new FormData();
      body.append("file", q.file, String(q.name || "file"));
      fetch(api + "/files", { method: "POST", headers: auth(), body: body, credentials: "omit" })
        .then(answer, failed)
        .then(function (a) { reply(q, a); });
    },
    // file fetches one of the conversation's files; the page makes its own object URL of it.
    file: function (q) {
      fetch(api + "/files/" + encodeURIComponent(q.fid) + "/" + encodeURIComponent(q.name), { headers: auth(), credentials: "omit" })
        .then(function (r) {
          if (!r.ok) return { ok: false, status: r.status };
          return r.blob().then(function (b) { return { ok: true, blob: b }; });
        }, failed)
        .then(function (a) { reply(q, a); }, function () { reply(q, failed()); });
    }
  };

  w.addEventListener("message", function (ev) {
    if (ev.source !== up || origins.indexOf(ev.origin) < 0 || (site && ev.origin !== site)) return;
    var q = ev.data;
    if (!q || q.p !== "parley" || !Object.prototype.hasOwnProperty.call(ops, q.op)) return;
    site = ev.origin;
    ops[q.op](q);
  });
  // Tell the page the frame is up: nothing in it but that.
  up.postMessage({ p: "parley", op: "hello" }, "*");
})();
