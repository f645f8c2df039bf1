// The message-template editor: keeps the hidden `components_json` (WhatsApp's create shape) and
// `variable_fields_json` in step with the fields, draws one example field per variable as they are typed,
// builds the buttons, and redraws the WhatsApp-like preview. Lint runs on the server: this script only
// announces "template-changed" (htmx posts the form to /templates/lint after a pause) and, when a finding
// is clicked, focuses the field it names. Author text only ever reaches the page as text nodes.

const form = document.querySelector("form[data-editor]");
const S = JSON.parse(document.getElementById("template-editor-strings")?.textContent || "{}");
const fmt = (template, values) => template.replace(/%\((\w+)\)s/g, (_, key) => String(values[key] ?? ""));

// WhatsApp reads a variable only as exactly {{1}} or {{name}}; lint.py uses the same pattern.
const TOKEN = /(?<!\{)\{\{([^{}]*)\}\}(?!\})/g;
const isPositional = (name) => /^[0-9]+$/.test(name);
const isVariable = (name) => isPositional(name) || /^[a-z][a-z0-9_]*$/.test(name);
const CONTACT_FIELDS = ["contact.name", "contact.first_name", "contact.phone"];
const BUTTON_LABELS = {
  QUICK_REPLY: () => S.button_quick_reply,
  URL: () => S.button_url,
  PHONE_NUMBER: () => S.button_phone,
  COPY_CODE: () => S.button_copy_code,
};

/** The variables of a text in the order their examples are given: by number for {{1}}, by appearance for names. */
function variablesOf(text) {
  const names = [];
  for (const match of text.matchAll(TOKEN)) {
    if (isVariable(match[1]) && !names.includes(match[1])) names.push(match[1]);
  }
  return names.every(isPositional) ? names.sort((a, b) => Number(a) - Number(b)) : names;
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("data") || key.startsWith("aria") || ["id", "type", "for", "name", "role", "title", "dir", "placeholder", "maxlength", "autocomplete", "inputmode"].includes(key)) node.setAttribute(key, value === true ? "" : value);
    else node[key] = value;
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
  return node;
}

const $ = (selector, root = form) => root.querySelector(selector);
const fields = form && {
  components: $("#components-json"),
  variableFields: $("#variable-fields-json"),
  headerFormat: $("[data-header-format]"),
  headerText: $("#tpl-header-text"),
  headerMedia: $("#tpl-header-media"),
  body: $("#tpl-body"),
  footer: $("#tpl-footer"),
  security: $("#tpl-auth-security"),
  expiry: $("#tpl-auth-expiry"),
  packageName: $("#tpl-package"),
  signature: $("#tpl-signature"),
};

// What the fields do not hold themselves: examples and prefills per variable, and the buttons.
const examples = { header: {}, body: {} };
const prefills = { header: {}, body: {} };
let buttons = [];
const drawn = { header: "", body: "" };

function category() {
  return form.querySelector("input[name=category]:checked")?.value || "UTILITY";
}

function parameterFormat() {
  return form.querySelector("input[name=parameter_format]:checked")?.value || "POSITIONAL";
}

function otpType() {
  return form.querySelector("input[name=otp_type_choice]:checked")?.value || "COPY_CODE";
}

// --- Reading what was saved ------------------------------------------------------------------------------

function load() {
  let components = [];
  let variableFields = {};
  try {
    components = JSON.parse(fields.components.value || "[]");
    variableFields = JSON.parse(fields.variableFields.value || "{}");
  } catch {
    components = [];
  }
  if (!Array.isArray(components)) components = [];
  const part = (type) => components.find((c) => c && String(c.type).toUpperCase() === type) || null;
  for (const [kind, component] of [["header", part("HEADER")], ["body", part("BODY")]]) {
    if (!component || typeof component.text !== "string") continue;
    const example = component.example || {};
    const names = variablesOf(component.text);
    const positional = kind === "body" ? (example.body_text || [])[0] || [] : example.header_text || [];
    names.filter(isPositional).forEach((name, index) => {
      if (typeof positional[index] === "string") examples[kind][name] = positional[index];
    });
    for (const entry of example[`${kind}_text_named_params`] || []) {
      if (entry && typeof entry.param_name === "string") examples[kind][entry.param_name] = String(entry.example ?? "");
    }
  }
  const buttonsPart = part("BUTTONS");
  if (buttonsPart && Array.isArray(buttonsPart.buttons) && category() !== "AUTHENTICATION") {
    buttons = buttonsPart.buttons
      .filter((b) => b && BUTTON_LABELS[String(b.type).toUpperCase()])
      .map((b, index) => {
        const type = String(b.type).toUpperCase();
        const url = typeof b.url === "string" ? b.url : "";
        const sample = Array.isArray(b.example) ? String(b.example[0] ?? "") : "";
        const prefix = url.split("{{1}}")[0];
        return {
          type,
          text: typeof b.text === "string" ? b.text : "",
          url,
          urlSample: url.includes("{{1}}") && sample.startsWith(prefix) ? sample.slice(prefix.length) : sample,
          phone: typeof b.phone_number === "string" ? b.phone_number : "",
          code: type === "COPY_CODE" && typeof b.example === "string" ? b.example : "",
          prefill: variableFields[`buttons.${index}.1`] || "",
        };
      });
  }
  for (const [key, value] of Object.entries(variableFields || {})) {
    const [kind, name] = key.split(".");
    if ((kind === "body" || kind === "header") && name) prefills[kind][name] = value;
  }
}

// --- Writing WhatsApp's create shape ---------------------------------------------------------------------

function textExample(kind, names) {
  const positional = names.filter(isPositional).map((name) => examples[kind][name] ?? "");
  const named = names.filter((name) => !isPositional(name)).map((name) => ({ param_name: name, example: examples[kind][name] ?? "" }));
  const example = {};
  if (positional.length) example[`${kind}_text`] = kind === "body" ? [positional] : positional;
  if (named.length) example[`${kind}_text_named_params`] = named;
  return Object.keys(example).length ? example : null;
}

function compose() {
  const variableFields = {};
  if (category() === "AUTHENTICATION") {
    const components = [{ type: "BODY", add_security_recommendation: fields.security.checked }];
    const minutes = fields.expiry.value.trim();
    if (minutes) components.push({ type: "FOOTER", code_expiration_minutes: Number.isInteger(Number(minutes)) ? Number(minutes) : minutes });
    const button = { type: "OTP", otp_type: otpType() };
    if (otpType() === "ONE_TAP") {
      button.supported_apps = [{ package_name: fields.packageName.value.trim(), signature_hash: fields.signature.value.trim() }];
    }
    components.push({ type: "BUTTONS", buttons: [button] });
    return { components, variableFields };
  }
  const components = [];
  const headerFormat = fields.headerFormat.value;
  if (headerFormat === "TEXT") {
    const header = { type: "HEADER", format: "TEXT", text: fields.headerText.value };
    const names = variablesOf(header.text);
    const example = textExample("header", names);
    if (example) header.example = example;
    components.push(header);
    for (const name of names) if (prefills.header[name]) variableFields[`header.${name}`] = prefills.header[name];
  } else if (headerFormat !== "NONE") {
    const header = { type: "HEADER", format: headerFormat };
    const link = fields.headerMedia.value.trim();
    if (link) header.example = { header_handle: [link] };
    components.push(header);
  }
  const body = { type: "BODY", text: fields.body.value };
  const bodyNames = variablesOf(body.text);
  const bodyExample = textExample("body", bodyNames);
  if (bodyExample) body.example = bodyExample;
  components.push(body);
  for (const name of bodyNames) if (prefills.body[name]) variableFields[`body.${name}`] = prefills.body[name];
  if (fields.footer.value.trim()) components.push({ type: "FOOTER", text: fields.footer.value });
  if (buttons.length) {
    components.push({
      type: "BUTTONS",
      buttons: buttons.map((b, index) => {
        if (b.type === "QUICK_REPLY") return { type: b.type, text: b.text };
        if (b.type === "PHONE_NUMBER") return { type: b.type, text: b.text, phone_number: b.phone };
        if (b.type === "COPY_CODE") return { type: b.type, example: b.code };
        const button = { type: "URL", text: b.text, url: b.url };
        if (b.url.includes("{{1}}")) {
          button.example = [b.url.replace("{{1}}", b.urlSample)];
          if (b.prefill) variableFields[`buttons.${index}.1`] = b.prefill;
        }
        return button;
      }),
    });
  }
  return { components, variableFields };
}

// --- One example field per variable ----------------------------------------------------------------------

function prefillSelect(id, variable, value, onChange) {
  const select = el("select", { id, class: "tpl-prefill" },
    el("option", { value: "", text: S.prefill_none }),
    CONTACT_FIELDS.map((field) => el("option", { value: field, text: S.contact_fields?.[field] || field, selected: field === value })));
  select.addEventListener("change", () => onChange(select.value));
  return [el("label", { for: id, class: "visually-hidden", text: fmt(S.prefill, { variable }) }), select];
}

function drawVariables(kind) {
  const box = document.getElementById(`${kind}-variables`);
  const text = kind === "header" ? (fields.headerFormat.value === "TEXT" ? fields.headerText.value : "") : fields.body.value;
  const names = variablesOf(text);
  const key = `${names.join("|")}/${parameterFormat()}`;
  if (drawn[kind] === key && box.dataset.drawn) return;
  drawn[kind] = key;
  box.dataset.drawn = "1";
  if (!names.length) {
    box.replaceChildren(kind === "body"
      ? el("p", { class: "muted tpl-small tpl-no-variables", text: parameterFormat() === "NAMED" ? S.no_variables_named : S.no_variables })
      : "");
    return;
  }
  const head = el("div", { class: "tpl-variables-head", "aria-hidden": "true" },
    el("span", { text: S.variable }), el("span", { text: S.example_head }), el("span", { text: S.prefill_head }));
  box.replaceChildren(head, ...names.map((name) => {
    const variable = `{{${name}}}`;
    const id = `sample-${kind}-${name}`;
    const input = el("input", {
      id, type: "text", value: examples[kind][name] ?? "", dir: "auto", autocomplete: "off",
      "data-part": `samples.${kind}.${name}`, "data-sample": kind, "data-name": name,
    });
    input.addEventListener("input", () => { examples[kind][name] = input.value; });
    return el("div", { class: "tpl-variable" },
      el("label", { for: id }, el("code", { text: variable }), el("span", { class: "visually-hidden", text: fmt(S.sample_for, { variable }) })),
      input,
      prefillSelect(`prefill-${kind}-${name}`, variable, prefills[kind][name], (value) => { prefills[kind][name] = value; changed(); }));
  }));
}

// --- The buttons builder ---------------------------------------------------------------------------------

function buttonField(index, field, label, attributes = {}) {
  const id = `button-${index}-${field}`;
  const input = el("input", { id, type: "text", value: buttons[index][field] ?? "", autocomplete: "off", ...attributes });
  input.addEventListener("input", () => {
    buttons[index][field] = input.value;
    if (field === "url") {
      input.closest("li").querySelector("[data-url-sample]").hidden = !input.value.includes("{{1}}");
    }
  });
  return el("div", { class: "tpl-field" }, el("label", { for: id, text: label }), input);
}

function drawButtons(focus) {
  const list = document.getElementById("button-list");
  if (!buttons.length) {
    list.replaceChildren(el("li", { class: "muted tpl-small tpl-no-buttons", text: S.no_buttons }));
    return;
  }
  list.replaceChildren(...buttons.map((button, index) => {
    const part = `buttons.${index}`;
    const inputs = [];
    if (button.type !== "COPY_CODE") inputs.push(buttonField(index, "text", S.button_text, { "data-part": part, maxlength: "40", dir: "auto" }));
    if (button.type === "URL") {
      inputs.push(buttonField(index, "url", S.url, { type: "url", placeholder: "https://shop.example/track/{{1}}", "data-part": inputs.length ? null : part }));
      const sample = buttonField(index, "urlSample", S.url_sample, { "data-part": `samples.${part}` });
      const [label, select] = prefillSelect(`prefill-button-${index}`, "{{1}}", button.prefill, (value) => { buttons[index].prefill = value; changed(); });
      sample.append(label, select);
      sample.dataset.urlSample = "1";
      sample.hidden = !button.url.includes("{{1}}");
      inputs.push(sample);
    }
    if (button.type === "PHONE_NUMBER") inputs.push(buttonField(index, "phone", S.phone_number, { type: "tel", placeholder: "+15550001111", inputmode: "tel" }));
    if (button.type === "COPY_CODE") inputs.push(buttonField(index, "code", S.copy_code, { "data-part": `samples.${part}`, maxlength: "40", placeholder: "SAVE20" }));
    const tool = (action, label, icon, disabled) => el("button", {
      type: "button", class: "icon-btn", "data-button-action": action, "data-index": String(index),
      "aria-label": `${label} · ${BUTTON_LABELS[button.type]()} ${index + 1}`, title: label, disabled,
    }, iconNode(icon));
    return el("li", { class: `tpl-button-row tpl-button-${button.type.toLowerCase()}`, "data-index": String(index) },
      el("span", { class: "tpl-button-kind", text: `${index + 1}. ${BUTTON_LABELS[button.type]()}` }),
      el("div", { class: "tpl-button-fields" }, inputs),
      el("div", { class: "tpl-button-tools" },
        tool("up", S.move_up, "up", index === 0),
        tool("down", S.move_down, "down", index === buttons.length - 1),
        tool("remove", S.remove, "x", false)));
  }));
  if (focus) {
    const target = focus.action
      ? list.querySelector(`[data-button-action="${focus.action}"][data-index="${focus.index}"]:not([disabled])`)
      : null;
    (target || list.querySelector(`li[data-index="${focus.index}"] input`) || list.querySelector("input"))?.focus();
  }
}

const ICON_PATHS = {
  up: "M18 15 12 9 6 15",
  down: "M6 9 12 15 18 9",
  x: "M18 6 6 18M6 6l12 12",
  reply: "M9 14 4 9l5-5M20 20v-7a4 4 0 0 0-4-4H4",
  external: "M18 13v6a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2h6M15 3h6v6M10 14 21 3",
  phone: "M22 16.9v3a2 2 0 0 1-2.2 2 19.8 19.8 0 0 1-8.6-3.1 19.5 19.5 0 0 1-6-6A19.8 19.8 0 0 1 2.1 4.2 2 2 0 0 1 4.1 2h3a2 2 0 0 1 2 1.7c.1.9.4 1.8.7 2.7a2 2 0 0 1-.5 2.1L8 9.8a16 16 0 0 0 6 6l1.3-1.3a2 2 0 0 1 2.1-.4c.9.3 1.8.6 2.7.7a2 2 0 0 1 1.7 2z",
  copy: "M9 9h10a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2h-8a2 2 0 0 1-2-2zM5 15H4a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h9a2 2 0 0 1 2 2v1",
  image: "M5 3h14a2 2 0 0 1 2 2v14a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zM21 15l-5-5L5 21",
  video: "M4 6h10a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2zM22 8l-6 4 6 4z",
  file: "M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8zM14 2v6h6",
};

function iconNode(name) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", `icon icon-${name}`);
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", ICON_PATHS[name] || ICON_PATHS.file);
  svg.append(path);
  return svg;
}

// --- The preview -----------------------------------------------------------------------------------------

const FORMATS = [
  [/```([^`\n][^`]*?)```/, "code"],
  [/(?<![\w*])\*([^*\n]+)\*(?![\w*])/, "strong"],
  [/(?<![\w_])_([^_\n]+)_(?![\w_])/, "em"],
  [/(?<![\w~])~([^~\n]+)~(?![\w~])/, "s"],
];

/** WhatsApp's *bold*, _italic_, ~strike~ and ```mono``` as elements around text nodes. */
function formatted(text) {
  let best = null;
  for (const [pattern, tag] of FORMATS) {
    const match = pattern.exec(text);
    if (match && (best === null || match.index < best.match.index)) best = { match, tag };
  }
  if (!best) return [document.createTextNode(text)];
  const { match, tag } = best;
  return [
    document.createTextNode(text.slice(0, match.index)),
    el(tag, {}, formatted(match[1])),
    ...formatted(text.slice(match.index + match[0].length)),
  ];
}

/** A text with its variables replaced by their examples; a variable without one shows as {{1}}, marked. */
function filled(text, kind) {
  const nodes = [];
  let last = 0;
  let plain = "";
  for (const match of text.matchAll(TOKEN)) {
    const name = match[1];
    const example = isVariable(name) ? examples[kind][name] : "";
    plain += text.slice(last, match.index);
    if (example) {
      plain += example;
    } else {
      nodes.push(...formatted(plain), el("span", { class: "wa-variable", text: match[0] }));
      plain = "";
    }
    last = match.index + match[0].length;
  }
  plain += text.slice(last);
  nodes.push(...formatted(plain));
  return nodes;
}

function previewButtons() {
  if (category() === "AUTHENTICATION") {
    return [{ icon: "copy", text: otpType() === "ONE_TAP" ? S.otp_autofill : S.otp_copy }];
  }
  const icons = { QUICK_REPLY: "reply", URL: "external", PHONE_NUMBER: "phone", COPY_CODE: "copy" };
  return buttons.map((b) => ({ icon: icons[b.type], text: b.type === "COPY_CODE" ? S.copy_code_text : b.text || "…" }));
}

function drawPreview() {
  const stage = document.getElementById("live-preview");
  if (!stage) return;
  const bubble = el("div", { class: "wa-bubble" });
  if (category() === "AUTHENTICATION") {
    let text = fmt(S.auth_body, { code: "123456" });
    if (fields.security.checked) text += ` ${S.auth_security}`;
    bubble.append(el("p", { class: "wa-body", dir: "auto" }, formatted(text)));
    const minutes = fields.expiry.value.trim();
    if (minutes) bubble.append(el("p", { class: "wa-footer", dir: "auto", text: fmt(S.auth_footer, { minutes }) }));
  } else {
    const headerFormat = fields.headerFormat.value;
    if (headerFormat === "TEXT" && fields.headerText.value.trim()) {
      bubble.append(el("p", { class: "wa-header", dir: "auto" }, filled(fields.headerText.value, "header")));
    } else if (["IMAGE", "VIDEO", "DOCUMENT"].includes(headerFormat)) {
      const label = { IMAGE: S.media_image, VIDEO: S.media_video, DOCUMENT: S.media_document }[headerFormat];
      bubble.append(el("div", { class: `wa-media wa-media-${headerFormat.toLowerCase()}` },
        iconNode({ IMAGE: "image", VIDEO: "video", DOCUMENT: "file" }[headerFormat]), el("span", { text: label })));
    }
    const body = fields.body.value;
    bubble.append(body.trim()
      ? el("p", { class: "wa-body", dir: "auto" }, filled(body, "body"))
      : el("p", { class: "wa-body" }, el("span", { class: "muted", text: S.empty_body })));
    if (fields.footer.value.trim()) bubble.append(el("p", { class: "wa-footer", dir: "auto", text: fields.footer.value }));
  }
  bubble.append(el("span", { class: "wa-time", "aria-hidden": "true", text: S.now }));
  const message = el("div", { class: "wa-message" }, bubble);
  const shown = previewButtons();
  if (shown.length) {
    message.append(el("ul", { class: "wa-buttons" },
      shown.map((b) => el("li", { class: "wa-button" }, iconNode(b.icon), el("span", { dir: "auto", text: b.text })))));
  }
  stage.replaceChildren(message);
}

// --- Keeping everything in step --------------------------------------------------------------------------

function counters() {
  for (const counter of form.querySelectorAll("[data-counter-for]")) {
    const input = document.getElementById(counter.dataset.counterFor);
    const max = Number(counter.dataset.max);
    counter.textContent = `${input.value.length}/${max}`;
    counter.classList.toggle("is-over", input.value.length > max);
  }
}

function layout() {
  const auth = category() === "AUTHENTICATION";
  for (const section of form.querySelectorAll("[data-standard]")) section.hidden = auth;
  for (const section of form.querySelectorAll("[data-auth]")) section.hidden = !auth;
  const headerFormat = fields.headerFormat.value;
  $("[data-header-text]").hidden = headerFormat !== "TEXT";
  $("[data-header-media]").hidden = headerFormat === "NONE" || headerFormat === "TEXT";
  $("[data-one-tap]").hidden = otpType() !== "ONE_TAP";
}

function sync() {
  layout();
  drawVariables("header");
  drawVariables("body");
  counters();
  const { components, variableFields } = compose();
  fields.components.value = JSON.stringify(components);
  fields.variableFields.value = JSON.stringify(variableFields);
  drawPreview();
}

let lastSent = null;

/** After any change: the hidden JSON, the variable fields and the preview at once; lint after a pause. */
function changed() {
  sync();
  const snapshot = new URLSearchParams(new FormData(form)).toString();
  if (snapshot === lastSent) return;
  lastSent = snapshot;
  form.dispatchEvent(new CustomEvent("template-changed", { bubbles: true }));
}

/** Focus the field a lint finding names ("buttons.2", "samples.body.1"), else the closest part of it. */
function focusPart(part) {
  const candidates = [];
  for (let pieces = part.split("."); pieces.length; pieces = pieces.slice(0, -1)) candidates.push(pieces.join("."));
  if (part.startsWith("samples.")) candidates.push(part.split(".")[1]);
  if (["template", "components"].includes(part)) candidates.push("body");
  for (const candidate of candidates) {
    for (const target of form.querySelectorAll(`[data-part="${CSS.escape(candidate)}"]`)) {
      if (target.closest("[hidden]")) continue;
      const control = target.matches("input, select, textarea, button")
        ? target
        : target.querySelector("input:not([type=hidden]), select, textarea, button");
      if (!control) continue;
      control.scrollIntoView({ block: "center", behavior: "smooth" });
      control.focus({ preventScroll: true });
      const highlighted = control.closest(".tpl-field, .tpl-variable, .tpl-button-row, fieldset, label") || control;
      highlighted.classList.remove("is-pointed");
      void highlighted.offsetWidth;
      highlighted.classList.add("is-pointed");
      return;
    }
  }
}

function init() {
  load();
  drawButtons();
  sync();
  lastSent = new URLSearchParams(new FormData(form)).toString();
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", () => sync());
  form.addEventListener("click", (event) => {
    const add = event.target.closest("[data-add-button]");
    if (add) {
      buttons.push({ type: add.dataset.addButton, text: "", url: "", urlSample: "", phone: "", code: "", prefill: "" });
      drawButtons({ index: buttons.length - 1 });
      changed();
      return;
    }
    const tool = event.target.closest("[data-button-action]");
    if (!tool) return;
    const index = Number(tool.dataset.index);
    const action = tool.dataset.buttonAction;
    if (action === "remove") {
      buttons.splice(index, 1);
      drawButtons({ index: Math.min(index, buttons.length - 1) });
      if (!buttons.length) form.querySelector("[data-add-button]").focus();
    } else {
      const to = action === "up" ? index - 1 : index + 1;
      if (to < 0 || to >= buttons.length) return;
      [buttons[index], buttons[to]] = [buttons[to], buttons[index]];
      drawButtons({ index: to, action });
    }
    changed();
  });
  document.addEventListener("click", (event) => {
    const finding = event.target.closest("#lint-findings [data-part]");
    if (finding) focusPart(finding.dataset.part);
  });
}

if (form) init();
