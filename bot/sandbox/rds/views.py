"""Records rendered as the API's JSON objects, with the SDK models' field names and types.

Types follow ``alibabacloud_rds20140815`` 16.x response models: for instance
``DBInstanceMemory`` is an integer but ``DBInstanceCPU`` a string,
``DBInstanceDiskUsed`` a string of bytes, ``ConsistentTime`` of a backup an integer
(Unix seconds). One function per object, shared by every operation that returns it.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

from bot.sandbox.rds.model import MARIADB, MYSQL, POSTGRESQL, SQLSERVER, Backup, Database, Instance
from bot.sandbox.rds.params import format_time
from bot.sandbox.rds.state import State

_DOMAIN = {MYSQL: "mysql", POSTGRESQL: "pg", SQLSERVER: "sqlserver", MARIADB: "mariadb"}
_PORT = {MYSQL: "3306", POSTGRESQL: "5432", SQLSERVER: "1433", MARIADB: "3306"}


def _read_only_ids(state: State, instance: Instance, children: Mapping[str, list[str]] | None) -> dict[str, Any]:
    ids = children.get(instance.id, []) if children is not None else [c.id for c in state.read_only_children(instance.id)]
    return {"ReadOnlyDBInstanceId": [{"DBInstanceId": child} for child in ids]}


def read_only_map(state: State) -> dict[str, list[str]]:
    """Every primary's read-only instances, found in one pass (for a listing of many)."""
    children: dict[str, list[str]] = {}
    for instance in state.instances.values():
        if instance.master_id:
            children.setdefault(instance.master_id, []).append(instance.id)
    return children


def instance_summary(state: State, instance: Instance, children: Mapping[str, list[str]] | None = None) -> dict[str, Any]:
    """One ``Items.DBInstance[]`` entry of DescribeDBInstances (``children``: :func:`read_only_map`, when
    many are listed)."""
    cls = state.classes.get(instance.db_class)
    return {
        "DBInstanceId": instance.id,
        "DBInstanceDescription": instance.description,
        "Engine": instance.engine,
        "EngineVersion": instance.engine_version,
        "DBInstanceStatus": instance.status,
        "DBInstanceClass": instance.db_class,
        "DBInstanceCPU": str(cls.cpu) if cls else "",
        "DBInstanceMemory": cls.memory_mb if cls else 0,
        "Category": instance.category,
        "DBInstanceStorageType": instance.storage_type,
        "ZoneId": instance.zone,
        "RegionId": instance.region,
        "InstanceNetworkType": instance.network_type,
        "DBInstanceNetType": "Intranet",
        "VpcId": instance.vpc_id,
        "VSwitchId": instance.vswitch_id,
        "VpcCloudInstanceId": f"{instance.id}-vpc" if instance.vpc_id else "",
        "PayType": instance.pay_type,
        "LockMode": instance.lock_mode,
        "LockReason": instance.lock_reason,
        "DBInstanceType": instance.instance_type,
        "MasterInstanceId": instance.master_id,
        "ReadOnlyDBInstanceIds": _read_only_ids(state, instance, children),
        "CreateTime": format_time(instance.created_at),
        "ExpireTime": format_time(instance.expire_time) if instance.expire_time else "",
        "ConnectionMode": "Standard",
        "ConnectionString": f"{instance.id}.{_DOMAIN.get(instance.engine, 'rds')}.rds.aliyuncs.com",
        "MutriORsignle": any(zone != instance.zone for zone in instance.slave_zones),
        "ResourceGroupId": instance.resource_group_id,
        "DeletionProtection": instance.deletion_protection,
        "GuardDBInstanceId": "",
        "TempDBInstanceId": "",
    }


def instance_attribute(state: State, instance: Instance) -> dict[str, Any]:
    """One ``Items.DBInstanceAttribute[]`` entry of DescribeDBInstanceAttribute."""
    cls = state.classes.get(instance.db_class)
    summary = instance_summary(state, instance)
    for only_in_list in ("CreateTime", "MutriORsignle"):
        summary.pop(only_in_list)
    summary.update(
        {
            "CreationTime": format_time(instance.created_at),
            "DBInstanceStorage": instance.storage_gb,
            "DBInstanceDiskUsed": str(int(state.used_storage_gb(instance.id) * 1024**3)),
            "DBInstanceClassType": "x",
            "DBMaxQuantity": instance.max_databases,
            "AccountMaxQuantity": 500,
            "MaxConnections": cls.max_connections if cls else 0,
            "MaxIOPS": cls.max_iops if cls else 0,
            "MaxIOMBPS": 0,
            "Port": _PORT.get(instance.engine, "3306"),
            "MasterZone": instance.zone,
            "SlaveZones": {"SlaveZone": [{"ZoneId": zone} for zone in instance.slave_zones]},
            "SecurityIPList": "127.0.0.1",
            "SecurityIPMode": "normal",
            "IPType": "IPv4",
            "MaintainTime": "18:00Z-22:00Z",
            "AutoUpgradeMinorVersion": "Auto",
            "Collation": "Chinese_PRC_CI_AS" if instance.engine == SQLSERVER else "",
            "TimeZone": "China Standard Time" if instance.engine == SQLSERVER else "",
            "Extra": {"DBInstanceIds": {"DBInstanceId": [instance.id]}, "RecoveryModel": ""},
            "SupportCompression": False,
        }
    )
    return summary


def backup_view(backup: Backup, instance: Instance) -> dict[str, Any]:
    """One ``Items.Backup[]`` entry of DescribeBackups."""
    view: dict[str, Any] = {
        "BackupId": backup.id,
        "DBInstanceId": backup.instance_id,
        "BackupStatus": backup.status,
        "BackupStartTime": format_time(backup.start),
        "BackupEndTime": format_time(backup.end),
        "BackupMethod": backup.method,
        "BackupType": backup.backup_type,
        "BackupMode": backup.mode,
        "BackupInitiator": "User" if backup.mode == "Manual" else "System",
        "BackupSize": backup.size_bytes,
        "ConsistentTime": int(backup.consistent_time.timestamp()),
        "Engine": instance.engine,
        "EngineVersion": instance.engine_version,
        "HostInstanceID": str(zlib.crc32(instance.id.encode()) % 10_000_000),
        "IsAvail": 1 if backup.status == "Success" else 0,
        "StoreStatus": "Disabled",
        "Encryption": "{}",
        "BackupDownloadURL": "",
        "BackupIntranetDownloadURL": "",
    }
    if instance.engine == SQLSERVER:
        # SQL Server sets are per database; the service lists one link per database.
        view["BackupDownloadLinkByDB"] = {
            "BackupDownloadLinkByDB": [
                {"DataBase": name, "DownloadLink": "", "IntranetDownloadLink": ""} for name in backup.databases
            ]
        }
    return view


def database_view(database: Database, instance: Instance) -> dict[str, Any]:
    """One ``Databases.Database[]`` entry of DescribeDatabases."""
    is_pg = instance.engine == POSTGRESQL
    return {
        "DBName": database.name,
        "DBInstanceId": instance.id,
        "DBStatus": database.status,
        "Engine": instance.engine,
        "CharacterSetName": database.charset,
        "DBDescription": database.description,
        "Accounts": {"AccountPrivilegeInfo": []},
        "Collate": "C" if is_pg else "",
        "Ctype": "en_US.utf8" if is_pg else "",
        "ConnLimit": "-1" if is_pg else "",
        "Tablespace": "pg_default" if is_pg else "",
    }
