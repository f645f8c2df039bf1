// Switchboard inbox: the live socket, the composer, keyboard shortcuts and local times.
// Server-rendered HTML stays the source of truth: live events only say *what* changed, and this module
// fetches the re-rendered row or bubble (access-checked on the server) and puts it in place.
// Customer text never goes through innerHTML here: optimistic bubbles and chips use textContent.
// The template picker (its dialog, form and preview) lives in template_picker.js.

import { openPicker } from "./template_picker.js";

const app = document.getElementById("app");
const S = JSON.parse(document.getElementById("inbox-strings").textContent);
const SEQ_KEY = "switchboard.lastSeq";

const fmt = (template, values) => template.replace(/%\((\w+)\)s/g, (_, key) => String(values[key] ?? ""));
const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];
const urlFor = (name, id) => app.dataset[name].replace(/\/0\//, `/${id}/`);
const csrfToken = () => JSON.parse(app.getAttribute("hx-headers"))["X-CSRFToken"];

// ---------------------------------------------------------------------------------------------- helpers

async function partial(url, options = {}) {
  const response = await fetch(url, {
    credentials: "same-origin",
    ...options,
    headers: { "X-Requested-With": "fetch", "X-CSRFToken": csrfToken(), ...(options.headers || {}) },
  });
  if (response.status === 401) {
    signedOut();
    return null;
  }
  return response;
}

function fragment(html) {
  const template = document.createElement("template");
  template.innerHTML = html.trim();
  return template.content;
}

function toast(message, { error = false, timeout = 6000 } = {}) {
  const box = document.createElement("div");
  box.className = `toast${error ? " is-error" : ""}`;
  const text = document.createElement("span");
  text.textContent = message;
  const close = document.createElement("button");
  close.type = "button";
  close.textContent = S.dismiss;
  close.addEventListener("click", () => box.remove());
  box.append(text, close);
  $("#toasts").append(box);
  if (timeout) setTimeout(() => box.remove(), timeout);
}

function openConversationId() {
  const thread = $("#thread");
  return thread ? Number(thread.dataset.conversationId) : null;
}

// ------------------------------------------------------------------------------------------------ times

const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });
const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const weekday = new Intl.DateTimeFormat(undefined, { weekday: "short" });
const dayMonth = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });
const longDay = new Intl.DateTimeFormat(undefined, { dateStyle: "long" });

function relative(date) {
  const seconds = (Date.now() - date.getTime()) / 1000;
  if (seconds < 60) return S.now;
  if (seconds < 3600) return fmt(S.minutes, { count: Math.floor(seconds / 60) });
  if (seconds < 86400) return fmt(S.hours, { count: Math.floor(seconds / 3600) });
  if (seconds < 6 * 86400) return weekday.format(date);
  return dayMonth.format(date);
}

function countdown(until) {
  const minutes = Math.max(0, Math.floor((until.getTime() - Date.now()) / 60000));
  const hours = Math.floor(minutes / 60);
  return hours ? fmt(S.countdown_hm, { hours, minutes: minutes % 60 }) : fmt(S.countdown_m, { minutes });
}

function localDayKey(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function dayLabel(date) {
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (localDayKey(date) === localDayKey(today)) return S.today;
  if (localDayKey(date) === localDayKey(yesterday)) return S.yesterday;
  return longDay.format(date);
}

// Render times in the viewer's time zone (the server renders them in the site's).
function refreshTimes(root = document) {
  for (const el of $$("time[data-relative]", root)) {
    const date = new Date(el.getAttribute("datetime"));
    if (Number.isNaN(date.getTime())) continue;
    el.textContent = relative(date);
    el.title = absolute.format(date);
  }
  for (const el of $$("time[data-clock]", root)) {
    const date = new Date(el.getAttribute("datetime"));
    if (Number.isNaN(date.getTime())) continue;
    el.textContent = clock.format(date);
    el.title = absolute.format(date);
  }
  for (const el of $$("[data-closes-at]", root)) {
    if (!el.dataset.closesAt) continue;
    const until = new Date(el.dataset.closesAt);
    const target = $("[data-countdown]", el);
    if (target) target.textContent = countdown(until);
    if (el.classList.contains("window-countdown")) {
      const closingMs = Number(el.dataset.closingMs) || 2 * 3600 * 1000;
      el.classList.toggle("is-closing", until.getTime() - Date.now() < closingMs);
    }
    if (until.getTime() <= Date.now()) windowClosed(el);
  }
}

// A countdown reached zero: the row shows "Template only", the composer its reason. Ask the server.
function windowClosed(el) {
  if (el.dataset.expired) return;
  el.dataset.expired = "1";
  const row = el.closest(".conv-row");
  if (row) refreshRow(Number(row.dataset.conversationId));
  const composer = el.closest("#composer") || (el.id === "composer" ? el : null);
  if (composer && !composer.classList.contains("is-closed")) refreshComposer(Number(composer.dataset.conversationId));
}

// Day separators: one before the first message of each local day, none repeated (after older pages
// load above, or live messages arrive).
function normalizeDays(list = $("#messages")) {
  if (!list) return;
  let currentDay = null;
  for (const item of [...list.children]) {
    if (item.classList.contains("day-sep")) {
      item.remove();
      continue;
    }
    if (!item.dataset.ts) continue;
    const date = new Date(Number(item.dataset.ts));
    const key = localDayKey(date);
    if (key !== currentDay) {
      currentDay = key;
      const sep = document.createElement("li");
      sep.className = "day-sep";
      sep.dataset.day = key;
      const span = document.createElement("span");
      const time = document.createElement("time");
      time.dateTime = key;
      time.textContent = dayLabel(date);
      span.append(time);
      sep.append(span);
      item.before(sep);
    }
  }
}

// ---------------------------------------------------------------------------------------- thread + list

function scroller() {
  return $("#messages-scroll");
}

function nearBottom() {
  const el = scroller();
  return !el || el.scrollHeight - el.scrollTop - el.clientHeight < 120;
}

function scrollToBottom() {
  const el = scroller();
  if (el) el.scrollTop = el.scrollHeight;
}

function messageKey(el) {
  return [Number(el.dataset.ts || 0), Number(el.dataset.messageId || 0)];
}

function before(a, b) {
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}

// Insert or replace bubbles (deduplicated by message id, ordered by provider time then id).
function upsertBubbles(html, { replacing = null } = {}) {
  const list = $("#messages");
  if (!list) return;
  const stick = nearBottom();
  const nodes = [...fragment(html).children].filter((el) => el.matches("li[data-message-id]"));
  for (const node of nodes) {
    const existing = document.getElementById(node.id);
    if (existing) {
      existing.replaceWith(node);
    } else {
      $(".empty-messages", list)?.remove();
      const key = messageKey(node);
      const settled = $$(":scope > li[data-message-id]", list).filter((el) => !el.dataset.optimistic);
      let after = null;
      for (let i = settled.length - 1; i >= 0; i--) {
        if (!before(key, messageKey(settled[i]))) {
          after = settled[i];
          break;
        }
      }
      if (after) after.after(node);
      else if ($(".load-older", list)) continue; // older than everything loaded: it comes with its page
      else list.prepend(node);
      // Optimistic bubbles stay last until their answer arrives.
      for (const pending of $$(":scope > [data-optimistic]", list)) list.append(pending);
    }
    htmx.process(node);
    refreshTimes(node);
  }
  replacing?.remove();
  normalizeDays(list);
  if (stick) scrollToBottom();
}

async function refreshBubble(messageId) {
  const response = await partial(urlFor("bubbleUrl", messageId)).catch(() => null);
  if (response?.ok) upsertBubbles(await response.text());
}

function markOpenRow() {
  const openId = openConversationId();
  for (const row of $$(".conv-row")) {
    const isOpen = Number(row.dataset.conversationId) === openId;
    row.classList.toggle("is-open", isOpen);
    const link = $(".conv-link", row);
    if (isOpen) link.setAttribute("aria-current", "true");
    else link.removeAttribute("aria-current");
  }
}

const rowTimers = new Map();

// Coalesce bursts (a message and its conversation update arrive together) into one fetch per row.
function refreshRow(conversationId) {
  clearTimeout(rowTimers.get(conversationId));
  rowTimers.set(
    conversationId,
    setTimeout(() => {
      rowTimers.delete(conversationId);
      fetchRow(conversationId);
    }, 80),
  );
}

// The list's tab, filter chips (#list-filters, workflow.js) and search, as the rows endpoint reads them.
function listQuery() {
  const params = new URLSearchParams(new FormData($("#list-filters")));
  params.set("q", $("#search").value);
  return params.toString();
}

async function fetchRow(conversationId) {
  const list = $("#conversation-list");
  const response = await partial(`${urlFor("rowUrl", conversationId)}?${listQuery()}`).catch(() => null);
  if (response?.status === 204) {
    // No longer in this list as filtered (taken, resolved, snoozed...): it leaves.
    document.getElementById(`conv-row-${conversationId}`)?.remove();
    return;
  }
  if (!response?.ok) return;
  const node = fragment(await response.text()).firstElementChild;
  const existing = document.getElementById(node.id);
  const searching = $("#search").value.trim() !== "";
  if (!existing && searching) return; // a search shows only what matched it
  existing?.remove();
  $(".empty-list", list)?.remove();
  const key = [Number(node.dataset.activity), Number(node.dataset.conversationId)];
  const rows = $$(".conv-row", list);
  const next = rows.find((row) => before([Number(row.dataset.activity), Number(row.dataset.conversationId)], key));
  if (next) next.before(node);
  else if ($(".load-more", list)) return; // older than everything loaded: it arrives with its page
  else list.append(node);
  htmx.process(node);
  refreshTimes(node);
  markOpenRow();
}

async function refreshComposer(conversationId) {
  const current = $("#composer");
  if (!current || Number(current.dataset.conversationId) !== conversationId) return;
  const response = await partial(urlFor("composerUrl", conversationId)).catch(() => null);
  if (!response?.ok) return;
  const typed = $("#composer-body")?.value || "";
  const node = fragment(await response.text()).firstElementChild;
  current.replaceWith(node);
  if (typed && $("#composer-body")) $("#composer-body").value = typed;
  htmx.process(node);
  refreshTimes(node);
}

let readTimer = null;
function markReadSoon(conversationId) {
  if (document.visibilityState !== "visible") {
    pendingRead = conversationId;
    return;
  }
  clearTimeout(readTimer);
  readTimer = setTimeout(() => {
    if (openConversationId() === conversationId) {
      partial(urlFor("readUrl", conversationId), { method: "POST" }).catch(() => null);
    }
  }, 500);
}
let pendingRead = null;
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && pendingRead && pendingRead === openConversationId()) {
    markReadSoon(pendingRead);
    pendingRead = null;
  }
});

// ------------------------------------------------------------------------------------------ live events

function applyEvent(event) {
  document.dispatchEvent(new CustomEvent("switchboard:event", { detail: event })); // together.js: counts
  const openId = openConversationId();
  const data = event.data || {};
  const conversationId = event.conversation_id ?? data.conversation_id;
  switch (event.type) {
    case "message.created":
      if (conversationId === openId) {
        refreshBubble(data.message_id);
        if (data.direction === "inbound") markReadSoon(openId);
      }
      break;
    case "message.updated":
      if (conversationId === openId) refreshBubble(data.message_id);
      break;
    case "conversation.updated": {
      refreshRow(conversationId);
      const composer = $("#composer");
      if (conversationId === openId && composer) {
        if (!("service_window_closes_at" in data)) break;
        const closesAt = data.service_window_closes_at || "";
        const known = composer.dataset.closesAt ? new Date(composer.dataset.closesAt).getTime() : 0;
        const incoming = closesAt ? new Date(closesAt).getTime() : 0;
        if (known !== incoming) refreshComposer(openId);
      }
      break;
    }
    default:
      break;
  }
}

class Live {
  constructor() {
    const stored = Number(sessionStorage.getItem(SEQ_KEY) || 0);
    const rendered = Number(app.dataset.lastSeq || 0);
    // The page reflects everything up to the sequence it was rendered at; a page restored from the
    // back/forward cache may carry an older one than this tab already saw.
    this.lastSeq = rendered || stored;
    this.seen = new Set();
    this.attempt = 0;
    this.stopped = false;
    this.connect();
  }

  remember(seq) {
    if (seq > this.lastSeq) {
      this.lastSeq = seq;
      sessionStorage.setItem(SEQ_KEY, String(seq));
    }
  }

  status(state, text) {
    const el = $("#live-status");
    el.dataset.state = state;
    el.title = text;
    $("#live-status-text").textContent = text;
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    this.socket = new WebSocket(`${scheme}://${location.host}/ws/`);
    this.socket.addEventListener("open", () => {
      this.attempt = 0;
      this.status("live", S.live);
      $("#live-banner").hidden = true;
      this.send({ type: "resume", after: this.lastSeq });
      document.dispatchEvent(new CustomEvent("switchboard:live-open")); // together.js: say "viewing" again
      clearInterval(this.pinger);
      this.pinger = setInterval(() => this.send({ type: "ping" }), 25000);
    });
    this.socket.addEventListener("message", (message) => this.receive(JSON.parse(message.data)));
    this.socket.addEventListener("close", (event) => {
      clearInterval(this.pinger);
      if (event.code === 4401) {
        signedOut();
        return;
      }
      if (this.stopped) return;
      this.status("reconnecting", S.reconnecting);
      if (this.attempt > 1) {
        const banner = $("#live-banner");
        banner.textContent = S.reconnecting;
        banner.hidden = false;
      }
      // Exponential backoff with jitter, capped at 30 s.
      const delay = Math.min(30000, 1000 * 2 ** this.attempt) * (0.5 + Math.random() / 2);
      this.attempt += 1;
      setTimeout(() => this.connect(), delay);
    });
  }

  send(message) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  receive(message) {
    if (message.type === "pong") return;
    if (message.type === "access.changed") {
      // Someone changed what this person may see (teams, channels, a conversation moved): show what is true now.
      reloadPanes();
      return;
    }
    if (message.type === "resync") {
      this.remember(message.seq);
      reloadPanes();
      toast(S.resynced);
      return;
    }
    if (typeof message.seq !== "number") {
      // Not a stored event: presence and personal notifications, handled by together.js.
      document.dispatchEvent(new CustomEvent("switchboard:push", { detail: message }));
      return;
    }
    if (this.seen.has(message.seq)) return;
    this.seen.add(message.seq);
    if (this.seen.size > 2000) this.seen = new Set([...this.seen].slice(-1000));
    this.remember(message.seq);
    applyEvent(message);
  }
}

function reloadPanes() {
  htmx.ajax("GET", `${app.dataset.rowsUrl}?${listQuery()}`, { target: "#conversation-list", swap: "innerHTML" });
  const openId = openConversationId();
  if (openId) htmx.ajax("GET", `/conversations/${openId}/`, { target: "#thread-pane", swap: "innerHTML" });
}

let live = null;
function signedOut() {
  if (live) live.stopped = true;
  live?.status("offline", S.signed_out);
  const banner = $("#live-banner");
  banner.textContent = `${S.signed_out} `;
  const link = document.createElement("a");
  link.href = `${app.dataset.loginUrl}?next=${encodeURIComponent(location.pathname)}`;
  link.textContent = S.log_in;
  banner.append(link);
  banner.hidden = false;
}

// ---------------------------------------------------------------------------------------------- composer

// WhatsApp's media rules, as the server checks them (sent with the page).
function mediaKind(type) {
  for (const [kind, rule] of Object.entries(S.media)) if (rule.mimes.includes(type)) return kind;
  return null;
}

function composerError(text) {
  const el = $("#composer .composer-error");
  if (!el) return toast(text, { error: true });
  el.textContent = text;
  el.hidden = !text;
}

function autosize(textarea) {
  textarea.style.height = "auto";
  textarea.style.height = `${Math.min(textarea.scrollHeight + 2, 200)}px`;
}

function clearReply(form) {
  const chip = $(".reply-chip", form);
  if (!chip) return;
  chip.hidden = true;
  $("input[name=reply_to]", form).value = "";
  $(".reply-chip-text", chip).textContent = "";
}

function clearAttachment(form) {
  const input = $(".file-input", form);
  if (input) input.value = "";
  const chip = $(".attachment-chip", form);
  if (chip) chip.hidden = true;
}

function checkAttachment(input) {
  const form = input.form;
  const file = input.files[0];
  composerError("");
  if (!file) return clearAttachment(form);
  const kind = mediaKind(file.type);
  if (!kind) {
    composerError(S.type_not_allowed);
    clearAttachment(form);
    return;
  }
  const limit = S.media[kind].max_bytes;
  if (file.size > limit) {
    const megabytes = limit >= 1024 * 1024 ? limit / 1024 / 1024 : (limit / 1024 / 1024).toFixed(1);
    composerError(fmt(S.too_large, { name: file.name, kind: S[`kind_${kind}`], limit: megabytes }));
    clearAttachment(form);
    return;
  }
  const chip = $(".attachment-chip", form);
  $(".attachment-name", chip).textContent = file.name;
  $(".attachment-size", chip).textContent = `${(file.size / 1024 / 1024).toFixed(1)} MB`;
  chip.hidden = false;
}

let optimisticCounter = 0;

function optimisticBubble(text) {
  const node = $("#tpl-optimistic").content.firstElementChild.cloneNode(true);
  optimisticCounter += 1;
  node.id = `optimistic-${optimisticCounter}`;
  node.dataset.optimistic = "1";
  node.dataset.ts = String(Date.now());
  $(".text", node).textContent = text;
  return node;
}

function refuse(node, detail, body) {
  node.classList.remove("is-sending");
  node.classList.add("is-refused");
  $(".meta", node).remove();
  const box = document.createElement("div");
  box.className = "failure";
  box.setAttribute("role", "alert");
  const p = document.createElement("p");
  const strong = document.createElement("strong");
  strong.textContent = `${S.not_sent} `;
  p.append(strong, document.createTextNode(detail));
  const dismiss = document.createElement("button");
  dismiss.type = "button";
  dismiss.className = "btn btn-small";
  dismiss.textContent = S.dismiss;
  dismiss.addEventListener("click", () => node.remove());
  box.append(p, dismiss);
  node.append(box);
  const textarea = $("#composer-body");
  if (textarea && !textarea.value && body) {
    textarea.value = body; // never lose what the person wrote
    autosize(textarea);
  }
}

async function send(form) {
  const textarea = $("#composer-body", form);
  const body = textarea.value.trim();
  const file = $(".file-input", form)?.files[0];
  if (!body && !file) return;
  const data = new FormData(form);
  const list = $("#messages");
  const node = optimisticBubble(file ? `📎 ${file.name}${body ? `\n${body}` : ""}` : body);
  $(".empty-messages", list)?.remove();
  list.append(node);
  normalizeDays(list);
  scrollToBottom();
  textarea.value = "";
  autosize(textarea);
  clearReply(form);
  clearAttachment(form);
  composerError("");
  let response;
  try {
    response = await partial(form.action, { method: "POST", body: data });
  } catch {
    return refuse(node, S.send_failed, body);
  }
  if (!response) return refuse(node, S.signed_out, body);
  if (response.ok) {
    upsertBubbles(await response.text(), { replacing: node });
    return;
  }
  let refusal = { detail: S.send_failed };
  try {
    refusal = await response.json();
  } catch {
    /* not JSON: keep the generic sentence */
  }
  refuse(node, refusal.detail || S.send_failed, body);
  document.dispatchEvent(new CustomEvent("switchboard:refused", { detail: refusal })); // together.js: soft claim
  if (refusal.composer) {
    const typed = textarea.value;
    const fresh = fragment(refusal.composer).firstElementChild;
    form.replaceWith(fresh);
    htmx.process(fresh);
    refreshTimes(fresh);
    if ($("#composer-body")) $("#composer-body").value = typed;
  }
}

// A template went out from the picker: its bubble (queued, the clock) joins the thread like a reply's.
document.addEventListener("switchboard:template-sent", (event) => {
  upsertBubbles(event.detail.html);
  scrollToBottom();
});

document.addEventListener("submit", (event) => {
  if (event.target.id !== "composer") return;
  event.preventDefault();
  send(event.target);
});

document.addEventListener("input", (event) => {
  if (event.target.id === "composer-body") autosize(event.target);
});

document.addEventListener("change", (event) => {
  if (event.target.classList.contains("file-input")) checkAttachment(event.target);
});

function insertAtCursor(textarea, text) {
  const start = textarea.selectionStart ?? textarea.value.length;
  const end = textarea.selectionEnd ?? textarea.value.length;
  textarea.value = textarea.value.slice(0, start) + text + textarea.value.slice(end);
  textarea.selectionStart = textarea.selectionEnd = start + text.length;
  textarea.focus();
  autosize(textarea);
}

function toggleEmoji(force) {
  const picker = $("#emoji-picker");
  if (!picker) return;
  const open = force ?? picker.hidden;
  picker.hidden = !open;
  $("[data-action=emoji]")?.setAttribute("aria-expanded", String(open));
  if (open) $(".emoji", picker)?.focus();
}

document.addEventListener("click", (event) => {
  const menu = $(".user-menu[open]");
  if (menu && !menu.contains(event.target)) menu.removeAttribute("open");
  const target = event.target.closest("[data-action], .emoji, .tab, .back-btn");
  if (!target) {
    if (!event.target.closest("#emoji-picker")) toggleEmoji(false);
    return;
  }
  if (target.classList.contains("emoji")) {
    insertAtCursor($("#composer-body"), target.dataset.emoji);
    toggleEmoji(false);
    return;
  }
  if (target.classList.contains("tab")) return selectTab(target);
  if (target.classList.contains("back-btn")) {
    event.preventDefault();
    document.body.classList.remove("has-thread");
    return;
  }
  switch (target.dataset.action) {
    case "emoji":
      toggleEmoji();
      break;
    case "reply": {
      const form = $("#composer");
      const chip = form && $(".reply-chip", form);
      if (!chip) break;
      $("input[name=reply_to]", form).value = target.dataset.replyTo;
      $(".reply-chip-text", chip).textContent = target.dataset.quote;
      chip.hidden = false;
      $("#composer-body").focus();
      break;
    }
    case "cancel-reply":
      clearReply(target.form);
      $("#composer-body")?.focus();
      break;
    case "remove-attachment":
      clearAttachment(target.form);
      break;
    case "shortcuts":
      $("#shortcuts").showModal();
      break;
    case "close-dialog":
      target.closest("dialog").close();
      break;
    default:
      break;
  }
});

// ---------------------------------------------------------------------------------------------- the list

function selectTab(tab) {
  for (const other of $$(".tab")) {
    const active = other === tab;
    other.classList.toggle("is-active", active);
    other.setAttribute("aria-selected", String(active));
  }
  $("#list-view").value = tab.dataset.view;
  htmx.ajax("GET", `${app.dataset.rowsUrl}?${listQuery()}`, {
    target: "#conversation-list",
    swap: "innerHTML",
  });
}

document.body.addEventListener("htmx:afterSwap", (event) => {
  if (event.detail.target.id === "thread-pane") {
    document.body.classList.add("has-thread");
    document.title = $("#thread")?.dataset.title || document.title;
    scrollToBottom();
  }
  // A swap may have added rows or messages anywhere: cheap enough to refresh the lot.
  normalizeDays();
  refreshTimes();
  markOpenRow();
});

// Older messages load above: keep the reader's place.
document.body.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.target.classList?.contains("load-older")) {
    const el = scroller();
    const fromBottom = el.scrollHeight - el.scrollTop;
    requestAnimationFrame(() => {
      normalizeDays();
      refreshTimes($("#messages"));
      el.scrollTop = el.scrollHeight - fromBottom;
    });
  }
});

document.body.addEventListener("htmx:responseError", async (event) => {
  const xhr = event.detail.xhr;
  let detail = "";
  try {
    detail = JSON.parse(xhr.responseText).detail || "";
  } catch {
    /* HTML or empty body */
  }
  if (xhr.status !== 401) toast(detail || `${xhr.status} ${xhr.statusText}`, { error: true });
});

// A photo, video or voice note WhatsApp no longer has (media ids expire): say so instead of a broken image.
document.addEventListener(
  "error",
  (event) => {
    const media = event.target;
    if (!(media instanceof HTMLElement) || !media.matches(".bubble img.media, .bubble video, .bubble audio")) return;
    const note = document.createElement("p");
    note.className = "media-missing";
    note.textContent = S.media_missing;
    (media.closest(".media-link") || media).replaceWith(note);
  },
  true,
);

// ---------------------------------------------------------------------------------------------- keyboard

function typingIn(el) {
  return el.closest("input, textarea, select, [contenteditable=true]");
}

function moveConversation(step) {
  const rows = $$(".conv-row .conv-link");
  if (!rows.length) return;
  const current = rows.findIndex((link) => link.closest(".conv-row").classList.contains("is-open"));
  const next = current === -1 ? 0 : Math.min(rows.length - 1, Math.max(0, current + step));
  if (next === current) return;
  rows[next].focus();
  rows[next].click();
}

document.addEventListener("keydown", (event) => {
  const target = event.target;
  if (target.id === "composer-body" && event.key === "Enter" && !event.isComposing) {
    if (!event.shiftKey || event.ctrlKey || event.metaKey) {
      event.preventDefault();
      target.form.requestSubmit();
    }
    return;
  }
  if (event.key === "Escape") {
    const picker = $("#emoji-picker");
    if (picker && !picker.hidden) {
      toggleEmoji(false);
      $("[data-action=emoji]")?.focus();
      return;
    }
    $(".user-menu[open]")?.removeAttribute("open");
    const chip = $("#composer .reply-chip");
    if (chip && !chip.hidden) return clearReply($("#composer"));
    if (typingIn(target)) target.blur();
    return;
  }
  if (typingIn(target) || event.ctrlKey || event.metaKey || event.altKey || $("dialog[open]")) return;
  switch (event.key) {
    case "j":
      moveConversation(1);
      break;
    case "k":
      moveConversation(-1);
      break;
    case "r":
      if ($("#composer-body")) {
        event.preventDefault();
        $("#composer-body").focus();
      }
      break;
    case "t": {
      const button = $("#composer [data-template-picker]");
      if (button) {
        event.preventDefault();
        openPicker(button);
      }
      break;
    }
    case "/":
      event.preventDefault();
      $("#search").focus();
      break;
    case "?":
      $("#shortcuts").showModal();
      break;
    default:
      break;
  }
});

// ------------------------------------------------------------------------------------------------ start

// Live pages go stale: back/forward loads the page afresh instead of restoring an old snapshot.
htmx.config.historyCacheSize = 0;
htmx.config.refreshOnHistoryMiss = true;
normalizeDays();
refreshTimes();
scrollToBottom();
setInterval(() => refreshTimes(), 30000);
live = new Live();
window.switchboardLive = live; // for browser tests and debugging
