// Email in the conversation (templates/partials/composer.html "email-composer", timeline.html):
// - "Forward" on a message opens the composer in forward mode: forward_of names the message,
//   To becomes required and the note optional; "Cancel forward" or the Comment tab ends it;
// - Enter in an address field never sends by accident (Ctrl/Cmd+Enter sends, as in the text);
// - the recipients and the forward are kept per conversation in sessionStorage, next to the
//   text's draft (composer.js), until the reply is sent.
// Without scripts the same links work as pages: ?forward=<id> opens the composer forwarding.
// On the email settings form, typing into the IMAP or SMTP fields ticks that section's box.

const $ = (id) => document.getElementById(id);
const draftKey = (conv) => "parley:draft-email:" + conv;
const FIELDS = ["composer-to", "composer-cc", "composer-bcc"];

function box() { return $("composer-email"); }
function conversation() { const f = $("composer"); return f && f.dataset.conversationId; }

function setForward(id, from, save = true) {
  const b = box();
  if (!b) return;
  $("composer-forward-of").value = id ? String(id) : "";
  $("composer-forward").hidden = !id;
  $("composer-forward-label").textContent = id ? b.dataset.forwardLabel.replace("%s", from || "") : "";
  $("composer-forward-label").dataset.from = id ? from || "" : "";
  const to = $("composer-to");
  to.required = !!id;
  to.placeholder = id ? b.dataset.forwardPlaceholder : b.dataset.toPlaceholder;
  const text = $("composer-text");
  if (text) text.required = !id;
  if (save) saveDraft();
}

function saveDraft() {
  const conv = conversation();
  if (!conv || !box()) return;
  const d = {
    to: $("composer-to").value, cc: $("composer-cc").value, bcc: $("composer-bcc").value,
    forward: $("composer-forward-of").value, from: $("composer-forward-label").dataset.from || "",
  };
  try {
    if (d.to || d.cc || d.bcc || d.forward) sessionStorage.setItem(draftKey(conv), JSON.stringify(d));
    else sessionStorage.removeItem(draftKey(conv));
  } catch { /* storage full or disabled: the recipients just are not kept */ }
}

function restoreDraft() {
  const conv = conversation();
  if (!conv || !box() || FIELDS.some((id) => $(id).value)) return;
  let d = null;
  try { d = JSON.parse(sessionStorage.getItem(draftKey(conv)) || "null"); } catch { return; }
  if (!d) return;
  $("composer-to").value = d.to || "";
  $("composer-cc").value = d.cc || "";
  $("composer-bcc").value = d.bcc || "";
  if (d.cc || d.bcc) $("composer-ccbcc").open = true;
  if (d.forward && !$("composer-forward-of").value) setForward(d.forward, d.from, false);
}

function forget(conv) {
  try { sessionStorage.removeItem(draftKey(conv)); } catch { /* nothing kept */ }
}

document.addEventListener("click", (e) => {
  const t = e.target.closest ? e.target : null;
  if (!t) return;
  const fwd = t.closest("[data-forward]");
  if (fwd && box()) {
    e.preventDefault();
    const reply = $("tab-reply");
    if (reply && reply.getAttribute("aria-selected") !== "true") reply.click();
    setForward(fwd.dataset.forward, fwd.dataset.forwardFrom);
    $("composer-to").focus();
    return;
  }
  if (t.closest("[data-forward-cancel]") && box()) {
    e.preventDefault();
    setForward(0, "");
    $("composer-text")?.focus();
    return;
  }
  // A forward is a reply-side thing: the Comment tab ends it, so no hidden To blocks the note.
  if (t.closest('#composer [role="tab"][data-mode="comment"]') && box() && $("composer-forward-of").value) setForward(0, "");
});

document.addEventListener("input", (e) => {
  if (FIELDS.includes(e.target.id)) saveDraft();
  // Settings: typing into the IMAP or SMTP fields turns that server on; filling them in means
  // using them (unticking the box afterwards still leaves it off).
  const m = /^(imap|smtp)\./.exec(e.target.name || "");
  const on = m && e.target.form && e.target.form.elements[m[1] + "_enabled"];
  if (on && !on.checked && e.isTrusted) on.checked = true;
});

document.addEventListener("keydown", (e) => {
  if (e.key !== "Enter" || e.isComposing || !FIELDS.includes(e.target.id)) return;
  e.preventDefault();
  if (e.ctrlKey || e.metaKey) $("composer")?.requestSubmit();
});

document.addEventListener("htmx:beforeSwap", (e) => {
  // A sent composer comes back empty: its recipients are spent too.
  const elt = e.detail.requestConfig && e.detail.requestConfig.elt;
  if (elt && elt.id === "composer" && e.detail.xhr.status === 200) forget(elt.dataset.conversationId);
});
document.addEventListener("htmx:afterSettle", restoreDraft);
restoreDraft(); // modules run once the page is parsed
