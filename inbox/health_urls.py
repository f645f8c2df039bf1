"""Number health and the WhatsApp business profile, for admins (under /settings/channels/)."""

from django.urls import path

from inbox.views import number_health as views

app_name = "health"

urlpatterns = [
    path("settings/channels/<int:channel_id>/health", views.health_page, name="page"),
    path("settings/channels/<int:channel_id>/health/sync", views.health_sync, name="sync"),
    path("settings/channels/<int:channel_id>/health/throughput", views.health_throughput, name="throughput"),
    path("settings/channels/<int:channel_id>/profile", views.profile_page, name="profile"),
    path("settings/channels/<int:channel_id>/profile/app-id", views.profile_app_id, name="profile-app-id"),
]
