// Switchboard workflow: the thread header's controls (htmx does the posting), keyboard shortcuts a/e/s/l/x,
// bulk actions on selected rows, saved views, and keeping the header current when colleagues change it.
// Nothing here renders customer text: the server renders every fragment; scripts only move them.

const app = document.getElementById("app");
const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];
const csrfToken = () => JSON.parse(app.getAttribute("hx-headers"))["X-CSRFToken"];
const header = () => $("#workflow-header");

function toast(message, { error = false } = {}) {
  const box = document.createElement("div");
  box.className = `toast${error ? " is-error" : ""}`;
  const text = document.createElement("span");
  text.textContent = message;
  box.append(text);
  $("#toasts").append(box);
  setTimeout(() => box.remove(), 6000);
}

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRFToken": csrfToken(), "X-Requested-With": "fetch" },
    body,
  });
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try {
      detail = (await response.json()).detail || detail;
    } catch {
      /* not JSON */
    }
    toast(detail, { error: true });
    return null;
  }
  return response;
}

function reloadList() {
  $("#list-filters")?.dispatchEvent(new Event("change", { bubbles: true }));
}

// ------------------------------------------------------------------------------------- live header refresh

let headerTimer = null;
function refreshHeader() {
  const current = header();
  if (!current) return;
  clearTimeout(headerTimer);
  headerTimer = setTimeout(() => {
    // Never replace the controls while someone is using them.
    if (current.contains(document.activeElement) && document.activeElement.tagName === "SELECT") return;
    const url = app.dataset.workflowUrl.replace(/\/0\//, `/${current.dataset.conversationId}/`);
    htmx.ajax("GET", url, { target: "#workflow-header", swap: "outerHTML" });
  }, 120);
}

// The tabs' counts follow live changes: one small request after a burst of updates settles.
let countsTimer = null;
function refreshCounts() {
  clearTimeout(countsTimer);
  countsTimer = setTimeout(async () => {
    const filters = $("#list-filters");
    if (!filters) return;
    const query = new URLSearchParams(new FormData(filters)).toString();
    const response = await fetch(`${app.dataset.countsUrl}?${query}`, {
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    }).catch(() => null);
    if (!response?.ok) return;
    const template = document.createElement("template");
    template.innerHTML = await response.text();
    for (const count of template.content.querySelectorAll(".view-count")) {
      const current = document.getElementById(count.id);
      if (current) current.textContent = count.textContent;
    }
  }, 1500);
}

document.addEventListener("switchboard:event", (event) => {
  const message = event.detail;
  if (message.type === "conversation.updated") refreshCounts();
  const current = header();
  const data = message.data || {};
  const conversationId = message.conversation_id ?? data.conversation_id;
  if (!current || Number(current.dataset.conversationId) !== conversationId) return;
  if (message.type === "conversation.updated") {
    const changed =
      ("status" in data && data.status !== current.dataset.status) ||
      ("assignee_id" in data && String(data.assignee_id ?? "") !== current.dataset.assigneeId) ||
      ("team_id" in data && String(data.team_id ?? "") !== current.dataset.teamId) ||
      ("priority" in data && data.priority !== current.dataset.priority);
    if (changed) refreshHeader();
  } else if (message.type === "message.created" && data.type === "activity") {
    refreshHeader(); // labels and anything else an activity line announces
  }
});

// ---------------------------------------------------------------------------------------------- keyboard

function typingIn(el) {
  return el.closest("input, textarea, select, [contenteditable=true]");
}

function openMenu(name) {
  const menu = $(`#workflow-header [data-wf=${name}]`);
  if (!menu || menu.closest("fieldset")?.disabled) return;
  menu.open = true;
  $("button, input", $(".wf-menu-body", menu))?.focus();
}

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    for (const menu of $$("#workflow-header details[open], #presence-menu[open]")) menu.open = false;
    return;
  }
  if (typingIn(event.target) || event.ctrlKey || event.metaKey || event.altKey || $("dialog[open]")) return;
  const click = (name) => {
    const button = $(`#workflow-header [data-wf=${name}]`);
    if (button && !button.closest("fieldset")?.disabled) {
      event.preventDefault();
      button.click();
    }
  };
  switch (event.key) {
    case "a":
      click("take");
      break;
    case "e":
      click("resolve");
      break;
    case "s":
      event.preventDefault();
      openMenu("snooze");
      break;
    case "l":
      event.preventDefault();
      openMenu("labels");
      break;
    case "x": {
      const row = document.activeElement?.closest(".conv-row") || $(".conv-row.is-open");
      const box = row && $(".row-select", row);
      if (box) {
        event.preventDefault();
        box.checked = !box.checked;
        selectionChanged();
      }
      break;
    }
    default:
      break;
  }
});

// A click outside an open workflow menu closes it.
document.addEventListener("click", (event) => {
  for (const menu of $$("#workflow-header details[open], #presence-menu[open]")) {
    if (!menu.contains(event.target)) menu.open = false;
  }
});

// ------------------------------------------------------------------------------------------ bulk actions

function selectedIds() {
  return $$(".row-select:checked").map((box) => box.value);
}

function selectionChanged() {
  const ids = selectedIds();
  const bar = $("#bulk-bar");
  if (!bar) return;
  bar.hidden = ids.length === 0;
  $("#conversation-list")?.classList.toggle("is-selecting", ids.length > 0);
  $(".bulk-count", bar).textContent = `${ids.length} ✓`;
}

document.addEventListener("change", (event) => {
  if (event.target.classList.contains("row-select")) selectionChanged();
  const bulk = event.target.dataset?.bulk;
  if ((bulk === "assign" || bulk === "label") && event.target.value) {
    runBulk(bulk, { [event.target.name]: event.target.value });
    event.target.value = "";
  }
});

async function runBulk(action, extra = {}) {
  const ids = selectedIds();
  if (!ids.length) return;
  const body = new FormData();
  for (const id of ids) body.append("ids", id);
  body.append("action", action);
  for (const [key, value] of Object.entries(extra)) body.append(key, value);
  const response = await post(app.dataset.bulkUrl, body);
  if (!response) return;
  const result = await response.json();
  const refused = Object.keys(result.refused || {}).length;
  if (refused) toast(`${result.changed.length} ✓ · ${refused} ✗`, { error: true });
  for (const box of $$(".row-select:checked")) box.checked = false;
  selectionChanged();
  reloadList();
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-bulk]");
  if (!button || button.tagName !== "BUTTON") return;
  const kind = button.dataset.bulk;
  if (kind === "clear") {
    for (const box of $$(".row-select:checked")) box.checked = false;
    selectionChanged();
  } else if (kind === "assign-me") {
    runBulk("assign", { assignee_id: app.dataset.userId });
  } else if (kind === "resolve") {
    runBulk("resolve");
  }
});

// Rows come and go with filters and live updates: a selection of rows no longer shown is dropped.
document.body.addEventListener("htmx:afterSwap", (event) => {
  if (event.detail.target.id === "conversation-list") selectionChanged();
});

// ------------------------------------------------------------------------------------------- saved views

document.addEventListener("click", async (event) => {
  const save = event.target.closest("[data-action=save-view]");
  if (save) {
    const name = window.prompt(app.dataset.saveViewPrompt || "Name");
    if (!name?.trim()) return;
    const body = new FormData($("#list-filters"));
    body.append("name", name.trim());
    const response = await post(app.dataset.savedViewUrl, body);
    if (response) $("#saved-views").outerHTML = await response.text();
    htmx.process($("#saved-views"));
    return;
  }
  const saved = event.target.closest("[data-saved-view]");
  if (!saved) return;
  const params = new URLSearchParams(saved.dataset.savedView);
  const form = $("#list-filters");
  for (const field of $$("select, input[type=hidden]", form)) field.value = params.get(field.name) || "";
  if (!form.elements.status.value) form.elements.status.value = "active";
  form.elements.window.checked = params.get("window") === "closing_soon";
  for (const tab of $$(".tab[data-view]")) {
    const active = tab.dataset.view === (params.get("view") || "all");
    tab.classList.toggle("is-active", active);
    tab.setAttribute("aria-selected", String(active));
  }
  reloadList();
});
