"""The inbox's workflow controls: the thread header's status, assignee, team, priority and label pickers,
bulk actions on selected rows, the presence toggle and saved views. htmx posts here and swaps the answer in
place; each action calls one `inbox.services.workflow` service. A refusal answers 403/409/400 with
`{"code", "detail"}`, which the page shows as a toast.
"""

from datetime import datetime, time, timedelta

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Team, User
from inbox import access, selectors
from inbox.models import Conversation, ConversationStatus, Label
from inbox.services import workflow
from inbox.views import display
from inbox.views.inbox import _conversation_or_404, signed_in


def snooze_until(preset: str, custom: str = "", *, now: datetime | None = None) -> datetime | None:
    """The end of a snooze: in an hour, tomorrow at 9:00, next Monday at 9:00 (the viewer's site time zone),
    or a custom time; None when not understood."""
    now = timezone.localtime(now or timezone.now())
    if preset == "1h":
        return now + timedelta(hours=1)
    if preset == "tomorrow":
        return timezone.make_aware(datetime.combine(now.date() + timedelta(days=1), time(9)))
    if preset == "next_week":
        days = 7 - now.weekday()
        return timezone.make_aware(datetime.combine(now.date() + timedelta(days=days), time(9)))
    parsed = parse_datetime(custom) if custom else None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def refusal(refused: workflow.WorkflowRefused) -> JsonResponse:
    status = 403 if refused.code == "permission_denied" else 409
    return JsonResponse({"code": refused.code, "detail": str(refused.detail)}, status=status)


def _header(request: HttpRequest, conversation: Conversation) -> HttpResponse:
    return render(
        request,
        "inbox/_workflow_header.html",
        {"w": display.workflow_header(user=request.user, conversation=conversation)},
    )


def _number(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 19 else None


@signed_in
@require_http_methods(["GET", "POST"])
def conversation_workflow(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """GET: the header's controls. POST `action` = take | assign | unassign | status | priority | labels."""
    conversation = _conversation_or_404(request, conversation_id)
    if request.method == "GET":
        return _header(request, conversation)
    action = request.POST.get("action", "")
    user = request.user
    try:
        if action == "take":
            workflow.conversation_take(conversation=conversation, actor=user)
        elif action == "assign":
            assignee_id, team_id = _number(request.POST.get("assignee_id")), _number(request.POST.get("team_id"))
            if request.POST.get("assignee_id") == "" and team_id is None:
                workflow.conversation_unassign(conversation=conversation, actor=user)
            else:
                assignee = User.objects.filter(pk=assignee_id).first() if assignee_id else None
                team = Team.objects.filter(pk=team_id).first() if team_id else None
                if (assignee_id and assignee is None) or (team_id and team is None):
                    raise workflow.WorkflowRefused("not_assignable", _("No such person or team."))
                workflow.conversation_assign(conversation=conversation, actor=user, assignee=assignee, team=team)
        elif action == "unassign":
            workflow.conversation_unassign(conversation=conversation, actor=user)
        elif action == "status":
            status = request.POST.get("status", "")
            until = None
            if status == ConversationStatus.SNOOZED:
                until = snooze_until(request.POST.get("preset", ""), request.POST.get("until", ""))
            workflow.conversation_status_set(conversation=conversation, actor=user, status=status, snoozed_until=until)
        elif action == "priority":
            workflow.conversation_priority_set(
                conversation=conversation, actor=user, priority=request.POST.get("priority", "")
            )
        elif action == "labels":
            ids = [int(pk) for pk in request.POST.getlist("labels") if pk.isdigit()]
            workflow.conversation_labels_set(
                conversation=conversation, actor=user, labels=Label.objects.filter(pk__in=ids)
            )
        else:
            return JsonResponse({"code": "invalid", "detail": _("Unknown action.")}, status=400)
    except workflow.WorkflowRefused as refused:
        return refusal(refused)
    return _header(request, conversation)


@signed_in
@require_POST
def conversations_bulk(request: HttpRequest) -> HttpResponse:
    """Selected rows: `ids`, `action` (assign | label | resolve), with `assignee_id`/`team_id` or `label`."""
    ids = [int(pk) for pk in request.POST.getlist("ids") if pk.isdigit()][:200]
    try:
        action = workflow.BulkAction(request.POST.get("action", ""))
    except ValueError:
        return JsonResponse({"code": "invalid", "detail": _("Unknown action.")}, status=400)
    assignee_id = _number(request.POST.get("assignee_id"))
    team_id = _number(request.POST.get("team_id"))
    label_id = _number(request.POST.get("label"))
    conversations = access.conversations_visible_to(request.user).filter(pk__in=ids).order_by("pk")
    result = workflow.conversations_bulk(
        actor=request.user,
        conversations=list(conversations),
        action=action,
        assignee=User.objects.filter(pk=assignee_id).first() if assignee_id else None,
        team=Team.objects.filter(pk=team_id).first() if team_id else None,
        labels=Label.objects.filter(pk=label_id) if label_id else (),
    )
    return JsonResponse({"changed": result.changed, "refused": {str(k): v for k, v in result.refused.items()}})


@signed_in
@require_POST
def presence_set(request: HttpRequest) -> HttpResponse:
    """The rail's toggle: online, away or offline; answers the toggle re-rendered."""
    try:
        workflow.user_presence_set(user=request.user, presence=request.POST.get("presence", ""))
    except workflow.WorkflowRefused as refused:
        return refusal(refused)
    return render(request, "inbox/_presence.html")


@signed_in
@require_POST
def saved_view_create(request: HttpRequest) -> HttpResponse:
    """Save the list's current filters under a name; answers the tabs row with the new view in it."""
    filters = display.ListFilters.from_query(request.POST)
    try:
        workflow.saved_view_create(
            owner=request.user,
            name=request.POST.get("name", ""),
            filters={
                "view": filters.view,
                "status": filters.status,
                "channel": filters.channel or "",
                "label": filters.label or "",
                "priority": filters.priority,
                "window": filters.window,
            },
        )
    except workflow.WorkflowRefused as refused:
        return JsonResponse({"code": refused.code, "detail": str(refused.detail)}, status=400)
    return render(request, "inbox/_saved_views.html", {"tabs": display.list_tabs(user=request.user, filters=filters)})


@signed_in
@require_POST
def saved_view_delete(request: HttpRequest, saved_view_id: int) -> HttpResponse:
    workflow.saved_view_delete(owner=request.user, saved_view_id=saved_view_id)
    filters = display.ListFilters.from_query(request.POST)
    return render(request, "inbox/_saved_views.html", {"tabs": display.list_tabs(user=request.user, filters=filters)})


@signed_in
@require_GET
def view_counts(request: HttpRequest) -> HttpResponse:
    """The tabs' counts under the list's current filters (one grouped COUNT), refreshed after live changes."""
    filters = display.ListFilters.from_query(request.GET)
    return render(
        request,
        "inbox/_view_counts.html",
        {
            "tabs": {
                "counts": selectors.conversation_counts(
                    user=request.user, filters=filters.selector_filters(with_view=False)
                )
            }
        },
    )
