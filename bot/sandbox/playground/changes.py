"""One change counter for the page: bumped when anything it shows changed.

A watcher thread compares :func:`~bot.sandbox.playground.reads.fingerprint` a few times a second
(the bot changes Slack, RDS and its database from its own threads, and RDS jobs progress with
time); gestures bump it at once. Server-sent-event streams wait on it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable

log = logging.getLogger(__name__)

WATCH_EVERY_S = 0.25


class Changes:
    """A sequence number that only grows, with waiters."""

    def __init__(self, fingerprint: Callable[[], Hashable], every_s: float = WATCH_EVERY_S) -> None:
        self._fingerprint = fingerprint
        self._every_s = every_s
        self._cond = threading.Condition()
        self._seq = 1
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="playground-changes", daemon=True)

    @property
    def seq(self) -> int:
        with self._cond:
            return self._seq

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def bump(self) -> int:
        with self._cond:
            self._seq += 1
            self._cond.notify_all()
            return self._seq

    def wait(self, after: int, timeout_s: float) -> int:
        """The sequence number once it is past ``after`` (or after ``timeout_s``, or on stop)."""
        with self._cond:
            self._cond.wait_for(lambda: self._seq > after or self._stopped.is_set(), timeout_s)
            return self._seq

    def _watch(self) -> None:
        last: Hashable = None
        while not self._stopped.wait(self._every_s):
            try:
                current = self._fingerprint()
            except Exception:  # noqa: BLE001 - a failed look (the database busy) is retried on the next tick
                log.exception("the playground could not read what changed")
                continue
            if current != last:
                if last is not None:
                    self.bump()
                last = current
