"""Template helpers for working together: note text with its @mentions marked, the bell's count, the
icons and strings of `static/js/together.js`.

Text is escaped before anything is marked: the only markup in the output is this module's own.
"""

import re

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from inbox import access, together_selectors
from inbox.services.notes import MENTION

register = template.Library()

_ICONS = {
    "bell": '<path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9"/><path d="M13.73 21a2 2 0 0 1-3.46 0"/>',
    "note": '<path d="M12 20h9"/><path d="M16.5 3.5a2.12 2.12 0 0 1 3 3L7 19l-4 1 1-4z"/>',
    "canned": '<path d="M4 4h16v12H5.17L4 17.17z"/><line x1="8" y1="8" x2="16" y2="8"/><line x1="8" y1="12" x2="13" '
    'y2="12"/>',
    "eye": '<path d="M1 12s4-8 11-8 11 8 11 8-4 8-11 8-11-8-11-8z"/><circle cx="12" cy="12" r="3"/>',
}


@register.simple_tag
def together_icon(name: str) -> str:
    return format_html(
        '<svg class="icon icon-{}" viewBox="0 0 24 24" aria-hidden="true" focusable="false">{}</svg>',
        name,
        mark_safe(_ICONS[name]),  # noqa: S308 - constant markup defined above
    )


@register.filter
def with_mentions(text: str) -> SafeString:
    """A note's text, escaped, with each `@handle` wrapped in `<span class="mention">`."""
    escaped = str(escape(text))
    # The handle pattern matches only word characters, dots, plus, minus and @: none of them is changed by
    # escaping, so matching on the escaped text finds the same handles.
    marked = re.sub(MENTION, lambda m: f'<span class="mention">@{m.group(1)}</span>', escaped)
    return mark_safe(marked)  # noqa: S308 - escaped above; the only markup is ours


@register.simple_tag
def unread_notification_count(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return together_selectors.notification_unread_count(user=user)


@register.simple_tag
def together_js_strings() -> dict[str, str]:
    """Translated strings `static/js/together.js` shows."""
    return {
        "viewing": _("%(names)s viewing"),
        "typing": _("%(names)s typing…"),
        "replying": _("%(name)s is replying: wait, or send anyway."),
        "confirm_double": _("%(name)s is replying to this customer right now. Send your reply anyway?"),
        "note_placeholder": _("Write a private note: only your team sees it. @ mentions a colleague"),
        "reply_placeholder": _("Write a reply…"),
        "add_note": _("Add note"),
        "send": _("Send"),
        "send_anyway": _("Send anyway"),
        "no_canned": _("No canned response starts with that. Add one on the Canned responses page."),
        "no_people": _("Nobody else who can see this conversation matches."),
        "shared": _("shared"),
        "search_everything": _("Search everything for “%(q)s”"),
        "notifications_on": _("Desktop alerts are on."),
        "notifications_blocked": _("The browser blocks notifications for this site: allow them in its settings."),
        "mark_read": _("Mark read"),
    }


@register.simple_tag(takes_context=True)
def can_note(context, conversation) -> bool:
    """Whether the person may add private notes here (the composer's Note tab)."""
    if context.get("can_reply") is not None:
        # Whoever may reply may work the conversation (`access.can_work_conversation`): already known.
        return bool(context["can_reply"])
    request = context.get("request")
    return request is not None and access.can_work_conversation(request.user, conversation)
