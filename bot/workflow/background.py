"""Work that runs after Slack has its answer, counted so it can be waited for.

Bolt's lazy listeners and the workflow's own follow-ups (sending an approved
request to RDS) share one pool. Counting what is in flight lets shutdown and
tests wait for the bot to be idle (:meth:`Background.wait_idle`) instead of
sleeping and hoping. Each task runs in a copy of its submitter's context
variables, so the language a request is rendered in follows its follow-ups.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any


class Background(ThreadPoolExecutor):
    """A thread pool that knows how many of its tasks are queued or running.

    :meth:`lane` adds a pool of its own for work that may wait long (RDS reads shown after
    the answer), so a slow RDS can never fill the threads that open modals; a lane's tasks
    count as this pool's too (one :meth:`wait_idle` for everything) and stop with it.
    """

    def __init__(self, max_workers: int = 32, thread_name_prefix: str = "rdsbot", *,
                 parent: Background | None = None) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self._busy = 0
        self._idle = threading.Condition()
        self._parent = parent
        self._lanes: list[Background] = []
        self._yield_to: Foreground | None = None

    def lane(self, name: str, max_workers: int, *, yield_to: Foreground | None = None) -> Background:
        """A separate pool of ``max_workers`` threads whose tasks this pool counts and stops; with
        ``yield_to``, each task first waits for a lull in that foreground work."""
        lane = Background(max_workers, f"{self._thread_name_prefix}-{name}", parent=self)
        lane._yield_to = yield_to
        self._lanes.append(lane)
        return lane

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run ``fn`` in a copy of the caller's context (as asyncio tasks do): whoever a Slack
        request is rendered for (:mod:`bot.i18n`'s reader) is who its follow-ups render for."""
        self._count(+1)
        if self._yield_to is not None:
            fn, args = self._yield_to.after_lull_since, (time.monotonic(), fn, *args)
        try:
            future = super().submit(contextvars.copy_context().run, fn, *args, **kwargs)
        except RuntimeError:
            self._done(None)
            raise
        future.add_done_callback(self._done)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        for lane in self._lanes:
            lane.shutdown(wait=wait, cancel_futures=cancel_futures)
        super().shutdown(wait=wait, cancel_futures=cancel_futures)

    def _done(self, _future: Future[Any] | None) -> None:
        self._count(-1)

    def _count(self, change: int) -> None:
        with self._idle:
            self._busy += change
            if self._busy == 0:
                self._idle.notify_all()
        if self._parent is not None:
            self._parent._count(change)

    @property
    def busy(self) -> int:
        with self._idle:
            return self._busy

    def wait_idle(self, timeout_s: float) -> bool:
        """True once nothing is queued or running; False if ``timeout_s`` passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout=timeout_s)


class Foreground:
    """Work a person is waiting for right now: Slack requests being answered, modals being opened.

    Follow-ups that can wait (an instance's facts under its new modal) wait for a lull, that is
    ``quiet_s`` with nothing in the foreground, at most ``max_wait_s``: when eight people run a
    command at once, all eight get their answer and their modal first and the facts a moment
    later, rather than the first facts' RDS calls and ``views.update`` competing with the last
    modals for the interpreter and the network (the eight do not arrive at the same instant:
    a gap between two of them is no lull).
    """

    def __init__(self, *, quiet_s: float = 0.03, max_wait_s: float = 1.0) -> None:
        self.quiet_s = quiet_s
        self.max_wait_s = max_wait_s
        self._busy = 0
        self._since = time.monotonic()  # when the foreground last became empty
        self._quiet = threading.Condition()

    @contextmanager
    def busy(self) -> Iterator[None]:
        with self._quiet:
            self._busy += 1
        try:
            yield
        finally:
            with self._quiet:
                self._busy -= 1
                if self._busy == 0:
                    self._since = time.monotonic()
                    self._quiet.notify_all()

    def after_lull(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` once the foreground has been empty for ``quiet_s``, or after ``max_wait_s``."""
        return self.after_lull_since(time.monotonic(), fn, *args, **kwargs)

    def after_lull_since(self, submitted: float, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """:meth:`after_lull` for work handed over at ``submitted``: ``max_wait_s`` counts from then, time
        spent queued included. Counted from when a pool thread took it, under steady load (never a
        lull) each of a lane's threads ran one task a ``max_wait_s``; more arrived, and the queue (each
        task holding its modal) grew with every request, until the load stopped."""
        deadline = submitted + self.max_wait_s
        with self._quiet:
            while (now := time.monotonic()) < deadline:
                if self._busy == 0 and now - self._since >= self.quiet_s:
                    break
                wake = deadline if self._busy else min(deadline, self._since + self.quiet_s)
                self._quiet.wait(wake - now)
        return fn(*args, **kwargs)


class Wakeup:
    """A doorbell: the workflow rings it after recording Slack messages; the outbox sender waits on it."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def ring(self) -> None:
        self._event.set()

    def wait(self, timeout_s: float) -> bool:
        rang = self._event.wait(timeout=timeout_s)
        self._event.clear()
        return rang
