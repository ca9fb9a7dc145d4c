// The colour theme is a per-browser choice: "system" (follow the OS, the default), "light" or
// "dark", kept in localStorage and applied as data-theme on <html>, which base.css reads. The
// profile page's picker (data-theme-select) changes it; other tabs follow through the storage event.
const KEY = "parley.theme";

function current() {
  try {
    const v = localStorage.getItem(KEY);
    return v === "light" || v === "dark" ? v : "system";
  } catch {
    return "system"; // storage may be blocked; the OS theme still applies
  }
}

function apply(theme) {
  if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
  for (const sel of document.querySelectorAll("[data-theme-select]")) sel.value = theme;
}

export function startTheme() {
  apply(current());
  document.addEventListener("change", (e) => {
    const sel = e.target.closest && e.target.closest("[data-theme-select]");
    if (!sel) return;
    try {
      if (sel.value === "system") localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, sel.value);
    } catch { /* not remembered, but still applied below */ }
    apply(sel.value);
  });
  window.addEventListener("storage", (e) => { if (e.key === KEY) apply(current()); });
  // Pages swapped in by htmx may bring a picker that must show the current choice.
  document.body.addEventListener("htmx:afterSettle", () => apply(current()));
}

// Applied at once on import, so the page paints in the chosen theme as early as a module can.
apply(current());
