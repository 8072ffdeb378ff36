"""APScheduler jobs that keep requests moving without anyone clicking.

Jobs that act on shared state run only while this process is the leader
(see :mod:`bot.scheduler.leader`), so two replicas never poll or expire the same
request; the conditional updates in the workflow are the second line of defence.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor as JobExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from bot.scheduler.leader import Leadership

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """One periodic job: what it runs, how often, and whether only the leader runs it."""

    name: str
    fn: Callable[[], Any]
    every_s: float
    leader_only: bool = True


class Jobs:
    """Owns the scheduler and the periodic jobs."""

    def __init__(self, *, leader: Leadership, jobs: list[Job]) -> None:
        self.leader = leader
        self.jobs = {job.name: job for job in jobs}
        # One lock per job: a round and run_now never overlap, and pause() can wait for a round in flight.
        self._running = {job.name: threading.Lock() for job in jobs}
        self._paused: set[str] = set()
        self.scheduler = BackgroundScheduler(
            executors={"default": JobExecutor(4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
            timezone="UTC",
        )
        for job in jobs:
            fn = self._leading(job.fn) if job.leader_only else job.fn
            # APScheduler runs on the wall clock; the bot's clock (which tests move) is read inside each job.
            self.scheduler.add_job(self._exclusive(job.name, _guarded(job.name, fn)), "interval",
                                   seconds=job.every_s, id=job.name, name=job.name, next_run_time=datetime.now(UTC))

    def _exclusive(self, name: str, fn: Callable[[], None]) -> Callable[[], None]:
        lock = self._running[name]

        def run() -> None:
            with lock:
                if name not in self._paused:  # a round queued before pause() ran must not start after it
                    fn()

        run.__name__ = fn.__name__
        return run

    def _leading(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            if self.leader.is_leader():
                return fn()
            return None

        return run

    def run_now(self, *names: str) -> None:
        """Run the named jobs (all when none are named) once, here and now, as the scheduler would."""
        for name in names or tuple(self.jobs):
            job = self.jobs[name]
            if job.leader_only and not self.leader.is_leader():
                continue
            with self._running[name]:  # asked for by name: runs even while paused
                _guarded(name, job.fn)()

    def pause(self, *names: str) -> None:
        """Stop scheduling the named jobs and wait for a round already in flight to end."""
        for name in names:
            self._paused.add(name)
            self.scheduler.pause_job(name)
            with self._running[name]:
                pass  # acquired: no round of this job is running, and none will start

    def resume(self, *names: str) -> None:
        for name in names:
            self._paused.discard(name)
            self.scheduler.resume_job(name)

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
