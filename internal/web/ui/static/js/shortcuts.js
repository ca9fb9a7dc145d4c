// Keyboard shortcuts. Elements declare theirs with data-shortcut="r"; pressing the key (outside a
// text field) clicks or focuses the first visible such element. j/k move through the list and
// "?" opens the help dialog.
function typing(e) {
  const el = e.target;
  return el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName);
}

function visible(el) { return el.offsetParent !== null || el.getClientRects().length > 0; }

export function startShortcuts() {
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || typing(e)) return;
    if (e.key === "?") {
      const d = document.getElementById("shortcuts");
      if (d && !d.open) { d.showModal(); e.preventDefault(); }
      return;
    }
    if (e.key === "j" || e.key === "k") {
      document.dispatchEvent(new CustomEvent("parley:move", { detail: e.key === "j" ? 1 : -1 }));
      e.preventDefault();
      return;
    }
    const key = e.key === "Enter" ? "Enter" : e.key.toLowerCase();
    const target = [...document.querySelectorAll(`[data-shortcut~="${CSS.escape(key)}"]`)].find(visible);
    if (!target) return;
    e.preventDefault();
    if (["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName)) target.focus();
    else target.click();
  });
  // Ctrl/Cmd+Enter submits the form of the focused text field.
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey)) return;
    const form = e.target.closest && e.target.closest("form");
    if (form && e.target.tagName === "TEXTAREA") { e.preventDefault(); form.requestSubmit(); }
  });
}
