"""Injected faults: throttling, server errors and slow answers, consumed in order.

A fault matches one action (or every action when ``action`` is None), optionally only
in one region (the call's ``RegionId``: one region down while the others answer), and applies to
the next ``times`` matching calls that pass authentication. A fault with a ``code``
answers with that error instead of running the operation; a fault with only
``delay_s`` runs the operation and answers late, so a client that times out has
still changed the state (the case ClientToken exists for).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from bot.sandbox.rds.errors import ApiError


@dataclass
class Fault:
    """One injected fault and how many more calls it applies to."""

    action: str | None
    code: str | None
    status: int | None
    remaining: int
    retry_after_ms: int | None = None
    delay_s: float = 0.0
    message: str | None = None
    region: str | None = None  # only calls whose RegionId is this one (None: any)

    def error(self) -> ApiError | None:
        """The error this fault answers with, or None for a delay-only fault."""
        if self.code is None:
            return None
        return ApiError(self.code, status=self.status, message=self.message, retry_after_ms=self.retry_after_ms)


class FaultQueue:
    """Faults in the order they were injected; thread-safe."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, action: str, region: str | None = None) -> Fault | None:
        """The first pending fault matching ``action`` (and the call's ``region``), using up one of its calls."""
        with self._lock:
            for fault in self._faults:
                if fault.action in (None, action) and fault.region in (None, region):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
            return None
