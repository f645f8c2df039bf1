"""factory_boy factories for every model the tests touch."""

import factory
from django.utils import timezone

from accounts.models import Role, Team, User
from inbox.models import Channel, Contact, Conversation, Direction, Message, MessageStatus

TEST_APP_SECRET = "test-app-secret"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    name = factory.Faker("name")
    role = Role.AGENT
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    name = factory.Sequence(lambda n: f"Support line {n}")
    phone_number_id = factory.Sequence(lambda n: f"10654035224{n:04d}")
    waba_id = "419561257915477"
    display_phone_number = "15550783881"
    access_token = "test-access-token"
    app_secret = TEST_APP_SECRET
    verify_token = "test-verify-token"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    wa_id = factory.Sequence(lambda n: f"1650555{n:04d}")
    profile_name = factory.Faker("name")


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    channel = factory.SubFactory(ChannelFactory)
    contact = factory.SubFactory(ContactFactory)


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    channel = factory.SelfAttribute("conversation.channel")
    direction = Direction.INBOUND
    type = "text"
    text = factory.Faker("sentence")
    content = factory.LazyAttribute(lambda m: {"body": m.text})
    provider_message_id = factory.Sequence(lambda n: f"wamid.TEST{n:08d}")
    status = MessageStatus.RECEIVED
    timestamp = factory.LazyFunction(timezone.now)


class TeamFactory(factory.django.DjangoModelFactory):
    """A team; pass `channels=[...]` and `members=[...]` to have it work channels with people."""

    class Meta:
        model = "accounts.Team"
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Team {n:03d}")

    @factory.post_generation
    def channels(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.channels.set(extracted)

    @factory.post_generation
    def members(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.members.set(extracted)


class LabelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "inbox.Label"

    name = factory.Sequence(lambda n: f"label-{n}")


def worked_by(user: User, channel: Channel) -> Team:
    """Put `user` in a team that works `channel` (agents see only the channels their teams work)."""
    team = Team.objects.filter(channels=channel).order_by("pk").first() or TeamFactory(channels=[channel])
    team.members.add(user)
    return team


# Message templates. `live_template` makes one WhatsApp approved, with its live revision.

ORDER_UPDATE_COMPONENTS = [
    {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": {"header_text": ["#1042"]}},
    {
        "type": "BODY",
        "text": "Hi {{1}}, your order {{2}} ships today.",
        "example": {"body_text": [["Ana", "#1042"]]},
    },
    {"type": "FOOTER", "text": "Reply STOP to opt out"},
    {
        "type": "BUTTONS",
        "buttons": [{"type": "QUICK_REPLY", "text": "Thanks"}, {"type": "QUICK_REPLY", "text": "Help"}],
    },
]


def live_template(
    *,
    waba_id: str = ChannelFactory.waba_id,
    name: str = "order_update",
    language: str = "en_US",
    category: str = "UTILITY",
    components: list | None = None,
    status: str = "APPROVED",
    provider_template_id: str = "",
    author: User | None = None,
):
    from templates_app.models import MessageTemplate, RevisionState, TemplateRevision

    template = MessageTemplate.objects.create(
        waba_id=waba_id,
        name=name,
        language=language,
        category=category,
        status=status,
        provider_template_id=provider_template_id or f"9{MessageTemplate.objects.count():015d}",
        created_by=author,
    )
    revision = TemplateRevision.objects.create(
        template=template,
        number=1,
        state=RevisionState.LIVE,
        category=category,
        components=components if components is not None else ORDER_UPDATE_COMPONENTS,
        author=author,
    )
    template.live_revision = revision
    template.save(update_fields=["live_revision"])
    return template


def consenting(contact: Contact, *purposes: str, at=None) -> Contact:
    """The contact opted in to each purpose (marketing, utility, authentication; all three when none is
    named) on a website form: what a business-initiated template needs."""
    from inbox.models import ConsentAction, ConsentEvent, ConsentSource

    for purpose in purposes or ("marketing", "utility", "authentication"):
        ConsentEvent.objects.create(
            contact=contact,
            purpose=purpose.lower(),
            action=ConsentAction.OPT_IN,
            source=ConsentSource.WEBSITE_FORM,
            occurred_at=at or timezone.now(),
            evidence="Signed up on the website",
        )
    return contact


def escalation_route(channel: Channel, **fields):
    """A complete escalation route for `channel` (ChannelAutomation): the team working it takes handed-over
    conversations, people answer within 10 minutes, a phone fallback goes after 30. `fields` override."""
    from inbox.models import ChannelAutomation

    values = {
        "answer_within_minutes": 10,
        "fallback_after_minutes": 30,
        "fallback_kind": "phone",
        "fallback_text": "You can also call us at +1 555 010 0000.",
        **fields,
    }
    automation, _created = ChannelAutomation.objects.update_or_create(channel=channel, defaults=values)
    return automation
