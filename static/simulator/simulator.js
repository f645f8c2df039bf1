// The customer phone page: Enter sends, the chat stays scrolled to the newest message, new business
// messages are announced to screen readers. Everything else is htmx attributes in the templates.
(function () {
  "use strict";

  function thread() {
    return document.getElementById("sim-thread");
  }

  function nearBottom(element) {
    return element.scrollHeight - element.scrollTop - element.clientHeight < 80;
  }

  function lastBusinessBubble() {
    var bubbles = document.querySelectorAll('#sim-thread [data-direction="business"]');
    return bubbles.length ? bubbles[bubbles.length - 1] : null;
  }

  var stickToBottom = true;
  var lastAnnounced = null;

  document.addEventListener("DOMContentLoaded", function () {
    var chat = thread();
    if (chat) {
      chat.scrollTop = chat.scrollHeight;
      var last = lastBusinessBubble();
      lastAnnounced = last ? last.dataset.wamid : null;
    }
    var text = document.getElementById("sim-text");
    if (text) {
      text.addEventListener("keydown", function (event) {
        // Enter sends, Shift+Enter makes a new line (as in WhatsApp Web); never mid-composition (IME).
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          if (text.value.trim()) {
            text.form.requestSubmit();
          }
        }
      });
      text.focus();
    }
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target === thread()) {
      stickToBottom = nearBottom(event.detail.target);
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var chat = thread();
    if (event.detail.target !== chat) {
      return;
    }
    var sentByMe = event.detail.requestConfig && event.detail.requestConfig.verb === "post" &&
      event.detail.elt && event.detail.elt.tagName === "FORM";
    if (stickToBottom || sentByMe) {
      chat.scrollTop = chat.scrollHeight;
    }
    var last = lastBusinessBubble();
    if (last && last.dataset.wamid !== lastAnnounced) {
      lastAnnounced = last.dataset.wamid;
      var announce = document.getElementById("sim-announce");
      if (announce) {
        announce.textContent = "New message from the business: " + last.textContent.replace(/\s+/g, " ").trim().slice(0, 200);
      }
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.tagName === "FORM" && form.hasAttribute("data-reset-on-send") && event.detail.successful) {
      form.reset();
      var details = form.closest("details");
      if (details) {
        details.open = false;
      }
      var text = document.getElementById("sim-text");
      if (text) {
        text.focus();
      }
    }
  });
})();
