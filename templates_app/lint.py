"""Local lint of WhatsApp message templates: the reasons WhatsApp rejects a template, checked before submitting it.

Pure: a draft in Meta's create shape (`POST /{waba_id}/message_templates`, whatsapp-cloud-api.md §5) in, findings
out. No ORM, no I/O. The draft is untrusted (a form, the API): any key may be missing or of the wrong type, and lint
reports that instead of raising. Errors block submission for review; warnings are shown and do not.

Tests are tables with no database (tests/templates_app/test_lint.py).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise
from typing import Any

from django.utils.translation import gettext as _

# --- Limits WhatsApp enforces when a template is created ---------------------------------------------------------
NAME_MAX_LENGTH = 512  # template name: at most 512 characters
NAME_PATTERN = re.compile(r"[a-z0-9_]+")  # template name: lowercase letters, digits and underscores only
LANGUAGE_PATTERN = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")  # language: Meta's codes, such as "en", "en_US", "fil"
HEADER_TEXT_MAX_LENGTH = 60  # text header: at most 60 characters
HEADER_MAX_VARIABLES = 1  # text header: at most one variable
BODY_MAX_LENGTH = 1024  # body: at most 1024 characters
FOOTER_MAX_LENGTH = 60  # footer: at most 60 characters, and no variables at all
BUTTONS_MAX = 10  # buttons: at most 10 in all
QUICK_REPLY_BUTTONS_MAX = 10  # buttons: at most 10 quick replies
URL_BUTTONS_MAX = 2  # buttons: at most 2 URL buttons
PHONE_NUMBER_BUTTONS_MAX = 1  # buttons: at most 1 call button
COPY_CODE_BUTTONS_MAX = 1  # buttons: at most 1 copy-code button
BUTTON_TEXT_MAX_LENGTH = 25  # button text: at most 25 characters
BUTTON_URL_MAX_LENGTH = 2000  # URL button: at most 2000 characters, with only a {{1}} suffix at the very end
PHONE_NUMBER_MAX_LENGTH = 20  # call button: at most 20 characters, E.164 with the leading +
PHONE_NUMBER_PATTERN = re.compile(r"\+[1-9][0-9]+")  # call button: E.164, "+" then the country code and number
COPY_CODE_EXAMPLE_MAX_LENGTH = 15  # copy-code button: the code is at most 15 characters
PARAMETER_NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*")  # named variable: lowercase, digits, _, starts with a letter
CODE_EXPIRATION_MINUTES = range(1, 91)  # authentication footer: the code expires after 1 to 90 minutes

# "Template contains too many variable parameters relative to the message length" is a common rejection. Meta does
# not publish the ratio; BSPs that reverse-engineered it (Syniverse, Mercuri) converge on: words + variables must be
# at least 3 * variables + 1, that is at least 2 words of fixed text per variable, plus one.
FIXED_WORDS_PER_VARIABLE = 2

CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
PARAMETER_FORMATS = ("POSITIONAL", "NAMED")
HEADER_FORMATS = ("TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION")
MEDIA_HEADER_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT")
BUTTON_TYPES = ("QUICK_REPLY", "URL", "PHONE_NUMBER", "COPY_CODE", "OTP", "FLOW", "MPM", "CATALOG")
OTP_TYPES = ("COPY_CODE", "ONE_TAP", "ZERO_TAP")

# Wording WhatsApp reads as marketing. In a utility or authentication template it invites re-categorisation (the
# INCORRECT_CATEGORY rejection, or a category change). Matched as whole words, case-insensitively.
PROMOTIONAL_WORDS = (
    "offer",
    "offers",
    "special offer",
    "discount",
    "discounts",
    "sale",
    "% off",
    "coupon",
    "coupons",
    "promo",
    "promo code",
    "promotion",
    "voucher",
    "cashback",
    "free",
    "limited time",
    "last chance",
    "hurry",
    "buy now",
    "shop now",
    "deal",
    "deals",
    "clearance",
    "black friday",
)

# Everyday phrases that contain a promotional word but promise nothing ("feel free to reply").
NOT_PROMOTIONAL_PHRASES = ("feel free", "toll free", "toll-free", "hands-free")

# Words that tell a customer how to stop marketing messages; a marketing template should carry one.
OPT_OUT_WORDS = ("stop", "unsubscribe", "opt out", "opt-out")


class Severity(StrEnum):
    ERROR = "error"  # WhatsApp would reject the template: submission is blocked
    WARNING = "warning"  # WhatsApp may accept it but change or reject it on review: shown, not blocking


class Code(StrEnum):
    """What a finding is about. The values never change once shipped (the UI and API clients match on them)."""

    INVALID_TEMPLATE = "invalid_template"
    NAME_MISSING = "name_missing"
    NAME_TOO_LONG = "name_too_long"
    INVALID_NAME = "invalid_name"
    DUPLICATE_NAME_LANGUAGE = "duplicate_name_language"
    LANGUAGE_MISSING = "language_missing"
    INVALID_LANGUAGE = "invalid_language"
    CATEGORY_MISSING = "category_missing"
    INVALID_CATEGORY = "invalid_category"
    INVALID_PARAMETER_FORMAT = "invalid_parameter_format"
    INVALID_COMPONENTS = "invalid_components"
    INVALID_COMPONENT = "invalid_component"
    DUPLICATE_COMPONENT = "duplicate_component"
    INVALID_HEADER_FORMAT = "invalid_header_format"
    HEADER_EMPTY = "header_empty"
    HEADER_TOO_LONG = "header_too_long"
    HEADER_TOO_MANY_VARIABLES = "header_too_many_variables"
    BODY_MISSING = "body_missing"
    BODY_EMPTY = "body_empty"
    BODY_TOO_LONG = "body_too_long"
    FOOTER_EMPTY = "footer_empty"
    FOOTER_TOO_LONG = "footer_too_long"
    FOOTER_HAS_VARIABLES = "footer_has_variables"
    MALFORMED_VARIABLE = "malformed_variable"
    INVALID_PARAMETER_NAME = "invalid_parameter_name"
    VARIABLES_MIXED = "variables_mixed"
    VARIABLES_FORMAT_MISMATCH = "variables_format_mismatch"
    VARIABLES_NOT_SEQUENTIAL = "variables_not_sequential"
    VARIABLE_AT_START = "variable_at_start"
    VARIABLE_AT_END = "variable_at_end"
    VARIABLES_ADJACENT = "variables_adjacent"
    TOO_MANY_VARIABLES = "too_many_variables"
    MISSING_SAMPLE = "missing_sample"
    EXTRA_SAMPLE = "extra_sample"
    BUTTONS_EMPTY = "buttons_empty"
    TOO_MANY_BUTTONS = "too_many_buttons"
    TOO_MANY_QUICK_REPLIES = "too_many_quick_replies"
    TOO_MANY_URL_BUTTONS = "too_many_url_buttons"
    TOO_MANY_PHONE_BUTTONS = "too_many_phone_buttons"
    TOO_MANY_COPY_CODE_BUTTONS = "too_many_copy_code_buttons"
    BUTTONS_MIXED = "buttons_mixed"
    INVALID_BUTTON_TYPE = "invalid_button_type"
    BUTTON_TEXT_MISSING = "button_text_missing"
    BUTTON_TEXT_TOO_LONG = "button_text_too_long"
    DUPLICATE_BUTTON_TEXT = "duplicate_button_text"
    BUTTON_URL_MISSING = "button_url_missing"
    INVALID_BUTTON_URL = "invalid_button_url"
    URL_TOO_LONG = "url_too_long"
    URL_VARIABLE_NOT_AT_END = "url_variable_not_at_end"
    INVALID_PHONE_NUMBER = "invalid_phone_number"
    PHONE_NUMBER_TOO_LONG = "phone_number_too_long"
    COPY_CODE_TOO_LONG = "copy_code_too_long"
    OTP_BUTTON_NOT_ALLOWED = "otp_button_not_allowed"
    AUTHENTICATION_HEADER = "authentication_header"
    AUTHENTICATION_CUSTOM_TEXT = "authentication_custom_text"
    AUTHENTICATION_OTP_BUTTON = "authentication_otp_button"
    AUTHENTICATION_OTHER_BUTTON = "authentication_other_button"
    INVALID_OTP_TYPE = "invalid_otp_type"
    OTP_APP_MISSING = "otp_app_missing"
    INVALID_SECURITY_RECOMMENDATION = "invalid_security_recommendation"
    INVALID_CODE_EXPIRATION = "invalid_code_expiration"
    PROMOTIONAL_IN_UTILITY = "promotional_in_utility"
    PROMOTIONAL_IN_AUTHENTICATION = "promotional_in_authentication"
    MARKETING_WITHOUT_OPT_OUT = "marketing_without_opt_out"


@dataclass(frozen=True)
class Finding:
    """One thing to fix. `part` is a stable path to where it is: "name", "header", "body", "footer", "buttons",
    "buttons.2" (0-based, as in Meta's send `index`), "samples.body.1", "samples.header", "samples.buttons.0"."""

    code: Code
    severity: Severity
    part: str
    message: str


def has_errors(findings: Iterable[Finding]) -> bool:
    """Does any finding block submission?"""
    return any(finding.severity == Severity.ERROR for finding in findings)


# --- Variables -----------------------------------------------------------------------------------------------------
# WhatsApp reads a variable only as exactly two braces each side with nothing but the name between: {{1}} or
# {{first_name}}. Anything else ({{1}, {{ 1 }}, {{{1}}}) is sent as literal text, which is never what was meant.
_TOKEN = re.compile(r"(?<!\{)\{\{([^{}]*)\}\}(?!\})")
_POSITIONAL = re.compile(r"[0-9]+")
_NAME_LIKE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _is_variable(inner: str) -> bool:
    return bool(_POSITIONAL.fullmatch(inner) or PARAMETER_NAME_PATTERN.fullmatch(inner))


def placeholders(text: str) -> list[str]:
    """The variables of a text in order of appearance: ["1", "2"] or ["first_name"]. Malformed ones are left out."""
    if not isinstance(text, str):
        return []
    return [match.group(1) for match in _TOKEN.finditer(text) if _is_variable(match.group(1))]


def _malformed(text: str) -> list[str]:
    """Brace fragments that look like an attempt at a variable but that WhatsApp would send as literal text."""
    fragments = [match.group(0) for match in _TOKEN.finditer(text) if not _is_variable(match.group(1))]
    rest = _TOKEN.sub(" ", text)
    fragments += re.findall(r"\S*(?:\{\{|\}\})\S*", rest)
    return list(dict.fromkeys(fragments))


def _is_positional(name: str) -> bool:
    return bool(_POSITIONAL.fullmatch(name))


def _ordered(names: list[str]) -> list[str]:
    """Distinct variables in the order their samples are given: by number for {{1}}…, by appearance for names."""
    distinct = list(dict.fromkeys(names))
    if all(_is_positional(name) for name in distinct):
        return sorted(distinct, key=int)
    return distinct


# --- Small readers for untrusted input -------------------------------------------------------------------------------


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _text(component: dict, key: str = "text") -> str:
    """The text of a field, "" when missing or not text."""
    return _str(component.get(key)) or ""


def _upper(value: Any) -> str | None:
    # Meta's create examples spell enums in capitals, its docs also show "named"; accept either case.
    return value.strip().upper() if isinstance(value, str) else None


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


_COMPONENT_TYPES = ("HEADER", "BODY", "FOOTER", "BUTTONS")


def _components_by_type(draft: dict) -> dict[str, dict]:
    """The first HEADER, BODY, FOOTER and BUTTONS component, skipping anything unreadable (lint reports those)."""
    found: dict[str, dict] = {}
    for component in _list(draft.get("components")):
        kind = _upper(component.get("type")) if isinstance(component, dict) else None
        if kind in _COMPONENT_TYPES and kind not in found:
            found[kind] = component
    return found


def _positional_samples(example: dict, part: str) -> list:
    """The samples of {{1}}, {{2}}… in order: `header_text` is a list, `body_text` a list of rows (one row per
    sample message) of which WhatsApp reads the first."""
    samples = _list(example.get(f"{part}_text"))
    if part == "body":
        samples = _list(samples[0]) if samples else []
    return samples


def _named_samples(example: dict, part: str) -> list:
    """The samples of named variables: [{"param_name": "first_name", "example": "Ana"}, …]."""
    return _list(example.get(f"{part}_text_named_params"))


def _text_samples(component: dict, part: str) -> dict[str, str]:
    """Variable → sample text from a header's or body's `example`, in Meta's positional or named shape."""
    example = _dict(component.get("example"))
    names = _ordered(placeholders(_text(component)))
    samples: dict[str, str] = {}
    for entry in _named_samples(example, part):
        name, sample = _str(_dict(entry).get("param_name")), _str(_dict(entry).get("example"))
        if name is not None and sample is not None:
            samples.setdefault(name, sample)
    for name, sample in zip(names, _positional_samples(example, part), strict=False):
        if _is_positional(name) and isinstance(sample, str):
            samples.setdefault(name, sample)
    return samples


def _url_example(button: dict) -> str | None:
    """The sample of a URL button: the full URL with {{1}} filled in, as a one-item list."""
    examples = _list(button.get("example"))
    return _str(examples[0]) if examples else None


# --- The lint ------------------------------------------------------------------------------------------------------


class _Findings:
    def __init__(self) -> None:
        self.items: list[Finding] = []

    def error(self, code: Code, part: str, message: str) -> None:
        self.items.append(Finding(code, Severity.ERROR, part, message))

    def warning(self, code: Code, part: str, message: str) -> None:
        self.items.append(Finding(code, Severity.WARNING, part, message))


def lint_template(draft: dict, *, existing_name_languages: frozenset[tuple[str, str]] = frozenset()) -> list[Finding]:
    """All findings, errors first, in the order of the parts of the template.

    `existing_name_languages` holds the (name, language) of the templates already on the WhatsApp account: WhatsApp
    refuses a second template with the same name in the same language."""
    findings = _Findings()
    if not isinstance(draft, dict):
        findings.error(
            Code.INVALID_TEMPLATE, "template", _("The template could not be read: send it as a JSON object.")
        )
        return findings.items
    _lint_name(draft, findings, existing_name_languages)
    _lint_language(draft, findings)
    category = _lint_category(draft, findings)
    parameter_format = _lint_parameter_format(draft, findings)
    components = _lint_components(draft, findings)
    if category == "AUTHENTICATION":
        _lint_authentication(components, findings)
    else:
        _lint_header(components.get("HEADER"), parameter_format, findings)
        _lint_body(components.get("BODY"), parameter_format, findings)
        _lint_footer(components.get("FOOTER"), findings)
        _lint_buttons(components.get("BUTTONS"), findings)
    _lint_category_hints(category, components, findings)
    return sorted(findings.items, key=_finding_position)


_PART_ORDER = (
    "template",
    "name",
    "language",
    "category",
    "parameter_format",
    "components",
    "header",
    "body",
    "footer",
    "buttons",
)


def _finding_position(finding: Finding) -> tuple[int, int, int, bool]:
    """Errors first, then by part in the order of the template; samples right after the part they belong to."""
    pieces = finding.part.split(".")
    is_sample = pieces[0] == "samples"
    if is_sample:
        pieces = pieces[1:]
    section = _PART_ORDER.index(pieces[0]) if pieces[0] in _PART_ORDER else len(_PART_ORDER)
    index = -1
    if pieces[0] in ("buttons", "components") and len(pieces) > 1 and pieces[1].isdigit():
        index = int(pieces[1])
    return (0 if finding.severity == Severity.ERROR else 1, section, index, is_sample)


def _normalised_language(language: str) -> str:
    return language.replace("-", "_").casefold()


def _lint_name(draft: dict, findings: _Findings, existing: frozenset[tuple[str, str]]) -> None:
    name = _str(draft.get("name"))
    if not name or not name.strip():
        findings.error(Code.NAME_MISSING, "name", _("Give the template a name, such as order_update."))
        return
    if len(name) > NAME_MAX_LENGTH:
        findings.error(
            Code.NAME_TOO_LONG,
            "name",
            _("Shorten the name to %(limit)d characters or fewer (it has %(length)d).")
            % {"limit": NAME_MAX_LENGTH, "length": len(name)},
        )
    if not NAME_PATTERN.fullmatch(name):
        findings.error(
            Code.INVALID_NAME,
            "name",
            _("Write the name with lowercase letters, digits and underscores only, such as order_update."),
        )
    language = _str(draft.get("language"))
    if language is None:
        return
    for existing_name, existing_language in existing:
        if (
            existing_name == name
            and isinstance(existing_language, str)
            and _normalised_language(existing_language) == _normalised_language(language)
        ):
            findings.error(
                Code.DUPLICATE_NAME_LANGUAGE,
                "name",
                _("A template named %(name)s already exists in this language: choose another name.") % {"name": name},
            )
            return


def _lint_language(draft: dict, findings: _Findings) -> None:
    language = _str(draft.get("language"))
    if not language or not language.strip():
        findings.error(Code.LANGUAGE_MISSING, "language", _("Choose the language of the template, such as en_US."))
    elif not LANGUAGE_PATTERN.fullmatch(language):
        findings.error(
            Code.INVALID_LANGUAGE,
            "language",
            _("Write the language as WhatsApp's code, such as en, en_US or pt_BR (%(language)s is not one).")
            % {"language": language},
        )


def _lint_category(draft: dict, findings: _Findings) -> str | None:
    category = _upper(draft.get("category"))
    if not category:
        findings.error(Code.CATEGORY_MISSING, "category", _("Choose a category: marketing, utility or authentication."))
        return None
    if category not in CATEGORIES:
        findings.error(Code.INVALID_CATEGORY, "category", _("Choose a category: marketing, utility or authentication."))
        return None
    return category


def _lint_parameter_format(draft: dict, findings: _Findings) -> str | None:
    """POSITIONAL ({{1}}) unless the draft says NAMED ({{first_name}}); None when the value is unreadable."""
    if draft.get("parameter_format") is None:
        return "POSITIONAL"
    parameter_format = _upper(draft.get("parameter_format"))
    if parameter_format not in PARAMETER_FORMATS:
        findings.error(
            Code.INVALID_PARAMETER_FORMAT,
            "parameter_format",
            _("Set the variable style to positional ({{1}}) or named ({{first_name}})."),
        )
        return None
    return parameter_format


def _lint_components(draft: dict, findings: _Findings) -> dict[str, dict]:
    components = draft.get("components")
    if components is not None and not isinstance(components, list):
        findings.error(
            Code.INVALID_COMPONENTS, "components", _("The parts of the template could not be read: send a list.")
        )
    seen: set[str] = set()
    for index, component in enumerate(_list(components)):
        part = f"components.{index}"
        kind = _upper(component.get("type")) if isinstance(component, dict) else None
        if kind not in _COMPONENT_TYPES:
            findings.error(
                Code.INVALID_COMPONENT,
                part,
                _("Part %(number)d is not a header, body, footer or buttons: remove it.") % {"number": index + 1},
            )
        elif kind in seen:
            findings.error(
                Code.DUPLICATE_COMPONENT,
                part,
                _("Part %(number)d repeats the %(kind)s: a template has only one.")
                % {"number": index + 1, "kind": kind.lower()},
            )
        else:
            seen.add(kind)
    return _components_by_type(draft)


# --- Header, body, footer --------------------------------------------------------------------------------------------


def _lint_variables(text: str, part: str, parameter_format: str | None, findings: _Findings) -> list[str] | None:
    """Checks the variables of a header or body; returns them (distinct, in sample order), or None when they are
    mixed and so no samples can be matched to them."""
    for fragment in _malformed(text):
        inner = fragment.strip("{}")
        if fragment.startswith("{{") and fragment.endswith("}}") and _NAME_LIKE.fullmatch(inner):
            findings.error(
                Code.INVALID_PARAMETER_NAME,
                part,
                _(
                    "Rename the variable %(fragment)s: names use lowercase letters, digits and underscores "
                    "and start with a letter, such as {{first_name}}."
                )
                % {"fragment": fragment},
            )
        else:
            findings.error(
                Code.MALFORMED_VARIABLE,
                part,
                _("Write variables as {{1}} or {{first_name}}, without spaces: WhatsApp would show %(fragment)s as is.")
                % {"fragment": fragment},
            )
    names = placeholders(text)
    positional = [name for name in names if _is_positional(name)]
    named = [name for name in names if not _is_positional(name)]
    if positional and named:
        findings.error(
            Code.VARIABLES_MIXED,
            part,
            _("Use either numbered variables ({{1}}) or named ones ({{first_name}}), not both."),
        )
        return None
    if parameter_format == "NAMED" and positional:
        findings.error(
            Code.VARIABLES_FORMAT_MISMATCH,
            part,
            _("This template uses named variables: write {{first_name}} instead of numbers such as {{1}}."),
        )
    elif parameter_format == "POSITIONAL" and named:
        findings.error(
            Code.VARIABLES_FORMAT_MISMATCH,
            part,
            _("This template uses numbered variables: write {{1}}, {{2}}… instead of names such as {{first_name}}."),
        )
    ordered = _ordered(names)
    if positional and ordered != [str(number) for number in range(1, len(ordered) + 1)]:
        findings.error(
            Code.VARIABLES_NOT_SEQUENTIAL,
            part,
            _("Number the variables {{1}}, {{2}}, {{3}}… without gaps, starting at {{1}}."),
        )
    return ordered


def _lint_text_samples(component: dict, names: list[str], part: str, findings: _Findings) -> None:
    """Every variable needs a sample for the reviewers, and there must be no more samples than variables."""
    samples = _text_samples(component, part)
    for name in names:
        if not (samples.get(name) or "").strip():
            findings.error(
                Code.MISSING_SAMPLE,
                f"samples.{part}.{name}",
                _("Give an example of what {{%(name)s}} will contain, for WhatsApp's review.") % {"name": name},
            )
    example = _dict(component.get("example"))
    given = len(_positional_samples(example, part)) + len(_named_samples(example, part))
    if given > len(names):
        findings.error(
            Code.EXTRA_SAMPLE,
            f"samples.{part}",
            _("Remove the extra examples: there are %(given)d for %(count)d variables.")
            % {"given": given, "count": len(names)},
        )


def _lint_header(header: dict | None, parameter_format: str | None, findings: _Findings) -> None:
    if header is None:
        return
    header_format = _upper(header.get("format"))
    if header_format not in HEADER_FORMATS:
        findings.error(
            Code.INVALID_HEADER_FORMAT,
            "header",
            _("Choose the kind of header: text, image, video, document or location."),
        )
        return
    if header_format in MEDIA_HEADER_FORMATS:
        # WhatsApp's reviewers need a sample file (an upload handle) for every media header.
        handles = _list(_dict(header.get("example")).get("header_handle"))
        if not handles or not (_str(handles[0]) or "").strip():
            findings.error(
                Code.MISSING_SAMPLE,
                "samples.header",
                _("Add a sample %(kind)s for the header, for WhatsApp's review.") % {"kind": header_format.lower()},
            )
        return
    if header_format != "TEXT":
        return
    text = _text(header)
    if not text.strip():
        findings.error(Code.HEADER_EMPTY, "header", _("Write the header text, or remove the header."))
        return
    if len(text) > HEADER_TEXT_MAX_LENGTH:
        findings.error(
            Code.HEADER_TOO_LONG,
            "header",
            _("Shorten the header to %(limit)d characters or fewer (it has %(length)d).")
            % {"limit": HEADER_TEXT_MAX_LENGTH, "length": len(text)},
        )
    names = _lint_variables(text, "header", parameter_format, findings)
    if names is None:
        return
    if len(names) > HEADER_MAX_VARIABLES:
        findings.error(
            Code.HEADER_TOO_MANY_VARIABLES,
            "header",
            _("Keep at most one variable in the header (it has %(count)d).") % {"count": len(names)},
        )
        return
    _lint_text_samples(header, names, "header", findings)


def _lint_body(body: dict | None, parameter_format: str | None, findings: _Findings) -> None:
    if body is None:
        findings.error(Code.BODY_MISSING, "body", _("Add the body: the main text of the message."))
        return
    text = _text(body)
    if not text.strip():
        findings.error(Code.BODY_EMPTY, "body", _("Write the body text: the main text of the message."))
        return
    if len(text) > BODY_MAX_LENGTH:
        findings.error(
            Code.BODY_TOO_LONG,
            "body",
            _("Shorten the body to %(limit)d characters or fewer (it has %(length)d).")
            % {"limit": BODY_MAX_LENGTH, "length": len(text)},
        )
    names = _lint_variables(text, "body", parameter_format, findings)
    _lint_variable_placement(text, findings)
    _lint_variable_density(text, findings)
    if names is not None:
        _lint_text_samples(body, names, "body", findings)


def _lint_variable_placement(text: str, findings: _Findings) -> None:
    """WhatsApp rejects a body that starts or ends with a variable, or with two variables side by side: the text
    around a variable is what tells the reviewers (and the customer) what it stands for. "Hi {{1}}." ends with
    punctuation and is accepted; "Hi {{1}}" is not."""
    stripped = text.strip()
    tokens = [match for match in _TOKEN.finditer(stripped) if _is_variable(match.group(1))]
    if not tokens:
        return
    if tokens[0].start() == 0:
        findings.error(
            Code.VARIABLE_AT_START, "body", _("Start the body with some text, not with a variable such as {{1}}.")
        )
    if tokens[-1].end() == len(stripped):
        findings.error(
            Code.VARIABLE_AT_END,
            "body",
            _("End the body with some text or punctuation, not with a variable such as {{1}}."),
        )
    for before, after in pairwise(tokens):
        if not stripped[before.end() : after.start()].strip():
            findings.error(
                Code.VARIABLES_ADJACENT,
                "body",
                _("Put some text between %(first)s and %(second)s: variables cannot be side by side.")
                % {"first": before.group(0), "second": after.group(0)},
            )


def _lint_variable_density(text: str, findings: _Findings) -> None:
    """Too many variables for the length of the text (see FIXED_WORDS_PER_VARIABLE)."""
    count = len(placeholders(text))
    if not count:
        return
    fixed_text = _TOKEN.sub(" ", text)
    words = sum(1 for word in fixed_text.split() if any(character.isalnum() for character in word))
    needed = FIXED_WORDS_PER_VARIABLE * count + 1
    if words < needed:
        findings.error(
            Code.TOO_MANY_VARIABLES,
            "body",
            _(
                "Add more text around the variables: with %(count)d variables the body needs at least %(needed)d "
                "words of its own (it has %(words)d)."
            )
            % {"count": count, "needed": needed, "words": words},
        )


def _lint_footer(footer: dict | None, findings: _Findings) -> None:
    if footer is None:
        return
    text = _text(footer)
    if not text.strip():
        findings.error(Code.FOOTER_EMPTY, "footer", _("Write the footer text, or remove the footer."))
        return
    if len(text) > FOOTER_MAX_LENGTH:
        findings.error(
            Code.FOOTER_TOO_LONG,
            "footer",
            _("Shorten the footer to %(limit)d characters or fewer (it has %(length)d).")
            % {"limit": FOOTER_MAX_LENGTH, "length": len(text)},
        )
    if placeholders(text):
        findings.error(
            Code.FOOTER_HAS_VARIABLES, "footer", _("Remove the variables from the footer: it can only hold fixed text.")
        )
    for fragment in _malformed(text):
        findings.error(
            Code.MALFORMED_VARIABLE,
            "footer",
            _("Remove %(fragment)s from the footer: it can only hold fixed text.") % {"fragment": fragment},
        )


# --- Buttons ---------------------------------------------------------------------------------------------------------

# Per-kind limits, with the finding each one raises.
_BUTTON_KIND_LIMITS = (
    ("QUICK_REPLY", QUICK_REPLY_BUTTONS_MAX, Code.TOO_MANY_QUICK_REPLIES),
    ("URL", URL_BUTTONS_MAX, Code.TOO_MANY_URL_BUTTONS),
    ("PHONE_NUMBER", PHONE_NUMBER_BUTTONS_MAX, Code.TOO_MANY_PHONE_BUTTONS),
    ("COPY_CODE", COPY_CODE_BUTTONS_MAX, Code.TOO_MANY_COPY_CODE_BUTTONS),
)
# Buttons whose label the business writes (copy-code and OTP labels are WhatsApp's own).
_BUTTONS_WITH_TEXT = ("QUICK_REPLY", "URL", "PHONE_NUMBER", "FLOW")
# The host of a URL button is fixed text: a variable may only follow it.
_URL = re.compile(r"https?://[^\s/?#{}]+(?:[/?#]\S*)?", re.IGNORECASE)


def _button_kinds(buttons_component: dict | None) -> list[str | None]:
    """The kind of each button (None for an unreadable one)."""
    buttons = _list(_dict(buttons_component).get("buttons"))
    return [_upper(button.get("type")) if isinstance(button, dict) else None for button in buttons]


def _lint_buttons(component: dict | None, findings: _Findings) -> None:
    if component is None:
        return
    buttons = _list(component.get("buttons"))
    if not buttons:
        findings.error(Code.BUTTONS_EMPTY, "buttons", _("Add at least one button, or remove the buttons."))
        return
    kinds = _button_kinds(component)
    if len(buttons) > BUTTONS_MAX:
        findings.error(
            Code.TOO_MANY_BUTTONS,
            "buttons",
            _("Keep at most %(limit)d buttons (there are %(count)d).") % {"limit": BUTTONS_MAX, "count": len(buttons)},
        )
    for kind, limit, code in _BUTTON_KIND_LIMITS:
        count = kinds.count(kind)
        if count > limit:
            findings.error(
                code,
                "buttons",
                _("Keep at most %(limit)d %(kind)s buttons (there are %(count)d).")
                % {"limit": limit, "kind": _button_label(kind), "count": count},
            )
    _lint_button_grouping(kinds, findings)
    texts: set[str] = set()
    for index, (button, kind) in enumerate(zip(buttons, kinds, strict=True)):
        part = f"buttons.{index}"
        if kind not in BUTTON_TYPES:
            findings.error(
                Code.INVALID_BUTTON_TYPE,
                part,
                _("Button %(number)d is of an unknown kind: choose quick reply, website, call or copy code.")
                % {"number": index + 1},
            )
            continue
        if kind == "OTP":
            findings.error(
                Code.OTP_BUTTON_NOT_ALLOWED,
                part,
                _("Remove the one-time-password button: only authentication templates can have one."),
            )
            continue
        text = _lint_button_text(button, kind, part, findings)
        if text:
            key = text.strip().casefold()
            if key in texts:
                findings.error(
                    Code.DUPLICATE_BUTTON_TEXT,
                    part,
                    _("Give this button a different text: another button already says “%(text)s”.") % {"text": text},
                )
            texts.add(key)
        if kind == "URL":
            _lint_url_button(button, index, findings)
        elif kind == "PHONE_NUMBER":
            _lint_phone_button(button, part, findings)
        elif kind == "COPY_CODE":
            _lint_copy_code_button(button, index, findings)


def _button_label(kind: str) -> str:
    labels = {
        "QUICK_REPLY": _("quick-reply"),
        "URL": _("website"),
        "PHONE_NUMBER": _("call"),
        "COPY_CODE": _("copy-code"),
    }
    return labels.get(kind, kind.lower())


def _lint_button_grouping(kinds: list[str | None], findings: _Findings) -> None:
    """WhatsApp shows quick replies and call-to-action buttons (website, call, copy code…) as two groups, and
    refuses a list where they alternate: all quick replies must come before or after all the others."""
    groups = [kind == "QUICK_REPLY" for kind in kinds if kind in BUTTON_TYPES]
    changes = sum(1 for before, after in pairwise(groups) if before != after)
    if changes > 1:
        findings.error(
            Code.BUTTONS_MIXED,
            "buttons",
            _("Group the quick-reply buttons together, before or after the other buttons."),
        )


def _lint_button_text(button: dict, kind: str, part: str, findings: _Findings) -> str:
    text = _text(button)
    if kind in _BUTTONS_WITH_TEXT and not text.strip():
        findings.error(Code.BUTTON_TEXT_MISSING, part, _("Write the text of this button."))
    if len(text) > BUTTON_TEXT_MAX_LENGTH:
        findings.error(
            Code.BUTTON_TEXT_TOO_LONG,
            part,
            _("Shorten the button text to %(limit)d characters or fewer (it has %(length)d).")
            % {"limit": BUTTON_TEXT_MAX_LENGTH, "length": len(text)},
        )
    return text


def _lint_url_button(button: dict, index: int, findings: _Findings) -> None:
    part = f"buttons.{index}"
    url = _text(button, "url").strip()
    if not url:
        findings.error(Code.BUTTON_URL_MISSING, part, _("Write the web address this button opens."))
        return
    if len(url) > BUTTON_URL_MAX_LENGTH:
        findings.error(
            Code.URL_TOO_LONG,
            part,
            _("Shorten the web address to %(limit)d characters or fewer (it has %(length)d).")
            % {"limit": BUTTON_URL_MAX_LENGTH, "length": len(url)},
        )
    if not _URL.fullmatch(url):
        findings.error(
            Code.INVALID_BUTTON_URL,
            part,
            _("Write a full web address starting with https://, such as https://shop.example/track."),
        )
    for fragment in _malformed(url):
        findings.error(
            Code.MALFORMED_VARIABLE,
            part,
            _("Write the variable of the web address as {{1}}: WhatsApp would open %(fragment)s as is.")
            % {"fragment": fragment},
        )
    names = placeholders(url)
    if not names:
        return
    # A URL button may end with one variable, always {{1}}, even in a template with named variables.
    if names != ["1"] or not url.endswith("{{1}}"):
        findings.error(
            Code.URL_VARIABLE_NOT_AT_END,
            part,
            _("A web address can only have one variable, {{1}}, at its very end, such as https://shop.example/{{1}}."),
        )
    if not (_url_example(button) or "").strip():
        findings.error(
            Code.MISSING_SAMPLE,
            f"samples.buttons.{index}",
            _("Give an example of the full web address with {{1}} filled in, for WhatsApp's review."),
        )


def _lint_phone_button(button: dict, part: str, findings: _Findings) -> None:
    phone_number = _text(button, "phone_number").strip()
    if not PHONE_NUMBER_PATTERN.fullmatch(phone_number):
        findings.error(
            Code.INVALID_PHONE_NUMBER,
            part,
            _("Write the phone number with + and the country code, such as +15550001111."),
        )
    if len(phone_number) > PHONE_NUMBER_MAX_LENGTH:
        findings.error(
            Code.PHONE_NUMBER_TOO_LONG,
            part,
            _("Shorten the phone number to %(limit)d characters or fewer (it has %(length)d).")
            % {"limit": PHONE_NUMBER_MAX_LENGTH, "length": len(phone_number)},
        )


def _lint_copy_code_button(button: dict, index: int, findings: _Findings) -> None:
    code = _text(button, "example").strip()
    if not code:
        findings.error(
            Code.MISSING_SAMPLE,
            f"samples.buttons.{index}",
            _("Give an example of the code this button copies, such as SAVE20."),
        )
    elif len(code) > COPY_CODE_EXAMPLE_MAX_LENGTH:
        findings.error(
            Code.COPY_CODE_TOO_LONG,
            f"buttons.{index}",
            _("Shorten the code to %(limit)d characters or fewer (it has %(length)d).")
            % {"limit": COPY_CODE_EXAMPLE_MAX_LENGTH, "length": len(code)},
        )


# --- Authentication templates --------------------------------------------------------------------------------------


def _lint_authentication(components: dict[str, dict], findings: _Findings) -> None:
    """Authentication templates have a fixed shape: WhatsApp writes the text ("<code> is your verification
    code."), the business only chooses a security line, the expiry footer and one OTP button. No header, no
    links, no call buttons."""
    if "HEADER" in components:
        findings.error(
            Code.AUTHENTICATION_HEADER, "header", _("Remove the header: authentication templates cannot have one.")
        )
    body = components.get("BODY")
    if body is None:
        findings.error(Code.BODY_MISSING, "body", _("Add the body: WhatsApp fills in its verification text."))
    else:
        if _text(body).strip():
            findings.error(
                Code.AUTHENTICATION_CUSTOM_TEXT,
                "body",
                _("Remove the body text: WhatsApp writes the text of authentication templates itself."),
            )
        recommendation = body.get("add_security_recommendation")
        if recommendation is not None and not isinstance(recommendation, bool):
            findings.error(
                Code.INVALID_SECURITY_RECOMMENDATION,
                "body",
                _("Choose whether to add the advice not to share the code: yes or no."),
            )
    footer = components.get("FOOTER")
    if footer is not None:
        if _text(footer).strip():
            findings.error(
                Code.AUTHENTICATION_CUSTOM_TEXT,
                "footer",
                _("Remove the footer text: authentication templates only say when the code expires."),
            )
        minutes = footer.get("code_expiration_minutes")
        if minutes is not None and (
            isinstance(minutes, bool) or not isinstance(minutes, int) or minutes not in CODE_EXPIRATION_MINUTES
        ):
            findings.error(
                Code.INVALID_CODE_EXPIRATION,
                "footer",
                _("Set the code to expire after %(low)d to %(high)d minutes.")
                % {"low": CODE_EXPIRATION_MINUTES[0], "high": CODE_EXPIRATION_MINUTES[-1]},
            )
    _lint_authentication_buttons(components.get("BUTTONS"), findings)


def _lint_authentication_buttons(component: dict | None, findings: _Findings) -> None:
    buttons = _list(_dict(component).get("buttons"))
    kinds = _button_kinds(component)
    if kinds.count("OTP") != 1:
        findings.error(
            Code.AUTHENTICATION_OTP_BUTTON,
            "buttons",
            _("Give the template exactly one one-time-password button (copy code or one-tap autofill)."),
        )
    for index, (button, kind) in enumerate(zip(buttons, kinds, strict=True)):
        part = f"buttons.{index}"
        if kind != "OTP":
            findings.error(
                Code.AUTHENTICATION_OTHER_BUTTON,
                part,
                _("Remove this button: authentication templates can only have the one-time-password button."),
            )
            continue
        otp_type = _upper(button.get("otp_type"))
        if otp_type not in OTP_TYPES:
            findings.error(
                Code.INVALID_OTP_TYPE,
                part,
                _("Choose how the code is filled in: copy code, one-tap autofill or zero-tap."),
            )
        elif otp_type != "COPY_CODE" and not _has_otp_app(button):
            # Autofill hands the code to an Android app: WhatsApp needs its package name and signature hash.
            findings.error(
                Code.OTP_APP_MISSING,
                part,
                _("Give the package name and signature hash of the app that receives the code."),
            )
        _lint_button_text(button, kind, part, findings)


def _has_otp_app(button: dict) -> bool:
    apps = [_dict(app) for app in _list(button.get("supported_apps"))]
    apps.append(button)
    return any(_str(app.get("package_name")) and _str(app.get("signature_hash")) for app in apps)


# --- Category hints (warnings) ---------------------------------------------------------------------------------------


def _phrases_pattern(phrases: Iterable[str]) -> re.Pattern[str]:
    """Whole words or phrases, case-insensitively; the longest first so "promo code" wins over "promo"."""
    alternatives = []
    for phrase in sorted(phrases, key=len, reverse=True):
        words = r"\s*".join(re.escape(word) for word in phrase.split())
        left = r"\b" if phrase[0].isalnum() else ""
        right = r"\b" if phrase[-1].isalnum() else ""
        alternatives.append(f"{left}{words}{right}")
    return re.compile("|".join(alternatives), re.IGNORECASE)


_PROMOTIONAL = _phrases_pattern(PROMOTIONAL_WORDS)
_NOT_PROMOTIONAL = _phrases_pattern(NOT_PROMOTIONAL_PHRASES)
_OPT_OUT = _phrases_pattern(OPT_OUT_WORDS)
_TEXT_PARTS = (("HEADER", "header"), ("BODY", "body"), ("FOOTER", "footer"))


def _visible_texts(components: dict[str, dict]) -> list[tuple[str, str]]:
    """(part, text) of every text the customer reads, in the order of the template."""
    texts = [(part, _text(components[kind])) for kind, part in _TEXT_PARTS if isinstance(components.get(kind), dict)]
    for index, button in enumerate(_list(_dict(components.get("BUTTONS")).get("buttons"))):
        if isinstance(button, dict):
            texts.append((f"buttons.{index}", _text(button)))
    return [(part, text) for part, text in texts if text]


def _lint_category_hints(category: str | None, components: dict[str, dict], findings: _Findings) -> None:
    if category in ("UTILITY", "AUTHENTICATION"):
        code = Code.PROMOTIONAL_IN_UTILITY if category == "UTILITY" else Code.PROMOTIONAL_IN_AUTHENTICATION
        for part, text in _visible_texts(components):
            text = _NOT_PROMOTIONAL.sub(" ", text)
            words = list(dict.fromkeys(match.group(0).lower() for match in _PROMOTIONAL.finditer(text)))
            if words:
                findings.warning(
                    code,
                    part,
                    _(
                        "Promotional wording (%(words)s) means this template may be re-categorised as marketing "
                        "by WhatsApp: reword it or choose the marketing category."
                    )
                    % {"words": ", ".join(f"“{word}”" for word in words)},
                )
    if category == "MARKETING":
        # Customers must be able to stop marketing messages; a template without a way out gets blocked and
        # reported, which lowers the number's quality rating.
        texts = [
            text
            for part, text in _visible_texts(components)
            if part in ("body", "footer") or _is_quick_reply(components, part)
        ]
        if not any(_OPT_OUT.search(text) for text in texts):
            findings.warning(
                Code.MARKETING_WITHOUT_OPT_OUT,
                "footer",
                _("Tell customers how to stop these messages, for example with a footer “Reply STOP to opt out”."),
            )


def _is_quick_reply(components: dict[str, dict], part: str) -> bool:
    if not part.startswith("buttons."):
        return False
    kinds = _button_kinds(components.get("BUTTONS"))
    return kinds[int(part.split(".")[1])] == "QUICK_REPLY"


# --- Preview ---------------------------------------------------------------------------------------------------------

# The fixed texts WhatsApp writes for authentication templates (shown in English here; WhatsApp translates them
# into the template's language).
_AUTHENTICATION_BODY = "{{1}} is your verification code."
_AUTHENTICATION_SECURITY = "For your security, do not share this code."
_AUTHENTICATION_FOOTER = "This code expires in %(minutes)d minutes."
_OTP_BUTTON_TEXT = {"COPY_CODE": "Copy code", "ONE_TAP": "Autofill", "ZERO_TAP": "Autofill"}
_COPY_CODE_BUTTON_TEXT = "Copy offer code"


def _fill(text: str, samples: dict[str, str], given: Any) -> str:
    """Replace each variable by the given value, else its sample; one with neither stays as written."""
    given = _dict(given)

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if not _is_variable(name):
            return match.group(0)
        return _str(given.get(name)) or samples.get(name) or match.group(0)

    return _TOKEN.sub(value, text)


def render(draft: dict, values: dict[str, dict[str, str]] | None = None) -> dict:
    """The message a customer sees, for previews: variables replaced by `values`, else by the draft's samples.

    `values` maps a part to its variables: {"header": {"1": "#123"}, "body": {"first_name": "Ana"},
    "buttons.1": {"1": "123"}}. Returns {"header": str | None, "header_format": str | None, "header_media":
    str | None (the sample handle or URL of a media header), "body": str, "footer": str | None,
    "buttons": [{"type", "text", "url"?, "phone_number"?}]}. Never raises on a malformed draft."""
    draft = _dict(draft)
    values = _dict(values)
    components = _components_by_type(draft)
    authentication = _upper(draft.get("category")) == "AUTHENTICATION"
    header = components.get("HEADER")
    header_format = _upper(header.get("format")) if header else None
    header_text = header_media = None
    if header and header_format == "TEXT":
        header_text = _fill(_text(header), _text_samples(header, "header"), values.get("header"))
    elif header and header_format in MEDIA_HEADER_FORMATS:
        handles = _list(_dict(header.get("example")).get("header_handle"))
        header_media = _str(handles[0]) if handles else None
    body = components.get("BODY") or {}
    footer = components.get("FOOTER")
    if authentication:
        body_text = _fill(_AUTHENTICATION_BODY, {}, values.get("body"))
        if body.get("add_security_recommendation") is True:
            body_text = f"{body_text} {_AUTHENTICATION_SECURITY}"
        minutes = footer.get("code_expiration_minutes") if footer else None
        footer_text = _AUTHENTICATION_FOOTER % {"minutes": minutes} if _is_minutes(minutes) else None
    else:
        body_text = _fill(_text(body), _text_samples(body, "body"), values.get("body"))
        footer_text = (_text(footer) or None) if footer else None
    return {
        "header": header_text,
        "header_format": header_format,
        "header_media": header_media,
        "body": body_text,
        "footer": footer_text,
        "buttons": _render_buttons(components.get("BUTTONS"), values),
    }


def _is_minutes(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _render_buttons(component: dict | None, values: dict) -> list[dict[str, str]]:
    rendered = []
    for index, button in enumerate(_list(_dict(component).get("buttons"))):
        kind = _upper(button.get("type")) if isinstance(button, dict) else None
        if kind not in BUTTON_TYPES:
            continue
        text = _text(button)
        if kind == "COPY_CODE":
            text = _COPY_CODE_BUTTON_TEXT
        elif kind == "OTP":
            text = text or _OTP_BUTTON_TEXT.get(_upper(button.get("otp_type")) or "", _OTP_BUTTON_TEXT["COPY_CODE"])
        entry = {"type": kind, "text": text}
        if kind == "URL":
            url = _text(button, "url")
            given = _str(_dict(values.get(f"buttons.{index}")).get("1"))
            if given and "{{1}}" in url:
                url = url.replace("{{1}}", given)
            elif "{{1}}" in url:
                url = _url_example(button) or url
            entry["url"] = url
        elif kind == "PHONE_NUMBER":
            entry["phone_number"] = _text(button, "phone_number")
        rendered.append(entry)
    return rendered
