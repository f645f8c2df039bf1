"""Message templates as Meta checks them synchronously. Pure: dicts in, values or a GraphError out
(shared/whatsapp-cloud-api.md §2 "template", §5).

- `parse_create` / `parse_edit`: the bodies of `POST /{waba_id}/message_templates` and `POST /{template_id}`.
  Malformed input is refused with code 100 and a sentence for people (`error_user_msg`); the components
  come back as Meta stores them: types and formats in upper case, phone buttons with `+`.
- `check_send`: a template message against the approved components: 132000 when the parameters do not
  match the placeholders, 132012 when a parameter has the wrong format.

What a reviewer decides later (variables, wording, category) is `simulator.template_review`.
"""

import re
from dataclasses import dataclass
from typing import Any

from simulator import rules
from simulator.errors import GraphError, invalid_parameter, invalid_template
from simulator.models import ParameterFormat, TemplateCategory

COMPONENT_TYPES = ("HEADER", "BODY", "FOOTER", "BUTTONS")
HEADER_FORMATS = ("TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION")
BUTTON_TYPES = ("QUICK_REPLY", "URL", "PHONE_NUMBER", "OTP", "COPY_CODE", "FLOW", "MPM", "CATALOG", "VOICE_CALL")
OTP_TYPES = ("COPY_CODE", "ONE_TAP", "ZERO_TAP")

# Meta's limits on template content.
NAME_MAX = 512
HEADER_TEXT_MAX = 60
BODY_TEXT_MAX = 1024
FOOTER_TEXT_MAX = 60
BUTTON_TEXT_MAX = 25
BUTTONS_MAX = 10
URL_BUTTONS_MAX = 2
PHONE_BUTTONS_MAX = 1
URL_MAX = 2000
COPY_CODE_MAX = 15
CODE_EXPIRATION_MINUTES = (1, 90)

_NAME = re.compile(r"^[a-z0-9_]+$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]{2,4})?$")
# Anything between double braces is a variable; whether it is a well-formed one is the reviewer's concern.
VARIABLE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)

# The body WhatsApp writes for an authentication template: one variable, the code.
AUTHENTICATION_VARIABLES = ("1",)

# Which `sub_type` of a sent button component addresses which template button. An authentication
# template's OTP button takes the code as a `url` button parameter (Meta's documented send shape).
_SUB_TYPES = {
    "QUICK_REPLY": ("quick_reply",),
    "URL": ("url",),
    "COPY_CODE": ("copy_code",),
    "OTP": ("url", "copy_code"),
    "FLOW": ("flow",),
    "CATALOG": ("catalog",),
    "MPM": ("mpm",),
    "VOICE_CALL": ("voice_call",),
    "PHONE_NUMBER": ("phone_number",),
}
_TEXT_PARAMETER_TYPES = ("text", "currency", "date_time")


@dataclass(frozen=True)
class TemplateDraft:
    """A valid creation request, normalised."""

    name: str
    language: str
    category: str
    components: list[dict]
    parameter_format: str
    allow_category_change: bool


@dataclass(frozen=True)
class TemplateEdit:
    """A valid edit: new components and/or a new category (None keeps the current one)."""

    components: list[dict] | None
    category: str | None


def variables(text: str) -> list[str]:
    """The distinct variables of a text, stripped, in order of first appearance: `{{1}}`, `{{first_name}}`."""
    seen: list[str] = []
    for match in VARIABLE.finditer(text):
        token = match.group(1).strip()
        if token not in seen:
            seen.append(token)
    return seen


def upper(value: Any) -> str:
    return value.strip().upper() if isinstance(value, str) else ""


def _missing(name: str) -> GraphError:
    return invalid_template("Missing parameter", f"The parameter {name} is required.")


def _invalid(user_msg: str, title: str = "Invalid template") -> GraphError:
    return invalid_template(title, user_msg)


def parse_create(body: Any) -> TemplateDraft:
    """Validate a creation request as Meta does before it queues the template for review."""
    if not isinstance(body, dict):
        raise _invalid("The request body must be a JSON object.", "Invalid request")
    for key in ("name", "language", "category", "components"):
        if body.get(key) is None:
            raise _missing(key)
    name = body["name"]
    if not isinstance(name, str) or not _NAME.match(name) or len(name) > NAME_MAX:
        raise _invalid(
            f"The template name {str(name)!r} is not valid: use only lowercase letters, digits and underscores, "
            f"at most {NAME_MAX} characters.",
            "Invalid template name",
        )
    category = parse_category(body["category"])
    return TemplateDraft(
        name=name,
        language=_language(body["language"]),
        category=category,
        components=normalise_components(body["components"], category=category),
        parameter_format=_parameter_format(body.get("parameter_format")),
        allow_category_change=_boolean(body.get("allow_category_change"), "allow_category_change"),
    )


def parse_edit(body: Any, *, name: str, language: str, category: str, parameter_format: str) -> TemplateEdit:
    """Validate an edit of an existing template. Only its components and category change: a different
    name, language or parameter format is refused (they identify the template)."""
    if not isinstance(body, dict):
        raise _invalid("The request body must be a JSON object.", "Invalid request")
    fixed = {"name": name, "language": language}
    for key, current in fixed.items():
        if body.get(key) is not None and body[key] != current:
            raise _invalid(f"The {key} of a template cannot be changed (it is {current!r}).", "Cannot edit template")
    if body.get("parameter_format") is not None and _parameter_format(body["parameter_format"]) != parameter_format:
        raise _invalid("The parameter_format of a template cannot be changed.", "Cannot edit template")
    new_category = parse_category(body["category"]) if body.get("category") is not None else None
    components = None
    if body.get("components") is not None:
        components = normalise_components(body["components"], category=new_category or category)
    if components is None and new_category is None:
        raise _invalid("Send the new components or the new category of the template.", "Nothing to edit")
    return TemplateEdit(components=components, category=new_category)


def parse_category(value: Any) -> str:
    category = upper(value)
    if category not in TemplateCategory.values:
        allowed = ", ".join(TemplateCategory.values)
        raise _invalid(f"The category must be one of {allowed}; got {value!r}.", "Invalid category")
    return category


def _language(value: Any) -> str:
    if not isinstance(value, str) or not _LANGUAGE.match(value):
        raise _invalid(f"The language {value!r} is not a language code such as en, en_US or pt_BR.", "Invalid language")
    return value


def _parameter_format(value: Any) -> str:
    if value is None:
        return ParameterFormat.POSITIONAL
    parameter_format = upper(value)
    if parameter_format not in ParameterFormat.values:
        raise _invalid(f"The parameter_format must be named or positional; got {value!r}.")
    return parameter_format


def _boolean(value: Any, key: str) -> bool:
    # Graph's form encoding sends booleans as strings.
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _invalid(f"The parameter {key} must be a boolean.")


def normalise_components(components: Any, *, category: str) -> list[dict]:
    """The components in Meta's stored shape, or a refusal naming the first problem."""
    if not isinstance(components, list) or not components:
        raise _invalid("The components must be a non-empty array.")
    seen: set[str] = set()
    normalised = []
    for index, item in enumerate(components):
        if not isinstance(item, dict):
            raise _invalid(f"components[{index}] must be a JSON object.")
        kind = upper(item.get("type"))
        if kind not in COMPONENT_TYPES:
            allowed = ", ".join(COMPONENT_TYPES)
            raise _invalid(f"components[{index}].type must be one of {allowed}; got {item.get('type')!r}.")
        if kind in seen:
            raise _invalid(f"A template has at most one {kind} component.")
        seen.add(kind)
        component = {**item, "type": kind}
        if kind == "HEADER":
            _header(component)
        elif kind == "BODY":
            _body(component, category)
        elif kind == "FOOTER":
            _footer(component, category)
        else:
            _buttons(component, category)
        normalised.append(component)
    if "BODY" not in seen:
        raise _invalid("A template needs a BODY component.")
    has_otp = any(button["type"] == "OTP" for button in buttons_of(normalised))
    if category == TemplateCategory.AUTHENTICATION and not has_otp:
        raise _invalid("An authentication template needs a BUTTONS component with an OTP button.")
    return normalised


def _text(component: dict, where: str, max_length: int) -> str:
    text = component.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _invalid(f"The {where} needs a text.")
    if len(text) > max_length:
        raise _invalid(f"The {where} text is {len(text)} characters long; the limit is {max_length}.")
    return text


def _header(component: dict) -> None:
    header_format = upper(component.get("format") or "TEXT")
    if header_format not in HEADER_FORMATS:
        allowed = ", ".join(HEADER_FORMATS)
        raise _invalid(f"The HEADER format must be one of {allowed}; got {component.get('format')!r}.")
    component["format"] = header_format
    if header_format == "TEXT":
        _text(component, "HEADER", HEADER_TEXT_MAX)
    elif component.get("text"):
        raise _invalid(f"A {header_format} header has no text.")


def _body(component: dict, category: str) -> None:
    if category == TemplateCategory.AUTHENTICATION:
        # WhatsApp writes the body of authentication templates ("<code> is your verification code.").
        if "text" in component:
            raise _invalid(
                "Authentication templates have no body text: WhatsApp writes it. "
                "Set add_security_recommendation instead."
            )
        if not isinstance(component.get("add_security_recommendation", False), bool):
            raise _invalid("add_security_recommendation must be a boolean.")
        return
    _text(component, "BODY", BODY_TEXT_MAX)


def _footer(component: dict, category: str) -> None:
    if category == TemplateCategory.AUTHENTICATION:
        if "text" in component:
            raise _invalid("Authentication templates have no footer text: set code_expiration_minutes instead.")
        minutes = component.get("code_expiration_minutes")
        low, high = CODE_EXPIRATION_MINUTES
        if minutes is not None and (
            isinstance(minutes, bool) or not isinstance(minutes, int) or not low <= minutes <= high
        ):
            raise _invalid(f"code_expiration_minutes must be a whole number from {low} to {high}.")
        return
    _text(component, "FOOTER", FOOTER_TEXT_MAX)


def _buttons(component: dict, category: str) -> None:
    buttons = component.get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= BUTTONS_MAX:
        raise _invalid(f"The BUTTONS component needs 1 to {BUTTONS_MAX} buttons.")
    normalised = []
    for index, item in enumerate(buttons):
        if not isinstance(item, dict):
            raise _invalid(f"buttons[{index}] must be a JSON object.")
        button_type = upper(item.get("type"))
        if button_type not in BUTTON_TYPES:
            allowed = ", ".join(BUTTON_TYPES)
            raise _invalid(f"buttons[{index}].type must be one of {allowed}; got {item.get('type')!r}.")
        button = {**item, "type": button_type}
        _button(button, index, category)
        normalised.append(button)
    counts = {kind: sum(1 for b in normalised if b["type"] == kind) for kind in BUTTON_TYPES}
    if counts["URL"] > URL_BUTTONS_MAX:
        raise _invalid(f"A template has at most {URL_BUTTONS_MAX} URL buttons.")
    if counts["PHONE_NUMBER"] > PHONE_BUTTONS_MAX:
        raise _invalid(f"A template has at most {PHONE_BUTTONS_MAX} PHONE_NUMBER button.")
    if counts["COPY_CODE"] > 1:
        raise _invalid("A template has at most 1 COPY_CODE button.")
    if counts["OTP"] and category != TemplateCategory.AUTHENTICATION:
        raise _invalid("OTP buttons belong to AUTHENTICATION templates.")
    if counts["OTP"] > 1:
        raise _invalid("An authentication template has one OTP button.")
    component["buttons"] = normalised


def _button(button: dict, index: int, category: str) -> None:
    button_type = button["type"]
    text = button.get("text")
    if button_type in ("OTP", "COPY_CODE"):
        if text is not None and (not isinstance(text, str) or len(text) > BUTTON_TEXT_MAX):
            raise _invalid(f"buttons[{index}].text must be a string of at most {BUTTON_TEXT_MAX} characters.")
    elif not isinstance(text, str) or not text.strip() or len(text) > BUTTON_TEXT_MAX:
        raise _invalid(f"buttons[{index}] needs a text of 1 to {BUTTON_TEXT_MAX} characters.")
    if button_type == "OTP":
        otp_type = upper(button.get("otp_type"))
        if otp_type not in OTP_TYPES:
            raise _invalid(f"buttons[{index}].otp_type must be one of {', '.join(OTP_TYPES)}.")
        button["otp_type"] = otp_type
    elif button_type == "COPY_CODE":
        example = button.get("example")
        if not isinstance(example, str) or not 1 <= len(example) <= COPY_CODE_MAX:
            raise _invalid(f"buttons[{index}] (COPY_CODE) needs an example code of 1 to {COPY_CODE_MAX} characters.")
    elif button_type == "URL":
        url = button.get("url")
        if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")) or len(url) > URL_MAX:
            raise _invalid(f"buttons[{index}] (URL) needs an http(s) url of at most {URL_MAX} characters.")
    elif button_type == "PHONE_NUMBER":
        digits = rules.normalise_phone(str(button.get("phone_number") or ""))
        if digits is None:
            raise _invalid(f"buttons[{index}] (PHONE_NUMBER) needs a phone_number with country code.")
        # Meta keeps phone buttons with a leading + (RB: sent 59898400766, stored +59898400766).
        button["phone_number"] = f"+{digits}"
    elif button_type == "FLOW" and not any(button.get(key) for key in ("flow_id", "flow_name", "flow_json")):
        raise _invalid(f"buttons[{index}] (FLOW) needs a flow_id, flow_name or flow_json.")


# Reading stored components


def component_of(components: list[dict], kind: str) -> dict | None:
    return next((c for c in components if isinstance(c, dict) and upper(c.get("type")) == kind), None)


def buttons_of(components: list[dict]) -> list[dict]:
    component = component_of(components, "BUTTONS")
    buttons = component.get("buttons") if component else None
    return [b for b in buttons if isinstance(b, dict)] if isinstance(buttons, list) else []


def header_variables(components: list[dict]) -> list[str]:
    header = component_of(components, "HEADER")
    if header is None or upper(header.get("format") or "TEXT") != "TEXT":
        return []
    return variables(str(header.get("text") or ""))


def body_variables(components: list[dict], category: str) -> list[str]:
    if category == TemplateCategory.AUTHENTICATION:
        return list(AUTHENTICATION_VARIABLES)
    body = component_of(components, "BODY")
    return variables(str(body.get("text") or "")) if body else []


def button_variable_count(button: dict) -> int:
    """How many parameters a send must give this button: a URL's `{{1}}` suffix, a copy-code's code,
    an OTP button's code; quick replies take an optional payload and are counted as 0."""
    button_type = upper(button.get("type"))
    if button_type == "URL":
        return len(variables(str(button.get("url") or "")))
    if button_type in ("COPY_CODE", "OTP"):
        return 1
    return 0


# Sending


def check_send(*, components: list[dict], parameter_format: str, category: str, sent: dict) -> None:
    """Compare a template message's `components` (already shape-checked by `validation`) with the
    approved template. Raises GraphError 132000 (counts, parameter names) or 132012 (formats)."""
    sent_components = [c for c in sent.get("components") or [] if isinstance(c, dict)]
    by_type: dict[str, list[dict]] = {}
    sent_buttons: dict[int, dict] = {}
    for component in sent_components:
        kind = str(component.get("type") or "").lower()
        if kind == "button":
            sent_buttons[_button_index(component)] = component
        else:
            by_type.setdefault(kind, []).extend(_parameters(component))
    named = parameter_format == ParameterFormat.NAMED
    _check_header(components, by_type.get("header", []), named=named)
    _check_text_parameters("body", body_variables(components, category), by_type.get("body", []), named=named)
    _check_buttons(components, sent_buttons)


def _parameters(component: dict) -> list[dict]:
    return [p for p in component.get("parameters") or [] if isinstance(p, dict)]


def parameter_type(parameter: dict) -> str:
    return str(parameter.get("type") or "").lower()


def _button_index(component: dict) -> int:
    index = component.get("index")
    try:
        if isinstance(index, bool):
            raise ValueError
        return int(str(index))
    except (TypeError, ValueError):
        raise invalid_parameter("Param template['components'][n]['index'] must be a button index (0-9).")


def _count_mismatch(where: str, received: int, expected: int) -> GraphError:
    # Meta's own wording (e.g. "body: number of localizable_params (1) does not match the expected number
    # of params (2)").
    return GraphError(
        code=132000,
        details=f"{where}: number of localizable_params ({received}) does not match the expected number of "
        f"params ({expected})",
    )


def _format_mismatch(where: str, expected: str, received: str) -> GraphError:
    return GraphError(
        code=132012, details=f"{where}: Format mismatch, expected {expected}, received {received.upper() or 'UNKNOWN'}"
    )


def _check_header(components: list[dict], parameters: list[dict], *, named: bool) -> None:
    header = component_of(components, "HEADER")
    if header is None:
        if parameters:
            raise _count_mismatch("header", len(parameters), 0)
        return
    header_format = upper(header.get("format") or "TEXT")
    if header_format == "TEXT":
        for parameter in parameters:
            if parameter_type(parameter) != "text":
                raise _format_mismatch("header", "TEXT", parameter_type(parameter))
        _check_text_parameters("header", header_variables(components), parameters, named=named)
        return
    if len(parameters) != 1:
        raise _count_mismatch("header", len(parameters), 1)
    received = parameter_type(parameters[0])
    if received != header_format.lower():
        raise _format_mismatch("header", header_format, received)


def _check_text_parameters(where: str, expected: list[str], parameters: list[dict], *, named: bool) -> None:
    if len(parameters) != len(expected):
        raise _count_mismatch(where, len(parameters), len(expected))
    for parameter in parameters:
        kind = parameter_type(parameter)
        if kind not in _TEXT_PARAMETER_TYPES:
            raise _format_mismatch(where, "TEXT", kind)
        if kind in ("currency", "date_time"):
            value = parameter.get(kind)
            fallback = value.get("fallback_value") if isinstance(value, dict) else None
            if not isinstance(fallback, str) or not fallback.strip():
                raise GraphError(code=132012, details=f"{where}: a {kind} parameter needs a fallback_value.")
    if named:
        names = [parameter.get("parameter_name") for parameter in parameters]
        if not all(isinstance(name, str) and name for name in names):
            raise GraphError(
                code=132000,
                details=f"{where}: the template uses named parameters; every parameter needs its parameter_name.",
            )
        if sorted(names) != sorted(expected):
            raise GraphError(
                code=132000,
                details=f"{where}: parameter names {sorted(names)} do not match the template's {sorted(expected)}.",
            )


def _check_buttons(components: list[dict], sent_buttons: dict[int, dict]) -> None:
    buttons = buttons_of(components)
    for index, component in sorted(sent_buttons.items()):
        where = f"button at index {index}"
        if not 0 <= index < len(buttons):
            raise GraphError(code=132000, details=f"{where}: the template has no such button.")
        button_type = upper(buttons[index].get("type"))
        sub_type = str(component.get("sub_type") or "").lower()
        if sub_type not in _SUB_TYPES.get(button_type, ()):
            raise _format_mismatch(where, button_type, sub_type)
        parameters = _parameters(component)
        if button_type == "QUICK_REPLY":
            # The payload is optional: without one, the tap reports the button's text. Meta's own sample
            # (OA "Send Sample Issue Resolution Template") sends it as a `text` parameter.
            if len(parameters) > 1:
                raise _count_mismatch(where, len(parameters), 1)
            if parameters and parameter_type(parameters[0]) not in ("payload", "text"):
                raise _format_mismatch(where, "PAYLOAD", parameter_type(parameters[0]))
        elif button_type in ("URL", "COPY_CODE", "OTP", "PHONE_NUMBER"):
            expected = button_variable_count(buttons[index])
            if len(parameters) != expected:
                raise _count_mismatch(where, len(parameters), expected)
            wanted = "coupon_code" if button_type == "COPY_CODE" else "text"
            for parameter in parameters:
                if parameter_type(parameter) != wanted:
                    raise _format_mismatch(where, wanted.upper(), parameter_type(parameter))
    for index, button in enumerate(buttons):
        expected = button_variable_count(button)
        if expected and index not in sent_buttons:
            raise _count_mismatch(f"button at index {index}", 0, expected)
