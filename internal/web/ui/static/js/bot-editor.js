// The bot editor (Settings → Bots → a bot, SPEC CHAT-9). The server renders the bot's
// definition as JSON into a textarea that the form posts; without scripts that textarea is the
// editor. With scripts it is hidden and this module shows the definition as a list of step
// cards — each with its settings, branches as nested paths to named steps, drag and drop and
// move up/down buttons to reorder — and writes the JSON back into the textarea on every change.
// Beside the list a preview walks the steps the way the widget would show them.
//
// A step's "then" is kept as one of three modes so that reordering does what people expect:
// "continue" follows the list (its next step is whatever comes after it when saved), "end"
// ends the bot, and "goto" names a step. The saved JSON holds only ids; the modes are worked
// out again when a definition is loaded.
//
// The server validates on save and answers with errors keyed by JSON path
// ("steps[2].ask_question.prompt"); they are shown beside the field they name, and follow their
// step when it is moved.

const TYPES = ["send_message", "ask_question", "branch", "set_property", "submit_ticket", "handoff",
  "webhook", "meeting_link", "end"];
const KINDS = ["text", "email", "phone", "number", "date", "choice"];
const SOURCES = ["answer", "variable", "property", "team_availability"];
const OPERATORS = ["equals", "not_equals", "contains", "is_set", "is_not_set", "greater_than", "less_than"];
const PRIORITIES = ["", "low", "medium", "high", "urgent"];
const ID_PREFIX = {
  send_message: "message", ask_question: "question", branch: "branch", set_property: "set",
  submit_ticket: "ticket", handoff: "handoff", webhook: "webhook", meeting_link: "meeting", end: "end",
};
// Steps that end the bot have no "then".
const TERMINAL = new Set(["handoff", "end"]);

function json(el, key, fallback) {
  try {
    const v = JSON.parse(el.dataset[key] || "null");
    return v ?? fallback;
  } catch {
    return fallback;
  }
}

function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") e.textContent = v;
    else if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "value") e.value = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of kids.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function defaultBody(type, editor) {
  switch (type) {
    case "send_message": return { text: "" };
    case "ask_question": return { kind: "text", prompt: "" };
    case "branch": {
      const q = editor.steps.filter((s) => s.type === "ask_question").map((s) => s.id);
      return { cases: [{ conditions: [{ source: "answer", name: q[q.length - 1] || "", operator: "equals", value: "" }], next: "" }] };
    }
    case "set_property": return { property: "", value: "" };
    case "submit_ticket": return { subject: "" };
    case "handoff": return {};
    case "webhook": return { url: "" };
    case "meeting_link": return { text: "", url: "", label: "" };
    default: return {};
  }
}

class Editor {
  constructor(root) {
    this.root = root;
    this.form = root.closest("form") || root.querySelector("form");
    this.source = document.getElementById(root.dataset.source);
    this.S = json(root, "strings", {});
    this.users = json(root, "users", []);
    this.teams = json(root, "teams", []);
    this.defaultErrors = json(root, "defaultErrors", {});
    this.errors = new WeakMap(); // step → {field path: message}
    this.general = []; // messages that name no step
    this.meta = new WeakMap(); // step → {mode: "continue"|"end"|"goto"}
    this.mount = root.querySelector("[data-bot-steps]");
    // Enter in one of the editor's one-line fields would submit (save) the whole form.
    root.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && e.target.matches("input:not([type=checkbox]):not([type=radio])")) e.preventDefault();
    });
    this.preview = root.querySelector("[data-bot-preview]");
    this.announcer = root.querySelector("[data-bot-announce]");
    if (!this.source || !this.mount) return;
    if (!this.load(this.source.value)) return; // unreadable JSON: leave the textarea as the editor
    this.attachErrors(json(root, "errors", {}), json(root, "warnings", []));
    this.source.closest("[data-bot-source]").hidden = true;
    for (const el of root.querySelectorAll("[data-needs-js]")) el.hidden = false;
    root.classList.add("bot-editor--live");
    this.render();
    this.sync();
    this.sim = new Preview(this);
  }

  t(key, ...args) {
    let s = this.S[key] ?? key;
    for (const a of args) s = s.replace(/%[sd]/, String(a));
    return s;
  }

  // --- the definition ---------------------------------------------------------------------

  load(text) {
    let def;
    try {
      def = JSON.parse(text);
    } catch {
      return false;
    }
    if (!def || typeof def !== "object" || !Array.isArray(def.steps)) return false;
    this.def = def;
    const steps = def.steps.filter((s) => s && typeof s === "object");
    // The first step in the list is where the bot starts; a definition that names another
    // start shows that step first.
    const start = steps.findIndex((s) => s.id === def.start);
    this.original = steps.slice(); // the posted order, which the server's errors refer to
    if (start > 0) steps.unshift(...steps.splice(start, 1));
    this.steps = steps;
    steps.forEach((s, i) => {
      const following = steps[i + 1] ? steps[i + 1].id : "";
      let mode = "goto";
      if (!s.next) mode = i === steps.length - 1 || TERMINAL.has(s.type) ? "continue" : "end";
      else if (s.next === following) mode = "continue";
      this.meta.set(s, { mode });
    });
    return true;
  }

  // attachErrors files the server's errors under the steps they name, by the index they had
  // in the posted definition (which is the order shown, unless the start was moved up).
  attachErrors(errors, warnings) {
    const original = this.original;
    for (const [path, msg] of Object.entries(errors || {})) {
      const m = /^steps\[(\d+)\](?:\.(.+))?$/.exec(path);
      const step = m && original ? original[Number(m[1])] : null;
      if (!step) {
        this.general.push(path + ": " + msg);
        continue;
      }
      const e = this.errors.get(step) || {};
      e[m[2] || ""] = msg;
      this.errors.set(step, e);
    }
    this.warned = new WeakSet();
    for (const w of warnings || []) {
      const m = /^steps\[(\d+)\]$/.exec(w.field || "");
      if (m && original && original[Number(m[1])]) this.warned.add(original[Number(m[1])]);
    }
  }

  nextOf(step, i) {
    if (TERMINAL.has(step.type)) return "";
    const meta = this.meta.get(step) || { mode: "continue" };
    if (meta.mode === "end") return "";
    if (meta.mode === "goto") return step.next || "";
    return this.steps[i + 1] ? this.steps[i + 1].id : "";
  }

  // build is the definition as it will be saved.
  build() {
    const out = { schema: this.def.schema || 1, version: this.def.version || 1, steps: [] };
    this.steps.forEach((s, i) => {
      const o = { id: s.id, type: s.type };
      const next = this.nextOf(s, i);
      if (next) o.next = next;
      o[s.type] = clean(s.type, s[s.type] || {});
      out.steps.push(o);
    });
    return out;
  }

  // sync writes the JSON into the form's field and refreshes the preview.
  sync() {
    this.source.value = JSON.stringify(this.build(), null, 2);
    this.sim?.schedule();
  }

  uniqueID(type) {
    const base = ID_PREFIX[type] || "step";
    const taken = new Set(this.steps.map((s) => s.id));
    for (let n = 1; ; n++) {
      const id = base + "_" + n;
      if (!taken.has(id)) return id;
    }
  }

  // rename changes a step's id and every reference to it.
  rename(step, to) {
    const from = step.id;
    step.id = to;
    if (!from || from === to) return;
    for (const s of this.steps) {
      if (s.next === from) s.next = to;
      const b = s[s.type];
      if (!b) continue;
      if (s.type === "ask_question" && b.fallback === from) b.fallback = to;
      if (s.type === "webhook" && b.on_error === from) b.on_error = to;
      if (s.type === "branch") {
        for (const c of b.cases || []) {
          if (c.next === from) c.next = to;
          for (const cond of c.conditions || []) if (cond.source === "answer" && cond.name === from) cond.name = to;
        }
      }
    }
  }

  // forget clears references to a removed step, so nothing points at a step that is gone.
  forget(id) {
    for (const s of this.steps) {
      const meta = this.meta.get(s);
      if (s.next === id) {
        s.next = "";
        if (meta && meta.mode === "goto") meta.mode = "continue";
      }
      const b = s[s.type];
      if (!b) continue;
      if (b.fallback === id) b.fallback = "";
      if (b.on_error === id) b.on_error = "";
      if (s.type === "branch") for (const c of b.cases || []) if (c.next === id) c.next = "";
    }
  }

  // --- changes ------------------------------------------------------------------------------

  add(type, at) {
    const step = { id: this.uniqueID(type), type, [type]: defaultBody(type, this) };
    const i = at ?? this.steps.length;
    this.steps.splice(i, 0, step);
    this.meta.set(step, { mode: "continue" });
    this.changed();
    this.focusStep(step, "[data-focus=first]");
    this.say(this.t("bots.js.added", this.t("bots.type." + type), i + 1));
  }

  remove(step) {
    const i = this.steps.indexOf(step);
    if (i < 0) return;
    this.steps.splice(i, 1);
    this.forget(step.id);
    this.changed();
    const near = this.steps[Math.min(i, this.steps.length - 1)];
    if (near) this.focusStep(near, "[data-focus=delete]");
    else this.mount.querySelector("[data-add-type]")?.focus();
    this.say(this.t("bots.js.removed", step.id));
  }

  move(step, to, focus) {
    const from = this.steps.indexOf(step);
    if (from < 0 || to < 0 || to >= this.steps.length || from === to) return;
    this.steps.splice(from, 1);
    this.steps.splice(to, 0, step);
    this.changed();
    this.focusStep(step, focus);
    this.say(this.t("bots.js.moved", step.id, to + 1, this.steps.length));
  }

  changed() {
    // Rendering replaces the cards; whoever was focused in one gets the same control back.
    const key = this.focusKey(document.activeElement);
    this.render();
    if (key) this.refocus(key);
    this.sync();
  }

  focusKey(el) {
    if (!el || !this.mount.contains(el)) return null;
    const card = el.closest("[data-step-index]");
    const holder = el.closest("[data-field]") || card;
    if (!card || !holder) return null;
    const controls = [...holder.querySelectorAll("input, select, textarea, button")];
    return { step: this.steps[Number(card.dataset.stepIndex)], field: holder.dataset.field || "", n: controls.indexOf(el) };
  }

  refocus(key) {
    const card = this.mount.querySelector(`[data-step-index="${this.steps.indexOf(key.step)}"]`);
    if (!card) return;
    const holder = key.field ? card.querySelector(`[data-field="${CSS.escape(key.field)}"]`) : card;
    const controls = holder ? [...holder.querySelectorAll("input, select, textarea, button")] : [];
    (controls[key.n] || controls[0])?.focus();
  }

  say(text) {
    if (!this.announcer) return;
    this.announcer.textContent = "";
    requestAnimationFrame(() => { this.announcer.textContent = text; });
  }

  focusStep(step, selector) {
    const card = this.mount.querySelector(`[data-step-index="${this.steps.indexOf(step)}"]`);
    if (!card) return;
    const target = [selector, "[data-focus=down]", "[data-focus=up]", "[data-focus=first]"]
      .map((sel) => sel && card.querySelector(sel + ":not(:disabled)")).find(Boolean);
    target?.focus();
  }

  // errorAt returns the server's message for the first of paths that has one, and notes that
  // it is shown; whatever a card does not show at a field is shown at the card's top.
  errorAt(step, ...paths) {
    const e = this.errors.get(step) || {};
    for (const path of paths) {
      if (e[path]) {
        this.shown.add(path);
        return e[path];
      }
    }
    return "";
  }

  // clearError drops the server's complaint about a field once it is edited.
  clearError(step, field, holder) {
    const e = this.errors.get(step);
    if (e && field in e) {
      delete e[field];
      holder?.querySelector(":scope > .field__error")?.remove();
      holder?.querySelector("[aria-invalid]")?.removeAttribute("aria-invalid");
    }
  }

  // --- rendering ----------------------------------------------------------------------------

  render() {
    const list = h("ol", { class: "bot-steps", "aria-label": this.t("bots.js.steps") });
    this.steps.forEach((s, i) => list.append(this.card(s, i)));
    const general = this.general.length ? h("div", { class: "form__error", role: "alert" },
      h("p", { text: this.t("bots.js.general_errors") }), h("ul", {}, this.general.map((m) => h("li", { text: m })))) : null;
    const empty = this.steps.length ? null : h("p", { class: "empty bot-steps__empty", text: this.t("bots.js.no_steps") });
    this.mount.replaceChildren(...[general, empty, list, this.adder()].filter(Boolean));
    this.dragAndDrop(list);
  }

  adder() {
    const sel = h("select", { "data-add-type": "", id: "bot-add-type", "aria-label": this.t("bots.js.add_type") },
      TYPES.map((t) => h("option", { value: t, text: this.t("bots.type." + t) })));
    return h("div", { class: "bot-add" },
      h("label", { class: "field bot-add__field", for: "bot-add-type" }, h("span", { text: this.t("bots.js.add_step") })),
      sel,
      h("button", { type: "button", class: "btn btn--sm", id: "bot-add-step", onclick: () => this.add(sel.value) }, this.t("bots.js.add")));
  }

  stepOptions(current, self, blank) {
    const opts = [];
    if (blank) opts.push(h("option", { value: blank.value, text: blank.label }));
    for (const s of this.steps) {
      if (s === self) continue;
      opts.push(h("option", { value: s.id, text: this.t("bots.js.go_to", s.id + " · " + this.t("bots.type." + s.type)) }));
    }
    const sel = h("select", {}, opts);
    sel.value = current || (blank ? blank.value : "");
    if (current && sel.value !== current) {
      // A reference to a step that is gone stays visible until it is changed.
      sel.append(h("option", { value: current, text: this.t("bots.js.missing_step", current) }));
      sel.value = current;
    }
    return sel;
  }

  // field wraps a control with its label, the field path it edits (for errors) and the error.
  field(step, path, label, control, hint) {
    const id = "bot-" + this.steps.indexOf(step) + "-" + path.replace(/[^a-z0-9]+/gi, "-");
    control.id = control.id || id;
    const wrap = h("div", { class: "field", "data-field": path },
      h("label", { for: control.id }, h("span", { text: label })), control,
      hint ? h("span", { class: "field__hint", text: hint }) : null);
    const msg = this.errorAt(step, path);
    if (msg) {
      control.setAttribute("aria-invalid", "true");
      control.setAttribute("aria-describedby", id + "-error");
      wrap.append(h("span", { class: "field__error", id: id + "-error", text: msg }));
    }
    const clear = () => this.clearError(step, path, wrap);
    control.addEventListener("input", clear);
    control.addEventListener("change", clear);
    return wrap;
  }

  text(step, path, label, get, set, opts = {}) {
    const c = h(opts.multiline ? "textarea" : "input", {
      type: opts.multiline ? undefined : (opts.type || "text"), rows: opts.multiline ? 2 : undefined,
      maxlength: opts.max || (opts.multiline ? 4000 : 2000), placeholder: opts.placeholder,
      "data-focus": opts.first ? "first" : undefined, class: opts.mono ? "bot-mono" : undefined,
    });
    c.value = get() ?? "";
    c.addEventListener("input", () => { set(c.value); this.sync(); });
    return this.field(step, path, label, c, opts.hint);
  }

  select(step, path, label, options, get, set, opts = {}) {
    const c = h("select", {}, options.map(([v, l]) => h("option", { value: v, text: l })));
    c.value = get() ?? "";
    c.addEventListener("change", () => { set(c.value); opts.rerender === false ? this.sync() : this.changed(); });
    return this.field(step, path, label, c, opts.hint);
  }

  card(step, i) {
    const type = step.type;
    const errs = this.errors.get(step) || {};
    this.shown = new Set();
    const idInput = h("input", { type: "text", class: "bot-step__id bot-mono", maxlength: 64, "aria-label": this.t("bots.js.step_id"), spellcheck: "false" });
    idInput.value = step.id || "";
    idInput.addEventListener("change", () => {
      const v = idInput.value.trim();
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(v) || this.steps.some((s) => s !== step && s.id === v)) {
        idInput.setCustomValidity(this.t("bots.js.bad_id"));
        idInput.reportValidity();
        idInput.value = step.id;
        return;
      }
      idInput.setCustomValidity("");
      this.rename(step, v);
      this.changed();
      this.focusStep(step, ".bot-step__id");
    });
    const n = this.steps.length;
    const tools = h("div", { class: "bot-step__tools" },
      h("button", { type: "button", class: "btn btn--ghost btn--sm", "data-focus": "up", disabled: i === 0,
        "aria-label": this.t("bots.js.move_up_named", step.id), title: this.t("bots.js.move_up"),
        onclick: () => this.move(step, i - 1, "[data-focus=up]") }, "↑"),
      h("button", { type: "button", class: "btn btn--ghost btn--sm", "data-focus": "down", disabled: i === n - 1,
        "aria-label": this.t("bots.js.move_down_named", step.id), title: this.t("bots.js.move_down"),
        onclick: () => this.move(step, i + 1, "[data-focus=down]") }, "↓"),
      h("button", { type: "button", class: "btn btn--ghost btn--sm bot-step__delete", "data-focus": "delete",
        "aria-label": this.t("bots.js.delete_named", step.id), title: this.t("bots.js.delete"),
        onclick: () => this.remove(step) }, "✕"));
    const head = h("div", { class: "bot-step__head" },
      h("span", { class: "bot-step__handle", "data-drag-handle": "", title: this.t("bots.js.drag"), "aria-hidden": "true" }, "⠿"),
      h("span", { class: "bot-step__num", "aria-hidden": "true" }, String(i + 1)),
      h("span", { class: "badge badge--accent bot-step__type" }, this.t("bots.type." + type)),
      idInput,
      i === 0 ? h("span", { class: "badge badge--ok", text: this.t("bots.js.start") }) : null,
      this.warned?.has(step) ? h("span", { class: "badge badge--warn", title: this.t("bots.js.unreachable_hint"), text: this.t("bots.js.unreachable") }) : null,
      tools);
    const body = h("div", { class: "bot-step__body" }, this.body(step));
    const then = TERMINAL.has(type) ? null : this.then(step, i);
    // The step's own problems (its id, its type, a loop through it) and any the fields above
    // did not show go at the top of the card.
    const errors = Object.entries(errs).filter(([f]) => !this.shown.has(f))
      .map(([f, m]) => (f === "" || f === "id" || f === "type" || f === type ? m : f + ": " + m));
    const li = h("li", {
      class: "bot-step bot-step--" + type + (Object.keys(errs).length ? " bot-step--invalid" : ""),
      "data-step-index": String(i), "data-step-id": step.id, id: "bot-step-" + i,
      "aria-label": this.t("bots.js.step_label", i + 1, step.id, this.t("bots.type." + type)),
    }, head, errors.length ? h("p", { class: "field__error", text: errors.join(" · ") }) : null, body, then);
    return li;
  }

  then(step, i) {
    const meta = this.meta.get(step);
    const following = this.steps[i + 1];
    const opts = [["@continue", following ? this.t("bots.js.continue_to", following.id) : this.t("bots.js.continue_last")],
      ["@end", this.t("bots.js.end_bot")]];
    for (const s of this.steps) if (s !== step) opts.push([s.id, this.t("bots.js.go_to", s.id + " · " + this.t("bots.type." + s.type))]);
    const current = meta.mode === "continue" ? "@continue" : meta.mode === "end" ? "@end" : step.next;
    if (meta.mode === "goto" && !this.steps.some((s) => s.id === step.next)) opts.push([step.next, this.t("bots.js.missing_step", step.next)]);
    const label = step.type === "branch" ? this.t("bots.js.otherwise") : step.type === "ask_question" ? this.t("bots.js.then_answered") : this.t("bots.js.then");
    const f = this.select(step, "next", label, opts, () => current, (v) => {
      if (v === "@continue") meta.mode = "continue";
      else if (v === "@end") meta.mode = "end";
      else { meta.mode = "goto"; step.next = v; }
    });
    f.classList.add("bot-step__then");
    return f;
  }

  body(step) {
    const type = step.type;
    const b = step[type] || (step[type] = defaultBody(type, this));
    const p = (k) => type + "." + k;
    switch (type) {
      case "send_message":
        return [this.text(step, p("text"), this.t("bots.js.message"), () => b.text, (v) => { b.text = v; },
          { multiline: true, first: true, hint: this.t("bots.js.tokens_hint") })];
      case "ask_question": return this.question(step, b, p);
      case "branch": return this.branch(step, b, p);
      case "set_property":
        return [this.target(step, b, p(""), false, true),
          this.text(step, p("value"), this.t("bots.js.value"), () => b.value, (v) => { b.value = v; }, { hint: this.t("bots.js.tokens_hint") })];
      case "submit_ticket":
        return [this.text(step, p("subject"), this.t("bots.js.ticket_subject"), () => b.subject, (v) => { b.subject = v; }, { first: true }),
          this.text(step, p("description"), this.t("bots.js.ticket_description"), () => b.description, (v) => { b.description = v; },
            { multiline: true, hint: this.t("bots.js.tokens_hint") }),
          this.select(step, p("priority"), this.t("bots.js.priority"),
            PRIORITIES.map((v) => [v, this.t("bots.priority." + (v || "default"))]), () => b.priority || "",
            (v) => { b.priority = v; }, { rerender: false })];
      case "handoff": return this.handoff(step, b, p);
      case "webhook": return this.webhook(step, b, p);
      case "meeting_link":
        return [this.text(step, p("text"), this.t("bots.js.message"), () => b.text, (v) => { b.text = v; }, { multiline: true, first: true }),
          this.text(step, p("url"), this.t("bots.js.meeting_url"), () => b.url, (v) => { b.url = v; }, { type: "url", placeholder: "https://" }),
          this.text(step, p("label"), this.t("bots.js.link_label"), () => b.label, (v) => { b.label = v; }, { max: 80, placeholder: this.t("bots.js.link_label_example") })];
      case "end":
        return [this.text(step, p("message"), this.t("bots.js.end_message"), () => b.message, (v) => { b.message = v; },
          { multiline: true, first: true, hint: this.t("bots.js.optional") })];
    }
    return [h("p", { class: "muted", text: this.t("bots.js.unknown_type") })];
  }

  question(step, b, p) {
    const kind = this.select(step, p("kind"), this.t("bots.js.answer_kind"), KINDS.map((k) => [k, this.t("bots.kind." + k)]), () => b.kind, (v) => {
      b.kind = v;
      if (v === "choice") { if (!b.choices || !b.choices.length) b.choices = [{ label: "" }, { label: "" }]; } else delete b.choices;
    });
    // The answer's kind and where it is kept share a row: [kind] [save to] [name].
    const save = this.target(step, b.save_to || {}, p("save_to"), true, false, (t) => {
      if (t) b.save_to = t; else delete b.save_to;
    });
    save.prepend(kind);
    const out = [
      this.text(step, p("prompt"), this.t("bots.js.question"), () => b.prompt, (v) => { b.prompt = v; }, { multiline: true, first: true }),
      save,
    ];
    if (b.kind === "choice") out.push(this.choices(step, b, p));
    const retries = h("input", { type: "number", min: 0, max: 10, inputmode: "numeric" });
    retries.value = b.max_retries || "";
    retries.placeholder = "2";
    retries.addEventListener("input", () => {
      const n = parseInt(retries.value, 10);
      if (Number.isFinite(n) && n > 0) b.max_retries = n; else delete b.max_retries;
      this.sync();
    });
    const fallback = this.stepOptions(b.fallback, step, { value: "", label: this.t("bots.js.end_bot") });
    fallback.addEventListener("change", () => { b.fallback = fallback.value; this.sync(); });
    const validation = h("details", { class: "bot-step__more", open: b.error_message || b.max_retries || b.fallback ? true : undefined },
      h("summary", { text: this.t("bots.js.validation") }),
      h("div", { class: "bot-grid" },
        this.text(step, p("error_message"), this.t("bots.js.error_message"), () => b.error_message, (v) => { b.error_message = v; },
          { placeholder: this.defaultErrors[b.kind] || "" }),
        this.field(step, p("max_retries"), this.t("bots.js.max_retries"), retries, this.t("bots.js.max_retries_hint")),
        this.field(step, p("fallback"), this.t("bots.js.fallback"), fallback)));
    out.push(validation);
    return out;
  }

  choices(step, b, p) {
    const rows = b.choices.map((c, j) => {
      const label = h("input", { type: "text", maxlength: 80, "aria-label": this.t("bots.js.choice_label_n", j + 1) });
      label.value = c.label || "";
      label.addEventListener("input", () => { c.label = label.value; this.sync(); });
      const value = h("input", { type: "text", maxlength: 80, class: "bot-mono", placeholder: this.t("bots.js.choice_value_same"),
        "aria-label": this.t("bots.js.choice_value_n", j + 1) });
      value.value = c.value || "";
      value.addEventListener("input", () => { if (value.value) c.value = value.value; else delete c.value; this.sync(); });
      const err = this.errorAt(step, p(`choices[${j}].label`), p(`choices[${j}].value`), p(`choices[${j}]`));
      return h("li", { class: "bot-choice", "data-field": p(`choices[${j}]`) }, label, value,
        h("button", { type: "button", class: "btn btn--ghost btn--sm", "aria-label": this.t("bots.js.remove_choice_n", j + 1),
          disabled: b.choices.length <= 1, onclick: () => { b.choices.splice(j, 1); this.changed(); } }, "✕"),
        err ? h("span", { class: "field__error", text: err }) : null);
    });
    const err = this.errorAt(step, p("choices"));
    return h("fieldset", { class: "field bot-choices", "data-field": p("choices") },
      h("legend", { text: this.t("bots.js.choices") }),
      h("p", { class: "field__hint", text: this.t("bots.js.choices_hint") }),
      h("ol", { class: "bot-choices__list" }, rows),
      err ? h("span", { class: "field__error", text: err }) : null,
      h("button", { type: "button", class: "btn btn--sm", disabled: b.choices.length >= 20,
        onclick: () => { b.choices.push({ label: "" }); this.changed(); } }, this.t("bots.js.add_choice")));
  }

  // target edits a Target: a contact property or a variable (and "nothing" when optional).
  // inline puts the fields in obj itself (set_property); otherwise onSet receives a new object.
  target(step, obj, path, optional, inline, onSet) {
    const kind = "property" in obj ? "property" : "variable" in obj ? "variable" : optional ? "" : "property";
    const opts = optional ? [["", this.t("bots.js.save_nowhere")]] : [];
    opts.push(["property", this.t("bots.js.contact_property")], ["variable", this.t("bots.js.variable")]);
    const pathOf = (k) => (path.endsWith(".") ? path + k : path + "." + k);
    const sel = this.select(step, path.replace(/\.$/, ""), optional ? this.t("bots.js.save_to") : this.t("bots.js.set"), opts, () => kind, (v) => {
      const name = obj.property || obj.variable || "";
      if (inline) {
        delete obj.property; delete obj.variable;
        obj[v] = name;
      } else onSet(v ? { [v]: name } : null);
    });
    if (!kind) return h("div", { class: "bot-grid" }, sel);
    const name = h("input", { type: "text", class: "bot-mono", maxlength: 64, list: kind === "property" ? "bot-properties" : undefined,
      placeholder: kind === "property" ? "email" : "plan", spellcheck: "false" });
    name.value = obj[kind] || "";
    name.addEventListener("input", () => {
      if (inline) obj[kind] = name.value.trim();
      else onSet({ [kind]: name.value.trim() });
      this.sync();
    });
    return h("div", { class: "bot-grid" }, sel,
      this.field(step, pathOf(kind), kind === "property" ? this.t("bots.js.property_name") : this.t("bots.js.variable_name"), name));
  }

  branch(step, b, p) {
    b.cases = b.cases || [];
    const cases = b.cases.map((c, j) => {
      c.conditions = c.conditions || [];
      const cp = p(`cases[${j}]`);
      const conds = c.conditions.map((cond, k) => this.condition(step, c, cond, `${cp}.conditions[${k}]`, k));
      const next = this.stepOptions(c.next, step, { value: "", label: this.t("bots.js.choose_step") });
      next.addEventListener("change", () => { c.next = next.value; this.changed(); });
      return h("li", { class: "bot-case", "data-field": cp },
        h("div", { class: "bot-case__head" },
          h("strong", { text: j === 0 ? this.t("bots.js.if") : this.t("bots.js.else_if") }),
          h("button", { type: "button", class: "btn btn--ghost btn--sm", "aria-label": this.t("bots.js.remove_case_n", j + 1),
            onclick: () => { b.cases.splice(j, 1); this.changed(); } }, "✕")),
        h("ul", { class: "bot-conditions" }, conds),
        h("button", { type: "button", class: "btn btn--ghost btn--sm bot-case__and", disabled: c.conditions.length >= 10,
          onclick: () => { c.conditions.push({ source: "answer", name: "", operator: "equals", value: "" }); this.changed(); } },
          this.t("bots.js.add_condition")),
        h("div", { class: "bot-case__path" }, h("span", { class: "bot-case__arrow", "aria-hidden": "true" }, "↳"),
          this.field(step, cp + ".next", this.t("bots.js.then_go_to"), next)));
    });
    const err = this.errorAt(step, p("cases"));
    return [h("ol", { class: "bot-cases", "aria-label": this.t("bots.js.cases") }, cases),
      err ? h("span", { class: "field__error", text: err }) : null,
      h("button", { type: "button", class: "btn btn--sm", disabled: b.cases.length >= 20, "data-focus": "first",
        onclick: () => { b.cases.push({ conditions: [{ source: "answer", name: "", operator: "equals", value: "" }], next: "" }); this.changed(); } },
        this.t("bots.js.add_case"))];
  }

  condition(step, c, cond, path, k) {
    const source = this.select(step, path + ".source", k === 0 ? this.t("bots.js.when") : this.t("bots.js.and"),
      SOURCES.map((s) => [s, this.t("bots.source." + s)]), () => cond.source, (v) => {
        cond.source = v;
        delete cond.team_id;
        cond.name = "";
        if (v === "team_availability") { cond.operator = "equals"; cond.value = "true"; } else if (cond.value === "true" || cond.value === "false") cond.value = "";
      });
    let name;
    if (cond.source === "answer") {
      const qs = this.steps.filter((s) => s.type === "ask_question");
      const opts = [["", this.t("bots.js.choose_question")], ...qs.map((s) => [s.id, s.id])];
      if (cond.name && !qs.some((s) => s.id === cond.name)) opts.push([cond.name, this.t("bots.js.missing_step", cond.name)]);
      name = this.select(step, path + ".name", this.t("bots.js.question_step"), opts, () => cond.name, (v) => { cond.name = v; });
    } else if (cond.source === "team_availability") {
      const opts = [["0", this.t("bots.js.inbox_team")], ...this.teams.map((t) => [String(t.id), t.name])];
      name = this.select(step, path + ".team_id", this.t("bots.js.team"), opts, () => String(cond.team_id || 0),
        (v) => { const n = Number(v); if (n) cond.team_id = n; else delete cond.team_id; }, { rerender: false });
    } else {
      name = this.text(step, path + ".name", cond.source === "property" ? this.t("bots.js.property_name") : this.t("bots.js.variable_name"),
        () => cond.name, (v) => { cond.name = v.trim(); }, { mono: true, max: 64 });
    }
    let op, value;
    if (cond.source === "team_availability") {
      op = null;
      value = this.select(step, path + ".value", this.t("bots.js.is"), [["true", this.t("bots.js.available")], ["false", this.t("bots.js.not_available")]],
        () => (cond.operator === "not_equals" ? (cond.value === "true" ? "false" : "true") : cond.value),
        (v) => { cond.operator = "equals"; cond.value = v; }, { rerender: false });
    } else {
      op = this.select(step, path + ".operator", this.t("bots.js.operator"), OPERATORS.map((o) => [o, this.t("bots.op." + o)]),
        () => cond.operator, (v) => { cond.operator = v; if (v === "is_set" || v === "is_not_set") cond.value = ""; });
      if (cond.operator !== "is_set" && cond.operator !== "is_not_set") {
        const q = cond.source === "answer" ? this.steps.find((s) => s.id === cond.name && s.type === "ask_question") : null;
        const choices = q && q.ask_question && q.ask_question.kind === "choice" ? q.ask_question.choices || [] : null;
        if (choices && choices.length) {
          const opts = choices.map((ch) => [ch.value || ch.label, ch.label || ch.value]);
          if (cond.value && !opts.some(([v]) => v === cond.value)) opts.unshift([cond.value, cond.value]);
          if (!cond.value) { opts.unshift(["", this.t("bots.js.choose_answer")]); }
          value = this.select(step, path + ".value", this.t("bots.js.value"), opts, () => cond.value, (v) => { cond.value = v; }, { rerender: false });
        } else {
          value = this.text(step, path + ".value", this.t("bots.js.value"), () => cond.value, (v) => { cond.value = v; }, { max: 4000 });
        }
      }
    }
    return h("li", { class: "bot-condition", "data-field": path }, source, name, op, value,
      c.conditions.length > 1 ? h("button", { type: "button", class: "btn btn--ghost btn--sm bot-condition__remove",
        "aria-label": this.t("bots.js.remove_condition_n", k + 1), onclick: () => { c.conditions.splice(k, 1); this.changed(); } }, "✕") : null);
  }

  handoff(step, b, p) {
    const pick = (list, key, legend, empty) => {
      const chosen = new Set(b[key] || []);
      const items = list.map((x) => {
        const box = h("input", { type: "checkbox", value: String(x.id) });
        box.checked = chosen.has(x.id);
        box.addEventListener("change", () => {
          const ids = new Set(b[key] || []);
          if (box.checked) ids.add(x.id); else ids.delete(x.id);
          if (ids.size) b[key] = [...ids]; else delete b[key];
          this.sync();
        });
        return h("label", { class: "checklist__item" }, box, h("span", { text: x.name }));
      });
      const err = Object.entries(this.errors.get(step) || {}).find(([f]) => f.startsWith(p(key)));
      if (err) this.shown.add(err[0]);
      return h("fieldset", { class: "field checklist", "data-field": p(key) }, h("legend", { text: legend }),
        h("div", { class: "checklist__items" }, items.length ? items : h("span", { class: "muted", text: empty })),
        err ? h("span", { class: "field__error", text: err[1] }) : null);
    };
    return [h("p", { class: "field__hint", text: this.t("bots.js.handoff_hint") }),
      h("div", { class: "bot-grid" }, pick(this.users, "user_ids", this.t("bots.js.handoff_users"), this.t("bots.js.none")),
        pick(this.teams, "team_ids", this.t("bots.js.handoff_teams"), this.t("bots.js.none")))];
  }

  webhook(step, b, p) {
    // The rows live with the step's editor state, so a row whose name is not typed yet stays.
    const meta = this.meta.get(step);
    if (!meta.vars) meta.vars = Object.entries(b.set_variables || {});
    const vars = meta.vars;
    const write = () => {
      const m = {};
      for (const [k, v] of vars) if (k) m[k] = v;
      if (Object.keys(m).length) b.set_variables = m; else delete b.set_variables;
      this.sync();
    };
    const rows = vars.map((pair, j) => {
      const name = h("input", { type: "text", class: "bot-mono", maxlength: 64, placeholder: "tier", "aria-label": this.t("bots.js.variable_name") });
      name.value = pair[0];
      name.addEventListener("input", () => { pair[0] = name.value.trim(); write(); });
      const path = h("input", { type: "text", class: "bot-mono", maxlength: 200, placeholder: "customer.tier", "aria-label": this.t("bots.js.response_path") });
      path.value = pair[1];
      path.addEventListener("input", () => { pair[1] = path.value.trim(); write(); });
      const err = this.errorAt(step, p("set_variables." + pair[0]));
      return h("li", { class: "bot-choice" }, name, h("span", { "aria-hidden": "true" }, "←"), path,
        h("button", { type: "button", class: "btn btn--ghost btn--sm", "aria-label": this.t("bots.js.remove_mapping_n", j + 1),
          onclick: () => { vars.splice(j, 1); write(); this.changed(); } }, "✕"),
        err ? h("span", { class: "field__error", text: err }) : null);
    });
    const onError = this.stepOptions(b.on_error, step, { value: "", label: this.t("bots.js.on_error_same") });
    onError.addEventListener("change", () => { b.on_error = onError.value; this.changed(); });
    return [
      this.text(step, p("url"), this.t("bots.js.webhook_url"), () => b.url, (v) => { b.url = v.trim(); },
        { type: "url", placeholder: "https://", first: true, hint: this.t("bots.js.webhook_hint") }),
      h("fieldset", { class: "field", "data-field": p("set_variables") }, h("legend", { text: this.t("bots.js.set_variables") }),
        h("ol", { class: "bot-choices__list" }, rows),
        h("button", { type: "button", class: "btn btn--sm", disabled: vars.length >= 50, onclick: () => { vars.push(["", ""]); this.changed(); } },
          this.t("bots.js.add_mapping"))),
      this.field(step, p("on_error"), this.t("bots.js.on_error"), onError),
    ];
  }

  // --- drag and drop ------------------------------------------------------------------------

  dragAndDrop(list) {
    let dragged = null;
    const clear = () => list.querySelectorAll(".bot-step--drop-before, .bot-step--drop-after")
      .forEach((el) => el.classList.remove("bot-step--drop-before", "bot-step--drop-after"));
    // Only the handle starts a drag, so text in the card's fields can still be selected.
    list.addEventListener("pointerdown", (e) => {
      const handle = e.target.closest("[data-drag-handle]");
      if (handle) handle.closest(".bot-step").draggable = true;
    });
    list.addEventListener("dragstart", (e) => {
      const li = e.target.closest?.(".bot-step");
      if (!li) return;
      dragged = li;
      li.classList.add("bot-step--dragging");
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", li.dataset.stepId || "");
    });
    list.addEventListener("dragover", (e) => {
      const li = e.target.closest(".bot-step");
      if (!dragged || !li) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = "move";
      clear();
      if (li === dragged) return;
      const r = li.getBoundingClientRect();
      li.classList.add(e.clientY < r.top + r.height / 2 ? "bot-step--drop-before" : "bot-step--drop-after");
    });
    list.addEventListener("dragleave", (e) => { if (!list.contains(e.relatedTarget)) clear(); });
    list.addEventListener("drop", (e) => {
      const li = e.target.closest(".bot-step");
      if (!dragged || !li) return;
      e.preventDefault();
      const from = Number(dragged.dataset.stepIndex);
      let to = Number(li.dataset.stepIndex);
      const after = li.classList.contains("bot-step--drop-after");
      clear();
      if (li === dragged) return;
      if (after) to += 1;
      if (from < to) to -= 1;
      this.move(this.steps[from], to, "[data-focus=first]");
    });
    list.addEventListener("dragend", () => {
      clear();
      if (dragged) { dragged.classList.remove("bot-step--dragging"); dragged.draggable = false; }
      dragged = null;
    });
  }
}

// clean drops empty optional settings so the saved JSON holds what was set and nothing else.
function clean(type, b) {
  const o = structuredClone(b);
  const dropEmpty = (...keys) => { for (const k of keys) if (o[k] === "" || o[k] === undefined || o[k] === null) delete o[k]; };
  switch (type) {
    case "ask_question":
      dropEmpty("error_message", "fallback");
      if (!o.max_retries) delete o.max_retries;
      if (o.kind !== "choice") delete o.choices;
      break;
    case "submit_ticket": dropEmpty("description", "priority"); break;
    case "webhook": dropEmpty("on_error"); break;
    case "meeting_link": dropEmpty("text", "label"); break;
    case "end": dropEmpty("message"); break;
  }
  return o;
}

// --- the preview --------------------------------------------------------------------------

// Preview walks the definition as the widget would show it: bot messages, quick replies and an
// input that takes the visitor's answers. Effects the server would carry out (tickets, webhooks,
// hand-offs) are shown as notes. Answers are checked roughly as the server checks them; the
// server is the judge of what a real visitor may answer.
class Preview {
  constructor(editor) {
    this.ed = editor;
    const root = editor.preview;
    if (!root) return;
    this.log = root.querySelector("[data-preview-log]");
    this.quick = root.querySelector("[data-preview-quick]");
    this.input = root.querySelector("[data-preview-input]");
    this.send = root.querySelector("[data-preview-send]");
    this.available = root.querySelector("[data-preview-available]");
    root.querySelector("[data-preview-restart]")?.addEventListener("click", () => this.restart());
    this.available?.addEventListener("change", () => this.restart());
    this.send.addEventListener("click", () => this.submit());
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") { e.preventDefault(); this.submit(); }
    });
    this.restart();
  }

  schedule() {
    if (!this.log) return;
    clearTimeout(this.timer);
    // data-pending says a restart is coming (the editor changed and typing has paused).
    this.ed.preview.dataset.pending = "";
    this.timer = setTimeout(() => this.restart(), 400);
  }

  restart() {
    if (!this.log) return;
    clearTimeout(this.timer);
    delete this.ed.preview.dataset.pending;
    this.def = this.ed.build();
    this.state = { answers: {}, variables: {}, contact: {}, waiting: null, retries: 0, ended: false };
    this.answering = false;
    this.log.replaceChildren();
    this.setQuick([]);
    this.wait(null);
    this.run(this.def.steps[0]?.id || "");
  }

  step(id) { return this.def.steps.find((s) => s.id === id); }

  bubble(text, cls, link) {
    const li = h("li", { class: "bp-msg " + (cls || "") }, text);
    if (link) li.append(h("a", { class: "bp-link", href: link.url, target: "_blank", rel: "noopener noreferrer", text: link.label || link.url }));
    this.log.append(li);
    this.log.scrollTop = this.log.scrollHeight;
    return li;
  }

  note(text) { return this.bubble(text, "bp-note"); }

  render(s) {
    const st = this.state;
    return String(s || "").replace(/\{\{\s*([a-z]+)\.([A-Za-z0-9_-]+)\s*(?:\|([^{}]*))?\}\}/g, (_, kind, name, def) => {
      const src = kind === "contact" ? st.contact : kind === "variable" ? st.variables : kind === "answer" ? st.answers : {};
      return src[name] || (def || "").trim();
    });
  }

  setQuick(choices) {
    this.quick.replaceChildren(...choices.map((c) => h("button", { type: "button", class: "bp-quick", onclick: () => this.answer(c.value || c.label, c.label) }, c.label)));
    this.quick.hidden = !choices.length;
  }

  wait(q) {
    this.state.waiting = q;
    const on = !!q;
    this.input.disabled = !on;
    this.send.disabled = !on;
    this.input.type = q ? ({ email: "email", phone: "tel", number: "text", date: "text" }[q.ask_question.kind] || "text") : "text";
    this.input.placeholder = on ? this.ed.t("bots.preview.placeholder." + q.ask_question.kind) : this.ed.t("bots.preview.ended_placeholder");
  }

  run(id) {
    const st = this.state;
    for (let guard = 0; guard < 50; guard++) {
      if (!id) return this.end(this.ed.t("bots.preview.completed"));
      const s = this.step(id);
      if (!s) return this.end(this.ed.t("bots.preview.broken", id));
      const b = s[s.type] || {};
      switch (s.type) {
        case "send_message": this.bubble(this.render(b.text)); break;
        case "ask_question":
          st.retries = 0;
          this.ask(s);
          return;
        case "branch": id = this.branch(s); continue;
        case "set_property": this.save(b, this.render(b.value)); break;
        case "submit_ticket": this.note(this.ed.t("bots.preview.ticket", this.render(b.subject))); break;
        case "handoff":
          this.note(this.ed.t("bots.preview.handoff"));
          return this.end("");
        case "webhook":
          this.note(this.ed.t("bots.preview.webhook", b.url || ""));
          break;
        case "meeting_link": this.bubble(this.render(b.text), "", { url: b.url || "#", label: b.label }); break;
        case "end":
          if (b.message) this.bubble(this.render(b.message));
          return this.end(this.ed.t("bots.preview.completed"));
        default: return this.end(this.ed.t("bots.preview.broken", id));
      }
      id = s.next || "";
    }
    this.end(this.ed.t("bots.preview.loop"));
  }

  ask(s, text) {
    const q = s.ask_question || {};
    this.bubble(text ?? this.render(q.prompt));
    this.setQuick(q.kind === "choice" ? q.choices || [] : []);
    this.wait(s);
    // Keep the visitor's place when they are the one answering; never steal focus from the editor.
    if (this.answering && document.activeElement !== this.input) this.input.focus({ preventScroll: true });
  }

  end(reason) {
    this.state.ended = true;
    this.setQuick([]);
    this.wait(null);
    if (reason) this.note(reason);
  }

  save(target, v) {
    if (target.property) this.state.contact[target.property] = v;
    else if (target.variable) this.state.variables[target.variable] = v;
  }

  submit() {
    const text = this.input.value.trim();
    if (!text || !this.state.waiting) return;
    this.input.value = "";
    this.answer(text, text);
  }

  answer(value, shown) {
    const s = this.state.waiting;
    if (!s) return;
    const q = s.ask_question;
    this.answering = true;
    this.bubble(shown, "bp-me");
    this.setQuick([]);
    const v = parseAnswer(q, value);
    if (v === null) {
      this.state.retries++;
      if (this.state.retries > (q.max_retries || 2)) {
        this.state.waiting = null;
        if (!q.fallback) return this.end(this.ed.t("bots.preview.no_valid_answer"));
        return this.run(q.fallback);
      }
      return this.ask(s, this.render(q.error_message) || this.ed.defaultErrors[q.kind] || "");
    }
    this.state.answers[s.id] = v;
    if (q.save_to) this.save(q.save_to, v);
    // The input stays enabled (and focused) while the next steps run; end() disables it.
    this.state.waiting = null;
    this.run(s.next || "");
  }

  branch(s) {
    const st = this.state;
    const available = this.available ? this.available.checked : true;
    for (const c of s.branch.cases || []) {
      if (!c.conditions || !c.conditions.length) continue;
      if (c.conditions.every((cond) => holds(cond, st, available))) return c.next;
    }
    return s.next || "";
  }
}

// parseAnswer is a close cousin of the server's check (bot.ParseAnswer): null when invalid.
function parseAnswer(q, input) {
  const s = String(input).trim();
  if (!s) return null;
  switch (q.kind) {
    case "email":
      return /^[^\s@<>()[\],;:"]+@[^\s@.<>()[\],;:"]+(\.[^\s@.<>()[\],;:"]+)+$/.test(s) ? s.toLowerCase() : null;
    case "phone": {
      if (!/^\+?[0-9 ()-]+$/.test(s)) return null;
      const digits = s.replace(/[^0-9]/g, "");
      return digits.length >= 7 && digits.length <= 15 ? (s.startsWith("+") ? "+" : "") + digits : null;
    }
    case "number": {
      const n = s.replace(/[\s\u00a0]/g, "").replace(",", ".");
      return /^[-+]?\d+(\.\d+)?$/.test(n) ? String(Number(n)) : null;
    }
    case "date": {
      let m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(s);
      if (m) return valid(m[1], m[2], m[3]);
      m = /^(\d{1,2})[./](\d{1,2})[./](\d{4})$/.exec(s);
      return m ? valid(m[3], m[2], m[1]) : null;
    }
    case "choice": {
      const low = s.toLowerCase();
      const c = (q.choices || []).find((c) => (c.value || c.label).toLowerCase() === low || (c.label || "").toLowerCase() === low);
      return c ? c.value || c.label : null;
    }
    default: return s;
  }
}

function valid(y, m, d) {
  const dt = new Date(Date.UTC(+y, +m - 1, +d));
  if (dt.getUTCFullYear() !== +y || dt.getUTCMonth() !== +m - 1 || dt.getUTCDate() !== +d) return null;
  return dt.toISOString().slice(0, 10);
}

function holds(c, st, available) {
  let v;
  switch (c.source) {
    case "answer": v = st.answers[c.name]; break;
    case "variable": v = st.variables[c.name]; break;
    case "property": v = st.contact[c.name]; break;
    case "team_availability": v = String(available); break;
    default: return false;
  }
  v = String(v ?? "").trim();
  const want = String(c.value ?? "").trim();
  const num = (x) => (/^-?\d+(\.\d+)?$/.test(x) ? Number(x) : NaN);
  const eq = () => (!isNaN(num(v)) && !isNaN(num(want)) ? num(v) === num(want) : v.toLowerCase() === want.toLowerCase());
  switch (c.operator) {
    case "equals": return eq();
    case "not_equals": return !eq();
    case "contains": return want !== "" && v.toLowerCase().includes(want.toLowerCase());
    case "is_set": return v !== "";
    case "is_not_set": return v === "";
    case "greater_than": return num(v) > num(want);
    case "less_than": return num(v) < num(want);
  }
  return false;
}

// The JSON view: people who would rather type the definition switch the cards off and back.
document.addEventListener("click", (e) => {
  const btn = e.target.closest("[data-bot-json-toggle]");
  if (!btn) return;
  const root = btn.closest("[data-bot-editor]");
  const ed = root && root.botEditor;
  if (!ed) return;
  const box = ed.source.closest("[data-bot-source]");
  if (box.hidden) {
    box.hidden = false;
    ed.mount.hidden = true;
    btn.textContent = ed.t("bots.js.show_cards");
    btn.setAttribute("aria-pressed", "true");
    ed.source.focus();
  } else {
    if (!ed.load(ed.source.value)) {
      ed.source.setCustomValidity(ed.t("bots.js.bad_json"));
      ed.source.reportValidity();
      return;
    }
    ed.source.setCustomValidity("");
    box.hidden = true;
    ed.mount.hidden = false;
    btn.textContent = ed.t("bots.js.show_json");
    btn.setAttribute("aria-pressed", "false");
    ed.changed();
  }
});

function start(scope) {
  for (const el of scope.querySelectorAll("[data-bot-editor]")) {
    if (el.botEditor) continue;
    el.botEditor = new Editor(el);
  }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => start(document));
else start(document);
document.addEventListener("htmx:load", (e) => start(e.target));

export { parseAnswer, holds, clean };
