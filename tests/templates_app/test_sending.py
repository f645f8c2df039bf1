"""Filling in an approved template: its variables, prefills, the `template` object WhatsApp takes (§2) and
every value WhatsApp would refuse (132000/132012), as tables with no database; then which templates the
composer offers, in which order (with the database)."""

import copy
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from accounts.models import Role
from inbox.models import Contact
from templates_app.models import MessageTemplate, TemplateRevision
from templates_app.sending import (
    TemplateParametersRefused,
    TemplateVariable,
    build_template_message,
    header_media_kind,
    language_rank,
    prefilled_values,
    sendable_templates_for,
    template_on_waba,
    template_variables,
    unsupported_reason,
)
from tests.factories import (
    ORDER_UPDATE_COMPONENTS,
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    UserFactory,
    live_template,
    worked_by,
)

OPENAPI = Path(__file__).resolve().parents[3] / "shared" / "meta-openapi" / "business-messaging-api_v23.0.yaml"


def revision(components: list, *, category: str = "UTILITY", parameter_format: str = "POSITIONAL", **fields):
    """A revision as WhatsApp approved it (unsaved: the builder reads nothing else)."""
    return TemplateRevision(
        number=1, category=category, parameter_format=parameter_format, components=components, **fields
    )


def template(name: str = "order_update", language: str = "en_US") -> MessageTemplate:
    return MessageTemplate(waba_id="419561257915477", name=name, language=language, status="APPROVED")


def build(components: list, values: dict, *, header_media: dict | None = None, **revision_fields):
    return build_template_message(
        template=template(), revision=revision(components, **revision_fields), values=values, header_media=header_media
    )


def refusal(components: list, values: dict, **kwargs) -> TemplateParametersRefused:
    with pytest.raises(TemplateParametersRefused) as refused:
        build(components, values, **kwargs)
    return refused.value


BODY = {"type": "BODY", "text": "Hi {{1}}, your order {{2}} ships today.", "example": {"body_text": [["Ana", "#1"]]}}
NAMED_BODY = {
    "type": "BODY",
    "text": "Hi {{first_name}}, order {{order_id}} is ready.",
    "example": {
        "body_text_named_params": [
            {"param_name": "first_name", "example": "Ana"},
            {"param_name": "order_id", "example": "#1042"},
        ]
    },
}
IMAGE_HEADER = {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::aW1hZ2U="]}}
TRACK_BUTTON = {
    "type": "URL",
    "text": "Track order",
    "url": "https://shop.example/track/{{1}}",
    "example": ["https://shop.example/track/ABC123"],
}
COPY_CODE_BUTTON = {"type": "COPY_CODE", "example": "SAVE20"}
BUTTONS = {"type": "BUTTONS", "buttons": [TRACK_BUTTON, COPY_CODE_BUTTON]}


# --- Variables ---------------------------------------------------------------------------------------------------


def test_variables_come_in_order_header_body_buttons_with_their_samples_and_prefills():
    components = [
        {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": {"header_text": ["#1042"]}},
        BODY,
        BUTTONS,
    ]
    variables = template_variables(revision(components, variable_fields={"body.1": "contact.first_name"}))
    assert variables == [
        TemplateVariable("header.1", "header", "1", "Header {{1}}", "#1042", ""),
        TemplateVariable("body.1", "body", "1", "Body {{1}}", "Ana", "contact.first_name"),
        TemplateVariable("body.2", "body", "2", "Body {{2}}", "#1", ""),
        TemplateVariable("buttons.0.1", "buttons.0", "1", "“Track order” link {{1}}", "ABC123", ""),
        TemplateVariable("buttons.1.code", "buttons.1", "code", "Coupon code", "SAVE20", ""),
    ]


def test_positional_variables_are_numbered_not_read_in_order_of_appearance():
    components = [{"type": "BODY", "text": "{{2}} then {{1}} and {{2}} again", "example": {"body_text": [["a", "b"]]}}]
    assert [(v.key, v.sample) for v in template_variables(revision(components))] == [("body.1", "a"), ("body.2", "b")]


def test_named_variables_keep_their_names_and_samples():
    variables = template_variables(revision([NAMED_BODY], parameter_format="NAMED"))
    assert [(v.key, v.label, v.sample) for v in variables] == [
        ("body.first_name", "Body {{first_name}}", "Ana"),
        ("body.order_id", "Body {{order_id}}", "#1042"),
    ]


def test_an_authentication_template_asks_for_the_code_only():
    components = [
        {"type": "BODY", "add_security_recommendation": True},
        {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}]},
    ]
    variables = template_variables(revision(components, category="AUTHENTICATION"))
    assert [(v.key, v.label) for v in variables] == [("body.1", "Verification code")]


def test_a_prefill_field_that_is_not_known_is_ignored():
    variables = template_variables(revision([BODY], variable_fields={"body.1": "contact.password", "body.2": 3}))
    assert [v.prefill_field for v in variables] == ["", ""]


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        (IMAGE_HEADER, "image"),
        ({"type": "HEADER", "format": "video"}, "video"),
        ({"type": "HEADER", "format": "DOCUMENT"}, "document"),
        ({"type": "HEADER", "format": "TEXT", "text": "Hello"}, None),
        (None, None),
    ],
)
def test_header_media_kind(header, kind):
    components = [header, BODY] if header else [BODY]
    assert header_media_kind(revision(components)) == kind


@pytest.mark.parametrize(
    ("profile_name", "username", "wa_id", "expected"),
    [
        (
            "Ana  Maria Souza",
            "",
            "16505551234",
            {"body.1": "Ana Maria Souza", "body.2": "Ana", "body.3": "+16505551234"},
        ),
        ("", "ana.s", "16505551234", {"body.1": "ana.s", "body.2": "ana.s", "body.3": "+16505551234"}),
        # Without a name the greeting stays for the agent to fill in: never "Hi +16505551234".
        ("", "", "16505551234", {"body.3": "+16505551234"}),
        ("Ana", "", None, {"body.1": "Ana", "body.2": "Ana"}),
    ],
)
def test_prefilled_values_come_from_the_contact(profile_name, username, wa_id, expected):
    components = [{"type": "BODY", "text": "Dear {{1}} ({{2}}), we will call {{3}} soon."}]
    fields = {"body.1": "contact.name", "body.2": "contact.first_name", "body.3": "contact.phone"}
    contact = Contact(profile_name=profile_name, username=username, wa_id=wa_id, bsuid="US.1" if not wa_id else None)
    assert prefilled_values(revision(components, variable_fields=fields), contact) == expected


# --- The template object --------------------------------------------------------------------------------------


def test_positional_template_with_text_header_footer_and_quick_replies():
    built = build(
        ORDER_UPDATE_COMPONENTS, {"header.1": "#77", "body.1": "Ana", "body.2": "#77"}, parameter_format="POSITIONAL"
    )
    assert built.payload == {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": [
            {"type": "header", "parameters": [{"type": "text", "text": "#77"}]},
            {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "#77"}]},
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": "0",
                "parameters": [{"type": "payload", "payload": "Thanks"}],
            },
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": "1",
                "parameters": [{"type": "payload", "payload": "Help"}],
            },
        ],
    }
    assert built.rendered == {
        "header": "Order #77",
        "header_format": "TEXT",
        "header_media": None,
        "body": "Hi Ana, your order #77 ships today.",
        "footer": "Reply STOP to opt out",
        "buttons": [{"type": "QUICK_REPLY", "text": "Thanks"}, {"type": "QUICK_REPLY", "text": "Help"}],
    }
    assert built.text == "Hi Ana, your order #77 ships today."


def test_values_are_trimmed():
    built = build([BODY], {"body.1": "  Ana \n", "body.2": "#1"})
    assert built.payload["components"][0]["parameters"][0] == {"type": "text", "text": "Ana"}


def test_named_parameters_carry_their_names():
    header = {
        "type": "HEADER",
        "format": "TEXT",
        "text": "Order {{order_id}}",
        "example": {"header_text_named_params": [{"param_name": "order_id", "example": "#1"}]},
    }
    built = build(
        [header, NAMED_BODY],
        {"header.order_id": "#9", "body.first_name": "Ana", "body.order_id": "#9"},
        parameter_format="NAMED",
    )
    assert built.payload["components"] == [
        {"type": "header", "parameters": [{"type": "text", "parameter_name": "order_id", "text": "#9"}]},
        {
            "type": "body",
            "parameters": [
                {"type": "text", "parameter_name": "first_name", "text": "Ana"},
                {"type": "text", "parameter_name": "order_id", "text": "#9"},
            ],
        },
    ]
    assert (built.rendered["header"], built.text) == ("Order #9", "Hi Ana, order #9 is ready.")


def test_a_template_without_variables_sends_no_components():
    built = build([{"type": "BODY", "text": "We are open again."}], {})
    assert built.payload == {"name": "order_update", "language": {"code": "en_US"}}


def test_an_image_header_from_a_stored_file_waits_for_its_media_id():
    built = build(
        [IMAGE_HEADER, BODY], {"body.1": "Ana", "body.2": "#1"}, header_media={"kind": "image", "media_file_id": 5}
    )
    assert built.payload["components"][0] == {"type": "header", "parameters": [{"type": "image", "image": {}}]}
    assert built.rendered["header_media"] == {"kind": "image", "media_file_id": 5}
    assert (built.rendered["header"], built.rendered["header_format"]) == (None, "IMAGE")


def test_a_media_header_by_link():
    built = build(
        [IMAGE_HEADER, BODY], {"body.1": "Ana", "body.2": "#1"}, header_media={"link": "https://cdn.example/a.jpg"}
    )
    assert built.payload["components"][0] == {
        "type": "header",
        "parameters": [{"type": "image", "image": {"link": "https://cdn.example/a.jpg"}}],
    }
    assert built.rendered["header_media"] == {"kind": "image", "link": "https://cdn.example/a.jpg"}


def test_a_document_header_keeps_its_file_name():
    header = {"type": "HEADER", "format": "DOCUMENT"}
    built = build(
        [header, BODY],
        {"body.1": "Ana", "body.2": "#1"},
        header_media={"kind": "document", "media_file_id": 5, "filename": "Invoice 42.pdf"},
    )
    assert built.payload["components"][0]["parameters"] == [
        {"type": "document", "document": {"filename": "Invoice 42.pdf"}}
    ]


def test_url_suffix_and_copy_code_buttons():
    built = build([BODY, BUTTONS], {"body.1": "Ana", "body.2": "#1", "buttons.0.1": "XY-9", "buttons.1.code": "SAVE20"})
    assert built.payload["components"][1:] == [
        {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "XY-9"}]},
        {
            "type": "button",
            "sub_type": "copy_code",
            "index": "1",
            "parameters": [{"type": "coupon_code", "coupon_code": "SAVE20"}],
        },
    ]
    assert built.rendered["buttons"] == [
        {"type": "URL", "text": "Track order", "url": "https://shop.example/track/XY-9"},
        {"type": "COPY_CODE", "text": "Copy offer code", "code": "SAVE20"},
    ]


def test_buttons_without_parameters_send_no_component():
    buttons = {
        "type": "BUTTONS",
        "buttons": [
            {"type": "URL", "text": "Shop", "url": "https://shop.example/"},
            {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+15550783881"},
        ],
    }
    built = build([BODY, buttons], {"body.1": "Ana", "body.2": "#1"})
    assert [component["type"] for component in built.payload["components"]] == ["body"]
    assert built.rendered["buttons"] == [
        {"type": "URL", "text": "Shop", "url": "https://shop.example/"},
        {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+15550783881"},
    ]


def test_an_authentication_code_goes_in_the_body_and_on_its_otp_button():
    components = [
        {"type": "BODY", "add_security_recommendation": True},
        {"type": "FOOTER", "code_expiration_minutes": 10},
        {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}]},
    ]
    built = build(components, {"body.1": "482193"}, category="AUTHENTICATION")
    assert built.payload["components"] == [
        {"type": "body", "parameters": [{"type": "text", "text": "482193"}]},
        {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "482193"}]},
    ]
    assert built.text.startswith("482193 is your verification code.")


# --- What WhatsApp would refuse ---------------------------------------------------------------------------------

HEADER_TEXT = {"type": "HEADER", "format": "TEXT", "text": "Your order {{1}} is on its way now", "example": {}}
OK = {"body.1": "Ana", "body.2": "#1"}


@pytest.mark.parametrize(
    ("components", "values", "header_media", "says"),
    [
        ([BODY], {"body.1": "Ana"}, None, "Fill in Body {{2}}."),
        ([BODY], {"body.1": "Ana", "body.2": ""}, None, "Fill in Body {{2}}."),
        ([BODY], {"body.1": "   ", "body.2": "#1"}, None, "Fill in Body {{1}}."),
        ([BODY], {"body.1": "Ana\nMaria", "body.2": "#1"}, None, "Body {{1}} cannot contain line breaks"),
        ([BODY], {"body.1": "Ana\tMaria", "body.2": "#1"}, None, "Body {{1}} cannot contain line breaks"),
        ([BODY], {"body.1": "Ana     Maria", "body.2": "#1"}, None, "more than 4 spaces in a row"),
        ([BODY], {"body.1": "x" * 1025, "body.2": "#1"}, None, "Body {{1}} is 1025 characters long"),
        ([BODY], {**OK, "body.3": "extra"}, None, "no variable body.3"),
        ([BODY], {"body.1": 5, "body.2": "#1"}, None, "Body {{1}} must be text."),
        ([BODY], ["Ana", "#1"], None, "not in the expected shape"),
        ([HEADER_TEXT, BODY], {**OK, "header.1": "#" + "9" * 31}, None, "the header is 61 characters long"),
        ([BODY, BUTTONS], {**OK, "buttons.0.1": "A B", "buttons.1.code": "X"}, None, "cannot contain spaces"),
        ([BODY, BUTTONS], {**OK, "buttons.0.1": "AB", "buttons.1.code": "X" * 16}, None, "at most 15 characters"),
        ([BODY, BUTTONS], {**OK, "buttons.0.1": "AB"}, None, "Fill in Coupon code."),
        (
            [BODY, {"type": "BUTTONS", "buttons": [{**TRACK_BUTTON, "url": "https://x.example/{{1}}"}]}],
            {**OK, "buttons.0.1": "a" * 2000},
            None,
            "WhatsApp allows at most 2000",
        ),
        ([IMAGE_HEADER, BODY], OK, None, "Add an image for the header."),
        ([IMAGE_HEADER, BODY], OK, {"kind": "document", "media_file_id": 3}, "needs an image; this file is a document"),
        ([IMAGE_HEADER, BODY], OK, {"link": "http://cdn.example/a.jpg"}, "must be an https:// address"),
        ([IMAGE_HEADER, BODY], OK, {"link": "https://"}, "must be an https:// address"),
        ([IMAGE_HEADER, BODY], OK, {"kind": "image", "media_file_id": 3, "link": "https://a.example/a.jpg"}, "one"),
        ([BODY], OK, {"kind": "image", "media_file_id": 3}, "has no image, video or document header"),
    ],
    ids=[
        "missing",
        "empty",
        "blank",
        "newline",
        "tab",
        "5 spaces",
        "1025 chars",
        "unknown key",
        "not text",
        "not a dict",
        "header over 60",
        "suffix with space",
        "code over 15",
        "code missing",
        "url over 2000",
        "media missing",
        "media of another kind",
        "http link",
        "link without host",
        "file and link",
        "media without a media header",
    ],
)
def test_values_whatsapp_would_refuse_are_refused_naming_the_variable(components, values, header_media, says):
    refused = refusal(components, values, header_media=header_media)
    assert refused.code == "template_parameters_invalid"
    assert says in refused.detail


def test_a_header_of_exactly_60_characters_is_allowed():
    built = build([HEADER_TEXT, BODY], {**OK, "header.1": "#" + "9" * 30})
    assert len(built.rendered["header"]) == 60


def test_four_spaces_in_a_row_are_still_allowed():
    assert build([BODY], {"body.1": "Ana    Maria", "body.2": "#1"}).text.startswith("Hi Ana    Maria,")


def test_an_authentication_code_is_short_and_without_spaces():
    components = [{"type": "BODY"}, {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]}]
    assert "at most 15" in refusal(components, {"body.1": "12 34"}, category="AUTHENTICATION").detail


@pytest.mark.parametrize(
    ("components", "says"),
    [
        ([{"type": "HEADER", "format": "LOCATION"}, BODY], "a location header"),
        ([BODY, {"type": "BUTTONS", "buttons": [{"type": "MPM", "text": "View items"}]}], "a multi-product button"),
        ([BODY, {"type": "CAROUSEL", "cards": []}], "a carousel part"),
    ],
)
def test_templates_the_composer_cannot_fill_in_are_refused_as_unsupported(components, says):
    assert says in unsupported_reason(revision(components))
    refused = refusal(components, OK)
    assert refused.code == "template_not_supported" and says in refused.detail


# --- Against Meta's OpenAPI examples ----------------------------------------------------------------------------


@cache
def _openapi() -> dict[str, Any]:
    return yaml.load(OPENAPI.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _shape(value: Any) -> Any:
    """Keys kept, leaves replaced by their type: two objects of the same shape compare equal."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(item) for item in value]
    return type(value).__name__


def _lenient(node: Any) -> Any:
    """The schema without its enums and patterns: OA's own examples break them (`index: '0'` against
    `^[2-6, 11-14]$`, a language without the `policy` it requires)."""
    if isinstance(node, dict):
        node = {key: _lenient(item) for key, item in node.items() if key not in ("enum", "pattern", "discriminator")}
        if "policy" in node.get("properties", {}):
            node["required"] = [name for name in node.get("required", []) if name != "policy"]
    elif isinstance(node, list):
        node = [_lenient(item) for item in node]
    return node


@pytest.mark.skipif(not OPENAPI.exists(), reason="Meta's OpenAPI file is not beside the project")
def test_the_template_object_has_the_shape_of_metas_examples_and_schema():
    examples = _openapi()["paths"]["/{Version}/{Phone-Number-ID}/messages"]["post"]["requestBody"]["content"][
        "application/json"
    ]["examples"]
    meta = examples["Send Message Template Interactive"]["value"]["template"]["components"]
    components = [{"type": "HEADER", "format": "IMAGE"}, BODY, *ORDER_UPDATE_COMPONENTS[2:]]
    built = build(components, OK, header_media={"link": "https://cdn.example/a.jpg"})
    ours = built.payload["components"]
    # header by link, a text body parameter, a quick reply's payload: each as Meta writes it.
    assert _shape(ours[0]) == _shape(meta[0])
    assert _shape(ours[1]["parameters"][0]) == _shape(meta[1]["parameters"][0])
    assert _shape(ours[2]) == _shape(meta[2])
    schemas = _lenient(_openapi()["components"])
    validator = jsonschema.Draft202012Validator({"$ref": "#/components/schemas/TemplateObject", "components": schemas})
    for payload in (built.payload, build([BODY, BUTTONS], {**OK, "buttons.0.1": "A", "buttons.1.code": "B"}).payload):
        assert not [error.message for error in validator.iter_errors(copy.deepcopy(payload))]


# --- Which templates the composer offers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template_language", "contact_language", "rank"),
    [
        ("pt_BR", "pt_BR", 0),
        ("pt_br", "pt-BR", 0),
        ("en-US", "en_us", 0),
        ("pt", "pt_BR", 1),
        ("pt_PT", "pt_BR", 1),
        ("pt_BR", "pt", 1),
        ("en_US", "pt_BR", 2),
        ("en_US", "", 2),
    ],
)
def test_language_rank(template_language, contact_language, rank):
    assert language_rank(template_language, contact_language) == rank


@pytest.fixture
def conversation(db):
    return ConversationFactory(channel=ChannelFactory(), contact=ContactFactory(language="pt_BR"))


@pytest.fixture
def agent(conversation):
    agent = UserFactory(role=Role.AGENT)
    worked_by(agent, conversation.channel)
    return agent


def test_sendable_templates_come_in_the_contacts_language_first_then_its_family_then_by_name(
    conversation, agent, django_assert_num_queries
):
    for name, language in [
        ("zeta", "en_US"),
        ("alpha", "en_US"),
        ("receipt", "pt"),
        ("welcome", "pt_BR"),
        ("appointment", "pt-br"),
        ("shipping", "pt_PT"),
    ]:
        live_template(name=name, language=language)
    with django_assert_num_queries(2):  # the person's access, the templates with their live revisions
        offered = sendable_templates_for(conversation=conversation, user=agent)
    assert [(t.name, t.language) for t in offered] == [
        ("appointment", "pt-br"),
        ("welcome", "pt_BR"),
        ("receipt", "pt"),
        ("shipping", "pt_PT"),
        ("alpha", "en_US"),
        ("zeta", "en_US"),
    ]
    assert offered[0].live_revision.components == ORDER_UPDATE_COMPONENTS


def test_only_templates_whatsapp_lets_us_send_on_this_numbers_account_are_offered(conversation, agent):
    live_template(name="approved")
    live_template(name="flagged", status="FLAGGED")
    live_template(name="paused", status="PAUSED")
    live_template(name="disabled", status="DISABLED")
    live_template(name="pending", status="PENDING")
    live_template(name="other_account", waba_id="999")
    live_template(name="locator", components=[{"type": "HEADER", "format": "LOCATION"}, BODY])
    never_approved = live_template(name="never_approved")
    MessageTemplate.objects.filter(pk=never_approved.pk).update(live_revision=None)
    offered = sendable_templates_for(conversation=conversation, user=agent)
    assert [t.name for t in offered] == ["approved", "flagged"]


@pytest.mark.parametrize("who", ["manager", "outsider", "inactive"])
def test_people_who_may_not_reply_are_offered_nothing(conversation, who):
    live_template()
    if who == "manager":
        person = UserFactory(role=Role.MANAGER)
    else:
        person = UserFactory(role=Role.AGENT, is_active=who != "inactive")
        if who == "inactive":
            worked_by(person, conversation.channel)
    assert sendable_templates_for(conversation=conversation, user=person) == []


def test_a_template_is_found_by_name_and_language_written_either_way(db):
    en = live_template(name="order_update", language="en_US")
    live_template(name="order_update", language="en-GB")
    assert template_on_waba(waba_id=en.waba_id, name="order_update", language="en_US") == en
    assert template_on_waba(waba_id=en.waba_id, name="order_update", language="en-us") == en
    assert template_on_waba(waba_id=en.waba_id, name="order_update", language="en_GB").language == "en-GB"
    assert template_on_waba(waba_id=en.waba_id, name="order_update", language="pt_BR") is None
    assert template_on_waba(waba_id="999", name="order_update", language="en_US") is None


# --- Against the simulator's copy of WhatsApp's send checks (132000 / 132012) ------------------------------------


@pytest.mark.parametrize(
    ("components", "values", "header_media", "category", "parameter_format"),
    [
        (ORDER_UPDATE_COMPONENTS, {"header.1": "#7", "body.1": "Ana", "body.2": "#7"}, None, "UTILITY", "POSITIONAL"),
        ([NAMED_BODY], {"body.first_name": "Ana", "body.order_id": "#7"}, None, "MARKETING", "NAMED"),
        ([IMAGE_HEADER, BODY], OK, {"link": "https://cdn.example/a.jpg"}, "MARKETING", "POSITIONAL"),
        ([BODY, BUTTONS], {**OK, "buttons.0.1": "XY", "buttons.1.code": "SAVE20"}, None, "MARKETING", "POSITIONAL"),
        (
            [
                {"type": "BODY", "add_security_recommendation": True},
                {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}]},
            ],
            {"body.1": "482193"},
            None,
            "AUTHENTICATION",
            "POSITIONAL",
        ),
    ],
    ids=["positional", "named", "image header", "url and copy code", "authentication"],
)
def test_what_we_build_passes_the_simulators_send_checks(components, values, header_media, category, parameter_format):
    from simulator import template_validation

    built = build(components, values, header_media=header_media, category=category, parameter_format=parameter_format)
    template_validation.check_send(
        components=template_validation.normalise_components(copy.deepcopy(components), category=category),
        parameter_format=parameter_format,
        category=category,
        sent=built.payload,
    )
