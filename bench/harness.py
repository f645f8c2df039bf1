"""The shared start-up of every benchmark: a real server on a fresh database, torn down afterwards.

`embedded`: a SQLite file in a temporary folder, the in-memory channel layer, tasks in a thread of the web
process. `services`: PostgreSQL database `switchboard_bench` (dropped and created anew), Redis db 13
(flushed), and a Celery worker next to Daphne. In both modes the simulator is on and sends its webhooks over
HTTP to the server itself, as `make run` does, so a simulated customer travels the real signed-webhook path.

    with BenchServer("embedded", name="latency") as server:
        httpx.get(f"{server.base}/healthz")
        server.django("from inbox.models import Message; print(Message.objects.count())")

The server's and the worker's output go to log files that are copied to bench/results/logs/ on teardown,
so an error inside the product can be read after the run.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inbox.demo import SANDBOX_PHONE_NUMBER_ID  # noqa: E402

RESULTS_DIR = ROOT / "bench" / "results"
PG_URL = "postgres://postgres@127.0.0.1:5432/switchboard_bench"
REDIS_BENCH_URL = "redis://127.0.0.1:6379/13"
# Lines of a log that tell of trouble inside the product.
_TROUBLE = re.compile(r"Traceback|\bERROR\b|\bCRITICAL\b")


def git_state() -> dict:
    """The commit measured, and how many files of the work tree differ from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        status = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)
    except OSError:
        return {}
    if head.returncode != 0 or status.returncode != 0:
        return {}  # not a git checkout (e.g. an exported snapshot)
    return {"head": head.stdout.strip(), "changed_files": len(status.stdout.splitlines())}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_env(mode: str, var_dir: Path, port: int) -> dict[str, str]:
    env = {**os.environ, "SWITCHBOARD_VAR_DIR": str(var_dir), "SECRET_KEY": "bench-secret-key", "LOG_LEVEL": "WARNING"}
    env.pop("TASK_RUNNER", None)
    env.pop("DEMO_PASSWORD", None)
    env.update(
        PORT=str(port),
        SIMULATOR_ENABLED="true",
        SIMULATOR_WEBHOOK_URL=f"http://127.0.0.1:{port}/webhooks/whatsapp",
        # Loopback only: never route the benchmark's own calls through a proxy from the environment.
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    if mode == "services":
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "switchboard_bench"], check=True)
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", "switchboard_bench"], check=True)
        subprocess.run(["redis-cli", "-n", "13", "flushdb"], check=True, capture_output=True)
        env.update(DATABASE_URL=PG_URL, REDIS_URL=REDIS_BENCH_URL)
    else:
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
    return env


class BenchServer:
    """Daphne (plus a Celery worker in `services` mode) on a fresh, migrated and seeded database."""

    def __init__(
        self,
        mode: str,
        *,
        name: str = "bench",
        worker_concurrency: int = 2,
        health_timeout: float = 30,
        agent_sees_sandbox: bool = False,
    ):
        if mode not in ("embedded", "services"):
            raise ValueError(f"Unknown mode {mode!r}")
        self.mode = mode
        self.name = name
        self.worker_concurrency = worker_concurrency
        self.health_timeout = health_timeout
        self.agent_sees_sandbox = agent_sees_sandbox
        # Whether the benchmark had to put the demo agent in a team working the sandbox number.
        self.agent_team_added: bool | None = None
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws/"
        self.var_dir = Path(tempfile.mkdtemp(prefix=f"bench-{mode}-"))
        self.env: dict[str, str] = {}
        self.processes: list[tuple[str, subprocess.Popen]] = []
        self.log_files: dict[str, Path] = {}
        self.load_at_start = os.getloadavg()

    # Start and stop

    def __enter__(self) -> "BenchServer":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> None:
        self.env = prepare_env(self.mode, self.var_dir, self.port)
        python = sys.executable
        subprocess.run([python, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=self.env, check=True)
        subprocess.run([python, "manage.py", "seed_demo"], cwd=ROOT, env=self.env, check=True, capture_output=True)
        if self.agent_sees_sandbox:
            self.agent_team_added = self.django(_AGENT_SEES_SANDBOX).strip() == "added"
        self._spawn(
            "daphne",
            [python, "-m", "daphne", "-v", "0", "-b", "127.0.0.1", "-p", str(self.port), "config.asgi:application"],
        )
        if self.mode == "services":
            self._spawn(
                "worker",
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "-Q",
                    "inbound,outbound,default,bulk",
                    "--concurrency",
                    str(self.worker_concurrency),
                    "-l",
                    "warning",
                ],
            )
        self._wait_healthy()

    def _spawn(self, label: str, command: list[str]) -> None:
        log_path = self.var_dir / f"{label}.log"
        self.log_files[label] = log_path
        with log_path.open("wb") as log:
            process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append((label, process))

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.health_timeout
        while time.monotonic() < deadline:
            for label, process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"{label} exited with {process.returncode} at start-up:\n{self.log_tail(label)}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"The server did not answer /healthz within {self.health_timeout} s:\n{self.log_tail()}")

    def stop(self) -> None:
        for _, process in self.processes:
            if process.poll() is None:
                process.terminate()
        for _, process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self._keep_logs()
        self.processes = []
        shutil.rmtree(self.var_dir, ignore_errors=True)

    def _keep_logs(self) -> None:
        if not self.log_files:
            return
        target = RESULTS_DIR / "logs"
        target.mkdir(parents=True, exist_ok=True)
        for label, path in self.log_files.items():
            if path.exists():
                kept = target / f"{self.name}-{self.mode}-{label}.log"
                shutil.copyfile(path, kept)
                self.log_files[label] = kept

    # While running

    def cpu_usage(self) -> dict[str, float | None]:
        """CPU seconds (user + system) each started process and its live children used so far (Linux)."""
        return {label: _tree_cpu_seconds(process.pid) for label, process in self.processes}

    def machine(self) -> dict:
        """The machine's load around the run: other sessions may share its cores."""
        return {
            "cores": os.cpu_count(),
            "load_at_start": [round(value, 2) for value in self.load_at_start],
            "load_at_end": [round(value, 2) for value in os.getloadavg()],
            "cpu_seconds": {label: round(v, 1) if v is not None else None for label, v in self.cpu_usage().items()},
            "git": git_state(),
        }

    def log_tail(self, label: str | None = None, chars: int = 3000) -> str:
        labels = [label] if label else list(self.log_files)
        parts = []
        for each in labels:
            path = self.log_files.get(each)
            if path and path.exists():
                parts.append(f"--- {each} ---\n{path.read_text(errors='replace')[-chars:]}")
        return "\n".join(parts)

    def log_trouble(self) -> dict[str, int]:
        """How many lines of each log tell of an error or a traceback (0 on a clean run)."""
        counts = {}
        for label, path in self.log_files.items():
            text = path.read_text(errors="replace") if path.exists() else ""
            counts[label] = sum(1 for line in text.splitlines() if _TROUBLE.search(line))
        return counts

    def django(self, code: str, *, timeout: float = 120) -> str:
        """Run `code` in a fresh Python with Django set up on the benchmark's database; its stdout."""
        out = subprocess.run(
            [sys.executable, "-c", _DJANGO_SETUP + code],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if out.returncode != 0:
            raise RuntimeError(f"Could not query the database:\n{out.stderr[-2000:]}")
        return out.stdout

    def probe(self, code: str) -> "DjangoProbe":
        """A long-lived Python with Django set up, answering `probe.ask()` with the JSON of `query()`, a
        function `code` defines: frequent polls without paying Django's start-up each time."""
        return DjangoProbe(self, code)


# Agents see only the channels their teams work (issue 4); a fresh seed may leave the demo agent in no team.
# The benchmarks that act as the agent give it a team working the sandbox number when it cannot see it.
_AGENT_SEES_SANDBOX = f"""
from accounts.models import User
from inbox import access
from inbox.models import Channel
agent = User.objects.get(email='agent@example.com')
channel = Channel.objects.get(phone_number_id='{SANDBOX_PHONE_NUMBER_ID}')
if access.can_view_channel(agent, channel.pk):
    print('already')
else:
    from accounts.models import Team
    team, _ = Team.objects.get_or_create(name='Benchmark team')
    team.members.add(agent)
    team.channels.add(channel)
    assert access.can_view_channel(agent, channel.pk)
    print('added')
"""


def _tree_cpu_seconds(pid: int) -> float | None:
    """utime + stime of `pid` and of its children still alive (e.g. Celery's prefork processes)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, pending, seen = 0.0, [pid], set()
    try:
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            try:
                fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += (int(fields[11]) + int(fields[12])) / ticks
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                pending.extend(int(child) for child in children)
    except (OSError, ValueError, IndexError):
        return None
    return total


_DJANGO_SETUP = "import django,os;os.environ.setdefault('DJANGO_SETTINGS_MODULE','config.settings');django.setup()\n"


class DjangoProbe:
    def __init__(self, server: BenchServer, code: str):
        loop = (
            "\nimport json as _json, sys as _sys\nfor _line in _sys.stdin:\n    print(_json.dumps(query()), flush=True)"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-c", _DJANGO_SETUP + code + loop + "\n"],
            cwd=ROOT,
            env=server.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def ask(self):
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(timeout=10)
            raise RuntimeError(f"The database probe died:\n{self.process.stderr.read()[-2000:]}")
        return json.loads(line)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def __enter__(self) -> "DjangoProbe":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
