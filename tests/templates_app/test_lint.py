"""WhatsApp's template rules as tables. No database: lint is pure."""

import copy

import pytest

from templates_app.lint import Finding, has_errors, lint_template, placeholders, render

# --- building drafts -------------------------------------------------------------------------------------------------


def header_text(text, *samples):
    header = {"type": "HEADER", "format": "TEXT", "text": text}
    if samples:
        header["example"] = {"header_text": list(samples)}
    return header


def header_media(header_format, *handles):
    header = {"type": "HEADER", "format": header_format}
    if handles:
        header["example"] = {"header_handle": list(handles)}
    return header


def body(text, *samples):
    component = {"type": "BODY", "text": text}
    if samples:
        component["example"] = {"body_text": [list(samples)]}
    return component


def named_body(text, **samples):
    params = [{"param_name": name, "example": sample} for name, sample in samples.items()]
    return {"type": "BODY", "text": text, "example": {"body_text_named_params": params}}


def footer(text):
    return {"type": "FOOTER", "text": text}


def buttons(*items):
    return {"type": "BUTTONS", "buttons": list(items)}


def quick_reply(text="Yes"):
    return {"type": "QUICK_REPLY", "text": text}


def url_button(url="https://shop.example/track/{{1}}", *, text="Track", example=("https://shop.example/track/123",)):
    button = {"type": "URL", "text": text, "url": url}
    if example is not None:
        button["example"] = list(example)
    return button


def phone_button(phone_number="+15550001111", *, text="Call us"):
    return {"type": "PHONE_NUMBER", "text": text, "phone_number": phone_number}


def copy_code(example="SAVE20"):
    return {"type": "COPY_CODE", "example": example}


def otp(otp_type="COPY_CODE", **extra):
    return {"type": "OTP", "otp_type": otp_type, **extra}


BODY = body("Hi {{1}}, your order {{2}} ships today.", "Ana", "#123")
NAMED_BODY = named_body("Hi {{first_name}}, your order {{order_id}} ships today.", first_name="Ana", order_id="#123")
OPT_OUT_FOOTER = footer("Reply STOP to opt out")
AUTH_BODY = {"type": "BODY", "add_security_recommendation": True}
AUTH_FOOTER = {"type": "FOOTER", "code_expiration_minutes": 10}


def template(category, /, *components, **fields):
    """A draft of the given category (`fields` may override it); a standard body is added when none is given."""
    components = list(components)
    if not any(isinstance(c, dict) and c.get("type") == "BODY" for c in components):
        default_body = AUTH_BODY if category == "AUTHENTICATION" else BODY
        components.insert(1 if components and components[0].get("type") == "HEADER" else 0, default_body)
    draft = {
        "name": "order_update",
        "language": "en_US",
        "category": category,
        "parameter_format": "POSITIONAL",
        "components": copy.deepcopy(components),
    }
    draft.update(fields)
    return draft


def utility(*components, **fields):
    return template("UTILITY", *components, **fields)


def marketing(*components, **fields):
    return template("MARKETING", *components, **fields)


def authentication(*components, **fields):
    return template("AUTHENTICATION", *components, **fields)


def named(*components, **fields):
    return utility(*components, parameter_format="NAMED", **fields)


def without(draft, key):
    draft = copy.deepcopy(draft)
    del draft[key]
    return draft


def found(findings):
    return {(finding.code, finding.severity, finding.part) for finding in findings}


# --- clean templates -----------------------------------------------------------------------------------------------

CLEAN_POSITIONAL = utility(
    header_text("Order {{1}}", "#123"),
    BODY,
    footer("Questions? Reply to this message"),
    buttons(quick_reply("Yes"), quick_reply("No"), url_button(), phone_button()),
)
CLEAN_NAMED = named(
    {
        "type": "HEADER",
        "format": "TEXT",
        "text": "Order {{order_id}}",
        "example": {"header_text_named_params": [{"param_name": "order_id", "example": "#123"}]},
    },
    NAMED_BODY,
)
CLEAN_MEDIA_MARKETING = marketing(
    header_media("IMAGE", "https://cdn.example/summer.jpg"),
    body("Hi {{1}}, our summer collection is here: use the code below at checkout.", "Ana"),
    OPT_OUT_FOOTER,
    buttons(url_button("https://shop.example/summer", text="Shop", example=None), copy_code()),
)
CLEAN_AUTHENTICATION_COPY_CODE = authentication(AUTH_BODY, AUTH_FOOTER, buttons(otp("COPY_CODE")))
CLEAN_AUTHENTICATION_ONE_TAP = authentication(
    AUTH_BODY,
    buttons(otp("ONE_TAP", supported_apps=[{"package_name": "com.shop.app", "signature_hash": "K8a/AINcGX7"}])),
)
CLEAN_TEMPLATES = {
    "positional": CLEAN_POSITIONAL,
    "named": CLEAN_NAMED,
    "media_marketing": CLEAN_MEDIA_MARKETING,
    "authentication_copy_code": CLEAN_AUTHENTICATION_COPY_CODE,
    "authentication_one_tap": CLEAN_AUTHENTICATION_ONE_TAP,
    "location_header": utility(header_media("LOCATION")),
    "lowercase_enums": utility(category="utility", parameter_format="positional"),
    "no_parameter_format": without(utility(), "parameter_format"),
}


@pytest.mark.parametrize("draft", CLEAN_TEMPLATES.values(), ids=CLEAN_TEMPLATES.keys())
def test_clean_templates_have_no_findings(draft):
    assert lint_template(draft) == []


# --- one case per rule ---------------------------------------------------------------------------------------------

E, W = "error", "warning"
LONG_URL_PREFIX = "https://shop.example/"

FINDS = [
    # name, language, category, variable style
    pytest.param(without(utility(), "name"), "name_missing", E, "name", id="name_absent"),
    pytest.param(utility(name="  "), "name_missing", E, "name", id="name_blank"),
    pytest.param(utility(name=42), "name_missing", E, "name", id="name_not_text"),
    pytest.param(utility(name="Order update"), "invalid_name", E, "name", id="name_capitals_and_space"),
    pytest.param(utility(name="order-update"), "invalid_name", E, "name", id="name_hyphen"),
    pytest.param(utility(name="a" * 513), "name_too_long", E, "name", id="name_513"),
    pytest.param(without(utility(), "language"), "language_missing", E, "language", id="language_absent"),
    pytest.param(utility(language="english"), "invalid_language", E, "language", id="language_word"),
    pytest.param(utility(language="en-US"), "invalid_language", E, "language", id="language_hyphen"),
    pytest.param(without(utility(), "category"), "category_missing", E, "category", id="category_absent"),
    pytest.param(utility(category="PROMOTIONAL"), "invalid_category", E, "category", id="category_unknown"),
    pytest.param(
        utility(parameter_format="NUMBERED"), "invalid_parameter_format", E, "parameter_format", id="format_unknown"
    ),
    # components
    pytest.param(utility(components="BODY"), "invalid_components", E, "components", id="components_not_list"),
    pytest.param(utility(components=[None, BODY]), "invalid_component", E, "components.0", id="component_none"),
    pytest.param(utility(BODY, {"type": "SIDEBAR"}), "invalid_component", E, "components.1", id="component_unknown"),
    pytest.param(utility(BODY, BODY), "duplicate_component", E, "components.1", id="two_bodies"),
    # header
    pytest.param(utility({"type": "HEADER", "format": "GIF"}), "invalid_header_format", E, "header", id="header_gif"),
    pytest.param(utility({"type": "HEADER"}), "invalid_header_format", E, "header", id="header_no_format"),
    pytest.param(utility(header_text("")), "header_empty", E, "header", id="header_empty"),
    pytest.param(utility(header_text("h" * 61)), "header_too_long", E, "header", id="header_61"),
    pytest.param(
        utility(header_text("Order {{1}} for {{2}}", "#1", "Ana")),
        "header_too_many_variables",
        E,
        "header",
        id="header_two_variables",
    ),
    pytest.param(utility(header_text("Order {{1}}")), "missing_sample", E, "samples.header.1", id="header_no_sample"),
    pytest.param(
        utility(header_text("Order {{2}}", "#1")), "variables_not_sequential", E, "header", id="header_starts_at_2"
    ),
    pytest.param(utility(header_text("Order {{1}")), "malformed_variable", E, "header", id="header_malformed"),
    pytest.param(
        utility(header_text("Order", "#1")), "extra_sample", E, "samples.header", id="header_sample_no_variable"
    ),
    pytest.param(utility(header_media("IMAGE")), "missing_sample", E, "samples.header", id="image_no_sample"),
    pytest.param(utility(header_media("VIDEO", "")), "missing_sample", E, "samples.header", id="video_empty_sample"),
    pytest.param(
        utility({"type": "HEADER", "format": "DOCUMENT", "example": {"header_handle": "h"}}),
        "missing_sample",
        E,
        "samples.header",
        id="document_sample_not_list",
    ),
    # body: presence and length
    pytest.param(utility(components=[]), "body_missing", E, "body", id="body_absent"),
    pytest.param(utility(body("   ")), "body_empty", E, "body", id="body_blank"),
    pytest.param(utility({"type": "BODY", "text": ["Hi"]}), "body_empty", E, "body", id="body_text_not_text"),
    pytest.param(utility(body("b" * 1025)), "body_too_long", E, "body", id="body_1025"),
    # body: variables
    pytest.param(
        utility(body("Hi {{1}}, your order {{3}} ships today.", "Ana", "#1")),
        "variables_not_sequential",
        E,
        "body",
        id="gap_in_numbers",
    ),
    pytest.param(
        utility(body("Hi {{2}}, your order {{3}} ships today.", "Ana", "#1")),
        "variables_not_sequential",
        E,
        "body",
        id="not_starting_at_1",
    ),
    pytest.param(
        utility(body("Hi {{0}}, your order ships today as planned.", "Ana")),
        "variables_not_sequential",
        E,
        "body",
        id="starting_at_0",
    ),
    pytest.param(
        utility(body("Hi {{1}}, your order {{order_id}} ships today.", "Ana", "#1")),
        "variables_mixed",
        E,
        "body",
        id="mixed_styles",
    ),
    pytest.param(named(BODY), "variables_format_mismatch", E, "body", id="named_format_numbered_variables"),
    pytest.param(utility(NAMED_BODY), "variables_format_mismatch", E, "body", id="positional_format_named_variables"),
    pytest.param(
        utility(body("{{1}}, your order has shipped today as planned.", "Ana")),
        "variable_at_start",
        E,
        "body",
        id="starts_with_variable",
    ),
    pytest.param(
        utility(body("  {{1}}, your order has shipped today as planned.", "Ana")),
        "variable_at_start",
        E,
        "body",
        id="starts_with_variable_after_spaces",
    ),
    pytest.param(
        utility(body("Your order has shipped today as planned, {{1}}", "Ana")),
        "variable_at_end",
        E,
        "body",
        id="ends_with_variable",
    ),
    pytest.param(
        utility(body("Your order has shipped today as planned, {{1}}\n ", "Ana")),
        "variable_at_end",
        E,
        "body",
        id="ends_with_variable_before_whitespace",
    ),
    pytest.param(
        utility(body("Your order {{1}} {{2}} has shipped today as planned, thanks.", "#1", "Ana")),
        "variables_adjacent",
        E,
        "body",
        id="adjacent_with_space",
    ),
    pytest.param(
        utility(body("Your order {{1}}{{2}} has shipped today as planned, thanks.", "#1", "Ana")),
        "variables_adjacent",
        E,
        "body",
        id="adjacent_touching",
    ),
    pytest.param(
        utility(body("Hi {{1}}, order {{2}} ships today.", "Ana", "#1")),
        "too_many_variables",
        E,
        "body",
        id="four_words_for_two_variables",
    ),
    pytest.param(
        utility(body("Hi {{1}}, your order {{2}, ships today.", "Ana")),
        "malformed_variable",
        E,
        "body",
        id="one_closing_brace",
    ),
    pytest.param(
        utility(body("Hi {{ 1 }}, your order ships today.")), "malformed_variable", E, "body", id="spaces_in_braces"
    ),
    pytest.param(
        utility(body("Hi {{{1}}}, your order ships today.")), "malformed_variable", E, "body", id="triple_braces"
    ),
    pytest.param(
        utility(body("Hi {1}}, your order ships today.")), "malformed_variable", E, "body", id="one_opening_brace"
    ),
    pytest.param(
        named(named_body("Hi {{First_Name}}, your order ships today.", First_Name="Ana")),
        "invalid_parameter_name",
        E,
        "body",
        id="named_with_capitals",
    ),
    pytest.param(
        named(named_body("Hi {{_name}}, your order ships today.", _name="Ana")),
        "invalid_parameter_name",
        E,
        "body",
        id="named_starting_with_underscore",
    ),
    # samples
    pytest.param(
        utility(body("Hi {{1}}, your order {{2}} ships today.")),
        "missing_sample",
        E,
        "samples.body.1",
        id="no_samples",
    ),
    pytest.param(
        utility(body("Hi {{1}}, your order {{2}} ships today.", "Ana")),
        "missing_sample",
        E,
        "samples.body.2",
        id="one_sample_short",
    ),
    pytest.param(
        utility(body("Hi {{1}}, your order {{2}} ships today.", "Ana", " ")),
        "missing_sample",
        E,
        "samples.body.2",
        id="blank_sample",
    ),
    pytest.param(
        utility(body("Hi {{1}}, your order {{2}} ships today.", "Ana", 123)),
        "missing_sample",
        E,
        "samples.body.2",
        id="sample_not_text",
    ),
    pytest.param(
        utility({"type": "BODY", "text": BODY["text"], "example": {"body_text": ["Ana", "#1"]}}),
        "missing_sample",
        E,
        "samples.body.1",
        id="samples_not_nested",
    ),
    pytest.param(
        utility(body("Hi {{1}}, your order {{2}} ships today.", "Ana", "#1", "extra")),
        "extra_sample",
        E,
        "samples.body",
        id="one_sample_too_many",
    ),
    pytest.param(
        named(named_body(NAMED_BODY["text"], first_name="Ana")),
        "missing_sample",
        E,
        "samples.body.order_id",
        id="named_sample_missing",
    ),
    pytest.param(
        named(named_body(NAMED_BODY["text"], first_name="Ana", order_id="#1", city="Porto")),
        "extra_sample",
        E,
        "samples.body",
        id="named_sample_for_no_variable",
    ),
    # footer
    pytest.param(utility(footer("")), "footer_empty", E, "footer", id="footer_empty"),
    pytest.param(utility(footer("f" * 61)), "footer_too_long", E, "footer", id="footer_61"),
    pytest.param(utility(footer("Thanks {{1}}")), "footer_has_variables", E, "footer", id="footer_variable"),
    pytest.param(utility(footer("Thanks {{1}")), "malformed_variable", E, "footer", id="footer_malformed"),
    # buttons: counts and grouping
    pytest.param(utility(buttons()), "buttons_empty", E, "buttons", id="no_buttons"),
    pytest.param(utility({"type": "BUTTONS"}), "buttons_empty", E, "buttons", id="buttons_absent"),
    pytest.param(
        utility(buttons(*(quick_reply(f"Option {n}") for n in range(11)))),
        "too_many_buttons",
        E,
        "buttons",
        id="11_buttons",
    ),
    pytest.param(
        utility(buttons(*(quick_reply(f"Option {n}") for n in range(11)))),
        "too_many_quick_replies",
        E,
        "buttons",
        id="11_quick_replies",
    ),
    pytest.param(
        utility(buttons(url_button(text="A"), url_button(text="B"), url_button(text="C"))),
        "too_many_url_buttons",
        E,
        "buttons",
        id="3_url_buttons",
    ),
    pytest.param(
        utility(buttons(phone_button(text="Shop"), phone_button(text="Office"))),
        "too_many_phone_buttons",
        E,
        "buttons",
        id="2_phone_buttons",
    ),
    pytest.param(
        marketing(OPT_OUT_FOOTER, buttons(copy_code("A1"), copy_code("B2"))),
        "too_many_copy_code_buttons",
        E,
        "buttons",
        id="2_copy_code_buttons",
    ),
    pytest.param(
        utility(buttons(quick_reply("Yes"), url_button(), quick_reply("No"))),
        "buttons_mixed",
        E,
        "buttons",
        id="quick_replies_around_url",
    ),
    pytest.param(
        utility(buttons(url_button(), quick_reply("Yes"), phone_button())),
        "buttons_mixed",
        E,
        "buttons",
        id="quick_reply_between_calls_to_action",
    ),
    # buttons: each button
    pytest.param(utility(buttons({"type": "LINK", "text": "Go"})), "invalid_button_type", E, "buttons.0", id="link"),
    pytest.param(utility(buttons("Yes")), "invalid_button_type", E, "buttons.0", id="button_is_text"),
    pytest.param(utility(buttons(quick_reply(""))), "button_text_missing", E, "buttons.0", id="button_no_text"),
    pytest.param(utility(buttons(quick_reply("b" * 26))), "button_text_too_long", E, "buttons.0", id="button_26"),
    pytest.param(
        utility(buttons(quick_reply("Yes"), quick_reply("yes "))),
        "duplicate_button_text",
        E,
        "buttons.1",
        id="same_text_twice",
    ),
    pytest.param(utility(buttons(url_button(""))), "button_url_missing", E, "buttons.0", id="url_missing"),
    pytest.param(
        utility(buttons(url_button("shop.example/track", example=None))),
        "invalid_button_url",
        E,
        "buttons.0",
        id="url_without_scheme",
    ),
    pytest.param(
        utility(buttons(url_button("https://{{1}}"))), "invalid_button_url", E, "buttons.0", id="url_variable_host"
    ),
    pytest.param(
        utility(buttons(url_button(LONG_URL_PREFIX + "u" * (2001 - len(LONG_URL_PREFIX)), example=None))),
        "url_too_long",
        E,
        "buttons.0",
        id="url_2001",
    ),
    pytest.param(
        utility(buttons(url_button("https://shop.example/{{1}}/track"))),
        "url_variable_not_at_end",
        E,
        "buttons.0",
        id="url_variable_in_middle",
    ),
    pytest.param(
        utility(buttons(url_button("https://shop.example/track/{{2}}"))),
        "url_variable_not_at_end",
        E,
        "buttons.0",
        id="url_variable_not_1",
    ),
    pytest.param(
        utility(buttons(url_button("https://shop.example/{{1}}/{{1}}"))),
        "url_variable_not_at_end",
        E,
        "buttons.0",
        id="url_two_variables",
    ),
    pytest.param(
        utility(buttons(url_button("https://shop.example/track/{{1}", example=None))),
        "malformed_variable",
        E,
        "buttons.0",
        id="url_malformed_variable",
    ),
    pytest.param(
        utility(buttons(url_button(example=None))), "missing_sample", E, "samples.buttons.0", id="url_no_example"
    ),
    pytest.param(
        utility(buttons(quick_reply(), url_button(example=[""]))),
        "missing_sample",
        E,
        "samples.buttons.1",
        id="url_empty_example",
    ),
    pytest.param(
        utility(buttons(phone_button("15550001111"))), "invalid_phone_number", E, "buttons.0", id="phone_without_plus"
    ),
    pytest.param(
        utility(buttons(phone_button("+1 555 000 1111"))), "invalid_phone_number", E, "buttons.0", id="phone_spaces"
    ),
    pytest.param(utility(buttons(phone_button(None))), "invalid_phone_number", E, "buttons.0", id="phone_missing"),
    pytest.param(
        utility(buttons(phone_button("+" + "1" * 20))), "phone_number_too_long", E, "buttons.0", id="phone_21"
    ),
    pytest.param(
        marketing(OPT_OUT_FOOTER, buttons(copy_code(None))),
        "missing_sample",
        E,
        "samples.buttons.0",
        id="copy_code_no_example",
    ),
    pytest.param(
        marketing(OPT_OUT_FOOTER, buttons(copy_code("C" * 16))),
        "copy_code_too_long",
        E,
        "buttons.0",
        id="copy_code_16",
    ),
    pytest.param(utility(buttons(otp())), "otp_button_not_allowed", E, "buttons.0", id="otp_in_utility"),
    # authentication: the fixed shape
    pytest.param(
        authentication(header_text("Your code"), buttons(otp())), "authentication_header", E, "header", id="auth_header"
    ),
    pytest.param(
        authentication(header_media("IMAGE", "h"), buttons(otp())),
        "authentication_header",
        E,
        "header",
        id="auth_media_header",
    ),
    pytest.param(
        authentication(body("Your code is {{1}}, do not share it.", "123456"), buttons(otp())),
        "authentication_custom_text",
        E,
        "body",
        id="auth_body_text",
    ),
    pytest.param(
        authentication(footer("Expires soon"), buttons(otp())),
        "authentication_custom_text",
        E,
        "footer",
        id="auth_footer_text",
    ),
    pytest.param(authentication(components=[]), "body_missing", E, "body", id="auth_no_body"),
    pytest.param(authentication(), "authentication_otp_button", E, "buttons", id="auth_no_buttons"),
    pytest.param(
        authentication(buttons(otp(), otp())), "authentication_otp_button", E, "buttons", id="auth_two_otp_buttons"
    ),
    pytest.param(
        authentication(buttons(otp(), url_button())),
        "authentication_other_button",
        E,
        "buttons.1",
        id="auth_url_button",
    ),
    pytest.param(
        authentication(buttons(phone_button())),
        "authentication_other_button",
        E,
        "buttons.0",
        id="auth_phone_button_only",
    ),
    pytest.param(authentication(buttons(otp("SMS"))), "invalid_otp_type", E, "buttons.0", id="otp_type_unknown"),
    pytest.param(authentication(buttons(otp(None))), "invalid_otp_type", E, "buttons.0", id="otp_type_missing"),
    pytest.param(authentication(buttons(otp("ONE_TAP"))), "otp_app_missing", E, "buttons.0", id="one_tap_no_app"),
    pytest.param(
        authentication(buttons(otp("ONE_TAP", supported_apps=[{"package_name": "com.shop.app"}]))),
        "otp_app_missing",
        E,
        "buttons.0",
        id="one_tap_no_signature",
    ),
    pytest.param(
        authentication({"type": "BODY", "add_security_recommendation": "yes"}, buttons(otp())),
        "invalid_security_recommendation",
        E,
        "body",
        id="security_recommendation_not_bool",
    ),
    pytest.param(
        authentication({"type": "FOOTER", "code_expiration_minutes": 91}, buttons(otp())),
        "invalid_code_expiration",
        E,
        "footer",
        id="expiry_91",
    ),
    pytest.param(
        authentication({"type": "FOOTER", "code_expiration_minutes": 0}, buttons(otp())),
        "invalid_code_expiration",
        E,
        "footer",
        id="expiry_0",
    ),
    pytest.param(
        authentication({"type": "FOOTER", "code_expiration_minutes": "10"}, buttons(otp())),
        "invalid_code_expiration",
        E,
        "footer",
        id="expiry_text",
    ),
    # category hints
    pytest.param(
        utility(body("Hi {{1}}, your order ships today with 20% off your next one.", "Ana")),
        "promotional_in_utility",
        W,
        "body",
        id="percent_off_in_body",
    ),
    pytest.param(
        utility(header_text("Big SALE today")), "promotional_in_utility", W, "header", id="sale_in_header_any_case"
    ),
    pytest.param(
        utility(footer("Free delivery on every order")), "promotional_in_utility", W, "footer", id="free_in_footer"
    ),
    pytest.param(
        utility(buttons(quick_reply("Shop now"))), "promotional_in_utility", W, "buttons.0", id="shop_now_button"
    ),
    pytest.param(
        utility(body("Hi {{1}}, use promo code SUMMER for your order.", "Ana")),
        "promotional_in_utility",
        W,
        "body",
        id="promo_code",
    ),
    pytest.param(
        authentication(buttons(otp(text="Get free code"))),
        "promotional_in_authentication",
        W,
        "buttons.0",
        id="free_in_otp_button",
    ),
    pytest.param(
        marketing(body("Hi {{1}}, our summer collection is here for you.", "Ana")),
        "marketing_without_opt_out",
        W,
        "footer",
        id="marketing_no_opt_out",
    ),
    pytest.param(
        marketing(body("Hi {{1}}, book a stopover on your summer trip.", "Ana")),
        "marketing_without_opt_out",
        W,
        "footer",
        id="stopover_is_not_stop",
    ),
]


@pytest.mark.parametrize(("draft", "code", "severity", "part"), FINDS)
def test_finding(draft, code, severity, part):
    assert (code, severity, part) in found(lint_template(draft))


# Just inside each limit, and the shapes WhatsApp accepts that look close to a rejected one.
ALLOWED = [
    pytest.param(utility(name="a" * 512), "name_too_long", id="name_512"),
    pytest.param(utility(name="order_update_2"), "invalid_name", id="name_with_digits"),
    pytest.param(utility(language="en"), "invalid_language", id="language_en"),
    pytest.param(utility(language="pt_BR"), "invalid_language", id="language_pt_BR"),
    pytest.param(utility(language="fil"), "invalid_language", id="language_fil"),
    pytest.param(utility(header_text("h" * 60)), "header_too_long", id="header_60"),
    pytest.param(utility(body("b" * 1024)), "body_too_long", id="body_1024"),
    pytest.param(utility(footer("f" * 60)), "footer_too_long", id="footer_60"),
    pytest.param(utility(buttons(quick_reply("b" * 25))), "button_text_too_long", id="button_25"),
    pytest.param(
        utility(buttons(*(quick_reply(f"Option {n}") for n in range(10)))), "too_many_buttons", id="10_buttons"
    ),
    pytest.param(
        utility(buttons(*(quick_reply(f"Option {n}") for n in range(10)))),
        "too_many_quick_replies",
        id="10_quick_replies",
    ),
    pytest.param(
        utility(buttons(url_button(text="A"), url_button(text="B"))), "too_many_url_buttons", id="2_url_buttons"
    ),
    pytest.param(
        utility(buttons(url_button(LONG_URL_PREFIX + "u" * (2000 - len(LONG_URL_PREFIX)), example=None))),
        "url_too_long",
        id="url_2000",
    ),
    pytest.param(utility(buttons(phone_button("+" + "1" * 19))), "phone_number_too_long", id="phone_20"),
    pytest.param(marketing(buttons(copy_code("C" * 15))), "copy_code_too_long", id="copy_code_15"),
    pytest.param(
        utility(buttons(quick_reply("Yes"), quick_reply("No"), url_button())), "buttons_mixed", id="replies_first"
    ),
    pytest.param(
        utility(buttons(url_button(), phone_button(), quick_reply("Yes"), quick_reply("No"))),
        "buttons_mixed",
        id="replies_last",
    ),
    pytest.param(
        utility(body("Your order has shipped today as planned, {{1}}.", "Ana")), "variable_at_end", id="ends_with_dot"
    ),
    pytest.param(
        utility(body("Your order {{1}}, {{2}} has shipped today as planned.", "#1", "Ana")),
        "variables_adjacent",
        id="comma_between_variables",
    ),
    pytest.param(
        utility(body("Hi {{1}}, your order {{1}} ships today as you asked.", "Ana")),
        "variables_not_sequential",
        id="same_variable_twice",
    ),
    pytest.param(
        utility(body("Your order {{2}} for {{1}} ships today as you asked.", "Ana", "#1")),
        "variables_not_sequential",
        id="numbers_out_of_order",
    ),
    pytest.param(utility(BODY), "too_many_variables", id="five_words_for_two_variables"),
    pytest.param(utility(body("Use {curly} braces freely, they are text.")), "malformed_variable", id="single_braces"),
    pytest.param(utility(buttons(url_button("https://shop.example/track", example=None))), "missing_sample", id="url"),
    pytest.param(authentication(AUTH_FOOTER, buttons(otp())), "invalid_code_expiration", id="expiry_10"),
    pytest.param(
        authentication({"type": "FOOTER", "code_expiration_minutes": 90}, buttons(otp())),
        "invalid_code_expiration",
        id="expiry_90",
    ),
    pytest.param(
        authentication({"type": "FOOTER", "code_expiration_minutes": 1}, buttons(otp())),
        "invalid_code_expiration",
        id="expiry_1",
    ),
    pytest.param(
        authentication(buttons(otp("ONE_TAP", package_name="com.shop.app", signature_hash="K8a/AINcGX7"))),
        "otp_app_missing",
        id="one_tap_app_on_button",
    ),
    pytest.param(
        utility(body("Hi {{1}}, your freedom to choose an offering is kept.", "Ana")),
        "promotional_in_utility",
        id="freedom_offering_not_whole_words",
    ),
    pytest.param(
        utility(body("Hi {{1}}, feel free to call our toll-free number.", "Ana")),
        "promotional_in_utility",
        id="feel_free_toll_free",
    ),
    pytest.param(
        marketing(body("Hi {{1}}, our summer sale is here: 20% off.", "Ana"), buttons(quick_reply("Stop promotions"))),
        "marketing_without_opt_out",
        id="stop_quick_reply",
    ),
    pytest.param(
        marketing(body("Hi {{1}}, our summer sale is here. Reply UNSUBSCRIBE to leave.", "Ana")),
        "marketing_without_opt_out",
        id="unsubscribe_in_body",
    ),
    pytest.param(
        marketing(body("Hi {{1}}, our summer sale is here, with a discount.", "Ana")),
        "promotional_in_utility",
        id="promotional_in_marketing",
    ),
]


@pytest.mark.parametrize(("draft", "code"), ALLOWED)
def test_allowed(draft, code):
    assert code not in {finding.code for finding in lint_template(draft)}


@pytest.mark.parametrize(
    ("existing", "duplicate"),
    [
        ({("order_update", "en_US")}, True),
        ({("order_update", "en-us")}, True),
        ({("order_update", "EN_us")}, True),
        ({("order_update", "pt_BR")}, False),
        ({("order_update", "en")}, False),
        ({("Order_update", "en_US")}, False),
        ({("shipping_update", "en_US")}, False),
        (set(), False),
    ],
)
def test_duplicate_name_and_language(existing, duplicate):
    findings = lint_template(CLEAN_POSITIONAL, existing_name_languages=frozenset(existing))
    assert (("duplicate_name_language", "error", "name") in found(findings)) is duplicate


# --- messages, order, severity ---------------------------------------------------------------------------------------


def test_promotional_warning_names_the_words_found():
    findings = lint_template(utility(body("Hi {{1}}, get a FREE gift and a great deal today.", "Ana")))
    [warning] = [finding for finding in findings if finding.code == "promotional_in_utility"]
    assert "“free”" in warning.message
    assert "“deal”" in warning.message
    assert "marketing" in warning.message


def test_errors_come_first_then_in_the_order_of_the_template():
    draft = utility(
        body("Hi {{1}}, enjoy free shipping on order {{2}} today.", "Ana"),
        buttons(quick_reply("Yes"), quick_reply("b" * 26)),
        name="Bad Name",
    )
    findings = lint_template(draft)
    assert [(finding.severity, finding.part) for finding in findings] == [
        ("error", "name"),
        ("error", "samples.body.2"),
        ("error", "buttons.1"),
        ("warning", "body"),
    ]


def test_has_errors():
    assert has_errors(lint_template(utility(name="")))
    assert not has_errors(lint_template(utility(footer("Free returns on every order"))))
    assert not has_errors([])


BROKEN_DRAFTS = [
    utility(name="X", language="", category="", parameter_format=1),
    utility(header_text("Order {{1}} {{2}}"), body("{{1}}{{3}}"), footer("{{1}}"), buttons(*[otp()] * 12)),
    authentication(header_text("x"), body("x"), footer("x"), buttons(url_button(), phone_button(""), otp("X"))),
    marketing(buttons(url_button("ftp://x/{{1}}/{{2}"), copy_code(""), quick_reply(""), {"type": "FLOW"})),
]


@pytest.mark.parametrize("draft", BROKEN_DRAFTS)
def test_every_message_is_one_plain_sentence(draft):
    findings = lint_template(draft)
    assert findings
    for finding in findings:
        assert isinstance(finding, Finding)
        assert finding.message.endswith("."), finding
        assert "%(" not in finding.message, finding


# --- untrusted input never raises ------------------------------------------------------------------------------------

GARBAGE = [
    None,
    "order_update",
    42,
    [],
    {},
    {"components": None},
    {"components": "BODY"},
    {"components": {"type": "BODY"}},
    {"components": [None, 5, "BODY", [], {}, {"type": 5}, {"type": None}]},
    {"name": 5, "language": [], "category": {}, "parameter_format": ["NAMED"], "components": []},
    utility({"type": "BODY", "text": None, "example": "Ana"}),
    utility({"type": "BODY", "text": 5, "example": {"body_text": "Ana"}}),
    utility(body("Hi {{1}}, your order {{2}} ships.", None, ["x"])),
    utility({"type": "BODY", "text": "Hi {{1}}, your order ships.", "example": {"body_text": [None]}}),
    named({"type": "BODY", "text": NAMED_BODY["text"], "example": {"body_text_named_params": [None, "x", {}]}}),
    utility({"type": "HEADER", "format": 5, "text": 5}),
    utility({"type": "HEADER", "format": "TEXT", "text": None, "example": None}),
    utility({"type": "HEADER", "format": "IMAGE", "example": {"header_handle": [None]}}),
    utility({"type": "FOOTER", "text": {}}),
    utility({"type": "BUTTONS", "buttons": None}),
    utility({"type": "BUTTONS", "buttons": "QUICK_REPLY"}),
    utility({"type": "BUTTONS", "buttons": [None, 1, "x", [], {}, {"type": None}, {"type": "URL", "url": 5}]}),
    utility(buttons({"type": "URL", "text": None, "url": None, "example": {}})),
    utility(buttons({"type": "PHONE_NUMBER", "phone_number": 15550001111})),
    utility(buttons({"type": "COPY_CODE", "example": ["SAVE20", None]})),
    authentication({"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": 5, "supported_apps": "x"}]}),
    authentication({"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "ONE_TAP", "supported_apps": [5]}]}),
    authentication({"type": "FOOTER", "code_expiration_minutes": True}),
]


@pytest.mark.parametrize("draft", GARBAGE)
def test_garbage_is_reported_never_raised(draft):
    findings = lint_template(draft)
    assert has_errors(findings)
    assert all(isinstance(finding, Finding) for finding in findings)
    render(draft)


def _paths(value, path=()):
    """Every place in a nested draft a value can be swapped out."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def _replaced(draft, path, replacement):
    if not path:
        return replacement
    draft = copy.deepcopy(draft)
    target = draft
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = replacement
    return draft


REPLACEMENTS = [None, 0, True, "", "x", [], {}, [None], {"type": None}]


@pytest.mark.parametrize("draft", CLEAN_TEMPLATES.values(), ids=CLEAN_TEMPLATES.keys())
def test_any_value_swapped_for_garbage_never_raises(draft):
    for path in _paths(draft):
        for replacement in REPLACEMENTS:
            broken = _replaced(draft, path, replacement)
            lint_template(broken)
            render(broken, {"body": {"1": "Bea"}, "buttons.0": None})


@pytest.mark.parametrize("values", [None, "x", {"body": None}, {"body": {"1": None}}, {"body": ["Bea"]}])
def test_render_ignores_unreadable_values(values):
    assert render(CLEAN_POSITIONAL, values)["body"] == "Hi Ana, your order #123 ships today."


# --- placeholders ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi {{1}}, your order {{2}} ships.", ["1", "2"]),
        ("{{2}} before {{1}}", ["2", "1"]),
        ("{{1}} and {{1}} again", ["1", "1"]),
        ("Hi {{first_name}}, order {{order_id2}}", ["first_name", "order_id2"]),
        ("No variables here", []),
        ("{{ 1 }} {{1} {1}} {{{1}}} {{First}} {{}} {{1a}}", []),
        ("", []),
        (None, []),
    ],
)
def test_placeholders(text, expected):
    assert placeholders(text) == expected


# --- render ----------------------------------------------------------------------------------------------------------


def test_render_fills_the_samples():
    assert render(CLEAN_POSITIONAL) == {
        "header": "Order #123",
        "header_format": "TEXT",
        "header_media": None,
        "body": "Hi Ana, your order #123 ships today.",
        "footer": "Questions? Reply to this message",
        "buttons": [
            {"type": "QUICK_REPLY", "text": "Yes"},
            {"type": "QUICK_REPLY", "text": "No"},
            {"type": "URL", "text": "Track", "url": "https://shop.example/track/123"},
            {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+15550001111"},
        ],
    }


def test_render_prefers_the_given_values_and_falls_back_to_samples():
    preview = render(CLEAN_POSITIONAL, {"header": {"1": "#9"}, "body": {"1": "Bea"}, "buttons.2": {"1": "9"}})
    assert preview["header"] == "Order #9"
    assert preview["body"] == "Hi Bea, your order #123 ships today."
    assert preview["buttons"][2]["url"] == "https://shop.example/track/9"


def test_render_named_parameters():
    assert render(CLEAN_NAMED)["header"] == "Order #123"
    assert render(CLEAN_NAMED, {"body": {"first_name": "Bea"}})["body"] == "Hi Bea, your order #123 ships today."


def test_render_keeps_a_variable_without_value_or_sample():
    assert render(utility(body("Hi {{1}}, your order {{2}} ships today.", "Ana")))["body"] == (
        "Hi Ana, your order {{2}} ships today."
    )


def test_render_media_header_and_copy_code():
    preview = render(CLEAN_MEDIA_MARKETING)
    assert (preview["header"], preview["header_format"], preview["header_media"]) == (
        None,
        "IMAGE",
        "https://cdn.example/summer.jpg",
    )
    assert preview["footer"] == "Reply STOP to opt out"
    assert preview["buttons"] == [
        {"type": "URL", "text": "Shop", "url": "https://shop.example/summer"},
        {"type": "COPY_CODE", "text": "Copy offer code"},
    ]


def test_render_authentication_shows_whatsapps_fixed_text():
    preview = render(CLEAN_AUTHENTICATION_COPY_CODE, {"body": {"1": "123456"}})
    assert preview["header"] is None
    assert preview["body"] == "123456 is your verification code. For your security, do not share this code."
    assert preview["footer"] == "This code expires in 10 minutes."
    assert preview["buttons"] == [{"type": "OTP", "text": "Copy code"}]
    assert render(CLEAN_AUTHENTICATION_ONE_TAP)["buttons"] == [{"type": "OTP", "text": "Autofill"}]
    assert render(CLEAN_AUTHENTICATION_ONE_TAP)["footer"] is None


def test_render_garbage_is_an_empty_preview():
    assert render(None) == {
        "header": None,
        "header_format": None,
        "header_media": None,
        "body": "",
        "footer": None,
        "buttons": [],
    }
