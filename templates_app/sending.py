"""Sending an approved template: its variables, what prefills them, and WhatsApp's `template` object with
the values filled in (whatsapp-cloud-api.md §2), checked so that WhatsApp never answers 132000 (parameters
that do not match the placeholders) or 132012 (a parameter in a format it refuses) for a reason we could
have caught.

Pure: `template_variables`, `header_media_kind`, `unsupported_reason`, `prefilled_values`,
`build_template_message` and `language_rank` read a revision's components (WhatsApp's create shape) and
plain values, nothing else. The selectors at the end (`sendable_templates_for`, `template_on_waba`) read
the database.

Variables are named by key: `header.1`, `body.1` or `body.first_name`, `buttons.<i>.1` (the `{{1}}` suffix
of the URL of button i) and `buttons.<i>.code` (the coupon code of a copy-code button). An authentication
template has one variable, `body.1` (the code); WhatsApp repeats it on its OTP button.
"""

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.utils.translation import gettext_lazy

from accounts.models import User
from inbox import access as inbox_access
from inbox.models import Contact, Conversation
from templates_app import lint, policy
from templates_app.models import MessageTemplate, ParameterFormat, TemplateRevision

# WhatsApp's limits on the parameters of a template message (the Cloud API's parameter object).
TEXT_PARAMETER_MAX = 1024  # a header or body value
HEADER_TEXT_MAX = 60  # the header once its value is filled in
URL_MAX = 2000  # a URL button's address once its suffix is filled in
CODE_MAX = 15  # a coupon code, a verification code
# WhatsApp refuses text parameters with a line break, a tab or more than 4 spaces in a row.
_REFUSED_WHITESPACE = re.compile(r"[\n\r\t]| {5,}")

MEDIA_HEADER_KINDS = {"IMAGE": "image", "VIDEO": "video", "DOCUMENT": "document"}
_KIND_NAMES = {"image": "an image", "video": "a video", "document": "a document"}

# What a variable can be filled from when the composer opens (TemplateRevision.variable_fields), with the
# label authors choose it by and agents see it under.
PREFILL_FIELDS = {
    "contact.name": gettext_lazy("The contact's name"),
    "contact.first_name": gettext_lazy("The contact's first name"),
    "contact.phone": gettext_lazy("The contact's phone number"),
}

# Template parts the composer cannot fill in yet. Sending such a template without their parameters would
# only earn a 132000 from WhatsApp, so they are refused here and left out of the picker.
_UNSUPPORTED_HEADERS = {"LOCATION": "a location header"}
_UNSUPPORTED_BUTTONS = {"MPM": "a multi-product button"}
_KNOWN_COMPONENTS = ("HEADER", "BODY", "FOOTER", "BUTTONS")

PARAMETERS_INVALID = "template_parameters_invalid"
NOT_SUPPORTED = "template_not_supported"


class TemplateParametersRefused(Exception):
    """The values do not fit the template. `code` is stable (`template_parameters_invalid`, or
    `template_not_supported` for a template the composer cannot fill in); `detail` names the variable."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class TemplateVariable:
    """One value a person fills in before sending. `part` is "header", "body" or "buttons.<i>"; `name`
    the placeholder ("1", "first_name", or "code" for a coupon code); `label` says it in words ("Body
    {{1}}"); `sample` comes from the revision's example; `prefill_field` is "" or e.g.
    "contact.first_name"."""

    key: str
    part: str
    name: str
    label: str
    sample: str
    prefill_field: str


@dataclass(frozen=True)
class BuiltTemplate:
    """`payload` is WhatsApp's `template` object, to store and send (a header file's media id is put in by
    the outbound worker); `rendered` is what the thread shows; `text` the body, for previews and search."""

    payload: dict
    rendered: dict
    text: str


# --- Reading a revision ----------------------------------------------------------------------------------------


def _upper(value: Any) -> str:
    # Meta's stored templates spell types in capitals; drafts may not.
    return value.strip().upper() if isinstance(value, str) else ""


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _components(revision: TemplateRevision) -> dict[str, dict]:
    """The first HEADER, BODY, FOOTER and BUTTONS component of the revision."""
    found: dict[str, dict] = {}
    for component in _list(revision.components):
        kind = _upper(_dict(component).get("type"))
        if kind and kind not in found:
            found[kind] = component
    return found


def _buttons(components: dict[str, dict]) -> list[dict]:
    return [_dict(button) for button in _list(_dict(components.get("BUTTONS")).get("buttons"))]


def _header_format(header: dict | None) -> str | None:
    if header is None:
        return None
    return _upper(header.get("format")) or "TEXT"


def _is_authentication(revision: TemplateRevision) -> bool:
    return _upper(revision.category) == "AUTHENTICATION"


def _names(text: str) -> list[str]:
    """Distinct placeholders in the order WhatsApp takes their parameters: by number for {{1}}, {{2}}…,
    by first appearance for named ones."""
    distinct = list(dict.fromkeys(lint.placeholders(text)))
    if all(name.isdigit() for name in distinct):
        return sorted(distinct, key=int)
    return distinct


def _text_samples(component: dict, part: str, names: list[str]) -> dict[str, str]:
    """Placeholder → sample from a header's or body's `example`: `header_text` is a list, `body_text` a
    list of rows of which WhatsApp reads the first; named ones are `<part>_text_named_params`."""
    example = _dict(component.get("example"))
    samples: dict[str, str] = {}
    for entry in _list(example.get(f"{part}_text_named_params")):
        name, sample = _str(_dict(entry).get("param_name")), _str(_dict(entry).get("example"))
        if name:
            samples.setdefault(name, sample)
    positional = _list(example.get(f"{part}_text"))
    if part == "body":
        positional = _list(positional[0]) if positional else []
    for name, sample in zip(names, positional, strict=False):
        if name.isdigit() and isinstance(sample, str):
            samples.setdefault(name, sample)
    return samples


def _url_sample(button: dict) -> str:
    """A URL button's example is the whole address with {{1}} filled in; the sample is its suffix."""
    examples = button.get("example")
    example = _str(_list(examples)[0] if _list(examples) else examples)
    prefix = _str(button.get("url")).split("{{", 1)[0]
    return example[len(prefix) :] if prefix and example.startswith(prefix) else example


def _code_sample(button: dict) -> str:
    examples = button.get("example")
    return _str(_list(examples)[0] if _list(examples) else examples)


def _button_title(button: dict, index: int) -> str:
    return _str(button.get("text")).strip() or f"Button {index + 1}"


def _placeholder(name: str) -> str:
    return "{{" + name + "}}"


def template_variables(revision: TemplateRevision) -> list[TemplateVariable]:
    """Every value the revision needs, in the order the composer shows them: header, body, buttons."""
    prefills = _dict(revision.variable_fields)
    components = _components(revision)
    found: list[TemplateVariable] = []

    def add(part: str, name: str, label: str, sample: str) -> None:
        key = f"{part}.{name}"
        field = _str(prefills.get(key))
        found.append(TemplateVariable(key, part, name, label, sample, field if field in PREFILL_FIELDS else ""))

    header = components.get("HEADER")
    if header is not None and _header_format(header) == "TEXT":
        names = _names(_str(header.get("text")))
        samples = _text_samples(header, "header", names)
        for name in names:
            add("header", name, f"Header {_placeholder(name)}", samples.get(name, ""))
    if _is_authentication(revision):
        # WhatsApp writes an authentication template's body around one value: the code.
        add("body", "1", "Verification code", "")
    else:
        body = components.get("BODY") or {}
        names = _names(_str(body.get("text")))
        samples = _text_samples(body, "body", names)
        for name in names:
            add("body", name, f"Body {_placeholder(name)}", samples.get(name, ""))
    for index, button in enumerate(_buttons(components)):
        kind = _upper(button.get("type"))
        if kind == "URL":
            for name in _names(_str(button.get("url"))):
                title = _button_title(button, index)
                add(f"buttons.{index}", name, f"“{title}” link {_placeholder(name)}", _url_sample(button))
        elif kind == "COPY_CODE":
            add(f"buttons.{index}", "code", "Coupon code", _code_sample(button))
    return found


def header_media_kind(revision: TemplateRevision) -> str | None:
    """ "image", "video" or "document" when the revision has a media header (its file is chosen at send
    time), else None."""
    return MEDIA_HEADER_KINDS.get(_header_format(_components(revision).get("HEADER")) or "")


def unsupported_reason(revision: TemplateRevision) -> str:
    """ "" when Switchboard can fill the revision in, else the sentence saying what it cannot fill in."""
    components = _components(revision)
    unknown = [kind for kind in components if kind not in _KNOWN_COMPONENTS]
    what = ""
    if unknown:
        what = f"a {unknown[0].lower().replace('_', ' ')} part"
    elif (header_format := _header_format(components.get("HEADER"))) in _UNSUPPORTED_HEADERS:
        what = _UNSUPPORTED_HEADERS[header_format]
    else:
        kinds = [_upper(button.get("type")) for button in _buttons(components)]
        what = next((_UNSUPPORTED_BUTTONS[kind] for kind in kinds if kind in _UNSUPPORTED_BUTTONS), "")
    return f"Switchboard cannot send this template yet: it has {what}." if what else ""


# --- Prefills ----------------------------------------------------------------------------------------------------


def _contact_fields(contact: Contact) -> dict[str, str]:
    # The name the customer gave WhatsApp (or their username); never the phone number in its place, which
    # would greet them as "Hi +16505551234".
    name = " ".join((contact.profile_name or contact.username or "").split())
    return {
        "contact.name": name,
        "contact.first_name": name.split(" ", 1)[0] if name else "",
        "contact.phone": f"+{contact.wa_id}" if contact.wa_id else "",
    }


def prefilled_values(revision: TemplateRevision, contact: Contact) -> dict[str, str]:
    """The values the composer starts with: each variable mapped to a contact field that the contact has."""
    fields = _contact_fields(contact)
    return {
        variable.key: fields[variable.prefill_field]
        for variable in template_variables(revision)
        if fields.get(variable.prefill_field)
    }


# --- Building the message ------------------------------------------------------------------------------------------


def _refuse(detail: str, code: str = PARAMETERS_INVALID) -> TemplateParametersRefused:
    return TemplateParametersRefused(code, detail)


def _checked_values(
    variables: list[TemplateVariable], values: dict[str, str], *, authentication: bool
) -> dict[str, str]:
    """Each variable's value, trimmed, or the refusal naming the first variable WhatsApp would refuse."""
    if not isinstance(values, dict):
        raise _refuse("The template's values are not in the expected shape.")
    known = {variable.key for variable in variables}
    unknown = sorted(str(key) for key in values if key not in known)
    if unknown:
        raise _refuse(f"This template has no variable {unknown[0]}.")
    checked: dict[str, str] = {}
    for variable in variables:
        value = values.get(variable.key)
        if value is not None and not isinstance(value, str):
            raise _refuse(f"{variable.label} must be text.")
        value = (value or "").strip()
        if not value:
            raise _refuse(f"Fill in {variable.label}.")
        if variable.name == "code" or (authentication and variable.part == "body"):
            if len(value) > CODE_MAX or any(ch.isspace() for ch in value):
                raise _refuse(f"{variable.label} must be at most {CODE_MAX} characters, without spaces.")
        elif variable.part.startswith("buttons."):
            if any(ch.isspace() for ch in value):
                raise _refuse(f"{variable.label} cannot contain spaces: it becomes part of a web address.")
        else:
            if _REFUSED_WHITESPACE.search(value):
                raise _refuse(
                    f"{variable.label} cannot contain line breaks, tabs or more than 4 spaces in a row: "
                    "WhatsApp refuses them."
                )
            if len(value) > TEXT_PARAMETER_MAX:
                raise _refuse(
                    f"{variable.label} is {len(value)} characters long; WhatsApp allows at most {TEXT_PARAMETER_MAX}."
                )
        checked[variable.key] = value
    return checked


def _https_link(value: Any) -> str:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme != "https" or not parts.hostname or any(ch.isspace() for ch in value):
        raise _refuse("The header's file must be an https:// address.")
    return value


def _header_media(kind: str | None, header_media: dict | None) -> tuple[dict, dict] | None:
    """(WhatsApp's header parameter, what the thread shows) for a media header. A stored file's parameter
    is written without its WhatsApp media id: the outbound worker uploads the file and puts the id in."""
    if kind is None:
        if header_media:
            raise _refuse("This template has no image, video or document header.")
        return None
    if not header_media:
        raise _refuse(f"Add {_KIND_NAMES[kind]} for the header.")
    media = _dict(header_media)
    file_id, link = media.get("media_file_id"), media.get("link")
    if (file_id is None) == (link is None):
        raise _refuse(f"Give the header's {kind} as one stored file or one https:// link.")
    given_kind = _str(media.get("kind"))
    if file_id is not None and given_kind != kind:
        given = _KIND_NAMES.get(given_kind, "of another kind")
        raise _refuse(f"The header needs {_KIND_NAMES[kind]}; this file is {given}.")
    media_object: dict[str, Any] = {}
    shown: dict[str, Any] = {"kind": kind}
    if link is not None:
        media_object["link"] = shown["link"] = _https_link(link)
    else:
        shown["media_file_id"] = file_id
    filename = _str(media.get("filename")).strip()
    if kind == "document" and filename:
        media_object["filename"] = shown["filename"] = filename
    return {"type": kind, kind: media_object}, shown


def _text_parameter(name: str, value: str, *, named: bool) -> dict[str, str]:
    if named:
        return {"type": "text", "parameter_name": name, "text": value}
    return {"type": "text", "text": value}


def build_template_message(
    *,
    template: MessageTemplate,
    revision: TemplateRevision,
    values: dict[str, str],
    header_media: dict | None,
) -> BuiltTemplate:
    """WhatsApp's `template` object for `revision` (the one WhatsApp approved) with `values` filled in,
    plus what the thread shows. `header_media` is the file of a media header: `{"kind", "media_file_id",
    "filename"?}` for a stored file, or `{"link": "https://…", "filename"?}`.

    Raises TemplateParametersRefused for anything WhatsApp would refuse: a missing or empty value, a value
    with a line break, a tab or more than 4 spaces in a row, longer than 1024 characters, or making the
    header longer than 60; a link suffix with spaces; a code longer than 15; a media header without its
    file or with a file of another kind; keys that are not variables of the template."""
    if reason := unsupported_reason(revision):
        raise _refuse(reason, NOT_SUPPORTED)
    authentication = _is_authentication(revision)
    variables = template_variables(revision)
    filled = _checked_values(variables, values, authentication=authentication)
    named = revision.parameter_format == ParameterFormat.NAMED or any(
        not variable.name.isdigit() for variable in variables if variable.part in ("header", "body")
    )
    components = _components(revision)
    media = _header_media(header_media_kind(revision), header_media)

    by_part: dict[str, dict[str, str]] = {}
    for variable in variables:
        by_part.setdefault(variable.part, {})[variable.name] = filled[variable.key]
    parameters: list[dict] = []
    header_parameters = [media[0]] if media else []
    header_parameters += [_text_parameter(n, v, named=named) for n, v in by_part.get("header", {}).items()]
    if header_parameters:
        parameters.append({"type": "header", "parameters": header_parameters})
    if body_values := by_part.get("body"):
        body_parameters = [_text_parameter(n, v, named=named and not authentication) for n, v in body_values.items()]
        parameters.append({"type": "body", "parameters": body_parameters})
    parameters += _button_parameters(components, by_part, code=filled.get("body.1", "") if authentication else "")

    shown = lint.render({"category": revision.category, "components": revision.components}, by_part)
    _check_filled_lengths(variables, components, by_part, header=shown["header"])
    buttons = shown["buttons"]
    # WhatsApp shows a copy-code button as "Copy offer code"; the thread also shows the code it copies.
    coupon = next((filled[variable.key] for variable in variables if variable.name == "code"), None)
    if coupon is not None:
        for rendered_button in buttons:
            if rendered_button["type"] == "COPY_CODE":
                rendered_button["code"] = coupon

    payload: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
    if parameters:
        payload["components"] = parameters
    rendered = {
        "header": shown["header"],
        "header_format": shown["header_format"],
        "header_media": media[1] if media else None,
        "body": shown["body"],
        "footer": shown["footer"],
        "buttons": buttons,
    }
    return BuiltTemplate(payload=payload, rendered=rendered, text=shown["body"])


def _check_filled_lengths(
    variables: list[TemplateVariable],
    components: dict[str, dict],
    by_part: dict[str, dict[str, str]],
    *,
    header: str | None,
) -> None:
    """Limits on a part once its values are in: the header (60), a URL button's address (2000)."""
    if header is not None and len(header) > HEADER_TEXT_MAX:
        label = next((v.label for v in variables if v.part == "header"), "the header")
        raise _refuse(
            f"With this value the header is {len(header)} characters long; WhatsApp allows at most "
            f"{HEADER_TEXT_MAX}. Shorten {label}."
        )
    for index, button in enumerate(_buttons(components)):
        suffix = by_part.get(f"buttons.{index}", {}).get("1")
        if _upper(button.get("type")) == "URL" and suffix is not None:
            url = _str(button.get("url")).replace("{{1}}", suffix)
            if len(url) > URL_MAX:
                raise _refuse(
                    f"With this value the link of “{_button_title(button, index)}” is {len(url)} characters long; "
                    f"WhatsApp allows at most {URL_MAX}."
                )


def _button_parameters(components: dict[str, dict], by_part: dict[str, dict[str, str]], *, code: str) -> list[dict]:
    """One button component per button that takes a parameter: a URL's suffix, a coupon code, an
    authentication code (WhatsApp's OTP buttons take it as a URL parameter), and each quick reply's
    payload (the button's text, which WhatsApp hands back when the customer taps it)."""
    built = []
    for index, button in enumerate(_buttons(components)):
        kind = _upper(button.get("type"))
        given = by_part.get(f"buttons.{index}", {})
        if kind == "URL" and given:
            parameters = [{"type": "text", "text": value} for value in given.values()]
            built.append(_button("url", index, parameters))
        elif kind == "COPY_CODE":
            built.append(_button("copy_code", index, [{"type": "coupon_code", "coupon_code": given["code"]}]))
        elif kind == "OTP" and code:
            built.append(_button("url", index, [{"type": "text", "text": code}]))
        elif kind == "QUICK_REPLY" and (title := _str(button.get("text"))):
            built.append(_button("quick_reply", index, [{"type": "payload", "payload": title}]))
    return built


def _button(sub_type: str, index: int, parameters: list[dict]) -> dict:
    # `index` as a string, as in Meta's examples (OA "Send Message Template Interactive").
    return {"type": "button", "sub_type": sub_type, "index": str(index), "parameters": parameters}


# --- Which templates, in which order -------------------------------------------------------------------------------


def _language(code: str) -> str:
    return (code or "").strip().lower().replace("-", "_")


def language_rank(template_language: str, contact_language: str) -> int:
    """0 for the contact's language (`en-us` = `en_US`), 1 for its family (`pt` and `pt_PT` for `pt_BR`),
    2 for any other (and for every template when the contact's language is not known)."""
    wanted, offered = _language(contact_language), _language(template_language)
    if not wanted:
        return 2
    if offered == wanted:
        return 0
    if offered.split("_", 1)[0] == wanted.split("_", 1)[0]:
        return 1
    return 2


def sendable_templates_for(*, conversation: Conversation, user: User) -> list[MessageTemplate]:
    """The templates the person may send in the conversation now: those of its number's WhatsApp Business
    Account that WhatsApp approved (`policy.sendability`) and the composer can fill in, in the contact's
    language first, then its language family, then the rest, each by name. Empty for people who may not
    reply here."""
    if not inbox_access.can_reply(user, conversation):
        return []
    candidates = MessageTemplate.objects.filter(
        waba_id=conversation.channel.waba_id,
        status__in=policy.SENDABLE_STATUSES,
        live_revision__isnull=False,
    ).select_related("live_revision")
    sendable = [
        template
        for template in candidates
        if policy.sendability(status=template.status, has_live_revision=True).sendable
        and not unsupported_reason(template.live_revision)
    ]
    preferred = conversation.contact.language
    return sorted(sendable, key=lambda t: (language_rank(t.language, preferred), t.name, t.language))


def template_on_waba(*, waba_id: str, name: str, language: str) -> MessageTemplate | None:
    """The template named so on the WhatsApp Business Account: its language as written, else the same
    language written another way (`en-US` for `en_US`)."""
    candidates = list(MessageTemplate.objects.filter(waba_id=waba_id, name=name).select_related("live_revision"))
    exact = next((t for t in candidates if t.language == language), None)
    return exact or next((t for t in candidates if _language(t.language) == _language(language)), None)
