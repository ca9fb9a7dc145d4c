// The conversation header's menus: popovers ([popover][data-menu]) opened by a button with
// popovertarget. The browser closes them on Escape and on a click outside; this module puts a
// menu under its button, moves between its buttons with the arrow keys, filters its items
// (data-menu-filter over data-menu-item), and closes it — or the dialog around a form — once a
// form inside it is sent. Buttons with data-dialog="id" open that <dialog>; data-dialog-close
// closes the one they are in.

function invoker(menu) {
  return document.querySelector(`[popovertarget="${CSS.escape(menu.id)}"]`);
}

function place(menu) {
  const btn = invoker(menu);
  if (!btn) return;
  const r = btn.getBoundingClientRect();
  const w = menu.offsetWidth;
  const h = menu.offsetHeight;
  const left = Math.max(8, Math.min(r.left, window.innerWidth - w - 8));
  let top = r.bottom + 4;
  if (top + h > window.innerHeight - 8 && r.top - h - 4 > 8) top = r.top - h - 4;
  menu.style.left = left + "px";
  menu.style.top = top + "px";
}

// focusable lists what the arrow keys move between: the filter box and the visible buttons.
function focusable(menu) {
  return [...menu.querySelectorAll("button, [data-menu-filter]")].filter((el) => !el.closest("[hidden]"));
}

function applyFilter(input) {
  const menu = input.closest("[data-menu]");
  const q = input.value.trim().toLowerCase();
  let shown = 0;
  for (const item of menu.querySelectorAll("[data-menu-item]")) {
    const ok = !q || item.dataset.menuItem.includes(q);
    item.hidden = !ok;
    if (ok) shown++;
  }
  const empty = menu.querySelector("[data-menu-empty]");
  if (empty) empty.hidden = shown > 0;
}

function openMenus() {
  try { return [...document.querySelectorAll("[data-menu]:popover-open")]; } catch { return []; }
}

export function startMenus() {
  // toggle comes a task after the menu shows; placing it already before it shows (its size is
  // not known yet, so toggle places it again) keeps it from appearing elsewhere first.
  document.addEventListener("beforetoggle", (e) => {
    if (e.newState === "open" && e.target instanceof HTMLElement && e.target.matches("[popover][data-menu]")) place(e.target);
  }, true);
  // toggle does not bubble; a capturing listener on document still sees it.
  document.addEventListener("toggle", (e) => {
    const menu = e.target;
    if (!(menu instanceof HTMLElement) || !menu.matches("[popover][data-menu]")) return;
    const btn = invoker(menu);
    if (btn) btn.setAttribute("aria-expanded", String(e.newState === "open"));
    if (e.newState !== "open") return;
    place(menu);
    const filter = menu.querySelector("[data-menu-filter]");
    if (filter) {
      filter.value = "";
      applyFilter(filter);
      filter.focus();
    } else {
      (menu.querySelector('button[aria-current="true"]') || focusable(menu)[0])?.focus();
    }
  }, true);

  document.addEventListener("input", (e) => {
    if (e.target.matches?.("[data-menu-filter]")) applyFilter(e.target);
  });

  document.addEventListener("keydown", (e) => {
    const menu = e.target.closest?.("[popover][data-menu]");
    if (!menu) return;
    const onFilter = e.target.matches("[data-menu-filter]");
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      // Other fields (date, tag) keep their arrow keys.
      if (e.target.tagName === "INPUT" && !onFilter) return;
      const list = focusable(menu);
      const i = list.indexOf(e.target);
      const next = list[(i + (e.key === "ArrowDown" ? 1 : -1) + list.length) % list.length];
      if (next) { next.focus(); e.preventDefault(); }
    } else if (e.key === "Enter" && onFilter) {
      // Enter in the filter picks the first match rather than the form's first button.
      e.preventDefault();
      [...menu.querySelectorAll("[data-menu-item] button")].find((b) => !b.closest("[hidden]"))?.click();
    }
  });

  document.addEventListener("click", (e) => {
    const opener = e.target.closest?.("[data-dialog]");
    if (opener) {
      const d = document.getElementById(opener.dataset.dialog);
      opener.closest("[popover]")?.hidePopover?.();
      if (d && !d.open) d.showModal();
      return;
    }
    const closer = e.target.closest?.("[data-dialog-close]");
    if (closer) closer.closest("dialog")?.close();
  });

  // A sent form's menu or dialog closes before the answer replaces the header.
  document.addEventListener("htmx:beforeRequest", (e) => {
    const el = e.target;
    const menu = el.closest?.("[popover]");
    if (menu) { try { menu.hidePopover(); } catch { /* already closed */ } }
    const dialog = el.closest?.("dialog");
    if (dialog?.open) dialog.close();
  });

  window.addEventListener("resize", () => openMenus().forEach(place));
}
