// Switchboard: the template picker. A dialog lists the approved templates the person may send here (the
// contact's language first), filtered as they type (↑ ↓ Enter, Esc closes); choosing one shows its form:
// an input per variable, the header's file, and a preview of the message that follows what is typed.
// Used by the composer (inbox.js imports this module and shows the sent bubble) and by the contact page
// ("Start a conversation": the answer names the conversation to go to).
// Values typed here and names filled from customer profiles never go through innerHTML: the preview is
// made of text nodes. Only the server's own partials are parsed as HTML.

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];
const fmt = (template, values) => template.replace(/%\((\w+)\)s/g, (_, key) => String(values[key] ?? ""));
const TOKEN = /\{\{([A-Za-z0-9_]+)\}\}/g;

let dialog = null;
let opener = null;
let list = { url: "", html: "" };

// The stylesheet comes with the composer; linked once in the head so that swapping the composer in and
// out never drops it while template bubbles are on screen.
// The guard's (why a template is unavailable, why a message waits) likewise.
function linkStylesheet(file = "composer_templates.css") {
  const href = new URL(`../css/${file}`, import.meta.url).pathname;
  if ($$("head link[rel=stylesheet]").some((link) => new URL(link.href).pathname === href)) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = href;
  document.head.append(link);
}

function body() {
  return $(".tpl-dialog-body", dialog);
}

function ensureDialog() {
  if (dialog) return dialog;
  dialog = document.createElement("dialog");
  dialog.id = "template-picker";
  dialog.className = "dialog tpl-dialog";
  dialog.setAttribute("aria-labelledby", "tpl-title");
  const inner = document.createElement("div");
  inner.className = "tpl-dialog-body";
  dialog.append(inner);
  document.body.append(dialog);
  dialog.addEventListener("close", () => {
    inner.replaceChildren();
    const back = opener?.isConnected ? opener : $("#composer [data-template-picker]");
    back?.focus();
  });
  dialog.addEventListener("click", onClick);
  dialog.addEventListener("keydown", onKeydown);
  dialog.addEventListener("input", onInput);
  dialog.addEventListener("change", onChange);
  dialog.addEventListener("submit", onSubmit);
  return dialog;
}

function say(text, className) {
  const p = document.createElement("p");
  p.className = className;
  p.textContent = text;
  if (className.includes("error")) p.setAttribute("role", "alert");
  body().replaceChildren(p);
}

async function load(url) {
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } });
  } catch {
    return null;
  }
  if (response.status === 401) {
    // Signed out: the login page, then back here.
    location.href = response.headers.get("HX-Redirect") || "/login/";
    return null;
  }
  return response.ok ? response.text() : null;
}

export async function openPicker(button) {
  let url = button.dataset.pickerUrl;
  const select = button.dataset.channelSelect ? $(button.dataset.channelSelect) : null;
  if (select) url += `?channel=${encodeURIComponent(select.value)}`;
  opener = button;
  ensureDialog();
  say(button.dataset.loading || "…", "tpl-loading");
  if (!dialog.open) dialog.showModal();
  const html = await load(url);
  if (!dialog.open) return;
  if (html === null) return say(button.dataset.loadFailed || "", "tpl-load-error");
  list = { url, html };
  showList();
}

// ------------------------------------------------------------------------------------------ the list

function showList() {
  body().innerHTML = list.html;
  filter("");
  ($("#tpl-filter", body()) || $("a, button", body()))?.focus();
}

function visibleOptions() {
  return $$(".tpl-option", body()).filter((option) => !option.hidden);
}

function setActive(option) {
  for (const other of $$(".tpl-option", body())) {
    other.classList.toggle("is-active", other === option);
    other.setAttribute("aria-selected", String(other === option));
  }
  const input = $("#tpl-filter", body());
  if (option) {
    input?.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  } else {
    input?.removeAttribute("aria-activedescendant");
  }
}

function filter(query) {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  for (const option of $$(".tpl-option", body())) {
    option.hidden = !words.every((word) => option.dataset.search.includes(word));
  }
  const shown = visibleOptions();
  const none = $(".tpl-none", body());
  if (none) none.hidden = shown.length > 0 || !$$(".tpl-option", body()).length;
  setActive(shown[0] || null);
}

function move(step) {
  const shown = visibleOptions();
  if (!shown.length) return;
  const current = shown.findIndex((option) => option.classList.contains("is-active"));
  setActive(shown[Math.min(shown.length - 1, Math.max(0, current + step))]);
}

async function choose(option) {
  if (!option) return;
  setActive(option);
  // A template this customer cannot get now says why in its row; there is no form to open.
  if (option.getAttribute("aria-disabled") === "true") return;
  const html = await load(option.dataset.formUrl);
  if (!dialog.open) return;
  if (html === null) return say(opener?.dataset.loadFailed || "", "tpl-load-error");
  showForm(html);
}

// ------------------------------------------------------------------------------------------ the form

function form() {
  return $(".tpl-form", body());
}

function showForm(html) {
  body().innerHTML = html;
  renderPreview();
  const inputs = $$(".tpl-fields input:not([type=hidden])", body());
  (inputs.find((input) => !input.value) || inputs[0] || $(".tpl-send", body()))?.focus();
}

function shape() {
  const script = $("#tpl-shape", body());
  return script ? JSON.parse(script.textContent) : null;
}

function values() {
  const found = {};
  for (const input of $$("input[data-var]", form())) {
    found[input.dataset.var] = { value: input.value.trim(), sample: input.placeholder };
  }
  return found;
}

// `text` with its placeholders replaced by what was typed (marked), or the sample while blank.
function filled(text, part, given) {
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(TOKEN)) {
    const entry = given[`${part}.${match[1]}`];
    if (!entry) continue;
    nodes.push(document.createTextNode(text.slice(last, match.index)));
    const span = document.createElement("span");
    span.className = entry.value ? "tpl-var" : "tpl-var is-sample";
    span.textContent = entry.value || entry.sample || match[0];
    nodes.push(span);
    last = match.index + match[0].length;
  }
  nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}

function plain(text, part, given) {
  return text.replace(TOKEN, (whole, name) => {
    const entry = given[`${part}.${name}`];
    return entry ? entry.value || entry.sample || whole : whole;
  });
}

function renderPreview() {
  const preview = $("[data-tpl-preview]", body());
  const template = shape();
  if (!preview || !template) return;
  const given = values();
  const header = $(".tpl-header", preview);
  if (header && template.header) header.replaceChildren(...filled(template.header, "header", given));
  $(".tpl-body", preview)?.replaceChildren(...filled(template.body || "", "body", given));
  const buttons = $$(".tpl-buttons > li", preview);
  (template.buttons || []).forEach((button, index) => {
    const item = buttons[index];
    if (!item) return;
    if (button.type === "URL") {
      const url = plain(button.url || "", `buttons.${index}`, given);
      const link = $("a.tpl-button", item);
      if (link && /^https?:\/\//i.test(url)) {
        link.href = url;
        link.title = url;
      }
    } else if (button.type === "COPY_CODE") {
      const entry = given[`buttons.${index}.code`];
      let code = $("code", item);
      if (entry && !code) {
        code = document.createElement("code");
        code.dir = "ltr";
        $(".tpl-button", item).append(" ", code);
      }
      if (code) code.textContent = entry?.value || entry?.sample || "";
    }
  });
}

function formError(text) {
  const box = $(".tpl-error", form());
  if (!box) return;
  box.textContent = text;
  box.hidden = !text;
}

// The header's file: the kind and size WhatsApp takes, checked before anything is uploaded.
function checkHeaderFile(input) {
  const file = input.files[0];
  formError("");
  const media = $("[data-tpl-media]", body());
  if (!file) return;
  const accepted = input.accept.split(",").filter(Boolean);
  if (accepted.length && !accepted.includes(file.type)) {
    input.value = "";
    formError(form().dataset.wrongKind);
    return;
  }
  const limit = Number(input.dataset.maxBytes || 0);
  if (limit && file.size > limit) {
    input.value = "";
    formError(fmt(form().dataset.tooLarge, { name: file.name, limit: Math.round(limit / 1024 / 1024) }));
    return;
  }
  if (!media) return;
  if (input.dataset.kind === "image") {
    const image = document.createElement("img");
    image.className = "media";
    image.alt = file.name;
    image.src = URL.createObjectURL(file);
    media.replaceChildren(image);
  } else {
    const label = $(".tpl-media-label", media);
    if (label) label.textContent = file.name;
  }
}

async function send(target) {
  if (target.classList.contains("is-sending")) return;
  const button = $(".tpl-send", target);
  const label = $(".tpl-send-label", target);
  const idle = label.textContent;
  target.classList.add("is-sending");
  button.disabled = true;
  label.textContent = target.dataset.sending;
  formError("");
  const done = () => {
    target.classList.remove("is-sending");
    button.disabled = false;
    label.textContent = idle;
  };
  let response;
  try {
    response = await fetch(target.action, {
      method: "POST",
      body: new FormData(target),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    });
  } catch {
    done();
    return formError(target.dataset.sendFailed);
  }
  if (response.status === 401) {
    done();
    return formError(target.dataset.signedOut);
  }
  if (response.ok) {
    if ((response.headers.get("Content-Type") || "").includes("json")) {
      const answer = await response.json();
      location.href = answer.url; // a new conversation from the contact page: go there
      return;
    }
    const html = await response.text();
    dialog.close();
    document.dispatchEvent(new CustomEvent("switchboard:template-sent", { detail: { html } }));
    return;
  }
  done();
  let refusal = {};
  try {
    refusal = await response.json();
  } catch {
    /* not JSON: the generic sentence */
  }
  formError(refusal.detail || target.dataset.sendFailed); // what was typed stays in the form
}

// ------------------------------------------------------------------------------------------ events

function onClick(event) {
  if (event.target === dialog) return dialog.close(); // the backdrop
  const option = event.target.closest(".tpl-option");
  if (option) return choose(option);
  const action = event.target.closest("[data-tpl]")?.dataset.tpl;
  if (action === "close") dialog.close();
  else if (action === "back") showList();
}

function onKeydown(event) {
  if (event.key === "Escape") {
    // One Esc closes, whatever has the focus (a search box would otherwise only clear itself).
    event.preventDefault();
    event.stopPropagation();
    dialog.close();
    return;
  }
  if (event.target.id !== "tpl-filter") return;
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    move(event.key === "ArrowDown" ? 1 : -1);
  } else if (event.key === "Enter") {
    event.preventDefault();
    choose($(".tpl-option.is-active", body()));
  }
}

function onInput(event) {
  if (event.target.id === "tpl-filter") filter(event.target.value);
  else if (event.target.matches("input[data-var]")) {
    event.target.removeAttribute("aria-invalid");
    renderPreview();
  }
}

function onChange(event) {
  if (event.target.matches("input[type=file][data-kind]")) checkHeaderFile(event.target);
}

function onSubmit(event) {
  if (!event.target.classList.contains("tpl-form")) return;
  event.preventDefault();
  send(event.target);
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-template-picker]");
  if (!button) return;
  event.preventDefault();
  openPicker(button);
});

// On pages without the inbox's own shortcuts (the contact page), `t` opens the picker too.
document.addEventListener("keydown", (event) => {
  if (document.getElementById("app") || event.key !== "t") return;
  if (event.target.closest?.("input, textarea, select, [contenteditable=true]") || $("dialog[open]")) return;
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const button = $("[data-template-picker]");
  if (!button) return;
  event.preventDefault();
  openPicker(button);
});

linkStylesheet();
linkStylesheet("guard.css");
