"""CreateBackup, DescribeBackupTasks and DescribeHistoryTasks through the real SDK."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.sandbox.rds import ManualClock, RdsEmulator, Timings
from bot.sandbox.rds.params import format_time
from bot.sandbox.rds.seed import (
    MARIADB_WEB,
    MSSQL_PROD,
    MYSQL_DEV,
    MYSQL_LOCKED,
    MYSQL_PROD,
    MYSQL_READONLY,
    MYSQL_STOPPED,
    PG_STAGING,
)

@pytest.fixture
def emu(slow_emulator: Callable[[Timings], RdsEmulator]) -> RdsEmulator:
    return slow_emulator(Timings(backup_s=100))


def create(sdk: Any, client: Any, **kwargs: Any) -> Any:
    return client.create_backup(sdk.models.CreateBackupRequest(**kwargs)).body


def task(sdk: Any, client: Any, instance_id: str, job_id: str) -> Any:
    request = sdk.models.DescribeBackupTasksRequest(dbinstance_id=instance_id, backup_job_id=int(job_id))
    (job,) = client.describe_backup_tasks(request).body.items.backup_job
    return job


def test_backup_job_moves_through_its_phases_then_lists_the_set(
    rds_sdk: Any, emu: RdsEmulator, clock: ManualClock
) -> None:
    client = rds_sdk.client(emu.endpoint)
    job_id = create(rds_sdk, client, dbinstance_id=MYSQL_PROD).backup_job_id
    assert isinstance(job_id, str) and job_id.isdigit()
    seen = []
    for step in (0, 15, 10, 40, 34):
        clock.advance(step)
        job = task(rds_sdk, client, MYSQL_PROD, job_id)
        seen.append((job.backup_status, job.process))
    assert seen == [("NoStart", "0"), ("Checking", "0"), ("Preparing", "0"), ("Uploading", "50"), ("Uploading", "98")]
    clock.advance(1)
    job = task(rds_sdk, client, MYSQL_PROD, job_id)
    assert (job.backup_status, job.process, job.job_mode) == ("Finished", "100", "Manual")
    backups = client.describe_backups(
        rds_sdk.models.DescribeBackupsRequest(dbinstance_id=MYSQL_PROD, backup_id=job.backup_id)
    ).body.items.backup
    assert [(b.backup_status, b.backup_mode, b.backup_method) for b in backups] == [("Success", "Manual", "Physical")]


def test_one_backup_job_at_a_time(rds_sdk: Any, emu: RdsEmulator) -> None:
    client = rds_sdk.client(emu.endpoint)
    create(rds_sdk, client, dbinstance_id=MSSQL_PROD)
    error = rds_sdk.error(create, rds_sdk, client, dbinstance_id=MSSQL_PROD)
    assert (error.code, error.status_code) == ("BackupJobExists", 400)
    emu.complete_all()
    assert create(rds_sdk, client, dbinstance_id=MSSQL_PROD).backup_job_id


def test_twenty_backup_sets_a_day(rds_sdk: Any, emu: RdsEmulator) -> None:
    client = rds_sdk.client(emu.endpoint)
    for _ in range(20):
        create(rds_sdk, client, dbinstance_id=PG_STAGING, backup_method="Snapshot")
        emu.complete_all()
    error = rds_sdk.error(create, rds_sdk, client, dbinstance_id=PG_STAGING, backup_method="Snapshot")
    assert (error.code, error.status_code) == ("Exceeded.BackupTimes", 403)


def test_failed_backup_job(rds_sdk: Any, emu: RdsEmulator) -> None:
    client = rds_sdk.client(emu.endpoint)
    emu.fail_job("CreateBackup")
    job_id = create(rds_sdk, client, dbinstance_id=MYSQL_PROD).backup_job_id
    emu.complete_all()
    job = task(rds_sdk, client, MYSQL_PROD, job_id)
    assert (job.backup_status, job.backup_id) == ("Failed", None)
    newest = emu.backups(MYSQL_PROD)[0]
    assert (newest.status, newest.mode) == ("Failed", "Manual")


def test_database_level_backup_of_sql_server(rds_sdk: Any, emu: RdsEmulator) -> None:
    client = rds_sdk.client(emu.endpoint)
    create(
        rds_sdk,
        client,
        dbinstance_id=MSSQL_PROD,
        backup_strategy="db",
        backup_type="FullBackup",
        dbname="erp,hr",
        backup_retention_period=30,
    )
    emu.complete_all()
    newest = emu.backups(MSSQL_PROD)[0]
    assert (newest.databases, newest.scale) == (("erp", "hr"), "db")


def test_backup_tasks_filter_and_history(rds_sdk: Any, emu: RdsEmulator, clock: ManualClock) -> None:
    client = rds_sdk.client(emu.endpoint)
    first = create(rds_sdk, client, dbinstance_id=MYSQL_DEV, backup_method="Snapshot").backup_job_id
    emu.complete_all()
    second = create(rds_sdk, client, dbinstance_id=MYSQL_DEV, backup_method="Snapshot").backup_job_id
    clock.advance(50)
    models = rds_sdk.models
    running = client.describe_backup_tasks(
        models.DescribeBackupTasksRequest(dbinstance_id=MYSQL_DEV, backup_job_status="Progressing")
    ).body.items.backup_job
    assert [j.backup_job_id for j in running] == [second]
    now = datetime.now(UTC)
    history = client.describe_history_tasks(
        models.DescribeHistoryTasksRequest(
            from_start_time=format_time(now - timedelta(hours=1)),
            to_start_time=format_time(now + timedelta(hours=1)),
            instance_id=MYSQL_DEV,
        )
    ).body
    assert [(t.task_id, t.status, t.task_type) for t in history.items] == [
        (second, "Running", "CreateBackup"),
        (first, "Succeed", "CreateBackup"),
    ]
    assert history.items[0].progress == 50.0 and history.total_count == 2


CASES: list[tuple[str, dict[str, Any], str, int]] = [
    ("unknown instance", {"DBInstanceId": "rm-bp1doesnotexist00"}, "InvalidDBInstanceName.NotFound", 404),
    ("read-only instance", {"DBInstanceId": MYSQL_READONLY}, "ReadDBInstanceNotSupport", 400),
    ("locked instance", {"DBInstanceId": MYSQL_LOCKED}, "IncorrectDBInstanceLockMode.ValueNotSupported", 400),
    ("stopped instance", {"DBInstanceId": MYSQL_STOPPED, "BackupMethod": "Snapshot"}, "IncorrectDBInstanceState", 403),
    (
        "unknown method",
        {"DBInstanceId": MYSQL_PROD, "BackupMethod": "Fast"},
        "InvalidBackupMethod.ValueNotSupport",
        400,
    ),
    (
        "snapshot of MySQL on local SSD",
        {"DBInstanceId": MYSQL_PROD, "BackupMethod": "Snapshot"},
        "InvalidBackupMethod.ValueNotSupport",
        400,
    ),
    ("physical of MySQL on cloud disk", {"DBInstanceId": MYSQL_DEV}, "InvalidBackupMethod.ValueNotSupport", 400),
    (
        "logical of PostgreSQL",
        {"DBInstanceId": PG_STAGING, "BackupMethod": "Logical"},
        "InvalidBackupMethod.ValueNotSupport",
        400,
    ),
    (
        "snapshot sent for MariaDB",
        {"DBInstanceId": MARIADB_WEB, "BackupMethod": "Snapshot"},
        "InvalidBackupMethod.ValueNotSupport",
        400,
    ),
    ("unknown backup type", {"DBInstanceId": MSSQL_PROD, "BackupType": "Differential"}, "BackupType.NotSupport", 400),
    ("retention out of range", {"DBInstanceId": MYSQL_PROD, "BackupRetentionPeriod": 3}, "InvalidParameter", 400),
    (
        "db strategy without DBName",
        {"DBInstanceId": MSSQL_PROD, "BackupStrategy": "db", "BackupType": "FullBackup"},
        "InvalidDBName.Format",
        400,
    ),
    (
        "db strategy with a bad name",
        {"DBInstanceId": MSSQL_PROD, "BackupStrategy": "db", "BackupType": "FullBackup", "DBName": "erp;drop"},
        "InvalidDBName.Format",
        400,
    ),
    (
        "db strategy, missing database",
        {"DBInstanceId": MSSQL_PROD, "BackupStrategy": "db", "BackupType": "FullBackup", "DBName": "erp,nosuchdb"},
        "InvalidDB.NotFound",
        404,
    ),
    (
        "logical MySQL, missing database",
        {"DBInstanceId": MYSQL_PROD, "BackupMethod": "Logical", "BackupStrategy": "db", "DBName": "nosuchdb"},
        "InvalidDB.NotFound",
        404,
    ),
    ("strategy unknown", {"DBInstanceId": MYSQL_PROD, "BackupStrategy": "table"}, "InvalidParameter", 400),
]


@pytest.mark.parametrize(("query", "code", "status"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_create_backup_refusals(
    rds_sdk: Any, rds: Any, rds_emu: RdsEmulator, query: dict, code: str, status: int
) -> None:
    error = rds_sdk.error(rds_sdk.raw, rds, "CreateBackup", query)
    assert (error.code, error.status_code) == (code, status), error.data["Message"]
    assert rds_emu.jobs("CreateBackup") == []


@pytest.mark.parametrize(
    ("instance_id", "method", "recorded"),
    [
        (MYSQL_PROD, "Logical", "Logical"),
        (MYSQL_DEV, "Snapshot", "Snapshot"),
        (PG_STAGING, "Physical", "Physical"),
        (MSSQL_PROD, "Snapshot", "Snapshot"),
        (MARIADB_WEB, "Physical", "Snapshot"),
    ],
)
def test_accepted_backup_methods(rds_sdk: Any, emu: RdsEmulator, instance_id: str, method: str, recorded: str) -> None:
    create(rds_sdk, rds_sdk.client(emu.endpoint), dbinstance_id=instance_id, backup_method=method)
    emu.complete_all()
    assert emu.backups(instance_id)[0].method == recorded
