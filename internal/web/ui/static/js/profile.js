// Small helpers for the profile page and the header's availability toggle:
// - the avatar preview follows the picture URL field as it is typed;
// - a change of availability in one tab is shown in the user's other tabs.
const channel = "BroadcastChannel" in window ? new BroadcastChannel("parley.availability") : null;

function previewAvatar(input) {
  const box = document.getElementById("avatar-preview");
  if (!box) return;
  let url = null;
  try {
    const u = new URL(input.value.trim());
    if (u.protocol === "https:" || u.protocol === "http:") url = u.href;
  } catch { /* not a URL yet */ }
  box.replaceChildren();
  if (url) {
    const img = document.createElement("img");
    img.className = "avatar avatar--lg";
    img.alt = "";
    img.src = url;
    box.append(img);
  } else {
    const span = document.createElement("span");
    span.className = "avatar avatar--lg";
    span.setAttribute("aria-hidden", "true");
    span.textContent = box.dataset.initials || "?";
    box.append(span);
  }
}

export function startProfile() {
  let timer = null;
  document.addEventListener("input", (e) => {
    if (!e.target.matches || !e.target.matches("[data-avatar-input]")) return;
    clearTimeout(timer);
    timer = setTimeout(() => previewAvatar(e.target), 300);
  });
  if (!channel) return;
  // After this tab changed the status, tell the others; they fetch their own copy. Only the
  // toggle's POST counts, so the others' fetches never echo back.
  document.body.addEventListener("htmx:afterRequest", (e) => {
    const d = e.detail || {};
    const el = d.elt;
    if (d.successful && d.requestConfig && d.requestConfig.verb === "post" && el && el.matches && el.matches("form.availability")) {
      channel.postMessage("changed");
    }
  });
  channel.onmessage = () => {
    const form = document.querySelector("form.availability");
    if (form && window.htmx) window.htmx.ajax("GET", "/profile/availability", { target: form, swap: "outerHTML" });
  };
}
