"""`/api/v1/users/`, `/api/v1/teams/` and `/api/v1/audit-log/` per role, and the audit entries they write."""

import hashlib

import pytest

from accounts.models import AuditEntry, Invitation, Role, Team, User
from tests.accounts.conftest import PEOPLE, token_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ADMIN_ONLY = {"agent_in": 403, "agent_out": 403, "manager": 403, "admin": None}


@pytest.mark.parametrize("who", PEOPLE)
def test_the_people_list_is_for_admins_and_managers(world, who):
    response = token_client(world.person(who)).get("/api/v1/users/")
    if who in ("manager", "admin"):
        assert response.status_code == 200
        rows = {row["email"]: row for row in response.json()["results"]}
        assert rows["in@example.com"]["teams"] == [{"id": world.support.pk, "name": "Support"}]
        assert rows["in@example.com"]["role"] == "agent"
        assert set(rows["in@example.com"]) >= {"presence", "is_active", "max_open_conversations"}
    else:
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"


@pytest.mark.parametrize("who", PEOPLE)
def test_only_admins_change_people(world, who):
    response = token_client(world.person(who)).patch(
        f"/api/v1/users/{world.agent_out.pk}/", {"max_open_conversations": 3}, format="json"
    )
    world.agent_out.refresh_from_db()
    if who == "admin":
        assert response.status_code == 200
        assert response.json()["max_open_conversations"] == 3
        assert world.agent_out.max_open_conversations == 3
    else:
        assert response.status_code == 403
        assert world.agent_out.max_open_conversations == 10


def test_an_admin_changes_role_deactivates_and_sets_capacity_with_audit(world):
    client = token_client(world.admin)
    response = client.patch(
        f"/api/v1/users/{world.agent_out.pk}/",
        {"role": "manager", "is_active": False, "max_open_conversations": 0},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["role"], body["is_active"], body["max_open_conversations"]) == ("manager", False, 0)
    actions = list(AuditEntry.objects.filter(target_id=str(world.agent_out.pk)).values_list("action", flat=True))
    assert sorted(actions) == ["user.capacity_changed", "user.deactivated", "user.role_changed"]
    assert AuditEntry.objects.get(action="user.role_changed").details == {"from": "agent", "to": "manager"}
    assert all(entry.actor == world.admin for entry in AuditEntry.objects.all())


def test_the_last_admin_cannot_be_demoted_nor_deactivate_themselves(world):
    client = token_client(world.admin)
    response = client.patch(f"/api/v1/users/{world.admin.pk}/", {"role": "agent"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "last_admin"
    response = client.patch(f"/api/v1/users/{world.admin.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "cannot_deactivate_self"


def test_unknown_user_is_404(world):
    assert token_client(world.admin).patch("/api/v1/users/999999/", {"role": "agent"}, format="json").status_code == 404


def test_an_invitation_link_is_created_and_only_its_hash_kept(world):
    response = token_client(world.admin).post(
        "/api/v1/users/invitations/",
        {"email": "New.Person@Example.com", "role": "agent", "teams": [world.support.pk]},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    token = body["url"].rstrip("/").rsplit("/", 1)[1]
    assert body["url"] == f"http://testserver/invite/{token}/"
    invitation = Invitation.objects.get()
    assert invitation.email == "new.person@example.com"
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert list(invitation.teams.all()) == [world.support]
    assert 6.9 < (invitation.expires_at - invitation.created_at).total_seconds() / 86400 <= 7.0
    entry = AuditEntry.objects.get(action="user.invited")
    assert entry.details["email"] == "new.person@example.com"
    assert token not in str(entry.details)


@pytest.mark.parametrize("who", ["agent_in", "manager"])
def test_only_admins_invite(world, who):
    response = token_client(world.person(who)).post(
        "/api/v1/users/invitations/", {"email": "x@example.com"}, format="json"
    )
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_inviting_an_existing_address_is_refused(world):
    response = token_client(world.admin).post("/api/v1/users/invitations/", {"email": "IN@example.com"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "already_a_user"


# Teams


@pytest.mark.parametrize("who", PEOPLE)
def test_teams_list_is_scoped(world, who):
    names = [row["name"] for row in token_client(world.person(who)).get("/api/v1/teams/").json()["results"]]
    expected = {
        "agent_in": ["Support"],
        "agent_out": ["Sales"],
        "manager": ["Sales", "Support"],
        "admin": ["Sales", "Support"],
    }
    assert names == expected[who]


@pytest.mark.parametrize("who", PEOPLE)
def test_a_team_out_of_sight_is_404(world, who):
    response = token_client(world.person(who)).get(f"/api/v1/teams/{world.support.pk}/")
    assert response.status_code == (404 if who == "agent_out" else 200)


def test_an_admin_manages_a_team_end_to_end(world):
    client = token_client(world.admin)
    created = client.post("/api/v1/teams/", {"name": "Billing"}, format="json")
    assert created.status_code == 201
    team_id = created.json()["id"]
    assert (
        client.patch(f"/api/v1/teams/{team_id}/", {"name": "Billing EU"}, format="json").json()["name"] == "Billing EU"
    )
    members = client.put(f"/api/v1/teams/{team_id}/members/", {"members": [world.agent_out.pk]}, format="json")
    assert [row["id"] for row in members.json()["members"]] == [world.agent_out.pk]
    channels = client.put(f"/api/v1/teams/{team_id}/channels/", {"channels": [world.channel.pk]}, format="json")
    assert [row["id"] for row in channels.json()["channels"]] == [world.channel.pk]
    # agent_out now works the main channel through Billing EU.
    assert token_client(world.agent_out).get(f"/api/v1/conversations/{world.conversation.pk}/").status_code == 200
    assert client.delete(f"/api/v1/teams/{team_id}/").status_code == 204
    assert not Team.objects.filter(pk=team_id).exists()
    assert token_client(world.agent_out).get(f"/api/v1/conversations/{world.conversation.pk}/").status_code == 404
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["team.created", "team.renamed", "team.members_changed", "team.channels_changed", "team.deleted"]


def test_team_validation(world):
    client = token_client(world.admin)
    assert client.post("/api/v1/teams/", {"name": "support"}, format="json").json()["code"] == "duplicate_name"
    response = client.put(f"/api/v1/teams/{world.support.pk}/members/", {"members": [999999]}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


@pytest.mark.parametrize("who", ["agent_in", "manager"])
def test_only_admins_change_teams(world, who):
    client = token_client(world.person(who))
    assert client.post("/api/v1/teams/", {"name": "X"}, format="json").status_code == 403
    assert client.patch(f"/api/v1/teams/{world.support.pk}/", {"name": "X"}, format="json").status_code == 403
    assert client.delete(f"/api/v1/teams/{world.support.pk}/").status_code == 403
    assert client.put(f"/api/v1/teams/{world.support.pk}/members/", {"members": []}, format="json").status_code == 403
    assert client.put(f"/api/v1/teams/{world.support.pk}/channels/", {"channels": []}, format="json").status_code == 403
    assert Team.objects.get(pk=world.support.pk).members.count() == 1


# The audit log


@pytest.mark.parametrize("who", PEOPLE)
def test_the_audit_log_is_for_admins(world, who):
    response = token_client(world.person(who)).get("/api/v1/audit-log/")
    assert response.status_code == (200 if who == "admin" else 403)


def test_the_audit_log_is_newest_first_in_keyset_pages(world):
    from accounts.services import audit_record

    for n in range(5):
        audit_record(actor=world.admin, action=f"test.{n}", target=world.support, details={"n": n})
    client = token_client(world.admin)
    first = client.get("/api/v1/audit-log/?limit=3").json()
    assert [row["action"] for row in first["results"]] == ["test.4", "test.3", "test.2"]
    assert first["results"][0]["actor"]["email"] == "admin@example.com"
    assert first["results"][0]["target_type"] == "team"
    second = client.get(first["next"]).json()
    assert [row["action"] for row in second["results"]] == ["test.1", "test.0"]
    assert second["next"] is None


def test_audit_record_keeps_the_target_after_it_is_gone(world):
    from accounts.services import audit_record

    person = UserFactory(role=Role.AGENT)
    entry = audit_record(actor=None, action="user.test", target=person)
    User.objects.filter(pk=person.pk).delete()
    entry.refresh_from_db()
    assert (entry.target_type, entry.target_id, entry.actor) == ("user", str(person.pk), None)


def test_a_patch_is_all_or_nothing(world):
    response = token_client(world.admin).patch(
        f"/api/v1/users/{world.admin.pk}/", {"max_open_conversations": 5, "role": "agent"}, format="json"
    )
    assert response.status_code == 400
    world.admin.refresh_from_db()
    assert (world.admin.role, world.admin.max_open_conversations) == ("admin", 10)
    assert not AuditEntry.objects.exists()
