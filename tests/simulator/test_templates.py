"""The template registry through the Graph API: create, list, get, edit and delete as Meta answers them,
the review and its webhooks, and what a template message may carry."""

import json
from urllib.parse import urlencode

import pytest

from inbox.models import ManagementEvent
from inbox.providers.whatsapp_cloud.signature import verify
from simulator.models import GraphRequest, SimulatedMessage, SimulatedTemplate, SimulatedWebhook
from tests.factories import TEST_APP_SECRET, ChannelFactory
from tests.simulator.conftest import GRAPH_BASE, TOKEN, approved_template, oa_validate, openapi, template_message

pytestmark = pytest.mark.django_db
CUSTOMER = "16505551234"

ORDER_UPDATE = {
    "name": "order_update",
    "category": "UTILITY",
    "language": "en_US",
    "components": [
        {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": {"header_text": ["#1042"]}},
        {
            "type": "BODY",
            "text": "Hi {{1}}, your order {{2}} ships today.",
            "example": {"body_text": [["Ana", "#1042"]]},
        },
        {"type": "FOOTER", "text": "Reply STOP to opt out"},
        {
            "type": "BUTTONS",
            "buttons": [
                {"type": "QUICK_REPLY", "text": "Thanks"},
                {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "59898400766"},
            ],
        },
    ],
}


@pytest.fixture
def templates_url(channel):
    return f"/simulator/graph/v23.0/{channel.waba_id}/message_templates"


@pytest.fixture
def reviews_at_once(settings):
    settings.SIMULATOR_TEMPLATE_REVIEW_SECONDS = 0


def _operation(path, method):
    return openapi()["paths"][path][method]


def _create(graph, templates_url, body=None, **changes):
    response = graph.post(templates_url, {**(body or ORDER_UPDATE), **changes})
    assert response.status_code == 200, response.content
    return response.json()


def _graph_error(response, code=100):
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == code and error["fbtrace_id"]
    return error


def template_webhooks(field=None):
    """The management webhooks the simulator delivered: signed with the app secret, accepted by the inbox."""
    documents = []
    for webhook in SimulatedWebhook.objects.filter(kind="template").order_by("id"):
        raw = bytes(webhook.raw_body)
        assert verify(webhook.signature, raw, [TEST_APP_SECRET]) == TEST_APP_SECRET
        assert webhook.delivered_at is not None and webhook.response_status == 200
        document = json.loads(raw)
        if field is None or document["entry"][0]["changes"][0]["field"] == field:
            documents.append(document)
    return documents


def change_values(channel, field):
    """The `value` of every delivered `field` webhook, after checking Meta's management envelope."""
    values = []
    for document in template_webhooks(field):
        assert document["object"] == "whatsapp_business_account"
        [entry] = document["entry"]
        assert set(entry) == {"id", "time", "changes"}
        assert entry["id"] == channel.waba_id and isinstance(entry["time"], int)
        [change] = entry["changes"]
        assert change["field"] == field
        assert "metadata" not in change["value"]
        values.append(change["value"])
    return values


# Create, list, get


def test_create_answers_like_meta_and_the_template_waits_for_review(graph, channel, templates_url):
    operation = _operation("/{Version}/{WABA-ID}/message_templates", "post")
    oa_validate(ORDER_UPDATE, operation["requestBody"]["content"]["application/json"]["schema"])

    answer = _create(graph, templates_url)

    oa_validate(answer, operation["responses"]["200"]["content"]["application/json"]["schema"])
    assert set(answer) == {"id", "status", "category"}
    assert (answer["status"], answer["category"]) == ("PENDING", "UTILITY")
    assert answer["id"].isdigit() and len(answer["id"]) == 16
    template = SimulatedTemplate.objects.get()
    assert (template.template_id, template.waba_id, template.status) == (answer["id"], channel.waba_id, "PENDING")
    assert template.approved_components is None
    request = GraphRequest.objects.get()
    assert (request.method, request.path, request.response_status, request.authorized) == (
        "POST",
        templates_url,
        200,
        True,
    )


def test_get_and_list_answer_metas_template_object(graph, channel, templates_url):
    template_id = _create(graph, templates_url)["id"]

    one = graph.get(f"/simulator/graph/v24.0/{template_id}")
    assert one.status_code == 200
    oa_validate(
        one.json(),
        _operation("/{Version}/{TEMPLATE_ID}", "get")["responses"]["200"]["content"]["application/json"]["schema"],
    )
    document = one.json()
    assert list(document) == [
        "name",
        "parameter_format",
        "components",
        "language",
        "status",
        "category",
        "quality_score",
        "rejected_reason",
        "id",
    ]
    assert document["name"] == "order_update" and document["language"] == "en_US"
    assert (document["parameter_format"], document["status"], document["id"]) == ("POSITIONAL", "PENDING", template_id)
    assert document["quality_score"]["score"] == "UNKNOWN" and isinstance(document["quality_score"]["date"], int)
    assert document["rejected_reason"] == "NONE"
    # Stored in Meta's create shape, the phone button normalised with a "+" (RB).
    assert document["components"][3]["buttons"][1] == {
        "type": "PHONE_NUMBER",
        "text": "Call us",
        "phone_number": "+59898400766",
    }
    assert one["X-Business-Use-Case-Usage"] == (
        f'{{"{channel.waba_id}":[{{"type":"whatsapp_business_management","call_count":1,"total_cputime":1,'
        '"total_time":1,"estimated_time_to_regain_access":0}]}'
    )
    assert graph.get(f"/simulator/graph/v24.0/{template_id}", fields="name,status").json() == {
        "name": "order_update",
        "status": "PENDING",
        "id": template_id,
    }

    listing = graph.get(templates_url, limit="100")
    oa_validate(
        listing.json(),
        _operation("/{Version}/{WABA-ID}/message_templates", "get")["responses"]["200"]["content"]["application/json"][
            "schema"
        ],
    )
    assert listing.json() == {"data": [document], "paging": {"cursors": {"before": "MAZDZD", "after": "MAZDZD"}}}


def test_list_pages_with_cursors_and_filters(graph, channel, templates_url):
    for name in ("alpha", "beta", "gamma"):
        approved_template(channel, name=name)
    approved_template(channel, name="beta", language="pt_BR")

    first = graph.get(templates_url, limit="2").json()
    assert [t["name"] for t in first["data"]] == ["alpha", "beta"]
    assert first["paging"]["cursors"] == {"before": "MAZDZD", "after": "MQZDZD"}
    assert "after=MQZDZD" in first["paging"]["next"] and "limit=2" in first["paging"]["next"]
    second = graph.get(templates_url, limit="2", after=first["paging"]["cursors"]["after"]).json()
    assert [(t["name"], t["language"]) for t in second["data"]] == [("gamma", "en_US"), ("beta", "pt_BR")]
    assert "next" not in second["paging"] and "before=Mg" in second["paging"]["previous"]
    back = graph.get(templates_url, limit="2", before=second["paging"]["cursors"]["before"]).json()
    assert [t["name"] for t in back["data"]] == ["alpha", "beta"]

    assert [t["language"] for t in graph.get(templates_url, name="beta").json()["data"]] == ["en_US", "pt_BR"]
    assert graph.get(templates_url, name="nope").json() == {"data": []}
    assert len(graph.get(templates_url, status="approved", language="pt_BR").json()["data"]) == 1


def test_empty_waba_lists_nothing(graph, templates_url):
    assert graph.get(templates_url).json() == {"data": []}


def test_bad_template_bodies_are_code_100_with_a_sentence(graph, templates_url):
    error = _graph_error(graph.post(templates_url, {**ORDER_UPDATE, "name": "Order Update!"}))
    assert error["message"] == "Invalid parameter" and error["type"] == "OAuthException"
    assert error["is_transient"] is False
    assert error["error_user_title"] == "Invalid template name"
    assert "lowercase letters, digits and underscores" in error["error_user_msg"]
    assert (
        "no BODY"
        not in _graph_error(graph.post(templates_url, {**ORDER_UPDATE, "category": "PROMO"}))["error_user_msg"]
    )
    assert (
        _graph_error(graph.post(templates_url, {"name": "x"}))["error_user_msg"]
        == "The parameter language is required."
    )
    assert not SimulatedTemplate.objects.exists()


def test_form_encoded_creation_is_understood(client, channel, templates_url):
    fields = {**ORDER_UPDATE, "components": json.dumps(ORDER_UPDATE["components"]), "allow_category_change": "true"}
    response = client.post(
        templates_url,
        urlencode(fields),
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 200, response.content
    assert SimulatedTemplate.objects.get().allow_category_change is True


def test_the_same_name_in_the_same_language_already_exists(graph, templates_url):
    _create(graph, templates_url)
    error = _graph_error(graph.post(templates_url, ORDER_UPDATE))
    assert error["error_subcode"] == 2388024
    assert "content in this language already exists" in error["error_user_msg"]
    assert error["error_user_title"] == "Content in This Language Already Exists"
    assert _create(graph, templates_url, language="pt_BR")["status"] == "PENDING"


def test_a_waba_holds_250_templates(graph, channel, templates_url):
    SimulatedTemplate.objects.bulk_create(
        SimulatedTemplate(
            waba_id=channel.waba_id, template_id=str(6 * 10**15 + n), name=f"t{n}", language="en", category="UTILITY"
        )
        for n in range(250)
    )
    error = _graph_error(graph.post(templates_url, ORDER_UPDATE))
    assert error["error_subcode"] == 2388019
    assert "250" in error["error_user_msg"]


def test_tokens_and_wabas_are_checked(graph, client, channel, templates_url):
    assert graph.get(templates_url, token="wrong").status_code == 401
    unknown = _graph_error(graph.get("/simulator/graph/v23.0/777777777777777/message_templates"))
    assert (unknown["type"], unknown["error_subcode"]) == ("GraphMethodException", 33)
    # A real (Meta) channel's WABA does not exist for the simulator.
    real = ChannelFactory(waba_id="888888888888888", graph_api_base="https://graph.facebook.com/v23.0")
    assert _graph_error(graph.get(f"/simulator/graph/v23.0/{real.waba_id}/message_templates"))["error_subcode"] == 33
    # Another simulated WABA's token may not read this one's templates.
    ChannelFactory(waba_id="999999999999999", graph_api_base=GRAPH_BASE, access_token="other-token")
    template = approved_template(channel)
    assert graph.get(f"/simulator/graph/v23.0/{template.template_id}", token="other-token").status_code == 401


def test_media_and_template_ids_do_not_collide(graph, channel):
    template = approved_template(channel)
    media_id = graph.upload(b"\xff\xd8\xff" + b"1" * 20).json()["id"]
    assert int(media_id) < 5 * 10**15 <= int(template.template_id)
    assert graph.get(f"/simulator/graph/v23.0/{media_id}").json()["mime_type"] == "image/jpeg"
    assert graph.get(f"/simulator/graph/v23.0/{template.template_id}").json()["name"] == "hello_world"


# Review


def test_review_approves_a_clean_template_and_says_so(
    graph, channel, templates_url, reviews_at_once, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        template_id = _create(graph, templates_url)["id"]

    template = SimulatedTemplate.objects.get()
    assert (template.status, template.approved_components) == ("APPROVED", template.components)
    [value] = change_values(channel, "message_template_status_update")
    assert value == {
        "event": "APPROVED",
        "message_template_id": int(template_id),
        "message_template_name": "order_update",
        "message_template_language": "en_US",
        "reason": "NONE",
        "message_template_category": "UTILITY",
    }
    # The inbox accepted it as a management event of the WABA.
    event = ManagementEvent.objects.get(field="message_template_status_update")
    assert (event.waba_id, event.value) == (channel.waba_id, value)


def test_review_rejects_invalid_formats_with_rejection_info(
    graph, channel, templates_url, reviews_at_once, django_capture_on_commit_callbacks
):
    body = {
        **ORDER_UPDATE,
        "components": [
            {
                "type": "BODY",
                "text": "{{1}}, your order ships today from our store.",
                "example": {"body_text": [["Ana"]]},
            }
        ],
    }
    with django_capture_on_commit_callbacks(execute=True):
        template_id = _create(graph, templates_url, body)["id"]

    assert SimulatedTemplate.objects.get().status == "REJECTED"
    [value] = change_values(channel, "message_template_status_update")
    assert value == {
        "event": "REJECTED",
        "message_template_id": int(template_id),
        "message_template_name": "order_update",
        "message_template_language": "en_US",
        "reason": "INVALID_FORMAT",
        "message_template_category": "UTILITY",
        "rejection_info": {
            "reason": "The body starts or ends with a variable.",
            "recommendation": "Put fixed text before the first and after the last variable.",
        },
    }
    document = graph.get(f"/simulator/graph/v23.0/{template_id}").json()
    assert (document["status"], document["rejected_reason"]) == ("REJECTED", "INVALID_FORMAT")


def test_promotional_utility_templates_are_in_the_wrong_category(
    graph, channel, templates_url, reviews_at_once, django_capture_on_commit_callbacks
):
    body = {**ORDER_UPDATE, "components": [{"type": "BODY", "text": "Huge sale today: 30% off all shoes!"}]}
    with django_capture_on_commit_callbacks(execute=True):
        _create(graph, templates_url, body)
    [value] = change_values(channel, "message_template_status_update")
    assert (value["event"], value["reason"]) == ("REJECTED", "INCORRECT_CATEGORY")
    assert "rejection_info" not in value


def test_allow_category_change_approves_as_marketing(
    graph, channel, templates_url, reviews_at_once, django_capture_on_commit_callbacks
):
    body = {
        **ORDER_UPDATE,
        "allow_category_change": True,
        "components": [{"type": "BODY", "text": "Huge sale today: 30% off all shoes!"}],
    }
    with django_capture_on_commit_callbacks(execute=True):
        template_id = _create(graph, templates_url, body)["id"]

    [status] = change_values(channel, "message_template_status_update")
    assert (status["event"], status["message_template_category"]) == ("APPROVED", "MARKETING")
    [category] = change_values(channel, "template_category_update")
    assert category == {
        "message_template_id": int(template_id),
        "message_template_name": "order_update",
        "message_template_language": "en_US",
        "previous_category": "UTILITY",
        "new_category": "MARKETING",
    }
    document = graph.get(f"/simulator/graph/v23.0/{template_id}").json()
    assert (document["category"], document["previous_category"]) == ("MARKETING", "UTILITY")


def test_abuse_and_scams_are_rejected(
    graph, channel, templates_url, reviews_at_once, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _create(
            graph,
            templates_url,
            {**ORDER_UPDATE, "name": "rude", "components": [{"type": "BODY", "text": "Pay up, you idiot."}]},
        )
        _create(
            graph,
            templates_url,
            {
                **ORDER_UPDATE,
                "name": "phish",
                "components": [{"type": "BODY", "text": "Reply with your password to keep your account."}],
            },
        )
    reasons = {
        v["message_template_name"]: v["reason"] for v in change_values(channel, "message_template_status_update")
    }
    assert reasons == {"rude": "ABUSIVE_CONTENT", "phish": "SCAM"}


def test_a_review_waits_for_the_configured_delay(
    graph, templates_url, settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.SIMULATOR_TEMPLATE_REVIEW_SECONDS = 7
    queued = []
    monkeypatch.setattr(
        "simulator.services.enqueue", lambda task, *args, countdown=0: queued.append((task.name, args, countdown))
    )
    _create(graph, templates_url)
    template = SimulatedTemplate.objects.get()
    assert queued == [("simulator.tasks.review_template", (template.pk, 1), 7.0)]


# Edit and delete


def test_editing_an_approved_template_keeps_the_approved_version_for_sends(
    graph, channel, control, reviews_at_once, django_capture_on_commit_callbacks
):
    template = approved_template(channel, name="order_update", components=ORDER_UPDATE["components"])
    old_components = template.components
    new_components = [
        {
            "type": "BODY",
            "text": "Hello {{1}}, your parcel {{2}} is on its way.",
            "example": {"body_text": [["Ana", "#1"]]},
        }
    ]
    operation = _operation("/{Version}/{TEMPLATE_ID}", "post")
    oa_validate({"components": new_components}, operation["requestBody"]["content"]["application/json"]["schema"])

    with django_capture_on_commit_callbacks() as pending:
        answer = graph.post(f"/simulator/graph/v23.0/{template.template_id}", {"components": new_components})
    assert answer.status_code == 200 and answer.json() == {"success": True}
    template.refresh_from_db()
    assert (template.status, template.components, template.approved_components) == (
        "PENDING",
        new_components,
        old_components,
    )
    assert graph.get(f"/simulator/graph/v23.0/{template.template_id}").json()["components"] == new_components

    # While the edit is in review, sends go out with the approved content.
    send = template_message(
        "order_update",
        components=[
            {"type": "header", "parameters": [{"type": "text", "text": "#9"}]},
            {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "#9"}]},
        ],
    )
    response = graph.send(send)
    assert response.status_code == 200, response.content
    assert SimulatedMessage.objects.get().template["components"] == old_components

    # Once approved, the new content is the one a send must fit.
    with django_capture_on_commit_callbacks(execute=True):
        for callback in pending:
            callback()
    template.refresh_from_db()
    assert (template.status, template.approved_components) == ("APPROVED", new_components)
    assert _graph_error(graph.send(send), 132000)["error_data"]["details"].startswith("header:")

    # One edit in 24 hours for an approved template.
    again = _graph_error(graph.post(f"/simulator/graph/v23.0/{template.template_id}", {"components": old_components}))
    assert again["error_user_title"] == "Cannot Edit Message Template"
    assert "once in 24 hours" in again["error_user_msg"]


def test_a_rejected_edit_leaves_the_approved_version_sending(
    graph, channel, reviews_at_once, django_capture_on_commit_callbacks
):
    template = approved_template(channel, name="order_update", components=ORDER_UPDATE["components"])
    approved = template.components
    bad_edit = [{"type": "BODY", "text": "{{1}} ships today", "example": {"body_text": [["#1"]]}}]
    with django_capture_on_commit_callbacks(execute=True):
        answer = graph.post(f"/simulator/graph/v23.0/{template.template_id}", {"components": bad_edit})
    assert answer.status_code == 200
    template.refresh_from_db()
    # The webhook said REJECTED (with the reason) for the edit; the approved version stays and sends.
    [rejected] = [value for value in change_values(channel, "message_template_status_update")]
    assert (rejected["event"], rejected["reason"]) == ("REJECTED", "INVALID_FORMAT")
    assert (template.status, template.components, template.approved_components) == ("APPROVED", approved, approved)
    send = template_message(
        "order_update",
        components=[
            {"type": "header", "parameters": [{"type": "text", "text": "#9"}]},
            {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "#9"}]},
        ],
    )
    assert graph.send(send).status_code == 200


def test_only_approved_rejected_and_paused_templates_may_be_edited(graph, channel, templates_url):
    template_id = _create(graph, templates_url)["id"]
    error = _graph_error(
        graph.post(f"/simulator/graph/v23.0/{template_id}", {"components": ORDER_UPDATE["components"]})
    )
    assert error["error_user_msg"] == (
        "A PENDING template cannot be edited: only APPROVED, REJECTED and PAUSED templates can."
    )
    SimulatedTemplate.objects.update(status="REJECTED", rejected_reason="INVALID_FORMAT")
    edited = graph.post(
        f"/simulator/graph/v23.0/{template_id}", {"components": ORDER_UPDATE["components"], "category": "MARKETING"}
    )
    assert edited.json() == {"success": True}
    template = SimulatedTemplate.objects.get()
    assert (template.status, template.category, template.rejected_reason) == ("PENDING", "MARKETING", "NONE")
    renamed = _graph_error(
        graph.post(f"/simulator/graph/v23.0/{template_id}", {"name": "other", "components": ORDER_UPDATE["components"]})
    )
    assert "cannot be changed" in renamed["error_user_msg"]


def test_an_approved_templates_category_cannot_be_edited(graph, channel):
    template = approved_template(channel)
    error = _graph_error(graph.post(f"/simulator/graph/v23.0/{template.template_id}", {"category": "MARKETING"}))
    assert error["error_user_msg"] == "The category of an approved template cannot be changed."


def test_delete_by_name_or_by_id(graph, channel, templates_url):
    english = approved_template(channel, name="order_update", components=ORDER_UPDATE["components"])
    approved_template(channel, name="order_update", language="pt_BR", components=ORDER_UPDATE["components"])
    approved_template(channel, name="other")

    by_id = graph.delete(f"{templates_url}?name=order_update&hsm_id={english.template_id}")
    assert (by_id.status_code, by_id.json()) == (200, {"success": True})
    assert list(SimulatedTemplate.objects.values_list("name", "language")) == [
        ("order_update", "pt_BR"),
        ("other", "en_US"),
    ]
    assert graph.delete(f"{templates_url}?name=order_update").json() == {"success": True}
    assert list(SimulatedTemplate.objects.values_list("name", flat=True)) == ["other"]

    missing = graph.delete(f"{templates_url}?name=fake%20name")
    assert missing.status_code == 400
    error = missing.json()["error"]
    # RB:templates/delete_template_with_error_response, byte for byte but the trace id.
    assert {key: value for key, value in error.items() if key != "fbtrace_id"} == {
        "message": "Invalid parameter",
        "type": "OAuthException",
        "code": 100,
        "error_subcode": 2593002,
        "is_transient": False,
        "error_user_title": "Message Template Not Found",
        "error_user_msg": "The message template fake name wasn't found for this account.",
    }
    assert missing["WWW-Authenticate"] == 'OAuth "Facebook Platform" "invalid_request" "Invalid parameter"'


# Sending a template message


def _send_error(graph, body, code):
    error = _graph_error(graph.send(body), code)
    assert set(error) == {"message", "type", "code", "error_data", "fbtrace_id"}
    assert error["type"] == "OAuthException" and error["message"].startswith(f"(#{code}) ")
    assert error["error_data"]["messaging_product"] == "whatsapp"
    return error


def test_unknown_or_unapproved_templates_do_not_exist_in_the_translation(graph, channel):
    error = _send_error(graph, template_message("nope"), 132001)
    assert error["message"] == "(#132001) Template name does not exist in the translation"
    assert error["error_data"]["details"] == "template name (nope) does not exist in en_US"
    approved_template(channel)
    assert _send_error(graph, template_message(language="en"), 132001)
    assert _send_error(graph, template_message(language="en-US"), 132001)
    for status in ("PENDING", "REJECTED", "IN_APPEAL"):
        SimulatedTemplate.objects.update(status=status, approved_components=None)
        _send_error(graph, template_message(), 132001)
    # A template of another WABA is not this number's.
    SimulatedTemplate.objects.update(
        status="APPROVED", approved_components=SimulatedTemplate.objects.get().components, waba_id="1"
    )
    _send_error(graph, template_message(), 132001)
    assert not SimulatedMessage.objects.exists()


@pytest.mark.parametrize(
    ("status", "code", "title"),
    [
        ("PAUSED", 132015, "(#132015) Template is Paused"),
        ("DISABLED", 132016, "(#132016) Template is Disabled"),
    ],
)
def test_paused_and_disabled_templates_are_refused(graph, channel, status, code, title):
    approved_template(channel)
    SimulatedTemplate.objects.update(status=status)
    assert _send_error(graph, template_message(), code)["message"] == title


@pytest.mark.parametrize("status", ["APPROVED", "FLAGGED", "REINSTATED"])
def test_approved_flagged_and_reinstated_templates_send(graph, channel, status):
    approved_template(channel)
    SimulatedTemplate.objects.update(status=status)
    response = graph.send(template_message())
    assert response.status_code == 200, response.content
    assert response.json()["messages"][0]["message_status"] == "accepted"


def test_parameters_must_fit_the_template(graph, channel):
    approved_template(channel, name="order_update", components=ORDER_UPDATE["components"])
    header = {"type": "HEADER", "parameters": [{"type": "TEXT", "text": "#1"}]}
    body = {"type": "BODY", "parameters": [{"type": "TEXT", "text": "Ana"}, {"type": "TEXT", "text": "#1"}]}
    ok = graph.send(template_message("order_update", components=[header, body]))
    assert ok.status_code == 200, ok.content

    short = _send_error(
        graph,
        template_message("order_update", components=[header, {**body, "parameters": body["parameters"][:1]}]),
        132000,
    )
    assert short["message"] == "(#132000) Number of parameters does not match the expected number of params"
    assert (
        short["error_data"]["details"]
        == "body: number of localizable_params (1) does not match the expected number of params (2)"
    )
    _send_error(graph, template_message("order_update", components=[body]), 132000)
    image = {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://example.com/a.jpg"}}]}
    mismatch = _send_error(graph, template_message("order_update", components=[image, body]), 132012)
    assert mismatch["message"] == "(#132012) Parameter format does not match format in the created template"
    assert mismatch["error_data"]["details"] == "header: Format mismatch, expected TEXT, received IMAGE"
    assert SimulatedMessage.objects.count() == 1


def test_named_templates_want_their_parameter_names(graph, channel):
    approved_template(
        channel,
        name="ready",
        parameter_format="named",
        components=[
            {
                "type": "BODY",
                "text": "Hi {{first_name}}, your order is ready for pickup.",
                "example": {"body_text_named_params": [{"param_name": "first_name", "example": "Ana"}]},
            }
        ],
    )
    named = [{"type": "body", "parameters": [{"type": "text", "parameter_name": "first_name", "text": "Ana"}]}]
    assert graph.send(template_message("ready", components=named)).status_code == 200
    positional = [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}]
    assert (
        "parameter_name"
        in _send_error(graph, template_message("ready", components=positional), 132000)["error_data"]["details"]
    )
    wrong = [{"type": "body", "parameters": [{"type": "text", "parameter_name": "name", "text": "Ana"}]}]
    _send_error(graph, template_message("ready", components=wrong), 132000)


def test_marketing_templates_are_billed_as_marketing(graph, channel, django_capture_on_commit_callbacks):
    approved_template(channel, name="spring_sale", category="MARKETING")
    with django_capture_on_commit_callbacks(execute=True):
        assert graph.send(template_message("spring_sale")).status_code == 200
    assert SimulatedMessage.objects.get().pricing == {
        "billable": True,
        "pricing_model": "PMP",
        "type": "regular",
        "category": "marketing",
    }
