"""Fixtures for the unit tests: a real RDS emulator and a directory that talks to it.

The directory goes through the real SDK (``SdkGateway``) to an ``RdsEmulator`` on an
ephemeral port; nothing about RDS is mocked. One emulator per test module keeps the
run fast (the SDK import costs ~2 s once per process).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.config import Settings
from bot.operations.base import Context, FieldErrors, Form, Plan
from bot.operations.clone import Clone
from bot.rds.directory import RdsDirectory
from bot.rds.gateway import SdkGateway
from bot.sandbox.rds import RdsEmulator
from bot.timeutil import utcnow

UNIT_KEY_ID = "LTAI5tUnitTestKey00001"
UNIT_SECRET = "unit-test-secret-Qz7wXv"
REGION = "cn-hangzhou"


def make_settings(emu: RdsEmulator, **overrides: Any) -> Settings:
    """Settings pointing at ``emu`` (fields given by name, not by environment alias)."""
    values: dict[str, Any] = {
        "access_key_id": UNIT_KEY_ID,
        "access_key_secret": UNIT_SECRET,
        "rds_endpoint": emu.endpoint,
        "rds_protocol": "http",
        "region_id": REGION,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="module")
def emu() -> Iterator[RdsEmulator]:
    emulator = RdsEmulator(access_key_id=UNIT_KEY_ID, access_key_secret=UNIT_SECRET)
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="module")
def directory(emu: RdsEmulator) -> RdsDirectory:
    return RdsDirectory(SdkGateway(make_settings(emu)))


@pytest.fixture
def ctx(directory: RdsDirectory) -> Context:
    return Context(directory=directory, now=utcnow(), region_id=REGION, user="U0ALICE")


@pytest.fixture
def errors_of(ctx: Context) -> Callable[..., dict[str, str]]:
    """Validate a form that must be refused; returns {field: message}."""

    def run(form: Form, context: Context | None = None) -> dict[str, str]:
        try:
            plan = Clone().validate(form, context or ctx)
        except FieldErrors as error:
            assert error.errors, "FieldErrors raised with no errors"
            return error.errors
        pytest.fail(f"expected field errors, got a plan: {str(plan.params)[:500]}")

    return run


@pytest.fixture
def plan_of(ctx: Context) -> Callable[..., Plan]:
    """Validate a form that must pass; returns the Plan (fails with the errors otherwise)."""

    def run(form: Form, context: Context | None = None) -> Plan:
        try:
            return Clone().validate(form, context or ctx)
        except FieldErrors as error:
            pytest.fail(f"expected a plan, got field errors: {error.errors}")

    return run
