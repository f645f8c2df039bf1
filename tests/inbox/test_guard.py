"""The pre-send guard before anything is queued: the API answers 422 `{"code", "detail"}` for each of the
guard's refusals, the composer says the sentence where the agent tried, and says it BEFORE anyone types: a
held identity closes the composer, and the template picker marks each template this customer cannot get now
as unavailable, with the sentence, instead of letting the agent fill it in."""

import re
from datetime import timedelta

import pytest
import respx
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from inbox.models import (
    BusinessInitiatedReach,
    ConsentAction,
    ConsentEvent,
    ConsentSource,
    Message,
    NumberStatus,
    OutboxEntry,
)
from tests.api.conftest import token_client
from tests.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    UserFactory,
    consenting,
    live_template,
    worked_by,
)

pytestmark = pytest.mark.django_db

VALUES = {"header.1": "#77", "body.1": "Ana", "body.2": "#77"}
FORM_VALUES = {"var:header.1": "#77", "var:body.1": "Ana", "var:body.2": "#77"}
PROMO = [{"type": "BODY", "text": "Spring sale: 20% off this week."}]


@pytest.fixture(autouse=True)
def _no_network():
    with respx.mock(assert_all_called=False):
        yield


@pytest.fixture
def channel(db):
    return ChannelFactory(name="Sales", messaging_limit=250)


@pytest.fixture
def agent(channel):
    agent = UserFactory(role=Role.AGENT)
    worked_by(agent, channel)
    return agent


@pytest.fixture
def contact(db):
    return ContactFactory(profile_name="Ana Sousa", wa_id="351912345678")


@pytest.fixture
def conversation(channel, contact):
    """The customer wrote two days ago: the window is closed."""
    wrote_at = timezone.now() - timedelta(days=2)
    return ConversationFactory(
        channel=channel,
        contact=contact,
        last_inbound_at=wrote_at,
        service_window_closes_at=wrote_at + timedelta(hours=24),
    )


@pytest.fixture
def utility(channel):
    return live_template(waba_id=channel.waba_id, name="order_update", category="UTILITY")


@pytest.fixture
def promo(channel):
    return live_template(waba_id=channel.waba_id, name="spring_sale", category="MARKETING", components=PROMO)


def opt_out(contact, purpose):
    ConsentEvent.objects.create(
        contact=contact,
        purpose=purpose,
        action=ConsentAction.OPT_OUT,
        source=ConsentSource.KEYWORD,
        occurred_at=timezone.now(),
        evidence="STOP",
    )


def hold_identity(contact):
    contact.identity_held_since = timezone.now()
    contact.identity_hold_reason = "The customer's WhatsApp number changed."
    contact.save(update_fields=["identity_held_since", "identity_hold_reason"])


def api_send(agent, conversation, template):
    return token_client(agent).post(
        f"/api/v1/conversations/{conversation.pk}/messages/",
        {"type": "template", "template": {"id": template.pk, "values": VALUES}},
        format="json",
    )


def nothing_queued() -> bool:
    return not (Message.objects.filter(direction="outbound").exists() or OutboxEntry.objects.exists())


# --- the API: 422 with the guard's code and sentence ------------------------------------------------------------


def arrange(case, *, conversation, contact, channel):
    if case == "no_consent":
        return
    consenting(contact, "utility")
    if case == "opted_out":
        opt_out(contact, "utility")
    elif case == "identity_unconfirmed":
        hold_identity(contact)
    elif case == "number_restricted":
        channel.number_status = NumberStatus.RESTRICTED
        channel.save(update_fields=["number_status"])
    elif case == "messaging_limit_reached":
        channel.messaging_limit = 1
        channel.save(update_fields=["messaging_limit"])
        BusinessInitiatedReach.objects.create(
            waba_id=channel.waba_id,
            contact=ContactFactory(),
            channel=channel,
            reached_at=timezone.now() - timedelta(hours=20),
        )


GUARD_REFUSALS = [
    ("no_consent", "has not agreed to receive this kind of message"),
    ("opted_out", "asked not to receive this kind of message"),
    ("identity_unconfirmed", "must acknowledge it on the contact"),
    ("number_restricted", "WhatsApp has restricted this number"),
    ("messaging_limit_reached", "Room for a new customer returns around"),
]


@pytest.mark.parametrize(("case", "says"), GUARD_REFUSALS)
def test_the_api_answers_422_with_the_code_and_a_sentence(case, says, agent, conversation, contact, channel, utility):
    arrange(case, conversation=conversation, contact=contact, channel=channel)
    response = api_send(agent, conversation, utility)
    assert response.status_code == 422, response.content
    body = response.json()
    assert set(body) == {"code", "detail"}
    assert body["code"] == case
    assert says in body["detail"] and body["detail"].endswith(".")
    assert nothing_queued()


def test_the_api_sends_when_every_rule_holds(agent, conversation, contact, utility):
    consenting(contact, "utility")
    response = api_send(agent, conversation, utility)
    assert response.status_code == 201, response.content
    assert response.json()["waiting"] is None


@pytest.mark.parametrize(("case", "says"), GUARD_REFUSALS)
def test_the_composer_says_the_sentence_where_the_agent_tried(
    case, says, agent, conversation, contact, channel, utility
):
    arrange(case, conversation=conversation, contact=contact, channel=channel)
    client = Client()
    client.force_login(agent)
    response = client.post(
        reverse("inbox:template-send", args=[conversation.pk]),
        {"template_id": utility.pk, **FORM_VALUES},
        HTTP_X_REQUESTED_WITH="fetch",
    )
    assert response.status_code == 409
    assert response.json()["code"] == case and says in response.json()["detail"]
    assert nothing_queued()


def test_an_identity_hold_refuses_free_text_too_and_closes_the_composer(agent, contact, channel):
    conversation = ConversationFactory(
        channel=channel,
        contact=contact,
        last_inbound_at=timezone.now() - timedelta(minutes=5),
        service_window_closes_at=timezone.now() + timedelta(hours=23),
    )
    hold_identity(contact)
    client = Client()
    client.force_login(agent)
    response = client.post(reverse("inbox:message-send", args=[conversation.pk]), {"body": "Hello"})
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "identity_unconfirmed"
    # The answer carries the composer in its closed state, for the page to swap in.
    assert 'data-guard="identity_unconfirmed"' in body["composer"]
    assert nothing_queued()


# --- said before the agent types ----------------------------------------------------------------------------------


def composer_html(client, conversation) -> str:
    return client.get(reverse("inbox:composer", args=[conversation.pk])).content.decode()


def test_the_composer_says_the_identity_is_held_before_anyone_types(agent, contact, channel):
    conversation = ConversationFactory(
        channel=channel,
        contact=contact,
        last_inbound_at=timezone.now() - timedelta(minutes=5),
        service_window_closes_at=timezone.now() + timedelta(hours=23),
    )
    client = Client()
    client.force_login(agent)
    assert 'placeholder="Write a reply' in composer_html(client, conversation)
    hold_identity(contact)
    html = composer_html(client, conversation)
    assert 'placeholder="Write a reply' not in html
    assert 'data-guard="identity_unconfirmed"' in html
    assert "must acknowledge it on the contact" in html
    assert f'href="#identity-{contact.pk}"' in html  # the way forward: the identity panel beside the thread
    assert "data-template-picker" not in html  # templates are held too
    # The thread page says the same.
    page = client.get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()
    assert 'data-guard="identity_unconfirmed"' in page


def test_a_manager_sees_the_managers_sentence_not_the_guards(contact, channel):
    manager = UserFactory(role=Role.MANAGER)
    conversation = ConversationFactory(channel=channel, contact=contact)
    hold_identity(contact)
    client = Client()
    client.force_login(manager)
    html = composer_html(client, conversation)
    assert "Managers read conversations" in html and "data-guard" not in html


def picker_options(html: str) -> dict[str, str]:
    """Each option's template name → its unavailability sentence ("" when it can be chosen)."""
    options = {}
    for option in re.findall(r'<li id="tpl-option-\d+".*?</li>', html, re.S):
        name = re.search(r'class="tpl-name">([^<]+)<', option).group(1)
        why = re.search(r'class="tpl-unavailable"[^>]*>(.*?)</span>\s*$', option.strip()[:-5], re.S)
        if why is None:
            assert "data-form-url" in option
            options[name] = ""
        else:
            assert "data-form-url" not in option and 'aria-disabled="true"' in option
            options[name] = re.sub(r"<[^>]+>", "", why.group(1)).strip()
    return options


def picker(agent, conversation) -> dict[str, str]:
    client = Client()
    client.force_login(agent)
    response = client.get(reverse("inbox:template-picker", args=[conversation.pk]))
    assert response.status_code == 200
    return picker_options(response.content.decode())


def test_the_picker_marks_templates_of_a_category_the_customer_opted_out_of(
    agent, conversation, contact, utility, promo
):
    consenting(contact, "utility", "marketing")
    assert picker(agent, conversation) == {"order_update": "", "spring_sale": ""}
    opt_out(contact, "marketing")
    options = picker(agent, conversation)
    assert options["order_update"] == ""
    assert "Unavailable: The customer asked not to receive this kind of message" in options["spring_sale"]


def test_the_picker_marks_templates_without_consent_only_outside_the_window(agent, channel, contact, utility, promo):
    consenting(contact, "utility")
    closed = ConversationFactory(
        channel=channel,
        contact=contact,
        last_inbound_at=timezone.now() - timedelta(days=2),
        service_window_closes_at=timezone.now() - timedelta(days=1),
    )
    options = picker(agent, closed)
    assert options["order_update"] == "" and "has not agreed" in options["spring_sale"]
    closed.last_inbound_at = timezone.now() - timedelta(hours=1)
    closed.service_window_closes_at = timezone.now() + timedelta(hours=23)
    closed.save(update_fields=["last_inbound_at", "service_window_closes_at"])
    assert picker(agent, closed) == {"order_update": "", "spring_sale": ""}


@pytest.mark.parametrize("case", ["number_restricted", "messaging_limit_reached", "identity_unconfirmed"])
def test_the_picker_marks_every_template_when_nothing_business_initiated_can_go(
    case, agent, conversation, contact, channel, utility, promo
):
    consenting(contact)
    arrange(case, conversation=conversation, contact=contact, channel=channel)
    client = Client()
    client.force_login(agent)
    html = client.get(reverse("inbox:template-picker", args=[conversation.pk])).content.decode()
    options = picker_options(html)
    assert all(options.values()), options
    assert "None of these templates can go to this customer right now" in html


def test_the_form_of_an_unavailable_template_says_why_and_cannot_send(agent, conversation, contact, promo):
    consenting(contact, "marketing")
    opt_out(contact, "marketing")
    client = Client()
    client.force_login(agent)
    html = client.get(reverse("inbox:template-form", args=[conversation.pk, promo.pk])).content.decode()
    assert 'data-refusal="opted_out"' in html and "asked not to receive" in html
    assert re.search(r'class="btn btn-primary tpl-send" disabled', html)


def test_the_contact_pages_start_picker_marks_them_too(agent, conversation, contact, channel, utility, promo):
    consenting(contact, "utility")
    client = Client()
    client.force_login(agent)
    response = client.get(reverse("inbox:contact-templates", args=[contact.pk]), {"channel": channel.pk})
    options = picker_options(response.content.decode())
    assert options["order_update"] == "" and "has not agreed" in options["spring_sale"]


def test_the_picker_costs_the_same_whatever_the_number_of_templates(agent, conversation, contact, channel):
    consenting(contact, "utility")
    client = Client()
    client.force_login(agent)
    url = reverse("inbox:template-picker", args=[conversation.pk])
    live_template(waba_id=channel.waba_id, name="one", category="MARKETING", components=PROMO)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(8):
        live_template(waba_id=channel.waba_id, name=f"promo_{n}", category="MARKETING", components=PROMO)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)
