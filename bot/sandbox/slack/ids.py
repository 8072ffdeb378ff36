"""Identifiers in Slack's formats: message timestamps, view ids, hashes, triggers.

Message timestamps must be unique per channel and sort in posting order (tests
and bots compare them as strings), so one clock hands them out and never repeats.
"""

from __future__ import annotations

import secrets
import string
import threading
import time

_UPPER_ALNUM = string.ascii_uppercase + string.digits
_ALNUM = string.ascii_letters + string.digits


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


class TsClock:
    """Hands out strictly increasing Slack message timestamps (``"1700000000.000100"``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_us = 0

    def next(self) -> str:
        """A new timestamp, later than every one handed out before."""
        with self._lock:
            now_us = int(time.time() * 1_000_000)
            self._last_us = max(now_us, self._last_us + 1)
            seconds, micros = divmod(self._last_us, 1_000_000)
        return f"{seconds}.{micros:06d}"


def view_id() -> str:
    """A view id like ``V0123ABCDEF``."""
    return "V" + _random(_UPPER_ALNUM, 10)


def view_hash() -> str:
    """A view hash like ``1596530361.3wRYuk3R`` (changes on every update)."""
    return f"{int(time.time())}.{_random(_ALNUM, 8)}"


def trigger_id() -> str:
    """A trigger id like ``1234567890123.1234567890.0123456789abcdef0123456789abcdef``."""
    return f"{int(time.time() * 1000)}.{secrets.randbelow(10**10):010d}.{secrets.token_hex(16)}"


def block_id() -> str:
    """The short random id Slack gives a block or element that has none (``"hspI"``)."""
    return _random(_ALNUM, 5)


def event_id() -> str:
    """An Events API event id like ``Ev0123ABCDEF``."""
    return "Ev" + _random(_UPPER_ALNUM, 10)


def url_token() -> str:
    """The unguessable part of a response_url."""
    return secrets.token_urlsafe(18)


def action_ts() -> str:
    """The ``action_ts`` of an interaction: the moment it happened, Slack style."""
    return f"{time.time():.6f}"
