"""The emulator's in-memory estate and the lookups every operation shares.

One :class:`State` per emulator. The server holds :attr:`State.lock` while it runs an
operation, so operations read and change records without further locking. Jobs
are finished lazily by :meth:`State.tick` (see :mod:`jobs`).
"""

from __future__ import annotations

import copy
import itertools
import math
import random
import string
import threading
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.sandbox.rds.clock import Clock
from bot.sandbox.rds.errors import ApiError
from bot.sandbox.rds.jobs import FailurePlan, Job
from bot.sandbox.rds.model import Backup, CrossRegionBackup, Database, Instance, Seed, Timings


class State:
    """Instances, databases, backups and jobs of one emulator, behind one lock."""

    def __init__(self, seed: Seed, timings: Timings, clock: Clock) -> None:
        # Deep copies, so one Seed object can start many emulators without sharing records.
        seed = copy.deepcopy(seed)
        self.lock = threading.RLock()
        self.timings = timings
        self.clock = clock
        self.regions = {region.id: region for region in seed.regions}
        self.vswitches = {vswitch.id: vswitch for vswitch in seed.vswitches}
        self.classes = {cls.code: cls for cls in seed.classes}
        self.offline_classes = set(seed.offline_classes)
        self.zones_without_stock = set(seed.zones_without_stock)
        self.instances: dict[str, Instance] = {i.id: i for i in seed.instances}
        self.databases: dict[str, dict[str, Database]] = {i.id: {} for i in seed.instances}
        for db in seed.databases:
            self.databases.setdefault(db.instance_id, {})[db.name] = db
        self.backups: dict[str, Backup] = {b.id: b for b in seed.backups}
        self.cross_backups: dict[int, CrossRegionBackup] = {c.id: c for c in seed.cross_region_backups}
        self.jobs: list[Job] = []
        # When the soonest unfinished job falls due: until then tick() has nothing to do (it runs before
        # every request, and a thousand running jobs would otherwise be sorted for each).
        self._next_due = math.inf
        # (action, ClientToken) -> the first successful response body, replayed on retries.
        self.responses: dict[tuple[str, str], dict[str, Any]] = {}
        self._failures: dict[str, deque[FailurePlan]] = {}
        first_backup = max((int(b) for b in self.backups if b.isdigit()), default=321000000) + 1
        self._backup_ids = itertools.count(first_backup)
        self._job_ids = itertools.count(5070001)
        self._order_ids = itertools.count(200078937000001)
        self._random = random.Random()
        # The account the call being run acts in (set by the dispatcher, under the lock): an instance
        # of another account does not exist for it, as in the real service.
        self.caller = ""

    # -- time -------------------------------------------------------------

    def now(self) -> datetime:
        """The emulator's current time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.clock(), UTC)

    def tick(self) -> None:
        """Finish every job whose time is up, in the order they fall due."""
        now = self.clock()
        if now < self._next_due:
            return
        for job in sorted((j for j in self.jobs if not j.done), key=lambda j: j.due_at):
            if job.due_at > now:
                break
            job.finished_at = job.due_at
            job.on_finish(job)
        self._next_due = min((j.due_at for j in self.jobs if not j.done), default=math.inf)

    def complete_all(self) -> None:
        """Make every running job due now and finish it."""
        now = self.clock()
        for job in self.jobs:
            if not job.done:
                job.duration_s = max(0.0, now - job.started_at)
        self._next_due = -math.inf
        self.tick()

    # -- lookups ----------------------------------------------------------

    def find_instance(
        self, instance_id: str | None, code: str, *, status: int | None = None, region: str | None = None
    ) -> Instance:
        """The instance, or ``code`` (the page's not-found code) when it does not exist.

        A ``region`` that is not the instance's region hides it, as the real service
        looks instances up within the request's region.
        """
        instance = self.instances.get(instance_id or "")
        if instance is None or not self.visible(instance) or (region is not None and instance.region != region):
            raise ApiError(code, status=status)
        return instance

    def visible(self, instance: Instance | None) -> bool:
        """Whether the account of the call being run owns ``instance``."""
        return instance is not None and instance.account == self.caller

    def databases_of(self, instance_id: str) -> list[Database]:
        return list(self.databases.get(instance_id, {}).values())

    def backups_of(self, instance_id: str) -> list[Backup]:
        """The instance's backup sets, newest first."""
        own = [b for b in self.backups.values() if b.instance_id == instance_id]
        return sorted(own, key=lambda b: b.start, reverse=True)

    def used_storage_gb(self, instance_id: str) -> float:
        return sum(db.size_gb for db in self.databases_of(instance_id))

    def read_only_children(self, instance_id: str) -> list[Instance]:
        return [i for i in self.instances.values() if i.master_id == instance_id]

    def point_in_time_problem(self, instance: Instance, when: datetime) -> str | None:
        """Why ``instance`` cannot be restored to ``when``, or None when it can.

        ``"retention"``: in the future, before the retention window, or the instance
        keeps no log backup. ``"chain"``: inside the window but before the first
        successful backup still kept, so no full backup + logs cover it.
        """
        now = self.now()
        retention_start = now - timedelta(days=instance.backup_retention_days)
        if not instance.log_backup or when > now or when < retention_start:
            return "retention"
        kept = [
            b.consistent_time
            for b in self.backups_of(instance.id)
            if b.status == "Success" and b.consistent_time >= retention_start
        ]
        if not kept or when < min(kept):
            return "chain"
        return None

    def databases_at(self, instance_id: str, when: datetime) -> tuple[str, ...]:
        """Names of the instance's databases that existed at ``when``."""
        return tuple(db.name for db in self.databases_of(instance_id) if db.created_at <= when)

    def add_databases(self, instance: Instance, names: dict[str, str], source_id: str) -> None:
        """Create ``names`` (new name -> source name) on ``instance``, status Creating.

        Size and character set come from the source database when it still exists.
        """
        source_dbs = self.databases.get(source_id, {})
        target_dbs = self.databases.setdefault(instance.id, {})
        for new_name, old_name in names.items():
            original = source_dbs.get(old_name)
            target_dbs[new_name] = Database(
                instance_id=instance.id,
                name=new_name,
                created_at=self.now(),
                status="Creating",
                charset=original.charset if original else "utf8mb4",
                size_gb=original.size_gb if original else 1.0,
                description=original.description if original else "",
            )

    def settle_databases(self, instance_id: str, names: tuple[str, ...], ok: bool) -> None:
        """End of a job that created ``names``: they go Running, or vanish if it failed."""
        databases = self.databases.get(instance_id, {})
        for name in names:
            if name not in databases:
                continue
            if ok:
                databases[name].status = "Running"
            else:
                del databases[name]

    # -- identifiers ------------------------------------------------------

    def new_instance_id(self, region: str) -> str:
        prefix = self.regions[region].id_prefix if region in self.regions else "rm-bp1"
        alphabet = string.ascii_lowercase + string.digits
        while True:
            candidate = prefix + "".join(self._random.choice(alphabet) for _ in range(13))
            if candidate not in self.instances:
                return candidate

    def new_backup_id(self) -> str:
        return str(next(self._backup_ids))

    def new_order_id(self) -> str:
        return str(next(self._order_ids))

    # -- jobs -------------------------------------------------------------

    def plan_failure(self, action: str, plan: FailurePlan, times: int = 1) -> None:
        """Make the next ``times`` jobs started by ``action`` fail."""
        self._failures.setdefault(action, deque()).extend([plan] * times)

    def start_job(
        self,
        action: str,
        instance: Instance,
        duration_s: float,
        on_finish: Callable[[Job], None],
        **detail: Any,
    ) -> Job:
        """Start a job on ``instance``; it fails if a failure was planned for ``action``."""
        planned = self._failures.get(action)
        job = Job(
            id=str(next(self._job_ids)),
            action=action,
            instance_id=instance.id,
            region=instance.region,
            engine=instance.engine,
            started_at=self.clock(),
            duration_s=duration_s,
            on_finish=on_finish,
            failure=planned.popleft() if planned else None,
            detail=detail,
        )
        self.jobs.append(job)
        self._next_due = min(self._next_due, job.due_at)
        return job
