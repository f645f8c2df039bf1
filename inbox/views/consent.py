"""The consent ledger on the contact panel and the contact page, and its CSV exports.

Thin shells over `inbox.services.consent`: the panel (templates/inbox/_consent_panel.html loads it with htmx
when the contact panel or page opens, and again after a `consent.changed` live event, so the pages that
include it load nothing for it), the "Record consent" form, one contact's ledger as CSV (whoever sees the
contact) and every contact's ledger (admins). Whatever is out of the
person's sight answers 404; managers read and get 403 from the form.
"""

import csv
from collections.abc import Iterable, Iterator

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from inbox import access
from inbox.models import ConsentAction, ConsentEvent, ConsentPurpose, ConsentSource, Contact
from inbox.services import consent as consent_service
from inbox.views.inbox import signed_in

# The ledger lists this many entries; the CSV has them all.
LEDGER_SHOWN = 25
# Sources a person may name in the form (the others are recorded by WhatsApp or the customer's own words).
PERSON_SOURCES = [choice for choice in ConsentSource.choices if choice[0] not in consent_service.AUTOMATIC_SOURCES]
_FIELDS = ("purpose", "action", "source", "evidence", "reason")


def _contact_or_404(request: HttpRequest, contact_id: int) -> Contact:
    contact = Contact.objects.filter(pk=contact_id).first()
    if contact is None or not access.can_view_consent(request.user, contact):
        raise Http404(_("No such contact."))
    return contact


def panel_context(*, user: User, contact: Contact, form: dict | None = None, errors: dict | None = None) -> dict:
    """What `inbox/_consent_body.html` shows: the state per purpose, the ledger newest first, the form."""
    latest = consent_service.latest_events(contact_id=contact.pk)
    ledger = list(consent_service.contact_ledger(contact_id=contact.pk)[: LEDGER_SHOWN + 1])
    return {
        "contact": contact,
        "purposes": [(value, label, latest.get(value)) for value, label in ConsentPurpose.choices],
        "ledger": ledger[:LEDGER_SHOWN],
        "ledger_more": len(ledger) > LEDGER_SHOWN,
        "can_record": access.can_record_consent(user, contact),
        "can_export_all": access.can_export_consent_ledger(user),
        "purpose_choices": ConsentPurpose.choices,
        "action_choices": ConsentAction.choices,
        "source_choices": PERSON_SOURCES,
        "form": form or {"source": ConsentSource.AGENT},
        "errors": errors or {},
        "evidence_max": consent_service.EVIDENCE_MAX,
        "reason_max": consent_service.REASON_MAX,
    }


@signed_in
@require_GET
def consent_panel(request: HttpRequest, contact_id: int) -> HttpResponse:
    """The panel's inside (htmx redraws it when the ledger changes)."""
    contact = _contact_or_404(request, contact_id)
    return render(request, "inbox/_consent_body.html", panel_context(user=request.user, contact=contact))


@signed_in
@require_POST
def consent_record(request: HttpRequest, contact_id: int) -> HttpResponse:
    """The "Record consent" form: the panel again, with the new entry or the errors next to the fields."""
    contact = _contact_or_404(request, contact_id)
    if not access.can_record_consent(request.user, contact):
        raise PermissionDenied(_("Managers read consent; agents and admins record it."))
    form = {name: request.POST.get(name, "") for name in _FIELDS}
    try:
        consent_service.consent_record(
            contact=contact,
            purpose=form["purpose"],
            action=form["action"],
            source=form["source"],
            actor=request.user,
            evidence=form["evidence"],
            reason=form["reason"],
        )
    except consent_service.ConsentRefused as refused:
        errors = {refused.field or "form": refused.detail}
        context = panel_context(user=request.user, contact=contact, form=form, errors=errors)
        # htmx swaps only 2xx answers, and the errors belong next to the fields.
        return render(request, "inbox/_consent_body.html", context, status=200 if request.htmx else 400)
    if not request.htmx:
        return redirect(reverse("inbox:contact", args=[contact.pk]) + f"#consent-{contact.pk}")
    context = panel_context(user=request.user, contact=contact)
    context["saved"] = True
    return render(request, "inbox/_consent_body.html", context)


# --- CSV exports -----------------------------------------------------------------------------------------

CSV_HEADER = (
    "contact_id",
    "contact_name",
    "wa_id",
    "purpose",
    "action",
    "source",
    "occurred_at",
    "recorded_at",
    "recorded_by",
    "channel",
    "message_id",
    "evidence",
    "reason",
)
# A spreadsheet runs a cell that starts with these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@")


def neutralise(value: object) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula or with a control character (tab,
    carriage return...) gets a leading single quote."""
    text = "" if value is None else str(value)
    if text and (text.startswith(_FORMULA_STARTS) or ord(text[0]) < 32 or ord(text[0]) == 127):
        return "'" + text
    return text


def csv_row(event: ConsentEvent) -> list[str]:
    contact = event.contact
    cells = (
        contact.pk,
        contact.display_name,
        contact.wa_id or "",
        event.purpose,
        event.action,
        event.source,
        event.occurred_at.isoformat(),
        event.created_at.isoformat(),
        (event.actor.email if event.actor_id else ""),
        (event.channel.name if event.channel_id else ""),
        event.message_id or "",
        event.evidence,
        event.reason,
    )
    return [neutralise(cell) for cell in cells]


class _Echo:
    """A file-like object whose `write` hands back the line (csv.writer into a streamed response)."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(events: Iterable[ConsentEvent]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for event in events:
        yield writer.writerow(csv_row(event))


def _csv_response(events: Iterable[ConsentEvent], *, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_csv_lines(events), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@signed_in
@require_GET
def contact_consent_csv(request: HttpRequest, contact_id: int) -> StreamingHttpResponse:
    """One contact's ledger, oldest first (the order it was written in)."""
    contact = _contact_or_404(request, contact_id)
    events = (
        ConsentEvent.objects.filter(contact=contact)
        .select_related("contact", "actor", "channel")
        .order_by("occurred_at", "id")
    )
    return _csv_response(events, filename=f"consent-contact-{contact.pk}.csv")


@signed_in
@require_GET
def consent_export_csv(request: HttpRequest) -> StreamingHttpResponse:
    """Every contact's ledger (admins), streamed in contact order."""
    if not access.can_export_consent_ledger(request.user):
        raise PermissionDenied(_("Only admins export every contact's consent."))
    events = (
        ConsentEvent.objects.select_related("contact", "actor", "channel")
        .order_by("contact_id", "occurred_at", "id")
        .iterator(chunk_size=2000)
    )
    return _csv_response(events, filename=f"consent-ledger-{timezone.now():%Y-%m-%d}.csv")
