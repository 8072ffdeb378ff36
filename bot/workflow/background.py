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
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


class Background(ThreadPoolExecutor):
    """A thread pool that knows how many of its tasks are queued or running."""

    def __init__(self, max_workers: int = 32, thread_name_prefix: str = "rdsbot") -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self._busy = 0
        self._idle = threading.Condition()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run ``fn`` in a copy of the caller's context (as asyncio tasks do): whoever a Slack
        request is rendered for (:mod:`bot.i18n`'s reader) is who its follow-ups render for."""
        with self._idle:
            self._busy += 1
        try:
            future = super().submit(contextvars.copy_context().run, fn, *args, **kwargs)
        except RuntimeError:
            self._done(None)
            raise
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Future[Any] | None) -> None:
        with self._idle:
            self._busy -= 1
            if self._busy == 0:
                self._idle.notify_all()

    @property
    def busy(self) -> int:
        with self._idle:
            return self._busy

    def wait_idle(self, timeout_s: float) -> bool:
        """True once nothing is queued or running; False if ``timeout_s`` passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout=timeout_s)


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
