"""The template review Meta runs after a template is created or edited, and the other rules of a
template's life (shared/whatsapp-cloud-api.md §5, §10, §11). Pure functions over plain values.

The review is a handful of readable rules, not Meta's classifier: enough for an inbox to meet every
outcome (approved, rejected for each reason, approved in another category) with templates a person can
write on purpose. Table-tested in tests/simulator/test_template_review.py.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from simulator.models import ParameterFormat, RejectionReason, TemplateCategory, TemplateStatus
from simulator.template_validation import (
    VARIABLE,
    buttons_of,
    component_of,
    upper,
    variables,
)

# At most this many templates per WABA (§5, error 2388019).
TEMPLATES_PER_WABA = 250

# Words that make a text promotional (a sale, not a transaction update). "Feel free to reply" is not.
_PROMOTIONAL = re.compile(
    r"\b(?:offers?|discounts?|sale|coupons?|promos?|promo codes?|promotions?|limited[- ]time|buy now)\b"
    r"|(?<!feel )\bfree\b|\d+\s*%\s*off\b",
    re.IGNORECASE,
)
_ABUSIVE = re.compile(r"\b(?:idiots?|stupid|morons?|imbeciles?|losers?|shut up|i hate you)\b", re.IGNORECASE)
# Asking the customer for a secret: "reply with your password", "confirm your card number", "what is your PIN".
_SECRETS = r"(?:passwords?|passcodes?|(?:credit |debit )?card numbers?|cvv|cvc|pin(?: code)?|bank login)"
_SCAM = re.compile(
    r"\b(?:send|share|reply with|enter|confirm|provide|give|tell|type|verify|update)\b[^.?!]{0,40}?\b"
    + _SECRETS
    + r"\b"
    r"|\bwhat(?:'s| is) your " + _SECRETS + r"\b",
    re.IGNORECASE,
)
_POSITIONAL = re.compile(r"^[1-9][0-9]*$")
_NAMED = re.compile(r"^[a-z_][a-z0-9_]*$")
# Fixed text must outweigh the variables: at least one word per variable, plus one ("Hi {{1}}, {{2}}!" is
# rejected, "Hi {{1}}, your order {{2}} ships today." is fine).
_WORDS_PER_VARIABLE = 1
_WORD = re.compile(r"\w+")

# Meta allows an approved template 1 edit in 24 hours and 10 in 30 days (§5).
EDITS_PER_DAY = 1
EDITS_PER_MONTH = 10
_DAY = timedelta(days=1).total_seconds()
_MONTH = timedelta(days=30).total_seconds()

# A person's actions on the simulator page, and the statuses each may start from.
ACTIONS_FROM: dict[str, frozenset[str]] = {
    "approve": frozenset({TemplateStatus.PENDING, TemplateStatus.REJECTED, TemplateStatus.IN_APPEAL}),
    "reject": frozenset({TemplateStatus.PENDING, TemplateStatus.IN_APPEAL}),
    "flag": frozenset({TemplateStatus.APPROVED, TemplateStatus.REINSTATED}),
    "pause": frozenset({TemplateStatus.APPROVED, TemplateStatus.FLAGGED, TemplateStatus.REINSTATED}),
    "unpause": frozenset({TemplateStatus.PAUSED}),
    "disable": frozenset(
        {TemplateStatus.APPROVED, TemplateStatus.FLAGGED, TemplateStatus.PAUSED, TemplateStatus.REINSTATED}
    ),
    "reinstate": frozenset({TemplateStatus.FLAGGED, TemplateStatus.DISABLED}),
}
# Only these may be edited (pywa's TemplateStatus notes, §5).
EDITABLE_STATUSES = frozenset({TemplateStatus.APPROVED, TemplateStatus.REJECTED, TemplateStatus.PAUSED})
PAUSE_TITLES = {"FIRST_PAUSE": timedelta(hours=3), "SECOND_PAUSE": timedelta(hours=6)}


@dataclass(frozen=True)
class ReviewDecision:
    """The outcome of a review. `category` is the category the template ends up in: a different one
    when a promotional utility template was allowed to change category."""

    approved: bool
    category: str
    reason: str = RejectionReason.NONE
    explanation: str = ""
    recommendation: str = ""


@dataclass(frozen=True)
class _Problem:
    reason: str
    explanation: str
    recommendation: str


def review(
    *, category: str, components: list[dict], parameter_format: str, allow_category_change: bool
) -> ReviewDecision:
    """Approve or reject a submitted template. Policy first (abuse, scams), then format, then category."""
    texts = template_texts(components)
    problem = _abusive(texts) or _scam(texts) or format_problem(components, parameter_format, category=category)
    if problem is not None:
        return ReviewDecision(False, category, problem.reason, problem.explanation, problem.recommendation)
    if category in (TemplateCategory.UTILITY, TemplateCategory.AUTHENTICATION) and is_promotional(texts):
        # A transactional category with sales wording is marketing. With allow_category_change Meta
        # approves it as MARKETING (and says so in template_category_update) instead of rejecting it.
        if allow_category_change:
            return ReviewDecision(True, TemplateCategory.MARKETING)
        if category == TemplateCategory.UTILITY:
            return ReviewDecision(
                False,
                category,
                RejectionReason.INCORRECT_CATEGORY,
                "The template promotes a product or an offer, which makes it a marketing template.",
                "Submit it in the MARKETING category, or set allow_category_change.",
            )
        return ReviewDecision(
            False,
            category,
            RejectionReason.PROMOTIONAL,
            "Authentication templates may only deliver a code; this one contains promotional content.",
            "Remove the promotional wording.",
        )
    return ReviewDecision(True, category)


def template_texts(components: list[dict]) -> list[str]:
    """Everything a reviewer reads: header, body and footer texts and the buttons' labels."""
    texts = []
    for kind in ("HEADER", "BODY", "FOOTER"):
        component = component_of(components, kind)
        if component and isinstance(component.get("text"), str):
            texts.append(component["text"])
    texts.extend(str(button["text"]) for button in buttons_of(components) if isinstance(button.get("text"), str))
    return texts


def is_promotional(texts: list[str]) -> bool:
    return any(_PROMOTIONAL.search(text) for text in texts)


def _abusive(texts: list[str]) -> _Problem | None:
    if any(_ABUSIVE.search(text) for text in texts):
        return _Problem(
            RejectionReason.ABUSIVE_CONTENT,
            "The template contains abusive or threatening language.",
            "Remove the offensive wording.",
        )
    return None


def _scam(texts: list[str]) -> _Problem | None:
    if any(_SCAM.search(text) for text in texts):
        return _Problem(
            RejectionReason.SCAM,
            "The template asks the customer for a password, a PIN or payment card details.",
            "Never ask for secrets over WhatsApp; send people to your website or app instead.",
        )
    return None


def _invalid_format(explanation: str, recommendation: str) -> _Problem:
    return _Problem(RejectionReason.INVALID_FORMAT, explanation, recommendation)


def format_problem(components: list[dict], parameter_format: str, *, category: str) -> _Problem | None:
    """The first INVALID_FORMAT problem of the template's variables, or None."""
    named = parameter_format == ParameterFormat.NAMED
    header = component_of(components, "HEADER")
    if header and upper(header.get("format") or "TEXT") == "TEXT":
        text = str(header.get("text") or "")
        tokens = variables(text)
        if len(tokens) > 1:
            return _invalid_format("The header has more than one variable.", "Keep at most one variable in the header.")
        problem = _tokens_problem(tokens, named=named, where="header") or _examples_problem(
            tokens, header.get("example"), named=named, where="header"
        )
        if problem:
            return problem
    footer = component_of(components, "FOOTER")
    if footer and variables(str(footer.get("text") or "")):
        return _invalid_format(
            "The footer contains a variable.", "Footers are fixed text: move the variable to the body."
        )
    if category != TemplateCategory.AUTHENTICATION:
        body = component_of(components, "BODY") or {}
        problem = _body_problem(str(body.get("text") or ""), body.get("example"), named=named)
        if problem:
            return problem
    for button in buttons_of(components):
        if upper(button.get("type")) == "URL":
            problem = _url_problem(str(button.get("url") or ""), button.get("example"))
            if problem:
                return problem
    return None


def _tokens_problem(tokens: list[str], *, named: bool, where: str) -> _Problem | None:
    for token in tokens:
        if named and not _NAMED.match(token):
            return _invalid_format(
                f"The {where} variable {{{{{token}}}}} is not a named variable, and the template's "
                "parameter_format is NAMED.",
                "Name variables with lowercase letters, digits and underscores, e.g. {{first_name}}.",
            )
        if not named and not _POSITIONAL.match(token):
            return _invalid_format(
                f"The {where} variable {{{{{token}}}}} is not a number, and the template's parameter_format is "
                "POSITIONAL.",
                "Number the variables {{1}}, {{2}}, ... or create the template with parameter_format named.",
            )
    if not named:
        numbers = sorted(int(token) for token in tokens)
        if numbers != list(range(1, len(numbers) + 1)):
            return _invalid_format(
                f"The {where} variables are not numbered in sequence from {{{{1}}}}.",
                "Number the variables {{1}}, {{2}}, {{3}}, ... without gaps.",
            )
    return None


def _examples_problem(tokens: list[str], example: object, *, named: bool, where: str) -> _Problem | None:
    """Every variable needs a sample value: `example.<where>_text` (a list of lists for the body, a list
    for the header) or `example.<where>_text_named_params` ([{param_name, example}])."""
    if not tokens:
        return None
    example = example if isinstance(example, dict) else {}
    if named:
        given = {
            item.get("param_name")
            for item in example.get(f"{where}_text_named_params") or []
            if isinstance(item, dict) and item.get("example") not in (None, "")
        }
        missing = [token for token in tokens if token not in given]
    else:
        samples = example.get(f"{where}_text") or []
        if where == "body":
            samples = samples[0] if samples and isinstance(samples[0], list) else []
        count = sum(1 for sample in samples if sample not in (None, "")) if isinstance(samples, list) else 0
        missing = tokens[count:]
    if missing:
        return _invalid_format(
            f"The {where} variable {{{{{missing[0]}}}}} has no example value.",
            f"Give a sample value for every variable in example.{where}_text" + ("_named_params." if named else "."),
        )
    return None


def _body_problem(text: str, example: object, *, named: bool) -> _Problem | None:
    tokens = variables(text)
    problem = _tokens_problem(tokens, named=named, where="body")
    if problem or not tokens:
        return problem
    stripped = text.strip()
    if stripped.startswith("{{") or stripped.endswith("}}"):
        return _invalid_format(
            "The body starts or ends with a variable.", "Put fixed text before the first and after the last variable."
        )
    if re.search(r"\}\}\s*\{\{", text):
        return _invalid_format("The body has two variables next to each other.", "Separate variables with fixed text.")
    fixed_words = len(_WORD.findall(VARIABLE.sub(" ", text)))
    if fixed_words < _WORDS_PER_VARIABLE * len(tokens) + 1:
        return _invalid_format(
            f"The body has {len(tokens)} variables for {fixed_words} words of fixed text: too many variables "
            "for its length.",
            "Use fewer variables or write a longer message.",
        )
    return _examples_problem(tokens, example, named=named, where="body")


def _url_problem(url: str, example: object) -> _Problem | None:
    tokens = variables(url)
    if not tokens:
        return None
    if tokens != ["1"] or not url.rstrip().endswith("{{1}}"):
        return _invalid_format(
            "A URL button may only have one variable, {{1}}, at the end of the URL.",
            "Keep the fixed part of the URL and add {{1}} at its end.",
        )
    samples = example if isinstance(example, list) else [example] if isinstance(example, str) else []
    if not any(isinstance(sample, str) and sample for sample in samples):
        return _invalid_format(
            "The URL button's variable has no example value.", "Give a sample URL in the button's example."
        )
    return None


def authentication_body(code: str, *, add_security_recommendation: bool) -> str:
    """The body WhatsApp writes for an authentication template."""
    text = f"{code} is your verification code."
    if add_security_recommendation:
        text += " For your security, do not share this code."
    return text


def authentication_footer(minutes: object) -> str:
    if isinstance(minutes, int) and not isinstance(minutes, bool):
        return f"This code expires in {minutes} minutes."
    return ""


# Sending and editing


def send_refusal(status: str, *, has_approved_version: bool) -> int | None:
    """The error code Meta answers a send of a template in this status with, None when it goes out.

    FLAGGED templates still send (a warning, §10); REINSTATED ones send again. While an edit of an
    approved template is PENDING review, the approved version keeps going out."""
    if status in (TemplateStatus.APPROVED, TemplateStatus.FLAGGED, TemplateStatus.REINSTATED):
        return None
    if status == TemplateStatus.PENDING and has_approved_version:
        return None
    if status == TemplateStatus.PAUSED:
        return 132015
    if status == TemplateStatus.DISABLED:
        return 132016
    return 132001


def edit_refusal(status: str) -> str | None:
    if status not in EDITABLE_STATUSES:
        return f"A {status} template cannot be edited: only APPROVED, REJECTED and PAUSED templates can."
    return None


def approved_edit_refusal(edit_times: list[float], *, now: float) -> str | None:
    """Why an approved template may not be edited now (1 edit per 24 hours, 10 per 30 days), or None."""
    recent = [moment for moment in edit_times if now - moment < _MONTH]
    if sum(1 for moment in recent if now - moment < _DAY) >= EDITS_PER_DAY:
        return "An approved template can be edited once in 24 hours. Try again later."
    if len(recent) >= EDITS_PER_MONTH:
        return "An approved template can be edited 10 times in 30 days. Try again later."
    return None


def approved_edit_times_after(edit_times: list[float], *, now: float) -> list[float]:
    """The edit history to keep after an edit now: the last 30 days and this one."""
    return [moment for moment in edit_times if now - moment < _MONTH] + [now]


def action_refusal(action: str, status: str) -> str | None:
    allowed = ACTIONS_FROM.get(action)
    if allowed is None or status in allowed:
        return None
    starts = ", ".join(sorted(allowed))
    return f"Only a template that is {starts} can be {_PAST.get(action, action)}; this one is {status}."


_PAST = {
    "approve": "approved",
    "reject": "rejected",
    "flag": "flagged",
    "pause": "paused",
    "unpause": "unpaused",
    "disable": "disabled",
    "reinstate": "reinstated",
}


def pause_description(title: str, *, now: datetime) -> str:
    """The `other_info.description` of a pause, in Meta's words."""
    until = now + PAUSE_TITLES[title]
    when = until.strftime("%b %d at %I:%M %p UTC").replace(" 0", " ")
    hours = int(PAUSE_TITLES[title].total_seconds() // 3600)
    why = "it had issues" if title == "FIRST_PAUSE" else "it continued to have issues"
    return f"Your WhatsApp message template has been paused for {hours} hours until {when} because {why}."


UNPAUSE_DESCRIPTION = "Your WhatsApp message template has been unpaused."
