"""What the workflow needs from the outside world, as small protocols.

The Slack layer implements them; tests may pass simple fakes. Keeping them here
means the workflow never imports Slack code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.store.models import OutboxMessage, Request


class SendError(Exception):
    """A message could not be delivered; ``permanent`` says retrying will not help.

    ``retry_after_s`` is how long Slack asked us to wait (HTTP 429 Retry-After).
    """

    def __init__(self, message: str, *, permanent: bool = False, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after_s = retry_after_s


class Sender(Protocol):
    """Delivers outbox messages to Slack."""

    def send(self, message: OutboxMessage, request: Request | None) -> tuple[str, str]:
        """Post or update; return (channel, ts) of the message in Slack."""
        ...

    def find_sent(self, message: OutboxMessage, request: Request | None) -> tuple[str, str] | None:
        """After a crash mid-send: the (channel, ts) if Slack already has this message."""
        ...


class GroupResolver(Protocol):
    """Which Slack user groups (among those the policy names) a user belongs to."""

    def membership(self, user_id: str, candidates: Sequence[str]) -> tuple[list[str], list[str]]:
        """(groups the user is in, groups whose membership could not be read)."""
        ...

    def members(self, group_id: str) -> frozenset[str] | None:
        """The users in a group (bare ID, ``S0DBA``); None when it could not be read."""
        ...


class NoGroups:
    """A resolver for setups without user groups."""

    def membership(self, user_id: str, candidates: Sequence[str]) -> tuple[list[str], list[str]]:
        return [], []

    def members(self, group_id: str) -> frozenset[str] | None:
        return frozenset()
