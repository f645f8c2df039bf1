"""B4 inbox list: the conversation list's latency and SQL query count with many conversations on PostgreSQL.

In one process, no server: a fresh PostgreSQL database `switchboard_bench_list` (dropped and created anew),
migrated, then filled with bulk inserts from a fixed random seed: two channels, N conversations (half on
each), a team "Support" working channel 1 with one agent, and an admin who sees everything. Activity is
spread over 90 days, most conversations are open, ~30% of channel 1's are assigned to the agent, ~15% carry a
label. The planner's statistics are refreshed (ANALYZE) before measuring, as autovacuum would.

For the agent (sees half) and the admin (sees all), each request is timed over `--repetitions` runs through
Django's full request stack (middleware, DRF, templates), reporting p50/p95 in ms and the SQL queries per
request:

- `api_first`:  GET /api/v1/conversations/?limit=25 (DRF `APIClient`, force_authenticate)
- `api_deep`:   the same list `--deep-pages` pages in (the cursor got by following `next`)
- `rows_all`, `rows_mine`: the inbox page's rows partial GET /inbox/conversations/?view=all|mine (test
  `Client`, force_login); the first page also computes the tab counts
- `rows_all_deep`: the rows partial `--deep-pages` pages in (`cursor=`), which skips the tab counts

Every captured SQL query that reads `inbox_conversation` is then run under EXPLAIN ANALYZE and its plan's top
line, execution time and any sequential scan of the conversations table are recorded.

    .venv/bin/python bench/inbox_list.py --conversations 100000
    .venv/bin/python bench/inbox_list.py --conversations 10000
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DB_NAME = "switchboard_bench_list"
PG_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
RESULTS_DIR = ROOT / "bench" / "results"
SEED = 20260422
BATCH = 5_000
LABELS = ("billing", "vip", "bug", "refund")


def fresh_database() -> None:
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


def populate(conversations: int) -> dict:
    """The people, channels, team, labels, contacts and conversations; how long it took."""
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Role, Team, User
    from inbox.models import Channel, Contact, Conversation, ConversationStatus, Label, Priority

    started = time.perf_counter()
    rng = random.Random(SEED)
    now = timezone.now()
    channels = [
        Channel.objects.create(
            name=f"Line {i}",
            phone_number_id=f"90000000000000{i}",
            waba_id="900000000000000",
            display_phone_number=f"1555000000{i}",
            access_token="bench-token",
            app_secret="bench-secret",
            verify_token="bench-verify",
        )
        for i in (1, 2)
    ]
    agent = User.objects.create_user("agent@bench.example", "bench password", name="Agent", role=Role.AGENT)
    admin = User.objects.create_user("admin@bench.example", "bench password", name="Admin", role=Role.ADMIN)
    team = Team.objects.create(name="Support")
    team.members.add(agent)
    team.channels.add(channels[0])
    labels = [Label.objects.create(name=name) for name in LABELS]

    statuses = [ConversationStatus.OPEN] * 70 + [ConversationStatus.PENDING] * 10
    statuses += [ConversationStatus.SNOOZED] * 5 + [ConversationStatus.RESOLVED] * 15
    priorities = [Priority.NONE] * 80 + [Priority.LOW, Priority.MEDIUM, Priority.HIGH, Priority.URGENT] * 5
    label_links = []
    for start in range(0, conversations, BATCH):
        size = min(BATCH, conversations - start)
        contacts = Contact.objects.bulk_create(
            [
                Contact(wa_id=f"4470{start + i:08d}", profile_name=f"Customer {start + i}", created_at=now)
                for i in range(size)
            ]
        )
        rows = []
        for i, contact in enumerate(contacts):
            index = start + i
            channel = channels[index % 2]
            activity = now - timedelta(seconds=rng.uniform(0, 90 * 86_400))
            assigned = channel is channels[0] and rng.random() < 0.30
            inbound = rng.random() < 0.6
            rows.append(
                Conversation(
                    channel=channel,
                    contact=contact,
                    status=rng.choice(statuses),
                    created_at=activity - timedelta(hours=rng.uniform(0, 72)),
                    last_message_at=activity,
                    last_message_preview=f"Message {index}: hello, about my order",
                    last_message_direction="inbound" if inbound else "outbound",
                    unread_count=rng.randint(0, 3) if inbound else 0,
                    last_inbound_at=activity if inbound else None,
                    service_window_closes_at=activity + timedelta(hours=24) if inbound else None,
                    activity_at=activity,
                    assignee=agent if assigned else None,
                    assigned_at=activity if assigned else None,
                    # A few handed to the team explicitly (still visible to the agent: a member).
                    team=team if channel is channels[0] and rng.random() < 0.1 else None,
                    priority=rng.choice(priorities),
                )
            )
        created = Conversation.objects.bulk_create(rows)
        for conversation in created:
            if rng.random() < 0.15:
                label_links.append(
                    Conversation.labels.through(conversation_id=conversation.pk, label_id=rng.choice(labels).pk)
                )
    Conversation.labels.through.objects.bulk_create(label_links, batch_size=BATCH)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "conversations": Conversation.objects.count(),
        "visible_to_agent": Conversation.objects.filter(channel=channels[0]).count(),
        "assigned_to_agent": Conversation.objects.filter(assignee=agent).count(),
        "labelled": len(label_links),
        "users": {"agent": agent.pk, "admin": admin.pk},
    }


def percentile(sorted_values: list[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def measure(client, url: str, repetitions: int, budget: float) -> dict:
    """p50/p95 of `repetitions` GETs (bounded by `budget` seconds) and the queries one request makes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):  # warm-up: imports, template loading, connection
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    queries = list(captured.captured_queries)
    timings = []
    deadline = time.perf_counter() + budget
    for _ in range(repetitions):
        started = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        if time.perf_counter() > deadline:
            break
    timings.sort()
    return {
        "url": url,
        "runs": len(timings),
        "p50_ms": round(statistics.median(timings) * 1000, 2),
        "p95_ms": round(percentile(timings, 0.95) * 1000, 2),
        "max_ms": round(timings[-1] * 1000, 2),
        "queries": len(queries),
        "sql_ms": round(sum(float(q["time"]) for q in queries) * 1000, 2),
        "bytes": len(response.content),
        "_sql": [q["sql"] for q in queries],
    }


def explain(sql: str) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        plan = [row[0] for row in cursor.fetchall()]
    seq_scans = [line.strip() for line in plan if "Seq Scan on inbox_conversation " in line]
    # How the conversations table is read: "Index Scan using conversation_activity", "Seq Scan", ...
    scans = []
    for line in plan:
        if " on inbox_conversation " in line and "Scan" in line:
            scan = line.strip().lstrip("-> ").split("  (")[0].replace(" on inbox_conversation", "")
            scans.append(scan)
    execution = next((line for line in plan if line.startswith("Execution Time")), "")
    return {
        "sql": sql if len(sql) < 4000 else sql[:4000] + " ...",
        "top": plan[0].strip(),
        "execution": execution,
        "seq_scan_on_conversations": seq_scans,
        "conversation_scans": scans,
        "plan": plan,
    }


def api_deep_url(client, pages: int) -> tuple[str, int]:
    """Follow `next` from the first page `pages` times (or to the last page with a next); its URL and depth."""
    url = "/api/v1/conversations/?limit=25"
    depth = 0
    while depth < pages:
        data = client.get(url).json()
        if not data["next"]:
            break
        parts = urlsplit(data["next"])
        url = f"{parts.path}?{parts.query}"
        depth += 1
    return url, depth


def rows_deep_url(user, pages: int) -> tuple[str, int]:
    """The rows partial's cursor `pages` pages into the "All" view (same filters as the partial's default)."""
    from inbox.views import display

    filters = display.ListFilters.from_query({"view": "all"})
    cursor, depth = None, 0
    while depth < pages:
        page = display.conversation_page(user=user, view=filters.view, cursor=cursor, filters=filters)
        if not page.next_cursor:
            break
        cursor, depth = page.next_cursor, depth + 1
    return (f"/inbox/conversations/?view=all&cursor={cursor}" if cursor else "/inbox/conversations/?view=all"), depth


def run(conversations: int, repetitions: int, deep_pages: int, budget: float) -> dict:
    fresh_database()
    django_setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from rest_framework.test import APIClient

    from accounts.models import User

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    migrate_seconds = round(time.perf_counter() - started, 1)
    data = populate(conversations)
    setup_test_environment()

    results: dict = {
        "conversations": conversations,
        "database": f"postgresql {connection.pg_version}",
        "data": {**data, "migrate_seconds": migrate_seconds},
        "repetitions": repetitions,
        "deep_pages_requested": deep_pages,
        "users": {},
    }
    for role in ("agent", "admin"):
        user = User.objects.get(email=f"{role}@bench.example")
        api = APIClient()
        api.force_authenticate(user)
        web = Client()
        web.force_login(user)
        deep_api, api_depth = api_deep_url(api, deep_pages)
        deep_rows, rows_depth = rows_deep_url(user, deep_pages)
        print(f"[{conversations}] {role}: measuring (api depth {api_depth}, rows depth {rows_depth})", file=sys.stderr)
        cases = {
            "api_first": (api, "/api/v1/conversations/?limit=25"),
            "api_deep": (api, deep_api),
            "rows_all": (web, "/inbox/conversations/?view=all"),
            "rows_mine": (web, "/inbox/conversations/?view=mine"),
            "rows_all_deep": (web, deep_rows),
        }
        measured = {name: measure(client, url, repetitions, budget) for name, (client, url) in cases.items()}
        measured["api_deep"]["depth_pages"] = api_depth
        measured["rows_all_deep"]["depth_pages"] = rows_depth
        results["users"][role] = measured

    # EXPLAIN ANALYZE every distinct query on the conversations table that the measured requests made.
    explained: dict[str, dict] = {}
    for role, measured in results["users"].items():
        for name, case in measured.items():
            plans = []
            for sql in case.pop("_sql"):
                if sql.lstrip().upper().startswith("SELECT") and '"inbox_conversation"' in sql:
                    plans.append(explain(sql))
            explained[f"{role}.{name}"] = plans
            case["plans"] = [
                {
                    "top": p["top"],
                    "execution": p["execution"],
                    "seq_scan": bool(p["seq_scan_on_conversations"]),
                    "scans": p["conversation_scans"],
                }
                for p in plans
            ]
    results["explain"] = explained
    return results


def table(results: list[dict]) -> str:
    lines = [
        "| convs | user | request | p50 ms | p95 ms | queries | SQL ms | plans of its conversation queries |",
        "|---:|---|---|---:|---:|---:|---:|---|",
    ]
    for result in results:
        for role, measured in result["users"].items():
            for name, case in measured.items():
                depth = f" (page {case['depth_pages'] + 1})" if "depth_pages" in case else ""
                reads = "; ".join(
                    f"{plan['top'].split('  (')[0]}: {', '.join(plan['scans']) or '-'} "
                    f"({plan['execution'].removeprefix('Execution Time: ')})"
                    for plan in case["plans"]
                )
                lines.append(
                    f"| {result['conversations']:,} | {role} | {name}{depth} | {case['p50_ms']} | {case['p95_ms']} "
                    f"| {case['queries']} | {case['sql_ms']} | {reads} |"
                )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--repetitions", type=int, default=200)
    parser.add_argument("--deep-pages", type=int, default=200)
    parser.add_argument("--budget", type=float, default=20, help="At most this many seconds of timing per request")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "inbox_list.json")
    parser.add_argument("--table-only", action="store_true", help="Print the table of the results already saved")
    args = parser.parse_args()
    if args.table_only:
        print(table(json.loads(args.output.read_text())["runs"]))
        return
    result = run(args.conversations, args.repetitions, args.deep_pages, args.budget)
    # One file holds the runs of every size measured, the latest run of each size replacing the earlier one.
    previous = json.loads(args.output.read_text()) if args.output.exists() else {}
    runs = {str(run_["conversations"]): run_ for run_ in previous.get("runs", [])}
    runs[str(args.conversations)] = result
    ordered = [runs[key] for key in sorted(runs, key=int)]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"runs": ordered}, indent=2) + "\n")
    summary = {key: value for key, value in result.items() if key != "explain"}
    print(json.dumps(summary, indent=2))
    print()
    for name, plans in result["explain"].items():
        for i, plan in enumerate(plans, 1):
            print(f"{name} query {i}: {plan['top']}  [{plan['execution']}]")
    print()
    print(table(ordered))


if __name__ == "__main__":
    main()
