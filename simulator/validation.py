"""Validate `POST /{phone_number_id}/messages` bodies the way Meta does. Pure: dicts in, values or a
GraphError out (shared/whatsapp-cloud-api.md §2-§3).

Strict where Meta is strict (required keys, types, the documented length and count limits), lenient where
real traffic is (`to` as a JSON number, template components in any case, unknown extra keys). Missing or
mistyped parameters are code 100; values outside the interactive limits are 131009, as Meta answers them.
"""

from dataclasses import dataclass, field
from typing import Any

from simulator import rules
from simulator.errors import invalid_parameter, invalid_value

MESSAGE_TYPES = (
    "audio",
    "contacts",
    "document",
    "image",
    "interactive",
    "location",
    "reaction",
    "sticker",
    "template",
    "text",
    "video",
)
MEDIA_TYPES = ("audio", "document", "image", "sticker", "video")
INTERACTIVE_TYPES = (
    "address_message",
    "button",
    "call_permission_request",
    "catalog_message",
    "cta_url",
    "flow",
    "list",
    "location_request_message",
    "order_details",
    "order_status",
    "product",
    "product_list",
    "voice_call",
)
TEXT_MAX = 4096
CAPTION_MAX = 1024


@dataclass(frozen=True)
class SendRequest:
    """A valid send: who to (as given and as a wa_id), what, and the media it names."""

    to_input: str
    wa_id: str
    type: str
    payload: Any
    body: dict
    context_message_id: str = ""
    media_id: str = ""
    media_link: str = ""


@dataclass(frozen=True)
class ReadRequest:
    """`{"status":"read","message_id":...}`: the business read a customer's message (optionally typing)."""

    message_id: str
    typing_indicator: bool = False


@dataclass
class _Path:
    """Builds Meta's parameter names: interactive['action']['buttons'][0]['reply']['title']."""

    parts: list[str] = field(default_factory=list)

    def __truediv__(self, key: str | int) -> "_Path":
        return _Path([*self.parts, f"[{key}]" if isinstance(key, int) else f"['{key}']"])

    def __str__(self) -> str:
        first, *rest = self.parts
        return first.strip("[]'") + "".join(rest)


def _root(name: str) -> _Path:
    return _Path([name])


def parse_send(body: Any) -> SendRequest | ReadRequest:
    """Validate one request body; raise GraphError as Meta would answer it."""
    if not isinstance(body, dict):
        raise invalid_parameter("The request body must be a JSON object.")
    product = body.get("messaging_product")
    if product is None:
        raise invalid_parameter("The parameter messaging_product is required.")
    if product != "whatsapp":
        raise invalid_parameter(f'Param messaging_product must be one of {{WHATSAPP}} - got "{product}".')
    if "status" in body:
        return _parse_read(body)
    recipient_type = body.get("recipient_type", "individual")
    if recipient_type != "individual":
        raise invalid_parameter(f'Param recipient_type must be one of {{INDIVIDUAL}} - got "{recipient_type}".')
    to_input, wa_id = _recipient(body)
    # Without `type`, the message is whichever type's object the body carries, else text: two of OA's own
    # examples ("Send Text Message with Preview URL", "Send Reply to List Message") have no `type`.
    message_type = body.get("type") or next((key for key in MESSAGE_TYPES if key in body), "text")
    if message_type not in MESSAGE_TYPES:
        allowed = ", ".join(t.upper() for t in MESSAGE_TYPES)
        raise invalid_parameter(f'Param type must be one of {{{allowed}}} - got "{message_type}".')
    context_message_id = ""
    if "context" in body:
        context = _object(body["context"], _root("context"))
        context_message_id = _string(context.get("message_id"), _root("context") / "message_id")
    if message_type == "contacts":
        payload = body.get("contacts")
        _contacts(payload)
    else:
        if message_type not in body:
            raise invalid_parameter(f"The parameter {message_type} is required.")
        payload = body[message_type]
    media_id = media_link = ""
    if message_type == "text":
        _text(payload)
    elif message_type in MEDIA_TYPES:
        media_id, media_link = _media(message_type, payload)
    elif message_type == "location":
        _location(payload)
    elif message_type == "reaction":
        _reaction(payload)
    elif message_type == "interactive":
        _interactive(payload)
    elif message_type == "template":
        _template(payload)
    return SendRequest(
        to_input=to_input,
        wa_id=wa_id,
        type=message_type,
        payload=payload,
        body=body,
        context_message_id=context_message_id,
        media_id=media_id,
        media_link=media_link,
    )


def _parse_read(body: dict) -> ReadRequest:
    if body["status"] != "read":
        raise invalid_parameter(f'Param status must be one of {{READ}} - got "{body["status"]}".')
    message_id = _string(body.get("message_id"), _root("message_id"))
    typing = False
    if "typing_indicator" in body:
        indicator = _object(body["typing_indicator"], _root("typing_indicator"))
        kind = indicator.get("type")
        if kind != "text":
            raise invalid_parameter(f"Param typing_indicator['type'] must be one of {{TEXT}} - got \"{kind}\".")
        typing = True
    return ReadRequest(message_id=message_id, typing_indicator=typing)


def _recipient(body: dict) -> tuple[str, str]:
    to = body.get("to")
    if to is None:
        raise invalid_parameter("The parameter to is required.")
    # A JSON number is accepted as Meta does (§2); a boolean is not a number here.
    if isinstance(to, bool) or not isinstance(to, str | int):
        raise invalid_parameter("Param to must be a string.")
    to_input = str(to)
    wa_id = rules.normalise_phone(to_input)
    if wa_id is None:
        raise invalid_parameter(f"Param to is not a valid phone number: {to_input}")
    return to_input, wa_id


def _object(value: Any, path: _Path) -> dict:
    if not isinstance(value, dict):
        raise invalid_parameter(f"Param {path} must be a JSON object.")
    return value


def _string(value: Any, path: _Path, *, required: bool = True, max_length: int | None = None) -> str:
    if value is None:
        if required:
            raise invalid_parameter(f"The parameter {path} is required.")
        return ""
    if not isinstance(value, str):
        raise invalid_parameter(f"Param {path} must be a string.")
    if required and not value.strip():
        raise invalid_parameter(f"Param {path} must be non-empty.")
    if max_length is not None and len(value) > max_length:
        raise invalid_parameter(f"Param {path} must be at most {max_length} characters long.")
    return value


def _limited(value: Any, path: _Path, what: str, max_length: int, *, required: bool = True) -> str:
    """A string whose length Meta checks with 131009 (interactive titles, ids, footers)."""
    if value is None and not required:
        return ""
    text = _string(value, path)
    if not 1 <= len(text) <= max_length:
        raise invalid_value(f"{what} length invalid. Min length: 1, Max length: {max_length}")
    return text


def _text(payload: Any) -> None:
    path = _root("text")
    text = _object(payload, path)
    _string(text.get("body"), path / "body", max_length=TEXT_MAX)
    if "preview_url" in text and not isinstance(text["preview_url"], bool):
        raise invalid_parameter(f"Param {path / 'preview_url'} must be a boolean.")


def _media(kind: str, payload: Any) -> tuple[str, str]:
    path = _root(kind)
    media = _object(payload, path)
    has_id, has_link = "id" in media, "link" in media
    if has_id == has_link:
        raise invalid_parameter(f"Param {path} must contain exactly one of {path / 'id'} or {path / 'link'}.")
    media_id = _string(media.get("id"), path / "id") if has_id else ""
    link = _string(media.get("link"), path / "link") if has_link else ""
    if "caption" in media:
        if kind in ("audio", "sticker"):
            raise invalid_parameter(f"Param {path / 'caption'} is not supported for {kind} messages.")
        _string(media["caption"], path / "caption", required=False, max_length=CAPTION_MAX)
    if "filename" in media:
        _string(media["filename"], path / "filename", required=False, max_length=240)
    return media_id, link


def _number(value: Any, path: _Path, low: float, high: float) -> float:
    # OA types coordinates as strings while Meta's examples send numbers: accept both.
    if isinstance(value, bool) or value is None:
        raise invalid_parameter(f"The parameter {path} is required.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise invalid_parameter(f"Param {path} must be a number.")
    if not low <= number <= high:
        raise invalid_parameter(f"Param {path} must be between {low:g} and {high:g}.")
    return number


def _location(payload: Any) -> None:
    path = _root("location")
    location = _object(payload, path)
    _number(location.get("latitude"), path / "latitude", -90, 90)
    _number(location.get("longitude"), path / "longitude", -180, 180)
    for key in ("name", "address"):
        _string(location.get(key), path / key, required=False, max_length=1000)


def _contacts(payload: Any) -> None:
    path = _root("contacts")
    if payload is None:
        raise invalid_parameter("The parameter contacts is required.")
    if not isinstance(payload, list) or not payload:
        raise invalid_parameter(f"Param {path} must be a non-empty array.")
    for index, item in enumerate(payload):
        contact = _object(item, path / index)
        name = _object(contact.get("name"), path / index / "name") if "name" in contact else None
        if name is None:
            raise invalid_parameter(f"The parameter {path / index / 'name'} is required.")
        _string(name.get("formatted_name"), path / index / "name" / "formatted_name")
        for key in ("phones", "emails", "addresses", "urls"):
            if key in contact and not isinstance(contact[key], list):
                raise invalid_parameter(f"Param {path / index / key} must be an array.")


def _reaction(payload: Any) -> None:
    path = _root("reaction")
    reaction = _object(payload, path)
    _string(reaction.get("message_id"), path / "message_id")
    # An empty emoji removes the reaction (§2); absent means the same.
    _string(reaction.get("emoji"), path / "emoji", required=False, max_length=16)


def _interactive(payload: Any) -> None:
    path = _root("interactive")
    interactive = _object(payload, path)
    kind = interactive.get("type")
    if kind is None:
        raise invalid_parameter(f"The parameter {path / 'type'} is required.")
    if kind not in INTERACTIVE_TYPES:
        allowed = ", ".join(INTERACTIVE_TYPES)
        raise invalid_parameter(f'Param {path / "type"} must be one of {{{allowed}}} - got "{kind}".')
    action = _object(interactive.get("action"), path / "action") if "action" in interactive else None
    if action is None:
        raise invalid_parameter(f"The parameter {path / 'action'} is required.")
    body_required = kind in ("button", "list", "product_list", "cta_url", "flow", "catalog_message")
    body_max = 4096 if kind == "list" else 1024
    if "body" in interactive or body_required:
        body = _object(interactive.get("body"), path / "body") if "body" in interactive else None
        if body is None:
            raise invalid_parameter(f"The parameter {path / 'body'} is required.")
        _string(body.get("text"), path / "body" / "text")
        if len(body["text"]) > body_max:
            raise invalid_value(f"Body text length invalid. Min length: 1, Max length: {body_max}")
    if "header" in interactive:
        header = _object(interactive["header"], path / "header")
        if header.get("type", "text") == "text" and "text" in header:
            _limited(header.get("text"), path / "header" / "text", "Header text", 60)
    if "footer" in interactive:
        footer = _object(interactive["footer"], path / "footer")
        _limited(footer.get("text"), path / "footer" / "text", "Footer text", 60)
    if kind == "button":
        _reply_buttons(action, path / "action")
    elif kind == "list":
        _list(action, path / "action")
    elif kind == "product":
        _string(action.get("catalog_id"), path / "action" / "catalog_id")
        _string(action.get("product_retailer_id"), path / "action" / "product_retailer_id")
    elif kind == "product_list":
        _product_list(interactive, action, path)
    elif kind == "cta_url":
        parameters = _object(action.get("parameters"), path / "action" / "parameters")
        _limited(parameters.get("display_text"), path / "action" / "parameters" / "display_text", "Display text", 20)
        _string(parameters.get("url"), path / "action" / "parameters" / "url")


def _reply_buttons(action: dict, path: _Path) -> None:
    buttons = action.get("buttons")
    if not isinstance(buttons, list):
        raise invalid_parameter(f"The parameter {path / 'buttons'} is required.")
    if not 1 <= len(buttons) <= 3:
        raise invalid_value("Buttons count is invalid. Min: 1, Max: 3")
    ids, titles = set(), set()
    for index, item in enumerate(buttons):
        button = _object(item, path / "buttons" / index)
        if button.get("type") != "reply":
            raise invalid_parameter(f"Param {path / 'buttons' / index / 'type'} must be one of {{REPLY}}.")
        reply = _object(button.get("reply"), path / "buttons" / index / "reply")
        button_id = _limited(reply.get("id"), path / "buttons" / index / "reply" / "id", "Button id", 256)
        title = _limited(reply.get("title"), path / "buttons" / index / "reply" / "title", "Button title", 20)
        if button_id in ids or title in titles:
            raise invalid_value("Button ids and titles must be unique.")
        ids.add(button_id)
        titles.add(title)


def _list(action: dict, path: _Path) -> None:
    _limited(action.get("button"), path / "button", "Button label", 20)
    sections = action.get("sections")
    if not isinstance(sections, list):
        raise invalid_parameter(f"The parameter {path / 'sections'} is required.")
    if not 1 <= len(sections) <= 10:
        raise invalid_value("Sections count is invalid. Min: 1, Max: 10")
    row_ids: set[str] = set()
    for index, item in enumerate(sections):
        section = _object(item, path / "sections" / index)
        _limited(
            section.get("title"), path / "sections" / index / "title", "Section title", 24, required=len(sections) > 1
        )
        rows = section.get("rows")
        if not isinstance(rows, list) or not rows:
            raise invalid_parameter(f"The parameter {path / 'sections' / index / 'rows'} is required.")
        for row_index, row_item in enumerate(rows):
            row_path = path / "sections" / index / "rows" / row_index
            row = _object(row_item, row_path)
            row_id = _limited(row.get("id"), row_path / "id", "Row id", 200)
            _limited(row.get("title"), row_path / "title", "Row title", 24)
            _limited(row.get("description"), row_path / "description", "Row description", 72, required=False)
            if row_id in row_ids:
                raise invalid_value("Row ids must be unique.")
            row_ids.add(row_id)
    if len(row_ids) > 10:
        raise invalid_value("Rows count is invalid. Min: 1, Max: 10")


def _product_list(interactive: dict, action: dict, path: _Path) -> None:
    if "header" not in interactive:
        raise invalid_parameter(f"The parameter {path / 'header'} is required.")
    _string(action.get("catalog_id"), path / "action" / "catalog_id")
    sections = action.get("sections")
    if not isinstance(sections, list):
        raise invalid_parameter(f"The parameter {path / 'action' / 'sections'} is required.")
    if not 1 <= len(sections) <= 10:
        raise invalid_value("Sections count is invalid. Min: 1, Max: 10")
    total = 0
    for index, item in enumerate(sections):
        section_path = path / "action" / "sections" / index
        section = _object(item, section_path)
        _limited(section.get("title"), section_path / "title", "Section title", 24, required=len(sections) > 1)
        items = section.get("product_items")
        if not isinstance(items, list) or not items:
            raise invalid_parameter(f"The parameter {section_path / 'product_items'} is required.")
        for item_index, product in enumerate(items):
            product_path = section_path / "product_items" / item_index
            _string(_object(product, product_path).get("product_retailer_id"), product_path / "product_retailer_id")
        total += len(items)
    if total > 30:
        raise invalid_value("Products count is invalid. Min: 1, Max: 30")


def _template(payload: Any) -> None:
    """Lenient like real traffic (§2): `TEXT` or `text`, `index` as string or number, extra keys."""
    path = _root("template")
    template = _object(payload, path)
    _string(template.get("name"), path / "name", max_length=512)
    language = _object(template.get("language"), path / "language") if "language" in template else None
    if language is None:
        raise invalid_parameter(f"The parameter {path / 'language'} is required.")
    _string(language.get("code"), path / "language" / "code")
    components = template.get("components", [])
    if not isinstance(components, list):
        raise invalid_parameter(f"Param {path / 'components'} must be an array.")
    for index, item in enumerate(components):
        component = _object(item, path / "components" / index)
        _string(component.get("type"), path / "components" / index / "type")
        parameters = component.get("parameters", [])
        if not isinstance(parameters, list):
            raise invalid_parameter(f"Param {path / 'components' / index / 'parameters'} must be an array.")
        for parameter_index, parameter in enumerate(parameters):
            parameter_path = path / "components" / index / "parameters" / parameter_index
            _string(_object(parameter, parameter_path).get("type"), parameter_path / "type")


def is_web_link(link: str) -> bool:
    return link.lower().startswith(("http://", "https://"))
