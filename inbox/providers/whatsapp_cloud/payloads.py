"""Request bodies for `POST /{phone_number_id}/messages`, built exactly as shared/whatsapp-cloud-api.md §2-§3
say. Pure: plain values in, dicts out, no Django, no I/O.

Two layers:
- one builder per type (`text`, `media`, `location`, `contacts`, `reaction`, `reply_buttons`,
  `list_message`, `product`, `product_list`) returns that type's object and checks WhatsApp's limits
  (`limits.ValidationRefused`); `message()` wraps a type's object in the envelope, `mark_read()` is the
  read-receipt body;
- `content_from_payload(kind, payload)` takes what a person or API client asked for, shaped like
  WhatsApp's own type objects, and rebuilds it through the builders: only known keys survive, every limit
  is checked, and the result is both what the message row stores and what goes on the wire.

Template messages are built from the approved template by `templates_app.sending`; `template()` takes
what such a message stores and keeps only WhatsApp's keys for the wire.
"""

import copy
import math
from typing import Any

from inbox.providers.whatsapp_cloud import limits
from inbox.providers.whatsapp_cloud.limits import refuse

# Kinds `content_from_payload` accepts (media kinds are built from a stored file instead, with `media()`).
CONTENT_KINDS = ("text", "location", "contacts", "reaction", "interactive")
INTERACTIVE_TYPES = ("button", "list", "product", "product_list")
_CAPTIONED = ("image", "video", "document")


# --- Envelope and read receipt --------------------------------------------------------------------------


def message(
    *,
    type: str,
    content: dict[str, Any] | list[Any],
    to: str = "",
    recipient: str = "",
    reply_to: str = "",
    callback_data: str = "",
) -> dict[str, Any]:
    """The full send body. `to` is the customer's phone number (wa_id); a customer known only by a
    business-scoped user id (2026) is addressed with `recipient` instead (§2). `reply_to` quotes an
    earlier message (`context.message_id`); `callback_data` goes in `biz_opaque_callback_data`, which
    Meta echoes in every status webhook of this message."""
    if bool(to) == bool(recipient):
        raise ValueError("Address a message with exactly one of `to` or `recipient`.")
    body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual"}
    if to:
        body["to"] = to
    else:
        body["recipient"] = recipient
    body["type"] = type
    body[type] = content
    if reply_to:
        body["context"] = {"message_id": reply_to}
    if callback_data:
        body["biz_opaque_callback_data"] = callback_data
    return body


def mark_read(provider_message_id: str, *, typing: bool = False) -> dict[str, Any]:
    """Mark an inbound message (and the ones before it) as read: blue ticks on the customer's phone (§3).
    `typing` also shows "typing…" to the customer for up to 25 seconds."""
    body: dict[str, Any] = {"messaging_product": "whatsapp", "status": "read", "message_id": provider_message_id}
    if typing:
        body["typing_indicator"] = {"type": "text"}
    return body


# --- One builder per type -------------------------------------------------------------------------------


def text(body: str, *, preview_url: bool = False) -> dict[str, Any]:
    """`{"body": …, "preview_url": true}`; `preview_url` is only sent when asked for."""
    body = _required_text(body, "The message", limits.TEXT_BODY_MAX, code="text_too_long")
    content: dict[str, Any] = {"body": body}
    if preview_url:
        content["preview_url"] = True
    return content


def media(kind: str, *, media_id: str, caption: str = "", filename: str = "") -> dict[str, Any]:
    """A media object by uploaded id. Audio and stickers take no caption; only documents take a file name."""
    if kind not in limits.MEDIA_KINDS:
        raise refuse(f"WhatsApp cannot send a file as “{kind}”.", "media_type_not_allowed")
    if not media_id:
        raise ValueError("A media message needs the id WhatsApp gave the uploaded file.")
    content: dict[str, Any] = {"id": media_id}
    caption = _optional_text(caption, "The caption", limits.CAPTION_MAX)
    if caption:
        if kind not in _CAPTIONED:
            raise refuse(f"WhatsApp does not show captions on {limits.MEDIA_RULES[kind].label.lower()}.")
        content["caption"] = caption
    if filename and kind == "document":
        content["filename"] = safe_filename(filename)
    return content


def location(*, latitude: Any, longitude: Any, name: str = "", address: str = "") -> dict[str, Any]:
    """A pin. Coordinates go out as JSON numbers, as in Meta's examples."""
    content: dict[str, Any] = {
        "latitude": _coordinate(latitude, "latitude", 90),
        "longitude": _coordinate(longitude, "longitude", 180),
    }
    if name := _optional_text(name, "The place name", 1000):
        content["name"] = name
    if address := _optional_text(address, "The address", 1000):
        content["address"] = address
    return content


# The vCard-like fields of a shared contact (Meta's ContactObject), each with the keys it may carry.
_CARD_LISTS = {
    "phones": ("phone", {"phone", "type", "wa_id"}),
    "emails": ("email", {"email", "type"}),
    "urls": ("url", {"url", "type"}),
    "addresses": (None, {"street", "city", "state", "zip", "country", "country_code", "type"}),
}
_NAME_KEYS = {"formatted_name", "first_name", "last_name", "middle_name", "prefix", "suffix"}
_ORG_KEYS = {"company", "department", "title"}


def contacts(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Shared contact cards: each needs `name.formatted_name`; only Meta's documented keys are kept."""
    if not isinstance(cards, list) or not cards:
        raise refuse("Share at least one contact.")
    if len(cards) > limits.CONTACT_CARDS_MAX:
        raise refuse(f"At most {limits.CONTACT_CARDS_MAX} contacts can be shared in one message.")
    built = []
    for number, card in enumerate(cards, start=1):
        if not isinstance(card, dict):
            raise refuse(f"Contact {number} is not a contact card.")
        _no_unknown_keys(card, {"name", "birthday", "org", *_CARD_LISTS}, f"Contact {number}")
        name = _string_map(card.get("name") or {}, _NAME_KEYS, f"Contact {number}'s name")
        if not name.get("formatted_name"):
            raise refuse(f"Contact {number} needs a full name.")
        entry: dict[str, Any] = {"name": name}
        for key, (required, allowed) in _CARD_LISTS.items():
            items = card.get(key)
            if items is None:
                continue
            if not isinstance(items, list):
                raise refuse(f"Contact {number}'s {key} must be a list.")
            cleaned = [_string_map(item, allowed, f"Contact {number}'s {key}") for item in items]
            if required and any(not item.get(required) for item in cleaned):
                raise refuse(f"Each of contact {number}'s {key} needs a `{required}`.")
            entry[key] = cleaned
        if card.get("org") is not None:
            entry["org"] = _string_map(card["org"], _ORG_KEYS, f"Contact {number}'s organisation")
        if card.get("birthday"):
            entry["birthday"] = _optional_text(card["birthday"], f"Contact {number}'s birthday", 10)
        built.append(entry)
    return built


def reaction(*, message_id: str, emoji: str) -> dict[str, Any]:
    """React to a message with an emoji; an empty emoji removes our earlier reaction (§2)."""
    if not isinstance(message_id, str) or not message_id:
        raise refuse("Say which message the reaction is for.")
    # Letters and spaces mean text, not an emoji (digits stay: keycap emoji such as 1️⃣ contain one).
    if not isinstance(emoji, str) or len(emoji) > 16 or any(ch.isspace() or ch.isalpha() for ch in emoji):
        raise refuse("A reaction is a single emoji.")
    return {"message_id": message_id, "emoji": emoji}


def reply_buttons(*, body: str, buttons: list[tuple[str, str]], header: str = "", footer: str = "") -> dict[str, Any]:
    """Up to 3 quick-reply buttons under a body; each button is (id, title)."""
    if not buttons:
        raise refuse("Add at least one button.")
    if len(buttons) > limits.BUTTONS_MAX:
        raise refuse(f"A message can have at most {limits.BUTTONS_MAX} reply buttons; this one has {len(buttons)}.")
    built = []
    for number, (button_id, title) in enumerate(buttons, start=1):
        built.append(
            {
                "type": "reply",
                "reply": {
                    "id": _required_text(button_id, f"Button {number}'s id", limits.BUTTON_ID_MAX, strip=False),
                    "title": _required_text(title, f"Button {number}'s title", limits.BUTTON_TITLE_MAX),
                },
            }
        )
    _unique([b["reply"]["id"] for b in built], "button ids")
    _unique([b["reply"]["title"] for b in built], "button titles")
    return _interactive(
        "button",
        header=header,
        body=_required_text(body, "The message", limits.BUTTON_BODY_MAX),
        footer=footer,
        action={"buttons": built},
    )


def list_message(
    *, body: str, button: str, sections: list[dict[str, Any]], header: str = "", footer: str = ""
) -> dict[str, Any]:
    """A menu behind a button: up to 10 sections holding at most 10 rows in all. `sections` are
    `{"title": …, "rows": [{"id", "title", "description"?}]}`."""
    if not isinstance(sections, list) or not sections:
        raise refuse("A list needs at least one section.")
    if len(sections) > limits.LIST_SECTIONS_MAX:
        raise refuse(f"A list can have at most {limits.LIST_SECTIONS_MAX} sections; this one has {len(sections)}.")
    built_sections = []
    for s_number, section in enumerate(sections, start=1):
        if not isinstance(section, dict):
            raise refuse(f"Section {s_number} is not a list section.")
        rows = section.get("rows")
        if not isinstance(rows, list) or not rows:
            raise refuse(f"Section {s_number} needs at least one row.")
        built_rows = []
        for r_number, row in enumerate(rows, start=1):
            if not isinstance(row, dict):
                raise refuse(f"Row {r_number} of section {s_number} is not a list row.")
            label = f"Row {r_number} of section {s_number}"
            built_row = {
                "id": _required_text(row.get("id"), f"{label}'s id", limits.ROW_ID_MAX, strip=False),
                "title": _required_text(row.get("title"), f"{label}'s title", limits.ROW_TITLE_MAX),
            }
            if description := _optional_text(
                row.get("description"), f"{label}'s description", limits.ROW_DESCRIPTION_MAX
            ):
                built_row["description"] = description
            built_rows.append(built_row)
        built_section: dict[str, Any] = {}
        title = _optional_text(section.get("title"), f"Section {s_number}'s title", limits.SECTION_TITLE_MAX)
        if title:
            built_section["title"] = title
        elif len(sections) > 1:
            raise refuse(f"Section {s_number} needs a title: a list with several sections shows them.")
        built_section["rows"] = built_rows
        built_sections.append(built_section)
    row_count = sum(len(s["rows"]) for s in built_sections)
    if row_count > limits.LIST_ROWS_MAX:
        raise refuse(f"A list can have at most {limits.LIST_ROWS_MAX} rows in all; this one has {row_count}.")
    _unique([row["id"] for s in built_sections for row in s["rows"]], "row ids")
    return _interactive(
        "list",
        header=header,
        body=_required_text(body, "The message", limits.LIST_BODY_MAX),
        footer=footer,
        action={
            "button": _required_text(button, "The list's button", limits.LIST_BUTTON_MAX),
            "sections": built_sections,
        },
    )


def product(*, catalog_id: str, product_retailer_id: str, body: str = "", footer: str = "") -> dict[str, Any]:
    """One product from the business's catalog. WhatsApp shows the product's own image: no header."""
    return _interactive(
        "product",
        header="",
        body=_optional_text(body, "The message", limits.BUTTON_BODY_MAX),
        footer=footer,
        action={
            "catalog_id": _required_text(catalog_id, "The catalog id", 200),
            "product_retailer_id": _required_text(product_retailer_id, "The product id", 200),
        },
    )


def product_list(
    *, header: str, body: str, catalog_id: str, sections: list[dict[str, Any]], footer: str = ""
) -> dict[str, Any]:
    """Several catalog products in sections: `{"title": …, "product_retailer_ids": [...]}`. A text header
    and a body are required."""
    if not isinstance(sections, list) or not sections:
        raise refuse("A product list needs at least one section.")
    if len(sections) > limits.PRODUCT_SECTIONS_MAX:
        raise refuse(f"A product list can have at most {limits.PRODUCT_SECTIONS_MAX} sections.")
    built_sections = []
    for number, section in enumerate(sections, start=1):
        ids = section.get("product_retailer_ids") if isinstance(section, dict) else None
        if not isinstance(ids, list) or not ids:
            raise refuse(f"Section {number} needs at least one product.")
        built_sections.append(
            {
                "title": _required_text(section.get("title"), f"Section {number}'s title", limits.SECTION_TITLE_MAX),
                "product_items": [
                    {"product_retailer_id": _required_text(pid, f"A product id in section {number}", 200)}
                    for pid in ids
                ],
            }
        )
    product_count = sum(len(s["product_items"]) for s in built_sections)
    if product_count > limits.PRODUCT_ITEMS_MAX:
        raise refuse(
            f"A product list can show at most {limits.PRODUCT_ITEMS_MAX} products; this one has {product_count}."
        )
    return _interactive(
        "product_list",
        header=_required_text(header, "The header", limits.HEADER_TEXT_MAX),
        body=_required_text(body, "The message", limits.BUTTON_BODY_MAX),
        footer=footer,
        action={"catalog_id": _required_text(catalog_id, "The catalog id", 200), "sections": built_sections},
    )


def _interactive(kind: str, *, header: str, body: str, footer: str, action: dict[str, Any]) -> dict[str, Any]:
    content: dict[str, Any] = {"type": kind}
    if header := _optional_text(header, "The header", limits.HEADER_TEXT_MAX):
        content["header"] = {"type": "text", "text": header}
    if body:
        content["body"] = {"text": body}
    if footer := _optional_text(footer, "The footer", limits.FOOTER_MAX):
        content["footer"] = {"text": footer}
    content["action"] = action
    return content


# WhatsApp's keys of a template object (§2); a template message stores more beside them (what the thread
# shows, the revision it was built from), which never goes on the wire.
TEMPLATE_KEYS = ("name", "language", "components")
_HEADER_MEDIA_TYPES = ("image", "video", "document")


def template(stored: dict[str, Any], *, header_media_id: str = "") -> dict[str, Any]:
    """The `template` object to send from what a template message stores: only `name`, `language` and
    `components`. A header file is stored without WhatsApp's media id (the worker uploads it first);
    `header_media_id` puts the id in."""
    content = {key: copy.deepcopy(stored[key]) for key in TEMPLATE_KEYS if key in stored}
    waiting = _header_files_waiting(content)
    if bool(waiting) != bool(header_media_id):
        raise ValueError("A template's header file needs the media id WhatsApp gave it, and only it.")
    for media_object in waiting:
        media_object["id"] = header_media_id
    return content


def template_needs_media_id(stored: dict[str, Any]) -> bool:
    """Does the template message's header file still have to be uploaded (neither a link nor an id)?"""
    return bool(_header_files_waiting(stored))


def _header_files_waiting(content: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        parameter[parameter["type"]]
        for component in content.get("components", [])
        if component.get("type") == "header"
        for parameter in component.get("parameters", [])
        if parameter.get("type") in _HEADER_MEDIA_TYPES
        and not {"link", "id"} & set(parameter.get(parameter["type"], {}))
    ]


# --- From a person's request to a checked type object -------------------------------------------------


def content_from_payload(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise what was asked for (`payload` shaped like WhatsApp's type object for `kind`)
    into the object stored as the message's `content` and sent on the wire.

    - text: `{"body", "preview_url"?}`
    - location: `{"latitude", "longitude", "name"?, "address"?}`
    - contacts: `{"contacts": [card, …]}` (stored so, like inbound contacts; sent as the list)
    - reaction: `{"message_id", "emoji"}`
    - interactive: `{"type": "button"|"list"|"product"|"product_list", "header"?: {"type": "text",
      "text"}, "body"?: {"text"}, "footer"?: {"text"}, "action": {…}}` as in Meta's documentation.
    """
    if not isinstance(payload, dict):
        raise refuse("The message is not in the expected shape.")
    if kind == "text":
        return text(payload.get("body"), preview_url=bool(payload.get("preview_url")))
    if kind == "location":
        return location(
            latitude=payload.get("latitude"),
            longitude=payload.get("longitude"),
            name=payload.get("name", ""),
            address=payload.get("address", ""),
        )
    if kind == "contacts":
        return {"contacts": contacts(payload.get("contacts"))}
    if kind == "reaction":
        return reaction(message_id=payload.get("message_id"), emoji=payload.get("emoji", ""))
    if kind == "interactive":
        return _interactive_from_payload(payload)
    raise refuse(f"“{kind}” is not a kind of message that can be sent here.")


def _interactive_from_payload(payload: dict[str, Any]) -> dict[str, Any]:
    kind = payload.get("type")
    action = payload.get("action")
    if kind not in INTERACTIVE_TYPES:
        raise refuse("An interactive message is reply buttons, a list, a product or a product list.")
    if not isinstance(action, dict):
        raise refuse("An interactive message needs its `action`.")
    header = payload.get("header")
    if header is not None and (not isinstance(header, dict) or header.get("type") != "text"):
        raise refuse("Only text headers can be sent on interactive messages.")
    header_text = header.get("text", "") if header else ""
    body_text = _nested_text(payload.get("body"))
    footer_text = _nested_text(payload.get("footer"))
    if kind == "button":
        buttons = action.get("buttons")
        if not isinstance(buttons, list):
            raise refuse("Reply buttons need a list of buttons.")
        pairs = []
        for number, button in enumerate(buttons, start=1):
            reply = button.get("reply") if isinstance(button, dict) else None
            if not isinstance(reply, dict) or button.get("type", "reply") != "reply":
                raise refuse(f"Button {number} is not a reply button.")
            pairs.append((reply.get("id"), reply.get("title")))
        return reply_buttons(body=body_text, buttons=pairs, header=header_text, footer=footer_text)
    if kind == "list":
        return list_message(
            body=body_text,
            button=action.get("button"),
            sections=action.get("sections"),
            header=header_text,
            footer=footer_text,
        )
    if kind == "product":
        if header_text:
            raise refuse("A single-product message cannot have a header: WhatsApp shows the product's image.")
        return product(
            catalog_id=action.get("catalog_id"),
            product_retailer_id=action.get("product_retailer_id"),
            body=body_text,
            footer=footer_text,
        )
    sections = action.get("sections")
    simple_sections = []
    for section in sections if isinstance(sections, list) else []:
        items = section.get("product_items") if isinstance(section, dict) else None
        simple_sections.append(
            {
                "title": section.get("title") if isinstance(section, dict) else None,
                "product_retailer_ids": [
                    item.get("product_retailer_id") if isinstance(item, dict) else None
                    for item in (items if isinstance(items, list) else [])
                ],
            }
        )
    return product_list(
        header=header_text,
        body=body_text,
        catalog_id=action.get("catalog_id"),
        sections=simple_sections if isinstance(sections, list) else None,
        footer=footer_text,
    )


def readable_text(kind: str, content: dict[str, Any]) -> str:
    """The part of an outbound message a person reads in the list and searches for, like the inbound
    parser's: the body, the caption, the place, the contacts' names, the emoji."""
    if kind == "text":
        return str(content.get("body", ""))
    if kind in limits.MEDIA_KINDS:
        return str(content.get("caption") or content.get("filename") or "")
    if kind == "location":
        return str(content.get("name") or content.get("address") or f"{content['latitude']}, {content['longitude']}")
    if kind == "contacts":
        return ", ".join(card["name"]["formatted_name"] for card in content.get("contacts", []))
    if kind == "reaction":
        return str(content.get("emoji", ""))
    if kind == "interactive":
        return str((content.get("body") or {}).get("text") or (content.get("header") or {}).get("text") or "")
    if kind == "template":
        return str((content.get("rendered") or {}).get("body") or "")
    return ""


def safe_filename(name: str) -> str:
    """A document's file name as the customer will see it: no path, no control characters, not too long.
    It is still hostile text for our own pages (escaped on output)."""
    name = str(name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().lstrip(".")
    return name[: limits.FILENAME_MAX] or "file"


# --- Small checks ---------------------------------------------------------------------------------------


def _required_text(value: Any, label: str, maximum: int, *, code: str = "invalid_message", strip: bool = True) -> str:
    if not isinstance(value, str) or not value.strip():
        raise refuse(f"{label} cannot be empty.")
    if strip:
        value = value.strip()
    if len(value) > maximum:
        raise refuse(f"{label} is {len(value)} characters long; WhatsApp allows at most {maximum}.", code)
    return value


def _optional_text(value: Any, label: str, maximum: int) -> str:
    if value is None or value == "":
        return ""
    return _required_text(value, label, maximum)


def _nested_text(value: Any) -> str:
    """`{"text": "…"}` (Meta's body/footer objects) or None."""
    if value is None:
        return ""
    if not isinstance(value, dict):
        raise refuse('A body or footer is written as {"text": "…"}.')
    return value.get("text") or ""


def _coordinate(value: Any, label: str, bound: int) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise refuse(f"The {label} must be a number.")
    if not math.isfinite(number) or not -bound <= number <= bound:
        raise refuse(f"The {label} must be between -{bound} and {bound}.")
    return number


def _string_map(value: Any, allowed: set[str], label: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise refuse(f"{label} is not in the expected shape.")
    _no_unknown_keys(value, allowed, label)
    cleaned = {}
    for key, item in value.items():
        if item is None or item == "":
            continue
        if not isinstance(item, str):
            raise refuse(f"{label}: `{key}` must be text.")
        cleaned[key] = _required_text(item, f"{label}: `{key}`", 1000)
    return cleaned


def _no_unknown_keys(value: dict[str, Any], allowed: set[str], label: str) -> None:
    unknown = set(value) - allowed
    if unknown:
        raise refuse(f"{label} has fields WhatsApp does not know: {', '.join(sorted(map(str, unknown)))}.")


def _unique(values: list[str], label: str) -> None:
    if len(set(values)) != len(values):
        raise refuse(f"The {label} must all be different.")
