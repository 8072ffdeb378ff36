"""Read-only operations of the RDS emulator through the real SDK: fields, types, filters, pages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.sandbox.rds import RdsEmulator
from bot.sandbox.rds.params import MINUTES_FORMAT
from bot.sandbox.rds.seed import (
    MSSQL_PROD,
    MYSQL_DEV,
    MYSQL_PROD,
    PG_STAGING,
)

HANGZHOU = "cn-hangzhou"


def minutes(moment: datetime) -> str:
    return moment.strftime(MINUTES_FORMAT)


# (action, query, SDK response model): every read-only answer matches its model's names and types.
RAW_CALLS = [
    ("DescribeDBInstances", {"RegionId": HANGZHOU, "PageSize": 100}, "DescribeDBInstancesResponseBody"),
    ("DescribeDBInstanceAttribute", {"DBInstanceId": MYSQL_PROD}, "DescribeDBInstanceAttributeResponseBody"),
    ("DescribeDBInstanceAttribute", {"DBInstanceId": MSSQL_PROD}, "DescribeDBInstanceAttributeResponseBody"),
    ("DescribeBackups", {"DBInstanceId": MSSQL_PROD}, "DescribeBackupsResponseBody"),
    ("DescribeDatabases", {"DBInstanceId": PG_STAGING, "PageSize": 30}, "DescribeDatabasesResponseBody"),
    ("DescribeDBInstanceTDE", {"DBInstanceId": MSSQL_PROD}, "DescribeDBInstanceTDEResponseBody"),
    ("DescribeBackupPolicy", {"DBInstanceId": MYSQL_PROD}, "DescribeBackupPolicyResponseBody"),
    ("DescribeTags", {"RegionId": HANGZHOU}, "DescribeTagsResponseBody"),
    (
        "ListTagResources",
        {"RegionId": HANGZHOU, "ResourceType": "INSTANCE", "Tag.1.Key": "env", "Tag.1.Value": "prod"},
        "ListTagResourcesResponseBody",
    ),
]


@pytest.mark.parametrize(("action", "query", "model"), RAW_CALLS, ids=[c[0] for c in RAW_CALLS])
def test_answers_have_the_sdk_models_fields_and_types(
    rds_sdk: Any, rds: Any, action: str, query: dict, model: str
) -> None:
    body = rds_sdk.raw(rds, action, query)
    rds_sdk.check_types(body, getattr(rds_sdk.models, model))


def test_describe_backups_counts_are_strings_and_times_integers(rds_sdk: Any, rds: Any) -> None:
    body = rds_sdk.raw(rds, "DescribeBackups", {"DBInstanceId": MYSQL_PROD})
    assert (body["TotalRecordCount"], body["PageNumber"], body["PageRecordCount"]) == ("6", "1", "6")
    assert isinstance(body["Items"]["Backup"][0]["ConsistentTime"], int)


def test_describe_db_instances_item_fields(rds_sdk: Any, rds: Any) -> None:
    request = rds_sdk.models.DescribeDBInstancesRequest(region_id=HANGZHOU, dbinstance_id=MYSQL_PROD)
    (item,) = rds.describe_dbinstances(request).body.items.dbinstance
    assert (item.engine, item.engine_version, item.category, item.dbinstance_storage_type) == (
        "MySQL",
        "8.0",
        "HighAvailability",
        "local_ssd",
    )
    assert (item.dbinstance_type, item.lock_mode, item.instance_network_type, item.pay_type) == (
        "Primary",
        "Unlock",
        "VPC",
        "Prepaid",
    )
    assert item.read_only_dbinstance_ids.read_only_dbinstance_id[0].dbinstance_id == "rm-bp1mysqlro000010"
    assert item.vpc_id.startswith("vpc-") and item.v_switch_id.startswith("vsw-") and item.zone_id == "cn-hangzhou-h"


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"engine": "SQLServer"}, 6),
        ({"search_key": "payments"}, 3),
        ({"search_key": "rm-bp1mssql"}, 6),
        ({"dbinstance_id": f"{MYSQL_PROD},{MYSQL_DEV},rm-bp1nothere000000"}, 2),
        ({"dbinstance_status": "Stopped"}, 1),
        ({"dbinstance_type": "Readonly"}, 2),
        ({"tags": json.dumps({"team": "payments"})}, 3),
        ({"tags": json.dumps({"env": "staging", "team": "web"})}, 2),
    ],
)
def test_describe_db_instances_filters(rds_sdk: Any, rds: Any, filters: dict, expected: int) -> None:
    request = rds_sdk.models.DescribeDBInstancesRequest(region_id=HANGZHOU, **filters)
    assert rds.describe_dbinstances(request).body.total_record_count == expected


def test_describe_db_instances_region(rds_sdk: Any, rds: Any) -> None:
    request = rds_sdk.models.DescribeDBInstancesRequest(region_id="cn-shanghai")
    ids = [i.dbinstance_id for i in rds.describe_dbinstances(request).body.items.dbinstance]
    assert sorted(ids) == ["rm-uf6mssqlsh000015", "rm-uf6mysqldr000014"]


def test_describe_db_instances_pages(rds_sdk: Any, rds: Any) -> None:
    seen = []
    for number in (1, 2, 3, 4):
        body = rds.describe_dbinstances(
            rds_sdk.models.DescribeDBInstancesRequest(region_id=HANGZHOU, page_size=5, page_number=number)
        ).body
        assert (body.page_number, body.page_record_count, body.total_record_count) == (
            number,
            len(body.items.dbinstance),
            14,
        )
        seen += [i.dbinstance_id for i in body.items.dbinstance]
    assert len(seen) == len(set(seen)) == 14


def test_describe_db_instances_token_pages(rds_sdk: Any, rds: Any) -> None:
    seen, token = [], None
    while True:
        body = rds.describe_dbinstances(
            rds_sdk.models.DescribeDBInstancesRequest(region_id=HANGZHOU, max_results=6, next_token=token)
        ).body
        seen += [i.dbinstance_id for i in body.items.dbinstance]
        token = body.next_token
        if not token:
            break
    assert len(set(seen)) == 14


def test_describe_db_instances_takes_up_to_30_ids_comma_separated(rds_sdk: Any, rds: Any) -> None:
    """How the bot reads many instances' statuses in one call; a name it does not know is simply not listed."""
    wanted = [MYSQL_PROD, MYSQL_DEV, PG_STAGING, *(f"rm-bp1nosuch{n:07d}" for n in range(27))]
    request = rds_sdk.models.DescribeDBInstancesRequest(region_id=HANGZHOU, dbinstance_id=",".join(wanted),
                                                        page_size=100)
    listed = {i.dbinstance_id: i.dbinstance_status for i in rds.describe_dbinstances(request).body.items.dbinstance}
    assert listed == {MYSQL_PROD: "Running", MYSQL_DEV: "Running", PG_STAGING: "Running"}
    error = rds_sdk.error(rds_sdk.raw, rds, "DescribeDBInstances",
                          {"RegionId": HANGZHOU, "DBInstanceId": ",".join([*wanted, "rm-bp1onetoomany0"])})
    assert (error.code, error.status_code) == ("InvalidParameter", 400)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"RegionId": HANGZHOU, "PageSize": 101}, "InvalidParameter"),
        ({"RegionId": HANGZHOU, "PageNumber": 0}, "InvalidParameter"),
        ({"RegionId": HANGZHOU, "Tags": "env=prod"}, "InvalidParameter"),
    ],
)
def test_describe_db_instances_bad_parameters(rds_sdk: Any, rds: Any, query: dict, code: str) -> None:
    error = rds_sdk.error(rds_sdk.raw, rds, "DescribeDBInstances", query)
    assert (error.code, error.status_code) == (code, 400)


def test_describe_attribute(rds_sdk: Any, rds: Any) -> None:
    request = rds_sdk.models.DescribeDBInstanceAttributeRequest(dbinstance_id=MSSQL_PROD)
    (attribute,) = rds.describe_dbinstance_attribute(request).body.items.dbinstance_attribute
    assert (attribute.dbinstance_status, attribute.engine, attribute.engine_version) == (
        "Running",
        "SQLServer",
        "2019_std_ha",
    )
    assert (attribute.category, attribute.dbinstance_storage, attribute.lock_mode) == (
        "HighAvailability",
        500,
        "Unlock",
    )
    assert attribute.slave_zones.slave_zone[0].zone_id == "cn-hangzhou-i"


@pytest.mark.parametrize(
    "action",
    [
        "DescribeDBInstanceAttribute",
        "DescribeDatabases",
        "DescribeBackups",
        "DescribeBackupPolicy",
        "DescribeBackupTasks",
        "DescribeDBInstanceTDE",
    ],
)
def test_unknown_instance_on_describe_calls(rds_sdk: Any, rds: Any, action: str) -> None:
    error = rds_sdk.error(rds_sdk.raw, rds, action, {"DBInstanceId": "rm-bp1doesnotexist00"})
    assert (error.code, error.status_code) == ("InvalidDBInstanceId.NotFound", 400)


def test_describe_backups_filters_and_pages(rds_sdk: Any, rds: Any) -> None:
    models = rds_sdk.models
    failed = rds.describe_backups(models.DescribeBackupsRequest(dbinstance_id=MYSQL_PROD, backup_status="Failed")).body
    assert failed.total_record_count == "1" and failed.items.backup[0].backup_status == "Failed"
    now = datetime.now(UTC)
    recent = rds.describe_backups(
        models.DescribeBackupsRequest(
            dbinstance_id=MYSQL_PROD,
            start_time=minutes(now - timedelta(days=2, hours=6)),
            end_time=minutes(now),
        )
    ).body
    assert 1 <= int(recent.total_record_count) <= 3
    everything = rds.describe_backups(models.DescribeBackupsRequest(dbinstance_id=MYSQL_PROD)).body
    newest_first = [b.backup_start_time for b in everything.items.backup]
    assert newest_first == sorted(newest_first, reverse=True)
    one = rds.describe_backups(
        models.DescribeBackupsRequest(dbinstance_id=MYSQL_PROD, backup_id=everything.items.backup[2].backup_id)
    ).body
    assert [b.backup_id for b in one.items.backup] == [everything.items.backup[2].backup_id]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"StartTime": "2024-03-05T02:21:00Z"}, "InvalidStartTime.Format"),  # seconds: DescribeBackups wants minutes
        ({"EndTime": "yesterday"}, "InvalidEndTime.Format"),
        ({"StartTime": "2024-03-06T00:00Z", "EndTime": "2024-03-05T00:00Z"}, "InvalidParameterCombination"),
        ({"PageSize": 20}, "InvalidParameter"),
        ({"BackupStatus": "Done"}, "InvalidParameter"),
    ],
)
def test_describe_backups_bad_parameters(rds_sdk: Any, rds: Any, query: dict, code: str) -> None:
    error = rds_sdk.error(rds_sdk.raw, rds, "DescribeBackups", {"DBInstanceId": MYSQL_PROD, **query})
    assert error.code == code


def test_describe_databases(rds_sdk: Any, rds: Any) -> None:
    models = rds_sdk.models
    body = rds.describe_databases(models.DescribeDatabasesRequest(dbinstance_id=MSSQL_PROD)).body
    names = {d.dbname for d in body.databases.database}
    assert names == {"erp", "hr", "finance_tde", "archive2019", "warehouse", "reporting_simple"}
    assert {d.dbstatus for d in body.databases.database} == {"Running"}
    one = rds.describe_databases(models.DescribeDatabasesRequest(dbinstance_id=MSSQL_PROD, dbname="hr")).body
    assert [(d.dbname, d.engine, d.character_set_name) for d in one.databases.database] == [
        ("hr", "SQLServer", "Chinese_PRC_CI_AS")
    ]


def test_describe_tde_marks_the_tde_database(rds_sdk: Any, rds: Any) -> None:
    body = rds.describe_dbinstance_tde(rds_sdk.models.DescribeDBInstanceTDERequest(dbinstance_id=MSSQL_PROD)).body
    assert body.tdestatus == "Enabled"
    assert {d.dbname for d in body.databases.database if d.tdestatus == "Enabled"} == {"finance_tde"}


def test_describe_backup_policy(rds_sdk: Any, rds: Any) -> None:
    body = rds.describe_backup_policy(rds_sdk.models.DescribeBackupPolicyRequest(dbinstance_id=MYSQL_PROD)).body
    assert (body.backup_retention_period, body.backup_log, body.log_backup_retention_period) == (7, "Enable", 7)


def test_tags(rds_sdk: Any, rds: Any) -> None:
    models = rds_sdk.models
    tags = rds.describe_tags(models.DescribeTagsRequest(region_id=HANGZHOU, dbinstance_id=MYSQL_PROD)).body
    assert {(t.tag_key, t.tag_value) for t in tags.items.tag_infos} == {("env", "prod"), ("team", "payments")}
    listed = rds.list_tag_resources(
        models.ListTagResourcesRequest(region_id=HANGZHOU, resource_type="INSTANCE", resource_id=[MSSQL_PROD])
    ).body
    assert {(r.tag_key, r.tag_value) for r in listed.tag_resources.tag_resource} == {("env", "prod"), ("team", "erp")}


def test_history_tasks_need_the_time_range(rds_sdk: Any, rds: Any) -> None:
    error = rds_sdk.error(rds_sdk.raw, rds, "DescribeHistoryTasks", {"FromStartTime": "2024-01-01T00:00:00Z"})
    assert (error.code, error.data["Message"]) == (
        "MissingParameter",
        'The input parameter "ToStartTime" that is mandatory for processing this request is not supplied.',
    )


def test_accessors_return_copies(rds_emu: RdsEmulator) -> None:
    instance = rds_emu.instance(MYSQL_PROD)
    assert instance is not None
    instance.status = "Deleting"
    assert rds_emu.instance(MYSQL_PROD).status == "Running"  # type: ignore[union-attr]
