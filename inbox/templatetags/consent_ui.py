"""Template helpers for the consent ledger (templates/inbox/_consent_body.html): who recorded an entry."""

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from inbox.models import ConsentEvent, ConsentSource

register = template.Library()


_RECORDED_BY = {
    ConsentSource.KEYWORD: gettext_lazy("The customer (keyword)"),
    ConsentSource.USER_PREFERENCES: gettext_lazy("WhatsApp"),
    ConsentSource.CUSTOMER_INITIATED: gettext_lazy("The customer"),
    ConsentSource.CLICK_TO_WHATSAPP_AD: gettext_lazy("The customer (ad)"),
}


@register.filter
def recorded_by(event: ConsentEvent) -> str:
    """The person who recorded the entry, or what did (the customer's keyword, WhatsApp, an import)."""
    if event.actor_id is not None and event.actor is not None:
        return event.actor.name or event.actor.email
    return str(_RECORDED_BY.get(event.source) or _("Automatic"))
