"""polling: a thousand jobs in flight, watched by the bot's progress polling.

The estate and the jobs are :mod:`benchmarks.polling_world`: clones and restores
(whose instance status is polled) and one backup or copy on each of 200 instances,
in two accounts and two regions, all started in the RDS emulator on a hand-moved
clock, with the matching ``running`` requests in the bot's database. Both emulators
run in a child process (:mod:`benchmarks.polling_emulators`): their work is not the
bot's. The bot runs with its production wiring (HTTP, scheduler, outbox thread);
each cycle moves the emulator's clock and runs the scheduler's ``poll`` job once
(``jobs.run_now``).

Measured per cycle, from the RDS emulator's journal (it records every call):

- instance-status calls (DescribeDBInstances / DescribeDBInstanceAttribute) against
  the bound ``sum over places of ceil(instances polled there / 30) + instances that
  changed`` (DescribeDBInstances takes up to 30 IDs, one account and region a call);
- backup and copy progress reads per instance (at most one a cycle); the backup set
  read once when a backup finishes (for its size) is counted apart;
- Slack messages recorded for jobs that did not change (none allowed), and in a
  cycle where nothing changed (none);
- the cycle's wall time (< 1 s), after the first cycle (which builds the SDK
  clients of the places it has not called yet; reported apart). Cycles are a
  few seconds apart (30 s in production), the outbox sending meanwhile.

The outbox sends all along; after the cycles it drains for a while, and the
Slack emulator's journal gives each channel's chat.postMessage rate against
Slack's allowance (about one a second per channel, short bursts allowed): the
busiest channel's posts beyond a burst of three, over its busiest 10 s or more.
"""

from __future__ import annotations

import importlib
import logging
import math
import os
import secrets
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import polling_world as world
from benchmarks.core import Figure, Size, median
from benchmarks.polling_emulators import Keys, RemoteEmulators

STATUS_ACTIONS = {"DescribeDBInstances", "DescribeDBInstanceAttribute"}
PROGRESS_READS = {"DescribeBackupTasks", "DescribeDatabases", "DescribeHistoryTasks"}
RESULT_READS = {"DescribeBackups"}
STATUS_OPS = {"clone", "restore"}
RATE_WINDOW_S = 10.0
# Slack's per-channel allowance for chat.postMessage: about one a second, short bursts allowed (the bot keeps
# a little under it, bot.slack.pacing).
RATE, BURST = 1.0, 3
CLOCK_STEP_S = 5.0  # emulator seconds a cycle: about 5% of the jobs end in each


@dataclass
class Cycle:
    """What one polling cycle did."""

    label: str
    seconds: float
    cpu_s: float  # the bot process's CPU time over the cycle (every thread: the outbox sends meanwhile)
    emulators_cpu_s: float  # the emulators' (RDS answering, Slack taking the outbox's posts)
    status_calls: int
    status_bound: int
    polled_instances: int
    changed: int  # jobs whose status, percent or state changed
    changed_status: int  # of those, clones and restores (whose instance status is polled)
    progress_reads_max: int  # the most progress reads one backup/copy instance got
    result_reads: int
    messages: int  # outbox rows recorded during the cycle
    unchanged_messages: int  # ... for jobs that did not change
    actions: dict[str, int]


@contextmanager
def _stack(shape: world.Shape) -> Iterator[tuple[Any, RemoteEmulators]]:
    """The emulators (in a child process, the jobs started), the bot on them, its requests seeded."""
    from bot.sandbox.stack import ACCESS_KEY_ID, BOT_TOKEN, Emulators, copy_policies, start_bot

    saved = {k: os.environ.get(k) for k in ("OTHER_ALIBABA_CLOUD_ACCESS_KEY_ID", "OTHER_ALIBABA_CLOUD_ACCESS_KEY_SECRET")}
    os.environ["OTHER_ALIBABA_CLOUD_ACCESS_KEY_ID"] = world.OTHER_KEY
    os.environ["OTHER_ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = world.OTHER_SECRET
    with tempfile.TemporaryDirectory(prefix="rdsbot-polling-") as tmp:
        keys = Keys(ACCESS_KEY_ID, secrets.token_urlsafe(24), BOT_TOKEN, secrets.token_hex(16))
        remote = RemoteEmulators(shape, keys)  # seeds and starts its jobs while the bot starts
        importlib.import_module("bot.app")  # the bot's imports take as long as the child's start: side by side
        rds, slack = remote.endpoints()
        emulators = Emulators(rds=rds, slack=slack, access_key_secret=keys.access_key_secret,  # type: ignore[arg-type]
                              signing_secret=keys.signing_secret)
        stack = None
        try:
            policies = copy_policies(Path(tmp) / "policies")
            (policies / "accounts.toml").write_text(world.ACCOUNTS_TOML, encoding="utf-8")
            stack = start_bot(emulators, database_url=f"sqlite:///{Path(tmp) / 'rdsbot.db'}", policy_dir=policies,
                              overrides={"RDSBOT_POLL_INTERVAL_S": "3600", "RDSBOT_LOG_LEVEL": "ERROR",
                                         "RDSBOT_REGIONS": "cn-hangzhou,cn-shanghai"})
            # Only the benchmark runs a polling round (or a recovery one): run_now still runs them.
            stack.runtime.jobs.pause("poll", "recover")
            with stack.runtime.db.session() as session:
                session.add_all(world.requests(remote.jobs(), world.now_utc()))
            yield stack, remote
        finally:
            # Messages still queued fail as the emulators go: expected, and not worth a screen of tracebacks.
            logging.disable(logging.CRITICAL)
            if stack is not None:
                stack.runtime.stop()
            remote.stop()
            logging.disable(logging.NOTSET)
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def _jobs_state(stack: Any) -> dict[str, tuple[str, str, Any, str, str]]:
    """request id -> (state, last status key, percent, operation, place)."""
    from sqlmodel import select

    from bot.store.models import Request

    with stack.runtime.db.reader() as session:
        rows = session.exec(select(Request)).all()
        return {r.id: (r.state, (r.progress or {}).get("key"), (r.progress or {}).get("percent"), r.operation,
                       f"{r.account}/{r.region_id}") for r in rows}


def _outbox_since(stack: Any, after_id: int) -> list[tuple[int, str | None]]:
    from sqlmodel import select

    from bot.store.models import OutboxMessage

    with stack.runtime.db.reader() as session:
        return [(int(i), rid) for i, rid in session.exec(
            select(OutboxMessage.id, OutboxMessage.request_id).where(OutboxMessage.id > after_id))]


def _cycle(stack: Any, remote: RemoteEmulators, label: str, advance_s: float, last_outbox: int) -> tuple[Cycle, int]:
    before = _jobs_state(stack)
    running = {rid: v for rid, v in before.items() if v[0] == "running"}
    per_place = Counter(v[4] for v in running.values() if v[3] in STATUS_OPS)
    remote.new_rds_calls()
    remote.advance(advance_s)
    theirs = remote.cpu_s()
    started, cpu = time.perf_counter(), time.process_time()
    stack.runtime.jobs.run_now("poll")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    theirs = remote.cpu_s() - theirs
    calls = remote.new_rds_calls()
    after = _jobs_state(stack)
    changed = {rid for rid, v in running.items() if after[rid][:3] != v[:3]}
    changed_status = {rid for rid in changed if running[rid][3] in STATUS_OPS}
    status_calls = sum(1 for action, _i in calls if action in STATUS_ACTIONS)
    bound = sum(math.ceil(n / 30) for n in per_place.values()) + len(changed_status)
    reads: Counter[str] = Counter(instance for action, instance in calls if action in PROGRESS_READS)
    outbox = _outbox_since(stack, last_outbox)
    unchanged = sum(1 for _id, rid in outbox if rid is not None and rid not in changed)
    cycle = Cycle(label=label, seconds=seconds, cpu_s=cpu, emulators_cpu_s=theirs, status_calls=status_calls,
                  status_bound=bound, polled_instances=sum(per_place.values()), changed=len(changed), changed_status=len(changed_status),
                  progress_reads_max=max(reads.values(), default=0),
                  result_reads=sum(1 for action, _i in calls if action in RESULT_READS), messages=len(outbox),
                  unchanged_messages=unchanged, actions=dict(Counter(action for action, _i in calls)))
    return cycle, max([last_outbox, *(i for i, _rid in outbox)])


@dataclass
class Posting:
    """chat.postMessage per channel, from the Slack emulator's journal."""

    sustained: float  # the busiest channel's posts a second beyond its burst, over windows of >= RATE_WINDOW_S
    excess: float  # the most posts any window held beyond the allowance (burst + rate x its length)
    in_one_second: int  # the most posts to one channel within one second
    per_channel: dict[str, int]


def _posting(remote: RemoteEmulators, since: float) -> Posting:
    """How the posts compare with Slack's allowance per channel (one a second, :data:`BURST` at once)."""
    times: dict[str, list[float]] = defaultdict(list)
    for method, channel, at, ok in remote.slack_calls():
        if method == "chat.postMessage" and at >= since and ok:
            times[channel].append(at)
    sustained, excess, in_one_second = 0.0, 0.0, 0
    for stamps in times.values():
        stamps.sort()
        window = min(RATE_WINDOW_S, stamps[-1] - stamps[0])
        for i, first in enumerate(stamps):
            for j in range(i, len(stamps)):
                span, count = stamps[j] - first, j - i + 1
                excess = max(excess, count - BURST - span * RATE)
                if span < 1.0:
                    in_one_second = max(in_one_second, count)
                if span >= window > 0:
                    sustained = max(sustained, (count - BURST) / span)
    return Posting(sustained, excess, in_one_second, {c: len(s) for c, s in times.items()})


def run(size: Size) -> list[Figure]:
    shape = world.Shape(busy=size.pick(50, 50, 2), restores=size.pick(50, 50, 2), clones_per_busy=3)
    moving = size.pick(10, 3, 1)
    drain_s = float(size.pick(20, 4, 1))
    # Between two cycles (RDSBOT_POLL_INTERVAL_S, 30 s by default) the outbox sends what the last one recorded:
    # about 10 ms of CPU a message, two hundred a cycle here. Cycles back to back would time the outbox too.
    gap_s = size.pick(3, 2, 0)
    with _stack(shape) as (stack, remote):
        slack_since = time.time()
        last = 0
        cycles = []
        # The first cycle records where each backup is; the second changes nothing, the rest move the clock.
        for label, advance in [("settle", 0.0), ("quiet", 0.0), *((f"move {n + 1}", CLOCK_STEP_S)
                                                                  for n in range(moving))]:
            time.sleep(gap_s)
            cycle, last = _cycle(stack, remote, label, advance, last)
            cycles.append(cycle)
        time.sleep(drain_s)
        posting = _posting(remote, slack_since)
    return _figures(shape, cycles, posting)


def _figures(shape: world.Shape, cycles: list[Cycle], posting: Posting) -> list[Figure]:
    bench = "polling"
    worst = max(cycles, key=lambda c: c.status_calls / max(1, c.status_bound))
    quiet = next(c for c in cycles if c.label == "quiet")
    first, steady = cycles[0], cycles[1:]
    times = [c.seconds for c in steady]
    detail = {c.label: {"s": round(c.seconds, 3), "cpu_s": round(c.cpu_s, 3),
                        "emulators_cpu_s": round(c.emulators_cpu_s, 3), "status_calls": c.status_calls,
                        "bound": c.status_bound, "changed": c.changed, "messages": c.messages, "actions": c.actions}
              for c in cycles}
    finished_reads = sum(c.result_reads for c in cycles)
    return [
        Figure(bench, f"instance-status calls, worst cycle ({worst.polled_instances} instances)", worst.status_calls,
               "calls", "<=", worst.status_bound, reference=worst.status_bound,
               reference_label="= sum ceil(n/30) per place + changed",
               note=f"{shape.jobs} jobs; {worst.changed_status} status changes that cycle", extra={"cycles": detail}),
        Figure(bench, "backup/copy progress reads per instance per cycle, max",
               max(c.progress_reads_max for c in cycles), "calls", "<=", 1,
               note=f"besides, {finished_reads} DescribeBackups: one per finished backup, for its size",
               extra={"result_reads_at_finish": finished_reads}),
        Figure(bench, "Slack messages for jobs that did not change", sum(c.unchanged_messages for c in cycles),
               "msgs", "<=", 0, extra={"quiet_cycle_messages": quiet.messages}),
        Figure(bench, "Slack messages in a cycle where nothing changed", quiet.messages, "msgs", "<=", 0),
        Figure(bench, f"chat.postMessage per channel beyond a burst of {BURST}, busiest {RATE_WINDOW_S:.0f} s",
               round(posting.sustained, 2), "msg/s", "<=", RATE,
               note=f"at most {posting.in_one_second} posts in one second to one channel",
               extra={"posts_per_channel": posting.per_channel, "excess_over_allowance": round(posting.excess, 3)}),
        Figure(bench, f"cycle time, {shape.jobs} jobs in flight (max)", round(max(times), 3), "s", "<", 1.0,
               note=f"median {median(times):.2f} s; the first cycle {first.seconds:.2f} s",
               extra={"median_s": round(median(times), 3), "first_cycle_s": round(first.seconds, 3),
                      "cpu_s": [round(c.cpu_s, 3) for c in cycles]}),
    ]
