"""What the bot posted to response URLs, and what Slack did with each post."""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .changes import ChangeFeed
from .tokens import ResponseTarget


@dataclass(frozen=True)
class ResponseRecord:
    """One post to a response_url.

    ``outcome`` is ``"ephemeral"``, ``"in_channel"``, ``"replaced"``, ``"deleted"``
    or ``"refused:<error>"``; ``ts`` is the message it created or changed.
    """

    target: ResponseTarget
    payload: dict[str, Any]
    outcome: str
    ts: str | None
    at: float = field(default_factory=time.time)

    @property
    def user(self) -> str:
        """The user whose interaction minted the URL."""
        return self.target.user

    @property
    def channel(self) -> str:
        """The channel the interaction happened in."""
        return self.target.channel


class ResponseLog:
    """Thread-safe list of response_url posts, oldest first."""

    def __init__(self, feed: ChangeFeed) -> None:
        self._feed = feed
        self._lock = threading.Lock()
        self._records: list[ResponseRecord] = []

    def add(self, record: ResponseRecord) -> None:
        """Append one post."""
        with self._lock:
            self._records.append(record)
        self._feed.bump()

    def records(self, *, user: str | None = None) -> list[ResponseRecord]:
        """Every post, or those answering one user's interactions."""
        with self._lock:
            return [copy.deepcopy(r) for r in self._records if user is None or r.user == user]
