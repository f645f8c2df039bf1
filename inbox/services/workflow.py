"""Conversation workflow: who holds a conversation (assign, take, transfer, automatic round robin and the
team queue), where it stands (open, pending, snoozed, resolved), how urgent it is and how it is labelled.

Every change writes an activity line in the thread (a Message with direction INTERNAL and type ACTIVITY,
`content` holding the structured details) and publishes `conversation.updated` after commit.

Automatic assignment: a conversation belongs to the team working its channel (the first by name when several
do). The team row is the rotation lock: whoever assigns automatically holds it (`select_for_update`) while
reading loads and moving `Team.last_assigned_user`, so concurrent assignments never pick the same "next"
agent and nobody goes beyond their capacity. Locks are always taken team first, then conversation. When
nobody online has room, the conversation waits in the team's queue (`queued_at`), served oldest first when
someone comes online or frees capacity.
"""

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accounts.models import Presence, Role, Team, User
from accounts.services import audit_record
from config.task_queue import enqueue
from inbox import access, events, policy
from inbox.models import (
    Conversation,
    ConversationStatus,
    Direction,
    HandledBy,
    HandoverReason,
    Label,
    Message,
    MessageStatus,
    MessageType,
    NotificationKind,
    Priority,
    SavedView,
)
from inbox.services.notes import NoteRefused, note_add
from inbox.services.notifications import notification_create

# Open and pending conversations wait on their assignee; snoozed and resolved ones on nobody.
WORKING_STATUSES = (ConversationStatus.OPEN, ConversationStatus.PENDING)


class WorkflowRefused(Exception):
    """The change may not be made. `code` is stable (`permission_denied`, `not_assignable`,
    `team_not_on_channel`, `invalid_snooze`, `invalid_label`, `duplicate_name`...); `detail` is the sentence
    shown to the person."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


def _name(user: User | None) -> str:
    return (user.name or user.email) if user is not None else _("Switchboard")


def _require_work(actor: User, conversation: Conversation) -> None:
    if not access.can_work_conversation(actor, conversation):
        raise WorkflowRefused(
            "permission_denied",
            _("You may not change this conversation: managers only watch, agents work their teams' conversations."),
        )


def _locked(conversation: Conversation) -> Conversation:
    return Conversation.objects.select_for_update().get(pk=conversation.pk)


def activity_add(
    *, conversation: Conversation, actor: User | None, text: str, details: dict, at: datetime | None = None
) -> Message:
    """The grey line in the thread saying what changed (workflow, identity, automations). Never sent, never
    unread, no preview change."""
    at = at or timezone.now()
    line = Message.objects.create(
        conversation=conversation,
        channel_id=conversation.channel_id,
        direction=Direction.INTERNAL,
        type=MessageType.ACTIVITY,
        text=text,
        content=details,
        status=MessageStatus.SENT,
        status_at=at,
        timestamp=at,
        author=actor,
    )
    events.publish_message(line, "message.created")
    return line


def _viewers(channel_id: int, team_id: int | None) -> set[int]:
    teams = Team.objects.filter(channels=channel_id)
    if team_id is not None:
        teams = teams.filter(pk=team_id)
    return set(User.objects.filter(teams__in=teams).values_list("pk", flat=True))


def _announce_team_change(conversation: Conversation, previous_team_id: int | None) -> None:
    """A conversation moved between teams: the people who start or stop seeing it reload their panes. Only
    they: a new conversation joining the one team working its channel changes nobody's view."""
    changed = _viewers(conversation.channel_id, previous_team_id) ^ _viewers(
        conversation.channel_id, conversation.team_id
    )
    if changed:
        events.publish_access_changed(user_ids=changed)


def _serve_queues_of(user_id: int | None) -> None:
    """Someone's plate got lighter: after commit, their teams' queues are served."""
    if user_id is None:
        return
    from inbox import tasks

    for team_id in Team.objects.filter(members=user_id).values_list("pk", flat=True):
        enqueue(tasks.serve_team_queue, team_id)


def conversation_auto_assign_later(*, conversation_id: int) -> None:
    """Run the round robin for this conversation once the transaction commits (a task)."""
    from inbox import tasks

    enqueue(tasks.auto_assign_conversation, conversation_id)


# --- Manual assignment ------------------------------------------------------------------------------------


def _set_holder(
    *,
    conversation: Conversation,
    actor: User | None,
    assignee: User | None,
    team: Team | None,
    change_team: bool,
    verb: str,
) -> bool:
    """Write assignee (and team) on a locked conversation, with the activity line, the audit entry and the
    assignee's notification. Returns whether anything changed."""
    previous_assignee_id, previous_team_id = conversation.assignee_id, conversation.team_id
    new_team_id = team.pk if change_team and team is not None else (None if change_team else previous_team_id)
    new_assignee_id = assignee.pk if assignee is not None else None
    if new_assignee_id == previous_assignee_id and new_team_id == previous_team_id:
        return False
    now = timezone.now()
    conversation.assignee = assignee
    conversation.team_id = new_team_id
    conversation.assigned_at = now if assignee is not None else None
    # An assigned conversation has left the queue; one let go waits in its team's queue from now.
    if assignee is not None or conversation.status not in WORKING_STATUSES:
        conversation.queued_at = None
    elif conversation.queued_at is None or new_team_id != previous_team_id:
        conversation.queued_at = now
    conversation.save(update_fields=["assignee", "team", "assigned_at", "queued_at"])
    actor_name = _name(actor)
    team_name = team.name if team is not None else ""
    if verb == "transferred":
        text = (
            _("%(actor)s transferred this to %(assignee)s") % {"actor": actor_name, "assignee": _name(assignee)}
            if assignee is not None
            else _("%(actor)s transferred this to the %(team)s team") % {"actor": actor_name, "team": team_name}
        )
    elif actor is None and assignee is not None:
        text = _("Assigned to %(assignee)s automatically") % {"assignee": _name(assignee)}
    elif assignee is not None and actor is not None and assignee.pk == actor.pk:
        text = _("%(actor)s took this conversation") % {"actor": actor_name}
    elif assignee is not None:
        text = _("%(actor)s assigned this to %(assignee)s") % {"actor": actor_name, "assignee": _name(assignee)}
    elif new_team_id != previous_team_id and team is not None:
        text = _("%(actor)s moved this to the %(team)s team") % {"actor": actor_name, "team": team_name}
    else:
        text = _("%(actor)s unassigned this") % {"actor": actor_name}
    details = {
        "action": verb,
        "from_assignee_id": previous_assignee_id,
        "to_assignee_id": new_assignee_id,
        "from_team_id": previous_team_id,
        "to_team_id": new_team_id,
        "automatic": actor is None,
    }
    activity_add(conversation=conversation, actor=actor, text=text, details=details, at=now)
    audit_record(actor=actor, action=f"conversation.{verb}", target=conversation, details=details)
    if new_team_id != previous_team_id:
        _announce_team_change(conversation, previous_team_id)
    if assignee is not None and new_assignee_id != previous_assignee_id:
        notification_create(
            user=assignee,
            kind=NotificationKind.TRANSFER if verb == "transferred" else NotificationKind.ASSIGNED,
            conversation=conversation,
            actor=actor,
            text=text,
        )
    if previous_assignee_id is not None and previous_assignee_id != new_assignee_id:
        _serve_queues_of(previous_assignee_id)
    events.publish_conversation(conversation.pk)
    return True


def _check_holder(*, actor: User, conversation: Conversation, assignee: User | None, team: Team | None) -> None:
    _require_work(actor, conversation)
    if team is not None and not access.can_transfer(actor, conversation, team):
        raise WorkflowRefused("team_not_on_channel", _("That team does not work this conversation's channel."))
    if assignee is not None:
        # Judge the assignee against the conversation as it will be (in the team it is moving to).
        future = Conversation(pk=conversation.pk, channel_id=conversation.channel_id, team=team or conversation.team)
        if not access.can_be_assigned(assignee, future):
            raise WorkflowRefused(
                "not_assignable", _("%(name)s cannot hold this conversation.") % {"name": _name(assignee)}
            )


def conversation_assign(
    *, conversation: Conversation, actor: User, assignee: User | None = None, team: Team | None = None
) -> Conversation:
    """Give the conversation to `assignee`, to `team`, or both. Given only a team, it goes to that team's
    queue and the round robin picks someone there after commit. Raises WorkflowRefused."""
    if assignee is None and team is None:
        raise WorkflowRefused("nothing_to_assign", _("Choose a person or a team."))
    return _hand_over(conversation=conversation, actor=actor, assignee=assignee, team=team, verb="assigned")


def conversation_take(*, conversation: Conversation, actor: User) -> Conversation:
    """The actor assigns the conversation to themselves ("take it")."""
    return _hand_over(conversation=conversation, actor=actor, assignee=actor, team=None, verb="assigned")


def conversation_unassign(*, conversation: Conversation, actor: User) -> Conversation:
    """Nobody holds it any more: it waits in its team's queue."""
    _require_work(actor, conversation)
    with transaction.atomic():
        locked = _locked(conversation)
        _set_holder(conversation=locked, actor=actor, assignee=None, team=None, change_team=False, verb="unassigned")
    return locked


def conversation_transfer(
    *, conversation: Conversation, actor: User, note: str = "", assignee: User | None = None, team: Team | None = None
) -> Conversation:
    """Hand the conversation to another person and/or team, leaving them a private note saying why."""
    if assignee is None and team is None:
        raise WorkflowRefused("nothing_to_assign", _("Choose a person or a team."))
    with transaction.atomic():
        if note.strip():
            try:
                note_add(conversation=conversation, author=actor, body=note)
            except NoteRefused as refused:
                raise WorkflowRefused(refused.code, refused.detail)
        return _hand_over(conversation=conversation, actor=actor, assignee=assignee, team=team, verb="transferred")


def _hand_over(
    *, conversation: Conversation, actor: User, assignee: User | None, team: Team | None, verb: str
) -> Conversation:
    _check_holder(actor=actor, conversation=conversation, assignee=assignee, team=team)
    with transaction.atomic():
        locked = _locked(conversation)
        changed = _set_holder(
            conversation=locked, actor=actor, assignee=assignee, team=team, change_team=team is not None, verb=verb
        )
        if changed and assignee is None and locked.status in WORKING_STATUSES:
            conversation_auto_assign_later(conversation_id=locked.pk)
    return locked


# --- Automatic assignment and the team queue -----------------------------------------------------------------


def team_for(conversation: Conversation) -> Team | None:
    """The team whose queue the conversation belongs to: its own, else the team working its channel (the
    first by name when several do)."""
    if conversation.team_id is not None:
        return Team.objects.filter(pk=conversation.team_id).first()
    return Team.objects.filter(channels=conversation.channel_id).order_by("name", "pk").first()


def _loads(team: Team) -> list[policy.AgentLoad]:
    """The team's members who may hold conversations, with their open and pending counts (two queries)."""
    members = list(
        team.members.filter(is_active=True, role__in=(Role.AGENT, Role.ADMIN)).values(
            "pk", "presence", "max_open_conversations"
        )
    )
    counts = dict(
        Conversation.objects.filter(assignee__in=[m["pk"] for m in members], status__in=WORKING_STATUSES)
        .values_list("assignee")
        .annotate(n=Count("pk"))
        .values_list("assignee", "n")
    )
    return [
        policy.AgentLoad(
            user_id=m["pk"],
            presence=m["presence"],
            open_conversations=counts.get(m["pk"], 0),
            capacity=m["max_open_conversations"],
        )
        for m in members
    ]


def _assign_next(*, team: Team, conversation: Conversation, loads: list[policy.AgentLoad]) -> User | None:
    """With the team locked: give `conversation` to the next agent with room, or leave it queued."""
    chosen_id = policy.next_assignee(loads, last_assigned_user_id=team.last_assigned_user_id)
    if chosen_id is None:
        return None
    assignee = User.objects.get(pk=chosen_id)
    if not access.can_be_assigned(assignee, Conversation(channel_id=conversation.channel_id, team=team)):
        return None
    _set_holder(conversation=conversation, actor=None, assignee=assignee, team=team, change_team=True, verb="assigned")
    team.last_assigned_user_id = chosen_id
    team.save(update_fields=["last_assigned_user"])
    for i, load in enumerate(loads):
        if load.user_id == chosen_id:
            loads[i] = policy.AgentLoad(load.user_id, load.presence, load.open_conversations + 1, load.capacity)
    return assignee


def conversation_auto_assign(*, conversation_id: int) -> User | None:
    """Round robin for one conversation (new, reopened, escalated to humans, or handed to a team): the next
    online agent of its team with room, else the team's queue. Returns the assignee, or None."""
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        return None
    team = team_for(conversation)
    if team is None:
        # No team works this channel yet: everyone who sees it picks it from "Unassigned".
        return None
    with transaction.atomic():
        team = Team.objects.select_for_update().get(pk=team.pk)
        conversation = _locked(conversation)
        if conversation.assignee_id is not None or conversation.status not in WORKING_STATUSES:
            return None
        if conversation.team_id not in (None, team.pk):
            return None  # moved to another team meanwhile: that team's own run decides
        assignee = _assign_next(team=team, conversation=conversation, loads=_loads(team))
        if assignee is None:
            previous_team_id = conversation.team_id
            conversation.team = team
            conversation.queued_at = conversation.queued_at or timezone.now()
            conversation.save(update_fields=["team", "queued_at"])
            if previous_team_id != team.pk:
                _announce_team_change(conversation, previous_team_id)
            events.publish_conversation(conversation.pk)
        return assignee


def team_queue_serve(*, team_id: int) -> int:
    """Give the team's waiting conversations, oldest first, to online agents with room until either runs
    out. Returns how many were assigned."""
    assigned = 0
    with transaction.atomic():
        team = Team.objects.select_for_update().filter(pk=team_id).first()
        if team is None:
            return 0
        loads = _loads(team)
        while any(policy.has_room(load) for load in loads):
            conversation = (
                Conversation.objects.select_for_update()
                .filter(team=team, assignee__isnull=True, queued_at__isnull=False, status__in=WORKING_STATUSES)
                .order_by("queued_at", "pk")
                .first()
            )
            if conversation is None or _assign_next(team=team, conversation=conversation, loads=loads) is None:
                break
            assigned += 1
    return assigned


# What the activity line says for each handover reason (HandoverReason).
_HANDOVER_LINES = {
    HandoverReason.ASKED: _lazy("Handed to the team: the customer asked for a person"),
    HandoverReason.BOT_FAILED: _lazy("Handed to the team: the bot could not answer twice in a row"),
    HandoverReason.BOT_TIMEOUT: _lazy("Handed to the team: the bot did not answer in time"),
}


def conversation_escalate_to_humans(
    *,
    conversation: Conversation,
    reason: str = HandoverReason.ASKED,
    team: Team | None = None,
    at: datetime | None = None,
) -> User | None:
    """An automation handed over (the customer asked for a person, the bot failed twice or timed out):
    people handle the conversation from now on. It goes straight to the human queue of `team` (the
    channel's escalation team; None, or a team no longer working the channel: its own team or the one
    working the channel) and is assigned at once when someone has room. The handover time starts the
    escalation clock (`inbox.services.automations.escalations_advance`). Returns the assignee, if any."""
    at = at or timezone.now()
    if team is not None and not team.channels.filter(pk=conversation.channel_id).exists():
        team = None
    with transaction.atomic():
        locked = _locked(conversation)
        locked.handled_by = HandledBy.HUMAN
        locked.handover_at, locked.handover_reason = at, reason
        locked.human_answered_at, locked.escalation_level, locked.bot_failures = None, 0, 0
        fields = ["handled_by", "handover_at", "handover_reason", "human_answered_at", "escalation_level"]
        if locked.status != ConversationStatus.OPEN:
            locked.status, locked.snoozed_until = ConversationStatus.OPEN, None
            fields += ["status", "snoozed_until"]
        locked.save(update_fields=[*fields, "bot_failures"])
        activity_add(
            conversation=locked,
            actor=None,
            text=str(_HANDOVER_LINES.get(reason, _HANDOVER_LINES[HandoverReason.ASKED])),
            details={"action": "escalated", "reason": reason, "team_id": team.pk if team is not None else None},
            at=at,
        )
        if team is not None and team.pk != locked.team_id:
            # Whoever held it keeps it if they are on the escalation team; otherwise it waits in that team's queue.
            keeper = locked.assignee
            future = Conversation(pk=locked.pk, channel_id=locked.channel_id, team=team)
            if keeper is not None and not (
                team.members.filter(pk=keeper.pk).exists() and access.can_be_assigned(keeper, future)
            ):
                keeper = None
            _set_holder(conversation=locked, actor=None, assignee=keeper, team=team, change_team=True, verb="assigned")
        events.publish_conversation(locked.pk)
    return conversation_auto_assign(conversation_id=conversation.pk)


# --- Presence ---------------------------------------------------------------------------------------------


def user_presence_set(*, user: User, presence: str) -> User:
    """Online, away or offline. Coming online serves the person's teams' queues."""
    if presence not in Presence.values:
        raise WorkflowRefused("invalid_presence", _("Presence is online, away or offline."))
    now = timezone.now()
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(presence=presence, presence_changed_at=now)
        user.presence, user.presence_changed_at = presence, now
        if presence == Presence.ONLINE:
            _serve_queues_of(user.pk)
    return user


# A socket says it is alive on connect and every ping (about every 25 s, at worst once a minute in a
# background tab); a person whose last socket stayed quiet this long has closed Switchboard.
SOCKET_QUIET_SECONDS = 120


def _seen_key(user_id: int) -> str:
    return f"workflow:socket-seen:{user_id}"


def socket_seen(*, user_id: int) -> None:
    """A socket of this person is open right now (the consumer calls this on connect, ping and close)."""
    cache.set(_seen_key(user_id), time.time(), SOCKET_QUIET_SECONDS * 10)


def users_presence_expire(*, now: datetime | None = None) -> int:
    """Set offline the people shown online or away whose sockets have been quiet for SOCKET_QUIET_SECONDS
    (someone without any socket counts from when they last changed presence). The beat runs it every
    minute. Returns how many went offline."""
    now = now or timezone.now()
    present = dict(User.objects.exclude(presence=Presence.OFFLINE).values_list("pk", "presence_changed_at"))
    seen = cache.get_many([_seen_key(pk) for pk in present])
    expired = []
    for pk, changed_at in present.items():
        last = max(seen.get(_seen_key(pk), 0.0), changed_at.timestamp() if changed_at else 0.0)
        if now.timestamp() - last > SOCKET_QUIET_SECONDS:
            expired.append(pk)
    if expired:
        User.objects.filter(pk__in=expired).exclude(presence=Presence.OFFLINE).update(
            presence=Presence.OFFLINE, presence_changed_at=now
        )
    return len(expired)


# --- Status -----------------------------------------------------------------------------------------------


def conversation_status_set(
    *, conversation: Conversation, actor: User, status: str, snoozed_until: datetime | None = None
) -> Conversation:
    """Resolve, reopen, mark pending, or snooze until a time (woken by the clock or the customer)."""
    _require_work(actor, conversation)
    if status not in ConversationStatus.values:
        raise WorkflowRefused("invalid_status", _("Unknown status."))
    now = timezone.now()
    if status == ConversationStatus.SNOOZED and (snoozed_until is None or snoozed_until <= now):
        raise WorkflowRefused("invalid_snooze", _("Snooze until a time in the future."))
    with transaction.atomic():
        locked = _locked(conversation)
        previous = locked.status
        until = snoozed_until if status == ConversationStatus.SNOOZED else None
        if previous == status and locked.snoozed_until == until:
            return locked
        locked.status, locked.snoozed_until = status, until
        if status not in WORKING_STATUSES:
            locked.queued_at = None
        locked.save(update_fields=["status", "snoozed_until", "queued_at"])
        texts = {
            ConversationStatus.RESOLVED: _("%(actor)s resolved this"),
            ConversationStatus.PENDING: _("%(actor)s marked this pending"),
            ConversationStatus.OPEN: _("%(actor)s reopened this"),
            ConversationStatus.SNOOZED: _("%(actor)s snoozed this until %(until)s"),
        }
        until_text = timezone.localtime(until).strftime("%Y-%m-%d %H:%M") if until else ""
        details = {"action": "status", "from": previous, "to": status}
        if until:
            details["snoozed_until"] = until.isoformat()
        text = texts[status] % {"actor": _name(actor), "until": until_text}
        activity_add(conversation=locked, actor=actor, text=text, details=details, at=now)
        if status == ConversationStatus.RESOLVED:
            audit_record(actor=actor, action="conversation.resolved", target=locked, details=details)
        if previous in WORKING_STATUSES and status not in WORKING_STATUSES:
            _serve_queues_of(locked.assignee_id)
        if status in WORKING_STATUSES and previous not in WORKING_STATUSES and locked.assignee_id is None:
            conversation_auto_assign_later(conversation_id=locked.pk)
        events.publish_conversation(locked.pk)
    return locked


def _wake(*, conversation: Conversation, text: str, action: str, at: datetime) -> bool:
    """Snoozed or resolved → open, once (a conditional UPDATE, so two wakers write one line)."""
    woken = (
        Conversation.objects.filter(pk=conversation.pk, status=conversation.status)
        .exclude(status__in=WORKING_STATUSES)
        .update(status=ConversationStatus.OPEN, snoozed_until=None)
    )
    if not woken:
        return False
    previous = conversation.status
    conversation.status, conversation.snoozed_until = ConversationStatus.OPEN, None
    activity_add(conversation=conversation, actor=None, text=text, details={"action": action, "from": previous}, at=at)
    if conversation.assignee_id is None:
        conversation_auto_assign_later(conversation_id=conversation.pk)
    events.publish_conversation(conversation.pk)
    return True


def conversation_customer_returned(*, conversation: Conversation, at: datetime) -> bool:
    """The customer wrote in a snoozed or resolved conversation: it opens again (ingest calls this)."""
    if conversation.status == ConversationStatus.SNOOZED:
        return _wake(conversation=conversation, text=_("Snooze ended: the customer wrote"), action="woken", at=at)
    if conversation.status == ConversationStatus.RESOLVED:
        return _wake(conversation=conversation, text=_("Reopened: the customer wrote again"), action="reopened", at=at)
    return False


def conversations_wake_due(*, now: datetime | None = None) -> int:
    """Snoozes whose time has come end (the beat runs this every minute). Returns how many woke."""
    now = now or timezone.now()
    woken = 0
    due = Conversation.objects.filter(status=ConversationStatus.SNOOZED, snoozed_until__lte=now)
    for conversation in due.order_by("snoozed_until", "pk")[:500]:
        with transaction.atomic():
            woken += _wake(conversation=conversation, text=_("Snooze ended"), action="woken", at=now)
    return woken


# --- Priority and labels -------------------------------------------------------------------------------------


def conversation_priority_set(*, conversation: Conversation, actor: User, priority: str) -> Conversation:
    _require_work(actor, conversation)
    if priority not in Priority.values:
        raise WorkflowRefused("invalid_priority", _("Unknown priority."))
    with transaction.atomic():
        locked = _locked(conversation)
        if locked.priority == priority:
            return locked
        previous, locked.priority = locked.priority, priority
        locked.save(update_fields=["priority"])
        activity_add(
            conversation=locked,
            actor=actor,
            text=_("%(actor)s set the priority to %(priority)s")
            % {"actor": _name(actor), "priority": Priority(priority).label},
            details={"action": "priority", "from": previous, "to": priority},
        )
        events.publish_conversation(locked.pk)
    return locked


def conversation_labels_set(
    *, conversation: Conversation, actor: User, labels: Iterable[Label], add_only: bool = False
) -> Conversation:
    """Make the conversation's labels exactly `labels` (or only add them, for bulk labelling)."""
    _require_work(actor, conversation)
    wanted = {label.pk: label for label in labels}
    with transaction.atomic():
        locked = _locked(conversation)
        current = {label.pk: label for label in locked.labels.all()}
        added = [wanted[pk] for pk in wanted.keys() - current.keys()]
        removed = [] if add_only else [current[pk] for pk in current.keys() - wanted.keys()]
        if not added and not removed:
            return locked
        if added:
            locked.labels.add(*added)
        if removed:
            locked.labels.remove(*removed)
        parts = []
        if added:
            parts.append(_("added %(labels)s") % {"labels": ", ".join(sorted(label.name for label in added))})
        if removed:
            parts.append(_("removed %(labels)s") % {"labels": ", ".join(sorted(label.name for label in removed))})
        activity_add(
            conversation=locked,
            actor=actor,
            text=_("%(actor)s %(changes)s") % {"actor": _name(actor), "changes": _(" and ").join(parts)},
            details={
                "action": "labels",
                "added": sorted(label.pk for label in added),
                "removed": sorted(label.pk for label in removed),
            },
        )
        events.publish_conversation(locked.pk)
    return locked


def label_create(*, actor: User, name: str, color: str = "") -> Label:
    """Admins keep the shared list of labels; agents apply them."""
    if not access.can_manage_labels(actor):
        raise WorkflowRefused("permission_denied", _("Only admins manage the list of labels."))
    name = " ".join(name.split())
    if not name:
        raise WorkflowRefused("invalid_label", _("A label needs a name."))
    # The colour is written into a style attribute: only a hex colour, never free text.
    if color and not re.fullmatch(r"#[0-9a-fA-F]{6}", color):
        raise WorkflowRefused("invalid_color", _("A label's colour is written like #1a7f5a."))
    with transaction.atomic():
        if Label.objects.filter(name__iexact=name).exists():
            raise WorkflowRefused("duplicate_name", _("A label with this name exists already."))
        label = Label.objects.create(name=name, **({"color": color} if color else {}))
        audit_record(actor=actor, action="label.created", target=label, details={"name": name})
    return label


def label_update(*, label: Label, actor: User, name: str | None = None, color: str | None = None) -> Label:
    """Rename and/or recolour a label; the conversations carrying it keep it (admins only)."""
    if not access.can_manage_labels(actor):
        raise WorkflowRefused("permission_denied", _("Only admins manage the list of labels."))
    changes: dict[str, str] = {}
    if name is not None:
        name = " ".join(name.split())
        if not name:
            raise WorkflowRefused("invalid_label", _("A label needs a name."))
        if name != label.name:
            changes["name"] = name
    if color is not None and color != label.color:
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", color):
            raise WorkflowRefused("invalid_color", _("A label's colour is written like #1a7f5a."))
        changes["color"] = color
    if not changes:
        return label
    with transaction.atomic():
        if "name" in changes and Label.objects.filter(name__iexact=name).exclude(pk=label.pk).exists():
            raise WorkflowRefused("duplicate_name", _("A label with this name exists already."))
        details = {field: [getattr(label, field), value] for field, value in changes.items()}
        for field, value in changes.items():
            setattr(label, field, value)
        label.save(update_fields=list(changes))
        audit_record(actor=actor, action="label.updated", target=label, details=details)
    return label


def label_delete(*, label: Label, actor: User) -> int:
    """Delete a label from the shared list and from every conversation carrying it (admins only).
    Returns how many conversations carried it."""
    if not access.can_manage_labels(actor):
        raise WorkflowRefused("permission_denied", _("Only admins manage the list of labels."))
    with transaction.atomic():
        carried = label.conversations.count()
        audit_record(
            actor=actor, action="label.deleted", target=label, details={"name": label.name, "conversations": carried}
        )
        label.delete()
    return carried


# --- Bulk actions -----------------------------------------------------------------------------------------


class BulkAction(StrEnum):
    ASSIGN = "assign"
    LABEL = "label"
    RESOLVE = "resolve"


@dataclass(frozen=True)
class BulkResult:
    changed: list[int]
    refused: dict[int, str]


def conversations_bulk(
    *,
    actor: User,
    conversations: Iterable[Conversation],
    action: BulkAction,
    assignee: User | None = None,
    team: Team | None = None,
    labels: Iterable[Label] = (),
) -> BulkResult:
    """One action on many selected conversations, in one transaction. Conversations the action is refused
    for (not assignable there, out of the actor's reach) are reported, the others changed."""
    labels = list(labels)
    changed, refused = [], {}
    with transaction.atomic():
        for conversation in conversations:
            try:
                if action == BulkAction.ASSIGN:
                    conversation_assign(conversation=conversation, actor=actor, assignee=assignee, team=team)
                elif action == BulkAction.LABEL:
                    conversation_labels_set(conversation=conversation, actor=actor, labels=labels, add_only=True)
                else:
                    conversation_status_set(conversation=conversation, actor=actor, status=ConversationStatus.RESOLVED)
            except WorkflowRefused as refusal:
                refused[conversation.pk] = refusal.code
            else:
                changed.append(conversation.pk)
    return BulkResult(changed, refused)


# --- Saved views ------------------------------------------------------------------------------------------

SAVED_VIEW_FILTERS = ("view", "status", "channel", "label", "priority", "window", "assignee", "team")


def saved_view_create(*, owner: User, name: str, filters: dict) -> SavedView:
    """Keep the list's current filters under a name (only the known filter keys, as text)."""
    name = " ".join(name.split())[:80]
    if not name:
        raise WorkflowRefused("invalid_name", _("Give the view a name."))
    kept = {key: str(value) for key, value in filters.items() if key in SAVED_VIEW_FILTERS and value not in ("", None)}
    with transaction.atomic():
        view, _created = SavedView.objects.update_or_create(owner=owner, name=name, defaults={"filters": kept})
    return view


def saved_view_delete(*, owner: User, saved_view_id: int) -> bool:
    deleted, _rows = SavedView.objects.filter(owner=owner, pk=saved_view_id).delete()
    return bool(deleted)
