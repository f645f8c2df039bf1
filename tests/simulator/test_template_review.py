"""Template rules as tables, no database: creation checks, the review, sendability, edit limits, and the
parameters of a template message against the approved template."""

from datetime import UTC, datetime

import pytest

from simulator import template_review
from simulator.errors import GraphError
from simulator.template_review import review
from simulator.template_validation import check_send, parse_create, parse_edit

DAY = 86400.0


def body(text, example=None, **extra):
    component = {"type": "BODY", "text": text, **extra}
    if example is not None:
        component["example"] = {"body_text": [example]}
    return component


def create(**overrides):
    request = {
        "name": "order_update",
        "language": "en_US",
        "category": "UTILITY",
        "components": [body("Hi {{1}}, your order {{2}} ships today.", ["Ana", "#1042"])],
    }
    request.update(overrides)
    return request


# Creation (synchronous checks)


def test_create_normalises_like_meta():
    draft = parse_create(
        create(
            category="utility",
            parameter_format="named",
            allow_category_change="true",
            components=[
                {"type": "header", "format": "text", "text": "Your order"},
                body("Hi {{first_name}}, thanks for shopping with us today."),
                {"type": "footer", "text": "Reply STOP to opt out"},
                {
                    "type": "buttons",
                    "buttons": [
                        {"type": "phone_number", "text": "Call", "phone_number": "59898400766"},
                        {"type": "url", "text": "Track", "url": "https://example.com/t/{{1}}", "example": ["a"]},
                        {"type": "quick_reply", "text": "Thanks"},
                    ],
                },
            ],
        )
    )
    assert (draft.category, draft.parameter_format, draft.allow_category_change) == ("UTILITY", "NAMED", True)
    assert [c["type"] for c in draft.components] == ["HEADER", "BODY", "FOOTER", "BUTTONS"]
    assert draft.components[0]["format"] == "TEXT"
    buttons = draft.components[3]["buttons"]
    assert [b["type"] for b in buttons] == ["PHONE_NUMBER", "URL", "QUICK_REPLY"]
    # RB: sent 59898400766, stored +59898400766.
    assert buttons[0]["phone_number"] == "+59898400766"
    assert draft.language == "en_US"


def test_authentication_templates_take_metas_shape():
    draft = parse_create(
        create(
            name="login_code",
            category="AUTHENTICATION",
            components=[
                {"type": "BODY", "add_security_recommendation": True},
                {"type": "FOOTER", "code_expiration_minutes": 10},
                {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "copy_code", "text": "Copy Code"}]},
            ],
        )
    )
    assert draft.components[2]["buttons"][0]["otp_type"] == "COPY_CODE"


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"name": None}, "The parameter name is required."),
        ({"name": "Order_Update"}, "lowercase letters, digits and underscores"),
        ({"name": "order-update"}, "lowercase letters, digits and underscores"),
        ({"name": "a" * 513}, "at most 512 characters"),
        ({"category": "TRANSACTIONAL"}, "MARKETING, UTILITY, AUTHENTICATION"),
        ({"language": "english please"}, "is not a language code"),
        ({"components": []}, "non-empty array"),
        ({"components": [{"type": "FOOTER", "text": "x"}]}, "needs a BODY"),
        ({"components": [{"type": "BODY", "text": "a"}, {"type": "BODY", "text": "b"}]}, "at most one BODY"),
        ({"components": [{"type": "CAROUSEL"}]}, "HEADER, BODY, FOOTER, BUTTONS"),
        ({"components": [{"type": "BODY", "text": "x" * 1025}]}, "the limit is 1024"),
        (
            {"components": [{"type": "HEADER", "format": "TEXT", "text": "h" * 61}, body("Hello there")]},
            "the limit is 60",
        ),
        ({"components": [{"type": "HEADER", "format": "GIF"}, body("Hello there")]}, "TEXT, IMAGE, VIDEO"),
        ({"parameter_format": "numbered"}, "named or positional"),
        ({"allow_category_change": "maybe"}, "must be a boolean"),
        (
            {
                "components": [
                    body("Hello there"),
                    {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Go", "url": "ftp://x"}]},
                ]
            },
            "http(s) url",
        ),
        (
            {
                "components": [
                    body("Hello there"),
                    {
                        "type": "BUTTONS",
                        "buttons": [{"type": "URL", "text": "Go", "url": f"https://x/{i}"} for i in range(3)],
                    },
                ]
            },
            "at most 2 URL buttons",
        ),
        (
            {
                "components": [
                    body("Hello there"),
                    {"type": "BUTTONS", "buttons": [{"type": "PHONE_NUMBER", "text": "Call", "phone_number": "call"}]},
                ]
            },
            "phone_number with country code",
        ),
        (
            {
                "components": [
                    body("Hello there"),
                    {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "x" * 26}]},
                ]
            },
            "1 to 25 characters",
        ),
        (
            {
                "components": [
                    body("Hello there"),
                    {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]},
                ]
            },
            "OTP buttons belong to AUTHENTICATION",
        ),
        ({"category": "AUTHENTICATION", "components": [{"type": "BODY"}]}, "needs a BUTTONS component with an OTP"),
    ],
)
def test_create_refusals_are_code_100_with_a_sentence_for_people(overrides, fragment):
    with pytest.raises(GraphError) as caught:
        parse_create(create(**overrides))
    error = caught.value.envelope()["error"]
    assert (error["code"], error["message"], error["is_transient"]) == (100, "Invalid parameter", False)
    assert fragment in error["error_user_msg"]
    assert error["error_user_title"]


def test_edit_keeps_the_identity_of_the_template():
    identity = {"name": "order_update", "language": "en_US", "category": "UTILITY", "parameter_format": "POSITIONAL"}
    edit = parse_edit({"components": [body("Hello again, friend")], "name": "order_update"}, **identity)
    assert edit.components[0]["type"] == "BODY" and edit.category is None
    assert parse_edit({"category": "marketing"}, **identity).category == "MARKETING"
    for bad in ({"name": "other"}, {"language": "pt_BR"}, {"parameter_format": "named"}, {}):
        with pytest.raises(GraphError):
            parse_edit({"components": [body("Hello again")], **bad} if bad else bad, **identity)


# The review


APPROVED = ("approved", "UTILITY", "NONE")


def decide(components, *, category="UTILITY", parameter_format="POSITIONAL", allow_category_change=False):
    decision = review(
        category=category,
        components=components,
        parameter_format=parameter_format,
        allow_category_change=allow_category_change,
    )
    return ("approved" if decision.approved else "rejected", decision.category, decision.reason)


@pytest.mark.parametrize(
    ("components", "expected"),
    [
        ([body("Hi {{1}}, your order {{2}} ships today.", ["Ana", "#1"])], APPROVED),
        ([body("Your order has shipped. Feel free to reply with questions.")], APPROVED),
        ([body("Your password was changed. If this was not you, call us.")], APPROVED),
        # Variables: in sequence from 1, not at the edges, not side by side, each with an example.
        (
            [body("Hi {{1}}, your order {{3}} ships today.", ["Ana", "#1", "x"])],
            ("rejected", "UTILITY", "INVALID_FORMAT"),
        ),
        ([body("{{1}}, your order ships today from our store.", ["Ana"])], ("rejected", "UTILITY", "INVALID_FORMAT")),
        ([body("Your order ships today, dear {{1}}", ["Ana"])], ("rejected", "UTILITY", "INVALID_FORMAT")),
        ([body("Hi, your order {{1}} {{2}} ships today.", ["a", "b"])], ("rejected", "UTILITY", "INVALID_FORMAT")),
        ([body("Hi {{1}}, your order ships today.")], ("rejected", "UTILITY", "INVALID_FORMAT")),
        ([body("Hi {{1}}, your order {{2}} ships today.", ["Ana"])], ("rejected", "UTILITY", "INVALID_FORMAT")),
        ([body("Hi {{1}} and {{2}} and {{3}}.", ["a", "b", "c"])], ("rejected", "UTILITY", "INVALID_FORMAT")),
        ([body("Hi {{name}}, your order ships today.", ["Ana"])], ("rejected", "UTILITY", "INVALID_FORMAT")),
        (
            [{"type": "HEADER", "format": "TEXT", "text": "{{1}} and {{2}}"}, body("Your order ships today.")],
            ("rejected", "UTILITY", "INVALID_FORMAT"),
        ),
        (
            [{"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"}, body("Your order ships today.")],
            ("rejected", "UTILITY", "INVALID_FORMAT"),
        ),
        (
            [
                {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": {"header_text": ["#1"]}},
                body("Your order ships today."),
            ],
            APPROVED,
        ),
        (
            [body("Your order ships today."), {"type": "FOOTER", "text": "Ref {{1}}"}],
            ("rejected", "UTILITY", "INVALID_FORMAT"),
        ),
        (
            [
                body("Your order ships today."),
                {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Go", "url": "https://x.com/{{1}}/track"}]},
            ],
            ("rejected", "UTILITY", "INVALID_FORMAT"),
        ),
        (
            [
                body("Your order ships today."),
                {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Go", "url": "https://x.com/{{1}}"}]},
            ],
            ("rejected", "UTILITY", "INVALID_FORMAT"),
        ),
        (
            [
                body("Your order ships today."),
                {
                    "type": "BUTTONS",
                    "buttons": [
                        {"type": "URL", "text": "Go", "url": "https://x.com/{{1}}", "example": ["https://x.com/a"]}
                    ],
                },
            ],
            APPROVED,
        ),
        # Wording.
        ([body("Big sale! 50% off everything this weekend.")], ("rejected", "UTILITY", "INCORRECT_CATEGORY")),
        ([body("Use coupon SAVE10 on your next order.")], ("rejected", "UTILITY", "INCORRECT_CATEGORY")),
        ([body("Your order shipped. Buy now and get free delivery!")], ("rejected", "UTILITY", "INCORRECT_CATEGORY")),
        ([body("You stupid customer, pay your bill.")], ("rejected", "UTILITY", "ABUSIVE_CONTENT")),
        ([body("Reply with your password to unlock your account.")], ("rejected", "UTILITY", "SCAM")),
        ([body("Please confirm your card number and CVV here.")], ("rejected", "UTILITY", "SCAM")),
        ([body("What is your PIN? We need it to verify you.")], ("rejected", "UTILITY", "SCAM")),
    ],
)
def test_review(components, expected):
    assert decide(components) == expected


def test_promotional_text_is_fine_in_marketing():
    assert decide([body("Big sale! 50% off everything this weekend.")], category="MARKETING") == (
        "approved",
        "MARKETING",
        "NONE",
    )


def test_allow_category_change_approves_promotional_utility_as_marketing():
    promo = [body("Our spring offer: a discount on every order.")]
    assert decide(promo, allow_category_change=True) == ("approved", "MARKETING", "NONE")


def test_promotional_authentication_templates_are_promotional():
    components = [
        {"type": "BODY", "add_security_recommendation": True},
        {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Get 20% off"}]},
    ]
    assert decide(components, category="AUTHENTICATION") == ("rejected", "AUTHENTICATION", "PROMOTIONAL")
    components[1]["buttons"][0]["text"] = "Copy code"
    assert decide(components, category="AUTHENTICATION") == ("approved", "AUTHENTICATION", "NONE")


def test_named_templates_need_named_examples():
    text = "Hi {{first_name}}, your order {{order_id}} ships today."
    named = {"body_text_named_params": [{"param_name": "first_name", "example": "Ana"}]}
    assert decide([{"type": "BODY", "text": text, "example": named}], parameter_format="NAMED")[2] == "INVALID_FORMAT"
    named["body_text_named_params"].append({"param_name": "order_id", "example": "#1"})
    assert decide([{"type": "BODY", "text": text, "example": named}], parameter_format="NAMED") == APPROVED
    assert decide([body("Hi {{1}}, your order ships today.", ["Ana"])], parameter_format="NAMED")[2] == "INVALID_FORMAT"


def test_rejections_explain_themselves():
    decision = review(
        category="UTILITY",
        components=[body("{{1}}, your order ships today from our store.", ["Ana"])],
        parameter_format="POSITIONAL",
        allow_category_change=False,
    )
    assert decision.explanation == "The body starts or ends with a variable."
    assert decision.recommendation


# Sending and editing


@pytest.mark.parametrize(
    ("status", "has_approved_version", "code"),
    [
        ("APPROVED", True, None),
        ("FLAGGED", True, None),
        ("REINSTATED", True, None),
        # An edit of an approved template in review: the approved version goes out.
        ("PENDING", True, None),
        ("PENDING", False, 132001),
        ("REJECTED", False, 132001),
        ("IN_APPEAL", False, 132001),
        ("PAUSED", True, 132015),
        ("DISABLED", True, 132016),
        ("ARCHIVED", True, 132001),
    ],
)
def test_send_refusal(status, has_approved_version, code):
    assert template_review.send_refusal(status, has_approved_version=has_approved_version) == code


NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("edit_times", "allowed"),
    [
        ([], True),
        ([NOW - DAY + 1], False),
        ([NOW - DAY], True),
        ([NOW - DAY * (i + 1.5) for i in range(9)], True),
        ([NOW - DAY * (i + 1.5) for i in range(10)], False),
        ([NOW - DAY * (i + 21) for i in range(10)], True),  # older than 30 days are forgotten
    ],
)
def test_approved_edit_limits(edit_times, allowed):
    assert (template_review.approved_edit_refusal(edit_times, now=NOW) is None) is allowed


def test_edit_history_keeps_30_days():
    assert template_review.approved_edit_times_after([NOW - 31 * DAY, NOW - 2 * DAY], now=NOW) == [NOW - 2 * DAY, NOW]


@pytest.mark.parametrize(
    ("status", "editable"),
    [
        ("APPROVED", True),
        ("REJECTED", True),
        ("PAUSED", True),
        ("PENDING", False),
        ("DISABLED", False),
        ("FLAGGED", False),
    ],
)
def test_only_approved_rejected_and_paused_templates_are_editable(status, editable):
    assert (template_review.edit_refusal(status) is None) is editable


def test_pause_descriptions_read_like_metas():
    now = datetime(2026, 8, 30, 21, 47, tzinfo=UTC)
    assert template_review.pause_description("FIRST_PAUSE", now=now) == (
        "Your WhatsApp message template has been paused for 3 hours until Aug 31 at 12:47 AM UTC because it had issues."
    )
    assert "for 6 hours" in template_review.pause_description("SECOND_PAUSE", now=now)


# Template messages against the approved template

ORDER = [
    {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": {"header_text": ["#1"]}},
    body("Hi {{1}}, your order of {{2}} arrives {{3}}.", ["Ana", "$10", "today"]),
    {
        "type": "BUTTONS",
        "buttons": [
            {"type": "QUICK_REPLY", "text": "Thanks"},
            {"type": "URL", "text": "Track", "url": "https://x.com/t/{{1}}", "example": ["https://x.com/t/1"]},
            {"type": "COPY_CODE", "example": "SAVE10"},
            {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "+15550001111"},
        ],
    },
]
IMAGE_HEADER = [{"type": "HEADER", "format": "IMAGE"}, body("Your receipt is attached above, thanks.")]
NAMED = [
    {
        "type": "BODY",
        "text": "Hi {{first_name}}, your order {{order_id}} is ready.",
        "example": {
            "body_text_named_params": [
                {"param_name": "first_name", "example": "Ana"},
                {"param_name": "order_id", "example": "1"},
            ]
        },
    }
]


def text(value, **extra):
    return {"type": "text", "text": value, **extra}


def order_message(*, header=None, body_parameters=None, buttons=None):
    header = [text("#1042")] if header is None else header
    body_parameters = (
        [
            text("Ana"),
            {"type": "currency", "currency": {"fallback_value": "$10.00", "code": "USD", "amount_1000": 10000}},
            {"type": "date_time", "date_time": {"fallback_value": "tomorrow"}},
        ]
        if body_parameters is None
        else body_parameters
    )
    buttons = (
        [
            {"type": "button", "sub_type": "url", "index": 1, "parameters": [text("A1")]},
            {
                "type": "BUTTON",
                "sub_type": "COPY_CODE",
                "index": "2",
                "parameters": [{"type": "coupon_code", "coupon_code": "SAVE10"}],
            },
        ]
        if buttons is None
        else buttons
    )
    return {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": [
            {"type": "HEADER", "parameters": header},
            {"type": "body", "parameters": body_parameters},
            *buttons,
        ],
    }


def sent_code(components, sent, *, parameter_format="POSITIONAL", category="UTILITY"):
    try:
        check_send(components=components, parameter_format=parameter_format, category=category, sent=sent)
    except GraphError as error:
        return error.code, error.details
    return None, ""


def test_a_message_that_fits_the_template_passes():
    assert sent_code(ORDER, order_message()) == (None, "")
    quick_reply = {
        "type": "button",
        "sub_type": "quick_reply",
        "index": "0",
        "parameters": [{"type": "payload", "payload": "ok"}],
    }
    assert sent_code(ORDER, order_message(buttons=[*order_message()["components"][2:], quick_reply])) == (None, "")


@pytest.mark.parametrize(
    ("message", "code", "details"),
    [
        (
            order_message(body_parameters=[text("Ana")]),
            132000,
            "body: number of localizable_params (1) does not match the expected number of params (3)",
        ),
        (
            order_message(header=[]),
            132000,
            "header: number of localizable_params (0) does not match the expected number of params (1)",
        ),
        (
            order_message(header=[{"type": "image", "image": {"link": "https://x/a.jpg"}}]),
            132012,
            "header: Format mismatch, expected TEXT, received IMAGE",
        ),
        (
            order_message(buttons=[order_message()["components"][3]]),
            132000,
            "button at index 1: number of localizable_params (0)",
        ),
        (
            order_message(buttons=[order_message()["components"][2]]),
            132000,
            "button at index 2: number of localizable_params (0)",
        ),
        (
            order_message(
                buttons=[
                    {"type": "button", "sub_type": "url", "index": 1, "parameters": [text("a"), text("b")]},
                    order_message()["components"][3],
                ]
            ),
            132000,
            "button at index 1: number of localizable_params (2)",
        ),
        (
            order_message(
                buttons=[
                    {"type": "button", "sub_type": "quick_reply", "index": 1, "parameters": []},
                    order_message()["components"][3],
                ]
            ),
            132012,
            "button at index 1: Format mismatch, expected URL, received QUICK_REPLY",
        ),
        (
            order_message(
                buttons=[*order_message()["components"][2:], {"type": "button", "sub_type": "quick_reply", "index": 7}]
            ),
            132000,
            "button at index 7: the template has no such button.",
        ),
        (
            order_message(
                body_parameters=[
                    text("Ana"),
                    {"type": "currency", "currency": {"code": "USD", "amount_1000": 1}},
                    text("x"),
                ]
            ),
            132012,
            "body: a currency parameter needs a fallback_value.",
        ),
        (
            order_message(body_parameters=[text("Ana"), text("x"), {"type": "date_time", "date_time": {}}]),
            132012,
            "body: a date_time parameter needs a fallback_value.",
        ),
        (
            order_message(body_parameters=[text("Ana"), text("x"), {"type": "image", "image": {"link": "https://x"}}]),
            132012,
            "body: Format mismatch, expected TEXT, received IMAGE",
        ),
    ],
)
def test_parameters_that_do_not_fit_are_refused(message, code, details):
    got_code, got_details = sent_code(ORDER, message)
    assert got_code == code
    assert got_details.startswith(details)


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ([{"type": "image", "image": {"link": "https://x/a.jpg"}}], None),
        ([{"type": "IMAGE", "image": {"id": "1"}}], None),
        ([{"type": "video", "video": {"link": "https://x/a.mp4"}}], 132012),
        ([text("hello")], 132012),
        ([], 132000),
    ],
)
def test_media_headers(header, code):
    sent = {"name": "receipt", "language": {"code": "en"}, "components": [{"type": "header", "parameters": header}]}
    assert sent_code(IMAGE_HEADER, sent)[0] == code


@pytest.mark.parametrize(
    ("parameters", "code"),
    [
        ([text("Ana", parameter_name="first_name"), text("1", parameter_name="order_id")], None),
        ([text("1", parameter_name="order_id"), text("Ana", parameter_name="first_name")], None),
        ([text("Ana"), text("1")], 132000),
        ([text("Ana", parameter_name="name"), text("1", parameter_name="order_id")], 132000),
        ([text("Ana", parameter_name="first_name")], 132000),
    ],
)
def test_named_templates_need_their_parameter_names(parameters, code):
    sent = {"name": "ready", "language": {"code": "en"}, "components": [{"type": "body", "parameters": parameters}]}
    assert sent_code(NAMED, sent, parameter_format="NAMED")[0] == code


def test_authentication_templates_take_the_code_in_body_and_button():
    components = [
        {"type": "BODY", "add_security_recommendation": True},
        {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}]},
    ]
    code_button = {"type": "button", "sub_type": "url", "index": "0", "parameters": [text("123456")]}
    sent = {
        "name": "login",
        "language": {"code": "en"},
        "components": [{"type": "body", "parameters": [text("123456")]}, code_button],
    }
    assert sent_code(components, sent, category="AUTHENTICATION") == (None, "")
    sent["components"] = sent["components"][:1]
    assert sent_code(components, sent, category="AUTHENTICATION")[0] == 132000
