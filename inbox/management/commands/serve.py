"""`make run`'s last step: print where to go and who to log in as, then serve HTTP and WebSockets with
Daphne in this process (the embedded mode runs background tasks in here too)."""

import os

from daphne.cli import CommandLineInterface
from django.conf import settings
from django.core.management.base import BaseCommand

from inbox.demo import SANDBOX_APP_SECRET, SANDBOX_PHONE_NUMBER_ID
from inbox.management.commands.seed_demo import DEMO_USERS


class Command(BaseCommand):
    help = "Serve Switchboard (HTTP + WebSockets) with Daphne on 127.0.0.1:$PORT."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))

    def handle(self, *args, host: str, port: str, **options):
        url = f"http://{host}:{port}/"
        database = settings.DATABASES["default"]
        mode = "embedded (in-process tasks, in-memory live events)" if not settings.REDIS_URL else "Redis + workers"
        lines = [
            "",
            f"  Switchboard is starting on {url}",
            f"  Database: {database['ENGINE'].rsplit('.', 1)[-1]} {database['NAME']}; mode: {mode}",
            "",
            "  Log in as (password: the DEMO_PASSWORD you set, else 'switchboard-demo'):",
            *[f"    {role.label:<8} {email}" for email, _, role in DEMO_USERS],
            "",
        ]
        if getattr(settings, "SIMULATOR_ENABLED", False):
            lines += [
                f"  Play a customer on the WhatsApp simulator: {url}simulator/",
                f"  Sandbox number: phone_number_id {SANDBOX_PHONE_NUMBER_ID}, app secret '{SANDBOX_APP_SECRET}'",
                "",
            ]
        self.stdout.write("\n".join(lines))
        if getattr(settings, "SIMULATOR_ENABLED", False) and not settings.SIMULATOR_WEBHOOK_URL:
            # The simulator signs its webhooks and posts them to this very server, as Meta would.
            settings.SIMULATOR_WEBHOOK_URL = f"{url}webhooks/whatsapp"
        CommandLineInterface().run(["-b", host, "-p", str(port), "--proxy-headers", "config.asgi:application"])
