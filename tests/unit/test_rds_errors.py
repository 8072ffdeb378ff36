"""RdsError: plain words that always end with the API's code, and the field each code is about."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.operations.clone import Clone
from bot.rds.errors import CATALOGUE, ErrorKind, RdsError


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_plain_of_every_catalogued_code_ends_with_the_code(code: str) -> None:
    error = RdsError(code, "service message")
    plain = error.plain()
    assert plain.endswith(f"[{code}]")
    assert plain.startswith(CATALOGUE[code].words)
    assert "(service message)" in plain


def test_plain_does_not_repeat_a_message_already_in_the_words() -> None:
    words = CATALOGUE["InternalError"].words
    assert RdsError("InternalError", words).plain() == f"{words} [InternalError]"


@pytest.mark.parametrize(("kind", "word"), [
    (ErrorKind.THROTTLED, "throttling"),
    (ErrorKind.TIMEOUT, "did not answer in time"),
    (ErrorKind.NETWORK, "could not reach"),
    (ErrorKind.SERVER, "internal error"),
])
def test_plain_of_an_unknown_code_speaks_about_its_kind(kind: ErrorKind, word: str) -> None:
    plain = RdsError("Some.NewCode", "whatever", kind).plain()
    assert word in plain and plain.endswith("[Some.NewCode]")


def test_plain_of_an_unknown_api_refusal_shows_the_service_message() -> None:
    assert RdsError("Weird.Code", "The moon is full.").plain() == "The moon is full. [Weird.Code]"
    assert RdsError("Weird.Code", "").plain() == "RDS refused the request. [Weird.Code]"


@settings(max_examples=200, deadline=None, database=None)
@given(code=st.text(min_size=1, max_size=60), message=st.text(max_size=300), kind=st.sampled_from(list(ErrorKind)))
def test_plain_always_ends_with_the_code_in_brackets(code: str, message: str, kind: ErrorKind) -> None:
    assert RdsError(code, message, kind).plain().endswith(f"[{code}]")


@pytest.mark.parametrize(("code", "field"), [
    ("InvalidDBInstance.NotFound", "DBInstanceId"),
    ("InvalidDBInstanceId.NotFound", "DBInstanceId"),
    ("InvalideStatus.Format", "DBInstanceId"),
    ("StopService.Clone", "DBInstanceId"),
    ("InvalidRecoveryDbInstance.StorageSize", "DBInstanceStorage"),
    ("InvalidRecoveryDbInstance.StorageType", "DBInstanceStorageType"),
    ("CannotDecreaseEssdPerfLevel", "DBInstanceStorageType"),
    ("InvalidInstanceLevel.DiskType", "DBInstanceStorageType"),
    ("InvalidBakset.Invalid", "BackupId"),
    ("InvalidBackupSet", "DbNames"),
    ("InvalidDBInstanceClass.Offline", "DBInstanceClass"),
    ("ZoneId.NotMatchWithCategory", "ZoneId"),
    ("InvalidAvZone.Format", "ZoneId"),
    ("OperationDenied.ZoneResource", "ZoneId"),
    ("InvalidIPAddress.Conflict", "PrivateIpAddress"),
    ("InvalidVswitchId", "VSwitchId"),
    ("AtLeastTwoVSwitchAvailableIp", "VSwitchId"),
    ("AtLeastThreeVSwitchAvailableIp", "VSwitchId"),
    ("DiskSize.NotEnough", "DBInstanceStorage"),
    ("InvalidParam.UsedTime", "UsedTime"),
    ("Order.PeriodInvalid", "Period"),
    ("InvalidRestoreTime.Format", "RestoreTime"),
    ("Pay.InsufficientBalance", None),
    ("Throttling.User", None),
    ("NoSuch.Code", None),
])
def test_field_of_a_code(code: str, field: str | None) -> None:
    assert RdsError(code, "m").field == field


def test_every_clone_field_code_names_a_real_form_field() -> None:
    """Catalogue entries that name a field of the clone form must use its exact block_id."""
    clone_codes = ["InvalidRecoveryDbInstance.StorageSize", "InvalidRecoveryDbInstance.StorageType",
                   "InvalidBakset.Invalid", "InvalidBackupSet", "InvalidDBInstanceClass.Offline",
                   "CannotDecreaseEssdPerfLevel", "ZoneId.NotMatchWithCategory", "InvalidAvZone.Format",
                   "InvalidIPAddress.Conflict", "AtLeastTwoVSwitchAvailableIp", "InvalidVswitchId",
                   "OperationDenied.ZoneResource", "DiskSize.NotEnough", "InvalidParam.UsedTime",
                   "Order.PeriodInvalid", "StopService.Clone", "InvalideStatus.Format"]
    names = {spec.name for spec in Clone.fields}
    assert {CATALOGUE[c].field for c in clone_codes} <= names


@pytest.mark.parametrize(("kind", "transient", "not_run"), [
    (ErrorKind.API, False, True),
    (ErrorKind.THROTTLED, True, True),
    (ErrorKind.SERVER, True, False),
    (ErrorKind.TIMEOUT, True, False),
    (ErrorKind.NETWORK, True, True),
    (ErrorKind.AUTH, False, True),
])
def test_kind_decides_transient_and_certainly_not_run(kind: ErrorKind, transient: bool, not_run: bool) -> None:
    error = RdsError("X", "m", kind)
    assert (error.transient, error.certainly_not_run) == (transient, not_run)


def test_message_is_redacted() -> None:
    error = RdsError("InvalidParameter", "bad token xoxb-1234567-abcdefg and key LTAI5tAbCdEfGhIjKlMn")
    assert "xoxb-1234567" not in str(error) and "LTAI5tAbCdEfGhIjKlMn" not in error.plain()
    assert "[redacted]" in error.message


def test_str_and_raise() -> None:
    with pytest.raises(RdsError) as info:
        raise RdsError("InvalidDBInstance.NotFound", "nope", status=404)
    assert str(info.value) == "InvalidDBInstance.NotFound: nope"
    assert info.value.status == 404
