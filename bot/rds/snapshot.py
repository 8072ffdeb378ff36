"""One polling round's reads of one place (account and region), shared by every job polled there.

A running clone or restore is watched through its instance's status. Asking RDS
about each instance separately (DescribeDBInstanceAttribute) costs one call a job
a round; DescribeDBInstances takes up to :data:`BATCH` IDs, comma-separated, so a
round reads every watched instance of a place in ``ceil(n / 30)`` calls
(:meth:`Snapshot.load`) and each probe's :meth:`~Snapshot.status` answers from
that. An instance the listing leaves out is asked about alone, as before
(DescribeDBInstanceAttribute): gone, it is "not found" and its job counts a miss;
a listing that does not show it (yet) costs that one call, never the job. A batch
that failed makes the probes of its instances fail with its error, so each job
counts a missed poll and is asked about again next round.

The other reads a probe makes (a backup's tasks, a copy target's databases) go to
RDS at most once per instance in the round, whichever job asks first; anything
cached across rounds stays in the place's own directory.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from bot.rds.directory import BackupTask, RdsDirectory
from bot.rds.errors import ErrorKind, RdsError
from bot.rds.reads import items

T = TypeVar("T")
log = logging.getLogger(__name__)

#: How many instance IDs one DescribeDBInstances call may name.
BATCH = 30


class _Once:
    """A value computed by the first caller; later callers (any thread) get the same value or error."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done = False
        self._value: Any = None
        self._error: BaseException | None = None

    def get(self, load: Callable[[], T]) -> T:
        with self._lock:
            if not self._done:
                try:
                    self._value = load()
                except RdsError as error:
                    self._error = error
                self._done = True
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[no-any-return]


class Snapshot(RdsDirectory):
    """A place's directory for one polling round: statuses of ``watched`` instances from batched
    DescribeDBInstances calls, other fresh reads once per instance; the rest from ``directory``."""

    def __init__(self, directory: RdsDirectory, watched: Iterable[str]) -> None:
        super().__init__(directory.gateway, ttl_s=directory.ttl_s)
        self._inner = directory
        self._watched = {i for i in watched if i}
        self.watched = sorted(self._watched)
        self._statuses: dict[str, str] = {}
        self._failed: dict[str, RdsError] = {}
        self._once: dict[tuple[Any, ...], _Once] = {}
        self._once_lock = threading.Lock()

    def batches(self) -> list[list[str]]:
        """The watched instances, :data:`BATCH` to a call."""
        return [self.watched[start:start + BATCH] for start in range(0, len(self.watched), BATCH)]

    def load(self, batch: list[str] | None = None) -> None:
        """Read the statuses of one batch (default: every batch, one after the other)."""
        for ids in [batch] if batch is not None else self.batches():
            try:
                body = self.gateway.call("DescribeDBInstances", {"DBInstanceId": ",".join(ids), "PageSize": 100})
            except RdsError as error:
                self._failed.update(dict.fromkeys(ids, error))
                continue
            except Exception:  # noqa: BLE001 - a bug here must not make its jobs look gone: each misses a look
                log.exception("batched status read failed", extra={"instances": len(ids)})
                self._failed.update(dict.fromkeys(ids, RdsError("StatusReadFailed", "the batched status read failed",
                                                               ErrorKind.SERVER)))
                continue
            wanted = set(ids)
            for item in items(body, "Items", "DBInstance"):
                instance_id = str(item.get("DBInstanceId") or "")
                if instance_id in wanted:
                    self._statuses[instance_id] = str(item.get("DBInstanceStatus") or "")

    def status(self, instance_id: str) -> str:
        if instance_id not in self._watched:
            return self._inner.status(instance_id)
        if instance_id in self._failed:
            raise self._failed[instance_id]
        found = self._statuses.get(instance_id)
        return found if found is not None else self._inner.status(instance_id)

    # -- everything else: once a round, or from the place's cache -------------

    def _round(self, key: tuple[Any, ...], load: Callable[[], T]) -> T:
        with self._once_lock:
            once = self._once.setdefault(key, _Once())
        return once.get(load)

    def _cached(self, key: tuple[Any, ...], load: Callable[[], T], *, fresh: bool = False) -> T:
        if fresh:
            return self._round(key, load)
        return self._inner._cached(key, load)  # noqa: SLF001 - the place's cache outlives the round

    def backup_tasks(self, instance_id: str, *, job_id: str | None = None) -> list[BackupTask]:
        return self._round(("backup_tasks", instance_id, job_id),
                           lambda: RdsDirectory.backup_tasks(self, instance_id, job_id=job_id))

    def forget(self, instance_id: str) -> None:
        self._inner.forget(instance_id)
