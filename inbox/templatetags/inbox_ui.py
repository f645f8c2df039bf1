"""Template helpers for the inbox: inline SVG icons, short relative times, countdowns, safe links.

Nothing here marks customer data safe: the only `mark_safe` is on the icons' own constant SVG.
"""

from datetime import datetime
from urllib.parse import urlencode, urlsplit

from django import template
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from inbox.providers.whatsapp_cloud import limits
from inbox.views import display

register = template.Library()

# 24 by 24 stroke icons drawn for Switchboard (Feather-like geometry). Constant markup, never user data.
_ICONS = {
    "inbox": '<polyline points="22 12 16 12 14 15 10 15 8 12 2 12"/><path d="M5.45 5.11 2 12v6a2 2 0 0 0 2 2h16a2 '
    '2 0 0 0 2-2v-6l-3.45-6.89A2 2 0 0 0 16.76 4H7.24a2 2 0 0 0-1.79 1.11z"/>',
    "search": '<circle cx="11" cy="11" r="7"/><line x1="21" y1="21" x2="16.65" y2="16.65"/>',
    "logout": '<path d="M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4"/><polyline points="16 17 21 12 16 7"/>'
    '<line x1="21" y1="12" x2="9" y2="12"/>',
    "send": '<line x1="22" y1="2" x2="11" y2="13"/><polygon points="22 2 15 22 11 13 2 9 22 2"/>',
    "paperclip": '<path d="M21.44 11.05 12.25 20.24a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19a2 '
    '2 0 0 1-2.83-2.83l8.49-8.48"/>',
    "smile": '<circle cx="12" cy="12" r="10"/><path d="M8 14s1.5 2 4 2 4-2 4-2"/><line x1="9" y1="9" x2="9.01" '
    'y2="9"/><line x1="15" y1="9" x2="15.01" y2="9"/>',
    "reply": '<polyline points="9 14 4 9 9 4"/><path d="M20 20v-7a4 4 0 0 0-4-4H4"/>',
    "forward": '<polyline points="15 14 20 9 15 4"/><path d="M4 20v-7a4 4 0 0 1 4-4h12"/>',
    "x": '<line x1="18" y1="6" x2="6" y2="18"/><line x1="6" y1="6" x2="18" y2="18"/>',
    "clock": '<circle cx="12" cy="12" r="9"/><polyline points="12 7 12 12 15 14"/>',
    "alert": '<circle cx="12" cy="12" r="10"/><line x1="12" y1="7" x2="12" y2="13"/>'
    '<line x1="12" y1="17" x2="12.01" y2="17"/>',
    "download": '<path d="M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4"/><polyline points="7 10 12 15 17 10"/>'
    '<line x1="12" y1="15" x2="12" y2="3"/>',
    "file": '<path d="M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8z"/><polyline points="14 2 14 8 20 8"/>'
    '<line x1="16" y1="13" x2="8" y2="13"/><line x1="16" y1="17" x2="8" y2="17"/>',
    "pin": '<path d="M21 10c0 7-9 13-9 13s-9-6-9-13a9 9 0 0 1 18 0z"/><circle cx="12" cy="10" r="3"/>',
    "user": '<path d="M20 21v-2a4 4 0 0 0-4-4H8a4 4 0 0 0-4 4v2"/><circle cx="12" cy="7" r="4"/>',
    "retry": '<polyline points="23 4 23 10 17 10"/><path d="M20.49 15a9 9 0 1 1-2.12-9.36L23 10"/>',
    "back": '<polyline points="15 18 9 12 15 6"/>',
    "chat": '<path d="M21 11.5a8.38 8.38 0 0 1-.9 3.8 8.5 8.5 0 0 1-7.6 4.7 8.38 8.38 0 0 1-3.8-.9L3 21l1.9-5.7a8.38 '
    '8.38 0 0 1-.9-3.8 8.5 8.5 0 0 1 4.7-7.6 8.38 8.38 0 0 1 3.8-.9h.5a8.48 8.48 0 0 1 8 8v.5z"/>',
    "cart": '<circle cx="9" cy="21" r="1"/><circle cx="20" cy="21" r="1"/><path d="M1 1h4l2.68 13.39a2 2 0 0 0 2 '
    '1.61h9.72a2 2 0 0 0 2-1.61L23 6H6"/>',
    "external": '<path d="M18 13v6a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2h6"/>'
    '<polyline points="15 3 21 3 21 9"/><line x1="10" y1="14" x2="21" y2="3"/>',
    "keyboard": '<rect x="2" y="6" width="20" height="12" rx="2"/><line x1="6" y1="10" x2="6.01" y2="10"/>'
    '<line x1="10" y1="10" x2="10.01" y2="10"/><line x1="14" y1="10" x2="14.01" y2="10"/>'
    '<line x1="18" y1="10" x2="18.01" y2="10"/><line x1="7" y1="14" x2="17" y2="14"/>',
    "template": '<rect x="3" y="3" width="18" height="18" rx="2"/><line x1="7" y1="8" x2="17" y2="8"/>'
    '<line x1="7" y1="12" x2="17" y2="12"/><line x1="7" y1="16" x2="12" y2="16"/>',
    "tap": '<path d="M9 11V5a2 2 0 0 1 4 0v6"/><path d="M13 9a2 2 0 0 1 4 0v3"/><path d="M17 11a2 2 0 0 1 4 0v4a7 7 '
    '0 0 1-7 7h-1a7 7 0 0 1-6-3.4L4.5 15a2 2 0 0 1 3.4-2.1L9 14.5"/>',
    "megaphone": '<path d="M3 11v2a1 1 0 0 0 1 1h3l6 4V6L7 10H4a1 1 0 0 0-1 1z"/><path d="M17 9a4 4 0 0 1 0 6"/>',
    # WhatsApp-style delivery ticks, drawn on a 24 by 24 grid.
    "lock": '<rect x="4" y="11" width="16" height="10" rx="2"/><path d="M8 11V7a4 4 0 0 1 8 0v4"/>',
    "tick": '<polyline points="4 12.5 9 17.5 20 6.5"/>',
    "ticks": '<polyline points="1.5 12.5 6.5 17.5 17.5 6.5"/><polyline points="11 16.5 12 17.5 23 6.5"/>',
}


@register.simple_tag
def icon(name: str, label: str = "") -> str:
    """An inline SVG icon; decorative unless `label` is given (then it is announced as an image)."""
    paths = _ICONS[name]
    if label:
        return format_html(
            '<svg class="icon icon-{}" viewBox="0 0 24 24" role="img" aria-label="{}" focusable="false">{}</svg>',
            name,
            label,
            mark_safe(paths),  # noqa: S308 - constant markup defined above
        )
    return format_html(
        '<svg class="icon icon-{}" viewBox="0 0 24 24" aria-hidden="true" focusable="false">{}</svg>',
        name,
        mark_safe(paths),  # noqa: S308 - constant markup defined above
    )


@register.filter
def reltime(value: datetime | None) -> str:
    """A short relative time ("now", "3 min", "5 h", "Mon", "12 Mar"); the page refreshes it in the viewer's
    time zone and shows the absolute time on hover."""
    if value is None:
        return ""
    now = timezone.now()
    seconds = (now - value).total_seconds()
    if seconds < 60:
        return _("now")
    if seconds < 3600:
        return _("%(count)s min") % {"count": int(seconds // 60)}
    if seconds < 86400:
        return _("%(count)s h") % {"count": int(seconds // 3600)}
    local = timezone.localtime(value)
    # Django's date formats translate the day and month names.
    return formats.date_format(local, "D" if seconds < 6 * 86400 else "j M")


@register.filter
def countdown(value: datetime | None) -> str:
    """Time left until `value`, as "1 h 20 min" or "12 min"."""
    if value is None:
        return ""
    minutes = max(0, int((value - timezone.now()).total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    if hours:
        return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)s min") % {"minutes": minutes}


@register.filter
def phone(value) -> str:
    """A number as WhatsApp shows it, with one leading "+" whether or not it was stored with one."""
    text = str(value or "").strip()
    return f"+{text.lstrip('+')}" if text else ""


@register.filter
def initials(name: str) -> str:
    words = [word for word in str(name).replace("+", " ").split() if word[:1].isalnum()]
    return "".join(word[0] for word in words[:2]).upper() or "?"


@register.filter
def http_url(value) -> str:
    """The value if it is an http(s) URL, else "" (a customer-supplied `javascript:` link never renders)."""
    text = str(value or "").strip()
    try:
        scheme = urlsplit(text).scheme.lower()
    except ValueError:
        return ""
    return text if scheme in ("http", "https") else ""


@register.simple_tag
def map_url(latitude, longitude) -> str:
    """An OpenStreetMap link to a point; "" when the coordinates are not numbers."""
    try:
        lat, lon = float(latitude), float(longitude)
    except (TypeError, ValueError):
        return ""
    query = urlencode({"mlat": f"{lat:.6f}", "mlon": f"{lon:.6f}"})
    return f"https://www.openstreetmap.org/?{query}#map=16/{lat:.6f}/{lon:.6f}"


@register.filter
def epoch_ms(value: datetime | None) -> int:
    return int(value.timestamp() * 1000) if value else 0


@register.filter
def day_label(value: datetime | None) -> str:
    """A thread's day separator: "Today", "Yesterday" or the date, in the current time zone."""
    if value is None:
        return ""
    day = timezone.localdate(value)
    today = timezone.localdate()
    if day == today:
        return _("Today")
    if (today - day).days == 1:
        return _("Yesterday")
    return formats.date_format(day, "DATE_FORMAT")


@register.filter
def service_window(conversation) -> "display.Window":
    return display.service_window(conversation)


# A hand-picked emoji set for the composer (no CDN, no library).
EMOJI = (
    *("😀", "😃", "😄", "😁", "😅", "😂", "🙂", "😉", "😊", "😍", "😘", "😎", "🤔", "😐", "😴", "😢", "😭"),
    *("😡", "😮", "🙄", "👍", "👎", "👌", "🙏", "👏", "🙌", "💪", "👋", "🤝", "✌️", "❤️", "💔", "🔥", "⭐"),
    *("✨", "🎉", "🎁", "✅", "❌", "⚠️", "📦", "🚚", "💳", "📞", "📧", "📍", "🕒", "📅", "💬", "❓"),
)


@register.simple_tag
def emoji_list() -> tuple[str, ...]:
    return EMOJI


@register.simple_tag
def inbox_js_strings() -> dict[str, str]:
    """Translated strings the page's script shows (it never builds sentences from customer data)."""
    return {
        "now": _("now"),
        "minutes": _("%(count)s min"),
        "hours": _("%(count)s h"),
        "countdown_hm": _("%(hours)s h %(minutes)s min"),
        "countdown_m": _("%(minutes)s min"),
        "today": _("Today"),
        "yesterday": _("Yesterday"),
        "live": _("Live updates on"),
        "connecting": _("Connecting to live updates…"),
        "reconnecting": _("Connection lost: reconnecting…"),
        "signed_out": _("Your session ended: log in again to keep receiving messages."),
        "log_in": _("Log in"),
        "resynced": _("Caught up after a long disconnection: the list was reloaded."),
        "not_sent": _("Not sent."),
        "send_failed": _("The message could not be sent: check your connection and try again."),
        "too_large": _("%(name)s is too large: WhatsApp accepts %(kind)s files up to %(limit)s MB."),
        "kind_image": _("photo"),
        "kind_audio": _("audio"),
        "kind_video": _("video"),
        "kind_document": _("document"),
        "kind_sticker": _("sticker"),
        "type_not_allowed": _(
            "WhatsApp does not take this type of file: send a JPEG or PNG image, an MP4 or 3GP video, an audio "
            "file (AAC, AMR, MP3, M4A, OGG), a WebP sticker, a PDF, a text file or an Office document."
        ),
        "attachment": _("Attachment"),
        "dismiss": _("Dismiss"),
        "media_missing": _("This file is no longer available from WhatsApp."),
        "new_message": _("New message from %(name)s"),
        # WhatsApp's media rules, the same table the server checks uploads against.
        "media": {
            rule.kind: {
                "mimes": sorted(rule.mime_types),
                "max_bytes": max(rule.max_bytes, rule.animated_max_bytes or 0),
            }
            for rule in limits.MEDIA_RULES.values()
        },
    }


@register.simple_tag
def accepted_media_types() -> str:
    """The composer's file picker filter: every type WhatsApp takes."""
    return ",".join(sorted(mime for rule in limits.MEDIA_RULES.values() for mime in rule.mime_types))
