// Switchboard, working together: the composer's Note tab and @mentions, the `/` canned-response picker, who
// is viewing or typing (and the soft claim before a double reply), the notifications bell with optional
// desktop alerts, the list tabs' unread counts, and "search everything".
// inbox.js owns the socket and the composer's sending; it tells this module what happens through DOM events
// (switchboard:push, switchboard:event, switchboard:live-open, switchboard:refused).
// Customer text and names only ever go through textContent here; HTML comes from the server, escaped there.

const S = JSON.parse(document.getElementById("together-strings")?.textContent || "{}");
const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];
const fmt = (template, values) => template.replace(/%\((\w+)\)s/g, (_, key) => String(values[key] ?? ""));

function csrfToken() {
  const holder = document.querySelector("[hx-headers]");
  try {
    return JSON.parse(holder.getAttribute("hx-headers"))["X-CSRFToken"];
  } catch {
    return "";
  }
}

async function request(url, { method = "GET", json = false } = {}) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: { "X-Requested-With": "fetch", "X-CSRFToken": csrfToken(), Accept: json ? "application/json" : "*/*" },
  });
  if (!response.ok) throw new Error(String(response.status));
  return response;
}

function live() {
  return window.switchboardLive || null;
}

function composer() {
  return $("#composer");
}

function openConversationId() {
  const thread = $("#thread");
  return thread ? Number(thread.dataset.conversationId) : null;
}

function typingIn(el) {
  return el.closest?.("input, textarea, select, [contenteditable=true]");
}

// ------------------------------------------------------------------------------------ Reply / Note tabs

let mode = "reply";
let modeConversation = null;

function setMode(next, { focus = false } = {}) {
  const form = composer();
  if (!form || !$(".composer-tabs", form)) return;
  mode = next;
  modeConversation = Number(form.dataset.conversationId);
  const note = next === "note";
  form.action = note ? form.dataset.noteUrl : form.dataset.sendUrl;
  form.classList.toggle("is-note", note);
  for (const tab of $$(".composer-tab", form)) {
    const active = tab.dataset.mode === next;
    tab.classList.toggle("is-active", active);
    tab.setAttribute("aria-selected", String(active));
  }
  const replyPane = $("[data-reply-pane]", form);
  const notePane = $("[data-note-pane]", form);
  if (replyPane && notePane) {
    replyPane.hidden = note;
    notePane.hidden = !note;
  }
  const textarea = $("#composer-body", form);
  if (textarea && !notePane) textarea.placeholder = note ? S.note_placeholder : S.reply_placeholder;
  const label = $(".send-label", form);
  if (label && !notePane) label.textContent = note ? S.add_note : S.send;
  closePicker();
  if (focus && textarea && !textarea.closest("[hidden]")) textarea.focus();
}

// A composer swapped in (another conversation, or refreshed): keep the mode for the same conversation.
function composerArrived() {
  const form = composer();
  if (!form || form.dataset.togetherReady) return;
  form.dataset.togetherReady = "1";
  const id = Number(form.dataset.conversationId);
  setMode(id === modeConversation ? mode : "reply");
  renderPresence();
}

// ------------------------------------------------------------------------------ pickers: `/` and `@`

const picker = { kind: null, items: [], active: 0, token: null, timer: null, seq: 0 };

function pickerBox() {
  return $("[data-picker]", composer() || document);
}

function closePicker() {
  const box = pickerBox();
  if (box) {
    box.hidden = true;
    box.replaceChildren();
  }
  picker.kind = null;
  picker.items = [];
}

// The `/word` or `@word` just before the caret, if any.
function tokenBeforeCaret(textarea) {
  const upto = textarea.value.slice(0, textarea.selectionStart ?? textarea.value.length);
  const canned = upto.match(/(^|\s)\/([\w-]*)$/);
  if (canned) return { kind: "canned", query: canned[2], start: upto.length - canned[2].length - 1 };
  const mention = upto.match(/(^|\s)@([\w.+-]*)$/);
  if (mention && mode === "note") return { kind: "mention", query: mention[2], start: upto.length - mention[2].length - 1 };
  return null;
}

function suggest(textarea) {
  const token = tokenBeforeCaret(textarea);
  if (!token) return closePicker();
  picker.token = token;
  clearTimeout(picker.timer);
  picker.timer = setTimeout(async () => {
    const form = composer();
    const base = token.kind === "canned" ? form.dataset.cannedUrl : form.dataset.mentionsUrl;
    const seq = ++picker.seq;
    let data;
    try {
      data = await (await request(`${base}?q=${encodeURIComponent(token.query)}`, { json: true })).json();
    } catch {
      return closePicker();
    }
    if (seq !== picker.seq) return; // a newer keystroke asked again
    showPicker(token.kind, data.results || []);
  }, 120);
}

function showPicker(kind, items) {
  const box = pickerBox();
  if (!box) return;
  picker.kind = kind;
  picker.items = items;
  picker.active = 0;
  box.replaceChildren();
  if (!items.length) {
    const empty = document.createElement("p");
    empty.className = "picker-empty muted";
    empty.textContent = kind === "canned" ? S.no_canned : S.no_people;
    box.append(empty);
  }
  items.forEach((item, index) => {
    const option = document.createElement("button");
    option.type = "button";
    option.className = "picker-option";
    option.setAttribute("role", "option");
    option.id = `picker-option-${index}`;
    option.dataset.index = String(index);
    const title = document.createElement("strong");
    const detail = document.createElement("span");
    detail.className = "muted";
    if (kind === "canned") {
      title.textContent = `/${item.shortcut}`;
      detail.textContent = `${item.shared ? `${S.shared} · ` : ""}${item.text.slice(0, 100)}`;
    } else {
      title.textContent = item.name;
      detail.textContent = `@${item.handle} · ${item.email}`;
    }
    option.append(title, " ", detail);
    box.append(option);
  });
  box.hidden = false;
  highlightOption();
}

function highlightOption() {
  const box = pickerBox();
  $$(".picker-option", box).forEach((option, index) => {
    const active = index === picker.active;
    option.classList.toggle("is-active", active);
    option.setAttribute("aria-selected", String(active));
    if (active) option.scrollIntoView({ block: "nearest" });
  });
  const textarea = $("#composer-body");
  if (textarea) textarea.setAttribute("aria-activedescendant", picker.items.length ? `picker-option-${picker.active}` : "");
}

function choose(index) {
  const item = picker.items[index];
  const textarea = $("#composer-body");
  if (!item || !textarea || !picker.token) return closePicker();
  const insert = picker.kind === "canned" ? item.text : `@${item.handle} `;
  const caret = textarea.selectionStart ?? textarea.value.length;
  textarea.value = textarea.value.slice(0, picker.token.start) + insert + textarea.value.slice(caret);
  const at = picker.token.start + insert.length;
  textarea.selectionStart = textarea.selectionEnd = at;
  textarea.focus();
  textarea.dispatchEvent(new Event("input", { bubbles: true })); // inbox.js resizes the box
  closePicker();
}

// ------------------------------------------------------------------------ presence and the soft claim

const TYPING_FRESH_MS = 6000;
const TYPING_SEND_MS = 3000;
const others = new Map(); // user id -> { name, typingAt }
let viewing = null;
let lastTypingSent = 0;
let forceNext = false;
let claimRefusedBy = "";

function say(message) {
  live()?.send(message);
}

function followThread() {
  const id = openConversationId();
  if (id === viewing) return;
  if (viewing) say({ type: "left", conversation_id: viewing });
  viewing = id;
  others.clear();
  forceNext = false;
  claimRefusedBy = "";
  if (id) say({ type: "viewing", conversation_id: id });
  renderPresence();
}

function replyingName() {
  const now = Date.now();
  for (const person of others.values()) if (person.typingAt && now - person.typingAt < TYPING_FRESH_MS) return person.name;
  return claimRefusedBy;
}

function presenceLine() {
  const header = $("#thread .thread-title");
  if (!header) return null;
  let line = $(".presence-line", header);
  if (!line) {
    line = document.createElement("p");
    line.className = "presence-line";
    line.setAttribute("aria-live", "polite");
    header.append(line);
  }
  return line;
}

function renderPresence() {
  const line = presenceLine();
  const now = Date.now();
  const typing = [];
  const watching = [];
  for (const person of others.values()) {
    if (person.typingAt && now - person.typingAt < TYPING_FRESH_MS) typing.push(person.name);
    else watching.push(person.name);
  }
  if (line) {
    const parts = [];
    if (typing.length) parts.push(fmt(S.typing, { names: typing.join(", ") }));
    if (watching.length) parts.push(fmt(S.viewing, { names: watching.join(", ") }));
    line.textContent = parts.join(" · ");
    line.classList.toggle("is-typing", typing.length > 0);
  }
  const warning = $("[data-claim-warning]", composer() || document);
  if (warning) {
    const name = replyingName();
    warning.hidden = !name || mode === "note";
    warning.replaceChildren();
    if (name) {
      const text = document.createElement("span");
      text.textContent = fmt(S.replying, { name });
      const anyway = document.createElement("button");
      anyway.type = "button";
      anyway.className = "btn btn-small";
      anyway.dataset.together = "send-anyway";
      anyway.textContent = S.send_anyway;
      warning.append(text, " ", anyway);
    }
  }
}

function presenceArrived(message) {
  if (message.conversation_id !== viewing) return;
  if (message.state === "left") others.delete(message.user_id);
  else {
    const person = others.get(message.user_id) || { name: message.name, typingAt: 0 };
    person.name = message.name;
    if (message.state === "typing") person.typingAt = Date.now();
    others.set(message.user_id, person);
  }
  renderPresence();
}

setInterval(renderPresence, 2000); // typing fades to viewing

function typed() {
  if (mode !== "reply" || !viewing) return;
  const now = Date.now();
  if (now - lastTypingSent < TYPING_SEND_MS) return;
  lastTypingSent = now;
  say({ type: "typing", conversation_id: viewing });
}

// Before a reply goes out while someone else is replying: ask once (the server asks too: `claim_check`).
document.addEventListener(
  "submit",
  (event) => {
    const form = event.target;
    if (form.id !== "composer" || mode === "note") return;
    const force = $("input[name=force]", form);
    if (!force) return;
    const name = replyingName();
    if (name && !forceNext) {
      if (!window.confirm(fmt(S.confirm_double, { name }))) {
        event.preventDefault();
        event.stopImmediatePropagation();
        return;
      }
      forceNext = true;
    }
    force.value = forceNext ? "1" : "";
    // inbox.js reads the form at once; the next reply is checked again.
    setTimeout(() => {
      force.value = "";
      forceNext = false;
      claimRefusedBy = "";
      renderPresence();
    }, 0);
  },
  true,
);

document.addEventListener("switchboard:refused", (event) => {
  const refusal = event.detail || {};
  if (refusal.code !== "someone_else_replying") return;
  claimRefusedBy = refusal.name || "…";
  renderPresence();
});

// --------------------------------------------------------------------------------------- notifications

const ALERTS_KEY = "switchboard.desktopAlerts";

function bell() {
  return $("[data-bell]");
}

function setBellCount(count) {
  for (const el of $$("[data-bell-count]")) {
    el.textContent = String(count);
    el.hidden = !count;
  }
  for (const el of $$("[data-bell-count-text]")) el.textContent = String(count);
}

async function loadPanel() {
  const box = bell();
  const panel = $("#notifications-panel");
  if (!box || !panel) return;
  try {
    const html = await (await request(box.dataset.panelUrl)).text();
    panel.innerHTML = html; // server-rendered, escaped there
  } catch {
    return;
  }
  const toggle = $("[data-together=desktop-alerts]", panel);
  if (toggle) toggle.checked = alertsOn();
}

function togglePanel(force) {
  const panel = $("#notifications-panel");
  const button = $("[data-together=bell]");
  if (!panel || !button) return;
  const open = force ?? panel.hidden;
  panel.hidden = !open;
  button.setAttribute("aria-expanded", String(open));
  if (open) loadPanel().then(() => $("a, button, input", panel)?.focus());
}

async function refreshCounts() {
  const box = bell();
  if (!box) return;
  let counts;
  try {
    counts = await (await request(box.dataset.countsUrl, { json: true })).json();
  } catch {
    return;
  }
  setBellCount(counts.notifications || 0);
  for (const el of $$("[data-tab-count]")) {
    const count = counts[el.dataset.tabCount] || 0;
    el.textContent = String(count);
    el.hidden = !count;
  }
}

let countsTimer = null;
function refreshCountsSoon() {
  clearTimeout(countsTimer);
  countsTimer = setTimeout(refreshCounts, 600);
}

function alertsOn() {
  return localStorage.getItem(ALERTS_KEY) === "1" && "Notification" in window && Notification.permission === "granted";
}

async function setAlerts(on, checkbox) {
  if (!on) {
    localStorage.removeItem(ALERTS_KEY);
    return;
  }
  if (!("Notification" in window)) {
    checkbox.checked = false;
    return;
  }
  const permission = Notification.permission === "default" ? await Notification.requestPermission() : Notification.permission;
  if (permission !== "granted") {
    checkbox.checked = false;
    localStorage.removeItem(ALERTS_KEY);
    window.alert(S.notifications_blocked);
    return;
  }
  localStorage.setItem(ALERTS_KEY, "1");
  beep();
}

// A short two-tone chime generated on the spot (no audio file to fetch).
let audio = null;
function beep() {
  try {
    audio = audio || new AudioContext();
    const now = audio.currentTime;
    [880, 1320].forEach((frequency, index) => {
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.type = "sine";
      oscillator.frequency.value = frequency;
      const start = now + index * 0.12;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.15, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.11);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(start);
      oscillator.stop(start + 0.12);
    });
  } catch {
    /* no audio: the visual notification is enough */
  }
}

function notificationArrived(data) {
  refreshCountsSoon();
  if (!$("#notifications-panel")?.hidden) loadPanel();
  if (!alertsOn()) return;
  const title = [data.kind_label, data.contact_name].filter(Boolean).join(" · ");
  const body = [data.actor_name, data.text].filter(Boolean).join(": ");
  try {
    const shown = new Notification(title, { body, tag: `switchboard-${data.id}` });
    shown.addEventListener("click", () => {
      window.focus();
      if (data.conversation_id) openConversation(`/conversations/${data.conversation_id}/`);
      shown.close();
    });
  } catch {
    /* some browsers only allow notifications from a service worker */
  }
  beep();
}

function openConversation(url) {
  if ($("#thread-pane") && window.htmx) {
    window.htmx.ajax("GET", url, { target: "#thread-pane", swap: "innerHTML" }).then(() => {
      history.pushState({}, "", url);
      refreshCountsSoon();
    });
  } else {
    window.location.href = url;
  }
}

async function markRead(id) {
  await request(`/api/v1/notifications/${id}/read/`, { method: "POST", json: true }).catch(() => null);
}

// ----------------------------------------------------------------------------------------------- events

document.addEventListener("switchboard:push", (event) => {
  const message = event.detail || {};
  if (message.type === "presence") presenceArrived(message);
  else if (message.type === "notification.created") notificationArrived(message.data || {});
});

document.addEventListener("switchboard:event", (event) => {
  const type = event.detail?.type || "";
  if (type.startsWith("conversation.")) refreshCountsSoon();
});

document.addEventListener("switchboard:live-open", () => {
  if (viewing) say({ type: "viewing", conversation_id: viewing });
  refreshCountsSoon();
});

document.addEventListener("input", (event) => {
  const target = event.target;
  if (target.id === "composer-body") {
    typed();
    suggest(target);
  } else if (target.id === "search") {
    const link = $("#search-everything");
    const q = target.value.trim();
    if (link) {
      link.hidden = !q;
      link.textContent = fmt(S.search_everything, { q });
      link.href = `${link.dataset.searchUrl}?q=${encodeURIComponent(q)}`;
    }
  }
});

document.addEventListener("change", (event) => {
  if (event.target.matches?.("[data-together=desktop-alerts]")) setAlerts(event.target.checked, event.target);
});

document.addEventListener("click", async (event) => {
  const target = event.target.closest("[data-together], .composer-tab, .picker-option, [data-confirm]");
  if (!target) {
    const panel = $("#notifications-panel");
    if (panel && !panel.hidden && !event.target.closest("[data-bell]")) togglePanel(false);
    return;
  }
  if (target.matches("[data-confirm]")) {
    if (!window.confirm(target.dataset.confirm)) event.preventDefault();
    return;
  }
  if (target.classList.contains("composer-tab")) return setMode(target.dataset.mode, { focus: true });
  if (target.classList.contains("picker-option")) return choose(Number(target.dataset.index));
  switch (target.dataset.together) {
    case "bell":
      togglePanel();
      break;
    case "read-all":
      await request("/api/v1/notifications/read-all/", { method: "POST", json: true }).catch(() => null);
      await loadPanel();
      refreshCounts();
      break;
    case "read-one": {
      const item = target.closest("[data-notification-id]");
      await markRead(item.dataset.notificationId);
      await loadPanel();
      refreshCounts();
      break;
    }
    case "open-notification": {
      event.preventDefault();
      const item = target.closest("[data-notification-id]");
      await markRead(item.dataset.notificationId);
      togglePanel(false);
      const href = target.getAttribute("href");
      if (href && href !== "#") openConversation(href);
      refreshCounts();
      break;
    }
    case "send-anyway": {
      forceNext = true;
      composer()?.requestSubmit();
      break;
    }
    default:
      break;
  }
});

// Capture phase: the picker's keys must not reach inbox.js (Enter would send).
document.addEventListener(
  "keydown",
  (event) => {
    const target = event.target;
    if (target.id === "composer-body" && picker.kind) {
      const count = picker.items.length;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!count) return;
        picker.active = (picker.active + (event.key === "ArrowDown" ? 1 : count - 1)) % count;
        highlightOption();
      } else if ((event.key === "Enter" || event.key === "Tab") && count && !event.shiftKey) {
        choose(picker.active);
      } else if (event.key === "Escape") {
        closePicker();
      } else {
        return;
      }
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    if (event.key === "Escape" && !$("#notifications-panel")?.hidden) {
      togglePanel(false);
      $("[data-together=bell]")?.focus();
      return;
    }
    if (typingIn(target) || event.ctrlKey || event.metaKey || event.altKey || $("dialog[open]")) return;
    if (event.key === "n" && $("#composer .composer-tabs")) {
      event.preventDefault();
      setMode("note", { focus: true });
    } else if (event.key === "r" && $("#composer .composer-tabs")) {
      setMode("reply"); // inbox.js focuses the box
      if ($("[data-reply-pane]")) event.preventDefault();
    } else if (event.key === "/" && !$("#search") && $("#search-q")) {
      event.preventDefault();
      $("#search-q").focus();
    }
  },
  true,
);

// Threads and composers arrive by htmx swaps and live refreshes: follow them.
new MutationObserver(() => {
  followThread();
  composerArrived();
}).observe(document.body, { childList: true, subtree: true });

window.addEventListener("pagehide", () => {
  if (viewing) say({ type: "left", conversation_id: viewing });
});

followThread();
composerArrived();
