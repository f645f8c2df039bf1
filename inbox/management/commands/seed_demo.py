"""Create the demo people and the sandbox WhatsApp number. Safe to run again: it updates, never duplicates."""

import os

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Role, Team, User
from inbox.demo import (
    DEMO_TEMPLATES,
    SANDBOX_ACCESS_TOKEN,
    SANDBOX_APP_ID,
    SANDBOX_APP_SECRET,
    SANDBOX_PHONE_NUMBER_ID,
    SANDBOX_VERIFY_TOKEN,
    SANDBOX_WABA_ID,
    sandbox_graph_api_base,
)
from inbox.models import Channel
from simulator import services as simulator_services
from simulator.models import SimulatedTemplate
from simulator.selectors import template_object
from templates_app import services as templates_services

DEMO_USERS = [
    ("admin@example.com", "Ada Admin", Role.ADMIN),
    ("agent@example.com", "Alex Agent", Role.AGENT),
    ("manager@example.com", "Morgan Manager", Role.MANAGER),
]

DEMO_AGENT_EMAIL = "agent@example.com"
DEMO_TEAM = "Support"


class Command(BaseCommand):
    help = "Seed demo users (password from DEMO_PASSWORD) and the sandbox WhatsApp channel."

    def handle(self, *args, **options):
        port = os.environ.get("PORT", "8000")
        with transaction.atomic():
            for email, name, role in DEMO_USERS:
                user, _ = User.objects.get_or_create(email=email, defaults={"name": name, "role": role})
                user.name, user.role, user.is_active = name, role, True
                # Sandbox people with a published password: exempt from two-factor so anyone can try every role.
                user.is_demo = True
                user.is_staff = user.is_superuser = role == Role.ADMIN
                user.set_password(settings.DEMO_PASSWORD)
                user.save()
            channel, created = Channel.objects.get_or_create(
                phone_number_id=SANDBOX_PHONE_NUMBER_ID,
                defaults={
                    "name": "Sandbox number",
                    "waba_id": SANDBOX_WABA_ID,
                    "display_phone_number": "+1 555 010 0001",
                    "access_token": SANDBOX_ACCESS_TOKEN,
                    "app_secret": SANDBOX_APP_SECRET,
                    "verify_token": SANDBOX_VERIFY_TOKEN,
                    "graph_api_base": sandbox_graph_api_base(port),
                    "app_id": SANDBOX_APP_ID,
                },
            )
            if not created and "/simulator/graph/" in channel.graph_api_base:
                # Follow the port `make run` serves on, so the sandbox number keeps talking to our simulator.
                channel.graph_api_base = sandbox_graph_api_base(port)
                channel.app_id = channel.app_id or SANDBOX_APP_ID
                channel.save(update_fields=["graph_api_base", "app_id"])
            # Agents see only the channels their teams work: the demo agent's team works the sandbox number.
            support, _ = Team.objects.get_or_create(name=DEMO_TEAM)
            support.channels.add(channel)
            support.members.add(User.objects.get(email=DEMO_AGENT_EMAIL))
            # The demo agent may write templates (an admin still approves them).
            User.objects.filter(email=DEMO_AGENT_EMAIL).update(can_author_templates=True)
            templates = self._seed_templates(channel)
            self._seed_automation(channel, support, port)
            self._seed_consent(channel)
        self.stdout.write(
            f"Demo users and the sandbox channel are ready (channel id {channel.pk}, {templates} new templates)."
        )

    def _seed_templates(self, channel: Channel) -> int:
        """Approved templates on the simulator's side and imported on ours, as a sync would."""
        created = 0
        for template in DEMO_TEMPLATES:
            simulated = SimulatedTemplate.objects.filter(
                waba_id=channel.waba_id, name=template["name"], language=template["language"]
            ).first()
            if simulated is None:
                simulated = simulator_services.template_create(waba_id=channel.waba_id, approved=True, **template)
            created += bool(
                templates_services.template_import(waba_id=channel.waba_id, item=template_object(simulated))
            )
        return created

    def _seed_automation(self, channel: Channel, support: Team, port: str) -> None:
        """The sandbox number's escalation route (team Support, a phone fallback), the demo bot and example
        auto-replies, all switched OFF (the README says how to switch them on). An admin's changes are kept."""
        from inbox.models import AutoReply, ChannelAutomation, FallbackKind
        from simulator.bot import DEMO_BOT_SECRET

        bot_url = f"http://127.0.0.1:{port}/simulator/bot/"
        automation, created = ChannelAutomation.objects.get_or_create(
            channel=channel,
            defaults={
                "escalation_team": support,
                "answer_within_minutes": 10,
                "fallback_after_minutes": 30,
                "fallback_kind": FallbackKind.PHONE,
                "fallback_text": "Sorry for the wait. You can also reach us by phone at +1 555 010 0000, "
                "Monday to Friday 9:00-18:00.",
                "time_zone": "Europe/Rome",
                "business_hours": {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
                "bot_enabled": False,
                "bot_url": bot_url,
                "bot_secret": DEMO_BOT_SECRET,
                "bot_timeout_seconds": 5,
            },
        )
        if not created and "/simulator/bot/" in automation.bot_url and automation.bot_url != bot_url:
            automation.bot_url = bot_url
            automation.save(update_fields=["bot_url"])
        examples = [
            ("welcome", "Welcome", "Hi! Thanks for writing to us. How can we help?", []),
            (
                "away",
                "Away",
                "We are closed right now (Monday to Friday, 9:00-18:00). We will answer when we open.",
                [],
            ),
            ("keyword", "Opening hours", "We are open Monday to Friday, 9:00 to 18:00.", ["hours", "opening hours"]),
        ]
        for kind, name, text, keywords in examples:
            AutoReply.objects.get_or_create(
                channel=channel,
                kind=kind,
                name=name,
                defaults={"text": text, "keywords": keywords, "enabled": False, "human_route": "button"},
            )

    def _seed_consent(self, channel: Channel) -> None:
        """The sandbox number's customers opted in to marketing and utility messages on a (pretend) website
        form, so the demo can send every template. Only purposes never recorded: a demo STOP stays."""
        from django.utils import timezone

        from inbox.models import ConsentAction, ConsentEvent, ConsentSource, Contact
        from inbox.services.consent import consent_record

        for contact in Contact.objects.filter(conversations__channel=channel).distinct():
            recorded = set(ConsentEvent.objects.filter(contact=contact).values_list("purpose", flat=True))
            for purpose in ("marketing", "utility"):
                if purpose not in recorded:
                    consent_record(
                        contact=contact,
                        purpose=purpose,
                        action=ConsentAction.OPT_IN,
                        source=ConsentSource.WEBSITE_FORM,
                        evidence="Demo data: signed up on the website.",
                        channel=channel,
                        occurred_at=timezone.now(),
                    )
