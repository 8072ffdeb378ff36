"""Typed, cached reads of the RDS estate: instances, their tags, backups, databases.

Pickers, validation and policy all ask the same questions about an instance
within seconds of each other; a short cache answers them with one API call.
Only Describe*/List* calls live here, so everything is safe to retry.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from bot.rds.errors import RdsError
from bot.rds.gateway import RdsGateway
from bot.timeutil import parse_api

T = TypeVar("T")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class InstanceInfo(BaseModel):
    """What the bot needs to know about one instance (DescribeDBInstanceAttribute)."""

    id: str
    description: str = ""
    engine: str = ""
    engine_version: str = ""
    status: str = ""
    instance_class: str = ""
    category: str = ""
    storage_gb: int | None = None
    storage_type: str = ""
    zone_id: str = ""
    region_id: str = ""
    network_type: str = ""
    vpc_id: str = ""
    vswitch_id: str = ""
    pay_type: str = ""
    lock_mode: str = ""
    instance_type: str = ""  # Primary | Readonly | Guard | Temp
    read_only_ids: list[str] = []  # read-only instances hanging off this one
    tags: dict[str, str] | None = None  # None = could not be read

    @property
    def label(self) -> str:
        desc = f" ({self.description})" if self.description else ""
        return f"{self.id}{desc} · {self.engine} {self.engine_version}".strip()

    @property
    def is_sql_server(self) -> bool:
        return self.engine.lower() == "sqlserver"

    @property
    def is_read_only(self) -> bool:
        return self.instance_type.lower() in {"readonly", "read-only"}


class BackupInfo(BaseModel):
    """One backup set of an instance (DescribeBackups)."""

    id: str
    instance_id: str = ""
    status: str = ""
    start: datetime | None = None
    end: datetime | None = None
    consistent: datetime | None = None
    method: str = ""
    type: str = ""
    size: int = 0
    databases: list[str] = []  # the databases in the set, when RDS says

    @property
    def ok(self) -> bool:
        return self.status.lower() == "success"


class DatabaseInfo(BaseModel):
    """One database on an instance (DescribeDatabases)."""

    name: str
    status: str = ""
    engine: str = ""
    tde: bool = False


def _time(value: Any) -> datetime | None:
    """API times come as 'yyyy-MM-ddTHH:mm:ssZ' or, for ConsistentTime, epoch seconds."""
    if value in (None, ""):
        return None
    text = str(value)
    if text.isdigit():
        return datetime.fromtimestamp(int(text), tz=UTC)
    try:
        return parse_api(text)
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _items(body: dict[str, Any], outer: str, inner: str) -> list[dict[str, Any]]:
    block = body.get(outer) or {}
    items = block.get(inner) if isinstance(block, dict) else block
    return list(items or [])


def instance_from_api(item: dict[str, Any], tags: dict[str, str] | None = None) -> InstanceInfo:
    return InstanceInfo(
        id=item.get("DBInstanceId", ""),
        description=item.get("DBInstanceDescription") or "",
        engine=item.get("Engine") or "",
        engine_version=str(item.get("EngineVersion") or ""),
        status=item.get("DBInstanceStatus") or "",
        instance_class=item.get("DBInstanceClass") or "",
        category=item.get("Category") or "",
        storage_gb=_int(item.get("DBInstanceStorage")),
        storage_type=item.get("DBInstanceStorageType") or "",
        zone_id=item.get("ZoneId") or "",
        region_id=item.get("RegionId") or "",
        network_type=item.get("InstanceNetworkType") or "",
        vpc_id=item.get("VpcId") or "",
        vswitch_id=item.get("VSwitchId") or "",
        pay_type=item.get("PayType") or "",
        lock_mode=item.get("LockMode") or "",
        instance_type=item.get("DBInstanceType") or "",
        read_only_ids=[str(r.get("DBInstanceId")) for r in _items(item, "ReadOnlyDBInstanceIds", "ReadOnlyDBInstanceId")
                       if isinstance(r, dict) and r.get("DBInstanceId")],
        tags=tags,
    )


class RdsDirectory:
    """Cached Describe calls; entries live ``ttl_s`` seconds (0 disables caching)."""

    def __init__(self, gateway: RdsGateway, *, ttl_s: float = 30.0) -> None:
        self.gateway = gateway
        self.ttl_s = ttl_s
        self._cache: dict[tuple[Any, ...], tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def _cached(self, key: tuple[Any, ...], load: Callable[[], T]) -> T:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and now - hit[0] < self.ttl_s:
                return hit[1]  # type: ignore[no-any-return]
        value = load()
        with self._lock:
            self._cache[key] = (time.monotonic(), value)
            if len(self._cache) > 2048:
                oldest = sorted(self._cache.items(), key=lambda kv: kv[1][0])[:512]
                for k, _ in oldest:
                    self._cache.pop(k, None)
        return value

    def forget(self, instance_id: str) -> None:
        """Drop what is cached about an instance (after a job changed it)."""
        with self._lock:
            for key in [k for k in self._cache if instance_id in k]:
                self._cache.pop(key, None)

    def search_instances(self, query: str = "", *, engine: str | None = None, limit: int = 100) -> list[InstanceInfo]:
        """Instances whose id or description contains ``query`` (for type-ahead pickers).

        The search runs in RDS (SearchKey), so an estate of thousands of
        instances is searched whole, not just its first page.
        """
        query = query.strip()[:64]

        def load() -> list[InstanceInfo]:
            params: dict[str, Any] = {"PageSize": min(max(limit, 1), 100), "PageNumber": 1}
            if engine:
                params["Engine"] = engine
            if query:
                params["SearchKey"] = query
            body = self.gateway.call("DescribeDBInstances", params)
            return [instance_from_api(i) for i in _items(body, "Items", "DBInstance")]

        found = self._cached(("search", engine or "", query.lower()), load)
        needle = query.lower()
        return [i for i in found if needle in i.id.lower() or needle in i.description.lower()][:limit]

    def instance(self, instance_id: str, *, fresh: bool = False) -> InstanceInfo:
        """One instance's attributes and tags; raises RdsError (e.g. not found)."""

        def load() -> InstanceInfo:
            body = self.gateway.call("DescribeDBInstanceAttribute", {"DBInstanceId": instance_id})
            items = _items(body, "Items", "DBInstanceAttribute")
            if not items:
                raise RdsError("InvalidDBInstance.NotFound", f"{instance_id} was not found", status=404)
            return instance_from_api(items[0], self._tags(instance_id))

        if fresh:
            return load()
        return self._cached(("instance", instance_id), load)

    def status(self, instance_id: str) -> str:
        """The live status, never cached (progress polling)."""
        body = self.gateway.call("DescribeDBInstanceAttribute", {"DBInstanceId": instance_id})
        items = _items(body, "Items", "DBInstanceAttribute")
        if not items:
            raise RdsError("InvalidDBInstance.NotFound", f"{instance_id} was not found", status=404)
        return str(items[0].get("DBInstanceStatus") or "")

    def _tags(self, instance_id: str) -> dict[str, str] | None:
        try:
            body = self.gateway.call(
                "ListTagResources",
                {"ResourceType": "INSTANCE", "ResourceId": [instance_id]},
            )
        except RdsError:
            # Unknown tags are not "no tags": policy treats None as unknown.
            return None
        tags: dict[str, str] = {}
        for item in _items(body, "TagResources", "TagResource"):
            if item.get("ResourceId") in (None, instance_id) and item.get("TagKey"):
                tags[str(item["TagKey"])] = str(item.get("TagValue") or "")
        return tags

    def backups(self, instance_id: str, *, fresh: bool = False) -> list[BackupInfo]:
        """The instance's backup sets, newest first (up to 100)."""

        def load() -> list[BackupInfo]:
            body = self.gateway.call(
                "DescribeBackups", {"DBInstanceId": instance_id, "PageSize": 100, "PageNumber": 1}
            )
            found = [
                BackupInfo(
                    id=str(b.get("BackupId") or ""),
                    instance_id=b.get("DBInstanceId") or instance_id,
                    status=b.get("BackupStatus") or "",
                    start=_time(b.get("BackupStartTime")),
                    end=_time(b.get("BackupEndTime")),
                    consistent=_time(b.get("ConsistentTime")),
                    method=b.get("BackupMethod") or "",
                    type=b.get("BackupType") or "",
                    size=_int(b.get("BackupSize")) or 0,
                    databases=[str(d.get("DataBase")) for d in _items(b, "BackupDownloadLinkByDB", "BackupDownloadLinkByDB")
                               if d.get("DataBase")],
                )
                for b in _items(body, "Items", "Backup")
            ]
            return sorted(found, key=lambda b: b.start or _EPOCH, reverse=True)

        if fresh:
            return load()
        return self._cached(("backups", instance_id), load)

    def retention_days(self, instance_id: str) -> int | None:
        """Backup retention (DescribeBackupPolicy), or None when it cannot be read."""

        def load() -> int | None:
            try:
                body = self.gateway.call("DescribeBackupPolicy", {"DBInstanceId": instance_id})
            except RdsError:
                return None
            return _int(body.get("BackupRetentionPeriod"))

        return self._cached(("retention", instance_id), load)

    def backup_tasks(self, instance_id: str, *, job_id: str | None = None) -> list[BackupTask]:
        """Backup jobs, live (progress and "is one running?" checks)."""
        return _backup_tasks(self.gateway, instance_id, job_id=job_id)

    def failed_tasks(self, instance_id: str, *, since: datetime) -> list[str]:
        """Failed tasks on an instance since a moment (DescribeHistoryTasks), newest first, described."""
        from bot.timeutil import to_api, utcnow

        body = self.gateway.call("DescribeHistoryTasks", {
            "InstanceId": instance_id, "Status": "Failed", "PageSize": 10,
            "FromStartTime": to_api(since), "ToStartTime": to_api(utcnow()),
        })
        items = body.get("Items") or []
        if isinstance(items, dict):
            items = items.get("Items") or []
        return [f"{i.get('TaskType') or 'task'} {i.get('TaskId') or ''} {i.get('ReasonCode') or ''}".strip()
                for i in items if isinstance(i, dict)]

    def tde_databases(self, instance_id: str) -> set[str]:
        return self._cached(("tde", instance_id), lambda: _tde_databases(self.gateway, instance_id))

    def cross_region_backups(self, instance_id: str, *, start: datetime, end: datetime, region: str | None = None,
                             page: int = 1, page_size: int = 30) -> CrossRegionPage:
        return _cross_region_backups(self.gateway, instance_id, start=start, end=end, region=region, page=page,
                                     page_size=page_size)

    def databases(self, instance_id: str, *, fresh: bool = False) -> list[DatabaseInfo]:
        def load() -> list[DatabaseInfo]:
            body = self.gateway.call("DescribeDatabases", {"DBInstanceId": instance_id})
            return [
                DatabaseInfo(
                    name=d.get("DBName") or "",
                    status=d.get("DBStatus") or "",
                    engine=d.get("Engine") or "",
                    tde=str(d.get("TDEStatus") or "").lower() in {"enabled", "on", "true"},
                )
                for d in _items(body, "Databases", "Database")
            ]

        if fresh:
            return load()
        return self._cached(("databases", instance_id), load)


class BackupTask(BaseModel):
    """One backup job (DescribeBackupTasks)."""

    job_id: str
    status: str = ""
    percent: int | None = None
    backup_id: str = ""
    mode: str = ""

    @property
    def active(self) -> bool:
        return self.status not in {"Finished", "Failed", ""}


class CrossRegionBackup(BaseModel):
    """One cross-region backup set (DescribeCrossRegionBackups)."""

    id: int
    region: str = ""
    start: datetime | None = None
    end: datetime | None = None
    consistent: datetime | None = None
    method: str = ""
    type: str = ""
    scale: int = 0  # 0 instance, 1 database
    failed: bool = False
    size: int = 0
    engine: str = ""
    engine_version: str = ""
    restore_regions: list[str] = []


class CrossRegionPage(BaseModel):
    """One page of cross-region backups and the counts to page through the rest."""

    items: list[CrossRegionBackup]
    page: int
    page_size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _backup_tasks(gateway: RdsGateway, instance_id: str, *, job_id: str | None = None) -> list[BackupTask]:
    """Backup jobs of an instance (live, never cached: used for progress and pre-checks)."""
    params: dict[str, Any] = {"DBInstanceId": instance_id}
    if job_id:
        params["BackupJobId"] = job_id
    body = gateway.call("DescribeBackupTasks", params)
    return [
        BackupTask(
            job_id=str(j.get("BackupJobId") or ""),
            status=str(j.get("BackupStatus") or ""),
            percent=_int(j.get("Process")),
            backup_id=str(j.get("BackupId") or ""),
            mode=str(j.get("JobMode") or ""),
        )
        for j in _items(body, "Items", "BackupJob")
    ]


def _tde_databases(gateway: RdsGateway, instance_id: str) -> set[str]:
    """Names of the databases with TDE on (SQL Server reports it per database)."""
    body = gateway.call("DescribeDBInstanceTDE", {"DBInstanceId": instance_id})
    return {
        str(d.get("DBName"))
        for d in _items(body, "Databases", "Database")
        if str(d.get("TDEStatus") or "").lower() == "enabled"
    }


def _cross_region_backups(
    gateway: RdsGateway,
    instance_id: str,
    *,
    start: datetime,
    end: datetime,
    region: str | None = None,
    page: int = 1,
    page_size: int = 30,
) -> CrossRegionPage:
    """One page of an instance's cross-region backup sets in a time window."""
    from bot.timeutil import to_api

    params: dict[str, Any] = {
        "DBInstanceId": instance_id,
        "StartTime": to_api(start),
        "EndTime": to_api(end),
        "PageSize": page_size,
        "PageNumber": page,
    }
    if region:
        params["CrossBackupRegion"] = region
    body = gateway.call("DescribeCrossRegionBackups", params)
    items = [
        CrossRegionBackup(
            id=int(i.get("CrossBackupId") or 0),
            region=str(i.get("CrossBackupRegion") or ""),
            start=_time(i.get("BackupStartTime")),
            end=_time(i.get("BackupEndTime")),
            consistent=_time(i.get("ConsistentTime")),
            method=str(i.get("BackupMethod") or ""),
            type=str(i.get("BackupType") or ""),
            scale=_int(i.get("BackupSetScale")) or 0,
            failed=_int(i.get("BackupSetStatus")) == 1,
            size=_int(i.get("CrossBackupSetSize")) or 0,
            engine=str(i.get("Engine") or ""),
            engine_version=str(i.get("EngineVersion") or ""),
            restore_regions=[str(r) for r in _items(i, "RestoreRegions", "RestoreRegion")],
        )
        for i in _items(body, "Items", "Item")
    ]
    return CrossRegionPage(items=items, page=_int(body.get("PageNumber")) or page, page_size=page_size,
                           total=_int(body.get("TotalRecordCount")) or len(items))
