"""Reads for the customer page and the control API: the chat as the customer's phone shows it.

Everything here is plain values for templates: links are only ever http(s) or our own URLs, and all
text stays text (templates escape it; nothing is marked safe).
"""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone

from simulator import rules
from simulator.models import SimulatedCustomer, SimulatedDirection, SimulatedMessage, SimulatedStatus
from simulator.validation import MEDIA_TYPES, is_web_link

QUOTE_LENGTH = 80


@dataclass
class Button:
    """Something the customer can tap under a business message."""

    kind: str  # button_reply, list_reply, quick_reply, link, inert
    title: str
    reply_id: str = ""
    description: str = ""
    url: str = ""


@dataclass
class Section:
    title: str
    rows: list[Button] = field(default_factory=list)


@dataclass
class Bubble:
    """One message in the phone's chat view."""

    wamid: str
    mine: bool
    type: str
    time: datetime
    text: str = ""
    header: str = ""
    footer: str = ""
    media_kind: str = ""
    media_url: str = ""
    media_name: str = ""
    location: dict[str, Any] | None = None
    contacts: list[dict[str, Any]] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    list_label: str = ""
    sections: list[Section] = field(default_factory=list)
    template_name: str = ""
    template_language: str = ""
    template_params: list[str] = field(default_factory=list)
    reactions: list[str] = field(default_factory=list)
    my_reaction: str = ""
    reply_to: str = ""
    read: bool = False
    edited: bool = False
    deleted: bool = False
    notice: str = ""
    error: str = ""


def outbound_messages(*, customer: SimulatedCustomer | None) -> list[dict[str, Any]]:
    """What the customer's phone received from the business, for the control API."""
    if customer is None:
        return []
    messages = customer.messages.filter(direction=SimulatedDirection.TO_CUSTOMER).order_by("created_at", "id")
    return [
        {
            "id": message.wamid,
            "type": message.type,
            "payload": _type_object(message.payload, message.type),
            "context_message_id": str((message.payload.get("context") or {}).get("message_id") or ""),
            "status": message.status,
            "timestamp": message.created_at.isoformat(),
            "error": message.error,
        }
        for message in messages
    ]


def customer_summary(customer: SimulatedCustomer, *, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    return {
        "wa_id": customer.wa_id,
        "name": customer.name,
        "unreachable": customer.unreachable,
        "last_inbound_at": customer.last_inbound_at.isoformat() if customer.last_inbound_at else None,
        "window_open": rules.is_service_window_open(customer.last_inbound_at, now=now),
    }


def thread_version(customer: SimulatedCustomer, *, now: datetime) -> str:
    """Changes whenever what the chat shows changes, so the page's poll can skip identical refreshes."""
    rows = list(customer.messages.values_list("pk", "status"))
    typing = bool(customer.business_typing_until and customer.business_typing_until > now)
    state = repr((rows, typing, customer.unreachable, customer.name))
    return hashlib.sha256(state.encode()).hexdigest()[:16]


def thread(customer: SimulatedCustomer) -> list[Bubble]:
    """The chat, oldest first, with reactions, edits and deletions applied to the message they target."""
    messages = list(customer.messages.order_by("created_at", "id"))
    bubbles: list[Bubble] = []
    by_wamid: dict[str, Bubble] = {}
    for message in messages:
        if message.type in ("reaction", "edit", "revoke"):
            continue
        bubble = _business_bubble(message) if message.direction == SimulatedDirection.TO_CUSTOMER else _own(message)
        bubbles.append(bubble)
        by_wamid[bubble.wamid] = bubble
    reactions: dict[tuple[bool, str], str] = {}
    for message in messages:
        mine = message.direction == SimulatedDirection.FROM_CUSTOMER
        content = _type_object(message.payload, message.type)
        if not isinstance(content, dict):
            continue
        if message.type == "reaction":
            reactions[(mine, str(content.get("message_id") or ""))] = str(content.get("emoji") or "")
        elif message.type == "edit" and content.get("original_message_id") in by_wamid:
            target = by_wamid[content["original_message_id"]]
            target.text = str(((content.get("message") or {}).get("text") or {}).get("body") or target.text)
            target.edited = True
        elif message.type == "revoke" and content.get("original_message_id") in by_wamid:
            target = by_wamid[content["original_message_id"]]
            target.deleted = True
    for (mine, wamid), emoji in reactions.items():
        if wamid in by_wamid and emoji:
            if mine:
                by_wamid[wamid].my_reaction = emoji
            else:
                by_wamid[wamid].reactions.append(emoji)
    for bubble in bubbles:
        if bubble.reply_to in by_wamid:
            quoted = by_wamid[bubble.reply_to]
            bubble.reply_to = (quoted.text or quoted.header or quoted.template_name or quoted.type)[:QUOTE_LENGTH]
        elif bubble.reply_to:
            bubble.reply_to = ""
    return bubbles


def _type_object(payload: Any, message_type: str) -> Any:
    if not isinstance(payload, dict):
        return {}
    if message_type == "contacts":
        return payload.get("contacts") or []
    return payload.get(message_type) or {}


def _media_url(content: dict) -> str:
    if content.get("id"):
        return reverse("simulator:phone-media", args=[str(content["id"])])
    link = str(content.get("link") or "")
    return link if is_web_link(link) else ""


def _contacts(cards: Any) -> list[dict[str, Any]]:
    result = []
    for card in cards if isinstance(cards, list) else []:
        if isinstance(card, dict):
            phones = [
                str(p.get("phone") or p.get("wa_id") or "") for p in card.get("phones") or [] if isinstance(p, dict)
            ]
            result.append({"name": str((card.get("name") or {}).get("formatted_name") or ""), "phones": phones})
    return result


def _location(content: dict) -> dict[str, Any]:
    latitude, longitude = content.get("latitude"), content.get("longitude")
    try:
        map_url = f"https://www.openstreetmap.org/?mlat={float(latitude)}&mlon={float(longitude)}"
    except (TypeError, ValueError):
        map_url = ""
    return {
        "name": str(content.get("name") or ""),
        "address": str(content.get("address") or ""),
        "latitude": latitude,
        "longitude": longitude,
        "map_url": map_url,
    }


def _fill_shared_kinds(bubble: Bubble, message_type: str, content: dict) -> bool:
    """Text, media, location and contacts look the same whoever sent them. True when `message_type` was one."""
    if message_type == "text":
        bubble.text = str(content.get("body") or "")
    elif message_type in MEDIA_TYPES:
        bubble.media_kind = message_type
        bubble.media_url = _media_url(content)
        bubble.media_name = str(content.get("filename") or "")
        bubble.text = str(content.get("caption") or "")
    elif message_type == "location":
        bubble.location = _location(content)
    elif message_type == "contacts":
        bubble.contacts = _contacts(content)
    else:
        return False
    return True


def _business_bubble(message: SimulatedMessage) -> Bubble:
    body = message.payload if isinstance(message.payload, dict) else {}
    content = _type_object(body, message.type)
    bubble = Bubble(
        wamid=message.wamid,
        mine=False,
        type=message.type,
        time=message.created_at,
        reply_to=str((body.get("context") or {}).get("message_id") or ""),
    )
    if message.status == SimulatedStatus.FAILED:
        error = message.error or {}
        bubble.notice = "failed"
        bubble.error = f"{error.get('code')}: {error.get('title')}"
        return bubble
    if _fill_shared_kinds(bubble, message.type, content):
        return bubble
    if message.type == "interactive":
        _interactive(bubble, content)
    elif message.type == "template":
        _template(bubble, content)
    return bubble


def _interactive(bubble: Bubble, content: dict) -> None:
    header = content.get("header") or {}
    bubble.header = str(header.get("text") or "") if isinstance(header, dict) else ""
    bubble.text = str((content.get("body") or {}).get("text") or "")
    bubble.footer = str((content.get("footer") or {}).get("text") or "")
    action = content.get("action") or {}
    kind = content.get("type")
    if kind == "button":
        for button in action.get("buttons") or []:
            reply = button.get("reply") or {}
            bubble.buttons.append(Button("button_reply", str(reply.get("title") or ""), str(reply.get("id") or "")))
    elif kind == "list":
        bubble.list_label = str(action.get("button") or "Options")
        for section in action.get("sections") or []:
            rows = [
                Button("list_reply", str(r.get("title") or ""), str(r.get("id") or ""), str(r.get("description") or ""))
                for r in section.get("rows") or []
            ]
            bubble.sections.append(Section(str(section.get("title") or ""), rows))
    elif kind == "cta_url":
        parameters = action.get("parameters") or {}
        url = str(parameters.get("url") or "")
        bubble.buttons.append(
            Button("link", str(parameters.get("display_text") or url), url=url if is_web_link(url) else "")
        )
    elif kind == "product":
        bubble.buttons.append(Button("inert", f"Product {action.get('product_retailer_id', '')}"))
    elif kind == "product_list":
        for section in action.get("sections") or []:
            items = [
                Button("inert", str(item.get("product_retailer_id") or ""))
                for item in section.get("product_items") or []
            ]
            bubble.sections.append(Section(str(section.get("title") or ""), items))
        bubble.list_label = "View items"
    elif kind == "flow":
        bubble.buttons.append(Button("inert", str((action.get("parameters") or {}).get("flow_cta") or "Open")))
    elif kind == "catalog_message":
        bubble.buttons.append(Button("inert", "View catalog"))
    else:
        bubble.buttons.append(Button("inert", str(kind or "interactive")))


def _template(bubble: Bubble, content: dict) -> None:
    bubble.template_name = str(content.get("name") or "")
    bubble.template_language = str((content.get("language") or {}).get("code") or "")
    for component in content.get("components") or []:
        if not isinstance(component, dict):
            continue
        component_type = str(component.get("type") or "").lower()
        parameters = [p for p in component.get("parameters") or [] if isinstance(p, dict)]
        if component_type == "button":
            sub_type = str(component.get("sub_type") or "").lower()
            for parameter in parameters:
                value = str(parameter.get("payload") or parameter.get("text") or "")
                if sub_type == "quick_reply":
                    bubble.buttons.append(Button("quick_reply", value or "Reply", value))
                elif value:
                    bubble.buttons.append(Button("inert", value))
            continue
        for parameter in parameters:
            bubble.template_params.append(_template_parameter(parameter))


def _template_parameter(parameter: dict) -> str:
    kind = str(parameter.get("type") or "").lower()
    value = parameter.get(kind)
    if kind == "text":
        return str(parameter.get("text"))
    if isinstance(value, dict) and value.get("fallback_value"):
        return str(value["fallback_value"])
    if kind in MEDIA_TYPES and isinstance(value, dict):
        return f"[{kind}] {value.get('link') or value.get('id') or ''}".strip()
    return f"[{kind}]"


def _own(message: SimulatedMessage) -> Bubble:
    """A message the customer sent, as their phone shows it."""
    payload = message.payload if isinstance(message.payload, dict) else {}
    content = _type_object(payload, message.type)
    bubble = Bubble(
        wamid=message.wamid,
        mine=True,
        type=message.type,
        time=message.created_at,
        read=message.status == SimulatedStatus.READ,
        reply_to=str((payload.get("context") or {}).get("id") or ""),
    )
    if _fill_shared_kinds(bubble, message.type, content):
        return bubble
    if message.type == "interactive":
        reply = content.get(str(content.get("type"))) or {}
        bubble.text = str(reply.get("title") or "")
    elif message.type == "button":
        bubble.text = str(content.get("text") or content.get("payload") or "")
    elif message.type == "request_welcome":
        bubble.notice = "welcome"
    return bubble
