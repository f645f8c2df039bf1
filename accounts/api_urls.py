"""`/api/v1/` routes for people, teams and the audit log (included beside `inbox.api.urls`)."""

from django.urls import path

from accounts import api_admin

app_name = "accounts-api"

urlpatterns = [
    path("users/", api_admin.UserListView.as_view(), name="user-list"),
    path("users/invitations/", api_admin.InvitationCreateView.as_view(), name="invitation-create"),
    path("users/<int:user_id>/", api_admin.UserDetailView.as_view(), name="user-detail"),
    path("teams/", api_admin.TeamListView.as_view(), name="team-list"),
    path("teams/<int:team_id>/", api_admin.TeamDetailView.as_view(), name="team-detail"),
    path("teams/<int:team_id>/members/", api_admin.TeamMembersView.as_view(), name="team-members"),
    path("teams/<int:team_id>/channels/", api_admin.TeamChannelsView.as_view(), name="team-channels"),
    path("audit-log/", api_admin.AuditLogView.as_view(), name="audit-log"),
]
