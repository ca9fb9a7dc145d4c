/* Parley chat widget (SPEC CHAT-1, 2, 7, 8). Framework-free ES2019; served by Parley at
 * /widget/<public_id>.js. Everything renders inside a closed shadow root so the host page's CSS
 * cannot reach it and its CSS cannot reach the page. The visitor token is kept out of the page's
 * reach: a hidden frame on Parley's origin (frame.js) holds it in Parley's storage and makes every
 * request; the widget asks it by postMessage and gets answers without the token. */
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
  var origin = /^https?:\/\/[^/]+/.exec(base)[0];
  var key = "parley:" + pid + ":";
  var MAX_FILE = 10 << 20;

  // {n} is the one placeholder. Keys shared by every language; a missing one falls back to English.
  var STR = {
    en: { title: "Chat with us", open: "Open chat", close: "Close chat", input: "Write a message…", send: "Send",
      sending: "Sending…", failed: "Not sent. Select to retry.", typing: "{n} is typing…", team: "The team",
      unread: "{n} unread", away: "We're away right now. Leave a message and we'll get back to you.",
      reconnect: "Reconnecting…", you: "You", log: "Messages", attach: "Attach a file", remove: "Remove {n}",
      uploading: "Uploading…", too_big: "{n} is larger than 10 MB.", bad_type: "{n} can't be sent: send a picture, a PDF, a text file or an office document.",
      upload_failed: "{n} could not be uploaded.", wait_files: "Wait until the files have uploaded.", drop: "Drop files to send them",
      menu: "Chat options", sound: "Sound for new messages", dismiss: "Dismiss", back_at: "We're back {n}.",
      email_ask: "Get the reply by email:", email: "Email address", save: "Save", email_saved: "We'll reply to {n} too.",
      email_bad: "Enter a valid email address.", agree: "I agree", privacy: "Privacy policy", ended: "This chat has ended.",
      restart: "Start a new chat", choices: "Choose an answer", file: "File {n}", image: "Image {n}",
      rt_few_minutes: "Typically replies in a few minutes", rt_hour: "Typically replies within an hour",
      rt_few_hours: "Typically replies in a few hours", rt_day: "Typically replies within a day" },
    sv: { title: "Chatta med oss", open: "Öppna chatten", close: "Stäng chatten", input: "Skriv ett meddelande…",
      send: "Skicka", sending: "Skickas…", failed: "Inte skickat. Välj för att försöka igen.", typing: "{n} skriver…",
      team: "Teamet", unread: "{n} olästa", away: "Vi är inte här just nu. Lämna ett meddelande så återkommer vi.",
      reconnect: "Återansluter…", you: "Du", log: "Meddelanden", attach: "Bifoga en fil", remove: "Ta bort {n}",
      uploading: "Laddar upp…", too_big: "{n} är större än 10 MB.", bad_type: "{n} kan inte skickas: skicka en bild, en PDF, en textfil eller ett kontorsdokument.",
      upload_failed: "{n} kunde inte laddas upp.", wait_files: "Vänta tills filerna har laddats upp.", drop: "Släpp filer för att skicka dem",
      menu: "Chattinställningar", sound: "Ljud för nya meddelanden", dismiss: "Stäng", back_at: "Vi är tillbaka {n}.",
      email_ask: "Få svaret via e-post:", email: "E-postadress", save: "Spara", email_saved: "Vi svarar även till {n}.",
      email_bad: "Ange en giltig e-postadress.", agree: "Jag godkänner", privacy: "Integritetspolicy", ended: "Chatten har avslutats.",
      restart: "Starta en ny chatt", choices: "Välj ett svar", file: "Fil {n}", image: "Bild {n}",
      rt_few_minutes: "Svarar oftast inom några minuter", rt_hour: "Svarar oftast inom en timme",
      rt_few_hours: "Svarar oftast inom några timmar", rt_day: "Svarar oftast inom en dag" },
    nb: { title: "Chat med oss", open: "Åpne chatten", close: "Lukk chatten", input: "Skriv en melding…", send: "Send",
      sending: "Sender…", failed: "Ikke sendt. Velg for å prøve igjen.", typing: "{n} skriver…", team: "Teamet",
      unread: "{n} uleste", away: "Vi er ikke til stede akkurat nå. Legg igjen en melding, så tar vi kontakt.",
      reconnect: "Kobler til igjen…", you: "Du", log: "Meldinger", attach: "Legg ved en fil", remove: "Fjern {n}",
      uploading: "Laster opp…", too_big: "{n} er større enn 10 MB.", bad_type: "{n} kan ikke sendes: send et bilde, en PDF, en tekstfil eller et kontordokument.",
      upload_failed: "{n} kunne ikke lastes opp.", wait_files: "Vent til filene er lastet opp.", drop: "Slipp filer for å sende dem",
      menu: "Chatvalg", sound: "Lyd for nye meldinger", dismiss: "Lukk", back_at: "Vi er tilbake {n}.",
      email_ask: "Få svaret på e-post:", email: "E-postadresse", save: "Lagre", email_saved: "Vi svarer også til {n}.",
      email_bad: "Skriv inn en gyldig e-postadresse.", agree: "Jeg godtar", privacy: "Personvernerklæring", ended: "Chatten er avsluttet.",
      restart: "Start en ny chat", choices: "Velg et svar", file: "Fil {n}", image: "Bilde {n}",
      rt_few_minutes: "Svarer vanligvis innen noen minutter", rt_hour: "Svarer vanligvis innen en time",
      rt_few_hours: "Svarer vanligvis innen noen timer", rt_day: "Svarer vanligvis innen en dag" },
    da: { title: "Chat med os", open: "Åbn chatten", close: "Luk chatten", input: "Skriv en besked…", send: "Send",
      sending: "Sender…", failed: "Ikke sendt. Vælg for at prøve igen.", typing: "{n} skriver…", team: "Teamet",
      unread: "{n} ulæste", away: "Vi er ikke til stede lige nu. Skriv en besked, så vender vi tilbage.",
      reconnect: "Genopretter forbindelsen…", you: "Du", log: "Beskeder", attach: "Vedhæft en fil", remove: "Fjern {n}",
      uploading: "Uploader…", too_big: "{n} er større end 10 MB.", bad_type: "{n} kan ikke sendes: send et billede, en PDF, en tekstfil eller et kontordokument.",
      upload_failed: "{n} kunne ikke uploades.", wait_files: "Vent, til filerne er uploadet.", drop: "Slip filer for at sende dem",
      menu: "Chatindstillinger", sound: "Lyd ved nye beskeder", dismiss: "Luk", back_at: "Vi er tilbage {n}.",
      email_ask: "Få svaret på e-mail:", email: "E-mailadresse", save: "Gem", email_saved: "Vi svarer også til {n}.",
      email_bad: "Skriv en gyldig e-mailadresse.", agree: "Jeg accepterer", privacy: "Privatlivspolitik", ended: "Chatten er afsluttet.",
      restart: "Start en ny chat", choices: "Vælg et svar", file: "Fil {n}", image: "Billede {n}",
      rt_few_minutes: "Svarer normalt inden for få minutter", rt_hour: "Svarer normalt inden for en time",
      rt_few_hours: "Svarer normalt inden for få timer", rt_day: "Svarer normalt inden for en dag" }
  };
  function pickLang(l) {
    l = String(l || "").toLowerCase().split("-")[0];
    if (l === "no" || l === "nn") l = "nb";
    return STR[l] ? l : "";
  }
  var lang = pickLang(navigator.language) || "en";
  function t(k, n) { return (STR[lang][k] || STR.en[k]).replace("{n}", n); }

  // Storage can throw (blocked cookies, sandboxed frames): the widget then lives for the page.
  var mem = {};
  function load(k) { try { return w.localStorage.getItem(key + k); } catch (e) { return mem[k] || null; } }
  function save(k, v) { try { w.localStorage.setItem(key + k, v); } catch (e) { mem[k] = v; } }
  function drop(k) { try { w.localStorage.removeItem(key + k); } catch (e) { delete mem[k]; } }

  // ---- DOM -------------------------------------------------------------------------------
  function el(tag, attrs, kids) {
    var e = d.createElement(tag);
    for (var k in attrs || {}) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "class") e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    (kids || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function show(e, on) { e.hidden = !on; }

  var CSS = ":host{all:initial!important;display:block!important;position:fixed!important;z-index:2147483000!important;" +
    "--accent:#2563eb;--bg:#fff;--fg:#111827;--muted:#4b5563;--line:#e5e7eb;--soft:#f9fafb;--warn:#fef3c7;" +
    "bottom:20px!important;right:20px!important;left:auto!important;top:auto!important;visibility:visible!important;opacity:1!important;" +
    "width:auto!important;height:auto!important;margin:0!important;padding:0!important;transform:none!important;filter:none!important}" +
    "@media (prefers-color-scheme:dark){:host{--bg:#1f2937;--fg:#f3f4f6;--muted:#cbd5e1;--line:#374151;--soft:#111827;--warn:#422006}}" +
    ":host([data-side=left]){left:20px!important;right:auto!important}" +
    ":host([hidden]){display:none!important}" +
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;font-size:15px;line-height:1.4;color:var(--fg)}" +
    "[hidden]{display:none!important}" +
    "button{cursor:pointer;border:0;background:none;padding:0;margin:0}" +
    "a{color:var(--accent)}@media (prefers-color-scheme:dark){a{color:#93c5fd}}" +
    ".launch{display:flex;align-items:center;justify-content:center;width:56px;height:56px;border-radius:50%;" +
    "background:var(--accent);box-shadow:0 4px 14px rgba(0,0,0,.25);position:relative}" +
    ".launch svg{width:28px;height:28px;fill:#fff}" +
    ".badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 6px;border-radius:10px;" +
    "background:#dc2626;color:#fff;font-size:12px;font-weight:700;line-height:20px;text-align:center}" +
    ".prompt{position:absolute;bottom:68px;right:0;width:260px;display:flex;align-items:flex-start;gap:4px;padding:12px;border-radius:12px;" +
    "background:var(--bg);border:1px solid var(--line);box-shadow:0 6px 24px rgba(0,0,0,.2)}" +
    ":host([data-side=left]) .prompt{right:auto;left:0}" +
    ".prompt .pt{flex:1;text-align:left;white-space:pre-wrap;overflow-wrap:anywhere}" +
    ".prompt .x{color:var(--muted);width:24px;height:24px;line-height:24px;font-size:18px}" +
    ".panel{position:absolute;bottom:72px;right:0;width:370px;height:560px;max-height:calc(100vh - 110px);" +
    "display:flex;flex-direction:column;background:var(--bg);border-radius:14px;overflow:hidden;box-shadow:0 10px 40px rgba(0,0,0,.25)}" +
    ":host([data-side=left]) .panel{right:auto;left:0}" +
    ".panel.drag{outline:3px dashed var(--accent);outline-offset:-6px}" +
    ".head{display:flex;align-items:center;gap:10px;padding:12px 10px 12px 16px;background:var(--accent);position:relative}" +
    ".head *{color:#fff}.ht{flex:1;min-width:0}" +
    ".head h2{margin:0;font-size:17px;font-weight:600}" +
    ".sub{margin:0;font-size:13px;opacity:.9}" +
    ".faces{display:flex}.face{width:34px;height:34px;border-radius:50%;border:2px solid var(--accent);margin-left:-8px;object-fit:cover;" +
    "background:#fff;color:#111827;font-weight:700;display:flex;align-items:center;justify-content:center}.face:first-child{margin-left:0}" +
    ".x{width:32px;height:32px;border-radius:8px;font-size:22px;line-height:32px}" +
    ".menu{position:absolute;top:52px;right:10px;z-index:1;margin:0;padding:6px;list-style:none;background:var(--bg);border:1px solid var(--line);" +
    "border-radius:10px;box-shadow:0 6px 24px rgba(0,0,0,.2)}" +
    ".menu button{display:flex;gap:8px;align-items:center;padding:8px 10px;border-radius:6px;width:100%;text-align:left}" +
    ".menu button:hover{background:var(--soft)}.menu button *{color:var(--fg)}" +
    ".status{padding:6px 16px;background:var(--warn);font-size:13px}" +
    ".box{padding:10px 16px;border-bottom:1px solid var(--line);background:var(--soft);font-size:14px}" +
    ".box p{margin:0 0 6px}.box form{display:flex;gap:6px;padding:0;border:0;background:none;margin:0}" +
    ".box input{flex:1;min-width:0;padding:8px;border:1px solid var(--line);border-radius:8px;background:var(--bg)}" +
    ".btn{padding:8px 14px;border-radius:10px;background:var(--accent);color:#fff;font-weight:600}" +
    ".log{flex:1;overflow-y:auto;margin:0;padding:12px;list-style:none;display:flex;flex-direction:column;gap:8px;background:var(--soft)}" +
    ".msg{max-width:80%;padding:8px 12px;border-radius:14px;white-space:pre-wrap;overflow-wrap:anywhere;background:var(--bg);" +
    "border:1px solid var(--line);align-self:flex-start}" +
    ".msg.me{align-self:flex-end;background:var(--accent);border-color:var(--accent)}" +
    ".msg.me *,.msg.me{color:#fff}.msg.pending{opacity:.6}.msg.failed{background:#fee2e2;border-color:#dc2626;cursor:pointer}.msg.failed *{color:#7f1d1d}" +
    ".who{display:block;font-size:12px;font-weight:600;color:var(--muted)}" +
    ".note{display:block;font-size:12px}" +
    ".files{display:flex;flex-wrap:wrap;gap:6px;margin-top:4px}" +
    ".thumb{display:block;max-width:200px;max-height:160px;border-radius:8px;background:var(--line);min-width:60px;min-height:40px}" +
    ".file{display:inline-block;padding:4px 8px;border-radius:8px;border:1px solid currentColor;text-decoration:underline}" +
    ".qr{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px}" +
    ".qr button,.lnk{padding:6px 12px;border-radius:16px;border:1px solid var(--accent);color:var(--accent);background:var(--bg);text-decoration:none;display:inline-block}" +
    "@media (prefers-color-scheme:dark){.qr button,.lnk{color:#93c5fd;border-color:#93c5fd}}" +
    ".qr button:hover{background:var(--accent);color:#fff}" +
    ".typing{padding:0 16px 4px;font-size:13px;color:var(--muted);min-height:18px;background:var(--soft)}" +
    ".tray{margin:0;padding:6px 10px 0;list-style:none;display:flex;flex-wrap:wrap;gap:6px;background:var(--bg)}" +
    ".chip{display:flex;align-items:center;gap:4px;max-width:100%;padding:2px 4px 2px 8px;border-radius:8px;border:1px solid var(--line);font-size:13px}" +
    ".chip span{overflow:hidden;text-overflow:ellipsis;white-space:nowrap;max-width:200px;font-size:13px}" +
    ".chip.bad{border-color:#dc2626}.chip button{width:22px;height:22px;font-size:16px;line-height:22px;color:var(--muted)}" +
    ".err{padding:4px 12px;font-size:13px;color:#b91c1c;background:var(--bg)}@media (prefers-color-scheme:dark){.err{color:#fca5a5}}" +
    "form{display:flex;align-items:flex-end;gap:6px;padding:10px;border-top:1px solid var(--line);background:var(--bg);margin:0}" +
    "textarea,.field{flex:1;min-width:0;resize:none;height:44px;max-height:120px;padding:10px;border:1px solid var(--line);border-radius:10px;background:var(--bg)}" +
    ".clip{width:36px;height:44px;border-radius:10px}.clip svg{width:22px;height:22px;fill:var(--muted);vertical-align:middle}" +
    ".send{height:44px;padding:0 14px;border-radius:10px;background:var(--accent);color:#fff;font-weight:600}" +
    ".fine{margin:0;padding:0 12px 8px;font-size:12px;color:var(--muted);background:var(--bg)}" +
    ":focus-visible{outline:3px solid var(--accent);outline-offset:2px}" +
    ".vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}" +
    "@media (max-width:480px){.panel{position:fixed;inset:0;width:100%;height:100%;max-height:none;border-radius:0}" +
    ":host(.open) .launch,:host(.open) .prompt{display:none}}";

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
  function svg(path) { return '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="' + path + '"/></svg>'; }
  var launch = el("button", { class: "launch", type: "button", "aria-expanded": "false", "aria-controls": "p" });
  launch.innerHTML = svg("M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"); // a constant
  var badge = el("span", { class: "badge", hidden: "" });
  launch.appendChild(badge);
  var promptText = el("button", { class: "pt", type: "button" });
  var promptX = el("button", { class: "x", type: "button", text: "×" });
  var prompt = el("div", { class: "prompt", hidden: "" }, [promptText, promptX]);

  var faces = el("div", { class: "faces", "aria-hidden": "true" });
  var title = el("h2", { id: "h" });
  var sub = el("p", { class: "sub", hidden: "" });
  var menuBtn = el("button", { class: "x", type: "button", "aria-haspopup": "true", "aria-expanded": "false", "aria-controls": "mn", text: "⋯" });
  var closeBtn = el("button", { class: "x", type: "button", text: "×" });
  var soundItem = el("button", { type: "button", role: "menuitemcheckbox" });
  var menu = el("ul", { class: "menu", id: "mn", role: "menu", hidden: "" }, [el("li", { role: "none" }, [soundItem])]);
  var status = el("div", { class: "status", role: "status", hidden: "" });

  var awayText = el("p"), backAt = el("p", { hidden: "" }), emailLabel = el("label", { for: "em" });
  var emailInput = el("input", { id: "em", type: "email", autocomplete: "email", required: "" });
  var emailBtn = el("button", { class: "btn", type: "submit" });
  var emailForm = el("form", { novalidate: "" }, [emailInput, emailBtn]);
  var emailErr = el("p", { class: "err", role: "alert", hidden: "" });
  var emailSaved = el("p", { hidden: "" });
  var emailBox = el("div", { hidden: "" }, [emailLabel, emailForm, emailErr]);
  var awayBox = el("div", { class: "box", hidden: "" }, [awayText, backAt, emailBox, emailSaved]);

  var log = el("ol", { class: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions" });
  var typing = el("div", { class: "typing", "aria-live": "polite" });
  var endedText = el("p"), restartBtn = el("button", { class: "btn", type: "button" });
  var endedBox = el("div", { class: "box", hidden: "" }, [endedText, restartBtn]);
  var consentText = el("p"), consentLink = el("a", { target: "_blank", rel: "noopener noreferrer", hidden: "" });
  var agreeBtn = el("button", { class: "btn", type: "button" });
  var consentBox = el("div", { class: "box", hidden: "" }, [consentText, el("p", {}, [consentLink]), agreeBtn]);
  var tray = el("ul", { class: "tray", hidden: "" });
  var err = el("p", { class: "err", role: "alert", hidden: "" });
  var picker = el("input", { type: "file", multiple: "", hidden: "", tabindex: "-1" });
  var clip = el("button", { class: "clip", type: "button" });
  clip.innerHTML = svg("M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5H9v9a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v11.5a6 6 0 0 0 12 0v-10z");
  var input = el("textarea", { rows: "1", maxlength: "4000" });
  var field = el("input", { class: "field", hidden: "" }); // the typed answer a bot waits for
  var sendBtn = el("button", { class: "send", type: "submit" });
  var form = el("form", {}, [clip, picker, input, field, sendBtn]);
  var fine = el("p", { class: "fine", hidden: "" });
  var panel = el("section", { class: "panel", id: "p", role: "dialog", "aria-labelledby": "h", hidden: "" },
    [el("div", { class: "head" }, [faces, el("div", { class: "ht" }, [title, sub]), menuBtn, closeBtn, menu]),
      status, awayBox, log, typing, endedBox, consentBox, tray, err, form, fine]);
  root.appendChild(panel);
  root.appendChild(prompt);
  root.appendChild(launch);
  var ifr = el("iframe", { src: api + "/frame", title: "", "aria-hidden": "true", tabindex: "-1", hidden: "" });
  root.appendChild(ifr);
  styles();
  host.hidden = true; // until the session says the page shows it

  var soundOn = load("sound") !== "off";
  function texts() {
    title.textContent = (session && session.heading && session.heading.title) || t("title");
    launch.setAttribute("aria-label", t("open"));
    closeBtn.setAttribute("aria-label", t("close"));
    menuBtn.setAttribute("aria-label", t("menu"));
    promptX.setAttribute("aria-label", t("dismiss"));
    input.setAttribute("placeholder", t("input"));
    input.setAttribute("aria-label", t("input"));
    field.setAttribute("aria-label", t("input"));
    clip.setAttribute("aria-label", t("attach"));
    clip.title = t("attach");
    sendBtn.textContent = t("send");
    log.setAttribute("aria-label", t("log"));
    soundItem.textContent = t("sound");
    soundItem.setAttribute("aria-checked", String(soundOn));
    soundItem.insertBefore(d.createTextNode(soundOn ? "✓ " : "   "), soundItem.firstChild);
    emailLabel.textContent = t("email_ask");
    emailInput.setAttribute("aria-label", t("email"));
    emailInput.setAttribute("placeholder", t("email"));
    emailBtn.textContent = t("save");
    endedText.textContent = t("ended");
    restartBtn.textContent = t("restart");
    agreeBtn.textContent = t("agree");
    consentLink.textContent = t("privacy");
  }

  // ---- state -----------------------------------------------------------------------------
  var identity = null;
  var session = null;
  var ws = null, live = false, seq = 0, failures = 0, timer = 0, hidden = false;
  var isOpen = false, unread = 0, lastAgent = 0, readSent = 0, typingAt = 0, typingTimer = 0;
  var seen = {};      // message id → true
  var pending = {};   // client_id → {text, files, li, type}
  var uploads = [];   // files in the composer: {name, id, busy, li}
  var handlers = { message: [] };
  var welcome = null, quick = null, consentGiven = false, wantEmail = "";
  // The bot's opening before the visitor's first message stores it: bubbles without an id, which
  // the stored messages take over in order (so nothing moves or flickers when they arrive).
  var previews = [];
  var unsent = {}; // email and consent frames to send once connected
  var armed = false, lastPage = location.href;
  texts();

  function emit(kind, data) {
    (handlers[kind] || []).forEach(function (fn) { try { fn(data); } catch (e) { setTimeout(function () { throw e; }); } });
  }

  function scroll() { log.scrollTop = log.scrollHeight; }
  function newID() { return "c-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10); }

  // ---- files -----------------------------------------------------------------------------
  var blobs = {}; // file id → promise of an object URL, fetched with the visitor token
  function blob(id, name) {
    if (!blobs[id]) {
      blobs[id] = call("file", { fid: id, name: name })
        .then(function (r) { if (!r.ok) throw new Error("parley: file " + r.status); return URL.createObjectURL(r.blob); });
      blobs[id].catch(function () { delete blobs[id]; });
    }
    return blobs[id];
  }
  function isImage(ct) { return /^image\/(png|jpeg|gif|webp)\b/.test(ct || ""); }
  function size(n) { return n < 1024 ? n + " B" : n < 1048576 ? Math.round(n / 1024) + " KB" : (n / 1048576).toFixed(1) + " MB"; }

  // fileList renders a message's files: pictures as thumbnails, others as links; both open the
  // file fetched with the token (a signed link in a message expires, the conversation does not).
  function fileList(list, local) {
    var box = el("div", { class: "files" });
    list.forEach(function (f, i) {
      var src = local && local[i];
      // The visitor's own file before the server has it: shown, not linked.
      var a = el(f.id || src ? "a" : "span", { href: src || f.url || "#", target: "_blank", rel: "noopener noreferrer" });
      if (isImage(f.content_type)) {
        var img = el("img", { class: "thumb", alt: t("image", f.name) });
        a.appendChild(img);
        if (src) img.src = src;
        else if (f.id) blob(f.id, f.name).then(function (u) { img.src = u; a.href = u; }, function () {});
      } else {
        a.className = "file";
        a.textContent = f.name + " (" + size(f.size || 0) + ")";
        a.setAttribute("aria-label", t("file", f.name + ", " + size(f.size || 0)));
        a.setAttribute("download", f.name);
      }
      a.addEventListener("click", function (e) {
        if (!f.id || /^blob:/.test(a.href)) return;
        e.preventDefault();
        blob(f.id, f.name).then(function (u) {
          var tmp = el("a", { href: u, download: f.name });
          root.appendChild(tmp); tmp.click(); tmp.remove();
        }, function () {});
      });
      box.appendChild(a);
    });
    return box;
  }

  function addFiles(list) {
    Array.prototype.forEach.call(list || [], function (file) {
      if (uploads.length >= 10) return;
      var name = file.name || "image.png";
      var u = { name: name, busy: true, local: isImage(file.type) ? URL.createObjectURL(file) : "", type: file.type, size: file.size };
      var x = el("button", { type: "button", text: "×", "aria-label": t("remove", name) });
      var label = el("span", { text: name });
      var state = el("span", { class: "vh", text: t("uploading") });
      u.li = el("li", { class: "chip" }, [label, state, x]);
      x.addEventListener("click", function () {
        uploads.splice(uploads.indexOf(u), 1);
        u.li.remove();
        show(tray, uploads.length);
        input.focus();
      });
      uploads.push(u);
      tray.appendChild(u.li);
      show(tray, true);
      function fail(msg) {
        u.busy = false; u.bad = true;
        u.li.classList.add("bad");
        state.textContent = msg;
        showErr(msg);
      }
      if (file.size > MAX_FILE) return fail(t("too_big", name));
      label.textContent = name + " · " + t("uploading");
      call("upload", { file: file, name: name })
        .then(function (r) {
          var j = r.data || {};
          if (!r.ok) throw j;
          u.busy = false; u.id = j.id; u.type = j.content_type; u.size = j.size;
          label.textContent = name;
          state.textContent = "";
        })
        .catch(function (j) {
          var c = j && j.code;
          label.textContent = name;
          fail(t(c === "attachment_type_not_allowed" ? "bad_type" : c === "attachment_too_large" ? "too_big" : "upload_failed", name));
        });
    });
  }

  function showErr(msg) {
    err.textContent = msg || "";
    show(err, msg);
  }

  // ---- messages --------------------------------------------------------------------------
  function bubble(mine, who, text, files, local) {
    var li = el("li", { class: "msg" + (mine ? " me" : "") });
    li.appendChild(el("span", { class: "vh", text: mine ? t("you") + ": " : "" }));
    if (!mine && who) li.appendChild(el("span", { class: "who", text: who }));
    if (text) li.appendChild(d.createTextNode(text));
    if (files && files.length) li.appendChild(fileList(files, local));
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
    var f = session && session.chatflow;
    var text = f && !f.away && f.welcome_message;
    if (welcome) { welcome.remove(); welcome = null; }
    if (text && !previews.length && !log.querySelector("[data-id]")) {
      welcome = bubble(false, "", text);
      log.insertBefore(welcome, log.firstChild);
    }
  }

  // setInput shows the field a bot waits for: a typed email, phone, number or date gets the
  // browser's own keyboard and picker; everything else the message box.
  function setInput(kind) {
    var types = { email: "email", phone: "tel", number: "number", date: "date" };
    var ty = types[kind];
    var had = root.activeElement === input || root.activeElement === field;
    if (ty) { field.type = ty; field.value = ""; }
    show(field, ty);
    show(input, !ty);
    if (had) (ty ? field : input).focus();
  }

  function quickReplies(li, list) {
    if (quick) quick.remove();
    quick = null;
    if (!list || !list.length) return;
    quick = el("div", { class: "qr", role: "group", "aria-label": t("choices") });
    list.forEach(function (q) {
      var b = el("button", { type: "button", text: q.label });
      b.addEventListener("click", function () { send("answer", q.value, q.label); });
      quick.appendChild(b);
    });
    li.appendChild(quick);
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
    }
    var shown = !p && msg.from === "bot" && previews.shift(); // the stored form of a preview bubble
    if (!shown) dropPreviews();
    if (!p && !(shown && shown.t === msg.text)) {
      li = botBubble(msg, mine);
      if (shown) shown.replaceWith(li);
      else log.appendChild(li);
    } else if (shown) {
      li = shown;
      li.classList.remove("bp");
    }
    li.setAttribute("data-id", msg.id);
    if (welcome) { welcome.remove(); welcome = null; }
    if (mine) {
      quickReplies(null);
      setInput("");
    } else {
      // A question the visitor already answered (their reply stands below it) offers nothing.
      if (!answered(li)) {
        quickReplies(li, msg.quick_replies);
        setInput(msg.input);
      }
      lastAgent = Math.max(lastAgent, msg.id);
      typing.textContent = "";
      if (!replay && !shown) {
        if (!isOpen) setUnread(unread + 1);
        if (!isOpen || d.visibilityState === "hidden") beep();
      }
    }
    if (!replay) emit("message", { id: msg.id, from: msg.from, text: msg.text, author_name: msg.author_name, created_at: msg.created_at });
    scroll();
    markRead();
  }

  // botBubble is a message's bubble with a bot's link.
  function botBubble(msg, mine) {
    var li = bubble(mine, msg.author_name, msg.text, msg.files);
    if (!mine && msg.link && /^https?:\/\//.test(msg.link.url)) {
      li.appendChild(el("div", { class: "qr" }, [el("a", { class: "lnk", href: msg.link.url, target: "_blank",
        rel: "noopener noreferrer", text: msg.link.label || msg.link.url })]));
    }
    return li;
  }

  function answered(li) {
    for (var n = li.nextElementSibling; n; n = n.nextElementSibling) if (n.classList.contains("me")) return true;
    return false;
  }

  // preview shows the bot's opening (a "bot_preview" frame, at every connect until the visitor
  // writes), above anything the visitor has already typed.
  function preview(list) {
    dropPreviews();
    if (log.querySelector("[data-id]")) return;
    if (welcome) { welcome.remove(); welcome = null; }
    var at = log.querySelector(".me");
    list.forEach(function (msg) {
      var li = botBubble(msg, false);
      li.classList.add("bp");
      li.t = msg.text;
      log.insertBefore(li, at);
      previews.push(li);
      if (!answered(li)) {
        quickReplies(li, msg.quick_replies);
        setInput(msg.input);
      }
    });
    scroll();
  }
  function dropPreviews() {
    previews.forEach(function (li) { li.remove(); });
    previews = [];
  }

  function markRead() {
    if (isOpen && live && lastAgent > readSent && d.visibilityState !== "hidden") {
      readSent = lastAgent;
      frame({ type: "read", message_id: lastAgent });
    }
  }

  function frame(f) {
    if (ws && ws.readyState === 1 && live) { ws.send(JSON.stringify(f)); return true; }
    return false;
  }
  // later sends a frame now or, offline, when the connection is back.
  function later(f) { if (!frame(f)) unsent[f.type] = f; }

  // ---- sound -----------------------------------------------------------------------------
  // A short soft tone made with WebAudio: no audio file to fetch. Browsers start audio only
  // after the visitor has interacted with the page, so the context is made on the first gesture.
  var actx = null;
  function unlock() {
    if (actx || !soundOn) return;
    var A = w.AudioContext || w.webkitAudioContext;
    try { if (A) actx = new A(); } catch (e) { actx = null; }
  }
  function beep() {
    if (!soundOn || !actx) return;
    try {
      if (actx.state === "suspended") actx.resume();
      var now = actx.currentTime, o = actx.createOscillator(), g = actx.createGain();
      o.type = "sine";
      o.frequency.setValueAtTime(880, now);
      o.frequency.exponentialRampToValueAtTime(660, now + 0.25);
      g.gain.setValueAtTime(0.0001, now);
      g.gain.exponentialRampToValueAtTime(0.06, now + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, now + 0.35);
      o.connect(g);
      g.connect(actx.destination);
      o.start(now);
      o.stop(now + 0.4);
    } catch (e) { /* no sound is fine */ }
  }
  ["pointerdown", "keydown"].forEach(function (k) { d.addEventListener(k, unlock, { capture: true, passive: true }); });

  // ---- heading, away, consent --------------------------------------------------------------
  function heading() {
    var h = session.heading, f = session.chatflow || {};
    faces.textContent = "";
    var names = [];
    ((h && h.people) || []).slice(0, 3).forEach(function (p) {
      names.push(p.name);
      var face = el("span", { class: "face", text: (p.name || "?").charAt(0).toUpperCase() });
      if (/^https?:\/\//.test(p.avatar_url || "")) {
        var img = el("img", { class: "face", alt: "", src: p.avatar_url });
        img.onerror = function () { img.replaceWith(face); };
        face = img;
      }
      faces.appendChild(face);
    });
    show(faces, names.length);
    if (h && h.title) names = [];
    var rt = f.response_time;
    var line = names.join(", ");
    var rtText = rt && (rt.kind === "custom" ? rt.text : STR[lang]["rt_" + rt.kind] && t("rt_" + rt.kind));
    if (rtText) line = line ? line + " · " + rtText : rtText;
    sub.textContent = line;
    show(sub, line);
    texts();
  }

  function when(iso) {
    var at = new Date(iso);
    if (isNaN(at)) return "";
    var loc = (navigator.language || "").toLowerCase().indexOf(lang) === 0 ? navigator.language : lang;
    var opts = { hour: "numeric", minute: "2-digit" };
    if (at.toDateString() !== new Date().toDateString()) opts.weekday = "long";
    try { return new Intl.DateTimeFormat(loc, opts).format(at); } catch (e) { return at.toLocaleString(); }
  }

  // away shows the away panel (a "status" frame, or the session's decision until one comes).
  function away(s) {
    show(awayBox, s.away);
    if (!s.away) return;
    awayText.textContent = s.message || t("away");
    var b = s.back_at && when(s.back_at);
    backAt.textContent = b ? t("back_at", b) : "";
    show(backAt, b);
    var known = s.email_known || wantEmail;
    show(emailBox, s.collect_email && !known);
    show(emailSaved, s.collect_email && known && wantEmail);
    if (wantEmail) emailSaved.textContent = t("email_saved", wantEmail);
  }

  function consent() {
    var c = session && session.chatflow && session.chatflow.consent;
    var explicit = c && c.mode === "explicit" && !consentGiven;
    consentText.textContent = (c && c.text) || "";
    var url = c && /^https?:\/\//.test(c.privacy_url || "") ? c.privacy_url : "";
    consentLink.href = url || "#";
    show(consentLink, url);
    show(consentBox, explicit);
    show(form, !explicit && endedBox.hidden);
    fine.textContent = "";
    if (c && c.mode === "implicit") {
      fine.textContent = c.text + " ";
      if (url) fine.appendChild(el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: t("privacy") }));
    }
    show(fine, c && c.mode === "implicit" && endedBox.hidden);
  }

  // ---- triggers --------------------------------------------------------------------------
  // arm waits for the flow's trigger, then prompts or opens once per page view, unless the
  // visitor already opened the widget or dismissed a prompt in this tab.
  function arm(f) {
    if (armed || !f || !f.launcher || (f.action !== "open" && f.action !== "prompt")) return;
    armed = true;
    var tr = f.trigger || { kind: "on_load" }, off = [];
    function fire() {
      off.forEach(function (u) { u(); });
      off = [];
      if (isOpen || hidden) return;
      if (f.action === "open") openPanel(false);
      else if (f.prompt && sessionGet("dismissed") !== "1") {
        promptText.textContent = f.prompt;
        show(prompt, true);
      }
    }
    function on(target, kind, fn) {
      target.addEventListener(kind, fn, { passive: true });
      off.push(function () { target.removeEventListener(kind, fn); });
    }
    if (tr.kind === "after_seconds") {
      var id = setTimeout(fire, (tr.value || 0) * 1000);
      off.push(function () { clearTimeout(id); });
    } else if (tr.kind === "after_scroll_percent") {
      var check = function () {
        var e = d.documentElement, room = e.scrollHeight - w.innerHeight;
        // A page shorter than the window is seen whole: scrolled through.
        if (room <= 0 || (w.scrollY / room) * 100 >= tr.value) fire();
      };
      on(w, "scroll", check);
      check();
    } else if (tr.kind === "exit_intent") {
      on(d, "mouseout", function (e) { if (!e.relatedTarget && e.clientY <= 0) fire(); });
    } else {
      fire();
    }
  }
  function sessionGet(k) { try { return w.sessionStorage.getItem(key + k); } catch (e) { return mem["s" + k]; } }
  function sessionSet(k, v) { try { w.sessionStorage.setItem(key + k, v); } catch (e) { mem["s" + k] = v; } }
  promptText.addEventListener("click", function () { openPanel(); });
  promptX.addEventListener("click", function () {
    sessionSet("dismissed", "1");
    show(prompt, false);
    launch.focus();
  });

  // ---- pages of a single-page site ---------------------------------------------------------
  var pageTimer = 0;
  function moved() {
    clearTimeout(pageTimer);
    // Routers set the title after the URL: wait for it.
    pageTimer = setTimeout(function () {
      var url = location.href;
      if (url === lastPage || url.length > 2048 || !live) return;
      lastPage = url;
      frame({ type: "page", url: url, title: d.title.slice(0, 100) });
    }, 300);
  }
  ["pushState", "replaceState"].forEach(function (k) {
    var orig = history[k];
    if (typeof orig !== "function") return;
    history[k] = function () {
      var r = orig.apply(this, arguments);
      moved();
      return r;
    };
  });
  w.addEventListener("popstate", moved);
  w.addEventListener("hashchange", moved);

  // ---- session and socket ----------------------------------------------------------------
  function start() {
    clearTimeout(timer);
    var tz = "";
    try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { /* none */ }
    lastPage = location.href;
    var legacy = load("token"); // an older widget kept the token in the page's storage
    var body = { page_url: location.href, referrer: d.referrer, language: navigator.language || "",
      mobile: w.matchMedia("(max-width: 600px)").matches, time_zone: tz, title: d.title.slice(0, 100) };
    if (identity) body.identity = identity;
    return call("session", { body: body, legacy: legacy || "" })
      .then(function (r) {
        if (!r.ok) throw new Error("parley: session " + r.status);
        return r.data;
      })
      .then(function (s) {
        if (legacy) drop("token"); // the frame has it now
        // A new visitor: what was on screen belonged to the previous one.
        if (s.new_visitor) reset();
        session = s;
        var a = s.appearance || {};
        if (/^#[0-9a-f]{6}$/i.test(a.accent_color || "") && a.accent_color !== accent) { accent = a.accent_color; styles(); }
        host.setAttribute("data-side", a.position === "left" ? "left" : "right");
        var f = s.chatflow;
        var l = pickLang(f && f.language);
        if (l && l !== lang) { lang = l; setUnread(unread); }
        consentGiven = consentGiven || !!s.consent_given;
        heading();
        host.hidden = hidden || (f ? !f.launcher : false);
        showWelcome();
        if (f) away({ away: f.away, message: f.away_message, back_at: f.back_at, collect_email: f.collect_email, email_known: s.identified });
        consent();
        arm(f);
        connect();
      })
      .catch(function (e) {
        retry();
        if (failures > 3) console.warn(e.message || e);
      });
  }

  function reset() {
    seen = {}; seq = 0; lastAgent = 0; readSent = 0; previews = [];
    Array.prototype.slice.call(log.children).forEach(function (li) { if (!li.classList.contains("pending")) li.remove(); });
    setUnread(0);
  }

  function resend(id) {
    var p = pending[id];
    var f = { type: p.type, client_id: id, text: p.text };
    if (p.files.length) f.files = p.files;
    frame(f);
  }

  function connect() {
    if (ws) { ws.onclose = null; ws.close(); }
    live = false;
    var s = ws = socket(seq);
    var replaying = true;
    s.onmessage = function (ev) {
      var f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      switch (f.type) {
        case "message":
          onMessage(f.message, replaying);
          if (f.seq > seq) seq = f.seq;
          break;
        case "bot_preview":
          preview(f.messages || []);
          break;
        case "ack":
          dropPreviews();
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
        case "status":
          away(f);
          break;
        case "consent":
          if (f.given) { consentGiven = true; consent(); }
          break;
        case "closed":
          quickReplies(null);
          setInput("");
          show(endedBox, true);
          consent();
          break;
        case "ready":
          replaying = false;
          live = true;
          failures = 0;
          if (f.seq > seq) seq = f.seq;
          status.hidden = true;
          for (var k in unsent) frame(unsent[k]);
          unsent = {};
          for (var id in pending) if (!pending[id].failed) resend(id);
          markRead();
          moved();
          break;
        case "resync_required":
          reset();
          seq = 0;
          connect();
          break;
        case "error":
          if (f.code === "consent_required") { consentGiven = false; consent(); }
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

  // ---- the frame -------------------------------------------------------------------------
  // call asks the frame for op and resolves with its answer; socket is the visitor's WebSocket as
  // the frame keeps it, numbered so that a closed one's late frames are told apart.
  var frameWin = null, calls = {}, callN = 0, sockN = 0;
  function tell(m) { m.p = "parley"; frameWin.postMessage(m, origin); }
  function call(op, m) {
    return new Promise(function (ok, no) {
      if (!frameWin) return no(new Error("parley: the frame on " + origin + " did not load (is this site allowed?)"));
      m.op = op;
      m.id = ++callN;
      calls[m.id] = ok;
      tell(m);
    });
  }
  function socket(since) {
    var n = ++sockN;
    var s = { n: n, readyState: 0,
      send: function (data) { tell({ op: "send", n: n, data: data }); },
      close: function () { s.readyState = 3; tell({ op: "close", n: n }); } };
    tell({ op: "connect", n: n, since: since });
    return s;
  }
  w.addEventListener("message", function (ev) {
    var m = ev.data;
    if (ev.source !== ifr.contentWindow || ev.origin !== origin || !m || m.p !== "parley") return;
    if (m.op === "hello") {
      frameWin = ev.source;
      if (!session) { failures = 0; start(); }
    } else if (m.op === "reply") {
      var ok = calls[m.id];
      delete calls[m.id];
      if (ok) ok(m);
    } else if (ws && m.n === ws.n) {
      if (m.op === "open") ws.readyState = 1;
      else if (m.op === "frame") ws.onmessage({ data: m.data });
      else if (m.op === "closed") { ws.readyState = 3; if (ws.onclose) ws.onclose(); }
    }
  });

  // retry reconnects with exponential backoff and jitter; every third failure starts a new
  // session first, since the token may no longer be valid.
  function retry() {
    failures++;
    clearTimeout(timer);
    var delay = Math.min(30000, 500 * Math.pow(2, failures - 1)) * (0.5 + Math.random() / 2);
    timer = setTimeout(failures % 3 === 0 || !session ? start : connect, delay);
    // A frame that never said hello (Parley was down when the page loaded) is loaded again.
    if (!frameWin && failures % 3 === 0) ifr.src = api + "/frame";
  }

  // ---- sending ---------------------------------------------------------------------------
  // send sends what the visitor typed (and the files in the composer), or a quick reply: its
  // value is the answer, its label what the visitor sees they chose.
  function send(type, value, label) {
    var box = field.hidden ? input : field;
    var text = type ? value : box.value.trim();
    if (!type && uploads.some(function (u) { return u.busy; })) { showErr(t("wait_files")); return; }
    var ups = type ? [] : uploads.filter(function (u) { return u.id; });
    if (!text && !ups.length) return;
    if (!type) {
      if (box === field && !field.checkValidity()) { field.reportValidity(); return; }
      box.value = "";
      uploads.forEach(function (u) { u.li.remove(); });
      uploads = [];
      show(tray, false);
    }
    showErr("");
    var id = newID();
    var li = bubble(true, "", label || text, ups.map(function (u) { return { name: u.name, content_type: u.type, size: u.size }; }),
      ups.map(function (u) { return u.local; }));
    li.classList.add("pending");
    setNote(li, t("sending"));
    log.appendChild(li);
    if (welcome) { welcome.remove(); welcome = null; }
    quickReplies(null);
    pending[id] = { type: type || "message", text: text, files: ups.map(function (u) { return u.id; }), li: li };
    li.addEventListener("click", function () {
      var p = pending[id];
      if (p && p.failed) {
        p.failed = false;
        li.classList.remove("failed");
        li.classList.add("pending");
        setNote(li, t("sending"));
        if (live) resend(id);
      }
    });
    if (live) resend(id);
    scroll();
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); send(); (field.hidden ? input : field).focus(); });
  [input, field].forEach(function (box) {
    box.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
    });
    box.addEventListener("input", function () {
      var now = Date.now();
      if (box.value && now - typingAt > 3000 && live) { typingAt = now; frame({ type: "typing" }); }
    });
  });
  clip.addEventListener("click", function () { picker.click(); });
  picker.addEventListener("change", function () { addFiles(picker.files); picker.value = ""; input.focus(); });
  input.addEventListener("paste", function (e) {
    var files = e.clipboardData && e.clipboardData.files;
    if (files && files.length) { e.preventDefault(); addFiles(files); }
  });
  panel.addEventListener("dragover", function (e) {
    if (e.dataTransfer && Array.prototype.indexOf.call(e.dataTransfer.types, "Files") >= 0 && !form.hidden) {
      e.preventDefault();
      panel.classList.add("drag");
    }
  });
  panel.addEventListener("dragleave", function (e) { if (!panel.contains(e.relatedTarget)) panel.classList.remove("drag"); });
  panel.addEventListener("drop", function (e) {
    panel.classList.remove("drag");
    if (e.dataTransfer && e.dataTransfer.files.length && !form.hidden) { e.preventDefault(); addFiles(e.dataTransfer.files); }
  });

  emailForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var v = emailInput.value.trim();
    if (!v || !emailInput.checkValidity()) {
      emailErr.textContent = t("email_bad");
      show(emailErr, true);
      emailInput.focus();
      return;
    }
    show(emailErr, false);
    wantEmail = v;
    later({ type: "email", email: v });
    show(emailBox, false);
    emailSaved.textContent = t("email_saved", v);
    show(emailSaved, true);
  });
  agreeBtn.addEventListener("click", function () {
    consentGiven = true;
    later({ type: "consent", flow_id: session.chatflow.flow_id });
    consent();
    input.focus();
  });
  restartBtn.addEventListener("click", function () {
    show(endedBox, false);
    consent();
    showWelcome();
    input.focus();
  });

  // ---- menu ------------------------------------------------------------------------------
  function setMenu(on) {
    show(menu, on);
    menuBtn.setAttribute("aria-expanded", String(on));
    (on ? soundItem : menuBtn).focus();
  }
  menuBtn.addEventListener("click", function () { setMenu(menu.hidden); });
  soundItem.addEventListener("click", function () {
    soundOn = !soundOn;
    save("sound", soundOn ? "on" : "off");
    unlock();
    texts();
    setMenu(false);
  });
  menu.addEventListener("focusout", function (e) {
    if (!menu.contains(e.relatedTarget) && e.relatedTarget !== menuBtn) {
      show(menu, false);
      menuBtn.setAttribute("aria-expanded", "false");
    }
  });

  // ---- open and close --------------------------------------------------------------------
  function openPanel(focus) {
    show(prompt, false);
    if (isOpen) return;
    isOpen = true;
    panel.hidden = false;
    host.classList.add("open");
    launch.setAttribute("aria-expanded", "true");
    setUnread(0);
    scroll();
    markRead();
    if (focus !== false) focusTarget().focus();
  }
  // focusTarget is where the visitor starts: typing, or what stands before typing.
  function focusTarget() {
    if (!endedBox.hidden) return restartBtn;
    if (!consentBox.hidden) return agreeBtn;
    return field.hidden ? input : field;
  }
  function closePanel() {
    if (!isOpen) return;
    var inside = root.activeElement;
    isOpen = false;
    panel.hidden = true;
    show(menu, false);
    host.classList.remove("open");
    launch.setAttribute("aria-expanded", "false");
    if (inside) launch.focus();
  }
  launch.addEventListener("click", function () { isOpen ? closePanel() : openPanel(); });
  closeBtn.addEventListener("click", closePanel);
  root.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    e.stopPropagation();
    if (!menu.hidden) setMenu(false);
    else if (isOpen) closePanel();
    else if (!prompt.hidden) promptX.click();
  });
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
