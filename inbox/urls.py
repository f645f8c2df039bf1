"""The agent inbox's pages and partials (the home page at "/" stays `home` in config/urls.py)."""

from django.urls import path

from inbox import media
from inbox.views import contacts, inbox, together
from inbox.views import workflow as workflow_views

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
    # Templates: the composer's picker, one template's form, sending it.
    path("inbox/conversations/<int:conversation_id>/templates", inbox.template_picker, name="template-picker"),
    path(
        "inbox/conversations/<int:conversation_id>/templates/<int:template_id>",
        inbox.template_form,
        name="template-form",
    ),
    path("inbox/conversations/<int:conversation_id>/send-template", inbox.template_send, name="template-send"),
    path("inbox/messages/<int:message_id>/bubble", inbox.message_bubble, name="message-bubble"),
    path("inbox/messages/<int:message_id>/retry", inbox.message_retry, name="message-retry"),
    path("media/<int:message_id>/", media.message_media, name="media"),
    path("inbox/conversations/<int:conversation_id>/note", together.conversation_note, name="conversation-note"),
    path(
        "inbox/conversations/<int:conversation_id>/mentions", together.mention_suggestions, name="mention-suggestions"
    ),
    path("inbox/conversations/<int:conversation_id>/canned", together.canned_suggestions, name="canned-suggestions"),
    path("inbox/notifications/", together.notifications_panel, name="notifications-panel"),
    path("inbox/unread-counts", together.unread_counts, name="unread-counts"),
    path("canned/", together.canned_page, name="canned"),
    path("canned/<int:canned_id>/", together.canned_edit, name="canned-edit"),
    path("canned/<int:canned_id>/delete", together.canned_delete, name="canned-delete"),
    path("search", together.search_page, name="search"),
    # The contact page: language for templates, conversations, starting one with a template.
    path("contacts/<int:contact_id>/", contacts.contact_page, name="contact"),
    path("contacts/<int:contact_id>/language", contacts.contact_language, name="contact-language"),
    path("contacts/<int:contact_id>/templates", contacts.contact_templates, name="contact-templates"),
    path(
        "contacts/<int:contact_id>/templates/<int:template_id>",
        contacts.contact_template_form,
        name="contact-template-form",
    ),
    path("contacts/<int:contact_id>/start", contacts.contact_start, name="contact-start"),
    # Workflow: the thread header's controls, bulk actions, presence, saved views.
    path(
        "inbox/conversations/<int:conversation_id>/workflow",
        workflow_views.conversation_workflow,
        name="conversation-workflow",
    ),
    path("inbox/conversations/bulk", workflow_views.conversations_bulk, name="conversations-bulk"),
    path("inbox/presence", workflow_views.presence_set, name="presence"),
    path("inbox/view-counts", workflow_views.view_counts, name="view-counts"),
    path("inbox/saved-views", workflow_views.saved_view_create, name="saved-view-create"),
    path("inbox/saved-views/<int:saved_view_id>/delete", workflow_views.saved_view_delete, name="saved-view-delete"),
]
