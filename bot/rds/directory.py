"""Cached reads of the RDS estate: instances, their tags, backups, databases.

Pickers, validation and policy all ask the same questions about an instance
within seconds of each other; a short cache answers them with one API call.
Only Describe*/List* calls live here, so everything is safe to retry. The typed
models the answers come back as are in :mod:`bot.rds.reads` (and importable from here).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from bot.rds.errors import RdsError
from bot.rds.gateway import RdsGateway
from bot.rds.reads import (
    BackupInfo,
    BackupPage,
    BackupTask,
    CrossRegionBackup,
    CrossRegionPage,
    DatabaseInfo,
    InstanceInfo,
    Price,
    as_int,
    instance_from_api,
    items,
)

__all__ = [
    "BackupInfo", "BackupPage", "BackupTask", "CrossRegionBackup", "CrossRegionPage", "DatabaseInfo", "InstanceInfo",
    "Price", "RdsDirectory", "instance_from_api",
]

T = TypeVar("T")
BACKUP_PAGE_SIZE = 100  # DescribeBackups' largest page
MAX_ENTRIES = 2048  # answers a directory keeps at most, however many are still fresh
SWEEP_FLOOR = 64  # the cache may hold this many answers before expired ones are looked for
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class RdsDirectory:
    """Cached Describe calls; entries live ``ttl_s`` seconds (0 disables caching)."""

    def __init__(self, gateway: RdsGateway, *, ttl_s: float = 30.0) -> None:
        self.gateway = gateway
        self.ttl_s = ttl_s
        self._cache: dict[tuple[Any, ...], tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self._sweep_at = SWEEP_FLOOR

    def _cached(self, key: tuple[Any, ...], load: Callable[[], T], *, fresh: bool = False) -> T:
        """``load()``'s answer, from the cache if younger than ``ttl_s``; ``fresh`` skips the cache."""
        if fresh:
            return load()
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and now - hit[0] < self.ttl_s:
                return hit[1]  # type: ignore[no-any-return]
        value = load()
        with self._lock:
            now = time.monotonic()
            self._cache[key] = (now, value)
            if len(self._cache) > self._sweep_at:
                self._sweep(now)
        return value

    def _sweep(self, now: float) -> None:
        """Drop the expired answers, and past :data:`MAX_ENTRIES` the oldest live ones. Every keystroke in a
        picker is a search of its own: kept until the cache was full, thousands of searches' results (a
        hundred instances each) outlived any use. Runs when the cache has doubled since the last sweep,
        so its cost per answer stays constant."""
        for key in [k for k, (at, _value) in self._cache.items() if now - at >= self.ttl_s]:
            del self._cache[key]
        if len(self._cache) > MAX_ENTRIES:
            for key, _entry in sorted(self._cache.items(), key=lambda kv: kv[1][0])[:len(self._cache) - MAX_ENTRIES]:
                del self._cache[key]
        self._sweep_at = max(SWEEP_FLOOR, 2 * len(self._cache))

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
            found = items(body, "Items", "DBInstance")
            # DescribeDBInstances carries no tags; the policy needs them to decide who may see each.
            tags = self._tags_by_region([(str(i.get("DBInstanceId") or ""), i.get("RegionId")) for i in found])
            return [instance_from_api(i, tags.get(str(i.get("DBInstanceId") or ""))) for i in found]

        found = self._cached(("search", engine or "", query.lower()), load)
        needle = query.lower()
        return [i for i in found if needle in i.id.lower() or needle in i.description.lower()][:limit]

    def _attributes(self, instance_id: str, region: str | None = None) -> dict[str, Any]:
        """DescribeDBInstanceAttribute's item for the instance; raises RdsError (e.g. not found)."""
        body = self.gateway.call("DescribeDBInstanceAttribute", {"DBInstanceId": instance_id, "RegionId": region})
        found = items(body, "Items", "DBInstanceAttribute")
        if not found:
            raise RdsError("InvalidDBInstance.NotFound", f"{instance_id} was not found", status=404)
        return found[0]

    def instance(self, instance_id: str, *, region: str | None = None, fresh: bool = False) -> InstanceInfo:
        """One instance's attributes and tags (``region``: where to look; default the bot's); raises RdsError."""

        def load() -> InstanceInfo:
            attributes = self._attributes(instance_id, region)
            # Tags are listed per region: ask the instance's own, or a DR instance looks untagged.
            return instance_from_api(attributes, self._tags(instance_id, attributes.get("RegionId") or region))

        return self._cached(("instance", instance_id, region), load, fresh=fresh)

    def status(self, instance_id: str) -> str:
        """The live status, never cached (progress polling)."""
        return str(self._attributes(instance_id).get("DBInstanceStatus") or "")

    def _tags_by_region(self, ids: list[tuple[str, Any]]) -> dict[str, dict[str, str] | None]:
        """Tags of many instances, one ListTagResources call per region and 50 IDs (unreadable: None)."""
        by_region: dict[str | None, list[str]] = {}
        for instance_id, region in ids:
            if instance_id:
                by_region.setdefault(str(region) if region else None, []).append(instance_id)
        out: dict[str, dict[str, str] | None] = {}
        for region, members in by_region.items():
            for start in range(0, len(members), 50):
                chunk = members[start:start + 50]
                try:
                    body = self.gateway.call("ListTagResources", {"ResourceType": "INSTANCE", "ResourceId": chunk,
                                                                  "RegionId": region})
                except RdsError:
                    out.update({i: None for i in chunk})
                    continue
                found: dict[str, dict[str, str]] = {i: {} for i in chunk}
                for item in items(body, "TagResources", "TagResource"):
                    owner = str(item.get("ResourceId") or "")
                    if owner in found and item.get("TagKey"):
                        found[owner][str(item["TagKey"])] = str(item.get("TagValue") or "")
                out.update(found)
        return out

    def _tags(self, instance_id: str, region: str | None = None) -> dict[str, str] | None:
        try:
            body = self.gateway.call(
                "ListTagResources",
                {"ResourceType": "INSTANCE", "ResourceId": [instance_id], "RegionId": region},
            )
        except RdsError:
            # Unknown tags are not "no tags": policy treats None as unknown.
            return None
        tags: dict[str, str] = {}
        for item in items(body, "TagResources", "TagResource"):
            if item.get("ResourceId") in (None, instance_id) and item.get("TagKey"):
                tags[str(item["TagKey"])] = str(item.get("TagValue") or "")
        return tags

    def backups(self, instance_id: str, *, fresh: bool = False) -> list[BackupInfo]:
        """The instance's backup sets, newest first (up to 100)."""

        def load() -> list[BackupInfo]:
            body = self.gateway.call(
                "DescribeBackups", {"DBInstanceId": instance_id, "PageSize": 100, "PageNumber": 1}
            )
            found = [BackupInfo.from_api(b, instance_id=instance_id) for b in items(body, "Items", "Backup")]
            return sorted(found, key=lambda b: b.start or _EPOCH, reverse=True)

        return self._cached(("backups", instance_id), load, fresh=fresh)

    def backup_page(self, instance_id: str, *, page: int = 1, start: datetime | None = None,
                    end: datetime | None = None, backup_id: str | None = None,
                    status: str | None = "Success") -> BackupPage:
        """One page (100) of the instance's backup sets, newest first (cached): ``start``/``end`` bound
        when a set started (minutes, as DescribeBackups takes them), ``backup_id`` finds one set,
        ``status`` keeps only sets in that state (None: all). Pages through every set, not just the newest."""
        from bot.timeutil import API_MINUTES, to_api

        def load() -> BackupPage:
            params = {"DBInstanceId": instance_id, "PageSize": BACKUP_PAGE_SIZE, "PageNumber": page,
                      "BackupStatus": status, "BackupId": backup_id,
                      "StartTime": to_api(start, API_MINUTES) if start else None,
                      "EndTime": to_api(end, API_MINUTES) if end else None}
            body = self.gateway.call("DescribeBackups", {k: v for k, v in params.items() if v is not None})
            found = [BackupInfo.from_api(b, instance_id=instance_id) for b in items(body, "Items", "Backup")]
            found.sort(key=lambda b: b.start or _EPOCH, reverse=True)
            return BackupPage(items=found, page=page, page_size=BACKUP_PAGE_SIZE,
                              total=as_int(body.get("TotalRecordCount")) or len(found))

        return self._cached(("backup_page", instance_id, page, start, end, backup_id, status), load)

    def retention_days(self, instance_id: str) -> int | None:
        """Backup retention (DescribeBackupPolicy), or None when it cannot be read."""

        def load() -> int | None:
            try:
                body = self.gateway.call("DescribeBackupPolicy", {"DBInstanceId": instance_id})
            except RdsError:
                return None
            return as_int(body.get("BackupRetentionPeriod"))

        return self._cached(("retention", instance_id), load)

    def backup_tasks(self, instance_id: str, *, job_id: str | None = None) -> list[BackupTask]:
        """Backup jobs, live, never cached (progress and "is one running?" checks)."""
        params: dict[str, Any] = {"DBInstanceId": instance_id}
        if job_id:
            params["BackupJobId"] = job_id
        body = self.gateway.call("DescribeBackupTasks", params)
        return [BackupTask.from_api(j) for j in items(body, "Items", "BackupJob")]

    def failed_tasks(self, instance_id: str, *, since: datetime) -> list[str]:
        """Failed tasks on an instance since a moment (DescribeHistoryTasks), newest first, described."""
        from bot.timeutil import to_api, utcnow

        body = self.gateway.call("DescribeHistoryTasks", {
            "InstanceId": instance_id, "Status": "Failed", "PageSize": 10,
            "FromStartTime": to_api(since), "ToStartTime": to_api(utcnow()),
        })
        return [f"{i.get('TaskType') or 'task'} {i.get('TaskId') or ''} {i.get('ReasonCode') or ''}".strip()
                for i in items(body, "Items", "Items") if isinstance(i, dict)]

    def tde_databases(self, instance_id: str) -> set[str]:
        """Names of the databases with TDE on (SQL Server reports it per database)."""

        def load() -> set[str]:
            body = self.gateway.call("DescribeDBInstanceTDE", {"DBInstanceId": instance_id})
            return {str(d.get("DBName")) for d in items(body, "Databases", "Database")
                    if str(d.get("TDEStatus") or "").lower() == "enabled"}

        return self._cached(("tde", instance_id), load)

    def cross_region_backups(self, instance_id: str, *, start: datetime, end: datetime, region: str | None = None,
                             page: int = 1, page_size: int = 30, cross_backup_id: int | None = None,
                             fresh: bool = True) -> CrossRegionPage:
        """One page of an instance's cross-region backup sets in a time window (live unless ``fresh``
        is False); ``cross_backup_id`` finds one set."""
        from bot.timeutil import to_api

        def load() -> CrossRegionPage:
            params: dict[str, Any] = {
                "DBInstanceId": instance_id,
                "StartTime": to_api(start),
                "EndTime": to_api(end),
                "PageSize": page_size,
                "PageNumber": page,
            }
            if region:
                params["CrossBackupRegion"] = region
            if cross_backup_id is not None:
                params["CrossBackupId"] = cross_backup_id
            body = self.gateway.call("DescribeCrossRegionBackups", params)
            found = [CrossRegionBackup.from_api(i) for i in items(body, "Items", "Item")]
            return CrossRegionPage(items=found, page=as_int(body.get("PageNumber")) or page, page_size=page_size,
                                   total=as_int(body.get("TotalRecordCount")) or len(found))

        key = ("cross_region", instance_id, start, end, region, page, page_size, cross_backup_id)
        return self._cached(key, load, fresh=fresh)

    def databases(self, instance_id: str, *, fresh: bool = False) -> list[DatabaseInfo]:
        def load() -> list[DatabaseInfo]:
            body = self.gateway.call("DescribeDatabases", {"DBInstanceId": instance_id})
            return [DatabaseInfo.from_api(d) for d in items(body, "Databases", "Database")]

        return self._cached(("databases", instance_id), load, fresh=fresh)

    def clone_price(self, source: InstanceInfo, params: Mapping[str, Any]) -> Price:
        """What a clone of ``source`` with CloneDBInstance's ``params`` would cost (DescribePrice, live;
        a new purchase of one primary instance); raises RdsError."""
        pay_type = params.get("PayType")
        query: dict[str, Any] = {
            "RegionId": source.region_id or None,
            "ZoneId": params.get("ZoneId") or source.zone_id or None,
            "Engine": source.engine,
            "EngineVersion": source.engine_version,
            "DBInstanceClass": params.get("DBInstanceClass") or source.instance_class,
            "DBInstanceStorage": params.get("DBInstanceStorage") or source.storage_gb,
            "DBInstanceStorageType": params.get("DBInstanceStorageType") or source.storage_type or None,
            "PayType": pay_type,
            "OrderType": "BUY",
            "InstanceUsedType": 0,
            "Quantity": 1,
        }
        if pay_type == "Prepaid":
            query.update({"TimeType": params.get("Period") or "Month", "UsedTime": params.get("UsedTime") or 1})
        body = self.gateway.call("DescribePrice", query)
        return Price.from_api(body.get("PriceInfo") or {})
