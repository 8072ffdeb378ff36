"""process: what running rdsbot costs: ``rdsbot --help``, ``serve`` start to healthy, its memory under load.

Every child runs as an installed bot does: with ``bot/``'s bytecode compiled beforehand
(``compileall``, as ``pip install`` does for a package) and cached, whatever this shell's
``PYTHONDONTWRITEBYTECODE`` says (with it every start recompiled all of ``bot/``: 0.1-0.4 s).

**--help.** Fresh processes, one after another, interleaved: the installed console script
``.venv/bin/rdsbot --help``, ``python -m bot.cli --help``, and for reference ``python -c pass``
(the interpreter's own start, the floor). Each figure is the median wall time. Then an import
audit: ``--help`` run once more in a child that lists ``sys.modules`` afterwards; it must hold
no module of the Alibaba SDK (``alibabacloud_*``, ``Tea``, ``darabonba``), Bolt or casbin. And,
for information, ``bot.cli``'s cumulative import time from ``python -X importtime``.

**serve.** The RDS, STS and Slack emulators run in this process; the database is SQLite,
brought to the newest schema beforehand by ``rdsbot db upgrade``, as a deployment does
(``serve`` would create it itself, but only the first time). Each start spawns the real
``rdsbot serve`` (production wiring, JSON logs at INFO to a file) and polls ``GET /healthz``
every 20 ms: the time to its first 200 (the RDS SDK loaded included: ``/healthz`` waits for
it). The last process started is kept for the memory figures.

**memory.** Resident memory (``VmRSS`` in ``/proc/<pid>/status``) one second after start,
then while 4 senders deliver signed requests over HTTP, a realistic mix in turn: ``/rds clone
<id>`` (opens a modal, then reads the instance and updates it), a type-ahead in the clone
modal's instance picker (``block_suggestion``, with queries that vary as typing does: many
distinct searches), ``/rds help`` and ``/rds status``, by different people. The per-person
picker limit (120 a minute by default) is raised so that every lookup is served rather than
refused. RSS is sampled every 1/20 of the run; the slope (KB per request, least squares)
over the run's second half says whether memory still grows per request once the thread pools
and caches are warm: "flat" is a slope within noise of 0 (the goal: <= 0.25 KB a request,
2.5 MB per 10,000; the issue's figure was 140 KB a request). Only a full run's second half
(5,000 requests on) is past the warm-up, so the slope has its goal at full size only.

Sizes: full 21 ``--help`` runs, 5 starts, 10,000 requests (about 2 minutes); quick 9, 2 and
1,500 (about 20 s); tiny 1, 1 and 40 (seconds), where ``serve`` creates the schema itself.
"""

from __future__ import annotations

import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks.core import Figure, Size, median

BENCH = "process"
REPO = Path(__file__).resolve().parents[1]
#: What ``--help`` must not import: the cloud SDK and its runtime, Bolt, casbin.
FORBIDDEN = ("alibabacloud_", "Tea", "darabonba", "slack_bolt", "casbin")
HELP_GOAL_S = 0.3
START_GOAL_S = 2.0
RSS_START_GOAL_MB = 120.0
RSS_END_GOAL_MB = 150.0
SLOPE_GOAL_KB = 0.25
SENDERS = 4
_AUDIT = """
import json, sys
from bot.cli import main
sys.argv = ["rdsbot", "--help"]
try:
    main()
except SystemExit as done:
    assert not done.code, done.code
print("MODULES " + json.dumps(sorted(sys.modules)))
"""


def run(size: Size) -> list[Figure]:
    subprocess.run([sys.executable, "-m", "compileall", "-q", "bot"], env=child_env(), cwd=REPO, check=True,
                   timeout=300, stdout=subprocess.DEVNULL)
    figures = help_figures(size)
    figures.extend(serve_figures(size))
    return figures


# --- rdsbot --help -----------------------------------------------------------------------------

def console_script() -> list[str]:
    """The installed ``rdsbot`` beside this interpreter (the README's venv), else on PATH."""
    beside = Path(sys.executable).with_name("rdsbot")
    if beside.exists():
        return [str(beside)]
    return ["rdsbot"]


def child_env() -> dict[str, str]:
    """This environment as a deployed bot would have it: bytecode cached, malloc left to the bot."""
    return {k: v for k, v in os.environ.items() if k not in {"PYTHONDONTWRITEBYTECODE", "MALLOC_ARENA_MAX"}}


def _wall(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, cwd=REPO, timeout=60,
                   env=child_env())
    return time.perf_counter() - started


def help_figures(size: Size) -> list[Figure]:
    runs = size.pick(21, 9, 1)
    sides = {"script": [*console_script(), "--help"], "module": [sys.executable, "-m", "bot.cli", "--help"],
             "python": [sys.executable, "-c", "pass"]}
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(runs):
        for name, argv in sides.items():
            times[name].append(_wall(argv))
    floor = median(times["python"])
    figures = [
        Figure(BENCH, f"rdsbot --help, median of {runs}", round(median(times["script"]), 3), "s", "<", HELP_GOAL_S,
               reference=round(floor, 3), reference_label="python -c pass",
               extra={"samples_s": _rounded(times["script"]), "python_samples_s": _rounded(times["python"])}),
        Figure(BENCH, f"python -m bot.cli --help, median of {runs}", round(median(times["module"]), 3), "s", "<",
               HELP_GOAL_S, reference=round(floor, 3), reference_label="python -c pass",
               extra={"samples_s": _rounded(times["module"])}),
    ]
    figures.append(import_audit())
    importtime = bot_cli_import_ms() if size is not Size.TINY else None
    if importtime is not None:
        figures.append(Figure(BENCH, "bot.cli import (cumulative, -X importtime)", importtime, "ms",
                              note="information: the issue measured 340 ms"))
    return figures


def import_audit() -> Figure:
    """How many SDK, Bolt or casbin modules ``rdsbot --help`` imports (must be 0), and which."""
    done = subprocess.run([sys.executable, "-c", _AUDIT], capture_output=True, text=True, cwd=REPO, timeout=60,
                          check=False, env=child_env())
    line = next((x for x in done.stdout.splitlines() if x.startswith("MODULES ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"`rdsbot --help` failed in the import audit: {done.stderr[-2000:]}")
    modules = json.loads(line[len("MODULES "):])
    bad = [m for m in modules if m.split(".")[0].startswith(FORBIDDEN)]
    return Figure(BENCH, "SDK, Bolt or casbin modules imported by --help", len(bad), "modules", "==", 0,
                  note=f"{len(modules)} modules in all", extra={"modules": bad, "checked": list(FORBIDDEN),
                                                                 "imported": len(modules)})


def bot_cli_import_ms() -> float | None:
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import bot.cli"], capture_output=True,
                          text=True, cwd=REPO, timeout=60, check=False, env=child_env())
    for line in done.stderr.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == "bot.cli":
            return round(int(parts[1]) / 1000, 1)
    return None


def _rounded(values: list[float]) -> list[float]:
    return [round(v, 4) for v in values]


# --- rdsbot serve --------------------------------------------------------------------------------

def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` (VmRSS), MB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310 - loopback
            return bool(response.status == 200)
    except OSError:
        return False


class Serve:
    """One ``rdsbot serve`` child; :meth:`start` returns the seconds to its first healthy answer."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self, timeout_s: float = 60.0) -> float:
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {**self.env, "RDSBOT_PORT": str(port)}
        started = time.perf_counter()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([*console_script(), "serve"], env=env, cwd=REPO,
                                            stdout=subprocess.DEVNULL, stderr=log)
        while time.perf_counter() - started < timeout_s:
            if _healthy(self.url):
                return time.perf_counter() - started
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"rdsbot serve never became healthy; its log ends:\n{self.log.read_text()[-3000:]}")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def serve_figures(size: Size) -> list[Figure]:
    from bot.sandbox.stack import bot_env, copy_policies, start_emulators

    from bot.store import migrate
    from bot.store.db import Database

    starts = size.pick(5, 2, 1)
    requests = size.pick(10_000, 1_500, 40)
    workdir = Path(tempfile.mkdtemp(prefix="rdsbot-bench-process-"))
    emulators = start_emulators(trigger_ttl_s=120)
    try:
        url = f"sqlite:///{workdir / 'process.db'}"
        env = {**child_env(), **bot_env(emulators, database_url=url, policy_dir=copy_policies(workdir / "policies"),
                                        overrides={"RDSBOT_LIMIT_LOOKUPS_PER_MINUTE": "1000000"})}
        if size is not Size.TINY:  # tiny: `serve` creates it (Alembic's import costs this process a second)
            database = Database(url)
            migrate.upgrade(database)  # as `rdsbot db upgrade` does
            database.dispose()
        log = workdir / "serve.log"
        times = []
        serve = Serve(env, log)
        for attempt in range(starts):
            times.append(serve.start())
            if attempt < starts - 1:
                serve.stop()
        try:
            time.sleep(0.2 if size is Size.TINY else 1.0)
            at_start = rss_mb(serve.pid)
            samples = drive(emulators, serve, requests)
        finally:
            serve.stop()
    finally:
        emulators.stop()
    schema = "created by serve" if size is Size.TINY else "already current (rdsbot db upgrade)"
    return [
        Figure(BENCH, f"serve start to healthy, median of {starts}", round(median(times), 3), "s", "<", START_GOAL_S,
               note=f"schema {schema}; includes loading the RDS SDK", extra={"samples_s": _rounded(times)}),
        *memory_figures(at_start, samples, full=size is Size.FULL),
    ]


def memory_figures(at_start: float, samples: list[tuple[int, float, int]], *, full: bool = True) -> list[Figure]:
    """RSS after start, after 1,000 and after all requests; the slope over the second half (its goal only at
    full size: in a shorter run the second half is still the warm-up, thread pools and caches filling)."""
    total = samples[-1][0]
    errors = samples[-1][2]
    figures = [Figure(BENCH, "serve RSS after start", round(at_start, 1), "MB", "<", RSS_START_GOAL_MB)]
    after_1k = next((mb for done, mb, _e in samples if done >= 1000), None)
    if after_1k is not None and total > 1000:
        figures.append(Figure(BENCH, "serve RSS after 1,000 requests", round(after_1k, 1), "MB"))
    figures.append(Figure(
        BENCH, f"serve RSS after {total:,} requests", round(samples[-1][1], 1), "MB", "<", RSS_END_GOAL_MB,
        note=f"{SENDERS} senders; {errors} requests failed" if errors else f"{SENDERS} senders",
        extra={"samples": [{"requests": d, "rss_mb": round(mb, 2)} for d, mb, _e in samples]}))
    second_half = [(d, mb) for d, mb, _e in samples if d >= total / 2]
    note = "least squares over the samples; ~0 = flat" if full else \
        f"information: {total:,} requests are still the warm-up; the goal is checked at full size"
    figures.append(Figure(BENCH, "serve RSS slope over the second half", round(slope_kb(second_half), 3),
                          "KB/request", "<=" if full else None, SLOPE_GOAL_KB if full else None, note=note,
                          extra={"whole_run_kb_per_request": round(slope_kb([(d, mb) for d, mb, _e in samples]), 3)}))
    return figures


def slope_kb(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of RSS (MB) over requests, in KB a request."""
    if len(points) < 2:
        return 0.0
    xs = [float(x) for x, _y in points]
    ys = [y for _x, y in points]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread * 1024


def drive(emulators: Any, serve: Serve, requests: int) -> list[tuple[int, float, int]]:
    """Send ``requests`` in the mix from :data:`SENDERS` threads; (requests done, RSS MB, failures so far),
    sampled 20 times (and once before the first)."""
    from bot.sandbox.slack import ALICE, BOB, CAROL, DAVE, OPS_CHANNEL, SlackDriver
    from bot.sandbox.slack.errors import DriverError

    driver = SlackDriver(emulators.slack, f"{serve.url}/slack/events", timeout_s=30)
    picker = driver.open_modal(ALICE, "clone rm-bp1mysqlprod0001", channel=OPS_CHANNEL)
    queries = _queries([i.id for i in emulators.rds.instances()])
    failed = 0
    lock = threading.Lock()

    def one(n: int) -> None:
        nonlocal failed
        kind = n % 4
        try:
            if kind == 0:
                driver.slash_command(BOB, "clone rm-bp1mysqlprod0001", channel=OPS_CHANNEL)
            elif kind == 1:
                driver.suggest(ALICE, picker["id"], "DBInstanceId", queries[n % len(queries)])
            elif kind == 2:
                driver.slash_command(CAROL, "help", channel=OPS_CHANNEL)
            else:
                driver.slash_command(DAVE, "status", channel=OPS_CHANNEL)
        except DriverError:
            with lock:
                failed += 1

    step = max(requests // 20, 1)
    samples = [(0, rss_mb(serve.pid), 0)]
    with ThreadPoolExecutor(SENDERS) as pool:
        for start in range(0, requests, step):
            list(pool.map(one, range(start, min(start + step, requests))))
            samples.append((min(start + step, requests), rss_mb(serve.pid), failed))
    return samples


def _queries(instance_ids: list[str], count: int = 2_000) -> list[str]:
    """What people type into the instance picker: pieces of real IDs (3 to 12 characters, so many
    distinct searches) and some that match nothing."""
    rng = random.Random(15)
    found = []
    for _ in range(count):
        if rng.random() < 0.2 or not instance_ids:
            found.append("".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(rng.randint(3, 8))))
            continue
        text = rng.choice(instance_ids)
        length = rng.randint(3, min(12, len(text)))
        at = rng.randint(0, len(text) - length)
        found.append(text[at:at + length])
    return found
