"""Fault injection for the emulated Web API: rate limits, server errors, Slack errors, latency.

Faults wait in a queue in the order they were injected; each request takes the
first one whose method matches (``None`` matches every method) and uses up one
of its ``times``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

# What Slack puts in the body of an infrastructure error, by HTTP status.
_SERVER_ERRORS = {
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "request_timeout",
}


@dataclass
class Fault:
    """One planned misbehaviour.

    ``status`` 429 answers ``ratelimited`` with ``Retry-After``; 5xx answers a
    server error; ``error`` with status 200 answers ``{"ok": false, "error": ...}``;
    ``delay_s`` delays the answer (alone it only adds latency). With
    ``side_effect=True`` the call still takes effect and only its answer is
    replaced, like a timeout after Slack already did the work.
    """

    method: str | None = None
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    delay_s: float = 0.0
    times: int | None = 1
    side_effect: bool = False

    @property
    def fails(self) -> bool:
        """True when the answer is an error (not only latency)."""
        return self.status != 200 or self.error is not None

    def matches(self, method: str) -> bool:
        """True when this fault applies to ``method``."""
        return self.method is None or self.method == method

    def describe(self) -> str:
        """Short label for the journal."""
        parts = [f"status={self.status}"] if self.status != 200 else []
        parts += [f"error={self.error}"] if self.error else []
        parts += [f"delay={self.delay_s}s"] if self.delay_s else []
        return ",".join(parts) or "none"

    def response(self) -> tuple[int, dict[str, str], dict[str, Any]]:
        """HTTP status, extra headers and JSON body of the faulty answer."""
        headers: dict[str, str] = {}
        if self.status == 429:
            headers["Retry-After"] = str(self.retry_after if self.retry_after is not None else 1)
        error = self.error or (
            "ratelimited" if self.status == 429 else _SERVER_ERRORS.get(self.status, "fatal_error")
        )
        return self.status, headers, {"ok": False, "error": error}


class FaultPlan:
    """The thread-safe queue of pending faults."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        """Queue a fault behind those already waiting."""
        if fault.times is not None and fault.times < 1:
            raise ValueError("times must be at least 1 (or None for every call)")
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str) -> Fault | None:
        """Use up one application of the first fault matching ``method``."""
        with self._lock:
            for index, fault in enumerate(self._faults):
                if not fault.matches(method):
                    continue
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times == 0:
                        del self._faults[index]
                return fault
        return None

    def pending(self) -> list[Fault]:
        """Faults not used up yet."""
        with self._lock:
            return list(self._faults)

    def clear(self) -> None:
        """Drop every pending fault."""
        with self._lock:
            self._faults.clear()
