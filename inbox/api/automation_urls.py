"""`/api/v1/` automation endpoints: channel settings, auto-replies, the bot test, a conversation's automation
state and taking over from the bot."""

from django.urls import path

from inbox.api import automation_views as views

app_name = "automation-api"

urlpatterns = [
    path("channels/<int:channel_id>/automation/", views.ChannelAutomationView.as_view(), name="channel-automation"),
    path("channels/<int:channel_id>/automation/bot-test/", views.BotTestView.as_view(), name="bot-test"),
    path("channels/<int:channel_id>/auto-replies/", views.AutoReplyListView.as_view(), name="auto-reply-list"),
    path(
        "channels/<int:channel_id>/auto-replies/<int:reply_id>/",
        views.AutoReplyDetailView.as_view(),
        name="auto-reply-detail",
    ),
    path(
        "conversations/<int:conversation_id>/automation/",
        views.ConversationAutomationView.as_view(),
        name="conversation-automation",
    ),
    path(
        "conversations/<int:conversation_id>/take-over/",
        views.ConversationTakeOverView.as_view(),
        name="conversation-take-over",
    ),
]
