"""The identity panel on the contact panel and the contact page: the warning while sending to a customer is
held for a changed number or identity, and the acknowledgement that releases it.

Thin shells over `inbox.services.identity`. The panel is drawn in place by the `identity_panel` template tag
(the pages that include it load nothing for it) and redrawn by htmx after an `identity.changed` live event.
Whatever is out of the person's sight answers 404; managers get 403 from the acknowledgement.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from inbox import access
from inbox.models import Contact
from inbox.services import identity as identity_service
from inbox.views import display
from inbox.views.inbox import signed_in

BODY = "inbox/_identity_body.html"


def _contact_or_404(request: HttpRequest, contact_id: int) -> Contact:
    contact = display.contact_get(user=request.user, contact_id=contact_id)
    if contact is None:
        raise Http404(_("No such contact."))
    return contact


def panel_context(*, user: User, contact: Contact, note: str = "", error: str = "", saved: bool = False) -> dict:
    """What `inbox/_identity_body.html` shows: the hold and its reason, or the last acknowledgement."""
    acknowledgement = identity_service.last_acknowledgement(contact)
    return {
        "contact": contact,
        "held": contact.identity_held_since is not None,
        "can_acknowledge": access.can_acknowledge_identity(user, contact),
        "last_acknowledgement": acknowledgement,
        "acknowledged_by": (
            (acknowledgement.actor.name or acknowledgement.actor.email)
            if acknowledgement is not None and acknowledgement.actor is not None
            else ""
        ),
        "acknowledged_note": (acknowledgement.details or {}).get("note", "") if acknowledgement is not None else "",
        "note": note,
        "note_max": identity_service.NOTE_MAX,
        "error": error,
        "saved": saved,
    }


@signed_in
@require_GET
def identity_panel(request: HttpRequest, contact_id: int) -> HttpResponse:
    """The panel's inside (htmx redraws it when the contact's identity changes or is acknowledged)."""
    contact = _contact_or_404(request, contact_id)
    return render(request, BODY, panel_context(user=request.user, contact=contact))


@signed_in
@require_POST
def identity_acknowledge(request: HttpRequest, contact_id: int) -> HttpResponse:
    """The confirmed "Acknowledge" button: the panel again, released, or saying why not."""
    contact = _contact_or_404(request, contact_id)
    if not access.can_acknowledge_identity(request.user, contact):
        raise PermissionDenied(_("Managers read contacts; agents and admins acknowledge identity changes."))
    note = request.POST.get("note", "")[: identity_service.NOTE_MAX * 2]
    try:
        identity_service.identity_acknowledge(contact=contact, actor=request.user, note=note)
    except identity_service.IdentityRefused as refused:
        contact.refresh_from_db()
        context = panel_context(user=request.user, contact=contact, note=note, error=refused.detail)
        # htmx swaps only 2xx answers, and the reason belongs where the person clicked.
        status = (
            403 if refused.code == "permission_denied" else 409 if refused.code == "nothing_to_acknowledge" else 400
        )
        return render(request, BODY, context, status=200 if request.htmx else status)
    if not request.htmx:
        return redirect(reverse("inbox:contact", args=[contact.pk]) + f"#identity-{contact.pk}")
    return render(request, BODY, panel_context(user=request.user, contact=contact, saved=True))
