"""Compliance: what WhatsApp's rules cost each message, on an account at the 100,000-customer tier.

In one process, no server: a fresh PostgreSQL database `switchboard_bench_compliance`, migrated, then filled
with bulk inserts from a fixed random seed: one account (two numbers), `--reached` customers reached by
business-initiated messages in the last 24 hours (the messaging-limit count) plus as many older ones, and a
consent ledger of three entries per customer. Reported:

- `policy_us`, `keywords_us`: microseconds per call of `policy.may_send` (every rule, pure) and of
  `policy.keyword_intent` on a customer's message that is not a command (the common case);
- `facts`: p50/p95 and SQL queries of reading every fact the guard needs for a business-initiated template
  (window, template, consent, identity, number, the exact messaging-limit count over the moving 24 hours);
- `limiter_us`: microseconds per reservation of the pacing limiter, in-process and (when REDIS_URL is set)
  through Redis's script: what pacing adds to each send.

    .venv/bin/python bench/compliance.py --reached 99000
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DB_NAME = "switchboard_bench_compliance"
PG_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
RESULTS_DIR = ROOT / "bench" / "results"
SEED = 20261122
WABA = "910000000000000"
REDIS_URL = os.environ.get("REDIS_URL", "")


def fresh_database() -> None:
    import subprocess

    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", DB_NAME], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB_NAME], check=True)


def django_setup() -> None:
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
    return round((time.perf_counter() - started) / runs * 1_000_000, 2)


def populate(reached: int) -> dict:
    from django.core.management import call_command
    from django.utils import timezone

    from inbox.models import (
        BusinessInitiatedReach,
        Channel,
        ConsentEvent,
        Contact,
        Conversation,
    )
    from templates_app.models import MessageTemplate, RevisionState, TemplateRevision

    call_command("migrate", verbosity=0)
    rng = random.Random(SEED)
    now = timezone.now()
    channels = [
        Channel.objects.create(
            name=f"Line {n}",
            phone_number_id=f"91000000000000{n}",
            waba_id=WABA,
            access_token="bench-token",
            app_secret="bench-secret",
            verify_token="bench-verify",
            messaging_limit=100_000,
        )
        for n in (1, 2)
    ]
    template = MessageTemplate.objects.create(
        waba_id=WABA, name="offer", language="en_US", category="MARKETING", status="APPROVED"
    )
    revision = TemplateRevision.objects.create(
        template=template,
        number=1,
        state=RevisionState.LIVE,
        category="MARKETING",
        components=[{"type": "BODY", "text": "Our spring offer is here."}],
    )
    template.live_revision = revision
    template.save(update_fields=["live_revision"])
    customers = 2 * reached
    for start in range(0, customers, 10_000):
        size = min(10_000, customers - start)
        contacts = Contact.objects.bulk_create(
            [Contact(wa_id=f"4471{start + i:08d}", profile_name=f"Customer {start + i}") for i in range(size)]
        )
        events, reaches = [], []
        for index, contact in enumerate(contacts):
            channel = channels[index % 2]
            # Utility and marketing opt-ins; one customer in ten later opted out of marketing.
            ledger = [("utility", "opt_in"), ("marketing", "opt_in")]
            if rng.random() < 0.1:
                ledger.append(("marketing", "opt_out"))
            for order, (purpose, action) in enumerate(ledger):
                events.append(
                    ConsentEvent(
                        contact=contact,
                        purpose=purpose,
                        action=action,
                        source="website_form",
                        occurred_at=now - timedelta(days=300 - 100 * order),
                    )
                )
            # Half reached within the last 24 hours (the count), half earlier (history the count skips).
            ago = rng.uniform(0, 23.9) if (start + index) % 2 == 0 else rng.uniform(24.1, 30 * 24)
            reaches.append(
                BusinessInitiatedReach(
                    waba_id=WABA, contact=contact, channel=channel, reached_at=now - timedelta(hours=ago)
                )
            )
        ConsentEvent.objects.bulk_create(events)
        BusinessInitiatedReach.objects.bulk_create(reaches)
    # The customer written to: reached long ago, opted in to marketing.
    target = Contact.objects.create(wa_id="447199999999", profile_name="Target")
    ConsentEvent.objects.create(
        contact=target, purpose="marketing", action="opt_in", source="website_form", occurred_at=now
    )
    conversation = Conversation.objects.create(channel=channels[0], contact=target, activity_at=now)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"conversation": conversation, "template": template}


def timed(function, repetitions: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    function()  # warm
    samples = []
    with CaptureQueriesContext(connection) as queries:
        function()
    for _ in range(repetitions):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 2),
        "queries": len(queries),
    }


def run(reached: int, repetitions: int) -> dict:
    fresh_database()
    django_setup()
    from django.utils import timezone

    from inbox import limiter, policy
    from inbox.services import outbound
    from templates_app.models import MessageTemplate

    world = populate(reached)
    now = timezone.now()
    facts = policy.OutboundFacts(
        message_type="template",
        last_customer_message_at=None,
        template_status="APPROVED",
        template_has_live_revision=True,
        template_category="MARKETING",
        opted_in=frozenset({"marketing", "utility"}),
        messaging_limit=100_000,
        reached_in_24h=reached - 1,
    )
    pure = {
        "policy_us": per_call_us(lambda: policy.may_send(facts, now=now), 20_000),
        "keywords_us": per_call_us(lambda: policy.keyword_intent("Is my order on its way?"), 20_000),
    }
    template = MessageTemplate.objects.select_related("live_revision").get(pk=world["template"].pk)
    conversation = world["conversation"]

    def read_facts():
        answer = outbound._facts(
            conversation=conversation,
            message_type="template",
            initiator=policy.AGENT,
            now=timezone.now(),
            template=template,
        )
        assert answer.reached_in_24h >= reached // 2, answer
        assert policy.may_send(answer, now=timezone.now()).allowed

    rates = limiter.send_rates(phone_number_id="910000000000001", recipient="447100000000", throughput=1000)
    in_process = limiter.InProcessLimiter()
    limiters = {"in_process_us": per_call_us(lambda: in_process.reserve(rates, max_wait=10**9), 20_000)}
    if REDIS_URL:
        shared = limiter.RedisLimiter(REDIS_URL)
        limiters["redis_us"] = per_call_us(lambda: shared.reserve(rates, max_wait=10**9), 2_000)
    return {
        "reached_in_24h": reached,
        "pure": pure,
        "facts": timed(read_facts, repetitions),
        "limiter": limiters,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--reached", type=int, default=99_000, help="customers reached in the last 24 hours (limit 100,000)"
    )
    parser.add_argument("--repetitions", type=int, default=200)
    args = parser.parse_args()
    result = run(args.reached, args.repetitions)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "compliance.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
