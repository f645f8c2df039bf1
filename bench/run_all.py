"""`make bench`: the three benchmarks in the embedded mode and, when PostgreSQL and Redis answer, in the
services mode too. Each result is written to bench/results/<bench>-<mode>.json (a failed run writes its
error there instead), then a short Markdown table of all of them is printed.

    .venv/bin/python bench/run_all.py                  # the quick profile (well under 10 minutes on 2 cores)
    .venv/bin/python bench/run_all.py --profile full   # every script's own defaults
    .venv/bin/python bench/run_all.py --table-only     # print the table of the results already there
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "bench" / "results"
BENCHES = ("ingest", "latency", "outbound")
# Extra arguments per profile, bench and mode. "full" runs the scripts' defaults.
PROFILES: dict[str, dict[str, dict[str, list[str]]]] = {
    "quick": {
        "ingest": {"embedded": ["--deliveries", "1000"], "services": ["--deliveries", "1000"]},
        # Embedded: one message a second at most (see the latency script's report), so fewer messages.
        "latency": {"embedded": ["--messages", "100"], "services": ["--messages", "200"]},
        "outbound": {
            "embedded": ["--customers", "25", "--messages", "400"],
            "services": ["--customers", "25", "--messages", "400"],
        },
    },
    "full": {bench: {"embedded": [], "services": []} for bench in BENCHES},
}
# No single run may take longer than this (the scripts bound their own loops well within it).
RUN_TIMEOUT_SECONDS = 900


def services_available() -> bool:
    """PostgreSQL and Redis answer on loopback (`pg_isready -h 127.0.0.1 -q`, `redis-cli ping`)."""
    if not (shutil.which("pg_isready") and shutil.which("redis-cli")):
        return False
    try:
        postgres = subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"], timeout=10)
        redis = subprocess.run(["redis-cli", "-h", "127.0.0.1", "ping"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return postgres.returncode == 0 and redis.stdout.strip() == "PONG"


def run_one(bench: str, mode: str, extra: list[str]) -> dict:
    command = [sys.executable, str(ROOT / "bench" / f"{bench}.py"), "--mode", mode, *extra]
    print(f"$ {' '.join(command[1:])}", file=sys.stderr, flush=True)
    started = time.monotonic()
    try:
        out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        return {"mode": mode, "error": f"timed out after {RUN_TIMEOUT_SECONDS} s"}
    seconds = round(time.monotonic() - started, 1)
    if out.returncode != 0:
        return {"mode": mode, "error": f"exit {out.returncode}", "stderr_tail": out.stderr[-3000:], "seconds": seconds}
    try:
        result = json.loads(out.stdout)
    except ValueError:
        return {"mode": mode, "error": "output is not JSON", "stdout_tail": out.stdout[-3000:], "seconds": seconds}
    print(f"  done in {seconds} s", file=sys.stderr, flush=True)
    return result


def fmt(value, suffix: str = "") -> str:
    if value is None:
        return "–"
    return f"{value}{suffix}"


def percentiles(summary: dict) -> str:
    return f"p50 {fmt(summary['p50'])} / p95 {fmt(summary['p95'])} / p99 {fmt(summary['p99'])} ms"


def table(results: dict[tuple[str, str], dict]) -> str:
    """One row per bench and mode: the headline numbers."""
    rows = ["| bench | mode | headline | detail |", "|---|---|---|---|"]
    for (bench, mode), result in results.items():
        if "error" in result:
            rows.append(f"| {bench} | {mode} | **error** | {result['error']} |")
            continue
        if bench == "ingest":
            headline = f"ack {result['ack_rate_per_s']}/s, processed {result['processed_rate_per_s']}/s"
            detail = (
                f"{result['deliveries_posted']} deliveries; ack p50 {result['ack_p50_ms']} ms, "
                f"p99 {result['ack_p99_ms']} ms; lost {result['lost']}, duplicated {result['duplicated']}"
            )
        elif bench == "latency":
            first, every = result["first_socket_ms"], result["all_sockets_ms"]
            headline = f"all {result['sockets']} sockets: {percentiles(every)}"
            detail = (
                f"first socket: {percentiles(first)}; "
                f"{result['messages_measured']} messages; lost events {result['lost_events']}"
            )
        else:
            limit = result.get("limit_per_s", 80)
            headline = f"{fmt(result['sends_per_s'])} sends/s ({fmt(result['ratio_to_limit'])} of {limit}/s)"
            detail = (
                f"{result['api_201']} queued at {result['api_queue_rate_per_s']}/s; failed {result['failed']}; "
                f"130429: {result['errors_130429_throughput']}, 131056: {result['errors_131056_pair_rate']}; "
                f"all sent after {fmt(result['seconds_to_all_sent_polled'], ' s')}"
            )
        rows.append(f"| {bench} | {mode} | {headline} | {detail} |")
    return "\n".join(rows)


def load_results() -> dict[tuple[str, str], dict]:
    results = {}
    for bench in BENCHES:
        for mode in ("embedded", "services"):
            path = RESULTS_DIR / f"{bench}-{mode}.json"
            if path.exists():
                results[(bench, mode)] = json.loads(path.read_text())
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="quick")
    parser.add_argument("--modes", default="auto", help="embedded, services, both or auto (services when up)")
    parser.add_argument("--only", default=",".join(BENCHES), help="comma-separated subset of " + ", ".join(BENCHES))
    parser.add_argument("--table-only", action="store_true")
    args = parser.parse_args()
    if args.table_only:
        print(table(load_results()))
        return 0
    if args.modes == "auto":
        modes = ["embedded"] + (["services"] if services_available() else [])
        if "services" not in modes:
            print("PostgreSQL or Redis does not answer on 127.0.0.1: services mode skipped.", file=sys.stderr)
    else:
        modes = ["embedded", "services"] if args.modes == "both" else [args.modes]
    benches = [bench for bench in args.only.split(",") if bench in BENCHES]
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    results: dict[tuple[str, str], dict] = {}
    started = time.monotonic()
    for mode in modes:
        for bench in benches:
            result = run_one(bench, mode, PROFILES[args.profile][bench][mode])
            (RESULTS_DIR / f"{bench}-{mode}.json").write_text(json.dumps(result, indent=2) + "\n")
            results[(bench, mode)] = result
    minutes = (time.monotonic() - started) / 60
    print(table(results))
    load_after = os.getloadavg()
    print(
        f"\n{args.profile} profile, {minutes:.1f} min on {os.cpu_count()} cores; load average "
        f"{load_before[0]:.2f} before, {load_after[0]:.2f} after (other work on the machine skews the numbers). "
        f"JSON in {RESULTS_DIR.relative_to(ROOT)}/."
    )
    return 1 if any("error" in result for result in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
