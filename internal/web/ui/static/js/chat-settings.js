// Live chat settings: the snippet's copy button and the chatflow editor's conveniences. The editor
// is a plain form that works without this file — its add and remove buttons post the form and the
// server answers with the form changed. Here the same buttons change the page at once, the
// operator list follows the rule's field, and fields that do not apply to the current choices
// are hidden. Everything works by event delegation, so content htmx swaps in needs nothing more.

// <button data-chat-copy="#id" data-copied="…" data-select="…">: copies the element's text and
// says so in the .chat-copy__status next to it; without clipboard access (plain http, a denied
// permission) it selects the text and says how to copy it.
document.addEventListener("click", async (ev) => {
  const btn = ev.target.closest("[data-chat-copy]");
  if (!btn) return;
  const src = document.querySelector(btn.dataset.chatCopy);
  if (!src) return;
  const status = btn.parentElement.querySelector(".chat-copy__status");
  const say = (text) => {
    if (!status) return;
    status.textContent = text;
    clearTimeout(status._timer);
    status._timer = setTimeout(() => { status.textContent = ""; }, 4000);
  };
  try {
    await navigator.clipboard.writeText(src.value ?? src.textContent);
    say(btn.dataset.copied || "");
  } catch {
    src.focus();
    src.select?.();
    say(btn.dataset.select || "");
  }
});

// ---- the chatflow editor -----------------------------------------------------------------------

const editorOf = (el) => el.closest("[data-chatflow-form]");

// valueOf is the current value of a form control by name (the checked radio of a group).
function valueOf(form, name) {
  const els = form.elements.namedItem(name);
  if (!els) return null;
  if (els instanceof RadioNodeList) return els.value;
  if (els.type === "checkbox") return els.checked ? els.value : "";
  return els.value;
}

// applyShowWhen hides what data-show-when="name=a|b" (or "name!=a") says does not apply.
function applyShowWhen(form) {
  for (const el of form.querySelectorAll("[data-show-when]")) {
    const m = /^([^!=]+)(!?=)(.*)$/.exec(el.dataset.showWhen);
    if (!m) continue;
    const v = valueOf(form, m[1]);
    const hit = m[3].split("|").includes(v);
    // A part holding an error stays visible, so the message is never hidden.
    el.hidden = (m[2] === "=" ? !hit : hit) && !el.querySelector(".field__error");
  }
  for (const rule of form.querySelectorAll("[data-rule]")) applyRuleParts(rule);
}

// applyRuleParts shows a rule's name input for query parameters and its value where one is taken.
function applyRuleParts(rule) {
  const field = rule.querySelector("[data-rule-field]")?.value;
  const op = rule.querySelector("[data-rule-op]")?.value;
  const name = rule.querySelector("[data-rule-name]");
  const value = rule.querySelector("[data-rule-value]");
  if (name) name.hidden = field !== "query_param";
  if (value) value.hidden = field === "visitor" || (field === "query_param" && op === "exists");
}

// fillOps rebuilds a rule's operator select for its field, keeping the operator if it still fits.
function fillOps(form, rule) {
  const ops = JSON.parse(form.dataset.ops || "{}");
  const field = rule.querySelector("[data-rule-field]").value;
  const select = rule.querySelector("[data-rule-op]");
  const keep = select.value;
  select.replaceChildren(...(ops[field] || []).map((o) => {
    const opt = document.createElement("option");
    opt.value = o.value;
    opt.textContent = o.label;
    opt.selected = o.value === keep;
    return opt;
  }));
}

// reindex names every rule's inputs by its place ("targeting.groups[0].rules[1].value"), numbers
// the groups and points the no-script buttons at the right rows.
function reindex(form) {
  for (const box of form.querySelectorAll(".chat-groups[data-list]")) {
    const list = box.dataset.list;
    const groups = box.querySelectorAll(":scope > .chat-groups__items > [data-group]");
    groups.forEach((g, gi) => {
      const title = g.querySelector(".chat-group__title");
      if (title && box.dataset.groupFormat) title.textContent = box.dataset.groupFormat.replace("%d", gi + 1);
      g.querySelectorAll(":scope > .chat-group__rules > [data-rule]").forEach((r, ri) => {
        const base = `targeting.${list}[${gi}].rules[${ri}]`;
        for (const el of r.querySelectorAll("[data-part]")) el.name = `${base}.${el.dataset.part}`;
        const and = r.querySelector(".chat-rule__and");
        if (and) and.textContent = ri === 0 ? box.dataset.when : box.dataset.and;
        const rm = r.querySelector('[data-chat-action="remove_rule"]');
        if (rm) rm.value = `remove_rule:${list}:${gi}:${ri}`;
      });
      const add = g.querySelector(':scope > [data-chat-action="add_rule"]');
      if (add) add.value = `add_rule:${list}:${gi}`;
    });
    const empty = box.querySelector(".chat-groups__empty");
    if (empty) empty.hidden = groups.length > 0;
  }
}

// newGroup is a copy of the page's group template: one rule, page URL contains.
function newGroup(section) {
  const tpl = section.querySelector("#chat-group-template");
  return tpl ? tpl.content.firstElementChild.cloneNode(true) : null;
}

document.addEventListener("click", (ev) => {
  const btn = ev.target.closest("[data-chat-action]");
  const form = btn && editorOf(btn);
  if (!form) return;
  const section = form.closest("#settings-main") || document;
  const action = btn.dataset.chatAction;
  let focus = null;
  if (action === "add_group") {
    const g = newGroup(section);
    if (!g) return;
    btn.closest(".chat-groups").querySelector(":scope > .chat-groups__items").append(g);
    focus = g.querySelector("[data-part=value]");
  } else if (action === "add_rule") {
    const g = newGroup(section);
    if (!g) return;
    const rule = g.querySelector("[data-rule]");
    btn.closest("[data-group]").querySelector(":scope > .chat-group__rules").append(rule);
    focus = rule.querySelector("[data-part=value]");
  } else if (action === "remove_rule") {
    const rule = btn.closest("[data-rule]");
    const group = rule.closest("[data-group]");
    const box = group.closest(".chat-groups");
    rule.remove();
    if (!group.querySelector("[data-rule]")) {
      // A group without rules would match every page: it goes with its last rule.
      group.remove();
      focus = box.querySelector(':scope > [data-chat-action="add_group"]');
    } else {
      focus = group.querySelector(':scope > [data-chat-action="add_rule"]');
    }
  } else if (action === "add_shift") {
    const body = btn.closest("tbody[data-day]");
    const first = body.querySelector("tr[data-shift]");
    const row = first.cloneNode(true);
    row.querySelector("th").textContent = "";
    for (const input of row.querySelectorAll("input")) input.value = "";
    row.lastElementChild.replaceChildren();
    const rows = body.querySelectorAll("tr[data-shift]");
    rows[rows.length - 1].after(row);
    focus = row.querySelector("input");
  } else {
    return;
  }
  ev.preventDefault();
  reindex(form);
  applyShowWhen(form);
  focus?.focus();
});

document.addEventListener("change", (ev) => {
  const form = editorOf(ev.target);
  if (!form) return;
  if (ev.target.matches("[data-rule-field]")) fillOps(form, ev.target.closest("[data-rule]"));
  applyShowWhen(form);
});

function init(root) {
  for (const form of root.querySelectorAll("[data-chatflow-form]")) {
    reindex(form);
    applyShowWhen(form);
  }
}

document.addEventListener("DOMContentLoaded", () => init(document));
document.addEventListener("htmx:afterSettle", () => init(document));
