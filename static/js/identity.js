// Identity changes: when a customer's number or WhatsApp identity changes (or someone acknowledges it), the
// identity panel redraws itself (htmx, on the `identity.changed` live event) and this redraws the open
// composer, so it says at once whether sending is held. Nothing here renders customer text: the server
// renders the composer; this only swaps it in.

const app = document.getElementById("app");

async function refreshComposer(conversationId) {
  const current = document.getElementById("composer");
  if (!app?.dataset.composerUrl || !current || Number(current.dataset.conversationId) !== conversationId) return;
  const url = app.dataset.composerUrl.replace(/\/0\//, `/${conversationId}/`);
  const response = await fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } }).catch(() => null);
  if (!response?.ok) return;
  const typed = document.getElementById("composer-body")?.value || "";
  const template = document.createElement("template");
  template.innerHTML = (await response.text()).trim();
  const node = template.content.firstElementChild;
  if (!node || document.getElementById("composer") !== current) return;
  current.replaceWith(node);
  const body = document.getElementById("composer-body");
  if (typed && body) body.value = typed;
  window.htmx?.process(node);
}

if (!window.switchboardIdentity) {
  window.switchboardIdentity = true;
  document.addEventListener("switchboard:event", (event) => {
    const { type, data = {} } = event.detail || {};
    if (type !== "identity.changed") return;
    // Only when this page shows that contact's panel: then the open composer is theirs.
    const composer = document.getElementById("composer");
    if (!composer || !document.getElementById(`identity-${data.contact_id}`)) return;
    refreshComposer(Number(composer.dataset.conversationId));
  });
}
