"""`/api/v1/...`, the REST API (token or session authentication). Schema at /api/schema/."""

from django.urls import path

from accounts.api import TokenObtainView
from inbox.api import views

app_name = "api"

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="auth-token"),
    path("channels/", views.ChannelListView.as_view(), name="channel-list"),
    path("channels/<int:channel_id>/", views.ChannelDetailView.as_view(), name="channel-detail"),
    path("conversations/", views.ConversationListView.as_view(), name="conversation-list"),
    path("conversations/<int:conversation_id>/", views.ConversationDetailView.as_view(), name="conversation-detail"),
    path(
        "conversations/<int:conversation_id>/messages/",
        views.ConversationMessagesView.as_view(),
        name="conversation-messages",
    ),
    path("conversations/<int:conversation_id>/read/", views.ConversationReadView.as_view(), name="conversation-read"),
    path("messages/<int:message_id>/retry/", views.MessageRetryView.as_view(), name="message-retry"),
    path("webhook-events/", views.WebhookEventListView.as_view(), name="webhook-event-list"),
    path("webhook-events/<int:event_id>/", views.WebhookEventDetailView.as_view(), name="webhook-event-detail"),
    path(
        "webhook-events/<int:event_id>/reprocess/",
        views.WebhookEventReprocessView.as_view(),
        name="webhook-event-reprocess",
    ),
]
