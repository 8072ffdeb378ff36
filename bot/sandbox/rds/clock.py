"""Clocks for the emulator: wall time by default, a hand-driven one for tests.

Job progress (Creating -> Running, backup percent) is computed from the emulator's
clock, so a test can jump forward instead of sleeping. Signature timestamps are
always checked against wall time, because the SDK stamps requests with it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

Clock = Callable[[], float]


class ManualClock:
    """A clock that only moves when told to; starts at the current wall time."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        with self._lock:
            self._now += seconds


class OffsetClock:
    """Wall time plus an offset that only moves forward: the playground moves it together with the bot's
    clock (``bot.timeutil.CLOCK``), so jobs finish and approvals expire on the same jump."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (never backward: job times must stay in order)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds

    @property
    def offset_s(self) -> float:
        with self._lock:
            return self._offset
