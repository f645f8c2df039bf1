"""Templates: how fast the template pages, the composer's picker and the pure template code answer on an
account at WhatsApp's limit (250 templates) with a busy template (100,000 messages sent with it).

In one process, no server: a fresh PostgreSQL database `switchboard_bench_templates`, migrated, then filled
with bulk inserts from a fixed random seed. Reported:

- `lint` and `build`: microseconds per call of `lint.lint_template` on a full template (header, body with
  3 variables, footer, 3 buttons) and of `sending.build_template_message` for it (pure, no database);
- `list`, `detail`, `picker`: p50/p95 and SQL queries per request of GET /templates/, of a template's page
  (its analytics aggregate over every message sent with it) and of the composer's template picker, through
  Django's full request stack.

    .venv/bin/python bench/templates.py --messages 100000
"""

import argparse
import json
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.inbox_list import measure  # noqa: E402 - the same request timer as the inbox list

DB_NAME = "switchboard_bench_templates"
PG_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
RESULTS_DIR = ROOT / "bench" / "results"
SEED = 20261122
TEMPLATES = 250
WABA = "900000000000000"
COMPONENTS = [
    {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": {"header_text": ["#1042"]}},
    {
        "type": "BODY",
        "text": "Hi {{1}}, your order {{2}} has shipped and arrives on {{3}}. Reply here with any question.",
        "example": {"body_text": [["Ana", "#1042", "Friday"]]},
    },
    {"type": "FOOTER", "text": "Questions? Just reply here."},
    {
        "type": "BUTTONS",
        "buttons": [
            {"type": "QUICK_REPLY", "text": "Thanks!"},
            {"type": "QUICK_REPLY", "text": "Talk to a person"},
            {
                "type": "URL",
                "text": "Track",
                "url": "https://shop.example/track/{{1}}",
                "example": ["https://shop.example/track/1042"],
            },
        ],
    },
]
VALUES = {"header.1": "#77", "body.1": "Ana", "body.2": "#77", "body.3": "Monday", "buttons.2.1": "77"}


def fresh_database() -> None:
    import subprocess

    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB_NAME], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB_NAME], check=True)


def django_setup() -> None:
    import os

    os.environ.update(
        DATABASE_URL=PG_URL,
        TASK_RUNNER="eager",
        SECRET_KEY=os.environ.get("SECRET_KEY", "bench-secret-key"),
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="config.settings",
        SIMULATOR_ENABLED="false",
    )
    for name in ("REDIS_URL", "DEBUG", "DEMO_PASSWORD"):
        os.environ.pop(name, None)
    import django

    django.setup()


def per_call_us(function, runs: int) -> float:
    started = time.perf_counter()
    for _ in range(runs):
        function()
    return round((time.perf_counter() - started) / runs * 1_000_000, 1)


def populate(messages: int) -> dict:
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import Role, User
    from inbox.models import Channel, Contact, Conversation, Direction, Message, MessageStatus
    from templates_app.models import MessageTemplate, RevisionState, TemplateRevision

    call_command("migrate", verbosity=0)
    rng = random.Random(SEED)
    now = timezone.now()
    channel = Channel.objects.create(
        name="Line 1",
        phone_number_id="900000000000001",
        waba_id=WABA,
        access_token="bench-token",
        app_secret="bench-secret",
        verify_token="bench-verify",
    )
    admin = User.objects.create_user("admin@bench.example", "bench password", name="Admin", role=Role.ADMIN)
    templates = []
    for index in range(TEMPLATES):
        template = MessageTemplate.objects.create(
            waba_id=WABA,
            name=f"template_{index:03d}",
            language=("en_US", "pt_BR", "es")[index % 3],
            category="UTILITY",
            # Most approved, one in ten paused and one in ten rejected, as on a lived-in account.
            status="APPROVED" if index % 10 < 8 else ("PAUSED", "REJECTED")[index % 2],
            provider_template_id=str(5_000_000_000_000_000 + index),
        )
        revision = TemplateRevision.objects.create(
            template=template, number=1, state=RevisionState.LIVE, category="UTILITY", components=COMPONENTS
        )
        template.live_revision = revision
        template.save(update_fields=["live_revision"])
        templates.append(template)
    busy = templates[0]
    contacts = Contact.objects.bulk_create(
        [Contact(wa_id=f"4470{i:08d}", profile_name=f"Customer {i}") for i in range(max(1, messages // 20))]
    )
    conversations = Conversation.objects.bulk_create(
        [Conversation(channel=channel, contact=contact, activity_at=now) for contact in contacts]
    )
    statuses = (
        [MessageStatus.READ] * 55
        + [MessageStatus.DELIVERED] * 30
        + [MessageStatus.SENT] * 10
        + [MessageStatus.FAILED] * 5
    )
    for start in range(0, messages, 5_000):
        rows = []
        for i in range(start, min(messages, start + 5_000)):
            conversation = conversations[i % len(conversations)]
            status = rng.choice(statuses)
            at = now - timedelta(seconds=rng.uniform(0, 30 * 86_400))
            rows.append(
                Message(
                    conversation=conversation,
                    channel=channel,
                    direction=Direction.OUTBOUND,
                    type="template",
                    text="Hi Ana, your order has shipped",
                    content={"name": busy.name},
                    status=status,
                    error_code=rng.choice((131026, 131049, 131047)) if status == MessageStatus.FAILED else None,
                    timestamp=at,
                    template=busy,
                )
            )
            if rng.random() < 0.3:
                rows.append(
                    Message(
                        conversation=conversation,
                        channel=channel,
                        direction=Direction.INBOUND,
                        type="text",
                        text="Thanks!",
                        status=MessageStatus.RECEIVED,
                        timestamp=at + timedelta(minutes=5),
                    )
                )
        Message.objects.bulk_create(rows)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"admin": admin, "busy": busy, "conversation": conversations[0]}


def run(messages: int, repetitions: int, budget: float) -> dict:
    fresh_database()
    django_setup()
    from django.test import Client

    from templates_app import lint, sending
    from templates_app.models import MessageTemplate

    world = populate(messages)
    draft = {"name": "order_update", "language": "en_US", "category": "UTILITY", "components": COMPONENTS}
    busy = MessageTemplate.objects.select_related("live_revision").get(pk=world["busy"].pk)
    pure = {
        "lint_us": per_call_us(lambda: lint.lint_template(draft), 2_000),
        "build_us": per_call_us(
            lambda: sending.build_template_message(
                template=busy, revision=busy.live_revision, values=VALUES, header_media=None
            ),
            2_000,
        ),
    }
    client = Client()
    client.force_login(world["admin"])
    pages = {
        "list": measure(client, "/templates/", repetitions, budget),
        "detail": measure(client, f"/templates/{busy.pk}/", repetitions, budget),
        "picker": measure(client, f"/inbox/conversations/{world['conversation'].pk}/templates", repetitions, budget),
    }
    for page in pages.values():
        page.pop("_sql")
    return {"templates": TEMPLATES, "messages_of_busy_template": messages, **pure, "pages": pages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--repetitions", type=int, default=50)
    parser.add_argument("--budget", type=float, default=30.0, help="seconds at most per page")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "templates.json")
    options = parser.parse_args()
    result = run(options.messages, options.repetitions, options.budget)
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(result, indent=2))
    print(f"{TEMPLATES} templates, {options.messages} messages sent with one of them")
    print(f"lint {result['lint_us']} µs/template, build {result['build_us']} µs/send")
    print(f"{'page':<8} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    for name, page in result["pages"].items():
        print(f"{name:<8} {page['p50_ms']:>8} {page['p95_ms']:>8} {page['queries']:>8}")
    print(f"median of medians {statistics.median(p['p50_ms'] for p in result['pages'].values())} ms")


if __name__ == "__main__":
    main()
