// Settings conveniences: copy buttons for one-time links and secrets, and a real dialog for
// the confirmations destructive actions ask (hx-confirm). Both work by event delegation, so
// content swapped in by htmx needs nothing more.

// <button data-copy="#input-id" data-copied="Copied">: copies the input's value.
document.addEventListener("click", async (ev) => {
  const btn = ev.target.closest("[data-copy]");
  if (!btn) return;
  const src = document.querySelector(btn.dataset.copy);
  if (!src) return;
  const text = src.value ?? src.textContent;
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // No clipboard access (plain http): select it so Ctrl/Cmd+C does it.
    src.focus();
    src.select?.();
    return;
  }
  const label = btn.textContent;
  btn.textContent = btn.dataset.copied || label;
  setTimeout(() => { btn.textContent = label; }, 1500);
});

// htmx asks before requests with hx-confirm; answer with #confirm-dialog when the page has one.
document.addEventListener("htmx:confirm", (ev) => {
  const question = ev.detail.question;
  const dialog = document.getElementById("confirm-dialog");
  if (!question || !dialog || typeof dialog.showModal !== "function") return;
  ev.preventDefault();
  dialog.querySelector("#confirm-dialog-text").textContent = question;
  dialog.returnValue = "";
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === "ok") ev.detail.issueRequest(true);
  }, { once: true });
  dialog.showModal();
  dialog.querySelector('button[value="cancel"]')?.focus();
});
