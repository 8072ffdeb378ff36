"""Who a Slack user is, for presentation: their time zone and their language.

One ``users.info`` call (with ``include_locale``) per person per ``ttl_s`` serves
both. When Slack cannot say, the answer is "unknown" (``None``), remembered only
briefly, so a Slack hiccup never pins a person to the wrong zone for an hour and
never turns into a storm of lookups either.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

log = logging.getLogger(__name__)

UNKNOWN_TTL_S = 60.0  # how long a failed lookup is remembered


@dataclass(frozen=True)
class Person:
    """What ``users.info`` said: an IANA zone name and a Slack locale (``ja-JP``), each possibly unknown."""

    tz: str | None = None
    locale: str | None = None


class People:
    """A per-user TTL cache over ``users.info``; thread-safe."""

    def __init__(self, client: WebClient, *, ttl_s: float = 3600.0) -> None:
        self.client = client
        self.ttl_s = ttl_s
        self._seen: dict[str, tuple[float, float, Person]] = {}  # user -> (when, ttl, person)
        self._lock = threading.Lock()

    def person(self, user_id: str) -> Person:
        """The user's zone and locale, at most ``ttl_s`` old (``UNKNOWN_TTL_S`` after a failure)."""
        now = time.monotonic()
        with self._lock:
            hit = self._seen.get(user_id)
            if hit is not None and now - hit[0] < hit[1]:
                return hit[2]
        ttl = self.ttl_s
        try:
            user = self.client.users_info(user=user_id, include_locale=True).get("user") or {}
            person = Person(tz=_text(user.get("tz")), locale=_text(user.get("locale")))
        except SlackApiError as error:
            log.info("users.info failed; zone and language unknown", extra={"error": str(error.response.get("error"))})
            person, ttl = Person(), UNKNOWN_TTL_S
        except (SlackClientError, OSError) as error:
            # Slack unreachable: remembered as unknown too, or every ack would wait on the timeout again.
            log.info("users.info unreachable; zone and language unknown", extra={"error": type(error).__name__})
            person, ttl = Person(), UNKNOWN_TTL_S
        with self._lock:
            self._seen[user_id] = (time.monotonic(), ttl, person)
        return person

    def zone(self, user_id: str) -> str:
        """The user's IANA time zone, ``UTC`` when unknown."""
        return self.person(user_id).tz or "UTC"

    def locale(self, user_id: str) -> str | None:
        """The user's raw Slack locale (``en-US``, ``ja-JP``, ``zh-CN``), None when unknown."""
        return self.person(user_id).locale


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
