"""Reads for the customer page, the control API and the Graph API: the chat as the customer's phone
shows it, and the template registry as Meta answers for it.

Everything here is plain values for templates: links are only ever http(s) or our own URLs, and all
text stays text (templates escape it; nothing is marked safe).
"""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone

from simulator import health_rules, rules, template_review
from simulator.models import (
    ParameterFormat,
    SimulatedCustomer,
    SimulatedDirection,
    SimulatedFeedback,
    SimulatedMessage,
    SimulatedNumber,
    SimulatedReach,
    SimulatedStatus,
    SimulatedTemplate,
    TemplateCategory,
    TemplateStatus,
)
from simulator.template_validation import VARIABLE, buttons_of, component_of, parameter_type, upper
from simulator.validation import MEDIA_TYPES, is_web_link

QUOTE_LENGTH = 80


@dataclass
class Button:
    """Something the customer can tap (or read) under a business message."""

    kind: str  # button_reply, list_reply, quick_reply, link, phone, copy_code, inert
    title: str
    reply_id: str = ""
    description: str = ""
    url: str = ""
    # The number of a phone button, the code of a copy-code button.
    detail: str = ""


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


def customer_state(customer: SimulatedCustomer) -> dict[str, Any]:
    """The summary plus what the customer's own actions changed (the customer action API's answer)."""
    return {
        **customer_summary(customer),
        "blocked": customer.blocked,
        "marketing_stopped": customer.marketing_stopped,
        "identity_hash": customer.identity_hash,
        "changed_to": customer.changed_to,
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
    elif message.type == "template" and isinstance(message.template, dict):
        _rendered_template(bubble, content, message.template)
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


def _rendered_template(bubble: Bubble, content: dict, template: dict) -> None:
    """A template message as the customer sees it: the approved components (kept with the message) with
    the business's parameters filled in: header text or media, body, footer and buttons."""
    bubble.template_name = str(content.get("name") or "")
    bubble.template_language = str((content.get("language") or {}).get("code") or "")
    components = [c for c in template.get("components") or [] if isinstance(c, dict)]
    named = template.get("parameter_format") == ParameterFormat.NAMED
    sent: dict[str, list[dict]] = {}
    sent_buttons: dict[str, list[dict]] = {}
    for component in content.get("components") or []:
        if not isinstance(component, dict):
            continue
        parameters = [p for p in component.get("parameters") or [] if isinstance(p, dict)]
        kind = str(component.get("type") or "").lower()
        if kind == "button":
            sent_buttons[str(component.get("index"))] = parameters
        else:
            sent.setdefault(kind, []).extend(parameters)
    _template_header(bubble, component_of(components, "HEADER"), sent.get("header", []), named=named)
    body = component_of(components, "BODY") or {}
    footer = component_of(components, "FOOTER") or {}
    if template.get("category") == TemplateCategory.AUTHENTICATION:
        body_parameters = sent.get("body") or [None]
        code = _display(body_parameters[0])
        bubble.text = template_review.authentication_body(
            code, add_security_recommendation=body.get("add_security_recommendation") is True
        )
        bubble.footer = template_review.authentication_footer(footer.get("code_expiration_minutes"))
    else:
        bubble.text = _fill(str(body.get("text") or ""), sent.get("body", []), named=named)
        bubble.footer = str(footer.get("text") or "")
    for index, button in enumerate(buttons_of(components)):
        bubble.buttons.append(_template_button(button, sent_buttons.get(str(index), [])))


def _display(parameter: dict | None) -> str:
    """What a parameter shows: its text, a currency's or date's fallback value, a payload."""
    if not isinstance(parameter, dict):
        return ""
    kind = parameter_type(parameter)
    value = parameter.get(kind)
    if kind in ("currency", "date_time") and isinstance(value, dict):
        return str(value.get("fallback_value") or "")
    return str(value) if isinstance(value, str | int | float) else ""


def _fill(text: str, parameters: list[dict], *, named: bool) -> str:
    """The text with `{{1}}` / `{{name}}` replaced by the parameters' values (unknown ones stay as written)."""
    if named:
        values = {str(p.get("parameter_name")): _display(p) for p in parameters}
    else:
        values = {str(position): _display(p) for position, p in enumerate(parameters, start=1)}
    return VARIABLE.sub(lambda match: values.get(match.group(1).strip(), match.group(0)), text)


def _template_header(bubble: Bubble, header: dict | None, parameters: list[dict], *, named: bool) -> None:
    if header is None:
        return
    header_format = upper(header.get("format") or "TEXT")
    if header_format == "TEXT":
        bubble.header = _fill(str(header.get("text") or ""), parameters, named=named)
        return
    media = parameters[0].get(header_format.lower()) if parameters else None
    if not isinstance(media, dict):
        return
    if header_format == "LOCATION":
        bubble.location = _location(media)
    else:
        bubble.media_kind = header_format.lower()
        bubble.media_url = _media_url(media)
        bubble.media_name = str(media.get("filename") or "")


def _template_button(button: dict, parameters: list[dict]) -> Button:
    button_type = upper(button.get("type"))
    text = str(button.get("text") or "")
    value = _display(parameters[0]) if parameters else ""
    if button_type == "QUICK_REPLY":
        # The tap reports the payload the business sent for this button, or the button's text.
        return Button("quick_reply", text, reply_id=value or text)
    if button_type == "URL":
        url = VARIABLE.sub(lambda _: value, str(button.get("url") or ""))
        return Button("link", text or url, url=url if is_web_link(url) else "")
    if button_type == "PHONE_NUMBER":
        return Button("phone", text, detail=str(button.get("phone_number") or ""))
    if button_type in ("COPY_CODE", "OTP"):
        return Button("copy_code", text or "Copy code", detail=value)
    return Button("inert", text or button_type.replace("_", " ").title())


def _template(bubble: Bubble, content: dict) -> None:
    """A template message sent before the simulator kept a registry: its name and raw parameters."""
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
    elif message.type == "system":
        # A number or identity change: a line in the chat, as WhatsApp shows "security code changed".
        bubble.notice = "system"
        bubble.text = str(content.get("body") or "")
    return bubble


# The template registry


def template_object(template: SimulatedTemplate, *, fields: list[str] | None = None) -> dict[str, Any]:
    """A template as `GET /{template_id}` and the list answer it (§5): name, parameter_format,
    components, language, status, category, then previous_category when set, quality_score and
    rejected_reason, and the id. `fields` narrows it to those fields (the id always comes)."""
    document: dict[str, Any] = {
        "name": template.name,
        "parameter_format": template.parameter_format,
        "components": template.components,
        "language": template.language,
        "status": template.status,
        "category": template.category,
    }
    if template.previous_category:
        document["previous_category"] = template.previous_category
    document["quality_score"] = {"score": template.quality_score, "date": int(template.quality_updated_at.timestamp())}
    document["rejected_reason"] = template.rejected_reason
    document["id"] = template.template_id
    if fields:
        document = {key: value for key, value in document.items() if key in fields or key == "id"}
    return document


@dataclass
class TemplateRow:
    """A template on the simulator page, with what a person may do to it now."""

    template_id: str
    name: str
    language: str
    status: str
    category: str
    quality_score: str
    rejected_reason: str
    preview: str
    in_review_edit: bool
    actions: set[str]


def template_summary(template: SimulatedTemplate) -> dict[str, Any]:
    """A template for the control API: the Graph object and what the simulator knows besides."""
    return {
        **template_object(template),
        "waba_id": template.waba_id,
        "approved_components": template.approved_components,
        "allow_category_change": template.allow_category_change,
        "sendable": template_review.send_refusal(
            template.status, has_approved_version=template.approved_components is not None
        )
        is None,
        "created_at": template.created_at.isoformat(),
        "status_updated_at": template.status_updated_at.isoformat(),
    }


def template_rows(waba_id: str) -> list[TemplateRow]:
    rows = []
    for template in SimulatedTemplate.objects.filter(waba_id=waba_id).order_by("name", "language"):
        body = component_of(template.components, "BODY") or {}
        actions = {
            action
            for action in template_review.ACTIONS_FROM
            if not template_review.action_refusal(action, template.status)
        }
        rows.append(
            TemplateRow(
                template_id=template.template_id,
                name=template.name,
                language=template.language,
                status=template.status,
                category=template.category,
                quality_score=template.quality_score,
                rejected_reason=template.rejected_reason,
                preview=str(body.get("text") or "")[:QUOTE_LENGTH],
                in_review_edit=template.status == TemplateStatus.PENDING and template.approved_components is not None,
                actions=actions,
            )
        )
    return rows


# Number health


def number_health(number: SimulatedNumber, *, now: datetime | None = None) -> dict[str, Any]:
    """A number's health for the control API and the page's panel: the state, what it is computed from,
    and when the flag is reviewed."""
    now = now or timezone.now()
    day = now - health_rules.MESSAGING_LIMIT_WINDOW
    week = now - health_rules.QUALITY_WINDOW
    reaches = SimulatedReach.objects.filter(channel_id=number.channel_id)
    feedback = SimulatedFeedback.objects.filter(channel_id=number.channel_id, created_at__gt=week)
    review_at = number.flagged_at + health_rules.FLAG_REVIEW_AFTER if number.flagged_at else None
    limit = health_rules.tier_limit(number.messaging_limit_tier)
    return {
        "phone_number_id": number.channel.phone_number_id,
        "quality_rating": number.quality_rating,
        "status": number.status,
        "messaging_limit_tier": number.messaging_limit_tier,
        "messaging_limit": limit,
        "throughput_level": str(health_rules.throughput_level(number.throughput_per_second)),
        "throughput_per_second": number.throughput_per_second,
        "flagged_at": number.flagged_at.isoformat() if number.flagged_at else None,
        "flag_review_at": review_at.isoformat() if review_at else None,
        "flag_review_in_seconds": max(0, int((review_at - now).total_seconds())) if review_at else None,
        "restricted_until": number.restricted_until.isoformat() if number.restricted_until else None,
        "reached_last_24_hours": reaches.filter(created_at__gt=day).count(),
        "reached_last_7_days": reaches.filter(created_at__gt=week).values("customer").distinct().count(),
        "blocks_last_7_days": feedback.filter(kind="block").count(),
        "no_human_reports_last_7_days": feedback.filter(kind="no_human_route").count(),
        "thresholds": {
            "yellow_percent": number.quality_yellow_percent,
            "red_percent": number.quality_red_percent,
            "min_signals": number.quality_min_signals,
        },
    }
