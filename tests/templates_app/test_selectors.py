"""Reads for the template pages: analytics over a constructed message history, and the list's filters."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from inbox import policy
from inbox.models import Direction, MessageStatus
from inbox.providers.whatsapp_cloud.errors import failure_reason
from inbox.services import ingest
from templates_app import selectors, services
from tests.factories import ChannelFactory, ConversationFactory, MessageFactory, UserFactory, live_template, worked_by

pytestmark = pytest.mark.django_db

T0 = timezone.now() - timedelta(days=1)


def at(minutes: int):
    return T0 + timedelta(minutes=minutes)


def sent(conversation, template, minutes: int, status=MessageStatus.DELIVERED, error_code=None):
    return MessageFactory(
        conversation=conversation,
        direction=Direction.OUTBOUND,
        template=template,
        status=status,
        error_code=error_code,
        timestamp=at(minutes),
    )


def customer(conversation, minutes: int, type: str = "text"):
    """The customer writes, and ingest marks what it answers (tests/inbox/test_ingest.py runs the real path)."""
    message = MessageFactory(conversation=conversation, direction=Direction.INBOUND, type=type, timestamp=at(minutes))
    if policy.counts_as_reply(type):
        ingest.template_messages_mark_replied(conversation_id=conversation.pk, answer=message)
    return message


@pytest.fixture
def channel():
    return ChannelFactory()


def test_analytics_of_a_constructed_history(channel, django_assert_num_queries):
    # given
    template = live_template()
    other = live_template(name="other_template")
    first, second, third = (ConversationFactory(channel=channel) for _ in range(3))
    # A reply after the template counts, even with another template in between...
    sent(first, template, 0, MessageStatus.READ)
    sent(first, other, 1)
    customer(first, 2)
    # ...but a second send of the same template that nobody answers is not replied.
    sent(first, template, 10, MessageStatus.DELIVERED)
    # Two sends then one reply: only the latest send was answered.
    sent(second, template, 0, MessageStatus.SENT)
    sent(second, template, 5, MessageStatus.DELIVERED)
    customer(second, 6)
    # Failures, a customer message before them and a WhatsApp notice after: no replies there.
    customer(third, -60)
    sent(third, template, 0, MessageStatus.FAILED, error_code=131026)
    customer(third, 1, type="system")
    sent(third, template, 2, MessageStatus.FAILED, error_code=131026)
    sent(third, template, 3, MessageStatus.FAILED, error_code=131047)
    # An inbound message on another conversation never counts; nor does the other template's own send.
    customer(ConversationFactory(channel=channel), 30)

    # when
    with django_assert_num_queries(2):
        analytics = selectors.template_analytics(template)

    # then
    assert {key: analytics[key] for key in ("total", "sent", "delivered", "read", "replied", "failed")} == {
        "total": 7,
        "sent": 4,
        "delivered": 3,
        "read": 1,
        "replied": 2,
        "failed": 3,
    }
    assert analytics["rates"] == {"delivered": 0.75, "read": 0.25, "replied": 0.5}
    assert analytics["failure_rate"] == pytest.approx(3 / 7)
    assert analytics["failures"] == [
        {"error_code": 131026, "reason": failure_reason(131026), "count": 2},
        {"error_code": 131047, "reason": failure_reason(131047), "count": 1},
    ]


def test_analytics_of_a_template_never_sent(channel):
    analytics = selectors.template_analytics(live_template())
    assert analytics["total"] == 0
    assert analytics["rates"] == {"delivered": None, "read": None, "replied": None}
    assert analytics["failure_rate"] is None
    assert analytics["failures"] == []


def test_the_query_count_does_not_grow_with_the_history(channel, django_assert_num_queries):
    template = live_template()
    for number in range(20):
        conversation = ConversationFactory(channel=channel)
        sent(conversation, template, number)
        customer(conversation, number + 1)
    with django_assert_num_queries(2):
        assert selectors.template_analytics(template)["replied"] == 20


def test_the_list_filters_and_the_revision_on_its_way(channel):
    admin = UserFactory(role=Role.ADMIN)
    reviewer = UserFactory(role=Role.ADMIN)
    live_template(name="shipping_notice", language="pt_BR")
    draft = services.Draft(
        name="order_update",
        language="en_US",
        category="MARKETING",
        components=[{"type": "BODY", "text": "Our sale starts today, reply STOP to opt out."}],
    )
    revision = services.template_draft_create(author=admin, waba_id=channel.waba_id, draft=draft)
    services.template_review_request(revision=revision, author=admin)

    rows = {template.name: template for template in selectors.template_list(user=admin)}
    assert (rows["order_update"].open_number, rows["order_update"].open_state) == (1, "in_review")
    assert rows["shipping_notice"].open_number is None

    def names(user=admin, **filters) -> list[str]:
        return [t.name for t in selectors.template_list(user=user, filters=selectors.ListFilters(**filters))]

    assert names(status="APPROVED") == ["shipping_notice"]
    assert names(status=selectors.NOT_SUBMITTED) == ["order_update"]
    assert names(category="MARKETING") == ["order_update"]
    assert names(language="pt_BR") == ["shipping_notice"]
    assert names(search="ORDER") == ["order_update"]
    assert names(waiting_for=reviewer) == ["order_update"]
    assert names(waiting_for=admin) == []
    assert selectors.waiting_for_approval_count(user=reviewer) == 1
    assert selectors.waiting_for_approval_count(user=admin) == 0
    assert selectors.template_languages(user=admin) == ["en_US", "pt_BR"]


def test_an_agent_lists_only_the_templates_of_the_numbers_they_work(channel):
    agent = UserFactory(role=Role.AGENT)
    live_template(name="theirs")
    live_template(name="elsewhere", waba_id="999000111")
    assert list(selectors.template_list(user=agent)) == []
    worked_by(agent, channel)
    assert [t.name for t in selectors.template_list(user=agent)] == ["theirs"]
    assert selectors.template_get(user=agent, template_id=live_template(name="x", waba_id="999000111").pk) is None
