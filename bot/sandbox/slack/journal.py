"""The journal: every Web API call and response_url post, in arrival order.

Parameters are stored parsed (``blocks``, ``metadata``, ``view`` as objects) and
without the token, so a journal can be printed in a failing test's output.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .changes import ChangeFeed


@dataclass(frozen=True)
class Call:
    """One request the bot made to the emulated Slack."""

    seq: int
    method: str
    params: dict[str, Any]
    status: int
    response: dict[str, Any]
    at: float
    fault: str | None = None

    @property
    def ok(self) -> bool:
        """True when Slack answered ``ok: true``."""
        return bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        """Slack's error code, if any."""
        error = self.response.get("error")
        return str(error) if error is not None else None

    def summary(self) -> str:
        """One line for failure messages."""
        outcome = "ok" if self.ok else f"error={self.error}"
        fault = f" fault={self.fault}" if self.fault else ""
        shown = {
            k: v
            for k, v in self.params.items()
            if k in ("channel", "ts", "thread_ts", "text", "view_id", "user")
        }
        shown_text = json.dumps(shown, default=str)[:200]
        return f"#{self.seq} {self.method} {shown_text} -> {self.status} {outcome}{fault}"


class Journal:
    """A thread-safe, append-only list of calls."""

    def __init__(self, feed: ChangeFeed) -> None:
        self._feed = feed
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._seq = itertools.count(1)
        self._watchers: list[Callable[[Call], None]] = []

    def watch(self, watcher: Callable[[Call], None]) -> None:
        """Call ``watcher`` with every call as it is recorded (benchmarks time calls without polling the list)."""
        with self._lock:
            self._watchers.append(watcher)

    def record(
        self,
        method: str,
        params: dict[str, Any],
        *,
        status: int,
        response: dict[str, Any],
        at: float,
        fault: str | None = None,
    ) -> Call:
        """Append one call."""
        with self._lock:
            call = Call(next(self._seq), method, params, status, response, at, fault)
            self._calls.append(call)
            watchers = list(self._watchers)
        for watcher in watchers:
            watcher(call)
        self._feed.bump()
        return call

    def calls(self, method: str | None = None) -> list[Call]:
        """All calls, or those of one method, oldest first."""
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def clear(self) -> None:
        """Forget every call."""
        with self._lock:
            self._calls.clear()

    def tail(self, n: int = 15) -> str:
        """The last ``n`` calls, one a line."""
        with self._lock:
            last = self._calls[-n:]
        return "\n".join(c.summary() for c in last) or "(no Web API calls yet)"
