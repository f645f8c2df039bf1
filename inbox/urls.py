"""The agent inbox's pages and partials (the home page at "/" stays `home` in config/urls.py)."""

from django.urls import path

from inbox import media
from inbox.views import inbox

app_name = "inbox"

urlpatterns = [
    path("conversations/<int:conversation_id>/", inbox.inbox_page, name="conversation"),
    path("inbox/conversations/", inbox.conversation_rows, name="conversation-rows"),
    path("inbox/conversations/<int:conversation_id>/row", inbox.conversation_row, name="conversation-row"),
    path(
        "inbox/conversations/<int:conversation_id>/messages",
        inbox.conversation_messages,
        name="conversation-messages",
    ),
    path("inbox/conversations/<int:conversation_id>/composer", inbox.composer, name="composer"),
    path("inbox/conversations/<int:conversation_id>/send", inbox.message_send, name="message-send"),
    path("inbox/conversations/<int:conversation_id>/read", inbox.conversation_read, name="conversation-read"),
    path("inbox/messages/<int:message_id>/bubble", inbox.message_bubble, name="message-bubble"),
    path("inbox/messages/<int:message_id>/retry", inbox.message_retry, name="message-retry"),
    path("media/<int:message_id>/", media.message_media, name="media"),
]
