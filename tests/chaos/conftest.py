"""Chaos fixtures: emulators, `serve` children that are always reaped, and the run's fault ledger.

Each test records what it injected (``ledger.fault``), the crashes it caused
(``ledger.crash``) and the duplicate executions it measured
(``ledger.duplicates``). At the end of the session the totals go to
/tmp/rdsbot_chaos_summary.json; faults count as survived only for tests
that passed.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.rds import Timings
from bot.sandbox.stack import Emulators, copy_policies
from tests.chaos.harness import BotLauncher, start_chaos_emulators

SUMMARY_PATH = Path(os.environ.get("RDSBOT_CHAOS_SUMMARY", "/tmp/rdsbot_chaos_summary.json"))
CHAOS_TIMINGS = Timings(clone_s=1.5, copy_s=1.0, backup_s=1.0, restore_s=1.0)


# ------------------------------------------------------------------- ledger
@dataclass
class Ledger:
    """What one test did to the system and what it saw."""

    nodeid: str
    faults: Counter[str] = field(default_factory=Counter)
    crashes: Counter[str] = field(default_factory=Counter)
    duplicates: Counter[str] = field(default_factory=Counter)
    outcome: str = "unknown"

    def fault(self, kind: str, count: int = 1) -> None:
        self.faults[kind] += count

    def crash(self, point: str) -> None:
        self.crashes[point] += 1

    def dup(self, what: str, count: int) -> None:
        """Record measured duplicate executions (0 is recorded too, so the check is visible)."""
        self.duplicates[what] += max(0, int(count))


_LEDGERS: list[Ledger] = []


@pytest.fixture
def ledger(request: pytest.FixtureRequest) -> Ledger:
    entry = Ledger(request.node.nodeid)
    _LEDGERS.append(entry)
    request.node._chaos_ledger = entry  # noqa: SLF001 - read back by the report hook
    return entry


def _summary() -> dict[str, Any]:
    faults: Counter[str] = Counter()
    survived: Counter[str] = Counter()
    crashes: Counter[str] = Counter()
    dups_all: Counter[str] = Counter()
    dups_passing: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    for entry in _LEDGERS:
        faults.update(entry.faults)
        crashes.update(entry.crashes)
        dups_all.update(entry.duplicates)
        outcomes[entry.outcome] += 1
        if entry.outcome == "passed":
            survived.update(entry.faults)
            dups_passing.update(entry.duplicates)
    return {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "tests": dict(outcomes),
        "faults_injected": sum(faults.values()),
        "faults_survived": sum(survived.values()),
        "faults_injected_by_kind": dict(sorted(faults.items())),
        "faults_survived_by_kind": dict(sorted(survived.items())),
        "crashes": sum(crashes.values()),
        "crashes_by_point": dict(sorted(crashes.items())),
        "duplicate_executions_observed": sum(dups_passing.values()),
        "duplicate_executions_in_xfail_bug_tests": sum(dups_all.values()) - sum(dups_passing.values()),
        "xfailed_tests": sorted(e.nodeid for e in _LEDGERS if e.outcome == "xfailed"),
        "failed_tests": sorted(e.nodeid for e in _LEDGERS if e.outcome == "failed"),
    }


@pytest.fixture(scope="session", autouse=True)
def chaos_summary() -> Iterator[None]:
    yield
    if _LEDGERS:
        SUMMARY_PATH.write_text(json.dumps(_summary(), indent=2) + "\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    entry: Ledger | None = getattr(item, "_chaos_ledger", None)
    if entry is not None:
        if report.when == "call":
            if hasattr(report, "wasxfail"):
                entry.outcome = "xpassed" if report.passed else "xfailed"
            else:
                entry.outcome = report.outcome
        elif report.failed and entry.outcome in {"unknown", "passed"}:
            entry.outcome = "failed"
    launcher: BotLauncher | None = getattr(item, "_chaos_launcher", None)
    if launcher is not None and report.failed and report.when in {"call", "setup"}:
        report.sections.append(("rdsbot children: stderr tails", launcher.tails()))


# ---------------------------------------------------------------- fixtures
@pytest.fixture
def timings() -> Timings:
    return CHAOS_TIMINGS


@pytest.fixture
def chaos_emulators(timings: Timings) -> Iterator[tuple[Emulators, str]]:
    emulators, replica_secret = start_chaos_emulators(timings)
    try:
        yield emulators, replica_secret
    finally:
        emulators.stop()


@pytest.fixture
def emulators(chaos_emulators: tuple[Emulators, str]) -> Emulators:
    return chaos_emulators[0]


@pytest.fixture
def replica_secret(chaos_emulators: tuple[Emulators, str]) -> str:
    return chaos_emulators[1]


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    return copy_policies(tmp_path / "policies")


@pytest.fixture
def launcher(request: pytest.FixtureRequest, emulators: Emulators, database_url: str, policy_dir: Path,
             tmp_path: Path) -> Iterator[BotLauncher]:
    """Starts `rdsbot serve` children; every one is killed at teardown, and their stderr
    tails are attached to a failing test's report."""
    bots = BotLauncher(emulators, database_url=database_url, policy_dir=policy_dir, workdir=tmp_path)
    request.node._chaos_launcher = bots  # noqa: SLF001
    try:
        yield bots
    finally:
        bots.stop_all()


@pytest.fixture
def postgres_url(database_url: str) -> str:
    """Only the PostgreSQL flavour of ``database_url`` (the SQLite one is skipped)."""
    if database_url.startswith("sqlite"):
        pytest.skip("two replicas need PostgreSQL (advisory-lock leadership); SQLite is one process by design")
    return database_url


@pytest.fixture
def make_stack(emulators: Emulators, database_url: str, policy_dir: Path) -> Iterator[Any]:
    """An in-process bot (production wiring) on the chaos emulators, for fault tests
    that need no process kill; always stopped at teardown."""
    from bot.sandbox.stack import start_bot
    from tests.chaos.harness import FAST_RECOVERY

    stacks: list[Any] = []

    def make(**overrides: str) -> Any:
        stack = start_bot(emulators, database_url=database_url, policy_dir=policy_dir,
                          overrides={**FAST_RECOVERY, **overrides})
        stacks.append(stack)
        return stack

    try:
        yield make
    finally:
        for stack in stacks:
            stack.runtime.stop()
