"""Who may see and do what: one function per resource, used by every path (pages, API, the socket and
each event it forwards, search, exports, media). Nothing else decides access.

The rules (issue 4):
- Admins see and do everything. Managers see everything and change nothing (they watch quality).
- Agents see the conversations of the channels their teams work. A conversation handed to a team
  (`Conversation.team`) is seen only by that team's members; one with no team by every team working its
  channel. A new channel is worked by no team until an admin says so, so agents see nothing of it.
- Whatever is out of someone's sight answers exactly as if it did not exist (404), so ids reveal nothing.

Changes to who sees what (team members, team channels, a conversation moved to another team, a role or
deactivation) are announced with `events.publish_access_changed`; open sockets recompute at once.
"""

from django.db.models import Q, QuerySet

from accounts.models import Role, Team, User
from inbox.models import Channel, Contact, Conversation, LiveEvent, Message


def _active(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active)


def sees_everything(user: User) -> bool:
    """Admins and managers see every channel, team and conversation."""
    return _active(user) and user.role in (Role.ADMIN, Role.MANAGER)


def _is_admin(user: User) -> bool:
    return _active(user) and user.role == Role.ADMIN


# Teams and channels


def teams_visible_to(user: User) -> QuerySet[Team]:
    """Every team for admins and managers; an agent's own teams for agents."""
    if not _active(user):
        return Team.objects.none()
    if sees_everything(user):
        return Team.objects.all()
    return Team.objects.filter(members=user)


def _worked_channel_ids(user: User) -> QuerySet:
    """The ids of the channels worked by the person's teams, as a subquery."""
    return Team.channels.through.objects.filter(team__members=user).values("channel_id")


def channels_visible_to(user: User) -> QuerySet[Channel]:
    if not _active(user):
        return Channel.objects.none()
    if sees_everything(user):
        return Channel.objects.all()
    return Channel.objects.filter(pk__in=_worked_channel_ids(user))


def can_view_channel(user: User, channel_id: int) -> bool:
    return channels_visible_to(user).filter(pk=channel_id).exists()


# Conversations and messages


def conversations_visible_to(user: User) -> QuerySet[Conversation]:
    if not _active(user):
        return Conversation.objects.none()
    if sees_everything(user):
        return Conversation.objects.all()
    return Conversation.objects.filter(
        Q(team__isnull=True) | Q(team__in=Team.objects.filter(members=user).values("pk")),
        channel__in=_worked_channel_ids(user),
    )


def can_view_conversation(user: User, conversation: Conversation) -> bool:
    """Judged on the object as given (its channel and team), so a caller may ask before saving a change."""
    if not _active(user):
        return False
    if sees_everything(user):
        return True
    teams = Team.objects.filter(members=user)
    if conversation.team_id is not None and not teams.filter(pk=conversation.team_id).exists():
        return False
    return teams.filter(channels=conversation.channel_id).exists()


def can_view_event(user: User, *, channel_id: int, conversation_id: int | None) -> bool:
    """Whether a live event may be forwarded to this person's socket: events about a conversation follow the
    conversation's visibility, the others (channel health ...) the channel's."""
    if sees_everything(user):
        return True
    if conversation_id is None:
        return can_view_channel(user, channel_id)
    return conversations_visible_to(user).filter(pk=conversation_id, channel_id=channel_id).exists()


def live_events_visible_to(user: User) -> QuerySet[LiveEvent]:
    """Stored live events a reconnecting socket may replay: the same rule as `can_view_event`."""
    if not _active(user):
        return LiveEvent.objects.none()
    if sees_everything(user):
        return LiveEvent.objects.all()
    return LiveEvent.objects.filter(
        Q(conversation_id__isnull=True, channel_id__in=_worked_channel_ids(user))
        | Q(conversation_id__in=conversations_visible_to(user).values("pk"))
    )


def messages_visible_to(user: User) -> QuerySet[Message]:
    if not _active(user):
        return Message.objects.none()
    if sees_everything(user):
        return Message.objects.all()
    return Message.objects.filter(conversation__in=conversations_visible_to(user).values("pk"))


def can_view_message(user: User, message: Message) -> bool:
    if sees_everything(user):
        return True
    return conversations_visible_to(user).filter(pk=message.conversation_id).exists()


def can_reply(user: User, conversation: Conversation) -> bool:
    """Agents and admins answer customers; managers watch and never write."""
    return _active(user) and user.role in (Role.AGENT, Role.ADMIN) and can_view_conversation(user, conversation)


def can_work_conversation(user: User, conversation: Conversation) -> bool:
    """May change the conversation itself (assign, move, resolve, snooze, label, note): whoever may reply."""
    return can_reply(user, conversation)


def can_be_assigned(person: User, conversation: Conversation) -> bool:
    """Whether `person` may hold the conversation: an active agent or admin who can see it."""
    return _active(person) and person.role in (Role.AGENT, Role.ADMIN) and can_view_conversation(person, conversation)


def can_assign(user: User, conversation: Conversation, assignee: User | None) -> bool:
    """`user` may give the conversation to `assignee` (None: unassign). An agent may take it, hand it to a
    teammate who sees it, or let it go; nobody can be given a conversation they could not open."""
    if not can_work_conversation(user, conversation):
        return False
    return assignee is None or can_be_assigned(assignee, conversation)


def can_transfer(user: User, conversation: Conversation, team: Team | None) -> bool:
    """`user` may move the conversation to `team` (None: back to every team working the channel). The team
    must work the conversation's channel, or its members could never see it."""
    if not can_work_conversation(user, conversation):
        return False
    return team is None or team.channels.filter(pk=conversation.channel_id).exists()


# Contacts


def contacts_visible_to(user: User) -> QuerySet[Contact]:
    """Every contact for admins and managers; for agents, the contacts of the conversations they see (a
    customer who only wrote to another team's number stays out of sight)."""
    if not _active(user):
        return Contact.objects.none()
    if sees_everything(user):
        return Contact.objects.all()
    return Contact.objects.filter(pk__in=conversations_visible_to(user).values("contact_id"))


def can_view_contact(user: User, contact: Contact) -> bool:
    return contacts_visible_to(user).filter(pk=contact.pk).exists()


def can_edit_contact(user: User, contact: Contact) -> bool:
    """Agents and admins who see the contact keep its details; managers watch and change nothing."""
    return _active(user) and user.role in (Role.AGENT, Role.ADMIN) and can_view_contact(user, contact)


# Administration


def can_manage_channels(user: User) -> bool:
    return _is_admin(user)


def can_view_webhook_events(user: User) -> bool:
    return can_manage_channels(user)


def can_manage_users(user: User) -> bool:
    """Invite, deactivate, change roles and capacity: admins only."""
    return _is_admin(user)


def can_view_users(user: User) -> bool:
    """The people list: admins, and managers who read it for their dashboards."""
    return sees_everything(user)


def can_manage_teams(user: User) -> bool:
    return _is_admin(user)


def can_view_audit_log(user: User) -> bool:
    return _is_admin(user)


# Working together


def people_who_can_view(conversation: Conversation) -> QuerySet[User]:
    """Everyone active who may see the conversation (mention autocomplete and notifications), by the same
    rule as `can_view_conversation`, in one query."""
    memberships = Team.members.through.objects
    member = Q(pk__in=memberships.filter(team__channels=conversation.channel_id).values("user_id"))
    if conversation.team_id is not None:
        member &= Q(pk__in=memberships.filter(team_id=conversation.team_id).values("user_id"))
    return User.objects.filter(Q(role__in=(Role.ADMIN, Role.MANAGER)) | member, is_active=True)


def can_manage_labels(user: User) -> bool:
    """The shared list of labels: admins keep it; agents only apply labels (`can_work_conversation`)."""
    return _is_admin(user)


def people_assignable_to(conversation: Conversation) -> QuerySet[User]:
    """Everyone `can_be_assigned` accepts for this conversation, for the assignee picker: active agents of
    the teams that see it, and admins."""
    teams = Team.objects.filter(channels=conversation.channel_id)
    if conversation.team_id is not None:
        teams = teams.filter(pk=conversation.team_id)
    return (
        User.objects.filter(is_active=True)
        .filter(Q(role=Role.ADMIN) | Q(role=Role.AGENT, teams__in=teams.values("pk")))
        .distinct()
        .order_by("name", "email")
    )


# Automations and escalation


def can_manage_automation(user: User, channel_id: int) -> bool:
    """A channel's auto-replies, bot hook and escalation route: admins only (they speak for the business)."""
    return _is_admin(user) and Channel.objects.filter(pk=channel_id).exists()


def can_view_automation_state(user: User, conversation: Conversation) -> bool:
    """Who answers a conversation (bot or people) and its escalation clock: whoever sees the conversation."""
    return can_view_conversation(user, conversation)


def can_take_over(user: User, conversation: Conversation) -> bool:
    """Take a conversation from the bot: whoever may reply in it (agents of its teams and admins)."""
    return can_reply(user, conversation)


# Consent ledger


def can_view_consent(user: User, contact: Contact) -> bool:
    """A contact's consent and its history (panel, API, their CSV): whoever sees the contact."""
    return can_view_contact(user, contact)


def can_record_consent(user: User, contact: Contact) -> bool:
    """Record an opt-in or opt-out on the customer's word: agents and admins who see the contact; managers
    read."""
    return can_edit_contact(user, contact)


def can_export_consent_ledger(user: User) -> bool:
    """Every contact's ledger in one file: admins only (it names every customer)."""
    return _is_admin(user)


# Number health and business profile


def can_view_number_health(user: User) -> bool:
    """A number's quality, status, messaging limit, throughput and timeline: admins, and managers (they
    watch quality; read-only). Agents do not: a restriction is an admin's matter."""
    return sees_everything(user)


def can_manage_number_health(user: User) -> bool:
    """Sync a number now or change its throughput: admins only."""
    return _is_admin(user)


def can_manage_business_profile(user: User) -> bool:
    """View and edit the business profile WhatsApp shows customers (it speaks for the business): admins."""
    return _is_admin(user)


# Identity changes


def can_view_identity(user: User, contact: Contact) -> bool:
    """Whether a contact's sending is held for a changed number or identity, and who last acknowledged one:
    whoever sees the contact."""
    return can_view_contact(user, contact)


def can_acknowledge_identity(user: User, contact: Contact) -> bool:
    """Release the hold after checking it is still the same person: whoever may edit the contact (agents
    and admins who see it); managers read."""
    return can_edit_contact(user, contact)
