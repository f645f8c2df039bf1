"""Template helpers for identity changes and window alerts: `{% identity_panel contact %}` draws the identity
panel in place (the contact panel and the contact page include it without their views loading anything);
`{% window_closing_lead %}` says how soon "Window closing soon" is."""

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.inclusion_tag("inbox/_identity_section.html", takes_context=True)
def identity_panel(context: template.Context, contact) -> dict:
    from inbox.views.identity import panel_context

    request = context.get("request")
    user = getattr(request, "user", None)
    if contact is None or contact.pk is None or user is None:
        return {"contact": None}
    return {**panel_context(user=user, contact=contact), "request": request, "csrf_token": context.get("csrf_token")}


@register.simple_tag
def window_closing_lead() -> str:
    """The "Window closing soon" lead as a person reads it ("2 h", "90 min"): the list's filter and the
    assignee's alert use the same (settings.WINDOW_ALERT_LEAD_MINUTES)."""
    from inbox.selectors import window_closing_lead as lead

    minutes = int(lead().total_seconds() // 60)
    if minutes % 60 == 0:
        return _("%(hours)s h") % {"hours": minutes // 60}
    return _("%(minutes)s min") % {"minutes": minutes}


@register.simple_tag
def window_closing_lead_ms() -> int:
    """The same lead in milliseconds, for the composer's live countdown (static/js/inbox.js)."""
    from inbox.selectors import window_closing_lead as lead

    return int(lead().total_seconds() * 1000)
