"""The admins' settings pages, under `/settings/` (included from config/urls.py)."""

from django.urls import path

from accounts import views_settings as views

app_name = "settings"

urlpatterns = [
    path("", views.settings_home, name="home"),
    path("users/", views.users_page, name="users"),
    path("users/invite", views.user_invite, name="user-invite"),
    path("users/<int:user_id>/", views.user_page, name="user"),
    path("users/<int:user_id>/role", views.user_role, name="user-role"),
    path("users/<int:user_id>/capacity", views.user_capacity, name="user-capacity"),
    path("users/<int:user_id>/active", views.user_active, name="user-active"),
    path("teams/", views.teams_page, name="teams"),
    path("teams/create", views.team_create, name="team-create"),
    path("teams/<int:team_id>/", views.team_page, name="team"),
    path("teams/<int:team_id>/rename", views.team_rename, name="team-rename"),
    path("teams/<int:team_id>/members", views.team_members, name="team-members"),
    path("teams/<int:team_id>/channels", views.team_channels, name="team-channels"),
    path("teams/<int:team_id>/delete", views.team_delete, name="team-delete"),
    path("labels/", views.labels_page, name="labels"),
    path("labels/create", views.label_create, name="label-create"),
    path("labels/<int:label_id>/rename", views.label_rename, name="label-rename"),
    path("labels/<int:label_id>/delete", views.label_delete, name="label-delete"),
    path("channels/", views.channels_page, name="channels"),
    path("audit/", views.audit_page, name="audit"),
]
