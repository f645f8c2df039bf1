"""A person acting as Meta on templates (control API and the page's panel), each with the webhook Meta
sends, and template messages on the customer's phone."""

import json
import re

import pytest
from django.test import Client

from inbox.models import ManagementEvent, Message
from simulator.models import SimulatedTemplate, SimulatedWebhook
from tests.factories import ChannelFactory
from tests.simulator.conftest import approved_template, template_message
from tests.simulator.test_templates import ORDER_UPDATE, change_values

pytestmark = pytest.mark.django_db
CUSTOMER = "16505551234"
HTMX = {"HX-Request": "true"}


def _names(template):
    return {
        "message_template_id": int(template.template_id),
        "message_template_name": template.name,
        "message_template_language": template.language,
    }


def _act(control, template, action, django_capture_on_commit_callbacks, **fields):
    with django_capture_on_commit_callbacks(execute=True):
        response = control.post(f"templates/{template.template_id}/{action}", fields)
    assert response.status_code == 200, response.content
    return response.json()


# Control API


def test_control_api_adds_lists_and_shows_templates(control, channel):
    response = control.post(
        "templates",
        {"phone_number_id": channel.phone_number_id, **ORDER_UPDATE},
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["status"], created["sendable"], created["waba_id"]) == ("APPROVED", True, channel.waba_id)
    assert created["approved_components"] == created["components"]
    assert not SimulatedWebhook.objects.exists()  # seeded, as if approved long ago

    listing = control.get("templates", waba_id=channel.waba_id).json()
    assert [t["id"] for t in listing["templates"]] == [created["id"]]
    assert control.get(f"templates/{created['id']}").json()["name"] == "order_update"

    duplicate = control.post("templates", {"waba_id": channel.waba_id, **ORDER_UPDATE})
    assert duplicate.status_code == 400
    assert duplicate.json()["code"] == "invalid_template"
    assert "already exists" in duplicate.json()["detail"]


def test_control_api_can_submit_for_review(control, channel, settings, django_capture_on_commit_callbacks):
    settings.SIMULATOR_TEMPLATE_REVIEW_SECONDS = 0
    with django_capture_on_commit_callbacks(execute=True):
        response = control.post("templates", {"waba_id": channel.waba_id, "status": "PENDING", **ORDER_UPDATE})
    assert response.json()["status"] == "PENDING"
    assert SimulatedTemplate.objects.get().status == "APPROVED"
    assert [v["event"] for v in change_values(channel, "message_template_status_update")] == ["APPROVED"]


def test_control_api_refuses_what_it_does_not_simulate(control, channel):
    real = ChannelFactory(waba_id="888888888888888", graph_api_base="https://graph.facebook.com/v23.0")
    assert control.get("templates", waba_id=real.waba_id).status_code == 403
    assert control.get("templates", waba_id="123").json()["code"] == "unknown_waba"
    assert control.get("templates/123").status_code == 404
    template = approved_template(channel)
    unknown = control.post(f"templates/{template.template_id}/archive", {})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_action")
    assert control.get(f"templates/{template.template_id}/approve").status_code == 405


def test_approve_and_reject_now(control, channel, django_capture_on_commit_callbacks):
    pending = SimulatedTemplate.objects.get(
        template_id=control.post("templates", {"waba_id": channel.waba_id, "status": "PENDING", **ORDER_UPDATE}).json()[
            "id"
        ]
    )
    approved = _act(control, pending, "approve", django_capture_on_commit_callbacks)
    assert (approved["status"], approved["sendable"]) == ("APPROVED", True)

    other = SimulatedTemplate.objects.get(
        template_id=control.post(
            "templates", {"waba_id": channel.waba_id, "status": "PENDING", **ORDER_UPDATE, "name": "other"}
        ).json()["id"]
    )
    rejected = _act(control, other, "reject", django_capture_on_commit_callbacks, reason="scam")
    assert (rejected["status"], rejected["rejected_reason"], rejected["sendable"]) == ("REJECTED", "SCAM", False)

    approval, rejection = change_values(channel, "message_template_status_update")
    assert approval == {
        "event": "APPROVED",
        **_names(pending),
        "reason": "NONE",
        "message_template_category": "UTILITY",
    }
    # Key order as Meta writes it.
    assert list(approval) == [
        "event",
        "message_template_id",
        "message_template_name",
        "message_template_language",
        "reason",
        "message_template_category",
    ]
    assert rejection == {"event": "REJECTED", **_names(other), "reason": "SCAM", "message_template_category": "UTILITY"}

    # A rejected template may still be approved (after an appeal); an approved one is not rejected.
    assert control.post(f"templates/{other.template_id}/approve", {}).status_code == 200
    again = control.post(f"templates/{other.template_id}/reject", {"reason": "SCAM"})
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")
    assert "can be rejected; this one is APPROVED" in again.json()["detail"]
    no_reason = control.post(f"templates/{other.template_id}/reject", {"reason": "NONE"})
    assert (no_reason.status_code, no_reason.json()["code"]) == (400, "invalid_reason")


def test_reject_for_format_explains_it(control, channel, django_capture_on_commit_callbacks):
    template = SimulatedTemplate.objects.get(
        template_id=control.post("templates", {"waba_id": channel.waba_id, "status": "PENDING", **ORDER_UPDATE}).json()[
            "id"
        ]
    )
    _act(control, template, "reject", django_capture_on_commit_callbacks, reason="INVALID_FORMAT")
    [value] = change_values(channel, "message_template_status_update")
    assert value["reason"] == "INVALID_FORMAT"
    assert set(value["rejection_info"]) == {"reason", "recommendation"}


def test_the_life_of_a_template_in_webhooks(control, channel, graph, django_capture_on_commit_callbacks):
    template = approved_template(channel)
    base = {**_names(template), "reason": "NONE", "message_template_category": "UTILITY"}

    assert _act(control, template, "flag", django_capture_on_commit_callbacks)["status"] == "FLAGGED"
    assert graph.send(template_message()).status_code == 200  # flagged templates still send
    assert (
        _act(control, template, "pause", django_capture_on_commit_callbacks, title="FIRST_PAUSE")["status"] == "PAUSED"
    )
    assert graph.send(template_message()).json()["error"]["code"] == 132015
    assert _act(control, template, "unpause", django_capture_on_commit_callbacks)["status"] == "APPROVED"
    _act(control, template, "pause", django_capture_on_commit_callbacks, title="SECOND_PAUSE")
    assert _act(control, template, "disable", django_capture_on_commit_callbacks)["status"] == "DISABLED"
    assert graph.send(template_message()).json()["error"]["code"] == 132016
    assert _act(control, template, "reinstate", django_capture_on_commit_callbacks)["status"] == "REINSTATED"
    assert graph.send(template_message()).status_code == 200

    values = change_values(channel, "message_template_status_update")
    assert [v["event"] for v in values] == ["FLAGGED", "PAUSED", "APPROVED", "PAUSED", "DISABLED", "REINSTATED"]
    flagged, first_pause, unpaused, second_pause, disabled, reinstated = values
    assert flagged == {"event": "FLAGGED", **base}
    assert first_pause == {
        "event": "PAUSED",
        **base,
        "other_info": {"title": "FIRST_PAUSE", "description": first_pause["other_info"]["description"]},
    }
    assert re.fullmatch(
        r"Your WhatsApp message template has been paused for 3 hours until \w{3} \d{1,2} at \d{1,2}:\d{2} [AP]M UTC "
        r"because it had issues\.",
        first_pause["other_info"]["description"],
    )
    assert second_pause["other_info"]["title"] == "SECOND_PAUSE"
    assert "for 6 hours" in second_pause["other_info"]["description"]
    assert unpaused == {
        "event": "APPROVED",
        **base,
        "other_info": {"title": "UNPAUSE", "description": "Your WhatsApp message template has been unpaused."},
    }
    assert disabled == {
        "event": "DISABLED",
        **base,
        "disable_info": {"disable_date": disabled["disable_info"]["disable_date"]},
    }
    assert isinstance(disabled["disable_info"]["disable_date"], int)
    assert reinstated == {"event": "REINSTATED", **base}
    assert ManagementEvent.objects.filter(field="message_template_status_update").count() == 6


def test_quality_changes(control, channel, django_capture_on_commit_callbacks):
    template = approved_template(channel)
    answer = _act(control, template, "quality", django_capture_on_commit_callbacks, score="red")
    assert answer["quality_score"]["score"] == "RED"
    _act(control, template, "quality", django_capture_on_commit_callbacks, score="GREEN")
    assert change_values(channel, "message_template_quality_update") == [
        {"previous_quality_score": "UNKNOWN", "new_quality_score": "RED", **_names(template)},
        {"previous_quality_score": "RED", "new_quality_score": "GREEN", **_names(template)},
    ]
    same = control.post(f"templates/{template.template_id}/quality", {"score": "GREEN"})
    assert (same.status_code, same.json()["code"]) == (409, "unchanged")
    assert control.post(f"templates/{template.template_id}/quality", {"score": "BLUE"}).status_code == 400


def test_category_changes_done_and_impending(control, channel, django_capture_on_commit_callbacks):
    template = approved_template(channel)
    impending = _act(
        control, template, "category", django_capture_on_commit_callbacks, category="MARKETING", impending=True
    )
    assert impending["category"] == "UTILITY"  # nothing changes for 24 hours
    done = _act(control, template, "category", django_capture_on_commit_callbacks, category="MARKETING")
    assert (done["category"], done["previous_category"]) == ("MARKETING", "UTILITY")

    announced, changed = change_values(channel, "template_category_update")
    # The impending variant: correct_category is the target, new_category the *current* one (§10, §14.9).
    assert announced == {
        **_names(template),
        "correct_category": "MARKETING",
        "new_category": "UTILITY",
        "category_update_timestamp": announced["category_update_timestamp"],
    }
    assert announced["category_update_timestamp"] - json.loads(
        bytes(SimulatedWebhook.objects.filter(field="template_category_update").first().raw_body)
    )["entry"][0]["time"] in range(86399, 86401)
    assert changed == {**_names(template), "previous_category": "UTILITY", "new_category": "MARKETING"}


# The page's panel


def test_the_panel_lists_the_wabas_templates(client, channel):
    approved_template(channel)
    approved_template(channel, name="promo", category="MARKETING")
    page = client.get(f"/simulator/?number={channel.phone_number_id}").content.decode()
    assert 'data-testid="templates-panel"' in page
    assert page.count('data-testid="template-row"') == 2
    assert ">APPROVED<" in page and ">MARKETING<" in page and "Quality UNKNOWN" in page
    # Approved templates offer flag, pause and disable; not approve or unpause.
    row = page.split('data-testid="template-row"')[1]
    for action in ("flag", "pause", "disable", "quality", "category"):
        assert f'data-testid="template-{action}"' in row
    for action in ("approve", "reject", "unpause", "reinstate"):
        assert f'data-testid="template-{action}"' not in row


def test_panel_actions_are_csrf_protected_forms(channel, django_capture_on_commit_callbacks):
    template = approved_template(channel)
    browser = Client(enforce_csrf_checks=True)
    url = f"/simulator/phone/templates/{template.template_id}/pause"
    assert browser.post(url, {"number": channel.phone_number_id, "title": "FIRST_PAUSE"}).status_code == 403

    page = browser.get(f"/simulator/?number={channel.phone_number_id}").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(
            url,
            {"csrfmiddlewaretoken": token, "number": channel.phone_number_id, "customer": "", "title": "SECOND_PAUSE"},
        )
    assert response.status_code == 302
    assert response["Location"] == f"/simulator/?number={channel.phone_number_id}#sim-templates"
    template.refresh_from_db()
    assert template.status == "PAUSED"
    [value] = change_values(channel, "message_template_status_update")
    assert value["other_info"]["title"] == "SECOND_PAUSE"


def test_a_refused_panel_action_is_explained(client, channel):
    template = approved_template(channel)
    response = client.post(
        f"/simulator/phone/templates/{template.template_id}/unpause", {"number": channel.phone_number_id}
    )
    assert response.status_code == 409
    assert 'data-testid="template-error"' in response.content.decode()
    assert "can be unpaused; this one is APPROVED" in response.content.decode()


# Template messages on the customer's phone

HOSTILE = '<img src=x onerror="alert(1)">'
SHOWCASE = [
    {"type": "HEADER", "format": "TEXT", "text": "Order {{1}} <b>update</b>", "example": {"header_text": ["#1"]}},
    {
        "type": "BODY",
        "text": "Hi {{1}}, your order of {{2}} ships {{3}}. <script>alert(2)</script>",
        "example": {"body_text": [["Ana", "$10", "today"]]},
    },
    {"type": "FOOTER", "text": "Reply STOP to opt out"},
    {
        "type": "BUTTONS",
        "buttons": [
            {"type": "QUICK_REPLY", "text": "Track it"},
            {"type": "QUICK_REPLY", "text": "Stop updates"},
            {
                "type": "URL",
                "text": "See order",
                "url": "https://shop.example.com/orders/{{1}}",
                "example": ["https://shop.example.com/orders/1"],
            },
            {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "15550001111"},
        ],
    },
]


def _showcase_message(order="#1042"):
    return template_message(
        "order_showcase",
        components=[
            {"type": "header", "parameters": [{"type": "text", "text": order}]},
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": HOSTILE},
                    {"type": "currency", "currency": {"fallback_value": "$10.99", "code": "USD", "amount_1000": 10990}},
                    {"type": "date_time", "date_time": {"fallback_value": "tomorrow"}},
                ],
            },
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": "0",
                "parameters": [{"type": "payload", "payload": "TRACK-1042"}],
            },
            {
                "type": "button",
                "sub_type": "url",
                "index": 2,
                "parameters": [{"type": "text", "text": '1042?x="><script>'}],
            },
        ],
    )


@pytest.fixture
def showcase(channel, graph, control, django_capture_on_commit_callbacks):
    approved_template(channel, name="order_showcase", components=SHOWCASE)
    with django_capture_on_commit_callbacks(execute=True):
        control.inbound(type="text", text="Hi")
        response = graph.send(_showcase_message())
    assert response.status_code == 200, response.content
    return response.json()["messages"][0]["id"]


def test_the_phone_shows_the_template_as_the_customer_sees_it(client, channel, showcase):
    page = client.get(f"/simulator/?number={channel.phone_number_id}&customer={CUSTOMER}").content.decode()
    bubble = page.split(f'data-wamid="{showcase}"')[1].split("</li>")[0]
    assert "Order #1042 &lt;b&gt;update&lt;/b&gt;" in bubble
    assert (
        "Hi &lt;img src=x onerror=&quot;alert(1)&quot;&gt;, your order of $10.99 ships tomorrow. "
        "&lt;script&gt;alert(2)&lt;/script&gt;"
    ) in bubble
    assert "Reply STOP to opt out" in bubble
    assert "<script>" not in bubble and "<img src=x" not in bubble and "<b>update" not in bubble
    assert bubble.count('data-testid="reply-button"') == 2
    assert 'name="payload" value="TRACK-1042"' in bubble
    assert 'name="payload" value="Stop updates"' in bubble  # no payload sent: the button's text
    link = re.search(r'<a [^>]*data-testid="url-button"[^>]*>', bubble).group(0)
    assert 'href="https://shop.example.com/orders/1042?x=&quot;&gt;&lt;script&gt;"' in link
    assert 'target="_blank"' in link and 'rel="noopener noreferrer"' in link
    assert 'data-testid="phone-button"' in bubble and "+15550001111" in bubble


def test_tapping_a_quick_reply_answers_with_metas_button_message(
    client, channel, showcase, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/simulator/phone/send",
            {
                "number": channel.phone_number_id,
                "customer": CUSTOMER,
                "kind": "button",
                "payload": "TRACK-1042",
                "text": "Track it",
                "context_message_id": showcase,
            },
            headers=HTMX,
        )
    assert response.status_code == 200
    webhook = SimulatedWebhook.objects.filter(kind="message").order_by("id").last()
    message = json.loads(bytes(webhook.raw_body))["entry"][0]["changes"][0]["value"]["messages"][0]
    assert message["type"] == "button"
    assert message["button"] == {"payload": "TRACK-1042", "text": "Track it"}
    assert message["context"] == {"from": "15550783881", "id": showcase}
    reply = Message.objects.get(type="button")
    assert (reply.text, reply.reply_to_provider_id) == ("Track it", showcase)


def test_a_message_keeps_the_content_it_was_sent_with(
    client, channel, graph, showcase, settings, django_capture_on_commit_callbacks
):
    settings.SIMULATOR_TEMPLATE_REVIEW_SECONDS = 0
    template = SimulatedTemplate.objects.get(name="order_showcase")
    edited = [dict(component) for component in SHOWCASE]
    edited[2] = {"type": "FOOTER", "text": "New footer"}
    with django_capture_on_commit_callbacks(execute=True):
        assert graph.post(f"/simulator/graph/v23.0/{template.template_id}", {"components": edited}).json() == {
            "success": True
        }
    template.refresh_from_db()
    assert template.status == "APPROVED"
    page = client.get(f"/simulator/?number={channel.phone_number_id}&customer={CUSTOMER}").content.decode()
    assert "Reply STOP to opt out" in page and "New footer" not in page


def test_authentication_copy_code_and_media_headers(
    client, channel, graph, control, django_capture_on_commit_callbacks
):
    approved_template(
        channel,
        name="login_code",
        category="AUTHENTICATION",
        components=[
            {"type": "BODY", "add_security_recommendation": True},
            {"type": "FOOTER", "code_expiration_minutes": 10},
            {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}]},
        ],
    )
    approved_template(
        channel,
        name="receipt",
        components=[
            {"type": "HEADER", "format": "DOCUMENT"},
            {"type": "BODY", "text": "Your receipt is attached above. Thank you for shopping with us."},
            {"type": "BUTTONS", "buttons": [{"type": "COPY_CODE", "example": "SAVE10"}]},
        ],
    )
    code = [
        {"type": "body", "parameters": [{"type": "text", "text": "482913"}]},
        {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "482913"}]},
    ]
    receipt = [
        {
            "type": "header",
            "parameters": [
                {"type": "document", "document": {"link": "https://example.com/r.pdf", "filename": "receipt.pdf"}}
            ],
        },
        {
            "type": "button",
            "sub_type": "copy_code",
            "index": 0,
            "parameters": [{"type": "coupon_code", "coupon_code": "THANKS5"}],
        },
    ]
    with django_capture_on_commit_callbacks(execute=True):
        control.inbound(type="text", text="Hi")
        assert graph.send(template_message("login_code", components=code)).status_code == 200
        assert graph.send(template_message("receipt", components=receipt)).status_code == 200
    page = client.get(f"/simulator/?number={channel.phone_number_id}&customer={CUSTOMER}").content.decode()
    assert "482913 is your verification code. For your security, do not share this code." in page
    assert "This code expires in 10 minutes." in page
    assert page.count('data-testid="copy-code-button"') == 2
    assert '<code dir="ltr">482913</code>' in page and '<code dir="ltr">THANKS5</code>' in page
    assert 'href="https://example.com/r.pdf"' in page and "receipt.pdf" in page
