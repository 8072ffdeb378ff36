"""APScheduler jobs that keep requests moving without anyone clicking.

Jobs that act on shared state run only while this process is the leader
(see :mod:`bot.scheduler.leader`), so two replicas never poll or expire the same
request; the conditional updates in the workflow are the second line of defence.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor as JobExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from bot import metrics
from bot.scheduler.leader import Leadership
from bot.timeutil import utcnow
from bot.workflow.outbox import OutboxDispatcher
from bot.workflow.service import Workflow

log = logging.getLogger(__name__)


class Jobs:
    """Owns the scheduler and the periodic jobs."""

    def __init__(
        self,
        *,
        workflow: Workflow,
        outbox: OutboxDispatcher,
        leader: Leadership,
        poll_interval_s: float,
        extra: list[tuple[str, Callable[[], Any], float, bool]] | None = None,
    ) -> None:
        self.workflow = workflow
        self.outbox = outbox
        self.leader = leader
        self.scheduler = BackgroundScheduler(
            executors={"default": JobExecutor(4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
            timezone="UTC",
        )
        expiry_every = min(30.0, max(poll_interval_s, 1.0))
        self._add("poll", self.poll, poll_interval_s)
        self._add("expire", self._leading(self.workflow.expire_due), expiry_every)
        self._add("recover", self._leading(self.workflow.recover), max(poll_interval_s, 5.0))
        self._add("outbox", self._leading(self.outbox.deliver), 5.0)
        # (name, function, seconds, leader only?)
        for name, fn, every, leader_only in extra or []:
            self._add(name, self._leading(fn) if leader_only else fn, every)

    def _add(self, name: str, fn: Callable[[], Any], every_s: float) -> None:
        self.scheduler.add_job(_guarded(name, fn), "interval", seconds=every_s, id=name, name=name,
                               next_run_time=utcnow())

    def _leading(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            if self.leader.is_leader():
                return fn()
            return None

        return run

    def poll(self) -> None:
        if not self.leader.is_leader():
            return
        lag = self.workflow.poll_lag_s()
        metrics.POLL_LAG.set(lag)
        self.workflow.poll_all()

    def start(self) -> None:
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    @property
    def running(self) -> bool:
        return bool(self.scheduler.running)


def _guarded(name: str, fn: Callable[[], Any]) -> Callable[[], None]:
    def run() -> None:
        try:
            fn()
        except Exception:  # noqa: BLE001 - a failing round is logged; the next one tries again
            log.exception("scheduled job failed", extra={"job": name})

    run.__name__ = f"job_{name}"
    return run
