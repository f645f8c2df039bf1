"""Who may reach every URL of the project: one row per URL pattern, the GET status for each kind of person,
and one row per WebSocket route, whether the socket stays open.

The patterns are read from the resolvers, so a new URL fails `test_every_url_pattern_has_a_row` (or
`test_every_websocket_route_has_a_row`) until it is added here with what it should answer. Only Django's
own admin and static files are left out. People sign in with the session (as a browser does); the API's
token path is tested in tests/api/.
"""

import re

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import Role, Team
from config.routing import websocket_urlpatterns
from inbox.models import CannedResponse, Notification, SavedView, WebhookEvent
from tests.factories import LabelFactory, MessageFactory, TeamFactory, UserFactory, live_template

EXCLUDED_PREFIXES = ("django-admin/", "static/")
WORLD_TEAM = "The world's team"
PEOPLE = ("anonymous", "inactive", "agent", "manager", "admin")


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(PEOPLE, status)


def signed_in(status: int, *, otherwise: int) -> dict[str, int]:
    """`status` for active people of every role; `otherwise` for anonymous and deactivated people (a
    deactivated person's session no longer authenticates)."""
    return {"anonymous": otherwise, "inactive": otherwise, "agent": status, "manager": status, "admin": status}


def admins(status: int, *, others: int, otherwise: int) -> dict[str, int]:
    return {"anonymous": otherwise, "inactive": otherwise, "agent": others, "manager": others, "admin": status}


def repliers(status: int, *, otherwise: int) -> dict[str, int]:
    """`status` for the people who write to customers (agents and admins); managers, who only read, get 403."""
    return {"anonymous": otherwise, "inactive": otherwise, "agent": status, "manager": 403, "admin": status}


def managers_and_admins(status: int, *, others: int, otherwise: int) -> dict[str, int]:
    return {"anonymous": otherwise, "inactive": otherwise, "agent": others, "manager": status, "admin": status}


# Paths for routes that are regular expressions (the simulator's Graph API takes any version, as Meta's does).
_GRAPH = r"simulator/^graph/(?P<version>v\d+\.\d+)/(?P<object_id>[^/]+)"
EXAMPLE_PATHS: dict[str, str] = {
    _GRAPH + r"/messages/?$": "/simulator/graph/v23.0/{phone_number_id}/messages",
    _GRAPH + r"/media/?$": "/simulator/graph/v23.0/{phone_number_id}/media",
    _GRAPH + r"/?$": "/simulator/graph/v23.0/{media_id}",
    _GRAPH + r"/message_templates/?$": "/simulator/graph/v23.0/{phone_number_id}/message_templates",
    _GRAPH + r"/whatsapp_business_profile/?$": "/simulator/graph/v23.0/{phone_number_id}/whatsapp_business_profile",
    _GRAPH + r"/uploads/?$": "/simulator/graph/v23.0/1234567890/uploads",
}


# route pattern -> expected GET status per person. `<name>` parts are filled from the `world` fixture.
MATRIX: dict[str, dict[str, int]] = {
    "": signed_in(200, otherwise=302),
    "login/": signed_in(302, otherwise=200),
    # The inbox's pages and htmx partials. POST-only ones answer 405 to a GET once signed in.
    "conversations/<int:conversation_id>/": signed_in(200, otherwise=302),
    "inbox/conversations/": signed_in(200, otherwise=302),
    "inbox/conversations/<int:conversation_id>/row": signed_in(200, otherwise=302),
    "inbox/conversations/<int:conversation_id>/messages": signed_in(200, otherwise=302),
    "inbox/conversations/<int:conversation_id>/composer": signed_in(200, otherwise=302),
    "inbox/conversations/<int:conversation_id>/send": signed_in(405, otherwise=302),
    "inbox/conversations/<int:conversation_id>/read": signed_in(405, otherwise=302),
    "inbox/messages/<int:message_id>/bubble": signed_in(200, otherwise=302),
    "inbox/messages/<int:message_id>/retry": signed_in(405, otherwise=302),
    # The composer's template picker and a template's form: for people who may reply (managers only read);
    # sending is POST only. Tested in tests/inbox/test_template_picker.py.
    "inbox/conversations/<int:conversation_id>/templates": repliers(200, otherwise=302),
    "inbox/conversations/<int:conversation_id>/templates/<int:template_id>": repliers(200, otherwise=302),
    "inbox/conversations/<int:conversation_id>/send-template": signed_in(405, otherwise=302),
    # The world's message is text: it has no media to serve.
    "media/<int:message_id>/": signed_in(404, otherwise=302),
    # Working together: notes (POST only), the composer's @ and / pickers, the bell, counts, canned responses
    # (everyone keeps their own; editing and deleting are POST only), search.
    "inbox/conversations/<int:conversation_id>/note": signed_in(405, otherwise=302),
    "inbox/conversations/<int:conversation_id>/mentions": signed_in(200, otherwise=302),
    "inbox/conversations/<int:conversation_id>/canned": signed_in(200, otherwise=302),
    "inbox/notifications/": signed_in(200, otherwise=302),
    "inbox/unread-counts": signed_in(200, otherwise=302),
    "canned/": signed_in(200, otherwise=302),
    "canned/<int:canned_id>/": signed_in(405, otherwise=302),
    "canned/<int:canned_id>/delete": signed_in(405, otherwise=302),
    "search": signed_in(200, otherwise=302),
    # The contact page (the world's agent sees the contact through the world's conversation); its picker and
    # form start a conversation from a number the person may write from (managers only read); the language
    # and the start are POST only. Tested in tests/inbox/test_contact_page.py.
    "contacts/<int:contact_id>/": signed_in(200, otherwise=302),
    "contacts/<int:contact_id>/language": signed_in(405, otherwise=302),
    "contacts/<int:contact_id>/templates": repliers(200, otherwise=302),
    "contacts/<int:contact_id>/templates/<int:template_id>": repliers(200, otherwise=302),
    "contacts/<int:contact_id>/start": signed_in(405, otherwise=302),
    # Workflow: the thread header's controls (GET draws them; actions POST), bulk actions, presence, saved
    # views (POST only). Who may change what is tested in tests/inbox/workflow/.
    "inbox/conversations/<int:conversation_id>/workflow": signed_in(200, otherwise=302),
    "inbox/conversations/bulk": signed_in(405, otherwise=302),
    "inbox/presence": signed_in(405, otherwise=302),
    "inbox/view-counts": signed_in(200, otherwise=302),
    "inbox/saved-views": signed_in(405, otherwise=302),
    "inbox/saved-views/<int:saved_view_id>/delete": signed_in(405, otherwise=302),
    "logout/": everyone(405),
    # Login's second steps need a password proved first in this session; without one they go back to login/.
    "login/code/": everyone(302),
    "login/setup/": everyone(302),
    # The Security page; its actions are POST only. The set-up page needs a secret started (else back to it).
    "security/": signed_in(200, otherwise=302),
    "security/two-factor/start/": signed_in(405, otherwise=302),
    "security/two-factor/setup/": everyone(302),
    "security/two-factor/disable/": signed_in(405, otherwise=302),
    "security/recovery-codes/": signed_in(405, otherwise=302),
    "security/password/": signed_in(405, otherwise=302),
    # An invitation link opens for whoever holds it; an unknown token is a 404 with the reason.
    "invite/<str:token>/": everyone(404),
    # The admins' settings pages; their forms are POST only (405 before anything else).
    "settings/": admins(302, others=403, otherwise=302),
    "settings/users/": admins(200, others=403, otherwise=302),
    "settings/users/invite": everyone(405),
    "settings/users/<int:user_id>/": admins(200, others=403, otherwise=302),
    "settings/users/<int:user_id>/role": everyone(405),
    "settings/users/<int:user_id>/capacity": everyone(405),
    "settings/users/<int:user_id>/active": everyone(405),
    "settings/teams/": admins(200, others=403, otherwise=302),
    "settings/teams/create": everyone(405),
    "settings/teams/<int:team_id>/": admins(200, others=403, otherwise=302),
    "settings/teams/<int:team_id>/rename": everyone(405),
    "settings/teams/<int:team_id>/members": everyone(405),
    "settings/teams/<int:team_id>/channels": everyone(405),
    "settings/teams/<int:team_id>/delete": everyone(405),
    "settings/labels/": admins(200, others=403, otherwise=302),
    "settings/labels/create": everyone(405),
    "settings/labels/<int:label_id>/rename": everyone(405),
    "settings/labels/<int:label_id>/delete": everyone(405),
    "settings/channels/": admins(200, others=403, otherwise=302),
    "settings/audit/": admins(200, others=403, otherwise=302),
    # The template pages: everyone sees those of the numbers they work (the world's agent works the world's
    # channel); the editor is for authors (admins, and agents an admin allowed: not the world's agent); the
    # lint, sync and review actions are POST only. Who may post what is tested in tests/templates_app/.
    "templates/": signed_in(200, otherwise=302),
    "templates/new": admins(200, others=403, otherwise=302),
    "templates/lint": signed_in(405, otherwise=302),
    "templates/sync": signed_in(405, otherwise=302),
    "templates/<int:template_id>/": signed_in(200, otherwise=302),
    "templates/<int:template_id>/edit": admins(200, others=403, otherwise=302),
    "templates/<int:template_id>/revisions/<int:revision_id>/request-review": signed_in(405, otherwise=302),
    "templates/<int:template_id>/revisions/<int:revision_id>/review": signed_in(405, otherwise=302),
    "templates/<int:template_id>/revisions/<int:revision_id>/resubmit": signed_in(405, otherwise=302),
    "healthz": everyone(200),
    "readyz": everyone(200),
    # Meta's verification handshake: without the right verify token it is refused, whoever asks.
    "webhooks/whatsapp": everyone(403),
    "api/schema/": everyone(200),
    "api/docs/": everyone(200),
    "api/v1/auth/token/": everyone(405),
    "api/v1/channels/": signed_in(200, otherwise=401),
    "api/v1/channels/<int:channel_id>/": signed_in(200, otherwise=401),
    "api/v1/conversations/": signed_in(200, otherwise=401),
    "api/v1/conversations/<int:conversation_id>/": signed_in(200, otherwise=401),
    "api/v1/conversations/<int:conversation_id>/messages/": signed_in(200, otherwise=401),
    # POST only (a GET answers 405 once signed in); who may post is tested in tests/api/test_send.py.
    "api/v1/conversations/<int:conversation_id>/read/": signed_in(405, otherwise=401),
    "api/v1/messages/<int:message_id>/retry/": signed_in(405, otherwise=401),
    # POST only; who may add a note is tested in tests/api/test_teamwork_gaps.py.
    "api/v1/conversations/<int:conversation_id>/notes/": signed_in(405, otherwise=401),
    "api/v1/canned-responses/": signed_in(200, otherwise=401),
    # PATCH and DELETE only.
    "api/v1/canned-responses/<int:canned_id>/": signed_in(405, otherwise=401),
    "api/v1/notifications/": signed_in(200, otherwise=401),
    "api/v1/notifications/<int:notification_id>/read/": signed_in(405, otherwise=401),
    "api/v1/notifications/read-all/": signed_in(405, otherwise=401),
    "api/v1/search/": signed_in(200, otherwise=401),
    # Workflow over the API: POST only (DELETE for a saved view); roles are tested in tests/inbox/workflow/.
    "api/v1/conversations/bulk/": signed_in(405, otherwise=401),
    "api/v1/conversations/<int:conversation_id>/assign/": signed_in(405, otherwise=401),
    "api/v1/conversations/<int:conversation_id>/take/": signed_in(405, otherwise=401),
    "api/v1/conversations/<int:conversation_id>/transfer/": signed_in(405, otherwise=401),
    "api/v1/conversations/<int:conversation_id>/status/": signed_in(405, otherwise=401),
    "api/v1/labels/": signed_in(200, otherwise=401),
    # PATCH and DELETE only (admins; tests/api/test_teamwork_gaps.py).
    "api/v1/labels/<int:label_id>/": signed_in(405, otherwise=401),
    "api/v1/saved-views/": signed_in(200, otherwise=401),
    "api/v1/saved-views/<int:saved_view_id>/": signed_in(405, otherwise=401),
    "api/v1/me/presence/": signed_in(405, otherwise=401),
    # People, teams and the audit log (tests/accounts/test_admin_api.py has every method per role).
    "api/v1/users/": managers_and_admins(200, others=403, otherwise=401),
    "api/v1/users/invitations/": signed_in(405, otherwise=401),
    "api/v1/users/<int:user_id>/": managers_and_admins(200, others=403, otherwise=401),
    "api/v1/teams/": signed_in(200, otherwise=401),
    # The world's agent is a member of the world's team; others' teams answer 404 to agents.
    "api/v1/teams/<int:team_id>/": signed_in(200, otherwise=401),
    "api/v1/teams/<int:team_id>/members/": signed_in(405, otherwise=401),
    "api/v1/teams/<int:team_id>/channels/": signed_in(405, otherwise=401),
    "api/v1/audit-log/": admins(200, others=403, otherwise=401),
    # Templates over the API: everyone sees those of the numbers they work (the world's agent works the
    # world's channel); writing and reviewing are POST/PUT only, their roles tested in tests/templates_app/.
    "api/v1/templates/": signed_in(200, otherwise=401),
    "api/v1/templates/lint/": signed_in(405, otherwise=401),
    "api/v1/templates/sync/": signed_in(405, otherwise=401),
    "api/v1/templates/<int:template_id>/": signed_in(200, otherwise=401),
    "api/v1/templates/<int:template_id>/request-review/": signed_in(405, otherwise=401),
    "api/v1/templates/<int:template_id>/review/": signed_in(405, otherwise=401),
    "api/v1/templates/<int:template_id>/resubmit/": signed_in(405, otherwise=401),
    "api/v1/templates/<int:template_id>/timeline/": signed_in(200, otherwise=401),
    "api/v1/templates/<int:template_id>/analytics/": signed_in(200, otherwise=401),
    "api/v1/webhook-events/": admins(200, others=403, otherwise=401),
    "api/v1/webhook-events/<int:event_id>/": admins(200, others=403, otherwise=401),
    # POST only; authentication is checked before the method.
    "api/v1/webhook-events/<int:event_id>/reprocess/": admins(405, others=405, otherwise=401),
    # The built-in Cloud API simulator plays Meta and the customers, so it does not know our people: its
    # phone page is open to anyone, its Graph API wants the channel's Bearer token. Off (404) in production.
    "simulator/": everyone(200),
    "simulator/phone/thread": everyone(405),
    "simulator/phone/send": everyone(405),
    "simulator/phone/customers": everyone(405),
    "simulator/phone/age": everyone(405),
    "simulator/phone/media/<str:media_id>": everyone(404),
    "simulator/api/inbound": everyone(405),
    "simulator/api/outbound": everyone(400),
    "simulator/api/read": everyone(405),
    "simulator/api/customers": everyone(400),
    "simulator/api/age": everyone(405),
    "simulator/api/numbers/<str:phone_number_id>/limits": everyone(403),
    "simulator/phone/templates/<str:template_id>/<str:action>": everyone(405),
    "simulator/api/templates": everyone(400),
    "simulator/api/templates/<str:template_id>": everyone(404),
    "simulator/api/templates/<str:template_id>/<str:action>": everyone(405),
    _GRAPH + r"/message_templates/?$": everyone(401),
    _GRAPH + r"/messages/?$": everyone(401),
    _GRAPH + r"/media/?$": everyone(401),
    _GRAPH + r"/?$": everyone(401),
    "simulator/lookaside/whatsapp_business/attachments/": everyone(404),
    # --- Compliance (issue 6): each area adds its rows right below its own line. ---
    # --- consent ledger ---
    # The panel and one contact's CSV for whoever sees the contact; recording is POST only (managers get 403,
    # tests/inbox/test_consent_views.py); every contact's ledger for admins.
    "contacts/<int:contact_id>/consent": signed_in(200, otherwise=302),
    "contacts/<int:contact_id>/consent/record": signed_in(405, otherwise=302),
    "contacts/<int:contact_id>/consent.csv": signed_in(200, otherwise=302),
    "consent/export.csv": admins(200, others=403, otherwise=302),
    "api/v1/contacts/<int:contact_id>/consent/": signed_in(200, otherwise=401),
    # --- number health and business profile ---
    # Health: admins, and managers read-only (sync and throughput are POST only, admins; tests in
    # tests/inbox/test_number_health_views.py). The profile page is a shell that loads the form from WhatsApp
    # in place; the API reads WhatsApp at once: the world's channel points at Meta with a fake token, so the
    # admin's GET answers 502 `whatsapp_error` (no test network either way).
    "settings/channels/<int:channel_id>/health": managers_and_admins(200, others=403, otherwise=302),
    "settings/channels/<int:channel_id>/health/sync": everyone(405),
    "settings/channels/<int:channel_id>/health/throughput": everyone(405),
    "settings/channels/<int:channel_id>/profile": admins(200, others=403, otherwise=302),
    "settings/channels/<int:channel_id>/profile/app-id": everyone(405),
    "api/v1/channels/<int:channel_id>/health/": managers_and_admins(200, others=403, otherwise=401),
    "api/v1/channels/<int:channel_id>/health/sync/": signed_in(405, otherwise=401),
    "api/v1/channels/<int:channel_id>/business-profile/": admins(502, others=403, otherwise=401),
    # --- automations and escalation ---
    # A channel's automations are for admins (its forms are POST only); the thread header's automation line
    # for whoever sees the conversation. Refusals are tested in tests/inbox/test_automation_pages.py and
    # tests/api/test_automation_api.py.
    "settings/channels/<int:channel_id>/automation": admins(200, others=403, otherwise=302),
    "settings/channels/<int:channel_id>/automation/bot-test": everyone(405),
    "settings/channels/<int:channel_id>/automation/replies": everyone(405),
    "settings/channels/<int:channel_id>/automation/replies/<int:reply_id>": everyone(405),
    "settings/channels/<int:channel_id>/automation/replies/<int:reply_id>/enabled": everyone(405),
    "settings/channels/<int:channel_id>/automation/replies/<int:reply_id>/delete": everyone(405),
    "inbox/conversations/<int:conversation_id>/automation": signed_in(200, otherwise=302),
    "api/v1/channels/<int:channel_id>/automation/": admins(200, others=403, otherwise=401),
    "api/v1/channels/<int:channel_id>/automation/bot-test/": signed_in(405, otherwise=401),
    "api/v1/channels/<int:channel_id>/auto-replies/": admins(200, others=403, otherwise=401),
    "api/v1/channels/<int:channel_id>/auto-replies/<int:reply_id>/": admins(200, others=403, otherwise=401),
    "api/v1/conversations/<int:conversation_id>/automation/": signed_in(200, otherwise=401),
    "api/v1/conversations/<int:conversation_id>/take-over/": signed_in(405, otherwise=401),
    # --- identity changes and window alerts ---
    # The identity panel for whoever sees the contact; acknowledging is POST only (managers get 403, tested in
    # tests/inbox/test_identity_views.py and tests/api/test_identity.py).
    "contacts/<int:contact_id>/identity": signed_in(200, otherwise=302),
    "contacts/<int:contact_id>/identity/acknowledge": signed_in(405, otherwise=302),
    "api/v1/contacts/<int:contact_id>/identity/": signed_in(200, otherwise=401),
    "api/v1/contacts/<int:contact_id>/identity/acknowledge/": signed_in(405, otherwise=401),
    # --- simulator: number health, business profile, bot ---
    # Number health and customer actions (control API: the world's channel is not simulated, so 403; POST-only
    # ones 405), the page's forms (POST only), the profile picture (none: 404), and the Graph paths (token: 401).
    "simulator/api/numbers/<str:phone_number_id>/health": everyone(403),
    "simulator/api/numbers/<str:phone_number_id>/health/<str:action>": everyone(405),
    "simulator/api/customers/<str:action>": everyone(405),
    "simulator/phone/numbers/<str:action>": everyone(405),
    "simulator/phone/customers/<str:action>": everyone(405),
    "simulator/profile-pictures/<str:phone_number_id>": everyone(404),
    _GRAPH + r"/whatsapp_business_profile/?$": everyone(401),
    _GRAPH + r"/uploads/?$": everyone(401),
    # The demo bot answers signed POSTs only (tests/inbox/test_automation_bot.py).
    "simulator/bot/": everyone(405),
}


# WebSocket route -> what each person gets: "open", or "closed 4401" (accepted, then closed as not signed in,
# so the page can tell "log in again" from a network problem).
WEBSOCKET_MATRIX: dict[str, dict[str, str]] = {
    "ws/": {
        "anonymous": "closed 4401",
        "inactive": "closed 4401",
        "agent": "open",
        "manager": "open",
        "admin": "open",
    },
}


def url_patterns(patterns=None, prefix: str = "") -> list[str]:
    """Every route of the project as written in the URLconf, includes expanded."""
    routes = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if route.startswith(EXCLUDED_PREFIXES):
            continue
        if isinstance(pattern, URLResolver):
            routes += url_patterns(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            routes.append(route)
    return routes


def test_every_url_pattern_has_a_row():
    routes = url_patterns()
    missing = sorted(set(routes) - set(MATRIX))
    stale = sorted(set(MATRIX) - set(routes))
    assert not missing, f"Add these URL patterns to MATRIX with who may reach them: {missing}"
    assert not stale, f"These MATRIX rows match no URL pattern any more: {stale}"
    assert len(routes) == len(set(routes)), "A route is defined twice"


def test_every_websocket_route_has_a_row():
    routes = url_patterns(websocket_urlpatterns)
    assert sorted(routes) == sorted(WEBSOCKET_MATRIX), "Keep WEBSOCKET_MATRIX in step with config/routing.py"


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # On by default only in the embedded mode; the matrix pins it so both test runs see the same URLs.
    settings.SIMULATOR_ENABLED = True


@pytest.fixture
def world(db) -> dict[str, int | str]:
    """One of everything a URL can name; the ids fill the `<name>` parts of the routes."""
    message = MessageFactory()
    # Agents see only the channels their teams work: the agent `client_for` signs in joins this team.
    team = TeamFactory(name=WORLD_TEAM, channels=[message.channel])
    event = WebhookEvent.objects.create(raw_body=b"{}", state="unroutable")
    canned = CannedResponse.objects.create(owner=None, shortcut="thanks", text="Thank you!")
    notification = Notification.objects.create(user=UserFactory(), kind="mention", conversation=message.conversation)
    template = live_template(waba_id=message.channel.waba_id)
    return {
        "template_id": template.pk,
        "action": "approve",
        "revision_id": template.live_revision_id,
        "channel_id": message.channel_id,
        "conversation_id": message.conversation_id,
        "contact_id": message.conversation.contact_id,
        "message_id": message.pk,
        "event_id": event.pk,
        "canned_id": canned.pk,
        "notification_id": notification.pk,
        "phone_number_id": message.channel.phone_number_id,
        "media_id": "1234567890",
        "label_id": LabelFactory().pk,
        "saved_view_id": SavedView.objects.create(owner=UserFactory(), name="Mine, urgent").pk,
        "token": "no-such-invitation",
        "team_id": team.pk,
        "user_id": UserFactory().pk,
        "reply_id": message.channel.auto_replies.create(kind="welcome", name="Welcome", text="Hi!").pk,
    }


def client_for(person: str) -> Client:
    client = Client()
    if person == "inactive":
        client.force_login(UserFactory(role=Role.AGENT, is_active=False))
    elif person != "anonymous":
        user = UserFactory(role=Role(person))
        if person == "agent":
            for team in Team.objects.filter(name=WORLD_TEAM):
                team.members.add(user)
        client.force_login(user)
    return client


def concrete_path(route: str, ids: dict[str, int | str]) -> str:
    if route in EXAMPLE_PATHS:
        return EXAMPLE_PATHS[route].format(**ids)

    def fill(match: re.Match) -> str:
        name = match.group(1)
        assert name in ids, f"Add an id for <{name}> to the `world` fixture"
        return str(ids[name])

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", fill, route)


@pytest.mark.django_db
@pytest.mark.parametrize("route", list(MATRIX))
def test_who_may_get_each_url(route, world):
    path = concrete_path(route, world)
    answered = {person: client_for(person).get(path).status_code for person in PEOPLE}
    assert answered == MATRIX[route], f"GET {path}"


@pytest.mark.django_db
@pytest.mark.parametrize("route", [route for route in MATRIX if route.startswith("simulator/")])
def test_the_simulator_does_nothing_when_switched_off(route, world, settings):
    settings.SIMULATOR_ENABLED = False
    client = client_for("admin")
    path = concrete_path(route, world)
    # 405 where the method check comes before the on/off check; no simulator view runs either way.
    assert client.get(path).status_code in (404, 405), f"GET {route}"
    assert client.post(path).status_code in (404, 405), f"POST {route}"


def socket_outcome(path: str, client: Client) -> str:
    from config.asgi import application

    headers = [(b"origin", b"http://testserver")]
    if "sessionid" in client.cookies:
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))

    async def connect() -> str:
        communicator = WebsocketCommunicator(application, path, headers=headers)
        connected, _ = await communicator.connect()
        if not connected:
            return "refused"
        if await communicator.receive_nothing(timeout=0.3):
            await communicator.disconnect()
            return "open"
        output = await communicator.receive_output()
        await communicator.disconnect()
        return f"closed {output.get('code')}" if output["type"] == "websocket.close" else output["type"]

    return async_to_sync(connect)()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("route", list(WEBSOCKET_MATRIX))
def test_who_may_open_each_socket(route):
    # transaction=True: the consumer reads the session and the person from another thread.
    answered = {person: socket_outcome("/" + route, client_for(person)) for person in PEOPLE}
    assert answered == WEBSOCKET_MATRIX[route]
