"""End-to-end fixtures: both emulators and the bot, talking real HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.sandbox.rds import Timings
from bot.sandbox.stack import Emulators, Stack, copy_policies, start_bot, start_emulators
from tests.conftest import database_fixture

FAST = Timings(clone_s=0.8, copy_s=0.8, backup_s=0.8, restore_s=0.8)

# End-to-end flows run on SQLite only. The bot reaches its database only through
# bot/store, whose tests (tests/store), migrations, crash recovery and replicas
# (tests/chaos) run on both SQLite and PostgreSQL: that is where the two can differ.
database_url = database_fixture("sqlite")


@pytest.fixture
def emulators() -> Iterator[Emulators]:
    emu = start_emulators(timings=FAST)
    yield emu
    emu.stop()


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    return copy_policies(tmp_path / "policies")


@pytest.fixture
def make_stack(emulators: Emulators, database_url: str, policy_dir: Path) -> Iterator[Callable[..., Stack]]:
    """Start the bot (once per test) with optional environment overrides."""
    stacks: list[Stack] = []

    def make(**overrides: str) -> Stack:
        stack = start_bot(emulators, database_url=database_url, policy_dir=policy_dir, overrides=overrides)
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.runtime.stop()


@pytest.fixture
def stack(make_stack: Callable[..., Stack]) -> Stack:
    return make_stack()
