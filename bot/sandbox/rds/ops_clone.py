"""CloneDBInstance: restore a backup set or a point in time into a NEW instance (seed 001).

Checks, in the order the emulator applies them (each raises the page's code):

1. source: unknown -> ``InvalidDBInstance.NotFound`` (404); classic network ->
   ``StopService.Clone``; not Running -> ``InvalideStatus.Format``;
2. restore point: neither BackupId nor RestoreTime -> ``RequiredParam.NotFound``, both
   -> ``Parameters.Invalid``; a BackupId that is unknown, of another instance or
   failed, or not of the BackupType asked for (FullBackup|IncrementalBackup, else
   ``InvalidParameter``) -> ``InvalidBakset.Invalid``; a RestoreTime malformed, in the future,
   outside the retention window or before the first kept backup ->
   ``InvalidRestoreTime.Format``;
3. shape: local_ssd source to a cloud disk -> ``InvalidRecoveryDbInstance.StorageType``;
   a lower ESSD level -> ``CannotDecreaseEssdPerfLevel``; serverless on a disk other than
   cloud_essd/general_essd, or a class without the disk -> ``InvalidInstanceLevel.DiskType``;
   unknown class -> ``InvalidDBInstanceClass.NotFound``, offline ->
   ``InvalidDBInstanceClass.Offline``, another engine's -> ``IncorrectTargetClasscode``;
   storage below the source's -> ``InvalidRecoveryDbInstance.StorageSize``;
4. description rules -> ``InvalidDBInstanceDescription.Format``;
5. zones: bad or foreign zone -> ``InvalidAvZone.Format``; secondary zones on Basic, or a
   logger zone outside Finance/cluster -> ``ZoneId.NotMatchWithCategory``; a zone without
   stock -> ``OperationDenied.ZoneResource`` (403);
6. network: Classic -> ``StopService.Clone``; VPC without VSwitchId, a vSwitch outside the
   zone/VPC/region, or one vSwitch for a multi-zone clone -> ``InvalidVswitchId`` (403);
   too few free IPs -> ``AtLeastTwoVSwitchAvailableIp`` (Basic) /
   ``AtLeastThreeVSwitchAvailableIp``; PrivateIpAddress in use ->
   ``InvalidIPAddress.Conflict``, outside the vSwitch -> ``InvalidVpcParameter``;
7. Prepaid: missing/invalid Period or UsedTime < 1 -> ``Order.PeriodInvalid``; UsedTime above
   3 years / 9 months -> ``InvalidParam.UsedTime``;
8. databases: a DbNames or TableMeta database missing from the backup set ->
   ``InvalidBackupSet``; RestoreTable=1 without TableMeta -> ``RequiredParam.NotFound``;
   table restore needing more than half the disk -> ``DiskSize.NotEnough``;
9. placement and billing: a DedicatedHostGroupId the source's region does not have ->
   ``HostInfo.NotFound`` (404); AutoPay or DeletionProtection not a boolean -> ``InvalidParameter``.
   AutoPay only matters for Prepaid (the page); the emulator records it on the clone
   (``Instance.auto_pay``) but does not model an unpaid order: the clone is created either way.

When VSwitchId is omitted and InstanceNetworkType is not given, the clone reuses the
source's VPC and vSwitch if it stays in the source's zone (the page only requires
VSwitchId "when InstanceNetworkType is VPC").
"""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from typing import Any

from bot.sandbox.rds.errors import INSTANCE_NOT_FOUND, ApiError, invalid
from bot.sandbox.rds.jobs import Job
from bot.sandbox.rds.model import (
    CLOUD_STORAGE_TYPES,
    LOCAL_SSD,
    MARIADB,
    MYSQL,
    POSTGRESQL,
    SQLSERVER,
    STORAGE_TYPES,
    Instance,
    VSwitch,
)
from bot.sandbox.rds.params import Params, parse_time
from bot.sandbox.rds.state import State
from bot.sandbox.rds.table_meta import parse_table_meta

ACTION = "CloneDBInstance"

CATEGORIES = {
    MYSQL: ("Basic", "HighAvailability", "cluster", "Finance", "serverless_basic", "serverless_standard"),
    POSTGRESQL: ("Basic", "HighAvailability", "serverless_basic"),
    SQLSERVER: ("Basic", "HighAvailability", "AlwaysOn", "serverless_ha"),
    MARIADB: ("HighAvailability",),
}
SERVERLESS = {"serverless_basic", "serverless_standard", "serverless_ha"}
SINGLE_NODE = {"Basic", "serverless_basic"}
ESSD_LEVEL = {"cloud_essd": 1, "cloud_essd2": 2, "cloud_essd3": 3}
_ZONE = re.compile(r"^[a-z]+-[a-z0-9]+(-[a-z0-9]+)+$")
_DESCRIPTION = re.compile(r"^[A-Za-z\u4e00-\u9fff][A-Za-z0-9\u4e00-\u9fff_\-]{1,254}$")


def _restore_point(state: State, source: Instance, params: Params) -> tuple[str, ...]:
    """Check BackupId / RestoreTime; return the databases the chosen point holds."""
    backup_id, restore_time = params.get("BackupId"), params.get("RestoreTime")
    backup_type = params.choice("BackupType", ("FullBackup", "IncrementalBackup"))
    if backup_id and restore_time:
        raise ApiError("Parameters.Invalid")
    if backup_id:
        backup = state.backups.get(backup_id)
        if backup is None or backup.instance_id != source.id or backup.status != "Success":
            raise ApiError("InvalidBakset.Invalid")
        if backup_type is not None and backup.backup_type != backup_type:
            raise ApiError("InvalidBakset.Invalid")
        return backup.databases
    if not restore_time:
        raise ApiError("RequiredParam.NotFound")
    when = parse_time(restore_time, "InvalidRestoreTime.Format")
    if state.point_in_time_problem(source, when):
        raise ApiError("InvalidRestoreTime.Format")
    return state.databases_at(source.id, when)


def _storage_type(source: Instance, params: Params, category: str) -> str:
    storage_type = params.choice("DBInstanceStorageType", STORAGE_TYPES, source.storage_type)
    if category in SERVERLESS and storage_type not in ("cloud_essd", "general_essd"):
        raise ApiError("InvalidInstanceLevel.DiskType")
    if source.storage_type == LOCAL_SSD and storage_type in CLOUD_STORAGE_TYPES:
        raise ApiError("InvalidRecoveryDbInstance.StorageType")
    if ESSD_LEVEL.get(storage_type, 99) < ESSD_LEVEL.get(source.storage_type, 0):
        raise ApiError("CannotDecreaseEssdPerfLevel")
    return storage_type


def _instance_class(state: State, params: Params, source: Instance, storage_type: str) -> str:
    code = params.get("DBInstanceClass") or source.db_class
    cls = state.classes.get(code)
    if cls is None:
        if params.get("DBInstanceClass") is None:
            return code  # the source's own class, even when a hand-made seed has no catalogue entry
        raise ApiError("InvalidDBInstanceClass.NotFound")
    if code in state.offline_classes:
        raise ApiError("InvalidDBInstanceClass.Offline")
    if cls.engine != source.engine:
        raise ApiError("IncorrectTargetClasscode")
    if storage_type not in cls.storage_types:
        raise ApiError("InvalidInstanceLevel.DiskType")
    return code


def _storage_gb(params: Params, source: Instance) -> int:
    storage = params.integer("DBInstanceStorage", source.storage_gb)
    if storage <= 0 or storage % 5:
        raise invalid("DBInstanceStorage")
    if storage < source.storage_gb:
        raise ApiError("InvalidRecoveryDbInstance.StorageSize")
    return storage


def _description(params: Params) -> str:
    text = params.get("DBInstanceDescription")
    if text is None:
        return ""
    if text.startswith(("http://", "https://")) or not _DESCRIPTION.match(text):
        raise ApiError("InvalidDBInstanceDescription.Format")
    return text


def _zones(state: State, params: Params, source: Instance, category: str) -> tuple[str, tuple[str, ...]]:
    """The primary zone and the secondary (and logger) zones of the clone."""
    zone = params.get("ZoneId") or source.zone
    slave1, slave2 = params.get("ZoneIdSlave1"), params.get("ZoneIdSlave2")
    region_zones = state.regions[source.region].zones if source.region in state.regions else ()
    for value in (zone, slave1, slave2):
        if value is not None and (not _ZONE.match(value) or value not in region_zones):
            raise ApiError("InvalidAvZone.Format")
    if category in SINGLE_NODE and (slave1 or slave2):
        raise ApiError("ZoneId.NotMatchWithCategory")
    if slave2 and category not in ("Finance", "cluster"):
        raise ApiError("ZoneId.NotMatchWithCategory")
    if any(value in state.zones_without_stock for value in (zone, slave1, slave2)):
        raise ApiError("OperationDenied.ZoneResource")
    if category in SINGLE_NODE:
        return zone, ()
    slaves = tuple(z for z in (slave1, slave2) if z) or (source.slave_zones if zone == source.zone else (zone,))
    return zone, slaves


def _vswitches(state: State, params: Params, source: Instance, zone: str, slaves: tuple[str, ...]) -> list[VSwitch]:
    """Resolve VPCId/VSwitchId; the first vSwitch is the primary's."""
    if params.choice("InstanceNetworkType", ("VPC", "Classic"), source.network_type) == "Classic":
        raise ApiError("StopService.Clone")
    raw, vpc_id = params.get("VSwitchId"), params.get("VPCId")
    if raw is None:
        if params.get("InstanceNetworkType") or vpc_id or zone != source.zone:
            raise ApiError("InvalidVswitchId")
        ids = [source.vswitch_id.split(",")[0]]
    else:
        ids = [part.strip() for part in raw.split(",")]
        # Two vSwitches are required only when ZoneIdSlave1 is given and differs from ZoneId.
        multi_zone = params.get("ZoneIdSlave1") not in (None, zone)
        if len(ids) > 1 + len(slaves) or (multi_zone and len(ids) != 2):
            raise ApiError("InvalidVswitchId")
    zones = [zone, *slaves]
    found = []
    for vswitch_id, expected_zone in zip(ids, zones[: len(ids)], strict=True):
        vswitch = state.vswitches.get(vswitch_id)
        if (
            vswitch is None
            or vswitch.zone != expected_zone
            or vswitch.region != source.region
            or (vpc_id is not None and vswitch.vpc_id != vpc_id)
        ):
            raise ApiError("InvalidVswitchId")
        found.append(vswitch)
    return found


def _private_ip(state: State, params: Params, vswitch: VSwitch, category: str) -> str:
    # A single node needs its own address and the connection's; HA adds the secondary's.
    needed = 2 if category in SINGLE_NODE else 3
    shortage = ApiError("AtLeastTwoVSwitchAvailableIp" if needed == 2 else "AtLeastThreeVSwitchAvailableIp")
    if vswitch.free_ips < needed:
        raise shortage
    network = ipaddress.ip_network(vswitch.cidr)
    taken = {i.private_ip for i in state.instances.values()}
    wanted = params.get("PrivateIpAddress")
    if wanted is not None:
        try:
            inside = ipaddress.ip_address(wanted) in network
        except ValueError:
            inside = False
        if not inside:
            raise ApiError("InvalidVpcParameter")
        if wanted in taken:
            raise ApiError("InvalidIPAddress.Conflict")
        return wanted
    free = (str(ip) for ip in network.hosts() if str(ip) not in taken)
    address = next(free, None)
    if address is None:
        raise shortage
    return address


def _subscription(state: State, params: Params, pay_type: str) -> timedelta | None:
    """The Prepaid term, or None for pay-as-you-go."""
    if pay_type != "Prepaid":
        return None
    period = params.get("Period")
    used = params.integer("UsedTime", error=lambda _name: ApiError("Order.PeriodInvalid"))
    if period not in ("Year", "Month") or used is None or used < 1:
        raise ApiError("Order.PeriodInvalid")
    months_per_unit, limit = (12, 3) if period == "Year" else (1, 9)
    if used > limit:
        latest = state.now() + timedelta(days=30 * months_per_unit * limit)
        raise ApiError("InvalidParam.UsedTime", latest.strftime("%Y-%m-%d"))
    return timedelta(days=30 * months_per_unit * used)


def _databases(
    state: State, params: Params, source: Instance, available: tuple[str, ...], storage: int
) -> dict[str, str]:
    """new database name -> source database name, for the clone."""
    names = params.csv("DbNames")
    if any(name not in available for name in names):
        raise ApiError("InvalidBackupSet")
    restore_table = params.choice("RestoreTable", ("0", "1"), "0")
    if restore_table == "1":
        meta = params.get("TableMeta")
        if meta is None:
            raise ApiError("RequiredParam.NotFound")
        entries = parse_table_meta(meta)
        if any(entry.name not in available for entry in entries):
            raise ApiError("InvalidBackupSet")
        sizes = {db.name: db.size_gb for db in state.databases_of(source.id)}
        # Restoring tables stages the databases next to the restored copy: it needs twice their size.
        if 2 * sum(sizes.get(entry.name, 0) for entry in entries) > storage:
            raise ApiError("DiskSize.NotEnough")
        return {entry.newname: entry.name for entry in entries}
    return {name: name for name in (names or available)}


def _host_group(state: State, params: Params, source: Instance) -> str:
    """The dedicated host group the clone goes to ("" for none)."""
    group = params.get("DedicatedHostGroupId")
    region = state.regions.get(source.region)
    if group is not None and (region is None or group not in region.host_groups):
        raise ApiError("HostInfo.NotFound")
    return group or ""


def clone_db_instance(state: State, params: Params) -> dict[str, Any]:
    source = state.find_instance(params.require("DBInstanceId"), INSTANCE_NOT_FOUND, region=params.get("RegionId"))
    pay_type = params.require("PayType")
    if pay_type not in ("Postpaid", "Prepaid", "Serverless") or (pay_type == "Serverless" and source.engine == MARIADB):
        raise invalid("PayType")
    if source.network_type == "Classic":
        raise ApiError("StopService.Clone")
    if source.status != "Running":
        raise ApiError("InvalideStatus.Format")
    available = _restore_point(state, source, params)
    category = params.choice("Category", CATEGORIES.get(source.engine, ()), source.category)
    storage_type = _storage_type(source, params, category)
    db_class = _instance_class(state, params, source, storage_type)
    storage = _storage_gb(params, source)
    description = _description(params)
    zone, slaves = _zones(state, params, source, category)
    vswitches = _vswitches(state, params, source, zone, slaves)
    private_ip = _private_ip(state, params, vswitches[0], category)
    term = _subscription(state, params, pay_type)
    databases = _databases(state, params, source, available, storage)
    host_group = _host_group(state, params, source)
    auto_pay = params.boolean("AutoPay", True)
    deletion_protection = params.boolean("DeletionProtection", False)
    now = state.now()
    clone = Instance(
        id=state.new_instance_id(source.region),
        region=source.region,
        zone=zone,
        engine=source.engine,
        engine_version=source.engine_version,
        category=category,
        db_class=db_class,
        storage_gb=storage,
        storage_type=storage_type,
        description=description,
        created_at=now,
        status="Creating",
        vpc_id=vswitches[0].vpc_id,
        vswitch_id=",".join(v.id for v in vswitches),
        private_ip=private_ip,
        slave_zones=slaves,
        pay_type=pay_type,
        tags={t["Key"]: t.get("Value", "") for t in params.indexed("Tag") if "Key" in t},
        deletion_protection=deletion_protection,
        auto_pay=auto_pay or pay_type != "Prepaid",
        dedicated_host_group_id=host_group,
        backup_retention_days=source.backup_retention_days,
        max_databases=source.max_databases,
        expire_time=now + term if term else None,
        account=source.account,
    )
    state.instances[clone.id] = clone
    state.add_databases(clone, databases, source.id)
    state.start_job(ACTION, clone, state.timings.clone_s, lambda job: _finish(state, job), databases=tuple(databases))
    return {"DBInstanceId": clone.id, "OrderId": state.new_order_id()}


def _finish(state: State, job: Job) -> None:
    """Bring the clone up with its databases, or leave it failed (or gone) as planned."""
    clone = state.instances.get(job.instance_id)
    if clone is None:
        return
    final_status = "Running" if job.failure is None else job.failure.final_status
    if final_status is None:  # the order was rolled back: the instance never existed
        del state.instances[clone.id]
        state.databases.pop(clone.id, None)
        return
    state.settle_databases(clone.id, job.detail["databases"], not job.failed)
    clone.status = final_status


OPERATIONS = {ACTION: clone_db_instance}
