"""A number's health and its WhatsApp business profile, for admins (under /settings/channels/<id>/).

- `/health`: quality, status, messaging limit with what the last 24 hours used, throughput (editable), the
  flag's 7-day countdown, the end of a restriction, the last sync with "Sync now", and the timeline.
  Managers see it read-only; agents do not.
- `/profile`: the business profile as WhatsApp has it, edited through WhatsApp (with the photo).

Thin views: `inbox.access` decides, `inbox.services.number_health` reads, checks and writes; refusals and
WhatsApp's errors show next to the form that tried."""

from collections.abc import Callable
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from inbox import access
from inbox.api.errors import ApiError
from inbox.api.pagination import decode_cursor, encode_cursor
from inbox.models import Channel
from inbox.providers.whatsapp_cloud import health
from inbox.services import number_health
from inbox.services.number_health import HealthRefused

VERTICAL_NAMES = {
    "OTHER": _lazy("Other"),
    "AUTO": _lazy("Automotive"),
    "BEAUTY": _lazy("Beauty, spa and salon"),
    "APPAREL": _lazy("Clothing and apparel"),
    "EDU": _lazy("Education"),
    "ENTERTAIN": _lazy("Entertainment"),
    "EVENT_PLAN": _lazy("Event planning and service"),
    "FINANCE": _lazy("Finance and banking"),
    "GROCERY": _lazy("Food and grocery"),
    "GOVT": _lazy("Public service"),
    "HOTEL": _lazy("Hotel and lodging"),
    "HEALTH": _lazy("Medical and health"),
    "NONPROFIT": _lazy("Non-profit"),
    "PROF_SERVICES": _lazy("Professional services"),
    "RETAIL": _lazy("Shopping and retail"),
    "TRAVEL": _lazy("Travel and transportation"),
    "RESTAURANT": _lazy("Restaurant"),
    "ALCOHOL": _lazy("Alcoholic beverages"),
    "ONLINE_GAMBLING": _lazy("Online gambling and gaming"),
    "PHYSICAL_GAMBLING": _lazy("Non-online gambling and gaming"),
    "OTC_DRUGS": _lazy("Over-the-counter drugs"),
}


def _channel_view(check: Callable) -> Callable:
    """Signed in (else the login page), allowed by `check` (else 403), a channel that exists (else 404)."""

    def decorator(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, channel_id: int, *args, **kwargs) -> HttpResponse:
            if not check(request.user):
                raise PermissionDenied
            channel = Channel.objects.filter(pk=channel_id).first()
            if channel is None:
                raise Http404
            return view(request, channel, *args, **kwargs)

        return wrapper

    return decorator


# --- Health --------------------------------------------------------------------------------------------


class ThroughputForm(forms.Form):
    throughput_per_second = forms.IntegerField(
        min_value=number_health.THROUGHPUT_MIN,
        max_value=number_health.THROUGHPUT_MAX,
        label=_lazy("Messages a second"),
        error_messages={
            "required": _lazy("Enter a number of messages a second, from 1 to 1,000."),
            "invalid": _lazy("Enter a whole number, from 1 to 1,000."),
            "min_value": _lazy("At least 1 message a second."),
            "max_value": _lazy("WhatsApp allows at most 1,000 messages a second."),
        },
    )


def _health_page(request: HttpRequest, channel: Channel, *, throughput_form: ThroughputForm | None = None):
    cursor = request.GET.get("before")
    try:
        before = decode_cursor(cursor) if cursor else None
    except ApiError:
        raise Http404
    page = number_health.timeline_page(channel=channel, before=before)
    now = timezone.now()
    recovery_ends = number_health.flag_recovery_ends_at(channel)
    context = {
        "section": "channels",
        "channel": channel,
        "usage": number_health.limit_usage(channel=channel, now=now),
        "recovery_ends": recovery_ends,
        "recovery_over": recovery_ends is not None and recovery_ends <= now,
        "timeline": page.events,
        "next_cursor": encode_cursor(page.next_key) if page.next_key else None,
        "paged": before is not None,
        "can_manage": access.can_manage_number_health(request.user),
        "throughput_form": throughput_form
        or ThroughputForm(initial={"throughput_per_second": channel.throughput_per_second}),
        "now": now,
    }
    # A refused form answers 200: htmx (which boosts the settings forms) swaps only successful answers.
    return render(request, "inbox/health/health.html", context)


@require_GET
@_channel_view(access.can_view_number_health)
def health_page(request: HttpRequest, channel: Channel) -> HttpResponse:
    return _health_page(request, channel)


@require_POST
@_channel_view(access.can_manage_number_health)
def health_sync(request: HttpRequest, channel: Channel) -> HttpResponse:
    """ "Sync now": read the number from WhatsApp at once and say what happened."""
    outcome = number_health.number_health_sync(channel_id=channel.pk, actor=request.user)
    if not outcome.ok:
        messages.error(request, _("Could not sync with WhatsApp: %(error)s") % {"error": outcome.error})
    elif outcome.changes:
        messages.success(request, _("Synced: %(count)s change(s), now in the timeline.") % {"count": outcome.changes})
    else:
        messages.success(request, _("Synced: nothing changed."))
    return redirect(reverse("health:page", args=[channel.pk]))


@require_POST
@_channel_view(access.can_manage_number_health)
def health_throughput(request: HttpRequest, channel: Channel) -> HttpResponse:
    form = ThroughputForm(request.POST)
    if form.is_valid():
        try:
            number_health.throughput_set(
                channel=channel, actor=request.user, per_second=form.cleaned_data["throughput_per_second"]
            )
        except HealthRefused as refusal:
            form.add_error("throughput_per_second", refusal.detail)
        else:
            messages.success(request, _("Throughput saved."))
            return redirect(reverse("health:page", args=[channel.pk]) + "#health-throughput")
    return _health_page(request, channel, throughput_form=form)


# --- Business profile ------------------------------------------------------------------------------------


class ProfileForm(forms.Form):
    about = forms.CharField(required=False, strip=True, label=_lazy("About"))
    description = forms.CharField(required=False, strip=True, label=_lazy("Description"))
    address = forms.CharField(required=False, strip=True, label=_lazy("Address"))
    email = forms.CharField(required=False, strip=True, label=_lazy("E-mail"))
    website_1 = forms.CharField(required=False, strip=True, label=_lazy("Website"))
    website_2 = forms.CharField(required=False, strip=True, label=_lazy("Second website"))
    vertical = forms.ChoiceField(
        required=False,
        choices=[("", _lazy("Not set")), *VERTICAL_NAMES.items()],
        label=_lazy("Industry"),
    )
    photo = forms.FileField(required=False, label=_lazy("Profile photo (JPEG or PNG, up to 5 MB)"))

    def profile(self) -> health.BusinessProfile:
        data = self.cleaned_data
        websites = tuple(w for w in (data["website_1"], data["website_2"]) if w)
        return health.BusinessProfile(
            about=data["about"],
            description=data["description"],
            address=data["address"],
            email=data["email"],
            websites=websites,
            vertical=data["vertical"],
        )

    def photo_bytes(self) -> bytes | None:
        upload = self.cleaned_data.get("photo")
        if not upload:
            return None
        # Read at most one byte more than allowed: enough to refuse a larger file without holding it all.
        return upload.read(health.PHOTO_MAX_BYTES + 1)

    def refused(self, refusal: HealthRefused) -> None:
        """Show the service's refusal on the field at fault (the websites' on the first one)."""
        if not refusal.problems:
            self.add_error(None, refusal.detail)
        for name, problem in refusal.problems.items():
            target = "website_1" if name == "websites" else name
            self.add_error(target if target in self.fields else None, problem)

    @classmethod
    def initial_for(cls, profile: health.BusinessProfile) -> dict:
        websites = [*profile.websites, "", ""]
        return {
            "about": profile.about,
            "description": profile.description,
            "address": profile.address,
            "email": profile.email,
            "website_1": websites[0],
            "website_2": websites[1],
            "vertical": profile.vertical if profile.vertical in VERTICAL_NAMES else "",
        }


class AppIdForm(forms.Form):
    app_id = forms.CharField(required=False, max_length=64, strip=True, label=_lazy("Meta app id"))


def _profile_page(
    request: HttpRequest,
    channel: Channel,
    *,
    form: ProfileForm | None = None,
    app_id_form: AppIdForm | None = None,
    read: bool = True,
    template: str = "inbox/health/profile.html",
) -> HttpResponse:
    """The page. WhatsApp is read only when the form is shown (`read`): the bare page is a shell that loads
    the form in place, so opening it never waits on WhatsApp."""
    outcome = number_health.business_profile_read(channel=channel, actor=request.user) if read else None
    if read and form is None:
        form = ProfileForm(initial=ProfileForm.initial_for(outcome.profile) if outcome.profile else None)
    context = {
        "section": "channels",
        "channel": channel,
        "profile": outcome.profile if outcome else None,
        "load_error": outcome.error if outcome else "",
        "form": form,
        "app_id_form": app_id_form or AppIdForm(initial={"app_id": channel.app_id}),
        "limits": {
            "about": health.ABOUT_MAX,
            "description": health.DESCRIPTION_MAX,
            "address": health.ADDRESS_MAX,
            "email": health.EMAIL_MAX,
            "website": health.WEBSITE_MAX,
        },
    }
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@_channel_view(access.can_manage_business_profile)
def profile_page(request: HttpRequest, channel: Channel) -> HttpResponse:
    """GET the page (`?part=form`: the form with the profile read from WhatsApp, loaded in place); POST a
    change (sent to WhatsApp, then the page shows it again)."""
    if request.method == "GET":
        if request.GET.get("part") == "form":
            in_place = request.headers.get("HX-Request") and not request.headers.get("HX-Boosted")
            template = "inbox/health/_profile_form.html" if in_place else None
            return _profile_page(request, channel, template=template or "inbox/health/profile.html")
        return _profile_page(request, channel, read=False)
    form = ProfileForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            number_health.business_profile_change(
                channel=channel, actor=request.user, profile=form.profile(), photo=form.photo_bytes()
            )
        except HealthRefused as refusal:
            form.refused(refusal)
        else:
            messages.success(request, _("WhatsApp accepted the new business profile."))
            return redirect(reverse("health:profile", args=[channel.pk]))
    return _profile_page(request, channel, form=form)


@require_POST
@_channel_view(access.can_manage_business_profile)
def profile_app_id(request: HttpRequest, channel: Channel) -> HttpResponse:
    form = AppIdForm(request.POST)
    if form.is_valid():
        try:
            number_health.app_id_set(channel=channel, actor=request.user, app_id=form.cleaned_data["app_id"])
        except HealthRefused as refusal:
            form.add_error("app_id", refusal.detail)
        else:
            messages.success(request, _("Meta app id saved."))
            return redirect(reverse("health:profile", args=[channel.pk]) + "#profile-app")
    return _profile_page(request, channel, app_id_form=form, read=False)
