"""Template helpers for the workflow controls (presence toggle)."""

from django import template

from accounts.models import Presence

register = template.Library()


@register.simple_tag
def presence_choices() -> list[tuple[str, str]]:
    return list(Presence.choices)
