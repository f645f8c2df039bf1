"""Reads of people, teams and the audit log for the settings pages and the API, scoped by `inbox.access`."""

from django.db.models import Prefetch, QuerySet

from accounts.models import AuditEntry, Team, User
from inbox import access
from inbox.models import Channel
from inbox.selectors import Page, PageKey, _keyset_page


def user_list(*, user: User) -> QuerySet[User]:
    """Everyone, with their teams (two queries), for admins and managers; nobody for agents."""
    if not access.can_view_users(user):
        return User.objects.none()
    return User.objects.order_by("email").prefetch_related(Prefetch("teams", queryset=Team.objects.order_by("name")))


def user_get(*, user: User, user_id: int) -> User | None:
    return user_list(user=user).filter(pk=user_id).first()


def team_list(*, user: User) -> QuerySet[Team]:
    """The teams the person may see, with their members and channels (three queries)."""
    return (
        access.teams_visible_to(user)
        .order_by("name")
        .prefetch_related(
            Prefetch("members", queryset=User.objects.order_by("email")),
            Prefetch("channels", queryset=Channel.objects.order_by("name")),
        )
    )


def team_get(*, user: User, team_id: int) -> Team | None:
    return team_list(user=user).filter(pk=team_id).first()


def channel_list_with_teams(*, user: User) -> QuerySet[Channel]:
    return (
        access.channels_visible_to(user)
        .order_by("name", "id")
        .prefetch_related(Prefetch("teams", queryset=Team.objects.order_by("name")))
    )


def audit_page(*, user: User, after: PageKey | None = None, limit: int = 50) -> Page[AuditEntry]:
    """The audit log, newest first, in keyset pages (admins only; nobody else sees a row)."""
    if not access.can_view_audit_log(user):
        return Page(items=[], next_key=None)
    entries = AuditEntry.objects.select_related("actor")
    return _keyset_page(entries, time_field="created_at", newest_first=True, after=after, limit=limit)
