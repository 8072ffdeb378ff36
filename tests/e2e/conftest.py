"""End-to-end fixtures: both emulators and the bot, talking real HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.sandbox.rds import Timings
from bot.sandbox.stack import Emulators, Stack, copy_policies, start_bot, start_emulators

FAST = Timings(clone_s=0.8, copy_s=0.8, backup_s=0.8, restore_s=0.8)


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
