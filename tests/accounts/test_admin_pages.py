"""The admins' settings pages: who may open them, what they show, and the writes they make."""

import pytest
from django.urls import reverse

from accounts.models import AuditEntry, Invitation, Team
from tests.accounts.conftest import PEOPLE, signed_in

pytestmark = pytest.mark.django_db

PAGES = ["settings:users", "settings:teams", "settings:channels", "settings:audit"]


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("name", PAGES)
def test_settings_pages_are_for_admins(world, who, name):
    response = signed_in(world.person(who)).get(reverse(name))
    assert response.status_code == (200 if who == "admin" else 403)


def test_detail_pages_answer_404_for_what_does_not_exist(world):
    client = signed_in(world.admin)
    assert client.get(reverse("settings:user", args=[999999])).status_code == 404
    assert client.get(reverse("settings:team", args=[999999])).status_code == 404
    assert client.get(reverse("settings:user", args=[world.agent_in.pk])).status_code == 200
    assert client.get(reverse("settings:team", args=[world.support.pk])).status_code == 200


def test_the_rail_offers_settings_to_admins_only(world):
    settings_url = reverse("settings:home")
    assert settings_url in signed_in(world.admin).get("/").content.decode()
    assert settings_url not in signed_in(world.agent_in).get("/").content.decode()


def test_users_page_lists_role_teams_and_presence(world):
    html = signed_in(world.admin).get(reverse("settings:users")).content.decode()
    assert "in@example.com" in html and "Support" in html and "Offline" in html


def test_channels_page_says_which_teams_work_each_channel(world):
    html = signed_in(world.admin).get(reverse("settings:channels")).content.decode()
    assert "Main line" in html and "Support" in html
    assert "No team: agents do not see it" not in html
    world.sales.channels.clear()
    html = signed_in(world.admin).get(reverse("settings:channels")).content.decode()
    assert "No team: agents do not see it" in html


def test_inviting_shows_the_link_once(world):
    response = signed_in(world.admin).post(
        reverse("settings:user-invite"), {"email": "joiner@example.com", "role": "agent"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "http://testserver/invite/" in html
    assert Invitation.objects.filter(email="joiner@example.com").exists()
    assert AuditEntry.objects.filter(action="user.invited").exists()


def test_an_invalid_address_is_refused_in_place(world):
    html = signed_in(world.admin).post(reverse("settings:user-invite"), {"email": "not an address"}).content.decode()
    assert "Enter a valid e-mail address." in html
    assert not Invitation.objects.exists()


def test_deactivation_asks_first_and_says_what_happens(world):
    client = signed_in(world.admin)
    url = reverse("settings:user-active", args=[world.agent_in.pk])
    first = client.post(url, {"is_active": "0"})
    assert first.status_code == 200
    assert "signed out at once" in first.content.decode()
    world.agent_in.refresh_from_db()
    assert world.agent_in.is_active
    confirmed = client.post(url, {"is_active": "0", "confirmed": "1"})
    assert confirmed.status_code == 302
    world.agent_in.refresh_from_db()
    assert not world.agent_in.is_active
    client.post(url, {"is_active": "1"})
    world.agent_in.refresh_from_db()
    assert world.agent_in.is_active
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == [
        "user.deactivated",
        "user.activated",
    ]


def test_role_and_capacity(world):
    client = signed_in(world.admin)
    client.post(reverse("settings:user-role", args=[world.agent_in.pk]), {"role": "manager"})
    client.post(reverse("settings:user-capacity", args=[world.agent_in.pk]), {"max_open_conversations": "4"})
    world.agent_in.refresh_from_db()
    assert (world.agent_in.role, world.agent_in.max_open_conversations) == ("manager", 4)
    response = client.post(
        reverse("settings:user-capacity", args=[world.agent_in.pk]), {"max_open_conversations": "-1"}, follow=True
    )
    assert "Capacity is a number" in response.content.decode()


def test_teams_create_rename_members_channels_delete(world):
    client = signed_in(world.admin)
    response = client.post(reverse("settings:team-create"), {"name": "Billing"})
    team = Team.objects.get(name="Billing")
    assert response.status_code == 302 and response["Location"] == reverse("settings:team", args=[team.pk])
    client.post(reverse("settings:team-rename", args=[team.pk]), {"name": "Billing EU"})
    client.post(reverse("settings:team-members", args=[team.pk]), {"members": [world.agent_in.pk, world.agent_out.pk]})
    client.post(reverse("settings:team-channels", args=[team.pk]), {"channels": [world.channel.pk]})
    team.refresh_from_db()
    assert team.name == "Billing EU"
    assert set(team.members.all()) == {world.agent_in, world.agent_out}
    assert list(team.channels.all()) == [world.channel]
    # Removing someone asks first.
    removing = client.post(reverse("settings:team-members", args=[team.pk]), {"members": [world.agent_in.pk]})
    assert removing.status_code == 200 and "stop seeing" in removing.content.decode()
    assert team.members.count() == 2
    client.post(reverse("settings:team-members", args=[team.pk]), {"members": [world.agent_in.pk], "confirmed": "1"})
    assert list(team.members.all()) == [world.agent_in]
    # Deleting asks first too.
    asking = client.post(reverse("settings:team-delete", args=[team.pk]))
    assert asking.status_code == 200 and "Delete the team Billing EU?" in asking.content.decode()
    assert Team.objects.filter(pk=team.pk).exists()
    client.post(reverse("settings:team-delete", args=[team.pk]), {"confirmed": "1"})
    assert not Team.objects.filter(pk=team.pk).exists()
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == [
        "team.created",
        "team.renamed",
        "team.members_changed",
        "team.channels_changed",
        "team.members_changed",
        "team.deleted",
    ]


def test_a_duplicate_team_name_is_explained(world):
    response = signed_in(world.admin).post(reverse("settings:team-create"), {"name": "SUPPORT"}, follow=True)
    assert "Another team already has this name." in response.content.decode()


@pytest.mark.parametrize("who", ["agent_in", "manager"])
def test_writes_are_for_admins(world, who):
    client = signed_in(world.person(who))
    assert client.post(reverse("settings:team-create"), {"name": "X"}).status_code == 403
    assert (
        client.post(
            reverse("settings:user-active", args=[world.admin.pk]), {"is_active": "0", "confirmed": "1"}
        ).status_code
        == 403
    )
    assert not Team.objects.filter(name="X").exists()


def test_the_audit_page_pages_newest_first(world, settings):
    from accounts import views_settings
    from accounts.services import audit_record

    for n in range(3):
        audit_record(actor=world.admin, action=f"test.{n}", target=world.support)
    views_settings.AUDIT_PAGE_SIZE, saved = 2, views_settings.AUDIT_PAGE_SIZE
    try:
        client = signed_in(world.admin)
        html = client.get(reverse("settings:audit")).content.decode()
        assert html.index("test.2") < html.index("test.1") and "test.0" not in html
        cursor = html.split("?cursor=")[1].split('"')[0]
        older = client.get(reverse("settings:audit") + "?cursor=" + cursor).content.decode()
        assert "test.0" in older and "test.2" not in older
    finally:
        views_settings.AUDIT_PAGE_SIZE = saved
