// The contact sidebar and contact page are edited in place, one small form per field. A live
// refresh (a GET that morphs the block) is skipped while an agent has typed into one of its
// fields without saving, so their text is not lost; the block is fetched again on the next
// event, and their own save answers with it anyway.

function unsaved(root) {
  for (const el of root.querySelectorAll("input:not([type=hidden]), textarea")) {
    if (el.value !== el.defaultValue) return true;
  }
  for (const sel of root.querySelectorAll("select")) {
    for (const o of sel.options) if (o.selected !== o.defaultSelected) return true;
  }
  return false;
}

document.addEventListener("htmx:beforeSwap", (e) => {
  const target = e.detail.target;
  if (!target || (target.id !== "contact-sidebar" && target.id !== "contact-main")) return;
  const verb = e.detail.requestConfig && e.detail.requestConfig.verb;
  if (verb === "get" && unsaved(target)) e.detail.shouldSwap = false;
});
