"""ack: how fast ``/rds clone <id>`` is acknowledged and its modal opened, beside a plain Bolt app.

What runs: the RDS, STS and Slack emulators in this process; rdsbot as a ``rdsbot serve``
child (production wiring and logging: JSON at INFO, SQLite, only its endpoints pointed at the
emulators); and the reference, a plain ``slack_bolt.App`` with default settings whose ``/rds``
listener calls ``ack()`` then ``views.open`` with the same modal rdsbot opens, built for each
command by the same function (``bot.slack.modals.operation_modal``), so what differs is what
rdsbot does around it (signature and envelope checks, the duplicate-delivery check in its
database, which for a slash command follows the modal (``bot.slack.verdict``), the policy, its
pools); served the same way: ``bot.slack.server.make_server``
(waitress, its default thread count, as ``rdsbot serve`` uses it), in a child of its own
(``python -m benchmarks.ack --reference``). Each side has its own process, as in production, so
neither pays for the other's threads or garbage. The Slack emulator's driver signs every request
with the app's signing secret and POSTs it over loopback HTTP. This process collects its garbage
between rounds only, so a collection never stalls the emulators in the middle of a burst.

What is timed, the same for both sides:

- **ack**: the driver's own clock around the HTTP exchange (``BotResponse.elapsed_s``): from
  sending the signed slash command to reading the whole answer.
- **views.open**: from ``time.time()`` just before the driver builds and sends the command to
  the moment the Slack emulator receives the ``views.open`` carrying that command's
  ``trigger_id`` (the emulator stamps every Web API call with ``time.time()`` on arrival; a
  journal watcher, ``Journal.watch``, hands it over, so nothing polls).

Each command names an instance of its own (the emulator is seeded with copies of the sandbox's
MySQL production instance), so rdsbot really reads its facts from RDS after opening the modal:
nothing is served from its 30-second cache. The plain app's modal always names the same one.

Sequential: one person at a time, who waits for the modal. 8 concurrent: bursts of 8 people
running the command at the same moment (a barrier releases 8 sender threads together), each
waiting for their modal. After each of rdsbot's bursts (or single commands) its follow-ups
(the facts read from RDS and shown with ``views.update``, counted in the same journal) finish
before anything else is sent, so no burst runs beside the leftovers of another, the other
side's least of all; a modal that never opens counts as 10 s. Bursts alternate between the
sides, which goes first alternating too. Each of 5 rounds gives a p99 ratio (rdsbot / plain
Bolt); a figure is the median of the 5. At full size that is 5 x 240 = 1,200 samples a side
and mode (1,200 sequential commands, 150 bursts of 8).

Then rdsbot alone, without settling (so facts' reads overlap the next commands), first with RDS
fast, then with the RDS emulator answering every call 2 s late (``RdsEmulator.inject(delay_s=2)``):
the same commands at the same pace, only RDS's speed differs; with RDS slow the reads pile up
behind the modals, as they would. Its p99 with RDS slow over its p99 with RDS fast must stay
within 1.2: neither the ack nor the modal ever waits on RDS.

Also reported, for information: each side's CPU time per command (its process's user + system
time over the fast rounds, from ``/proc``), the figure least disturbed by a busy machine.
"""

from __future__ import annotations

import gc
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.core import Figure, Size, median, percentile

REPO = Path(__file__).resolve().parents[1]
INSTANCE = "rm-bp1mysqlprod0001"
COMMAND = f"clone {INSTANCE}"
SENDERS = 8
ROUNDS = 5
OPEN_TIMEOUT_S = 10.0
SETTLE_TIMEOUT_S = 15.0
SLOW_RDS_S = 2.0
GOAL = 1.2
MODES = (("sequential", 1), (f"{SENDERS} concurrent", SENDERS))
REFERENCE_LABEL = "plain Bolt app"


@dataclass
class Sample:
    """One slash command: its ack and the time to its modal's ``views.open`` (seconds)."""

    ack_s: float
    open_s: float
    ok: bool


class OpenWatch:
    """Hands each ``views.open``'s arrival time to the sender waiting for its trigger_id; counts ``views.update``."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._opened: dict[str, tuple[float, bool]] = {}
        self.updates = 0

    def __call__(self, call: Any) -> None:
        if call.method == "views.open":
            with self._cond:
                self._opened[str(call.params.get("trigger_id"))] = (call.at, call.ok)
                self._cond.notify_all()
        elif call.method == "views.update":
            with self._cond:
                self.updates += 1
                self._cond.notify_all()

    def opened(self, trigger_id: str | None, timeout_s: float) -> tuple[float, bool] | None:
        with self._cond:
            self._cond.wait_for(lambda: trigger_id in self._opened, timeout=timeout_s)
            return self._opened.pop(str(trigger_id), None)

    def settle(self, updates: int, timeout_s: float) -> bool:
        """Wait until ``updates`` views.update calls have arrived (rdsbot's follow-ups are done)."""
        with self._cond:
            return self._cond.wait_for(lambda: self.updates >= updates, timeout=timeout_s)


@dataclass
class Side:
    """One app under test: where the driver sends, and its child process."""

    name: str
    driver: Any
    process: subprocess.Popen[bytes]
    samples: dict[str, list[list[Sample]]] = field(default_factory=dict)  # mode -> per round
    cpu_ms: float = 0.0  # the process's CPU time per command over the fast rounds


class Bench:
    """The emulators, both apps and the senders."""

    def __init__(self, workdir: Path, instances: int) -> None:
        from bot.sandbox.rds import Timings
        from bot.sandbox.stack import copy_policies, start_emulators

        self.workdir = workdir
        self.emulators = start_emulators(timings=Timings(clone_s=1, copy_s=1, backup_s=1, restore_s=1),
                                         seed=_seed(instances))
        self._next = iter(range(instances)).__next__
        self.watch = OpenWatch()
        self.emulators.slack.journal.watch(self.watch)
        self.policy_dir = copy_policies(workdir / "policies")
        self.sides: list[Side] = []
        self.rdsbot_opens = 0  # views.open calls rdsbot made: each is followed by one views.update

    def start(self) -> tuple[Side, Side]:
        from bot.sandbox.slack import SlackDriver

        bot_port, ref_port = _free_port(), _free_port()
        bot = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], env=self._bot_env(bot_port), cwd=REPO,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=(self.workdir / "rdsbot.stderr").open("wb"))
        ref = subprocess.Popen([sys.executable, "-m", "benchmarks.ack", "--reference"], env=self._ref_env(ref_port),
                               cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=(self.workdir / "reference.stderr").open("wb"))
        self.sides = [Side("rdsbot", SlackDriver(self.emulators.slack, _events(bot_port)), bot),
                      Side("reference", SlackDriver(self.emulators.slack, _events(ref_port)), ref)]
        _wait_healthy(f"http://127.0.0.1:{bot_port}/healthz", bot, self.workdir / "rdsbot.stderr")
        _wait_healthy(f"http://127.0.0.1:{ref_port}/healthz", ref, self.workdir / "reference.stderr")
        # The collector would stall the emulators (and so whichever side was being timed) mid-burst:
        # it runs between rounds instead (``_round``), and never walks the seed and imports again.
        gc.freeze()
        gc.disable()
        return self.sides[0], self.sides[1]

    def _bot_env(self, port: int) -> dict[str, str]:
        from bot.sandbox.stack import bot_env

        env = {k: v for k, v in os.environ.items() if not k.startswith(("RDSBOT_", "SLACK_", "ALIBABA_CLOUD_"))}
        bot = bot_env(self.emulators, database_url=f"sqlite:///{self.workdir / 'rdsbot.db'}",
                      policy_dir=self.policy_dir, port=port)
        # The test suite's fast polling and short RDS timeout are not production's: use the defaults.
        for test_only in ("RDSBOT_POLL_INTERVAL_S", "RDSBOT_RDS_TIMEOUT_S"):
            bot.pop(test_only, None)
        return {**env, **bot}

    def _ref_env(self, port: int) -> dict[str, str]:
        from bot.sandbox.stack import BOT_TOKEN

        return {**os.environ, "ACK_REF_PORT": str(port), "ACK_REF_API_URL": self.emulators.slack.api_url,
                "ACK_REF_TOKEN": BOT_TOKEN, "ACK_REF_SECRET": self.emulators.signing_secret}

    def one(self, side: Side) -> Sample:
        from bot.sandbox.slack import ALICE, OPS_CHANNEL

        # rdsbot reads each named instance from RDS after opening the modal: a new one each time, so that
        # read really happens (nothing cached) and a slow RDS really is slow for it.
        command = f"clone {_instance_id(self._next())}" if side.name == "rdsbot" else COMMAND
        sent = time.time()
        response = side.driver.slash_command(ALICE, command, channel=OPS_CHANNEL)
        opened = self.watch.opened(response.trigger_id, OPEN_TIMEOUT_S) if response.ok else None
        ok = response.ok and opened is not None and opened[1]
        return Sample(response.elapsed_s, opened[0] - sent if opened is not None else OPEN_TIMEOUT_S, ok)

    def burst(self, side: Side, senders: int, pool: ThreadPoolExecutor, *, settle: bool = True) -> list[Sample]:
        """``senders`` people run the command at the same moment and wait for their modals; then, unless
        ``settle`` is False, rdsbot's follow-ups (facts read from RDS, ``views.update``) may finish."""
        if senders == 1:
            samples = [self.one(side)]
        else:
            start = threading.Barrier(senders)
            futures = [pool.submit(lambda: (start.wait(), self.one(side))[1]) for _ in range(senders)]
            samples = [f.result() for f in futures]
        if side.name == "rdsbot":
            self.rdsbot_opens += sum(s.ok for s in samples)
            if settle:
                self.watch.settle(self.rdsbot_opens, SETTLE_TIMEOUT_S)
        return samples

    def stop(self) -> None:
        for side in self.sides:  # nothing to keep: the database is a temporary file
            side.process.kill()
            side.process.wait()
        self.emulators.stop()


def run(size: Size) -> list[Figure]:
    per_round = size.pick(240, 32, 8)  # samples per side and mode in each of the ROUNDS
    slow_count = size.pick(400, 48, 8)  # per mode and RDS speed, rdsbot alone
    instances = len(MODES) * (ROUNDS * per_round + 2 * slow_count) + 2 * SENDERS  # one per rdsbot command
    with tempfile.TemporaryDirectory(prefix="rdsbot-bench-ack-") as tmp:
        bench = Bench(Path(tmp), instances)
        try:
            bot, ref = bench.start()
            with ThreadPoolExecutor(SENDERS, thread_name_prefix="sender") as pool:
                for side in (bot, ref):  # first requests: the bot's first users.info, connections
                    bench.burst(side, SENDERS, pool)
                cpu = {side.name: _cpu_s(side.process.pid) for side in (bot, ref)}
                for _ in range(ROUNDS):
                    for mode, senders in MODES:
                        _round(bench, (bot, ref), mode, senders, per_round, pool)
                for side in (bot, ref):
                    side.cpu_ms = (_cpu_s(side.process.pid) - cpu[side.name]) * 1000 / (ROUNDS * per_round * len(MODES))
                # rdsbot alone, RDS fast then slow, paced alike: no settling, so with RDS slow the facts'
                # reads pile up behind the modals, as they would.
                paced: dict[str, dict[str, list[Sample]]] = {}
                for speed in ("fast", "slow"):
                    gc.collect()
                    if speed == "slow":
                        bench.emulators.rds.inject(delay_s=SLOW_RDS_S, times=10**9)
                    paced[speed] = {mode: [s for _ in range(slow_count // senders)
                                           for s in bench.burst(bot, senders, pool, settle=False)]
                                    for mode, senders in MODES}
        finally:
            gc.enable()
            bench.stop()
    return _figures(bot, ref, paced, per_round, slow_count)


def _round(bench: Bench, sides: tuple[Side, Side], mode: str, senders: int, count: int,
           pool: ThreadPoolExecutor) -> None:
    """Bursts alternate between the sides (which goes first alternates too) until each has ``count`` samples."""
    gc.collect()
    got: dict[str, list[Sample]] = {side.name: [] for side in sides}
    order = list(sides)
    while len(got[order[0].name]) < count:
        for side in order:
            got[side.name] += bench.burst(side, senders, pool)
        order.reverse()
    for side in sides:
        side.samples.setdefault(mode, []).append(got[side.name])


def _p99(samples: list[Sample], what: Callable[[Sample], float]) -> float:
    return percentile([what(s) * 1000 for s in samples], 99)


def _figures(bot: Side, ref: Side, paced: dict[str, dict[str, list[Sample]]], per_round: int,
             slow_count: int) -> list[Figure]:
    figures = []
    measures: dict[str, Callable[[Sample], float]] = {"ack": lambda s: s.ack_s, "views.open": lambda s: s.open_s}
    for label, what in measures.items():
        for mode, rounds in bot.samples.items():
            ours = [_p99(r, what) for r in rounds]
            theirs = [_p99(r, what) for r in ref.samples[mode]]
            ratios = [a / b if b else float("inf") for a, b in zip(ours, theirs, strict=True)]
            every = [s for r in rounds for s in r]
            figures.append(Figure(
                "ack", f"{label} p99 ratio, {mode}", round(median(ratios), 2), "x", "<=", GOAL,
                reference=round(median(theirs), 1), reference_label=REFERENCE_LABEL, reference_unit="ms",
                note=f"rdsbot p99 {median(ours):.1f} ms; median of {len(ratios)} round ratios, "
                     f"{per_round} samples a side each",
                extra={"ratios": [round(r, 2) for r in ratios], "rdsbot_p99_ms": [round(v, 1) for v in ours],
                       "reference_p99_ms": [round(v, 1) for v in theirs],
                       "rdsbot_p50_ms": round(percentile([what(s) * 1000 for s in every], 50), 1),
                       "reference_p50_ms": round(percentile([what(s) * 1000 for r in ref.samples[mode] for s in r],
                                                            50), 1),
                       "failed": {"rdsbot": sum(not s.ok for s in every),
                                  "reference": sum(not s.ok for r in ref.samples[mode] for s in r)}}))
    figures.append(Figure("ack", "CPU per /rds clone <id> (ack, modal, and rdsbot's RDS facts)", round(bot.cpu_ms, 2),
                          "ms", reference=round(ref.cpu_ms, 2), reference_label=REFERENCE_LABEL,
                          note="process user + system time over the fast rounds, per command"))
    for label, what in measures.items():
        for mode, samples in paced["slow"].items():
            fast = _p99(paced["fast"][mode], what)
            slow_p99 = _p99(samples, what)
            figures.append(Figure(
                "ack", f"rdsbot {label} p99, RDS {SLOW_RDS_S:g} s per call / RDS fast, {mode}",
                round(slow_p99 / fast, 2) if fast else float("inf"), "x", "<=", GOAL,
                reference=round(fast, 1), reference_label="rdsbot, RDS fast, same pacing", reference_unit="ms",
                note=f"p99 {slow_p99:.1f} ms over {slow_count} samples with RDS slow",
                extra={"failed": sum(not s.ok for s in samples)}))
    return figures


def _instance_id(n: int) -> str:
    return f"rm-bp1ackbench{n:06d}"


def _seed(count: int) -> Any:
    """The sandbox's estate plus ``count`` copies of its MySQL production instance, each with its own ID."""
    from dataclasses import replace

    from bot.sandbox.rds import default_seed

    seed = default_seed()
    model = next(i for i in seed.instances if i.id == INSTANCE)
    seed.instances.extend(replace(model, id=_instance_id(n), description=f"ack bench {n}") for n in range(count))
    return seed


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a child so far (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _events(port: int) -> str:
    return f"http://127.0.0.1:{port}/slack/events"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, process: subprocess.Popen[bytes], stderr: Path, timeout_s: float = 60.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}:\n{stderr.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - loopback
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{url} never became healthy")


def serve_reference() -> None:
    """The reference: a plain Bolt app with default settings, ack() then views.open, served like rdsbot."""
    from slack_bolt import Ack, App
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_sdk import WebClient

    from bot import operations
    from bot.slack import modals
    from bot.slack.server import make_server

    clone = operations.require("clone")
    app = App(client=WebClient(token=os.environ["ACK_REF_TOKEN"], base_url=os.environ["ACK_REF_API_URL"]),
              signing_secret=os.environ["ACK_REF_SECRET"])

    @app.command("/rds")
    def rds(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        instance = (body.get("text") or "").split()[-1]
        view = modals.operation_modal(clone, initial={"DBInstanceId": instance}, notes=[],
                                      metadata={"channel": body.get("channel_id"), "instance": instance})
        client.views_open(trigger_id=body["trigger_id"], view=view)

    bolt = SlackRequestHandler(app)

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") == "/healthz":  # for the benchmark's start-up wait only
            start_response("200 OK", [("Content-Length", "2")])
            return [b"ok"]
        return bolt(environ, start_response)

    make_server(wsgi, "127.0.0.1", int(os.environ["ACK_REF_PORT"])).run()


if __name__ == "__main__":
    if sys.argv[1:] == ["--reference"]:
        serve_reference()
    else:
        from benchmarks.__main__ import main

        sys.exit(main(["--only", "ack", *sys.argv[1:]]))
