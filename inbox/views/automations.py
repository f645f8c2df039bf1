"""A channel's automations, for admins (`/settings/channels/<id>/automation`): business hours, keywords, the
escalation route, the bot hook (with a test message) and the auto-replies; and, in the thread header, who
answers a conversation (the bot or people) with the escalation clock and the "Take over" button.

Thin views: forms parse, `inbox.services.automations` checks and writes (its refusals show next to the form
that tried), pages render. Every form posts and redirects back; a refused one renders the page again with
what was typed and why."""

import re
from collections.abc import Callable
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Team
from inbox import access, policy
from inbox.models import AutomationKind, AutoReply, Channel, FallbackKind, HumanRoute
from inbox.services import automations
from inbox.services.automations import AutomationRefused
from inbox.views import display
from inbox.views.inbox import _conversation_or_404, signed_in

_TIME_RANGE = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*$")
DAY_NAMES = {
    "mon": _lazy("Monday"),
    "tue": _lazy("Tuesday"),
    "wed": _lazy("Wednesday"),
    "thu": _lazy("Thursday"),
    "fri": _lazy("Friday"),
    "sat": _lazy("Saturday"),
    "sun": _lazy("Sunday"),
}


def admins_only(view: Callable) -> Callable:
    """Signed in (else the login page), an admin (else 403), a channel that exists (else 404)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, channel_id: int, *args, **kwargs) -> HttpResponse:
        if not access.can_manage_channels(request.user):
            raise PermissionDenied
        channel = Channel.objects.filter(pk=channel_id).first()
        if channel is None:
            raise Http404
        return view(request, channel, *args, **kwargs)

    return wrapper


def _words(text: str) -> list[str]:
    return [word.strip() for word in re.split(r"[,\n]", text or "") if word.strip()]


def _clock(value: str) -> str:
    hours, minutes = value.split(":")
    return f"{int(hours):02d}:{minutes}"


def hours_text(ranges: list) -> str:
    return ", ".join(f"{start}-{end}" for start, end in ranges or [])


# Forms: they parse what a person typed; the service decides whether it may be.


class HoursForm(forms.Form):
    time_zone = forms.CharField(max_length=64, label=_lazy("Time zone"))
    always_open = forms.BooleanField(required=False, label=_lazy("Open around the clock (no away reply)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for day, name in DAY_NAMES.items():
            self.fields[day] = forms.CharField(required=False, max_length=200, label=name)

    def clean(self):
        data = super().clean()
        hours = {}
        for day in DAY_NAMES:
            ranges = []
            for part in _words(data.get(day, "")):
                if part.lower() in ("closed", _("closed").lower()):
                    continue
                match = _TIME_RANGE.match(part)
                if match is None:
                    self.add_error(day, _("Write opening times like 09:00-17:00, several separated by commas."))
                    break
                ranges.append([_clock(match.group(1)), _clock(match.group(2))])
            hours[day] = ranges
        data["business_hours"] = {} if data.get("always_open") else hours
        return data

    def changes(self) -> dict:
        return {
            "time_zone": self.cleaned_data["time_zone"].strip(),
            "business_hours": self.cleaned_data["business_hours"],
        }

    @classmethod
    def initial_for(cls, automation) -> dict:
        initial = {"time_zone": automation.time_zone, "always_open": not automation.business_hours}
        for day in DAY_NAMES:
            initial[day] = hours_text((automation.business_hours or {}).get(day, []))
        return initial


class KeywordsForm(forms.Form):
    stop_keywords = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    start_keywords = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    human_keywords = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def changes(self) -> dict:
        return {name: _words(self.cleaned_data[name]) for name in self.fields}

    @classmethod
    def initial_for(cls, automation) -> dict:
        return {name: ", ".join(getattr(automation, name)) for name in cls.base_fields}


class RouteForm(forms.Form):
    escalation_team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False)
    answer_within_minutes = forms.IntegerField(min_value=1, max_value=automations.MINUTES_MAX)
    fallback_after_minutes = forms.IntegerField(min_value=1, max_value=automations.MINUTES_MAX)
    fallback_kind = forms.ChoiceField(choices=[("", "—"), *FallbackKind.choices], required=False)
    fallback_text = forms.CharField(required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, channel: Channel, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["escalation_team"].queryset = Team.objects.filter(channels=channel).order_by("name")

    def changes(self) -> dict:
        return dict(self.cleaned_data)

    @classmethod
    def initial_for(cls, automation) -> dict:
        return {name: getattr(automation, name) for name in cls.base_fields}


class BotForm(forms.Form):
    bot_url = forms.CharField(required=False, max_length=500)
    bot_secret = forms.CharField(required=False, max_length=200, widget=forms.PasswordInput(render_value=False))
    bot_timeout_seconds = forms.IntegerField(min_value=1, max_value=automations.BOT_TIMEOUT_MAX)
    bot_enabled = forms.BooleanField(required=False)

    def changes(self) -> dict:
        data = dict(self.cleaned_data)
        data["bot_secret"] = data["bot_secret"] or None  # blank keeps the secret
        return data

    @classmethod
    def initial_for(cls, automation) -> dict:
        return {name: getattr(automation, name) for name in cls.base_fields if name != "bot_secret"}


class ReplyForm(forms.Form):
    kind = forms.ChoiceField(choices=AutomationKind.choices)
    name = forms.CharField(max_length=120)
    text = forms.CharField(max_length=automations.TEXT_MAX, widget=forms.Textarea(attrs={"rows": 3}))
    keywords = forms.CharField(required=False, max_length=1000)
    human_route = forms.ChoiceField(choices=HumanRoute.choices)
    enabled = forms.BooleanField(required=False)

    def changes(self) -> dict:
        return {**self.cleaned_data, "keywords": _words(self.cleaned_data["keywords"])}

    @classmethod
    def initial_for(cls, reply: AutoReply) -> dict:
        return {
            "kind": reply.kind,
            "name": reply.name,
            "text": reply.text,
            "keywords": ", ".join(reply.keywords),
            "human_route": reply.human_route,
            "enabled": reply.enabled,
        }


SECTIONS: dict[str, type[forms.Form]] = {
    "hours": HoursForm,
    "keywords": KeywordsForm,
    "route": RouteForm,
    "bot": BotForm,
}


def _refused_on(form: forms.Form, refusal: AutomationRefused) -> None:
    form.add_error(refusal.field if refusal.field in form.fields else None, refusal.detail)


def _section_form(section: str, channel: Channel, automation, data=None) -> forms.Form:
    form_class = SECTIONS[section]
    kwargs = {"channel": channel} if form_class is RouteForm else {}
    if data is not None:
        return form_class(data, prefix=section, **kwargs)
    return form_class(initial=form_class.initial_for(automation), prefix=section, **kwargs)


def _page(request: HttpRequest, channel: Channel, **overrides) -> HttpResponse:
    automation = automations.automation_settings(channel_id=channel.pk)
    forms_by_section = {section: _section_form(section, channel, automation) for section in SECTIONS}
    forms_by_section.update(overrides.pop("section_forms", {}))
    reply_forms = overrides.pop("reply_forms", {})
    replies = list(AutoReply.objects.filter(channel=channel).order_by("kind", "name", "pk"))
    for reply in replies:
        reply.form = reply_forms.get(reply.pk) or ReplyForm(
            initial=ReplyForm.initial_for(reply), prefix=f"reply-{reply.pk}"
        )
        reply.form_open = reply.pk in reply_forms
    context = {
        "section": "channels",
        "channel": channel,
        "automation": automation,
        "forms": forms_by_section,
        "day_fields": [forms_by_section["hours"][day] for day in DAY_NAMES],
        "replies": replies,
        "new_reply_form": overrides.pop("new_reply_form", None)
        or ReplyForm(initial={"kind": AutomationKind.WELCOME, "human_route": HumanRoute.BUTTON}, prefix="new"),
        "route_gaps": policy.escalation_route_gaps(automations.escalation_route(automation)),
        "builtin": {
            "stop_keywords": ", ".join(policy.STOP_KEYWORDS["en"]),
            "start_keywords": ", ".join(policy.START_KEYWORDS["en"]),
            "human_keywords": ", ".join(policy.HUMAN_KEYWORDS["en"]),
        },
        "human_button_title": policy.HUMAN_BUTTON_TITLES["en"],
        "reply_errors": overrides.pop("reply_errors", {}),
        **overrides,
    }
    return render(request, "inbox/automation/settings.html", context)


def _back(channel: Channel, anchor: str = "") -> HttpResponse:
    url = reverse("automation:settings", args=[channel.pk])
    return redirect(f"{url}#{anchor}" if anchor else url)


@require_http_methods(["GET", "POST"])
@admins_only
def automation_settings(request: HttpRequest, channel: Channel) -> HttpResponse:
    """GET the page; POST one section (`section` = hours | keywords | route | bot)."""
    if request.method == "GET":
        return _page(request, channel)
    section = request.POST.get("section", "")
    if section not in SECTIONS:
        return JsonResponse({"code": "invalid", "detail": _("Unknown section.")}, status=400)
    automation = automations.automation_settings(channel_id=channel.pk)
    form = _section_form(section, channel, automation, data=request.POST)
    if form.is_valid():
        try:
            automations.automation_update(actor=request.user, channel=channel, **form.changes())
        except AutomationRefused as refusal:
            _refused_on(form, refusal)
        else:
            messages.success(request, _("Saved."))
            return _back(channel, f"automation-{section}")
    return _page(request, channel, section_forms={section: form})


@require_POST
@admins_only
def bot_test(request: HttpRequest, channel: Channel) -> HttpResponse:
    """Send the saved bot a test message; show its answer or the error (in place with htmx)."""
    try:
        answer = automations.bot_test(actor=request.user, channel=channel, text=request.POST.get("text", ""))
    except AutomationRefused as refusal:
        raise PermissionDenied(refusal.detail)
    context = {"answer": answer, "sent": request.POST.get("text", "")}
    if request.headers.get("HX-Request"):
        return render(request, "inbox/automation/_bot_test_result.html", context)
    return _page(request, channel, bot_test=context)


@require_POST
@admins_only
def reply_create(request: HttpRequest, channel: Channel) -> HttpResponse:
    form = ReplyForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            automations.auto_reply_create(actor=request.user, channel=channel, **form.changes())
        except AutomationRefused as refusal:
            _refused_on(form, refusal)
        else:
            messages.success(request, _("Auto-reply created."))
            return _back(channel, "automation-replies")
    return _page(request, channel, new_reply_form=form)


def _reply_or_404(channel: Channel, reply_id: int) -> AutoReply:
    reply = AutoReply.objects.filter(channel=channel, pk=reply_id).first()
    if reply is None:
        raise Http404
    return reply


@require_POST
@admins_only
def reply_update(request: HttpRequest, channel: Channel, reply_id: int) -> HttpResponse:
    reply = _reply_or_404(channel, reply_id)
    form = ReplyForm(request.POST, prefix=f"reply-{reply.pk}")
    if form.is_valid():
        try:
            automations.auto_reply_update(actor=request.user, auto_reply=reply, **form.changes())
        except AutomationRefused as refusal:
            _refused_on(form, refusal)
        else:
            messages.success(request, _("Auto-reply saved."))
            return _back(channel, "automation-replies")
    return _page(request, channel, reply_forms={reply.pk: form})


@require_POST
@admins_only
def reply_enabled(request: HttpRequest, channel: Channel, reply_id: int) -> HttpResponse:
    """Switch an auto-reply on or off (`enabled` = 1 or 0); a refusal says why next to it."""
    reply = _reply_or_404(channel, reply_id)
    enabled = request.POST.get("enabled") == "1"
    try:
        automations.auto_reply_update(actor=request.user, auto_reply=reply, enabled=enabled)
    except AutomationRefused as refusal:
        return _page(request, channel, reply_errors={reply.pk: refusal.detail})
    messages.success(request, _("Auto-reply switched on.") if enabled else _("Auto-reply switched off."))
    return _back(channel, "automation-replies")


@require_POST
@admins_only
def reply_delete(request: HttpRequest, channel: Channel, reply_id: int) -> HttpResponse:
    reply = _reply_or_404(channel, reply_id)
    if request.POST.get("confirmed") != "1":
        return render(
            request,
            "accounts/settings/confirm.html",
            {
                "section": "channels",
                "title": _("Delete the auto-reply “%(name)s”?") % {"name": reply.name},
                "explanation": _("Customers stop receiving it at once. This cannot be undone."),
                "button": _("Delete auto-reply"),
                "action": request.path,
                "cancel_url": reverse("automation:settings", args=[channel.pk]),
                "fields": [],
            },
        )
    automations.auto_reply_delete(actor=request.user, auto_reply=reply)
    messages.success(request, _("Auto-reply deleted."))
    return _back(channel, "automation-replies")


# The thread header: who answers, and the escalation clock.


def conversation_state(*, conversation) -> dict:
    """What the header says about automation: the bot answering, or the handover and its clock."""
    due = automations.escalation_due_at(conversation)
    return {
        "c": conversation,
        "bot": conversation.handled_by == "bot",
        "waiting": conversation.handover_at is not None and conversation.human_answered_at is None,
        "due": due,
        "now": timezone.now(),
    }


@signed_in
@require_http_methods(["GET", "POST"])
def conversation_automation(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """GET: the header's automation line. POST: take the conversation over from the bot (and assign it to
    yourself); answers the whole workflow header."""
    conversation = _conversation_or_404(request, conversation_id)
    if request.method == "GET":
        context = conversation_state(conversation=conversation)
        context["can_take_over"] = access.can_take_over(request.user, conversation)
        return render(request, "inbox/automation/_conversation_state_body.html", context)
    try:
        automations.conversation_take_over(conversation=conversation, actor=request.user)
    except AutomationRefused as refusal:
        status = 403 if refusal.code == "permission_denied" else 409
        return JsonResponse({"code": refusal.code, "detail": refusal.detail}, status=status)
    return render(
        request,
        "inbox/_workflow_header.html",
        {"w": display.workflow_header(user=request.user, conversation=conversation)},
    )
