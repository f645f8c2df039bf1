"""The admins' settings pages: users, teams, labels, channels and the audit log. Thin views: authorise with
`inbox.access`, read with `accounts.selectors`, write with `accounts.services`, render.

Every form posts and redirects back (htmx boosts the links and forms, so nothing reloads the whole page).
Destructive actions (deactivate, delete a team) answer their first post with a confirmation that says what
will happen; only the confirmed post acts."""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import selectors, services
from accounts.models import Presence, Role, Team, User
from inbox import access
from inbox.api.errors import ApiError
from inbox.api.pagination import decode_cursor, encode_cursor
from inbox.models import Channel, Label
from inbox.services import workflow

AUDIT_PAGE_SIZE = 50


def admin_only(view: Callable) -> Callable:
    """Signed in (else the login page) and an admin (else 403)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not access.can_manage_users(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _page(request: HttpRequest, template: str, section: str, **context) -> HttpResponse:
    return render(request, f"accounts/settings/{template}", {"section": section, **context})


def _run(request: HttpRequest, service: Callable, success: str, **kwargs) -> bool:
    """Call a service; say what happened (or why not) in a message. True when it worked."""
    try:
        service(actor=request.user, **kwargs)
    except services.InvalidChange as exc:
        messages.error(request, exc.detail)
        return False
    messages.success(request, success)
    return True


def _confirm(request: HttpRequest, *, title: str, explanation: str, button: str, cancel_url: str) -> HttpResponse:
    return _page(
        request,
        "confirm.html",
        "",
        title=title,
        explanation=explanation,
        button=button,
        action=request.path,
        cancel_url=cancel_url,
        # Every posted value again (a list of members has many), for the confirmed post.
        fields=[
            (name, value)
            for name, values in request.POST.lists()
            if name not in ("csrfmiddlewaretoken", "confirmed")
            for value in values
        ],
    )


def _user_or_404(request: HttpRequest, user_id: int) -> User:
    user = selectors.user_get(user=request.user, user_id=user_id)
    if user is None:
        raise Http404
    return user


def _team_or_404(request: HttpRequest, team_id: int) -> Team:
    team = selectors.team_get(user=request.user, team_id=team_id)
    if team is None:
        raise Http404
    return team


def _ids(request: HttpRequest, name: str) -> set[int]:
    return {int(value) for value in request.POST.getlist(name) if value.isdigit()}


@require_GET
@admin_only
def settings_home(request: HttpRequest) -> HttpResponse:
    return redirect("settings:users")


# Users


@require_GET
@admin_only
def users_page(request: HttpRequest) -> HttpResponse:
    return _render_users(request)


def _render_users(request: HttpRequest, **context) -> HttpResponse:
    return _page(
        request,
        "users.html",
        "users",
        users=selectors.user_list(user=request.user),
        roles=Role.choices,
        teams=selectors.team_list(user=request.user),
        **context,
    )


@require_POST
@admin_only
def user_invite(request: HttpRequest) -> HttpResponse:
    email = request.POST.get("email", "").strip()
    role = request.POST.get("role", Role.AGENT)
    teams = list(Team.objects.filter(pk__in=_ids(request, "teams")))
    try:
        validate_email(email)
        link = services.invitation_create(actor=request.user, email=email, role=role, teams=teams)
    except ValidationError:
        messages.error(request, _("Enter a valid e-mail address."))
        return _render_users(request, invite_email=email)
    except services.InvalidChange as exc:
        messages.error(request, exc.detail)
        return _render_users(request, invite_email=email)
    # The link is shown once, here: only its hash is stored.
    return _render_users(request, invitation=link.invitation, invite_url=request.build_absolute_uri(link.path))


@require_http_methods(["GET", "POST"])
@admin_only
def user_page(request: HttpRequest, user_id: int) -> HttpResponse:
    """The person's page. Its one form without a route of its own posts here: may an agent write templates."""
    person = _user_or_404(request, user_id)
    if request.method == "POST":
        allowed = request.POST.get("can_author_templates") == "1"
        _run(
            request,
            services.user_set_template_author,
            _("They may now write message templates.") if allowed else _("They may no longer write message templates."),
            user=person,
            allowed=allowed,
        )
        return redirect("settings:user", user_id=person.pk)
    return _page(
        request,
        "user.html",
        "users",
        person=person,
        roles=Role.choices,
        presence=Presence(person.presence).label,
        open_conversations=person.assigned_conversations.exclude(status="resolved").count(),
    )


@require_POST
@admin_only
def user_role(request: HttpRequest, user_id: int) -> HttpResponse:
    person = _user_or_404(request, user_id)
    _run(request, services.user_set_role, _("Role changed."), user=person, role=request.POST.get("role", ""))
    return redirect("settings:user", user_id=person.pk)


@require_POST
@admin_only
def user_capacity(request: HttpRequest, user_id: int) -> HttpResponse:
    person = _user_or_404(request, user_id)
    value = request.POST.get("max_open_conversations", "")
    if not value.isdigit() or int(value) > 10_000:
        messages.error(request, _("Capacity is a number of conversations, from 0 to 10000."))
    else:
        _run(
            request,
            services.user_set_capacity,
            _("Capacity saved."),
            user=person,
            max_open_conversations=int(value),
        )
    return redirect("settings:user", user_id=person.pk)


@require_POST
@admin_only
def user_active(request: HttpRequest, user_id: int) -> HttpResponse:
    person = _user_or_404(request, user_id)
    activate = request.POST.get("is_active") == "1"
    if not activate and request.POST.get("confirmed") != "1":
        return _confirm(
            request,
            title=_("Deactivate %(name)s?") % {"name": person},
            explanation=_(
                "They are signed out at once, everywhere: their open pages and live updates stop, and they can no "
                "longer log in or use API tokens. Conversations assigned to them stay assigned until someone "
                "takes them over. You can reactivate the account later."
            ),
            button=_("Deactivate"),
            cancel_url=reverse("settings:user", args=[person.pk]),
        )
    _run(
        request,
        services.user_set_active,
        _("Account reactivated.") if activate else _("Account deactivated."),
        user=person,
        is_active=activate,
    )
    return redirect("settings:user", user_id=person.pk)


# Teams


@require_GET
@admin_only
def teams_page(request: HttpRequest) -> HttpResponse:
    return _page(request, "teams.html", "teams", teams=selectors.team_list(user=request.user))


@require_POST
@admin_only
def team_create(request: HttpRequest) -> HttpResponse:
    try:
        team = services.team_create(actor=request.user, name=request.POST.get("name", ""))
    except services.InvalidChange as exc:
        messages.error(request, exc.detail)
        return redirect("settings:teams")
    messages.success(request, _("Team created: choose its members and the channels it works."))
    return redirect("settings:team", team_id=team.pk)


@require_GET
@admin_only
def team_page(request: HttpRequest, team_id: int) -> HttpResponse:
    team = _team_or_404(request, team_id)
    return _page(
        request,
        "team.html",
        "teams",
        team=team,
        member_ids={member.pk for member in team.members.all()},
        channel_ids={channel.pk for channel in team.channels.all()},
        people=User.objects.filter(is_active=True).order_by("email"),
        channels=Channel.objects.order_by("name", "id"),
    )


@require_POST
@admin_only
def team_rename(request: HttpRequest, team_id: int) -> HttpResponse:
    team = _team_or_404(request, team_id)
    _run(request, services.team_rename, _("Team renamed."), team=team, name=request.POST.get("name", ""))
    return redirect("settings:team", team_id=team.pk)


@require_POST
@admin_only
def team_members(request: HttpRequest, team_id: int) -> HttpResponse:
    team = _team_or_404(request, team_id)
    wanted = _ids(request, "members")
    current = {member.pk for member in team.members.all()}
    removed = User.objects.filter(pk__in=current - wanted).order_by("email")
    if removed and request.POST.get("confirmed") != "1":
        names = ", ".join(str(person) for person in removed)
        return _confirm(
            request,
            title=_("Remove %(names)s from %(team)s?") % {"names": names, "team": team.name},
            explanation=_(
                "They stop seeing this team's conversations at once, open pages included, unless another of "
                "their teams works the same channels."
            ),
            button=_("Save members"),
            cancel_url=reverse("settings:team", args=[team.pk]),
        )
    members = User.objects.filter(pk__in=wanted)
    _run(request, services.team_set_members, _("Members saved."), team=team, members=members)
    return redirect("settings:team", team_id=team.pk)


@require_POST
@admin_only
def team_channels(request: HttpRequest, team_id: int) -> HttpResponse:
    team = _team_or_404(request, team_id)
    channels = Channel.objects.filter(pk__in=_ids(request, "channels"))
    _run(request, services.team_set_channels, _("Channels saved."), team=team, channels=channels)
    return redirect("settings:team", team_id=team.pk)


@require_POST
@admin_only
def team_delete(request: HttpRequest, team_id: int) -> HttpResponse:
    team = _team_or_404(request, team_id)
    if request.POST.get("confirmed") != "1":
        return _confirm(
            request,
            title=_("Delete the team %(team)s?") % {"team": team.name},
            explanation=_(
                "Its members stop seeing the channels only this team gave them, at once. Its conversations go back "
                "to every team working their channel. Nothing else is deleted."
            ),
            button=_("Delete team"),
            cancel_url=reverse("settings:team", args=[team.pk]),
        )
    if _run(request, services.team_delete, _("Team deleted."), team=team):
        return redirect("settings:teams")
    return redirect("settings:team", team_id=team.pk)


# Labels


@require_GET
@admin_only
def labels_page(request: HttpRequest) -> HttpResponse:
    labels = Label.objects.annotate(conversation_count=Count("conversations")).order_by("name")
    return _page(request, "labels.html", "labels", labels=labels)


def _label_or_404(label_id: int) -> Label:
    label = Label.objects.filter(pk=label_id).first()
    if label is None:
        raise Http404
    return label


def _run_label(request: HttpRequest, service: Callable, success: str, **kwargs) -> bool:
    """As `_run`, for the label services of the workflow layer."""
    try:
        service(actor=request.user, **kwargs)
    except workflow.WorkflowRefused as refusal:
        messages.error(request, refusal.detail)
        return False
    messages.success(request, success)
    return True


@require_POST
@admin_only
def label_create(request: HttpRequest) -> HttpResponse:
    _run_label(
        request,
        workflow.label_create,
        _("Label created."),
        name=request.POST.get("name", ""),
        color=request.POST.get("color", ""),
    )
    return redirect("settings:labels")


@require_POST
@admin_only
def label_rename(request: HttpRequest, label_id: int) -> HttpResponse:
    label = _label_or_404(label_id)
    _run_label(
        request,
        workflow.label_update,
        _("Label saved."),
        label=label,
        name=request.POST.get("name", ""),
        color=request.POST.get("color") or None,
    )
    return redirect("settings:labels")


@require_POST
@admin_only
def label_delete(request: HttpRequest, label_id: int) -> HttpResponse:
    label = _label_or_404(label_id)
    if request.POST.get("confirmed") != "1":
        carried = label.conversations.count()
        return _confirm(
            request,
            title=_("Delete the label %(label)s?") % {"label": label.name},
            explanation=ngettext(
                "It is taken off the %(count)d conversation carrying it. Saved views filtering by it show nothing.",
                "It is taken off the %(count)d conversations carrying it. Saved views filtering by it show nothing.",
                carried,
            )
            % {"count": carried},
            button=_("Delete label"),
            cancel_url=reverse("settings:labels"),
        )
    _run_label(request, workflow.label_delete, _("Label deleted."), label=label)
    return redirect("settings:labels")


# Channels and the audit log


@require_GET
@admin_only
def channels_page(request: HttpRequest) -> HttpResponse:
    return _page(request, "channels.html", "channels", channels=selectors.channel_list_with_teams(user=request.user))


@require_GET
@admin_only
def audit_page(request: HttpRequest) -> HttpResponse:
    cursor = request.GET.get("cursor")
    try:
        after = decode_cursor(cursor) if cursor else None
    except ApiError:
        raise Http404
    page = selectors.audit_page(user=request.user, after=after, limit=AUDIT_PAGE_SIZE)
    next_cursor = encode_cursor(page.next_key) if page.next_key else None
    return _page(request, "audit.html", "audit", entries=page.items, next_cursor=next_cursor)
