"""A change feed so tests can wait for the asynchronous bot without sleeping blindly.

Every store bumps the feed when it changes; ``wait_until`` re-checks its
condition on each bump, and also every few milliseconds, so a change that
lands between a check and the wait is never missed for long.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_POLL_S = 0.02


class ChangeFeed:
    """Counts changes and wakes waiters."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._version = 0

    def bump(self) -> None:
        """Record that something changed."""
        with self._cond:
            self._version += 1
            self._cond.notify_all()

    @property
    def version(self) -> int:
        """How many changes so far: a reader (the playground) compares it to see that something changed."""
        with self._cond:
            return self._version

    def wait_until(self, predicate: Callable[[], T | None], timeout: float, describe: Callable[[], str]) -> T:
        """The first truthy ``predicate()``; ``TimeoutError`` with ``describe()`` after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            # The predicate runs outside the lock: it reads the stores, which have their own locks.
            result = predicate()
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout:.1f}s\n{describe()}")
            with self._cond:
                self._cond.wait(min(remaining, _POLL_S))
