"""The default estate: a small, varied company running RDS in Hangzhou and Shanghai.

Every instance is there for a reason (a happy path, or the condition of one error
code); :data:`INSTANCE_ROLES` says which, and the sandbox and tests refer to the
IDs through the constants below. Times are relative to ``now`` when the seed is
built, so backups always fall inside the retention window.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.sandbox.rds.model import (
    MARIADB,
    MYSQL,
    POSTGRESQL,
    SQLSERVER,
    Backup,
    CrossRegionBackup,
    Database,
    Instance,
    InstanceClass,
    Region,
    Seed,
    VSwitch,
)

HANGZHOU = "cn-hangzhou"
SHANGHAI = "cn-shanghai"
HEYUAN = "cn-heyuan"

MYSQL_PROD = "rm-bp1mysqlprod0001"
MYSQL_DEV = "rm-bp1mysqldev00002"
PG_STAGING = "rm-bp1pgstaging0003"
MSSQL_PROD = "rm-bp1mssqlprod0004"
MSSQL_QA = "rm-bp1mssqlqa000005"
MSSQL_BASIC = "rm-bp1mssqlbasic006"
MSSQL_ALWAYSON = "rm-bp1mssqlaon00007"
MSSQL_2016 = "rm-bp1mssqlold00008"
MARIADB_WEB = "rm-bp1mariadb000009"
MYSQL_READONLY = "rm-bp1mysqlro000010"
MYSQL_LOCKED = "rm-bp1mysqllock0011"
MYSQL_CLASSIC = "rm-bp1mysqlclsc0012"
MYSQL_STOPPED = "rm-bp1mysqlstop0013"
MYSQL_DR_SHANGHAI = "rm-uf6mysqldr000014"
MSSQL_SHANGHAI = "rm-uf6mssqlsh000015"
MSSQL_READONLY = "rm-bp1mssqlro000016"

INSTANCE_ROLES: dict[str, str] = {
    MYSQL_PROD: "MySQL 8.0 HA on local_ssd, env=prod team=payments; clone source, cross-region "
    "backups (one failed, one logical), has a read-only child, one failed backup",
    MYSQL_DEV: "MySQL 8.0 HA on cloud_essd, env=dev; snapshot backups, no cross-region backup",
    PG_STAGING: "PostgreSQL 15 HA on cloud_essd2, env=staging; CannotDecreaseEssdPerfLevel, "
    "cross-region backups without cross-region log backup; a long history: 180-day retention, "
    f"{6 + 130} backup sets (more than a page of 100) and cross-region sets up to two years old",
    MSSQL_PROD: "SQL Server 2019 HA, env=prod; copy source (TDE db, cold-storage db, SIMPLE "
    "recovery db, 250 GB warehouse db), cross-region backups",
    MSSQL_QA: "SQL Server 2019 HA, env=qa; copy target (already holds 'erp', at most 4 databases, 200 GB)",
    MSSQL_BASIC: "SQL Server 2019 Basic with snapshot backup, env=dev",
    MSSQL_ALWAYSON: "SQL Server 2019 AlwaysOn (Cluster Edition), env=prod; has a read-only child",
    MSSQL_2016: "SQL Server 2016 HA on local_ssd, env=legacy; older version target",
    MARIADB_WEB: "MariaDB 10.3 HA on cloud_ssd, env=dev",
    MYSQL_READONLY: "MySQL 8.0 read-only instance of " + MYSQL_PROD,
    MYSQL_LOCKED: "MySQL 5.7, locked (LockByExpiration)",
    MYSQL_CLASSIC: "MySQL 5.6 on the classic network (StopService.Clone)",
    MYSQL_STOPPED: "MySQL 8.0 Basic, status Stopped (state errors)",
    MYSQL_DR_SHANGHAI: "MySQL 8.0 HA in cn-shanghai; cross-region restore target",
    MSSQL_SHANGHAI: "SQL Server 2019 HA in cn-shanghai; InvalidInstancesRegion.Malformed, restore target",
    MSSQL_READONLY: "SQL Server 2019 read-only instance of " + MSSQL_ALWAYSON,
}

OFFLINE_CLASSES = {"mysql.n1.micro.1", "rds.mysql.t1.small"}
HOST_GROUP = "dhg-bp1payments0001"  # a dedicated host group in Hangzhou (DedicatedHostGroupId)
ZONE_WITHOUT_STOCK = "cn-hangzhou-k"

_CLOUD = ("cloud_ssd", "cloud_essd", "cloud_essd2", "cloud_essd3", "general_essd")
_LOCAL = ("local_ssd",)


def _classes() -> list[InstanceClass]:
    return [
        InstanceClass("rds.mysql.s3.large", MYSQL, _LOCAL, 4, 8192, 5000, 5000),
        InstanceClass("rds.mysql.m1.medium", MYSQL, _LOCAL, 4, 16384, 7000, 7000),
        InstanceClass("rds.mysql.t1.small", MYSQL, _LOCAL, 1, 1024, 300, 600),
        InstanceClass("mysql.n2.medium.2c", MYSQL, _CLOUD, 2, 4096, 2000, 10000),
        InstanceClass("mysql.n4.large.2c", MYSQL, _CLOUD, 4, 16384, 6000, 20000),
        InstanceClass("mysql.n1.micro.1", MYSQL, _CLOUD, 1, 1024, 2000, 10000),
        InstanceClass("pg.x4.large.2c", POSTGRESQL, _CLOUD, 4, 16384, 3200, 20000),
        InstanceClass("pg.n2.2c.2m", POSTGRESQL, _CLOUD, 2, 4096, 400, 10000),
        InstanceClass("mssql.x4.medium.s2", SQLSERVER, _CLOUD, 4, 16384, 3000, 15000),
        InstanceClass("mssql.x2.medium.w1", SQLSERVER, _CLOUD, 2, 4096, 1000, 8000),
        InstanceClass("mssql.x8.large.e2", SQLSERVER, _CLOUD, 8, 32768, 6000, 30000),
        InstanceClass("rds.mssql.s2.large", SQLSERVER, _LOCAL, 2, 4096, 2000, 3000),
        InstanceClass("mariadb.x4.large.2c", MARIADB, _CLOUD, 4, 8192, 4000, 10000),
    ]


def _regions() -> list[Region]:
    return [
        Region(HANGZHOU, ("cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j", ZONE_WITHOUT_STOCK),
               host_groups=(HOST_GROUP,)),
        Region(SHANGHAI, ("cn-shanghai-e", "cn-shanghai-f", "cn-shanghai-g"), id_prefix="rm-uf6"),
        Region(HEYUAN, ("cn-heyuan-a", "cn-heyuan-b"), cross_backup_supported=False, id_prefix="rm-f8z"),
    ]


def _vswitches() -> list[VSwitch]:
    return [
        VSwitch("vsw-bp1prodh0000001", "vpc-bp1prod000000001", HANGZHOU, "cn-hangzhou-h", "172.16.0.0/24"),
        VSwitch("vsw-bp1prodi0000001", "vpc-bp1prod000000001", HANGZHOU, "cn-hangzhou-i", "172.16.1.0/24"),
        VSwitch("vsw-bp1devj00000001", "vpc-bp1dev0000000001", HANGZHOU, "cn-hangzhou-j", "172.17.0.0/24"),
        VSwitch("vsw-bp1fullh0000001", "vpc-bp1prod000000001", HANGZHOU, "cn-hangzhou-h", "172.16.9.0/29", 1),
        VSwitch("vsw-bp1nostockk0001", "vpc-bp1prod000000001", HANGZHOU, ZONE_WITHOUT_STOCK, "172.16.4.0/24"),
        VSwitch("vsw-uf6drf000000001", "vpc-uf6dr00000000001", SHANGHAI, "cn-shanghai-f", "10.10.0.0/24"),
    ]


_PROD_H = ("vpc-bp1prod000000001", "vsw-bp1prodh0000001")
_PROD_I = ("vpc-bp1prod000000001", "vsw-bp1prodi0000001")
_DEV_J = ("vpc-bp1dev0000000001", "vsw-bp1devj00000001")
_DR_F = ("vpc-uf6dr00000000001", "vsw-uf6drf000000001")


def _instance(
    instance_id: str,
    engine: str,
    version: str,
    category: str,
    db_class: str,
    storage_gb: int,
    storage_type: str,
    description: str,
    tags: dict[str, str],
    *,
    now: datetime,
    zone: str = "cn-hangzhou-h",
    network: tuple[str, str] | None = _PROD_H,
    ip: str = "",
    **extra: object,
) -> Instance:
    region = zone.rsplit("-", 1)[0]
    vpc, vswitch = network or ("", "")
    return Instance(
        id=instance_id,
        region=region,
        zone=zone,
        engine=engine,
        engine_version=version,
        category=category,
        db_class=db_class,
        storage_gb=storage_gb,
        storage_type=storage_type,
        description=description,
        created_at=now - timedelta(days=400),
        network_type="VPC" if network else "Classic",
        vpc_id=vpc,
        vswitch_id=vswitch,
        private_ip=ip,
        tags=tags,
        **extra,  # type: ignore[arg-type]  # the remaining Instance fields, by name
    )


def _instances(now: datetime) -> list[Instance]:
    i = _instance
    return [
        i(MYSQL_PROD, MYSQL, "8.0", "HighAvailability", "rds.mysql.m1.medium", 500, "local_ssd",
          "payments-prod", {"env": "prod", "team": "payments"}, now=now, ip="172.16.0.11",
          slave_zones=("cn-hangzhou-i",), pay_type="Prepaid", cross_region_log_backup=True,
          deletion_protection=True, expire_time=now + timedelta(days=200)),
        i(MYSQL_DEV, MYSQL, "8.0", "HighAvailability", "mysql.n2.medium.2c", 100, "cloud_essd",
          "payments-dev", {"env": "dev", "team": "payments"}, now=now, zone="cn-hangzhou-j",
          network=_DEV_J, ip="172.17.0.12", slave_zones=("cn-hangzhou-j",)),
        i(PG_STAGING, POSTGRESQL, "15.0", "HighAvailability", "pg.x4.large.2c", 200, "cloud_essd2",
          "analytics-staging", {"env": "staging", "team": "analytics"}, now=now, ip="172.16.0.13",
          slave_zones=("cn-hangzhou-i",), backup_retention_days=180),
        i(MSSQL_PROD, SQLSERVER, "2019_std_ha", "HighAvailability", "mssql.x4.medium.s2", 500,
          "cloud_essd", "erp-prod", {"env": "prod", "team": "erp"}, now=now, ip="172.16.0.14",
          slave_zones=("cn-hangzhou-i",), cross_region_log_backup=True),
        i(MSSQL_QA, SQLSERVER, "2019_std_ha", "HighAvailability", "mssql.x4.medium.s2", 200,
          "cloud_essd", "erp-qa", {"env": "qa", "team": "erp"}, now=now, ip="172.16.0.15",
          slave_zones=("cn-hangzhou-h",), max_databases=4),
        i(MSSQL_BASIC, SQLSERVER, "2019_web", "Basic", "mssql.x2.medium.w1", 100, "cloud_essd",
          "erp-dev-basic", {"env": "dev", "team": "erp"}, now=now, zone="cn-hangzhou-i",
          network=_PROD_I, ip="172.16.1.16", snapshot_backup=True),
        i(MSSQL_ALWAYSON, SQLSERVER, "2019_ent", "AlwaysOn", "mssql.x8.large.e2", 1000, "cloud_essd",
          "bi-alwayson", {"env": "prod", "team": "bi"}, now=now, ip="172.16.0.17",
          slave_zones=("cn-hangzhou-i",)),
        i(MSSQL_2016, SQLSERVER, "2016_std_ha", "HighAvailability", "rds.mssql.s2.large", 250,
          "local_ssd", "legacy-erp-2016", {"env": "legacy", "team": "erp"}, now=now, ip="172.16.0.18"),
        i(MARIADB_WEB, MARIADB, "10.3", "HighAvailability", "mariadb.x4.large.2c", 100, "cloud_ssd",
          "web-mariadb", {"env": "dev", "team": "web"}, now=now, zone="cn-hangzhou-j", network=_DEV_J,
          ip="172.17.0.19"),
        i(MYSQL_READONLY, MYSQL, "8.0", "Basic", "rds.mysql.m1.medium", 500, "local_ssd",
          "payments-prod-ro", {"env": "prod", "team": "payments"}, now=now, zone="cn-hangzhou-i",
          network=_PROD_I, ip="172.16.1.20", instance_type="Readonly", master_id=MYSQL_PROD),
        i(MYSQL_LOCKED, MYSQL, "5.7", "HighAvailability", "rds.mysql.s3.large", 100, "local_ssd",
          "crm-expired", {"env": "prod", "team": "crm"}, now=now, ip="172.16.0.21", pay_type="Prepaid",
          lock_mode="LockByExpiration", lock_reason="instance_expired", expire_time=now - timedelta(days=3)),
        i(MYSQL_CLASSIC, MYSQL, "5.6", "HighAvailability", "rds.mysql.s3.large", 50, "local_ssd",
          "crm-classic", {"env": "legacy", "team": "crm"}, now=now, network=None),
        i(MYSQL_STOPPED, MYSQL, "8.0", "Basic", "mysql.n2.medium.2c", 50, "cloud_essd",
          "ml-sandbox-stopped", {"env": "dev", "team": "ml"}, now=now, zone="cn-hangzhou-j",
          network=_DEV_J, ip="172.17.0.23", status="Stopped"),
        i(MYSQL_DR_SHANGHAI, MYSQL, "8.0", "HighAvailability", "rds.mysql.m1.medium", 500, "local_ssd",
          "payments-dr", {"env": "dr", "team": "payments"}, now=now, zone="cn-shanghai-f", network=_DR_F,
          ip="10.10.0.24"),
        i(MSSQL_SHANGHAI, SQLSERVER, "2019_std_ha", "HighAvailability", "mssql.x4.medium.s2", 500,
          "cloud_essd", "erp-dr", {"env": "dr", "team": "erp"}, now=now, zone="cn-shanghai-f",
          network=_DR_F, ip="10.10.0.25"),
        i(MSSQL_READONLY, SQLSERVER, "2019_ent", "AlwaysOn", "mssql.x8.large.e2", 1000, "cloud_essd",
          "bi-alwayson-ro", {"env": "prod", "team": "bi"}, now=now, zone="cn-hangzhou-i", network=_PROD_I,
          ip="172.16.1.26", instance_type="Readonly", master_id=MSSQL_ALWAYSON),
    ]


def _databases(now: datetime) -> list[Database]:
    old = now - timedelta(days=300)
    spec: list[tuple[str, str, float, dict[str, object]]] = [
        (MYSQL_PROD, "payments", 80, {}),
        (MYSQL_PROD, "ledger", 300, {"description": "double-entry ledger"}),
        (MYSQL_PROD, "audit", 5, {}),
        (MYSQL_READONLY, "payments", 80, {}),
        (MYSQL_READONLY, "ledger", 300, {}),
        (MYSQL_READONLY, "audit", 5, {}),
        (MYSQL_DEV, "payments_dev", 10, {}),
        (MYSQL_DEV, "scratch", 1, {}),
        (PG_STAGING, "analytics", 60, {"charset": "UTF8"}),
        (PG_STAGING, "reporting", 20, {"charset": "UTF8"}),
        (MSSQL_PROD, "erp", 60, {"charset": "Chinese_PRC_CI_AS"}),
        (MSSQL_PROD, "hr", 10, {"charset": "Chinese_PRC_CI_AS"}),
        (MSSQL_PROD, "finance_tde", 5, {"charset": "Chinese_PRC_CI_AS", "tde": True}),
        (MSSQL_PROD, "archive2019", 20, {"charset": "Chinese_PRC_CI_AS", "cold_storage_since": now - timedelta(30)}),
        (MSSQL_PROD, "warehouse", 250, {"charset": "Chinese_PRC_CI_AS"}),
        (MSSQL_PROD, "reporting_simple", 2, {"charset": "Chinese_PRC_CI_AS", "recovery_model": "SIMPLE"}),
        (MSSQL_QA, "erp", 30, {"charset": "Chinese_PRC_CI_AS"}),
        (MSSQL_QA, "qa_seed", 5, {"charset": "Chinese_PRC_CI_AS"}),
        (MSSQL_BASIC, "erp_dev", 5, {"charset": "Chinese_PRC_CI_AS"}),
        (MSSQL_BASIC, "erp_dev_logs", 2, {"charset": "Chinese_PRC_CI_AS"}),
        (MSSQL_ALWAYSON, "bi", 300, {"charset": "Chinese_PRC_CI_AS"}),
        (MSSQL_READONLY, "bi", 300, {"charset": "Chinese_PRC_CI_AS"}),
        (MSSQL_2016, "legacy", 40, {"charset": "Chinese_PRC_CI_AS"}),
        (MSSQL_SHANGHAI, "dr_probe", 1, {"charset": "Chinese_PRC_CI_AS"}),
        (MARIADB_WEB, "wordpress", 3, {}),
        (MYSQL_LOCKED, "crm", 20, {}),
        (MYSQL_CLASSIC, "crm_old", 10, {}),
        (MYSQL_STOPPED, "features", 5, {}),
        (MYSQL_DR_SHANGHAI, "dr_probe", 1, {}),
    ]
    return [Database(instance_id=iid, name=name, created_at=old, size_gb=size, **kw)  # type: ignore[arg-type]
            for iid, name, size, kw in spec]


def _backup_method(instance: Instance) -> str:
    if instance.engine == MARIADB or instance.snapshot_backup:
        return "Snapshot"
    if instance.storage_type == "local_ssd" or instance.engine == SQLSERVER:
        return "Physical"
    return "Snapshot"


def _backups(now: datetime, instances: list[Instance], databases: list[Database]) -> list[Backup]:
    """Six daily automated backups per primary instance (18:00 UTC), one failed on prod MySQL."""
    backups = []
    next_id = 321000001
    today = now.replace(hour=18, minute=0, second=0, microsecond=0)
    for instance in instances:
        if instance.instance_type != "Primary":
            continue  # read-only instances keep no backups of their own
        names = tuple(db.name for db in databases if db.instance_id == instance.id)
        used = int(sum(db.size_gb for db in databases if db.instance_id == instance.id) * 1024**3 * 0.3)
        for days_ago in range(6, 0, -1):
            start = today - timedelta(days=days_ago)
            failed = instance.id == MYSQL_PROD and days_ago == 3
            backups.append(Backup(
                id=str(next_id), instance_id=instance.id, start=start,
                end=start + timedelta(minutes=14), status="Failed" if failed else "Success",
                method=_backup_method(instance), size_bytes=0 if failed else used + days_ago * 7919,
                databases=names,
            ))
            next_id += 1
    return backups


def _cross_region_backups(now: datetime, backups: list[Backup]) -> list[CrossRegionBackup]:
    """Copies of recent backups in cn-shanghai for the instances that have cross-region backup."""
    result = []
    next_id = 1249001
    plan = {MYSQL_PROD: 4, MSSQL_PROD: 3, PG_STAGING: 2}
    for instance_id, count in plan.items():
        sets = [b for b in backups if b.instance_id == instance_id and b.status == "Success"][-count:]
        for n, backup in enumerate(sets):
            failed = n == 0 and instance_id in (MYSQL_PROD, MSSQL_PROD)
            logical = instance_id == MYSQL_PROD and n == 1
            result.append(CrossRegionBackup(
                id=next_id, instance_id=instance_id, cross_backup_region=SHANGHAI,
                restore_regions=(SHANGHAI, HANGZHOU), start=backup.end + timedelta(minutes=5),
                end=backup.end + timedelta(minutes=25), consistent=backup.end, backup_id=int(backup.id),
                databases=backup.databases, method="L" if logical else "P", status=1 if failed else 0,
                size_bytes=0 if failed else backup.size_bytes, node_id=8161000 + n,
            ))
            next_id += 1
    return result


def _history(now: datetime, databases: list[Database]) -> tuple[list[Backup], list[CrossRegionBackup]]:
    """PG_STAGING's older sets: 130 daily backup sets before the six recent ones (weekly full, daily
    incremental), so its sets fill more than one page of 100; and cross-region sets from 45 days to
    two years back, one of them beyond the 730 days a listing may span. IDs of their own, so the
    recent sets keep theirs."""
    names = tuple(db.name for db in databases if db.instance_id == PG_STAGING)
    today = now.replace(hour=18, minute=0, second=0, microsecond=0)
    backups = [
        Backup(id=str(320000000 + n), instance_id=PG_STAGING, start=today - timedelta(days=6 + n),
               end=today - timedelta(days=6 + n) + timedelta(minutes=9), method="Snapshot",
               backup_type="FullBackup" if n % 7 == 0 else "IncrementalBackup", size_bytes=5_000_000_000 + n,
               databases=names)
        for n in range(1, 131)
    ]
    cross = [
        CrossRegionBackup(id=1248000 + n, instance_id=PG_STAGING, cross_backup_region=SHANGHAI,
                          restore_regions=(SHANGHAI, HANGZHOU), start=now - timedelta(days=days),
                          end=now - timedelta(days=days) + timedelta(minutes=20),
                          consistent=now - timedelta(days=days), backup_id=319000000 + n, databases=names,
                          size_bytes=4_000_000_000, node_id=8161100)
        for n, days in enumerate((45, 120, 400, 700, 760), 1)
    ]
    return backups, cross


def default_seed(now: datetime | None = None) -> Seed:
    """The estate described in this module, with times relative to ``now`` (default: now)."""
    now = now or datetime.now(UTC)
    instances = _instances(now)
    databases = _databases(now)
    backups = _backups(now, instances, databases)
    old_backups, old_cross = _history(now, databases)
    return Seed(
        regions=_regions(),
        vswitches=_vswitches(),
        classes=_classes(),
        instances=instances,
        databases=databases,
        backups=old_backups + backups,
        cross_region_backups=_cross_region_backups(now, backups) + old_cross,
        offline_classes=set(OFFLINE_CLASSES),
        zones_without_stock={ZONE_WITHOUT_STOCK},
    )


OTHER_ACCOUNT_MYSQL = "rm-bp1otheracct0017"


def with_other_account(seed: Seed, account: str) -> Seed:
    """``seed`` plus one instance in ``account`` (a twin of MYSQL_DEV, with its databases and backups): only
    a caller acting in that account sees it (RdsEmulator's ``accounts``), and it sees none of the others."""
    model = next(i for i in seed.instances if i.id == MYSQL_DEV)
    twin = replace(model, id=OTHER_ACCOUNT_MYSQL, description="other-account-dev", account=account,
                   tags={"env": "dev", "team": "other"})
    databases = [replace(d, instance_id=twin.id) for d in seed.databases if d.instance_id == MYSQL_DEV]
    backups = [replace(b, id=f"9{b.id}", instance_id=twin.id) for b in seed.backups if b.instance_id == MYSQL_DEV]
    return replace(seed, instances=[*seed.instances, twin], databases=[*seed.databases, *databases],
                   backups=[*seed.backups, *backups])
