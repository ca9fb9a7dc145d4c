// The conversation list (imported for its effect by app.js): j/k selection, the open conversation's marker, bulk selection and the
// bulk bar. The list is re-rendered by the server (filters, search, live refreshes morph it),
// so the state lives here, by conversation id, and is put back on the rows after every swap.

let selectedId = ""; // the row j/k moved to
let openId = ""; // the conversation open on the right
let anchorId = ""; // the last checkbox clicked, for shift-click ranges
const checked = new Set(); // ids ticked for a bulk action

const listEl = () => document.getElementById("conversation-list");
const rows = () => [...document.querySelectorAll("#conversation-list li.convrow")];
const checks = () => [...document.querySelectorAll("#conversation-list .convrow__check")];

function openFromLocation() {
  const m = location.pathname.match(/^\/inbox\/(\d+)$/);
  openId = m ? m[1] : "";
}

// apply puts the state back on the rows: after a swap the server's markup knows none of it.
function apply() {
  const inbox = document.querySelector(".inbox");
  if (inbox) inbox.classList.toggle("inbox--open", openId !== "");
  for (const row of rows()) {
    const id = row.dataset.id;
    const link = row.querySelector(".convrow__link");
    row.classList.toggle("convrow--current", id === openId);
    if (link) {
      if (id === openId) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
    }
    const sel = id === selectedId;
    row.classList.toggle("convrow--selected", sel);
    if (link) {
      // "e" opens the selected conversation (shortcuts.js clicks the element carrying it).
      if (sel) link.dataset.shortcut = "e";
      else delete link.dataset.shortcut;
    }
    const box = row.querySelector(".convrow__check");
    if (box) box.checked = checked.has(id);
  }
  updateBulk();
}

function updateBulk() {
  const bar = document.getElementById("bulk");
  const count = document.getElementById("bulk-count");
  const all = document.getElementById("select-all");
  // Forget ids no longer in the list (closed by someone else, moved out of the view).
  const present = new Set(rows().map((r) => r.dataset.id));
  for (const id of [...checked]) if (!present.has(id)) checked.delete(id);
  const n = checked.size;
  if (bar) bar.hidden = n === 0;
  if (count) count.textContent = n === 0 ? "" : (n === 1 ? count.dataset.one : count.dataset.other).replace("%d", n);
  if (all) {
    all.checked = n > 0 && n === present.size;
    all.indeterminate = n > 0 && n < present.size;
  }
}

function select(row, focus) {
  selectedId = row.dataset.id;
  apply();
  if (!focus) return;
  const link = row.querySelector(".convrow__link");
  if (link) link.focus({ preventScroll: true });
  row.scrollIntoView({ block: "nearest" });
}

function move(delta) {
  const list = rows();
  if (list.length === 0) return;
  let i = list.findIndex((r) => r.dataset.id === selectedId);
  if (i < 0) i = list.findIndex((r) => r.dataset.id === openId);
  if (i < 0) i = delta > 0 ? 0 : list.length - 1;
  else i = Math.min(list.length - 1, Math.max(0, i + delta));
  select(list[i], true);
}

function toggle(box, on) {
  box.checked = on;
  const id = box.value;
  if (on) checked.add(id);
  else checked.delete(id);
}

function startList() {
  openFromLocation();
  apply();

  document.addEventListener("parley:move", (e) => {
    if (listEl()) move(e.detail);
  });

  document.addEventListener("click", (e) => {
    const box = e.target.closest && e.target.closest(".convrow__check");
    if (box) {
      const list = checks();
      const from = list.findIndex((b) => b.value === anchorId);
      const to = list.indexOf(box);
      if (e.shiftKey && from >= 0 && to >= 0) {
        for (const b of list.slice(Math.min(from, to), Math.max(from, to) + 1)) toggle(b, box.checked);
      } else {
        toggle(box, box.checked);
      }
      anchorId = box.value;
      updateBulk();
      return;
    }
    const link = e.target.closest && e.target.closest(".convrow__link");
    if (link && !e.ctrlKey && !e.metaKey && !e.shiftKey) {
      const row = link.closest("li.convrow");
      openId = selectedId = row.dataset.id;
      apply();
    }
  });

  document.addEventListener("change", (e) => {
    if (e.target.id !== "select-all") return;
    for (const b of checks()) toggle(b, e.target.checked);
    updateBulk();
  });

  // Enter in the tag field adds the tag (the form's default button does nothing on purpose).
  document.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && e.target.id === "bulk-tag") {
      e.preventDefault();
      document.getElementById("bulk-tag-button")?.click();
    }
  });

  document.addEventListener("htmx:afterRequest", (e) => {
    if (e.detail.elt?.id === "bulk" && e.detail.successful) checked.clear();
  });
  document.body.addEventListener("htmx:afterSettle", apply);
  window.addEventListener("popstate", () => { openFromLocation(); apply(); });
  document.body.addEventListener("htmx:pushedIntoHistory", () => { openFromLocation(); apply(); });
  document.body.addEventListener("htmx:historyRestore", () => { openFromLocation(); apply(); });
}

// Modules run after the document is parsed, so the list is there; signed-out pages have none.
if (document.body.dataset.userId) startList();
