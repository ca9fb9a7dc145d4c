// Attachments in the composer. A form holding a drop zone ([data-attachments], with
// data-upload-url and optionally data-max-bytes) takes files three ways: dropped anywhere on
// the form, pasted, or picked with the zone's button. Each file is uploaded on its own (so each
// has its own progress and its own error) and the server's answer, an li.attachment with a
// hidden input named "attachment", goes into the form's ul.attachments, so the files are sent
// with the reply. Errors come back from the server already in the user's language; the only
// ones written here are the size check before uploading and a lost connection. Everything is
// bound by delegation, so a composer swapped in by htmx works at once.

const strings = JSON.parse(document.body.dataset.strings || "{}");
const t = (key, ...args) => args.reduce((s, a) => s.replace("%s", a), strings[key] || key);

const zoneOf = (form) => form && form.querySelector("[data-attachments]");
// A zone that is hidden (the composer's Comment tab) takes nothing.
const activeZone = (el) => {
  const zone = zoneOf(el && el.closest("form"));
  return zone && zone.getClientRects().length > 0 ? zone : null;
};
const listOf = (zone) => zone.closest("form").querySelector("ul.attachments") || document.getElementById("composer-attachments");
const pending = new Set(); // li elements still uploading

const icon = (d) => {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "16");
  svg.setAttribute("height", "16");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", d);
  path.setAttribute("fill", "none");
  path.setAttribute("stroke", "currentColor");
  path.setAttribute("stroke-width", "2");
  path.setAttribute("stroke-linecap", "round");
  path.setAttribute("stroke-linejoin", "round");
  svg.append(path);
  return svg;
};
const CLIP = "M21 11.5l-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l8.6-8.6a3.7 3.7 0 0 1 5.2 5.2l-8.6 8.6a1.8 1.8 0 0 1-2.6-2.6l7.9-7.9";
const CROSS = "M6 6l12 12M18 6 6 18";

// fill draws a zone's controls: a button that opens the file picker and a hint. The server
// renders the zone empty, and a morph after sending empties it again, so this runs after
// every swap.
function fill(zone) {
  if (zone.querySelector("input[type=file]")) return;
  const id = "attach-" + Math.random().toString(36).slice(2, 9);
  const input = document.createElement("input");
  input.type = "file";
  input.multiple = true;
  input.id = id;
  input.className = "visually-hidden dropzone__input";
  input.tabIndex = -1;
  input.setAttribute("aria-hidden", "true");
  const pick = document.createElement("button");
  pick.type = "button";
  pick.className = "btn btn--ghost btn--sm dropzone__pick";
  pick.dataset.attachmentsPick = "";
  pick.append(icon(CLIP), document.createTextNode(t("attachments.add")));
  const hint = document.createElement("span");
  hint.className = "dropzone__hint";
  hint.textContent = t("attachments.hint");
  const status = document.createElement("span");
  status.className = "dropzone__status";
  status.setAttribute("role", "status");
  status.dataset.attachmentsStatus = "";
  zone.append(pick, input, hint, status);
}

function fillAll(root) {
  for (const zone of (root || document).querySelectorAll("[data-attachments]")) fill(zone);
}

function formatSize(n) {
  const lang = document.documentElement.lang || "en";
  const units = ["B", "KB", "MB", "GB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  const digits = i > 0 && n < 10 ? 1 : 0;
  return new Intl.NumberFormat(lang, { maximumFractionDigits: digits }).format(n) + " " + units[i];
}

function announce(zone, text) {
  const status = zone.querySelector("[data-attachments-status]");
  if (status) status.textContent = text;
}

// failed turns a pending item into an error the agent dismisses.
function failed(li, message) {
  pending.delete(li);
  li.className = "attachment attachment--error";
  li.setAttribute("role", "alert");
  li.querySelector("progress")?.remove();
  li.querySelector(".attachment__name").textContent = message;
}

// messageOf reads the server's refusal: a toast fragment whose text is the message.
function messageOf(html) {
  const tpl = document.createElement("template");
  tpl.innerHTML = html || "";
  const el = tpl.content.querySelector(".toast, [role=alert]");
  return (el ? el.textContent : "").trim();
}

function upload(zone, file) {
  const list = listOf(zone);
  if (!list) return;
  const li = document.createElement("li");
  li.className = "attachment attachment--pending";
  const name = document.createElement("span");
  name.className = "attachment__name";
  name.textContent = file.name;
  const progress = document.createElement("progress");
  progress.max = 100;
  progress.value = 0;
  progress.setAttribute("aria-label", t("attachments.uploading", file.name));
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "attachment__remove";
  remove.dataset.attachmentRemove = "";
  remove.setAttribute("aria-label", t("attachments.remove", file.name));
  remove.title = t("attachments.remove", file.name);
  remove.append(icon(CROSS));
  li.append(name, progress, remove);
  list.append(li);

  const max = Number(zone.dataset.maxBytes || 0);
  if (max > 0 && file.size > max) {
    failed(li, t("attachments.too_large", file.name, formatSize(max)));
    return;
  }
  pending.add(li);
  announce(zone, t("attachments.uploading", file.name));
  const xhr = new XMLHttpRequest();
  li._xhr = xhr;
  xhr.open("POST", zone.dataset.uploadUrl || "/attachments");
  // As htmx would: a refusal comes back as a toast fragment with the message.
  xhr.setRequestHeader("HX-Request", "true");
  xhr.upload.addEventListener("progress", (e) => {
    if (e.lengthComputable) progress.value = Math.round((e.loaded / e.total) * 100);
  });
  xhr.addEventListener("load", () => {
    if (!li.isConnected) return;
    if (xhr.status === 200) {
      pending.delete(li);
      const tpl = document.createElement("template");
      tpl.innerHTML = xhr.responseText;
      li.replaceWith(tpl.content);
      announce(zone, "");
      return;
    }
    announce(zone, "");
    failed(li, messageOf(xhr.responseText) || t("attachments.failed", file.name));
  });
  xhr.addEventListener("error", () => li.isConnected && failed(li, t("attachments.failed", file.name)));
  const body = new FormData();
  body.append("file", file, file.name);
  xhr.send(body);
}

function uploadAll(zone, files) {
  for (const f of files) upload(zone, f);
}

document.addEventListener("click", (e) => {
  const pick = e.target.closest("[data-attachments-pick]");
  if (pick) {
    pick.parentElement.querySelector("input[type=file]")?.click();
    return;
  }
  const remove = e.target.closest("[data-attachment-remove]");
  if (!remove) return;
  const li = remove.closest("li");
  const zone = zoneOf(li.closest("form"));
  if (li._xhr) li._xhr.abort();
  pending.delete(li);
  // An upload the agent removes is deleted now rather than at the next sweep.
  const id = li.dataset.id;
  if (id && zone) {
    const base = (zone.dataset.uploadUrl || "/attachments").replace(/\/$/, "");
    fetch(base + "/" + encodeURIComponent(id), { method: "DELETE", headers: { "HX-Request": "true" } }).catch(() => {});
  }
  li.remove();
  zone?.querySelector("[data-attachments-pick]")?.focus();
});

document.addEventListener("change", (e) => {
  const input = e.target;
  if (!(input instanceof HTMLInputElement) || input.type !== "file") return;
  const zone = input.closest("[data-attachments]");
  if (!zone || !input.files.length) return;
  uploadAll(zone, [...input.files]);
  input.value = ""; // picking the same file again uploads it again
});

// Dragging files over the form shows where they will go; dragenter/leave fire for every child,
// so the form counts them.
const hasFiles = (e) => [...(e.dataTransfer?.types || [])].includes("Files");
let dragDepth = 0;
let dragForm = null;
function endDrag() {
  dragDepth = 0;
  const zone = zoneOf(dragForm);
  if (zone) {
    dragForm.classList.remove("is-dropping");
    zone.classList.remove("dropzone--active");
    announce(zone, "");
  }
  dragForm = null;
}
document.addEventListener("dragenter", (e) => {
  if (!hasFiles(e)) return;
  const zone = activeZone(e.target);
  if (!zone) return;
  const form = zone.closest("form");
  if (form !== dragForm) { endDrag(); dragForm = form; }
  dragDepth++;
  form.classList.add("is-dropping");
  zone.classList.add("dropzone--active");
  announce(zone, t("attachments.drop"));
});
document.addEventListener("dragover", (e) => {
  if (hasFiles(e) && activeZone(e.target)) {
    e.preventDefault();
    e.dataTransfer.dropEffect = "copy";
  }
});
document.addEventListener("dragleave", (e) => {
  if (!dragForm || !dragForm.contains(e.target)) return;
  if (--dragDepth <= 0) endDrag();
});
document.addEventListener("drop", (e) => {
  const zone = activeZone(e.target);
  endDrag();
  if (!zone || !e.dataTransfer?.files.length) return;
  e.preventDefault();
  uploadAll(zone, [...e.dataTransfer.files]);
});

// Pasting a screenshot or a copied file attaches it; pasting text (even text that comes with a
// picture of itself, as from office programs) stays text.
document.addEventListener("paste", (e) => {
  const zone = activeZone(e.target);
  const data = e.clipboardData;
  if (!zone || !data || !data.files.length || [...data.types].includes("text/plain")) return;
  e.preventDefault();
  uploadAll(zone, [...data.files]);
});

// A reply sent while files are still uploading would go without them: hold it back. This runs
// in the capture phase, before htmx's own submit handler on the form.
document.addEventListener("submit", (e) => {
  const zone = zoneOf(e.target);
  if (!zone) return;
  const waiting = [...pending].some((li) => li.isConnected && e.target.contains(li));
  if (!waiting) return;
  e.preventDefault();
  e.stopImmediatePropagation();
  announce(zone, t("attachments.wait"));
  zone.classList.add("dropzone--wait");
  setTimeout(() => {
    zone.classList.remove("dropzone--wait");
    announce(zone, "");
  }, 4000);
}, true);

document.addEventListener("DOMContentLoaded", () => fillAll(document));
document.addEventListener("htmx:load", (e) => fillAll(e.target));
document.addEventListener("htmx:afterSettle", () => fillAll(document));
if (document.readyState !== "loading") fillAll(document);
