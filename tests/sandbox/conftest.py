"""Fixtures for the RDS emulator tests (all named `rds*`, to stay clear of other suites).

The SDK is imported inside the ``rds_sdk`` fixture, once per session: the
emulator itself must stay importable without it.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest

from bot.sandbox.rds import ManualClock, RdsEmulator, Timings

RDS_ACCESS_KEY_ID = "LTAI5tEmulatorTestKey"
RDS_ACCESS_KEY_SECRET = "emulator-test-secret-not-real"
RDS_FAST = Timings(clone_s=0.3, copy_s=0.3, backup_s=0.3, restore_s=0.3)


class RdsSdk:
    """The real SDK, and helpers to call the emulator with it."""

    def __init__(self) -> None:
        from alibabacloud_rds20140815 import models
        from alibabacloud_rds20140815.client import Client
        from alibabacloud_tea_openapi import utils_models
        from darabonba.runtime import RuntimeOptions
        from Tea.exceptions import TeaException

        self.models: ModuleType = models
        self.Client = Client
        self.Config = utils_models.Config
        self.OpenApiRequest = utils_models.OpenApiRequest
        self.Params = utils_models.Params
        self.RuntimeOptions = RuntimeOptions
        self.TeaException = TeaException

    def client(
        self,
        endpoint: str,
        *,
        key: str = RDS_ACCESS_KEY_ID,
        secret: str = RDS_ACCESS_KEY_SECRET,
        **config: Any,
    ) -> Any:
        # no_proxy: the SDK would otherwise send even 127.0.0.1 through HTTP_PROXY.
        return self.Client(
            self.Config(
                access_key_id=key,
                access_key_secret=secret,
                region_id="cn-hangzhou",
                endpoint=endpoint,
                protocol="http",
                no_proxy="127.0.0.1,localhost",
                **config,
            )
        )

    def error(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """The TeaException ``call(*args, **kwargs)`` raises (fails the test when it succeeds)."""
        with pytest.raises(self.TeaException) as info:
            call(*args, **kwargs)
        return info.value

    def raw(self, client: Any, action: str, query: dict[str, Any], method: str = "POST") -> dict[str, Any]:
        """Call ``action`` through the SDK's generic path and return the JSON body as sent."""
        params = self.Params(
            action=action,
            version="2014-08-15",
            protocol="HTTP",
            pathname="/",
            method=method,
            auth_type="AK",
            style="RPC",
            req_body_type="formData",
            body_type="json",
        )
        request = self.OpenApiRequest(query={k: str(v) for k, v in query.items()})
        return client.call_api(params, request, self.RuntimeOptions())["body"]

    def check_types(self, body: Any, model: type, path: str = "") -> None:
        """Assert every field of ``body`` exists in the SDK ``model`` with the model's type."""
        fields = _model_fields(model)
        for key, value in body.items():
            assert key in fields, f"{path}{key} is not a field of {model.__name__}"
            self._check_value(value, fields[key], f"{path}{key}")

    def _check_value(self, value: Any, annotation: str, path: str) -> None:
        simple = {"str": str, "int": int, "bool": bool, "float": (int, float)}
        if annotation in simple:
            assert isinstance(value, simple[annotation]) and (annotation == "bool") == isinstance(value, bool), (
                f"{path} is {value!r}, the model wants {annotation}"
            )
        elif annotation.startswith("List["):
            assert isinstance(value, list), f"{path} should be a list"
            for n, item in enumerate(value):
                self._check_value(item, annotation[5:-1], f"{path}[{n}]")
        elif annotation.startswith("main_models."):
            assert isinstance(value, dict), f"{path} should be an object"
            self.check_types(value, getattr(self.models, annotation.split(".", 1)[1]), f"{path}.")
        else:
            assert annotation.startswith("Dict"), f"{path}: unhandled annotation {annotation}"


def _model_fields(model: type) -> dict[str, str]:
    """JSON key -> annotation (a string such as ``int`` or ``List[main_models.X]``)."""
    source = inspect.getsource(model.from_map)
    pairs = re.findall(r"if m\.get\('([^']+)'\) is not None:\n(?:[^\n]*\n)*?\s*self\.(\w+)", source)
    annotations = {name: str(p.annotation) for name, p in inspect.signature(model.__init__).parameters.items()}
    return {key: annotations[attribute] for key, attribute in pairs}


@pytest.fixture(scope="session")
def rds_sdk() -> RdsSdk:
    return RdsSdk()


@pytest.fixture(scope="module")
def rds_emu() -> Iterator[RdsEmulator]:
    """One emulator per test module, for tests that do not depend on what others changed."""
    with RdsEmulator(
        access_key_id=RDS_ACCESS_KEY_ID, access_key_secret=RDS_ACCESS_KEY_SECRET, timings=RDS_FAST
    ) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def rds(rds_emu: RdsEmulator, rds_sdk: RdsSdk) -> Any:
    """An SDK client of the module's emulator."""
    return rds_sdk.client(rds_emu.endpoint)


@pytest.fixture
def clock() -> ManualClock:
    """A clock the test moves by hand, for emulators whose jobs must not finish on their own."""
    return ManualClock()


@pytest.fixture
def slow_emulator(clock: ManualClock) -> Callable[[Timings], RdsEmulator]:
    """Start an emulator on the manual clock with the given job durations (stopped after the test)."""
    started: list[RdsEmulator] = []

    def start(timings: Timings) -> RdsEmulator:
        emulator = RdsEmulator(access_key_id=RDS_ACCESS_KEY_ID, access_key_secret=RDS_ACCESS_KEY_SECRET,
                               timings=timings, clock=clock)
        emulator.start()
        started.append(emulator)
        return emulator

    yield start  # type: ignore[misc]
    for emulator in started:
        emulator.stop()


@pytest.fixture
def rds_fresh() -> Iterator[RdsEmulator]:
    """A new emulator for a test that changes the estate."""
    with RdsEmulator(
        access_key_id=RDS_ACCESS_KEY_ID, access_key_secret=RDS_ACCESS_KEY_SECRET, timings=RDS_FAST
    ) as emulator:
        yield emulator
