"""CloneDBInstance validation, one test per rule of the seed page (seeds/CloneDBInstance.ja.txt).

Every test validates a form against a real directory (SDK -> RdsEmulator) and asserts
on the outcome: which field got an error and a key word of its message, or the exact
parameters the plan would send to the API.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest

from bot.operations.base import Context, FieldErrors, Plan
from bot.operations.clone import Clone
from bot.rds.directory import RdsDirectory
from bot.rds.errors import RdsError
from bot.rds.gateway import SdkGateway
from bot.sandbox.rds import RdsEmulator
from bot.sandbox.rds.seed import (
    HOST_GROUP,
    MARIADB_WEB,
    MSSQL_2016,
    MSSQL_PROD,
    MYSQL_CLASSIC,
    MYSQL_DEV,
    MYSQL_PROD,
    MYSQL_STOPPED,
    PG_STAGING,
)
from bot.timeutil import utcnow

from .conftest import REGION, make_settings

Errors = Callable[..., dict[str, str]]
Plans = Callable[..., Plan]
REASON = "Restore yesterday's orders for INC-4242"
# The source's tags, which every clone carries (issue 13: clones keep their guard).
DEV_TAGS = [{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "payments"}]


def ok_backup(emu: RdsEmulator, instance_id: str) -> str:
    """The newest successful backup set of the instance."""
    sets = [b for b in emu.backups(instance_id) if b.status == "Success"]
    return max(sets, key=lambda b: b.start).id


def failed_backup(emu: RdsEmulator, instance_id: str) -> str:
    return next(b.id for b in emu.backups(instance_id) if b.status == "Failed")


def earliest_point(emu: RdsEmulator, instance_id: str):  # noqa: ANN201 - a datetime
    return min(b.end for b in emu.backups(instance_id) if b.status == "Success")


@pytest.fixture
def form(emu: RdsEmulator) -> Callable[..., dict[str, object]]:
    """A valid form for ``instance`` (default MySQL dev on cloud_essd); keyword args override,
    ``None`` removes a field."""

    def build(instance: str = MYSQL_DEV, **fields: object) -> dict[str, object]:
        base: dict[str, object] = {
            "DBInstanceId": instance,
            "BackupId": ok_backup(emu, instance),
            "PayType": "Postpaid",
            "reason": REASON,
        }
        base.update(fields)
        return {k: v for k, v in base.items() if v is not None}

    return build


# ---------------------------------------------------------------- valid forms: exact params


def test_minimal_backup_clone_sends_only_given_fields(form, plan_of: Plans, emu: RdsEmulator) -> None:
    backup = ok_backup(emu, MYSQL_DEV)
    plan = plan_of(form())
    assert plan.params == {"DBInstanceId": MYSQL_DEV, "BackupId": backup, "PayType": "Postpaid", "Tag": DEV_TAGS}
    assert plan.instance_id == MYSQL_DEV
    assert plan.instance is not None and plan.instance.id == MYSQL_DEV
    assert "reason" not in plan.params


def test_blank_optional_fields_are_omitted(form, plan_of: Plans, emu: RdsEmulator) -> None:
    blanks = {spec.name: "   " for spec in Clone.fields if spec.section == "optional"}
    blanks.update({"Period": "", "UsedTime": "", "RestoreTime": " "})
    plan = plan_of(form(**blanks))
    assert plan.params == {"DBInstanceId": MYSQL_DEV, "BackupId": ok_backup(emu, MYSQL_DEV), "PayType": "Postpaid",
                           "Tag": DEV_TAGS}


def test_full_form_sends_every_field_typed_and_normalised(form, plan_of: Plans) -> None:
    plan = plan_of(form(
        BackupId=None,
        RestoreTime=(utcnow() - timedelta(hours=3)).strftime("%Y-%m-%d %H:%M"),
        PayType="Prepaid",
        Period="Month",
        UsedTime="6",
        AutoPay="false",
        DBInstanceClass="mysql.n4.large.2c",
        DBInstanceStorage="150",
        DBInstanceStorageType="cloud_essd2",
        Category="HighAvailability",
        ZoneId="cn-hangzhou-j",
        ZoneIdSlave1="cn-hangzhou-h",
        InstanceNetworkType="VPC",
        VPCId="vpc-bp1dev0000000001",
        VSwitchId=" vsw-bp1devj00000001 , vsw-bp1prodh0000001 ",
        PrivateIpAddress="172.17.0.99",
        DBInstanceDescription="payments-clone_01",
        DbNames=["payments_dev", "scratch"],
    ))
    restore = plan.params.pop("RestoreTime")
    assert restore.endswith(":00Z") and "T" in restore and len(restore) == 20
    assert plan.params == {
        "DBInstanceId": MYSQL_DEV,
        "PayType": "Prepaid",
        "Period": "Month",
        "UsedTime": 6,
        "AutoPay": "false",
        "DBInstanceClass": "mysql.n4.large.2c",
        "DBInstanceStorage": 150,
        "DBInstanceStorageType": "cloud_essd2",
        "Category": "HighAvailability",
        "ZoneId": "cn-hangzhou-j",
        "ZoneIdSlave1": "cn-hangzhou-h",
        "InstanceNetworkType": "VPC",
        "VPCId": "vpc-bp1dev0000000001",
        "VSwitchId": "vsw-bp1devj00000001,vsw-bp1prodh0000001",
        "PrivateIpAddress": "172.17.0.99",
        "DBInstanceDescription": "payments-clone_01",
        "DbNames": "payments_dev,scratch",
        "Tag": DEV_TAGS,
    }
    assert isinstance(plan.params["UsedTime"], int) and isinstance(plan.params["DBInstanceStorage"], int)


def test_summary_lists_given_fields_with_option_labels(form, plan_of: Plans) -> None:
    plan = plan_of(form(PayType="Prepaid", Period="Year", UsedTime="1", AutoPay="true"))
    rows = dict(plan.summary)
    assert rows["Billing"] == "Subscription (Prepaid)"
    assert rows["Subscription unit"] == "Year"
    assert rows["Source instance"] == MYSQL_DEV


# ---------------------------------------------------------------- DBInstanceId (source)


@pytest.mark.parametrize("value", [None, "", "   "])
def test_source_is_required(form, errors_of: Errors, value: object) -> None:
    assert "required" in errors_of(form(DBInstanceId=value))["DBInstanceId"]


@pytest.mark.parametrize("value", ["RM-BP1MYSQLDEV00002", "rm", "rm_bp1mysqldev", "rm-bp1 mysql", "1rm-bp1abc",
                                   "rm-bp1abc;drop", "r" * 65])
def test_source_format(form, errors_of: Errors, value: str) -> None:
    message = errors_of(form(DBInstanceId=value))["DBInstanceId"]
    assert "instance ID" in message or "at most 64" in message


def test_source_unknown_instance(form, errors_of: Errors) -> None:
    errors = errors_of(form(DBInstanceId="rm-bp1doesnotexist01", BackupId="321000001"))
    assert errors == {"DBInstanceId": f"No instance rm-bp1doesnotexist01 in {REGION}."}


def test_source_must_be_running(form, errors_of: Errors) -> None:
    message = errors_of(form(MYSQL_STOPPED))["DBInstanceId"]
    assert "Stopped" in message and "Running" in message


def test_source_on_classic_network_is_refused(form, errors_of: Errors) -> None:
    assert "classic network" in errors_of(form(MYSQL_CLASSIC))["DBInstanceId"]


# ---------------------------------------------------------------- BackupId xor RestoreTime


def test_backup_or_time_neither(form, errors_of: Errors) -> None:
    errors = errors_of(form(BackupId=None))
    assert "backup set or a point in time" in errors["BackupId"]
    assert "RestoreTime" not in errors


def test_backup_or_time_both(form, errors_of: Errors) -> None:
    when = (utcnow() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    errors = errors_of(form(RestoreTime=when))
    assert "not both" in errors["RestoreTime"]


@pytest.mark.parametrize("value", ["abc", "32100000x", "-321000001", "3.2", "9" * 21])
def test_backup_id_is_a_number(form, errors_of: Errors, value: str) -> None:
    assert "number" in errors_of(form(BackupId=value))["BackupId"]


def test_backup_id_of_another_instance(form, errors_of: Errors, emu: RdsEmulator) -> None:
    other = ok_backup(emu, PG_STAGING)
    message = errors_of(form(BackupId=other))["BackupId"]
    assert "not a backup of" in message and MYSQL_DEV in message


def test_backup_id_unknown(form, errors_of: Errors) -> None:
    assert "not a backup of" in errors_of(form(BackupId="999999999"))["BackupId"]


def test_backup_id_of_a_failed_backup_set(form, errors_of: Errors, emu: RdsEmulator) -> None:
    bad = failed_backup(emu, MYSQL_PROD)
    message = errors_of(form(MYSQL_PROD, BackupId=bad))["BackupId"]
    assert "Failed" in message and "successful" in message


def test_backup_id_successful_set_accepted(form, plan_of: Plans, emu: RdsEmulator) -> None:
    backup = ok_backup(emu, MYSQL_PROD)
    assert plan_of(form(MYSQL_PROD, BackupId=backup)).params["BackupId"] == backup


# ---------------------------------------------------------------- RestoreTime


@pytest.mark.parametrize("value", [
    "2026-11-28T16:00:00+08:00",
    "28/11/2026 16:00",
    "2026-11-28",
    "16:00",
    "yesterday",
    "2026-13-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "2026-11-28T25:00:00Z",
    "1764345600000",  # milliseconds, not seconds
    "2026-11-28T16:00:00ZZ",
])
def test_restore_time_format(form, errors_of: Errors, value: str) -> None:
    message = errors_of(form(BackupId=None, RestoreTime=value))["RestoreTime"]
    assert "yyyy-MM-ddTHH:mm:ssZ" in message


def test_restore_time_in_the_future(form, errors_of: Errors) -> None:
    when = (utcnow() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "future" in errors_of(form(BackupId=None, RestoreTime=when))["RestoreTime"]


def test_restore_time_before_the_earliest_backup(form, errors_of: Errors, emu: RdsEmulator) -> None:
    too_early = earliest_point(emu, MYSQL_DEV) - timedelta(minutes=1)
    message = errors_of(form(BackupId=None, RestoreTime=too_early.strftime("%Y-%m-%dT%H:%M:%SZ")))["RestoreTime"]
    assert "retention window" in message


def test_restore_time_at_the_earliest_backup_is_accepted(form, plan_of: Plans, emu: RdsEmulator) -> None:
    point = earliest_point(emu, MYSQL_DEV).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert plan_of(form(BackupId=None, RestoreTime=point)).params["RestoreTime"] == point


def test_restore_time_older_than_retention_days(form, emu: RdsEmulator) -> None:
    """Backups from six days ago exist, but a 2-day retention window excludes them."""
    emu.update_instance(MSSQL_2016, backup_retention_days=2)
    try:
        fresh = RdsDirectory(SdkGateway(make_settings(emu)), ttl_s=0)
        ctx = Context(directory=fresh, now=utcnow(), region_id=REGION, user="U0ALICE")
        old = (utcnow() - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert earliest_point(emu, MSSQL_2016).strftime("%Y-%m-%dT%H:%M:%SZ") < old  # a backup covers it
        with pytest.raises(FieldErrors) as info:
            Clone().validate(form(MSSQL_2016, BackupId=None, RestoreTime=old), ctx)
        assert "retention window" in info.value.errors["RestoreTime"]
        recent = (utcnow() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        plan = Clone().validate(form(MSSQL_2016, BackupId=None, RestoreTime=recent), ctx)
        assert plan.params["RestoreTime"] == recent
    finally:
        emu.update_instance(MSSQL_2016, backup_retention_days=7)


def test_restore_time_space_separated_minutes_is_utc(form, plan_of: Plans) -> None:
    when = (utcnow() - timedelta(days=1)).replace(hour=16, minute=0, second=0, microsecond=0)
    plan = plan_of(form(BackupId=None, RestoreTime=when.strftime("%Y-%m-%d %H:%M")))
    assert plan.params["RestoreTime"] == when.strftime("%Y-%m-%dT16:00:00Z")


def test_restore_time_space_separated_seconds_is_utc(form, plan_of: Plans) -> None:
    when = (utcnow() - timedelta(days=1)).replace(hour=9, minute=30, second=15, microsecond=0)
    plan = plan_of(form(BackupId=None, RestoreTime=when.strftime("%Y-%m-%d %H:%M:%S")))
    assert plan.params["RestoreTime"] == when.strftime("%Y-%m-%dT09:30:15Z")


def test_restore_time_epoch_seconds_from_a_datetimepicker(form, plan_of: Plans) -> None:
    when = (utcnow() - timedelta(hours=5)).replace(microsecond=0)
    plan = plan_of(form(BackupId=None, RestoreTime=str(int(when.timestamp()))))
    assert plan.params["RestoreTime"] == when.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_restore_time_api_format_passes_unchanged(form, plan_of: Plans) -> None:
    when = (utcnow() - timedelta(hours=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert plan_of(form(BackupId=None, RestoreTime=when)).params == {
        "DBInstanceId": MYSQL_DEV, "RestoreTime": when, "PayType": "Postpaid", "Tag": DEV_TAGS}


# ---------------------------------------------------------------- PayType, Period, UsedTime


@pytest.mark.parametrize("value", [None, "", "  "])
def test_pay_type_required(form, errors_of: Errors, value: object) -> None:
    assert "required" in errors_of(form(PayType=value))["PayType"]


@pytest.mark.parametrize("value", ["Free", "postpaid", "PrePaid", "Subscription"])
def test_pay_type_values(form, errors_of: Errors, value: str) -> None:
    message = errors_of(form(PayType=value))["PayType"]
    assert "Postpaid" in message and "Prepaid" in message and "Serverless" in message


@pytest.mark.parametrize("pay_type", ["Postpaid", "Serverless"])
def test_pay_type_accepted(form, plan_of: Plans, pay_type: str) -> None:
    assert plan_of(form(PayType=pay_type)).params["PayType"] == pay_type


def test_prepaid_needs_period(form, errors_of: Errors) -> None:
    errors = errors_of(form(PayType="Prepaid", UsedTime="1"))
    assert "Year or Month" in errors["Period"]
    assert "UsedTime" not in errors


def test_prepaid_needs_used_time(form, errors_of: Errors) -> None:
    errors = errors_of(form(PayType="Prepaid", Period="Year"))
    assert "length" in errors["UsedTime"]
    assert "Period" not in errors


def test_prepaid_needs_both(form, errors_of: Errors) -> None:
    assert set(errors_of(form(PayType="Prepaid"))) == {"Period", "UsedTime", "AutoPay"}


@pytest.mark.parametrize("value", ["Week", "year", "Day"])
def test_period_values(form, errors_of: Errors, value: str) -> None:
    assert "Month" in errors_of(form(PayType="Prepaid", Period=value, UsedTime="1"))["Period"]


@pytest.mark.parametrize(("period", "used"), [("Year", 1), ("Year", 3), ("Month", 1), ("Month", 9)])
def test_used_time_boundaries_accepted(form, plan_of: Plans, period: str, used: int) -> None:
    params = plan_of(form(PayType="Prepaid", Period=period, UsedTime=str(used), AutoPay="true")).params
    assert (params["Period"], params["UsedTime"]) == (period, used)


@pytest.mark.parametrize(("period", "used", "word"), [
    ("Year", "0", "1"), ("Year", "4", "1 to 3"), ("Year", "9", "1 to 3"),
    ("Month", "0", "1"), ("Month", "10", "9"), ("Month", "-1", "1"),
])
def test_used_time_out_of_range(form, errors_of: Errors, period: str, used: str, word: str) -> None:
    message = errors_of(form(PayType="Prepaid", Period=period, UsedTime=used))["UsedTime"]
    assert word in message


@pytest.mark.parametrize("used", ["10", "12"])
def test_used_time_message_matches_the_year_range(form, errors_of: Errors, used: str) -> None:
    assert "1 to 3" in errors_of(form(PayType="Prepaid", Period="Year", UsedTime=used))["UsedTime"]


@pytest.mark.parametrize("value", ["one", "1.5", "1e2", "12345678901"])
def test_used_time_is_a_whole_number(form, errors_of: Errors, value: str) -> None:
    assert "whole number" in errors_of(form(PayType="Prepaid", Period="Month", UsedTime=value))["UsedTime"]


@pytest.mark.parametrize("pay_type", ["Postpaid", "Serverless"])
@pytest.mark.parametrize(("field", "value"), [("Period", "Year"), ("UsedTime", "1")])
def test_period_and_used_time_refused_unless_prepaid(form, errors_of: Errors, pay_type: str, field: str,
                                                     value: str) -> None:
    assert "Prepaid" in errors_of(form(PayType=pay_type, **{field: value}))[field]


def test_serverless_not_for_mariadb(form, errors_of: Errors) -> None:
    assert "MariaDB" in errors_of(form(MARIADB_WEB, PayType="Serverless"))["PayType"]


def test_mariadb_postpaid_is_fine(form, plan_of: Plans) -> None:
    assert plan_of(form(MARIADB_WEB)).params["PayType"] == "Postpaid"


# ---------------------------------------------------------------- DBInstanceStorage


@pytest.mark.parametrize("value", ["abc", "100.0", "1e3", "100GB", "1 000"])
def test_storage_is_an_integer(form, errors_of: Errors, value: str) -> None:
    assert "whole number" in errors_of(form(DBInstanceStorage=value))["DBInstanceStorage"]


@pytest.mark.parametrize("value", ["101", "102", "149"])
def test_storage_multiple_of_5(form, errors_of: Errors, value: str) -> None:
    assert "multiple of 5" in errors_of(form(DBInstanceStorage=value))["DBInstanceStorage"]


@pytest.mark.parametrize("value", ["0", "-5"])
def test_storage_positive(form, errors_of: Errors, value: str) -> None:
    assert "from 5" in errors_of(form(DBInstanceStorage=value))["DBInstanceStorage"]


def test_storage_not_below_the_source(form, errors_of: Errors) -> None:
    message = errors_of(form(MYSQL_PROD, DBInstanceStorage="495"))["DBInstanceStorage"]
    assert "500 GB" in message


@pytest.mark.parametrize("value", ["500", "505"])
def test_storage_at_or_above_the_source(form, plan_of: Plans, value: str) -> None:
    assert plan_of(form(MYSQL_PROD, DBInstanceStorage=value)).params["DBInstanceStorage"] == int(value)


# ---------------------------------------------------------------- DBInstanceStorageType


@pytest.mark.parametrize("value", ["ssd", "cloud_essd4", "CLOUD_ESSD", "local-ssd"])
def test_storage_type_values(form, errors_of: Errors, value: str) -> None:
    assert "general_essd" in errors_of(form(DBInstanceStorageType=value))["DBInstanceStorageType"]


@pytest.mark.parametrize("value", ["general_essd", "cloud_ssd", "cloud_essd", "cloud_essd2", "cloud_essd3"])
def test_storage_type_cloud_values_accepted(form, plan_of: Plans, value: str) -> None:
    assert plan_of(form(DBInstanceStorageType=value)).params["DBInstanceStorageType"] == value


@pytest.mark.parametrize("value", ["general_essd", "cloud_ssd", "cloud_essd", "cloud_essd2", "cloud_essd3"])
def test_local_ssd_source_cannot_go_to_a_cloud_disk(form, errors_of: Errors, value: str) -> None:
    assert "local SSD" in errors_of(form(MYSQL_PROD, DBInstanceStorageType=value))["DBInstanceStorageType"]


def test_local_ssd_source_to_local_ssd(form, plan_of: Plans) -> None:
    assert plan_of(form(MYSQL_PROD, DBInstanceStorageType="local_ssd")).params["DBInstanceStorageType"] == "local_ssd"


def test_essd_level_not_below_the_source(form, errors_of: Errors) -> None:
    message = errors_of(form(PG_STAGING, DBInstanceStorageType="cloud_essd"))["DBInstanceStorageType"]
    assert "ESSD level" in message and "cloud_essd2" in message


@pytest.mark.parametrize("value", ["cloud_essd2", "cloud_essd3"])
def test_essd_level_same_or_higher(form, plan_of: Plans, value: str) -> None:
    assert plan_of(form(PG_STAGING, DBInstanceStorageType=value)).params["DBInstanceStorageType"] == value


@pytest.mark.parametrize("value", ["cloud_ssd", "cloud_essd2", "cloud_essd3", "local_ssd"])
@pytest.mark.parametrize("how", [{"PayType": "Serverless"}, {"PayType": "Serverless", "Category": "serverless_basic"}])
def test_serverless_only_on_pl1_or_general_essd(form, errors_of: Errors, value: str, how: dict[str, str]) -> None:
    message = errors_of(form(DBInstanceStorageType=value, **how))["DBInstanceStorageType"]
    assert "Serverless" in message


@pytest.mark.parametrize("value", ["cloud_essd", "general_essd"])
def test_serverless_on_allowed_disks(form, plan_of: Plans, value: str) -> None:
    params = plan_of(form(PayType="Serverless", Category="serverless_basic", DBInstanceStorageType=value)).params
    assert (params["PayType"], params["Category"], params["DBInstanceStorageType"]) == (
        "Serverless", "serverless_basic", value)


# ---------------------------------------------------------------- Category


@pytest.mark.parametrize("value", ["Enterprise", "basic", "HA", "Serverless"])
def test_category_values(form, errors_of: Errors, value: str) -> None:
    assert "HighAvailability" in errors_of(form(Category=value))["Category"]


def test_serverless_from_a_disk_serverless_cannot_use_must_name_a_storage_type(form, errors_of: Errors) -> None:
    """PostgreSQL on ESSD PL2: serverless needs PL1/general ESSD, and PL1 would lower the level."""
    errors = errors_of(form(PG_STAGING, Category="serverless_basic", PayType="Serverless"))
    assert "cloud_essd2" in errors["DBInstanceStorageType"]
    lowered = errors_of(form(PG_STAGING, Category="serverless_basic", PayType="Serverless",
                             DBInstanceStorageType="cloud_essd"))
    assert "ESSD level" in lowered["DBInstanceStorageType"]


@pytest.mark.parametrize(("category", "instance", "pay_type"), [
    ("Basic", MARIADB_WEB, "Postpaid"),
    ("HighAvailability", PG_STAGING, "Postpaid"),
    ("AlwaysOn", MSSQL_PROD, "Postpaid"),
    ("cluster", MYSQL_DEV, "Postpaid"),
    ("Finance", MYSQL_DEV, "Postpaid"),
    ("serverless_basic", MYSQL_DEV, "Serverless"),
    ("serverless_standard", MYSQL_DEV, "Serverless"),
    ("serverless_ha", MSSQL_PROD, "Serverless"),
])
def test_category_engine_allowed(form, plan_of: Plans, category: str, instance: str, pay_type: str) -> None:
    assert plan_of(form(instance, Category=category, PayType=pay_type)).params["Category"] == category


@pytest.mark.parametrize(("category", "instance", "pay_type", "engine"), [
    ("AlwaysOn", MYSQL_DEV, "Postpaid", "MySQL"),  # AlwaysOn: SQL Server only
    ("AlwaysOn", PG_STAGING, "Postpaid", "PostgreSQL"),
    ("cluster", PG_STAGING, "Postpaid", "PostgreSQL"),  # cluster: MySQL only
    ("cluster", MSSQL_PROD, "Postpaid", "SQLServer"),
    ("serverless_basic", MSSQL_PROD, "Serverless", "SQLServer"),  # MySQL and PostgreSQL only
    ("serverless_standard", PG_STAGING, "Serverless", "PostgreSQL"),  # MySQL only
    ("serverless_ha", MYSQL_DEV, "Serverless", "MySQL"),  # SQL Server only
    ("serverless_ha", PG_STAGING, "Serverless", "PostgreSQL"),
])
def test_category_engine_restrictions(form, errors_of: Errors, category: str, instance: str, pay_type: str,
                                      engine: str) -> None:
    message = errors_of(form(instance, Category=category, PayType=pay_type))["Category"]
    assert "not available" in message and engine in message


@pytest.mark.parametrize("category", ["serverless_basic", "serverless_standard", "serverless_ha"])
@pytest.mark.parametrize("pay_type", ["Postpaid", "Prepaid"])
def test_serverless_category_needs_serverless_billing(form, errors_of: Errors, category: str, pay_type: str) -> None:
    extra = {"Period": "Month", "UsedTime": "1"} if pay_type == "Prepaid" else {}
    assert "Billing = Serverless" in errors_of(form(Category=category, PayType=pay_type, **extra))["Category"]


def test_finance_only_in_china_regions(form, errors_of: Errors, directory: RdsDirectory) -> None:
    abroad = Context(directory=directory, now=utcnow(), region_id="ap-southeast-1", user="U0ALICE")
    assert "China" in errors_of(form(Category="Finance"), abroad)["Category"]


# ---------------------------------------------------------------- zones


@pytest.mark.parametrize("field", ["ZoneId", "ZoneIdSlave1"])
@pytest.mark.parametrize("value", ["CN-HANGZHOU-H", "hangzhou", "cn_hangzhou_h", "cn-hangzhou-h;x", "cn hangzhou h",
                                   "z" * 65])
def test_zone_format(form, errors_of: Errors, field: str, value: str) -> None:
    extra = {"VPCId": "vpc-bp1prod000000001", "VSwitchId": "vsw-bp1prodh0000001,vsw-bp1prodi0000001"}
    message = errors_of(form(**{field: value}, **extra))[field]
    assert "zone looks like" in message or "at most 64" in message


def test_zone_accepted(form, plan_of: Plans) -> None:
    params = plan_of(form(ZoneId="cn-hangzhou-h", VPCId="vpc-bp1prod000000001",
                          VSwitchId="vsw-bp1prodh0000001")).params
    assert (params["ZoneId"], params["VSwitchId"]) == ("cn-hangzhou-h", "vsw-bp1prodh0000001")


# ---------------------------------------------------------------- network: VPC, vSwitch, IP


@pytest.mark.parametrize("value", ["vswitch-1", "vsw-", "vsw-ABC12345", "vsw-bp1prodh0000001;vsw-bp1prodi0000001",
                                   "vsw-bp1prodh0000001,", "vpc-bp1prod000000001"])
def test_vswitch_format(form, errors_of: Errors, value: str) -> None:
    message = errors_of(form(VPCId="vpc-bp1prod000000001", VSwitchId=value))["VSwitchId"]
    assert "vsw-" in message


def test_two_vswitches_needed_with_a_secondary_zone(form, errors_of: Errors) -> None:
    errors = errors_of(form(ZoneIdSlave1="cn-hangzhou-i", VPCId="vpc-bp1prod000000001",
                            VSwitchId="vsw-bp1prodh0000001"))
    assert "two vSwitch" in errors["VSwitchId"]


def test_one_vswitch_without_a_secondary_zone(form, errors_of: Errors) -> None:
    errors = errors_of(form(VPCId="vpc-bp1prod000000001", VSwitchId="vsw-bp1prodh0000001,vsw-bp1prodi0000001"))
    assert "one vSwitch" in errors["VSwitchId"]


def test_vpc_network_needs_a_vswitch(form, errors_of: Errors) -> None:
    errors = errors_of(form(InstanceNetworkType="VPC", VPCId="vpc-bp1prod000000001"))
    assert "needs a vSwitch" in errors["VSwitchId"]


@pytest.mark.parametrize("extra", [{"VPCId": "vpc-bp1prod000000001"},
                                   {"VPCId": "vpc-bp1prod000000001", "VSwitchId": "vsw-bp1prodh0000001"}])
def test_classic_network_takes_no_vpc(form, errors_of: Errors, extra: dict[str, str]) -> None:
    assert "classic" in errors_of(form(InstanceNetworkType="Classic", **extra))["InstanceNetworkType"]


@pytest.mark.parametrize("value", ["vpc", "Classic network", "classic"])
def test_network_type_values(form, errors_of: Errors, value: str) -> None:
    assert "VPC" in errors_of(form(InstanceNetworkType=value))["InstanceNetworkType"]


def test_vswitch_needs_its_vpc(form, errors_of: Errors) -> None:
    assert "VPC" in errors_of(form(VSwitchId="vsw-bp1prodh0000001"))["VPCId"]


@pytest.mark.parametrize("value", ["vpc_123", "vpc-", "VPC-BP1PROD", "vsw-bp1prodh0000001"])
def test_vpc_format(form, errors_of: Errors, value: str) -> None:
    assert "vpc-" in errors_of(form(VPCId=value, VSwitchId="vsw-bp1prodh0000001"))["VPCId"]


@pytest.mark.parametrize("value", ["300.1.1.1", "abc", "172.16.0", "172.16.0.1/24", "172.016.0.1"])
def test_private_ip_format(form, errors_of: Errors, value: str) -> None:
    errors = errors_of(form(VPCId="vpc-bp1prod000000001", VSwitchId="vsw-bp1prodh0000001", PrivateIpAddress=value))
    assert "not an IP address" in errors["PrivateIpAddress"]


@pytest.mark.parametrize("value", ["8.8.8.8", "47.96.1.1"])
def test_private_ip_must_be_private(form, errors_of: Errors, value: str) -> None:
    errors = errors_of(form(VPCId="vpc-bp1prod000000001", VSwitchId="vsw-bp1prodh0000001", PrivateIpAddress=value))
    assert "not a private address" in errors["PrivateIpAddress"]


@pytest.mark.parametrize("value", ["0.0.0.0", "127.0.0.1", "255.255.255.255", "169.254.10.10", "fd00::10"])
def test_private_ip_must_be_a_usable_vpc_ipv4_address(form, errors_of: Errors, value: str) -> None:
    errors = errors_of(form(VPCId="vpc-bp1prod000000001", VSwitchId="vsw-bp1prodh0000001", PrivateIpAddress=value))
    assert "PrivateIpAddress" in errors


def test_private_ip_needs_a_vswitch(form, errors_of: Errors) -> None:
    assert "vSwitch" in errors_of(form(PrivateIpAddress="172.16.0.99"))["PrivateIpAddress"]


@pytest.mark.parametrize("value", ["172.16.0.99", "10.1.2.3", "192.168.5.6"])
def test_private_ip_accepted(form, plan_of: Plans, value: str) -> None:
    params = plan_of(form(VPCId="vpc-bp1prod000000001", VSwitchId="vsw-bp1prodh0000001",
                          PrivateIpAddress=value)).params
    assert params["PrivateIpAddress"] == value


# ---------------------------------------------------------------- DBInstanceDescription


@pytest.mark.parametrize(("value", "word"), [
    ("a", "2 to 255"),
    ("a" * 256, "2 to 255"),
    ("1clone", "start with a letter"),
    ("_clone", "start with a letter"),
    ("-clone", "start with a letter"),
    ("my clone", "start with a letter"),
    ("clone.v2", "start with a letter"),
    ("clone@prod", "start with a letter"),
    ("clone<!channel>", "start with a letter"),
    ("http://clone", "http"),
    ("https://clone", "http"),
    ("HTTPS://clone", "http"),
])
def test_description_rules(form, errors_of: Errors, value: str, word: str) -> None:
    assert word in errors_of(form(DBInstanceDescription=value))["DBInstanceDescription"]


@pytest.mark.parametrize("value", ["ab", "a" * 255, "Clone-of_prod-2", "测试实例", "数据库-01", "clone克隆", "httpclone"])
def test_description_accepted(form, plan_of: Plans, value: str) -> None:
    assert plan_of(form(DBInstanceDescription=value)).params["DBInstanceDescription"] == value


@pytest.mark.parametrize("value", ["テスト", "クローン-01", "데이터베이스"])
def test_description_cjk_means_chinese_characters_only(form, errors_of: Errors, value: str) -> None:
    assert "DBInstanceDescription" in errors_of(form(DBInstanceDescription=value))


# ---------------------------------------------------------------- DbNames


@pytest.mark.parametrize(("value", "sent"), [
    ("payments_dev", "payments_dev"),
    ("payments_dev,scratch", "payments_dev,scratch"),
    (" payments_dev , scratch ", "payments_dev,scratch"),
    (["payments_dev", "scratch"], "payments_dev,scratch"),
])
def test_db_names_joined_with_commas(form, plan_of: Plans, value: object, sent: str) -> None:
    assert plan_of(form(DbNames=value)).params["DbNames"] == sent


@pytest.mark.parametrize("value", ["bad name", "db;drop", "_db", "db/1", "ä" * 3, "d" * 65, "db1,bad name"])
def test_db_names_format(form, errors_of: Errors, value: str) -> None:
    assert "not valid" in errors_of(form(DbNames=value))["DbNames"]


@pytest.mark.parametrize("value", ["db1,db1", "db1, db2 ,db1", ["db1", "db1"]])
def test_db_names_duplicates(form, errors_of: Errors, value: object) -> None:
    assert "twice" in errors_of(form(DbNames=value))["DbNames"]


# ---------------------------------------------------------------- reason


@pytest.mark.parametrize("value", [None, "", "  \n "])
def test_reason_required(form, errors_of: Errors, value: object) -> None:
    assert "required" in errors_of(form(reason=value))["reason"]


def test_reason_max_3000(form, errors_of: Errors, plan_of: Plans) -> None:
    assert "3000" in errors_of(form(reason="r" * 3001))["reason"]
    plan_of(form(reason="r" * 3000))


# ---------------------------------------------------------------- DBInstanceClass


@pytest.mark.parametrize("value", ["MYSQL.N2", "mysql", "mysql n2 medium", "mysql..n2"])
def test_instance_class_format(form, errors_of: Errors, value: str) -> None:
    assert "class looks like" in errors_of(form(DBInstanceClass=value))["DBInstanceClass"]


# ---------------------------------------------------------------- robustness


HUGE = 100_000


@pytest.mark.parametrize("field", [spec.name for spec in Clone.fields])
@pytest.mark.parametrize("filler", ["x", "9", "a,", "<", "é"])
def test_huge_input_gives_an_error_never_an_exception(form, errors_of: Errors, field: str, filler: str) -> None:
    value = (filler * HUGE)[:HUGE]
    errors = errors_of(form(**{field: value}))
    assert field in errors
    assert all(len(message) < 1000 for message in errors.values()), "an error message echoes the huge input"


def test_huge_list_of_valid_db_names_is_refused(form, errors_of: Errors) -> None:
    names = ",".join(f"db{n}" for n in range(20_000))
    assert len(names) > HUGE
    assert "DbNames" in errors_of(form(DbNames=names))


def test_all_errors_are_reported_at_once(form, errors_of: Errors) -> None:
    errors = errors_of(form(
        DBInstanceId="NOT AN ID",
        PayType="Free",
        DBInstanceStorage="12",
        ZoneId="Zone 1",
        DBInstanceDescription="1bad",
    ))
    assert set(errors) == {"DBInstanceId", "PayType", "DBInstanceStorage", "ZoneId", "DBInstanceDescription"}


@pytest.mark.parametrize(("bad", "extra"), [
    ({"ZoneIdSlave1": "Zone I"}, {"VSwitchId": "vsw-bp1prodh0000001,vsw-bp1prodi0000001"}),  # "Give one vSwitch"
    ({"VSwitchId": "vswitch-1"}, {"PrivateIpAddress": "172.16.0.99"}),  # "A private IP needs the vSwitch"
])
def test_one_bad_field_gives_one_error(form, errors_of: Errors, bad: dict[str, str], extra: dict[str, str]) -> None:
    errors = errors_of(form(VPCId="vpc-bp1prod000000001", **bad, **extra))
    assert set(errors) == set(bad)


def test_all_source_errors_are_reported_at_once(form, errors_of: Errors, emu: RdsEmulator) -> None:
    """Errors that need the source instance are also collected together, not one per round."""
    errors = errors_of(form(MYSQL_PROD, BackupId=failed_backup(emu, MYSQL_PROD), DBInstanceStorage="100",
                            DBInstanceStorageType="cloud_essd", Category="AlwaysOn"))
    assert set(errors) == {"BackupId", "DBInstanceStorage", "DBInstanceStorageType", "Category"}


def test_field_names_are_api_parameters() -> None:
    names = [spec.name for spec in Clone.fields]
    assert len(names) == len(set(names))
    assert {"DBInstanceId", "BackupId", "RestoreTime", "PayType", "reason"} <= set(names)
    assert [spec.name for spec in Clone.fields if spec.required] == ["DBInstanceId", "PayType", "reason"]


# ---------------------------------------------------------------- RDS trouble during validation


def _one_shot_context(emu: RdsEmulator) -> Context:
    """A context whose directory neither caches nor retries, so one injected fault is seen."""
    fresh = RdsDirectory(SdkGateway(make_settings(emu, rds_max_attempts=1)), ttl_s=0)
    return Context(directory=fresh, now=utcnow(), region_id=REGION, user="U0ALICE")


def test_source_lookup_throttled_keeps_the_input_and_names_the_code(form, emu: RdsEmulator) -> None:
    emu.inject(action="DescribeDBInstanceAttribute", code="Throttling.User", times=1)
    try:
        with pytest.raises(FieldErrors) as info:
            Clone().validate(form(), _one_shot_context(emu))
    finally:
        emu.clear_faults()
    message = info.value.errors["DBInstanceId"]
    assert "[Throttling.User]" in message and "submit again" in message


def test_backup_listing_failure_lands_on_the_backup_field(form, emu: RdsEmulator) -> None:
    emu.inject(action="DescribeBackups", code="ServiceUnavailable", status=503, times=1)
    try:
        with pytest.raises(FieldErrors) as info:
            Clone().validate(form(), _one_shot_context(emu))
    finally:
        emu.clear_faults()
    assert "[ServiceUnavailable]" in info.value.errors["BackupId"]


# ---------------------------------------------------------------- the further options (issue 14)
PREPAID = {"PayType": "Prepaid", "Period": "Month", "UsedTime": "1"}


def test_prepaid_needs_an_explicit_auto_pay_choice(form, errors_of: Errors) -> None:
    errors = errors_of(form(**PREPAID))
    assert set(errors) == {"AutoPay"} and "console" in errors["AutoPay"]


@pytest.mark.parametrize("value", ["true", "false"])
def test_auto_pay_goes_to_rds_as_chosen(form, plan_of: Plans, value: str) -> None:
    plan = plan_of(form(**PREPAID, AutoPay=value))
    assert plan.params["AutoPay"] == value and isinstance(plan.params["AutoPay"], str)
    assert "Pay automatically" in dict(plan.summary)


@pytest.mark.parametrize("value", ["True", "yes", "1", "on"])
def test_auto_pay_values(form, errors_of: Errors, value: str) -> None:
    assert "true, false" in errors_of(form(**PREPAID, AutoPay=value))["AutoPay"]


@pytest.mark.parametrize("pay_type", ["Postpaid", "Serverless"])
def test_auto_pay_has_no_effect_without_prepaid_so_is_not_sent(form, plan_of: Plans, pay_type: str) -> None:
    assert "AutoPay" not in plan_of(form(PayType=pay_type, AutoPay="false")).params


def test_deletion_protection_box_sends_true_and_unticked_sends_nothing(form, plan_of: Plans) -> None:
    assert plan_of(form(DeletionProtection=["true"])).params["DeletionProtection"] == "true"
    assert "DeletionProtection" not in plan_of(form(DeletionProtection=[])).params


@pytest.mark.parametrize("value", ["false", "True", "1", "yes"])
def test_deletion_protection_values(form, errors_of: Errors, value: str) -> None:
    assert "not one of" in errors_of(form(DeletionProtection=[value]))["DeletionProtection"]


def test_partial_clone_sends_restore_table_and_table_meta(form, plan_of: Plans) -> None:
    plan = plan_of(form(RestoreTable=["1"], TableMetaLines="payments_dev -> pd_copy\nscratch.notes -> notes_old"))
    assert plan.params["RestoreTable"] == "1"
    assert json.loads(plan.params["TableMeta"]) == [
        {"type": "db", "name": "payments_dev", "newname": "pd_copy", "tables": []},
        {"type": "db", "name": "scratch", "newname": "scratch",
         "tables": [{"type": "table", "name": "notes", "newname": "notes_old"}]},
    ]
    assert "TableMetaLines" not in plan.params
    rows = dict(plan.summary)
    assert "pd_copy" in rows["Clones only"] and "Advanced: TableMeta JSON" not in rows


def test_partial_clone_from_raw_table_meta(form, plan_of: Plans) -> None:
    raw = '[{"type": "db", "name": "scratch", "newname": "scratch_old"}]'
    plan = plan_of(form(RestoreTable=["1"], TableMeta=raw))
    assert json.loads(plan.params["TableMeta"]) == [
        {"type": "db", "name": "scratch", "newname": "scratch_old", "tables": []}]


def test_partial_clone_at_a_point_in_time(form, plan_of: Plans) -> None:
    when = (utcnow() - timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    params = plan_of(form(BackupId=None, RestoreTime=when, RestoreTable=["1"], TableMetaLines="scratch")).params
    assert (params["RestoreTime"], params["RestoreTable"]) == (when, "1") and "BackupId" not in params


def test_partial_clone_needs_a_table_list(form, errors_of: Errors) -> None:
    assert "databases and tables" in errors_of(form(RestoreTable=["1"]))["TableMetaLines"]


def test_partial_clone_still_needs_a_backup_set_or_a_point_in_time(form, errors_of: Errors) -> None:
    errors = errors_of(form(BackupId=None, RestoreTable=["1"], TableMetaLines="scratch"))
    assert "backup set or a point in time" in errors["BackupId"]


@pytest.mark.parametrize("field", ["TableMetaLines", "TableMeta"])
def test_a_table_list_without_the_partial_box_is_refused(form, errors_of: Errors, field: str) -> None:
    value = "scratch" if field == "TableMetaLines" else '[{"type": "db", "name": "scratch", "newname": "s2"}]'
    assert "Tick this" in errors_of(form(**{field: value}))["RestoreTable"]


def test_partial_clone_with_databases_to_clone_is_ambiguous(form, errors_of: Errors) -> None:
    errors = errors_of(form(RestoreTable=["1"], TableMetaLines="scratch", DbNames="payments_dev"))
    assert set(errors) == {"DbNames"} and "list below" in errors["DbNames"]


def test_partial_clone_databases_must_be_in_the_backup_set(form, errors_of: Errors, plan_of: Plans) -> None:
    """SQL Server sets list their databases (DescribeBackups); other engines' are left to RDS (InvalidBackupSet)."""
    message = errors_of(form(MSSQL_PROD, RestoreTable=["1"], TableMetaLines="hr\nledger -> ledger_old"))
    assert "Not in backup set" in message["TableMetaLines"] and "ledger" in message["TableMetaLines"]
    assert "TableMeta" in plan_of(form(MSSQL_PROD, RestoreTable=["1"], TableMetaLines="hr -> hr_old")).params


def test_partial_clone_json_problems_name_the_entry(form, errors_of: Errors) -> None:
    message = errors_of(form(RestoreTable=["1"], TableMeta='[{"type": "db", "name": "scratch"}]'))["TableMeta"]
    assert "Entry 1" in message and "newname" in message


@pytest.mark.parametrize("value", ["0", "true", "yes"])
def test_restore_table_values(form, errors_of: Errors, value: str) -> None:
    assert "not one of" in errors_of(form(RestoreTable=[value], TableMetaLines="scratch"))["RestoreTable"]


def test_logger_zone_goes_with_a_secondary_zone(form, errors_of: Errors) -> None:
    assert "secondary zone" in errors_of(form(ZoneIdSlave2="cn-hangzhou-i"))["ZoneIdSlave2"]


@pytest.mark.parametrize("value", ["CN-HANGZHOU-I", "hangzhou", "cn hangzhou i", "cn-hangzhou-i;x"])
def test_logger_zone_format(form, errors_of: Errors, value: str) -> None:
    errors = errors_of(form(ZoneIdSlave1="cn-hangzhou-h", ZoneIdSlave2=value, VPCId="vpc-bp1dev0000000001",
                            VSwitchId="vsw-bp1devj00000001,vsw-bp1prodh0000001"))
    assert "zone looks like" in errors["ZoneIdSlave2"]


def test_logger_zone_with_a_secondary_zone_is_sent_with_two_vswitches(form, plan_of: Plans) -> None:
    """The page asks for two vSwitches with a secondary zone and names no third for the logger."""
    params = plan_of(form(ZoneId="cn-hangzhou-j", ZoneIdSlave1="cn-hangzhou-h", ZoneIdSlave2="cn-hangzhou-i",
                          VPCId="vpc-bp1dev0000000001", VSwitchId="vsw-bp1devj00000001,vsw-bp1prodh0000001")).params
    assert (params["ZoneIdSlave1"], params["ZoneIdSlave2"]) == ("cn-hangzhou-h", "cn-hangzhou-i")


@pytest.mark.parametrize("value", ["FullBackup", "IncrementalBackup"])
def test_backup_type_with_a_point_in_time(form, plan_of: Plans, value: str) -> None:
    when = (utcnow() - timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert plan_of(form(BackupId=None, RestoreTime=when, BackupType=value)).params["BackupType"] == value


@pytest.mark.parametrize("value", ["Full", "fullbackup", "Auto", "Snapshot"])
def test_backup_type_values(form, errors_of: Errors, value: str) -> None:
    assert "IncrementalBackup" in errors_of(form(BackupType=value))["BackupType"]


def test_backup_type_must_be_the_backup_sets(form, errors_of: Errors, plan_of: Plans) -> None:
    assert plan_of(form(BackupType="FullBackup")).params["BackupType"] == "FullBackup"
    message = errors_of(form(BackupType="IncrementalBackup"))["BackupType"]
    assert "is of type Full backup, not Incremental backup" in message


def test_dedicated_host_group_is_sent(form, plan_of: Plans) -> None:
    assert plan_of(form(DedicatedHostGroupId=HOST_GROUP)).params["DedicatedHostGroupId"] == HOST_GROUP


@pytest.mark.parametrize("value", ["dhg", "DHG-7A9B2C3D", "host-7a9b2c3d", "dhg-7a9 b2", "dhg-7a9****"])
def test_dedicated_host_group_format(form, errors_of: Errors, value: str) -> None:
    assert "dhg-" in errors_of(form(DedicatedHostGroupId=value))["DedicatedHostGroupId"]


def test_every_further_option_at_once(form, plan_of: Plans) -> None:
    params = plan_of(form(**PREPAID, AutoPay="false", DeletionProtection=["true"], BackupType="FullBackup",
                          DedicatedHostGroupId=HOST_GROUP, RestoreTable=["1"], TableMetaLines="scratch")).params
    assert {k: params[k] for k in ("AutoPay", "DeletionProtection", "BackupType", "DedicatedHostGroupId",
                                   "RestoreTable")} == {
        "AutoPay": "false", "DeletionProtection": "true", "BackupType": "FullBackup",
        "DedicatedHostGroupId": HOST_GROUP, "RestoreTable": "1"}


# ---------------------------------------------------------------- every backup set, not the newest page


def test_a_backup_set_older_than_the_newest_hundred_is_accepted(form, plan_of: Plans, emu: RdsEmulator) -> None:
    sets = sorted((b for b in emu.backups(PG_STAGING) if b.status == "Success"), key=lambda b: b.start)
    assert len(sets) > 100
    oldest = sets[0].id
    assert plan_of(form(PG_STAGING, BackupId=oldest)).params["BackupId"] == oldest


def test_the_restore_window_starts_at_the_oldest_set_of_every_page(form, errors_of: Errors, plan_of: Plans,
                                                                    emu: RdsEmulator) -> None:
    oldest = min(b.end for b in emu.backups(PG_STAGING) if b.status == "Success")
    assert utcnow() - oldest > timedelta(days=120)  # far beyond the newest 100 daily sets
    inside = (oldest + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert plan_of(form(PG_STAGING, BackupId=None, RestoreTime=inside)).params["RestoreTime"] == inside
    before = (oldest - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "retention window" in errors_of(form(PG_STAGING, BackupId=None, RestoreTime=before))["RestoreTime"]


def test_an_order_left_unpaid_waits_for_payment_rather_than_failing() -> None:
    """AutoPay=false: the instance may not exist until the order is paid in the console."""

    class Unpaid:
        def status(self, instance_id: str) -> str:
            raise RdsError("InvalidDBInstance.NotFound", f"{instance_id} not found", status=404)

    unpaid = Unpaid()
    progress = Clone().probe(unpaid, {"AutoPay": "false"}, {"DBInstanceId": "rm-bp1new"}, {})  # type: ignore[arg-type]
    assert (progress.status, progress.done) == ("AwaitingPayment", False)
    with pytest.raises(RdsError):  # paid automatically: a missing instance is a real problem
        Clone().probe(unpaid, {"AutoPay": "true"}, {"DBInstanceId": "rm-bp1new"}, {})  # type: ignore[arg-type]
