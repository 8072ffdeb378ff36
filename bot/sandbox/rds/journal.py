"""The journal of calls the emulator received, for tests to assert on.

Every request is recorded once it is answered, including refused ones (bad
signature, injected faults), with the parameters as sent. Parameters never hold a
secret: the signature travels in the Authorization header, which is not recorded.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CallRecord:
    """One answered call."""

    action: str
    params: dict[str, str]
    status: int
    code: str | None  # the error code, None on success
    client_token: str | None
    time: float  # wall-clock Unix time the answer was ready
    request_id: str
    replayed: bool = False  # True when a ClientToken repeat got the first call's answer
    access_key_id: str | None = field(default=None, repr=False)
    session_name: str | None = None  # the STS session (RoleSessionName) whose key signed the call


class Journal:
    """A thread-safe, append-only list of :class:`CallRecord`."""

    def __init__(self) -> None:
        self._records: list[CallRecord] = []
        self._lock = threading.Lock()

    def append(self, record: CallRecord) -> None:
        with self._lock:
            self._records.append(record)

    def snapshot(self) -> list[CallRecord]:
        """A copy of every record so far, oldest first."""
        with self._lock:
            return list(self._records)

    def for_action(self, action: str) -> list[CallRecord]:
        with self._lock:
            return [r for r in self._records if r.action == action]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
