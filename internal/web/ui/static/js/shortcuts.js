// Keyboard shortcuts. Elements declare theirs with data-shortcut="r" (several keys: "e Enter");
// pressing the key outside a text field clicks the first visible such element, or focuses it if
// it is a field. Keys that open the composer (r, c) then put the caret in it.
// j/k dispatch "parley:move" (+1/-1) on document for the list (list.js) to handle; it marks
// the selected row's link with data-shortcut="e". "?" opens the help dialog.
// Ctrl/Cmd+Enter in a text area submits its form.
function typing(el) {
  return el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
}

function visible(el) { return el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden"; }

function rows() {
  return [...document.querySelectorAll("#conversation-list li.convrow")].filter(visible);
}

function focusComposer() {
  const text = document.getElementById("composer-text");
  if (text && visible(text)) text.focus();
}

export function startShortcuts() {
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || e.isComposing || typing(e.target)) return;
    const help = document.getElementById("shortcuts");
    if (e.key === "?") {
      if (help && !help.open) help.showModal();
      else if (help) help.close();
      e.preventDefault();
      return;
    }
    // Behind an open dialog or menu, keys belong to it.
    if (document.querySelector("dialog[open]")) return;
    if (e.key === "j" || e.key === "k") {
      document.dispatchEvent(new CustomEvent("parley:move", { detail: e.key === "j" ? 1 : -1 }));
      e.preventDefault();
      return;
    }
    const key = e.key === "Enter" ? "Enter" : e.key.toLowerCase();
    if (key.length !== 1 && key !== "Enter") return;
    // Enter on a link or button already does what it should.
    if (key === "Enter" && e.target.closest && e.target.closest("a[href], button, summary")) return;
    const target = [...document.querySelectorAll(`[data-shortcut~="${CSS.escape(key)}"]`)].find(visible);
    if (!target) {
      if (key === "/") {
        const search = document.getElementById("search");
        if (search && visible(search)) { e.preventDefault(); search.focus(); search.select(); }
      } else if (key === "e" || key === "Enter") {
        const row = rows().find((r) => r.contains(document.activeElement));
        const link = row && row.querySelector("a[href]");
        if (link) { e.preventDefault(); link.click(); }
      }
      return;
    }
    e.preventDefault();
    if (typing(target)) {
      target.focus();
      if (target.select && target.type !== "textarea") target.select();
      return;
    }
    target.click();
    if (key === "r" || key === "c") focusComposer();
  });

  // Escape leaves the search field or composer so that the single-key shortcuts work again.
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape" || e.defaultPrevented || !typing(e.target)) return;
    if (e.target.closest("dialog[open]")) return;
    e.target.blur();
  });

  // Ctrl/Cmd+Enter submits the form of the focused text area.
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey) || e.target.tagName !== "TEXTAREA") return;
    const form = e.target.closest("form");
    if (form) { e.preventDefault(); form.requestSubmit(); }
  });
}
