"""`/api/v1/...`, the REST API (token or session authentication). Schema at /api/schema/."""

from django.urls import path

from accounts.api import TokenObtainView
from inbox.api import together_views, views, workflow_views

app_name = "api"

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="auth-token"),
    path("channels/", views.ChannelListView.as_view(), name="channel-list"),
    path("channels/<int:channel_id>/", views.ChannelDetailView.as_view(), name="channel-detail"),
    path("conversations/", views.ConversationListView.as_view(), name="conversation-list"),
    # GET as in views; PATCH (priority, labels) from the workflow module.
    path(
        "conversations/<int:conversation_id>/",
        workflow_views.ConversationDetailView.as_view(),
        name="conversation-detail",
    ),
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
    path(
        "conversations/<int:conversation_id>/notes/",
        together_views.ConversationNotesView.as_view(),
        name="conversation-notes",
    ),
    path("canned-responses/", together_views.CannedResponseListView.as_view(), name="canned-response-list"),
    path(
        "canned-responses/<int:canned_id>/",
        together_views.CannedResponseDetailView.as_view(),
        name="canned-response-detail",
    ),
    path("notifications/", together_views.NotificationListView.as_view(), name="notification-list"),
    path(
        "notifications/<int:notification_id>/read/",
        together_views.NotificationReadView.as_view(),
        name="notification-read",
    ),
    path("notifications/read-all/", together_views.NotificationReadAllView.as_view(), name="notification-read-all"),
    path("search/", together_views.SearchView.as_view(), name="search"),
    # Workflow: assignment, status, priority and labels, bulk actions, labels, saved views, presence.
    path("conversations/bulk/", workflow_views.ConversationBulkView.as_view(), name="conversation-bulk"),
    path(
        "conversations/<int:conversation_id>/assign/",
        workflow_views.ConversationAssignView.as_view(),
        name="conversation-assign",
    ),
    path(
        "conversations/<int:conversation_id>/take/",
        workflow_views.ConversationTakeView.as_view(),
        name="conversation-take",
    ),
    path(
        "conversations/<int:conversation_id>/transfer/",
        workflow_views.ConversationTransferView.as_view(),
        name="conversation-transfer",
    ),
    path(
        "conversations/<int:conversation_id>/status/",
        workflow_views.ConversationStatusView.as_view(),
        name="conversation-status",
    ),
    path("labels/", workflow_views.LabelListView.as_view(), name="label-list"),
    path("labels/<int:label_id>/", workflow_views.LabelDetailView.as_view(), name="label-detail"),
    path("saved-views/", workflow_views.SavedViewListView.as_view(), name="saved-view-list"),
    path("saved-views/<int:saved_view_id>/", workflow_views.SavedViewDetailView.as_view(), name="saved-view-detail"),
    path("me/presence/", workflow_views.PresenceView.as_view(), name="me-presence"),
]
