"""Canned responses: variables filled in as plain text, unknown ones refused, personal and shared ones kept
by the right people, through the page, the composer's picker and the API."""

import pytest

from inbox.models import CannedResponse, Contact
from inbox.services.canned import CannedRefused, canned_create, canned_render, canned_update
from tests.inbox.together.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi {{contact.first_name}}!", "Hi Ana!"),
        ("Dear {{ contact.name }}", "Dear Ana Sousa"),
        ("We will call {{contact.phone}}", "We will call +351912345678"),
        ("— {{agent.name}}", "— Sam Lee"),
        ("{{contact.first_name}}{{contact.first_name}}", "AnaAna"),
        ("Unknown {{order.id}} stays", "Unknown {{order.id}} stays"),
        ("No variables", "No variables"),
    ],
)
def test_variables_are_filled_in(world, text, expected):
    assert canned_render(text, contact=world.conversation.contact, agent=world.sam) == expected


def test_a_username_contact_has_no_phone():
    contact = Contact(bsuid="US.123", username="ana_s")
    assert canned_render("[{{contact.phone}}] {{contact.name}}", contact=contact, agent=None) == "[] ana_s"


def test_substitution_is_plain_text_and_the_picker_never_renders_html(world):
    world.conversation.contact.profile_name = "<img src=x onerror=alert(1)> {{agent.name}}"
    world.conversation.contact.save()
    canned_create(author=world.sam, shortcut="hi", text="Hello {{contact.name}}")
    rendered = canned_render("Hello {{contact.name}}", contact=world.conversation.contact, agent=world.sam)
    # The customer's text is inserted as is, and never substituted again.
    assert rendered == "Hello <img src=x onerror=alert(1)> {{agent.name}}"
    response = client_for(world.sam).get(f"/inbox/conversations/{world.conversation.pk}/canned?q=h")
    assert response["Content-Type"] == "application/json"
    assert response.json()["results"][0]["text"] == rendered


def test_the_canned_page_escapes_the_text(world):
    canned_create(author=world.sam, shortcut="x", text="<script>alert(1)</script>")
    html = client_for(world.sam).get("/canned/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_unknown_variables_are_refused_when_saving(world):
    with pytest.raises(CannedRefused) as refused:
        canned_create(author=world.sam, shortcut="oops", text="Hi {{contcat.name}}")
    assert refused.value.code == "unknown_variable"
    assert "{{contcat.name}}" in refused.value.detail


def test_personal_and_shared(world):
    mine = canned_create(author=world.sam, shortcut="/Thanks", text="Thanks!")
    assert mine.shortcut == "thanks" and mine.owner == world.sam
    with pytest.raises(CannedRefused):
        canned_create(author=world.sam, shortcut="shared", text="x", shared=True)
    shared = canned_create(author=world.ada, shortcut="hours", text="We open at 9.", shared=True)
    assert shared.owner is None
    with pytest.raises(CannedRefused):
        canned_update(canned=shared, author=world.sam, text="changed")
    with pytest.raises(CannedRefused) as duplicate:
        canned_create(author=world.sam, shortcut="thanks", text="again")
    assert duplicate.value.code == "duplicate_shortcut"


def test_the_picker_offers_mine_and_shared_not_others(world):
    canned_create(author=world.sam, shortcut="thanks", text="Thanks, {{contact.first_name}}!")
    canned_create(author=world.sky, shortcut="thumbs", text="Sky's own")
    canned_create(author=world.ada, shortcut="hours", text="We open at 9.", shared=True)
    canned_create(author=world.ada, shortcut="thanks", text="Shared thanks", shared=True)
    response = client_for(world.sam).get(f"/inbox/conversations/{world.conversation.pk}/canned?q=")
    results = response.json()["results"]
    # Sam's /thanks hides the shared /thanks; Sky's response is Sky's alone.
    assert [(row["shortcut"], row["text"], row["shared"]) for row in results] == [
        ("hours", "We open at 9.", True),
        ("thanks", "Thanks, Ana!", False),
    ]
    prefixed = client_for(world.sam).get(f"/inbox/conversations/{world.conversation.pk}/canned?q=th").json()
    assert [row["shortcut"] for row in prefixed["results"]] == ["thanks"]


def test_the_management_page(world):
    client = client_for(world.sam)
    response = client.post("/canned/", {"shortcut": "bye", "text": "Bye {{contact.first_name}}"})
    assert response.status_code == 302
    canned = CannedResponse.objects.get(shortcut="bye")
    assert client.post(f"/canned/{canned.pk}/", {"shortcut": "bye", "text": "Goodbye"}).status_code == 302
    canned.refresh_from_db()
    assert canned.text == "Goodbye"
    refused = client.post("/canned/", {"shortcut": "bad", "text": "{{nope}}"})
    assert refused.status_code == 400 and "Unknown variable" in refused.content.decode()
    # Someone else's response does not exist for Sky.
    assert client_for(world.sky).post(f"/canned/{canned.pk}/delete").status_code == 404
    assert client.post(f"/canned/{canned.pk}/delete").status_code == 302
    assert not CannedResponse.objects.filter(pk=canned.pk).exists()


def test_only_admins_edit_shared_ones_on_the_page(world):
    shared = canned_create(author=world.ada, shortcut="hours", text="We open at 9.", shared=True)
    assert client_for(world.sam).post(f"/canned/{shared.pk}/", {"shortcut": "hours", "text": "x"}).status_code == 403
    assert client_for(world.sam).post("/canned/", {"shortcut": "s", "text": "x", "shared": "1"}).status_code == 400
    assert (
        client_for(world.ada).post(f"/canned/{shared.pk}/", {"shortcut": "hours", "text": "9 to 5"}).status_code == 302
    )


def test_the_api(world, api_client):
    api_client.force_authenticate(world.sam)
    created = api_client.post(
        "/api/v1/canned-responses/", {"shortcut": "hi", "text": "Hi {{contact.name}}"}, format="json"
    )
    assert created.status_code == 201
    assert created.json()["shared"] is False
    canned_id = created.json()["id"]
    listed = api_client.get("/api/v1/canned-responses/").json()["results"]
    assert [row["shortcut"] for row in listed] == ["hi"]
    patched = api_client.patch(f"/api/v1/canned-responses/{canned_id}/", {"text": "Hello"}, format="json")
    assert patched.status_code == 200 and patched.json()["text"] == "Hello"
    unknown = api_client.patch(f"/api/v1/canned-responses/{canned_id}/", {"text": "{{x.y}}"}, format="json")
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_variable"
    shared = api_client.post("/api/v1/canned-responses/", {"shortcut": "s", "text": "x", "shared": True}, format="json")
    assert shared.status_code == 403
    api_client.force_authenticate(world.sky)
    assert (
        api_client.patch(f"/api/v1/canned-responses/{canned_id}/", {"text": "mine"}, format="json").status_code == 404
    )
    assert api_client.delete(f"/api/v1/canned-responses/{canned_id}/").status_code == 404
    api_client.force_authenticate(world.sam)
    assert api_client.delete(f"/api/v1/canned-responses/{canned_id}/").status_code == 204
