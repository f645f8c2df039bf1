"""The consent panel (drawn by htmx on the contact panel and the contact page), its "Record consent" form, and
the CSV exports: who sees and records what, customer text escaped, formula cells neutralised."""

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from inbox.models import ConsentEvent, ConsentSource
from inbox.services import consent
from inbox.views.consent import neutralise
from tests.factories import ChannelFactory, ContactFactory, ConversationFactory, UserFactory, consenting, worked_by

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def conversation():
    return ConversationFactory(
        channel=ChannelFactory(name="Support"), contact=ContactFactory(profile_name="Ana Sousa", wa_id="351912345678")
    )


@pytest.fixture
def contact(conversation):
    return conversation.contact


def signed_in(role: str, conversation=None) -> tuple[Client, object]:
    user = UserFactory(role=Role(role))
    if conversation is not None:
        worked_by(user, conversation.channel)
    client = Client()
    client.force_login(user)
    return client, user


def record(client: Client, contact, **fields):
    data = {"purpose": "marketing", "action": "opt_in", "source": "agent", "evidence": "", "reason": "", **fields}
    return client.post(reverse("consent:record", args=[contact.pk]), data, headers=HTMX)


def test_both_panels_load_the_consent_panel(conversation, contact):
    client, _ = signed_in("agent", conversation)
    for url in (reverse("inbox:contact", args=[contact.pk]), reverse("inbox:conversation", args=[conversation.pk])):
        html = client.get(url).content.decode()
        assert f'hx-get="{reverse("consent:panel", args=[contact.pk])}"' in html, url
        assert "css/consent.css" in html


def test_the_panel_shows_each_purpose_and_the_history_newest_first(conversation, contact):
    consenting(contact, "utility", at=timezone.now() - timedelta(days=3))
    ConsentEvent.objects.create(
        contact=contact,
        purpose="marketing",
        action="opt_out",
        source=ConsentSource.KEYWORD,
        occurred_at=timezone.now(),
        evidence="“<script>alert(1)</script>”",
    )
    client, _ = signed_in("agent", conversation)
    response = client.get(reverse("consent:panel", args=[contact.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Opted out" in html and "Not asked" in html and "Website form" in html
    assert html.index("A keyword the customer sent") < html.index("Signed up on the website")  # newest first
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Record consent" in html
    assert reverse("consent:contact-csv", args=[contact.pk]) in html
    assert reverse("consent:export-csv") not in html  # agents export one contact, admins everyone


def test_an_agent_records_consent_and_the_panel_redraws(conversation, contact):
    client, agent = signed_in("agent", conversation)
    response = record(client, contact, evidence="Said yes <b>twice</b>", reason="Asked in the shop")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Recorded." in html
    event = ConsentEvent.objects.get()
    assert (event.actor, event.purpose, event.action, event.reason) == (
        agent,
        "marketing",
        "opt_in",
        "Asked in the shop",
    )
    assert "Said yes &lt;b&gt;twice&lt;/b&gt;" in html


def test_a_missing_reason_is_shown_next_to_the_field(conversation, contact):
    client, _ = signed_in("agent", conversation)
    response = record(client, contact, evidence="Form #12")
    html = response.content.decode()
    assert response.status_code == 200  # htmx swaps only 2xx answers
    assert f'id="consent-{contact.pk}-reason-error"' in html
    assert "Say why you record this" in html
    assert "Form #12" in html  # what they typed stays
    assert '<details class="consent-record" open>' in html
    assert not ConsentEvent.objects.exists()
    # Without htmx, the same refusal is a 400.
    response = client.post(reverse("consent:record", args=[contact.pk]), {"purpose": "marketing"})
    assert response.status_code == 400


def test_without_htmx_a_recorded_entry_returns_to_the_contact_page(conversation, contact):
    client, _ = signed_in("agent", conversation)
    response = client.post(
        reverse("consent:record", args=[contact.pk]),
        {"purpose": "utility", "action": "opt_in", "source": "ivr", "reason": "Pressed 1"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("inbox:contact", args=[contact.pk]) + f"#consent-{contact.pk}"


def test_managers_read_and_may_not_record(conversation, contact):
    client, _ = signed_in("manager")
    html = client.get(reverse("consent:panel", args=[contact.pk])).content.decode()
    assert "Record consent" not in html
    assert "Managers read consent" in html
    assert record(client, contact, reason="x").status_code == 403
    assert not ConsentEvent.objects.exists()


def test_a_contact_out_of_sight_is_not_found(contact):
    client, _ = signed_in("agent")  # works no channel
    assert client.get(reverse("consent:panel", args=[contact.pk])).status_code == 404
    assert record(client, contact, reason="x").status_code == 404
    assert client.get(reverse("consent:contact-csv", args=[contact.pk])).status_code == 404


# --- CSV ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1 555 0100", "'+1 555 0100"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tnext", "'\tnext"),
        ("\rnext", "'\rnext"),
        ("Signed up", "Signed up"),
        ("", ""),
        (None, ""),
        (42, "42"),
    ],
)
def test_cells_a_spreadsheet_would_run_are_neutralised(cell, shown):
    assert neutralise(cell) == shown


def read_csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_a_contacts_csv(conversation, contact):
    contact.profile_name = "=cmd|' /C calc'!A0"
    contact.save()
    client, agent = signed_in("agent", conversation)
    consent.consent_record(
        contact=contact,
        purpose="marketing",
        action="opt_in",
        source="website_form",
        actor=agent,
        evidence="@evil",
        reason="-1+1",
    )
    response = client.get(reverse("consent:contact-csv", args=[contact.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f'filename="consent-contact-{contact.pk}.csv"' in response["Content-Disposition"]
    [row] = read_csv(response)
    assert row["contact_name"] == "'=cmd|' /C calc'!A0"
    assert (row["evidence"], row["reason"]) == ("'@evil", "'-1+1")
    assert (row["purpose"], row["action"], row["source"], row["recorded_by"]) == (
        "marketing",
        "opt_in",
        "website_form",
        agent.email,
    )


def test_every_contacts_ledger_for_admins(conversation, contact):
    other = consenting(ContactFactory(), "utility")
    consenting(contact, "marketing")
    admin, _ = signed_in("admin")
    response = admin.get(reverse("consent:export-csv"))
    assert response.status_code == 200
    rows = read_csv(response)
    assert [(int(r["contact_id"]), r["purpose"]) for r in rows] == sorted(
        [(contact.pk, "marketing"), (other.pk, "utility")]
    )
    assert reverse("consent:export-csv") in admin.get(reverse("consent:panel", args=[contact.pk])).content.decode()
    for role in ("agent", "manager"):
        client, _ = signed_in(role, conversation)
        assert client.get(reverse("consent:export-csv")).status_code == 403
