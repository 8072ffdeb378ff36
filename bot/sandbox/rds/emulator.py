"""RdsEmulator: the public face of the emulator (start, stop, faults, journal, state).

Typical use::

    emu = RdsEmulator(access_key_id="ak", access_key_secret="sk", timings=Timings(clone_s=0.5))
    endpoint = emu.start()            # "127.0.0.1:PORT", for Config(endpoint=..., protocol="http")
    emu.inject(action="CloneDBInstance", code="Throttling.User", times=2, retry_after_ms=200)
    ...
    assert len(emu.calls_for("CloneDBInstance")) == 3
    emu.stop()

Accessors return copies taken under the state lock, after finishing due jobs, so a
test never races the server or sees a half-applied change.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from bot.sandbox.rds.clock import Clock
from bot.sandbox.rds.dispatch import Dispatcher
from bot.sandbox.rds.faults import Fault, FaultQueue
from bot.sandbox.rds.jobs import FailurePlan, Job
from bot.sandbox.rds.journal import CallRecord, Journal
from bot.sandbox.rds.model import Backup, CrossRegionBackup, Database, Instance, Seed, Timings
from bot.sandbox.rds.seed import default_seed
from bot.sandbox.rds.server import Served
from bot.sandbox.rds.state import State
from bot.sandbox.rds.sessions import SessionBook

T = TypeVar("T")


class RdsEmulator(Served):
    """An ApsaraDB RDS OpenAPI endpoint (2014-08-15) that the official SDK can call.

    ``extra_keys`` adds more AccessKey pairs (ID -> secret) that are accepted; ``sessions``
    (an :class:`~bot.sandbox.sts.StsEmulator`'s book) accepts its STS keys too, each only
    with its security token and within its session policy (``Forbidden.RAM``). ``accounts`` maps
    an AccessKey ID to the account it acts in: such a caller sees only that account's instances
    (:attr:`Instance.account`), as another account's do not exist for it. ``clock``
    drives job progress (default: wall time); see :class:`~bot.sandbox.rds.clock.ManualClock`.
    """

    _thread_name = "RDS emulator"

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        seed: Seed | None = None,
        timings: Timings | None = None,
        clock: Clock | None = None,
        extra_keys: Mapping[str, str] | None = None,
        sessions: SessionBook | None = None,
        accounts: Mapping[str, str] | None = None,
    ) -> None:
        self.state = State(seed or default_seed(), timings or Timings(), clock or time.time)
        self._faults = FaultQueue()
        self._journal = Journal()
        keys = {access_key_id: access_key_secret, **(extra_keys or {})}
        self._dispatcher = Dispatcher(self.state, keys, self._faults, self._journal, sessions, accounts)
        Served.__init__(self)

    # -- faults and jobs --------------------------------------------------

    def inject(
        self,
        *,
        action: str | None = None,
        code: str | None = None,
        status: int | None = None,
        times: int = 1,
        retry_after_ms: int | None = None,
        delay_s: float = 0.0,
        message: str | None = None,
        region: str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``action`` (any action if None; with ``region``, only calls
        whose RegionId is that region) fail or lag.

        ``code`` answers with that error (status from the catalogue unless given;
        ``retry_after_ms`` adds the ``x-acs-retry-after`` header, which makes the SDK
        raise ThrottlingException). Without ``code`` the call runs and answers after
        ``delay_s``. Faults are consumed in the order they were injected.
        """
        self._faults.add(Fault(action, code, status, times, retry_after_ms, delay_s, message, region))

    def clear_faults(self) -> None:
        self._faults.clear()

    def fail_job(self, action: str, *, times: int = 1, final_status: str | None = "Released") -> None:
        """Make the next ``times`` jobs of ``action`` end in failure.

        CloneDBInstance: the new instance ends in ``final_status`` (None removes it);
        CreateBackup: the task ends Failed and a Failed backup set is recorded;
        CopyDatabaseBetweenInstances / RestoreDdrTable: the new databases vanish. Every
        failed job shows as Failed in DescribeHistoryTasks.
        """
        with self.state.lock:
            self.state.plan_failure(action, FailurePlan(final_status), times)

    def run(self, action: str, params: Mapping[str, str], *, account: str = "") -> dict[str, Any]:
        """Run one operation in-process, as a call acting in ``account`` would, unjournaled: a benchmark
        starts a thousand jobs this way before it measures. Raises ApiError with the call's answer."""
        return self._dispatcher.run(action, params, account)

    def complete_all(self) -> None:
        """Finish every running job now."""
        with self.state.lock:
            self.state.complete_all()

    # -- journal ----------------------------------------------------------

    @property
    def calls(self) -> list[CallRecord]:
        """Every answered call so far, oldest first (a copy)."""
        return self._journal.snapshot()

    def calls_for(self, action: str) -> list[CallRecord]:
        return self._journal.for_action(action)

    def clear_calls(self) -> None:
        self._journal.clear()

    # -- state ------------------------------------------------------------

    def _read(self, read: Callable[[State], T]) -> T:
        with self.state.lock:
            self.state.tick()
            return copy.deepcopy(read(self.state))

    def instance(self, instance_id: str) -> Instance | None:
        return self._read(lambda s: s.instances.get(instance_id))

    def instances(self) -> list[Instance]:
        return self._read(lambda s: list(s.instances.values()))

    def databases(self, instance_id: str) -> list[Database]:
        return self._read(lambda s: s.databases_of(instance_id))

    def backups(self, instance_id: str) -> list[Backup]:
        return self._read(lambda s: s.backups_of(instance_id))

    def cross_region_backups(self, instance_id: str) -> list[CrossRegionBackup]:
        return self._read(lambda s: [c for c in s.cross_backups.values() if c.instance_id == instance_id])

    def jobs(self, action: str | None = None) -> list[Job]:
        with self.state.lock:
            self.state.tick()
            return [copy.copy(j) for j in self.state.jobs if action is None or j.action == action]

    def update_instance(self, instance_id: str, **changes: Any) -> None:
        """Change fields of an instance (tests: lock it, stop it, ...)."""
        with self.state.lock:
            instance = self.state.instances[instance_id]
            for name, value in changes.items():
                if not hasattr(instance, name):
                    raise AttributeError(f"Instance has no field {name!r}")
                setattr(instance, name, value)
