"""Short-lived capabilities Slack hands the app: trigger ids and response URLs.

A trigger id is minted when a user interacts, may open or push one view, and
dies after 3 seconds; a response_url accepts a few posts for half an hour.
Both are issued by the platform side (the driver) and redeemed by the Web API
side, which is why they live in one registry the two faces share.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace

from . import ids
from .errors import SlackError

RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_TTL_S = 30 * 60


@dataclass(frozen=True)
class Trigger:
    """One issued trigger id and where it came from."""

    trigger_id: str
    user: str
    source: str
    issued_at: float
    view_id: str | None = None
    used_at: float | None = None


class TriggerRegistry:
    """Issues trigger ids and redeems each once, within its time to live."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._triggers: dict[str, Trigger] = {}

    def issue(self, user: str, source: str, *, view_id: str | None = None) -> str:
        """A fresh trigger id for an interaction by ``user`` (inside view ``view_id`` if any)."""
        trigger = Trigger(ids.trigger_id(), user, source, time.monotonic(), view_id)
        with self._lock:
            self._triggers[trigger.trigger_id] = trigger
        return trigger.trigger_id

    def redeem(self, trigger_id: str | None) -> Trigger:
        """Use a trigger id up, or raise the error Slack gives for it."""
        if not trigger_id:
            raise SlackError("invalid_arguments", "[ERROR] missing required field: trigger_id")
        now = time.monotonic()
        with self._lock:
            trigger = self._triggers.get(trigger_id)
            if trigger is None:
                raise SlackError("invalid_trigger_id")
            if trigger.used_at is not None:
                raise SlackError("exchanged_trigger_id")
            if now - trigger.issued_at > self.ttl_s:
                raise SlackError("expired_trigger_id")
            used = replace(trigger, used_at=now)
            self._triggers[trigger_id] = used
        return used

    def get(self, trigger_id: str) -> Trigger | None:
        """The trigger record, used or not, or ``None``."""
        with self._lock:
            return self._triggers.get(trigger_id)


@dataclass(frozen=True)
class ResponseTarget:
    """What a response_url points at: the interaction that minted it."""

    token: str
    kind: str  # "slash_command" | "block_actions" | "view_submission"
    user: str
    channel: str
    message_ts: str | None = None
    is_ephemeral: bool = False
    thread_ts: str | None = None


@dataclass
class _Issued:
    target: ResponseTarget
    issued_at: float
    uses: int = 0


@dataclass
class ResponseUrlRegistry:
    """Issues response_url tokens and counts their uses."""

    max_uses: int = RESPONSE_URL_MAX_USES
    ttl_s: float = RESPONSE_URL_TTL_S
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _issued: dict[str, _Issued] = field(default_factory=dict, repr=False)

    def issue(
        self,
        kind: str,
        *,
        user: str,
        channel: str,
        message_ts: str | None = None,
        is_ephemeral: bool = False,
        thread_ts: str | None = None,
    ) -> str:
        """A new token; the caller turns it into ``<base>/response/<token>``."""
        token = ids.url_token()
        target = ResponseTarget(token, kind, user, channel, message_ts, is_ephemeral, thread_ts)
        with self._lock:
            self._issued[token] = _Issued(target, time.monotonic())
        return token

    def use(self, token: str) -> ResponseTarget:
        """Count one post to the URL, or raise the error Slack answers with."""
        with self._lock:
            issued = self._issued.get(token)
            if issued is None:
                raise SlackError("invalid_token", status=404)
            if time.monotonic() - issued.issued_at > self.ttl_s:
                raise SlackError("expired_url", status=404)
            if issued.uses >= self.max_uses:
                raise SlackError("used_url", status=404)
            issued.uses += 1
            return issued.target
