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
