"""SdkGateway against the RDS emulator: error kinds, retries by call safety, credentials.

Retries are counted on the emulator's journal (``emu.calls_for``). The gateway's
``sleep`` is replaced by a recorder so backoff costs no time; the SDK, the HTTP
traffic, the timeouts and the emulator are all real.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from bot.rds.errors import ErrorKind, RdsError
from bot.rds.gateway import SdkGateway
from bot.rds.retry import CallSafety
from bot.sandbox.rds import RdsEmulator
from bot.sandbox.rds.seed import MSSQL_PROD, MYSQL_DEV, MYSQL_PROD

from .conftest import UNIT_SECRET, make_settings

ATTRIBUTE = "DescribeDBInstanceAttribute"
READ = {"DBInstanceId": MYSQL_PROD}
DELAY_S = 0.9  # longer than rds_timeout_s=0.5


class Gateway:
    def __init__(self, emu: RdsEmulator, **overrides: object) -> None:
        self.sleeps: list[float] = []
        settings = make_settings(emu, rds_timeout_s=0.5, rds_max_attempts=3, **overrides)
        self.gateway = SdkGateway(settings, sleep=self.sleeps.append)

    def call(self, action: str, params: dict, safety: CallSafety = CallSafety.READ) -> dict:
        return self.gateway.call(action, params, safety=safety)

    def error(self, action: str, params: dict, safety: CallSafety = CallSafety.READ) -> RdsError:
        with pytest.raises(RdsError) as info:
            self.call(action, params, safety)
        return info.value


@pytest.fixture
def gw(emu: RdsEmulator) -> Iterator[Gateway]:
    emu.clear_faults()
    emu.clear_calls()
    yield Gateway(emu)
    emu.clear_faults()


def _clone_params(emu: RdsEmulator, token: str) -> dict:
    backup = max((b for b in emu.backups(MYSQL_DEV) if b.status == "Success"), key=lambda b: b.start).id
    return {"DBInstanceId": MYSQL_DEV, "BackupId": backup, "PayType": "Postpaid", "ClientToken": token}


def test_read_succeeds(gw: Gateway, emu: RdsEmulator) -> None:
    body = gw.call(ATTRIBUTE, READ)
    assert body["Items"]["DBInstanceAttribute"][0]["DBInstanceId"] == MYSQL_PROD
    (record,) = emu.calls_for(ATTRIBUTE)
    assert record.params["DBInstanceId"] == MYSQL_PROD and record.status == 200


def test_region_is_filled_in_where_the_api_takes_it(gw: Gateway, emu: RdsEmulator) -> None:
    """The SDK never fills RegionId in; the gateway adds the configured region."""
    body = gw.call("DescribeDBInstances", {"PageSize": 100, "PageNumber": 1})
    assert MYSQL_PROD in {i["DBInstanceId"] for i in body["Items"]["DBInstance"]}
    (record,) = emu.calls_for("DescribeDBInstances")
    assert record.params["RegionId"] == "cn-hangzhou"


def test_api_refusal_is_kind_api_with_field_and_not_retried(gw: Gateway, emu: RdsEmulator) -> None:
    error = gw.error(ATTRIBUTE, {"DBInstanceId": "rm-bp1doesnotexist01"})
    assert error.kind is ErrorKind.API
    assert error.code.endswith("NotFound") and error.field == "DBInstanceId"
    assert error.request_id
    assert len(emu.calls_for(ATTRIBUTE)) == 1


def test_throttling_with_retry_after_is_retried_after_that_long(gw: Gateway, emu: RdsEmulator) -> None:
    emu.inject(action=ATTRIBUTE, code="Throttling.User", times=1, retry_after_ms=300)
    gw.call(ATTRIBUTE, READ)
    assert [c.code for c in emu.calls_for(ATTRIBUTE)] == ["Throttling.User", None]
    assert len(gw.sleeps) == 1 and gw.sleeps[0] >= 0.3


def test_throttling_that_persists_gives_throttled(gw: Gateway, emu: RdsEmulator) -> None:
    emu.inject(action=ATTRIBUTE, code="Throttling.User", times=3, retry_after_ms=300)
    error = gw.error(ATTRIBUTE, READ)
    assert error.kind is ErrorKind.THROTTLED and error.code == "Throttling.User"
    assert error.retry_after_s == pytest.approx(0.3)
    assert error.plain().endswith("[Throttling.User]")
    assert len(emu.calls_for(ATTRIBUTE)) == 3


def test_throttling_without_header_is_still_throttled(gw: Gateway, emu: RdsEmulator) -> None:
    emu.inject(action=ATTRIBUTE, code="Throttling.User", times=3)
    error = gw.error(ATTRIBUTE, READ)
    assert error.kind is ErrorKind.THROTTLED and error.retry_after_s is None
    assert len(emu.calls_for(ATTRIBUTE)) == 3


def test_throttled_unsafe_write_is_retried(gw: Gateway, emu: RdsEmulator) -> None:
    """A throttled call never ran, so even a write without ClientToken may be resent."""
    emu.inject(action="CreateBackup", code="Throttling.User", times=3, retry_after_ms=100)
    error = gw.error("CreateBackup", {"DBInstanceId": MSSQL_PROD}, CallSafety.UNSAFE)
    assert error.kind is ErrorKind.THROTTLED
    assert len(emu.calls_for("CreateBackup")) == 3


def test_503_is_server_and_reads_are_retried(gw: Gateway, emu: RdsEmulator) -> None:
    emu.inject(action=ATTRIBUTE, code="ServiceUnavailable", status=503, times=3)
    error = gw.error(ATTRIBUTE, READ)
    assert (error.kind, error.status, error.code) == (ErrorKind.SERVER, 503, "ServiceUnavailable")
    assert len(emu.calls_for(ATTRIBUTE)) == 3


def test_503_then_success_on_a_read(gw: Gateway, emu: RdsEmulator) -> None:
    emu.inject(action=ATTRIBUTE, code="ServiceUnavailable", status=503, times=2)
    gw.call(ATTRIBUTE, READ)
    assert [c.status for c in emu.calls_for(ATTRIBUTE)] == [503, 503, 200]


def test_503_idempotent_write_is_retried(gw: Gateway, emu: RdsEmulator) -> None:
    emu.inject(action="CloneDBInstance", code="ServiceUnavailable", status=503, times=3)
    error = gw.error("CloneDBInstance", _clone_params(emu, "unit-503-token"), CallSafety.IDEMPOTENT)
    assert error.kind is ErrorKind.SERVER
    assert len(emu.calls_for("CloneDBInstance")) == 3


def test_503_unsafe_write_is_not_retried(gw: Gateway, emu: RdsEmulator) -> None:
    emu.inject(action="CreateBackup", code="ServiceUnavailable", status=503, times=3)
    error = gw.error("CreateBackup", {"DBInstanceId": MSSQL_PROD}, CallSafety.UNSAFE)
    assert error.kind is ErrorKind.SERVER
    assert len(emu.calls_for("CreateBackup")) == 1


def test_slow_read_times_out_and_is_retried(gw: Gateway, emu: RdsEmulator) -> None:
    emu.inject(action=ATTRIBUTE, delay_s=DELAY_S, times=3)
    error = gw.error(ATTRIBUTE, READ)
    assert error.transient
    assert len(emu.calls_for(ATTRIBUTE)) == 3


def test_slow_read_is_kind_timeout(gw: Gateway, emu: RdsEmulator) -> None:
    emu.inject(action=ATTRIBUTE, delay_s=DELAY_S, times=3)
    error = gw.error(ATTRIBUTE, READ)
    assert (error.kind, error.code) == (ErrorKind.TIMEOUT, "RequestTimeout")


def test_slow_idempotent_write_is_retried_with_the_same_token(gw: Gateway, emu: RdsEmulator) -> None:
    before = {i.id for i in emu.instances()}
    emu.inject(action="CloneDBInstance", delay_s=DELAY_S, times=3)
    gw.error("CloneDBInstance", _clone_params(emu, "unit-timeout-token"), CallSafety.IDEMPOTENT)
    calls = emu.calls_for("CloneDBInstance")
    assert len(calls) == 3
    assert {c.client_token for c in calls} == {"unit-timeout-token"}
    assert [c.replayed for c in calls] == [False, True, True]
    assert len({i.id for i in emu.instances()} - before) == 1  # resending made no second clone


def test_slow_unsafe_write_is_not_retried(gw: Gateway, emu: RdsEmulator) -> None:
    emu.inject(action="CreateBackup", delay_s=DELAY_S, times=3)
    gw.error("CreateBackup", {"DBInstanceId": MSSQL_PROD}, CallSafety.UNSAFE)
    assert len(emu.calls_for("CreateBackup")) == 1


def test_connection_refused_is_network(emu: RdsEmulator) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps: list[float] = []
    gateway = SdkGateway(make_settings(emu, rds_endpoint=f"127.0.0.1:{port}", rds_timeout_s=0.5, rds_max_attempts=2),
                         sleep=sleeps.append)
    with pytest.raises(RdsError) as info:
        gateway.call(ATTRIBUTE, READ)
    assert info.value.kind is ErrorKind.NETWORK
    assert info.value.plain().endswith(f"[{info.value.code}]")
    assert len(sleeps) == 1  # retried once: nothing can have run


def test_wrong_secret_is_auth_and_never_shows_the_secret(emu: RdsEmulator) -> None:
    emu.clear_calls()
    wrong = "Wr0ng-Secret-Value-for-unit-tests"
    gateway = SdkGateway(make_settings(emu, access_key_secret=wrong, rds_max_attempts=3), sleep=lambda _s: None)
    with pytest.raises(RdsError) as info:
        gateway.call(ATTRIBUTE, READ)
    error = info.value
    assert (error.kind, error.code) == (ErrorKind.AUTH, "SignatureDoesNotMatch")
    assert len(emu.calls_for(ATTRIBUTE)) == 1  # not retried
    for text in (str(error), repr(error), error.plain(), error.message):
        assert wrong not in text and UNIT_SECRET not in text
    assert "secret" in error.plain().lower()


def test_unknown_action_is_refused_before_any_call(gw: Gateway, emu: RdsEmulator) -> None:
    error = gw.error("FrobnicateDBInstance", READ)
    assert error.code == "InvalidAction.NotFound"
    assert emu.calls == []
