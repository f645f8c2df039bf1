"""`/api/v1/` number health and business profile endpoints."""

from django.urls import path

from inbox.api import health_views as views

app_name = "health-api"

urlpatterns = [
    path("channels/<int:channel_id>/health/", views.NumberHealthView.as_view(), name="channel-health"),
    path("channels/<int:channel_id>/health/sync/", views.NumberHealthSyncView.as_view(), name="channel-health-sync"),
    path(
        "channels/<int:channel_id>/business-profile/",
        views.BusinessProfileView.as_view(),
        name="channel-business-profile",
    ),
]
