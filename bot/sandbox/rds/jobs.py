"""Long-running jobs (clone, copy, backup, restore) driven by elapsed clock time.

A job does not run in a thread: it records when it started and how long it takes,
and :meth:`State.tick` finishes every job whose time is up before each request is
served. So the emulator holds no background threads, and a test that advances a
:class:`~bot.sandbox.rds.clock.ManualClock` (or calls ``complete_all``) sees the
end state at once. Each job also stands for one DescribeHistoryTasks entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FailurePlan:
    """How the next job of an action should end instead of succeeding.

    ``final_status`` is the status a cloned instance is left in (``None`` removes the
    instance, as when an order is rolled back); other actions ignore it.
    """

    final_status: str | None = "Released"


@dataclass
class Job:
    """One long-running job and what to do when it ends."""

    id: str
    action: str
    instance_id: str
    region: str
    engine: str
    started_at: float
    duration_s: float
    on_finish: Callable[[Job], None]
    failure: FailurePlan | None = None
    # Free-form details the operation keeps (backup method, databases, ...).
    detail: dict[str, Any] = field(default_factory=dict)
    finished_at: float | None = None

    @property
    def failed(self) -> bool:
        return self.failure is not None

    @property
    def done(self) -> bool:
        return self.finished_at is not None

    @property
    def due_at(self) -> float:
        return self.started_at + self.duration_s

    def fraction(self, now: float) -> float:
        """How far along the job is, 0.0 to 1.0."""
        if self.done or self.duration_s <= 0:
            return 1.0
        return min(1.0, max(0.0, (now - self.started_at) / self.duration_s))

    def history_status(self) -> str:
        """The DescribeHistoryTasks status: Running, Succeed or Failed."""
        if not self.done:
            return "Running"
        return "Failed" if self.failed else "Succeed"
