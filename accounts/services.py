"""Every write to people, teams and channel assignments, and the audit log they all append to.

Each service is keyword-only, owns its transaction, checks who is asking (`inbox.access`), writes, records an
`AuditEntry`, and announces access changes to the affected people's open sockets after commit.
"""

import hashlib
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.db import models, transaction
from django.utils import timezone

from accounts.models import AuditEntry, Invitation, Role, Team, User
from inbox import access, events
from inbox.models import Channel, Conversation

logger = logging.getLogger(__name__)

INVITATION_LIFETIME = timedelta(days=7)


class NotAllowed(Exception):
    """The person may not do this (pages answer 403/404, the API its error)."""


class InvalidChange(Exception):
    """The change makes no sense (a duplicate team name, an admin deactivating themselves ...)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


# The audit log


def audit_record(*, actor: User | None, action: str, target, details: dict | None = None) -> AuditEntry:
    """Append who did what to which object. `target` is a model instance (its class name and pk are kept,
    not a foreign key, so the entry outlives the object); `details` holds what changed, JSON-serialisable.
    Call it inside the service's transaction: an action that rolls back leaves no entry."""
    if isinstance(target, models.Model):
        target_type, target_id = target._meta.model_name, str(target.pk)
    else:
        target_type, target_id = type(target).__name__.lower(), str(target)
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=details or {},
    )


def _require(allowed: bool) -> None:
    if not allowed:
        raise NotAllowed


# People


@dataclass(frozen=True)
class InvitationLink:
    invitation: Invitation
    # The only copy of the secret: the database keeps its hash.
    token: str

    @property
    def path(self) -> str:
        return f"/invite/{self.token}/"


def invitation_create(*, actor: User, email: str, role: str = Role.AGENT, teams: Iterable[Team] = ()) -> InvitationLink:
    """Invite someone by e-mail. Returns the link's secret once; no mail server exists, so the admin copies the
    link (and the log says it would have been e-mailed)."""
    _require(access.can_manage_users(actor))
    email = email.strip().lower()
    if role not in Role.values:
        raise InvalidChange("invalid_role", "Choose agent, manager or admin.")
    if User.objects.filter(email=email).exists():
        raise InvalidChange("already_a_user", "Someone with this e-mail address already has an account.")
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            email=email,
            role=role,
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            invited_by=actor,
            expires_at=timezone.now() + INVITATION_LIFETIME,
        )
        teams = list(teams)
        invitation.teams.set(teams)
        audit_record(
            actor=actor,
            action="user.invited",
            target=invitation,
            details={"email": email, "role": role, "teams": [team.name for team in teams]},
        )
    logger.info(
        "Invitation %s for %s created; it would be e-mailed (no mail server is configured)", invitation.pk, email
    )
    return InvitationLink(invitation=invitation, token=token)


def _locked_user(user_id: int) -> User:
    return User.objects.select_for_update().get(pk=user_id)


def _keep_an_admin(user: User) -> None:
    """Refuse a change that would leave no active admin: nobody could manage the instance any more."""
    if not User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=user.pk).exists():
        raise InvalidChange("last_admin", "This is the last active admin: make someone else an admin first.")


def user_set_role(*, actor: User, user: User, role: str) -> User:
    _require(access.can_manage_users(actor))
    if role not in Role.values:
        raise InvalidChange("invalid_role", "Choose agent, manager or admin.")
    with transaction.atomic():
        user = _locked_user(user.pk)
        if user.role == role:
            return user
        if user.role == Role.ADMIN:
            _keep_an_admin(user)
        before = user.role
        user.role = role
        user.save(update_fields=["role"])
        audit_record(actor=actor, action="user.role_changed", target=user, details={"from": before, "to": role})
        events.publish_access_changed(user_ids=[user.pk])
    return user


def user_set_active(*, actor: User, user: User, is_active: bool) -> User:
    """Deactivate (they are signed out everywhere at once: sessions stop authenticating and open sockets
    close) or reactivate an account. Their conversations stay assigned to them for a colleague to take over."""
    _require(access.can_manage_users(actor))
    with transaction.atomic():
        user = _locked_user(user.pk)
        if user.is_active == is_active:
            return user
        if not is_active:
            if user.pk == actor.pk:
                raise InvalidChange("cannot_deactivate_self", "You cannot deactivate your own account.")
            if user.role == Role.ADMIN:
                _keep_an_admin(user)
        user.is_active = is_active
        user.save(update_fields=["is_active"])
        audit_record(actor=actor, action="user.activated" if is_active else "user.deactivated", target=user)
        events.publish_access_changed(user_ids=[user.pk])
    return user


def user_set_capacity(*, actor: User, user: User, max_open_conversations: int) -> User:
    _require(access.can_manage_users(actor))
    if max_open_conversations < 0:
        raise InvalidChange("invalid_capacity", "Capacity is a number of conversations, 0 or more.")
    with transaction.atomic():
        user = _locked_user(user.pk)
        if user.max_open_conversations == max_open_conversations:
            return user
        before = user.max_open_conversations
        user.max_open_conversations = max_open_conversations
        user.save(update_fields=["max_open_conversations"])
        audit_record(
            actor=actor,
            action="user.capacity_changed",
            target=user,
            details={"from": before, "to": max_open_conversations},
        )
    return user


def user_set_template_author(*, actor: User, user: User, allowed: bool) -> User:
    """Allow an agent to write message templates (admins always may; managers change nothing). What they
    write still needs an admin's approval before it goes to WhatsApp."""
    _require(access.can_manage_users(actor))
    with transaction.atomic():
        user = _locked_user(user.pk)
        if user.can_author_templates == allowed:
            return user
        if allowed and user.role != Role.AGENT:
            raise InvalidChange("not_an_agent", "Only agents need this permission: admins always write templates.")
        user.can_author_templates = allowed
        user.save(update_fields=["can_author_templates"])
        audit_record(
            actor=actor,
            action="user.template_author_allowed" if allowed else "user.template_author_revoked",
            target=user,
            details={"from": not allowed, "to": allowed},
        )
    return user


# Teams


def _team_member_ids(team: Team) -> set[int]:
    return set(team.members.values_list("pk", flat=True))


def team_create(*, actor: User, name: str) -> Team:
    _require(access.can_manage_teams(actor))
    name = name.strip()
    if not name:
        raise InvalidChange("invalid_name", "A team needs a name.")
    with transaction.atomic():
        if Team.objects.filter(name__iexact=name).exists():
            raise InvalidChange("duplicate_name", "Another team already has this name.")
        team = Team.objects.create(name=name)
        audit_record(actor=actor, action="team.created", target=team, details={"name": name})
    return team


def team_rename(*, actor: User, team: Team, name: str) -> Team:
    _require(access.can_manage_teams(actor))
    name = name.strip()
    if not name:
        raise InvalidChange("invalid_name", "A team needs a name.")
    with transaction.atomic():
        team = Team.objects.select_for_update().get(pk=team.pk)
        if team.name == name:
            return team
        if Team.objects.filter(name__iexact=name).exclude(pk=team.pk).exists():
            raise InvalidChange("duplicate_name", "Another team already has this name.")
        before = team.name
        team.name = name
        team.save(update_fields=["name"])
        audit_record(actor=actor, action="team.renamed", target=team, details={"from": before, "to": name})
    return team


def team_delete(*, actor: User, team: Team) -> None:
    """Delete a team. Its conversations go back to every team working their channel; its members lose the
    channels only this team gave them."""
    _require(access.can_manage_teams(actor))
    with transaction.atomic():
        team = Team.objects.select_for_update().get(pk=team.pk)
        # Its members lose what only this team gave them; the teams working the channels of its conversations
        # gain those conversations back.
        its_channels = Conversation.objects.filter(team=team).values("channel_id")
        gaining = User.objects.filter(teams__channels__in=its_channels).values_list("pk", flat=True)
        affected = _team_member_ids(team) | set(gaining)
        audit_record(actor=actor, action="team.deleted", target=team, details={"name": team.name})
        team.delete()
        events.publish_access_changed(user_ids=affected)


def team_set_members(*, actor: User, team: Team, members: Iterable[User]) -> Team:
    """Replace the team's members. Someone removed stops seeing its conversations at once, open sockets
    included."""
    _require(access.can_manage_teams(actor))
    wanted = {member.pk for member in members}
    with transaction.atomic():
        team = Team.objects.select_for_update().get(pk=team.pk)
        current = _team_member_ids(team)
        if wanted == current:
            return team
        team.members.set(wanted)
        added, removed = sorted(wanted - current), sorted(current - wanted)
        audit_record(
            actor=actor, action="team.members_changed", target=team, details={"added": added, "removed": removed}
        )
        events.publish_access_changed(user_ids=set(added) | set(removed))
    return team


def team_set_channels(*, actor: User, team: Team, channels: Iterable[Channel]) -> Team:
    """Replace the channels the team works; its members see (or stop seeing) them at once."""
    _require(access.can_manage_teams(actor))
    wanted = {channel.pk for channel in channels}
    with transaction.atomic():
        team = Team.objects.select_for_update().get(pk=team.pk)
        current = set(team.channels.values_list("pk", flat=True))
        if wanted == current:
            return team
        team.channels.set(wanted)
        audit_record(
            actor=actor,
            action="team.channels_changed",
            target=team,
            details={"added": sorted(wanted - current), "removed": sorted(current - wanted)},
        )
        events.publish_access_changed(user_ids=_team_member_ids(team))
    return team


def conversation_access_changed(*, conversation, previous_team_id: int | None) -> None:
    """For the workflow services: a conversation moved between teams. Tell the members of the old and new
    team (or, for "no team", everyone working the channel) so their sockets re-check at once."""
    team_ids = {previous_team_id, conversation.team_id}
    affected = set()
    if None in team_ids:
        affected |= set(
            User.objects.filter(teams__channels=conversation.channel_id).values_list("pk", flat=True).distinct()
        )
    affected |= set(
        User.objects.filter(teams__in=[team_id for team_id in team_ids if team_id is not None])
        .values_list("pk", flat=True)
        .distinct()
    )
    events.publish_access_changed(user_ids=affected)
