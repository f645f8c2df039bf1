"""Automations: auto-replies, the bot hook and the escalation route (under /settings/channels/), and the
thread header's automation line with "Take over"."""

from django.urls import path

from inbox.views import automations as views

app_name = "automation"

urlpatterns = [
    path("settings/channels/<int:channel_id>/automation", views.automation_settings, name="settings"),
    path("settings/channels/<int:channel_id>/automation/bot-test", views.bot_test, name="bot-test"),
    path("settings/channels/<int:channel_id>/automation/replies", views.reply_create, name="reply-create"),
    path(
        "settings/channels/<int:channel_id>/automation/replies/<int:reply_id>",
        views.reply_update,
        name="reply-update",
    ),
    path(
        "settings/channels/<int:channel_id>/automation/replies/<int:reply_id>/enabled",
        views.reply_enabled,
        name="reply-enabled",
    ),
    path(
        "settings/channels/<int:channel_id>/automation/replies/<int:reply_id>/delete",
        views.reply_delete,
        name="reply-delete",
    ),
    path(
        "inbox/conversations/<int:conversation_id>/automation",
        views.conversation_automation,
        name="conversation-state",
    ),
]
