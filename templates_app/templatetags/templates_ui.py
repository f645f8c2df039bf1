"""Template helpers for the message-template pages: WhatsApp status chips and quality dots (colour and a text
label, never colour alone), revision states, the bubble preview, durations and rates.

Author and WhatsApp text is escaped before anything else; `wa_format` adds WhatsApp's *bold* / _italic_ /
~strike~ / ```mono``` markup only around text it escaped itself."""

import re
from datetime import timedelta

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from templates_app import lint
from templates_app.models import ProviderStatus, Quality, RevisionState, TemplateCategory

register = template.Library()

# How each WhatsApp status reads at a glance: sendable, waiting, in trouble, out of use.
_STATUS_TONES = {
    "APPROVED": "ok",
    "REINSTATED": "ok",
    "UNARCHIVED": "ok",
    "PENDING": "pending",
    "IN_APPEAL": "pending",
    "FLAGGED": "warn",
    "PAUSED": "warn",
    "LIMIT_EXCEEDED": "warn",
    "REJECTED": "bad",
    "DISABLED": "bad",
    "LOCKED": "bad",
    "PENDING_DELETION": "off",
    "DELETED": "off",
    "ARCHIVED": "off",
}


def _short_status(status: str) -> str:
    if status == ProviderStatus.PENDING:
        return _("Pending")
    if not status:
        return _("Not submitted")
    try:
        return str(ProviderStatus(status).label)
    except ValueError:
        return status


@register.simple_tag
def status_chip(status: str) -> SafeString:
    """WhatsApp's status as a chip: a coloured dot and the word, the full sentence on hover."""
    if not status:
        title = _("WhatsApp has not seen this template yet")
    else:
        try:
            title = str(ProviderStatus(status).label)
        except ValueError:
            title = status
    return format_html(
        '<span class="tpl-status tpl-status-{}" title="{}"><span class="tpl-dot" aria-hidden="true"></span>{}</span>',
        _STATUS_TONES.get(status, "none"),
        title,
        _short_status(status),
    )


@register.simple_tag
def quality_dot(quality: str) -> SafeString:
    """WhatsApp's quality rating: a green, yellow or red dot with High / Medium / Low beside it."""
    short = {"GREEN": _("High"), "YELLOW": _("Medium"), "RED": _("Low")}.get(quality, _("Not rated"))
    try:
        title = str(Quality(quality).label)
    except ValueError:
        title = short
    return format_html(
        '<span class="tpl-quality tpl-quality-{}" title="{}"><span class="tpl-dot" aria-hidden="true"></span>{}</span>',
        (quality or "UNKNOWN").lower(),
        title,
        short,
    )


_STATE_TONES = {
    "draft": "none",
    "changes_requested": "warn",
    "in_review": "pending",
    "approved": "pending",
    "submitted": "pending",
    "submission_failed": "bad",
    "live": "ok",
    "rejected": "bad",
    "superseded": "off",
}


def state_label(state: str) -> str:
    try:
        return str(RevisionState(state).label)
    except ValueError:
        return state


@register.simple_tag
def revision_state_chip(state: str) -> SafeString:
    return format_html(
        '<span class="tpl-status tpl-status-{}"><span class="tpl-dot" aria-hidden="true"></span>{}</span>',
        _STATE_TONES.get(state, "none"),
        state_label(state),
    )


@register.simple_tag
def on_its_way(number, state) -> str:
    """The revision on its way, as the list shows it: "r2 waiting for approval"."""
    if not number or not state:
        return ""
    return _("r%(number)s %(state)s") % {"number": number, "state": state_label(state).lower()}


@register.filter
def category_label(category: str) -> str:
    try:
        return str(TemplateCategory(category).label)
    except ValueError:
        return category.capitalize() if isinstance(category, str) else ""


@register.filter
def event_value(value: str) -> str:
    """A status, quality, category or revision state from the timeline, in words."""
    if not value:
        return ""
    for choices in (ProviderStatus, Quality, TemplateCategory, RevisionState):
        try:
            return str(choices(value).label)
        except ValueError:
            continue
    return value


@register.filter
def duration(value: timedelta | None) -> str:
    """The two largest units of a duration: "6 days 4 hours", "3 hours 12 minutes", "12 minutes"."""
    if value is None:
        return ""
    minutes = max(0, int(value.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = []
    if days:
        parts.append(ngettext("%(count)d day", "%(count)d days", days) % {"count": days})
    if hours:
        parts.append(ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours})
    if not days and (minutes or not hours):
        parts.append(ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes})
    return " ".join(parts[:2])


@register.filter
def percent(rate: float | None) -> str:
    if rate is None:
        return "—"
    return f"{round(rate * 100):d}%"


# WhatsApp's own formatting marks, applied to already-escaped text (no markup of the author's can get in).
_FORMATS = (
    (re.compile(r"```([^`\n][^`]*?)```"), "code"),
    (re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])"), "strong"),
    (re.compile(r"(?<![\w_])_([^_\n]+)_(?![\w_])"), "em"),
    (re.compile(r"(?<![\w~])~([^~\n]+)~(?![\w~])"), "s"),
)


@register.filter
def wa_format(text) -> SafeString:
    escaped = str(conditional_escape(text or ""))
    for pattern, tag in _FORMATS:
        escaped = pattern.sub(rf"<{tag}>\1</{tag}>", escaped)
    return mark_safe(escaped)  # noqa: S308 - escaped above; only our own tags were added


@register.simple_tag
def preview_of(revision) -> dict | None:
    """What a customer sees for a revision (samples in place of the variables), for the bubble."""
    if revision is None:
        return None
    return lint.render(
        {
            "category": revision.category,
            "parameter_format": revision.parameter_format,
            "components": revision.components,
        }
    )


# Glyphs the inbox's icon set does not have, drawn on the same 24 by 24 stroke grid. Constant markup.
_ICONS = {
    "phone": '<path d="M22 16.9v3a2 2 0 0 1-2.2 2 19.8 19.8 0 0 1-8.6-3.1 19.5 19.5 0 0 1-6-6A19.8 19.8 0 0 1 2.1 4.2 '
    "2 2 0 0 1 4.1 2h3a2 2 0 0 1 2 1.7c.1.9.4 1.8.7 2.7a2 2 0 0 1-.5 2.1L8 9.8a16 16 0 0 0 6 6l1.3-1.3a2 2 0 0 1 "
    '2.1-.4c.9.3 1.8.6 2.7.7a2 2 0 0 1 1.7 2z"/>',
    "copy": '<rect x="9" y="9" width="12" height="12" rx="2"/><path d="M5 15H4a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h9a2 2 0 0 '
    '1 2 2v1"/>',
    "image": '<rect x="3" y="3" width="18" height="18" rx="2"/><circle cx="8.5" cy="8.5" r="1.5"/>'
    '<polyline points="21 15 16 10 5 21"/>',
    "video": '<rect x="2" y="6" width="14" height="12" rx="2"/><polygon points="22 8 16 12 22 16 22 8"/>',
    "reply": '<polyline points="9 14 4 9 9 4"/><path d="M20 20v-7a4 4 0 0 0-4-4H4"/>',
    "external": '<path d="M18 13v6a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2h6"/>'
    '<polyline points="15 3 21 3 21 9"/><line x1="10" y1="14" x2="21" y2="3"/>',
    "file": '<path d="M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8z"/><polyline points="14 2 14 8 20 8"/>',
    "up": '<polyline points="18 15 12 9 6 15"/>',
    "down": '<polyline points="6 9 12 15 18 9"/>',
    "x": '<line x1="18" y1="6" x2="6" y2="18"/><line x1="6" y1="6" x2="18" y2="18"/>',
    "sync": '<polyline points="23 4 23 10 17 10"/><polyline points="1 20 1 14 7 14"/><path d="M3.5 9a9 9 0 0 1 14.9-3.4'
    'L23 10M1 14l4.6 4.4A9 9 0 0 0 20.5 15"/>',
    "check": '<polyline points="20 6 9 17 4 12"/>',
    "lock": '<rect x="4" y="11" width="16" height="10" rx="2"/><path d="M8 11V7a4 4 0 0 1 8 0v4"/>',
    "plus": '<line x1="12" y1="5" x2="12" y2="19"/><line x1="5" y1="12" x2="19" y2="12"/>',
}

_BUTTON_ICONS = {"QUICK_REPLY": "reply", "URL": "external", "PHONE_NUMBER": "phone", "COPY_CODE": "copy", "OTP": "copy"}
_MEDIA_ICONS = {"IMAGE": "image", "VIDEO": "video", "DOCUMENT": "file"}


@register.simple_tag
def tpl_icon(name: str) -> SafeString:
    """A decorative inline SVG icon (the page says what it means in words beside it)."""
    name = _BUTTON_ICONS.get(name) or _MEDIA_ICONS.get(name) or name
    return format_html(
        '<svg class="icon icon-{}" viewBox="0 0 24 24" aria-hidden="true" focusable="false">{}</svg>',
        name,
        mark_safe(_ICONS.get(name, _ICONS["file"])),  # noqa: S308 - constant markup defined above
    )


@register.filter
def media_label(header_format: str) -> str:
    return {"IMAGE": _("Image"), "VIDEO": _("Video"), "DOCUMENT": _("Document")}.get(header_format or "", "")


@register.filter
def part_label(part: str) -> str:
    """Where a lint finding points, in words: "Body", "Button 3", "Example for {{1}} in the body"."""
    pieces = (part or "").split(".")
    names = {
        "template": _("Template"),
        "name": _("Name"),
        "language": _("Language"),
        "category": _("Category"),
        "parameter_format": _("Variable style"),
        "components": _("Template"),
        "header": _("Header"),
        "body": _("Body"),
        "footer": _("Footer"),
        "buttons": _("Buttons"),
    }
    if pieces[0] == "samples" and len(pieces) > 1:
        where = part_label(".".join(pieces[1:3] if pieces[1] == "buttons" else pieces[1:2]))
        if len(pieces) > 2 and pieces[1] != "buttons":
            return _("Example for {{%(variable)s}} · %(where)s") % {"variable": pieces[2], "where": where}
        return _("Example · %(where)s") % {"where": where}
    if pieces[0] in ("buttons", "components") and len(pieces) > 1 and pieces[1].isdigit():
        label = _("Button %(number)d") if pieces[0] == "buttons" else _("Part %(number)d")
        return label % {"number": int(pieces[1]) + 1}
    return names.get(pieces[0], part)


@register.simple_tag
def finding_counts(findings) -> dict[str, int]:
    errors = sum(1 for finding in findings or () if finding.severity == "error")
    return {"errors": errors, "warnings": len(findings or ()) - errors}


# Timeline entries nobody in the business made: WhatsApp's reports, and Switchboard's own submission.
_BY_WHATSAPP = {
    "status_changed",
    "quality_changed",
    "category_changed",
    "category_upcoming",
    "components_updated",
    "synced",
}


@register.filter
def event_actor(event) -> str:
    if event.actor is not None:
        return event.actor.name or event.actor.email
    return _("WhatsApp") if event.kind in _BY_WHATSAPP else _("Switchboard")


@register.filter
def person(user) -> str:
    if user is None:
        return _("WhatsApp")
    return user.name or user.email


@register.filter
def get_item(mapping, key):
    """`mapping[key]`, or "" (a language's name, an account's name)."""
    return mapping.get(key, "") if hasattr(mapping, "get") else ""
