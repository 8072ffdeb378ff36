"""Named points where a test can make the bot die as if killed (kill -9).

Crash recovery is only trustworthy if it is tested at each dangerous moment of
a request's life. ``RDSBOT_TEST_CRASH_AT=<point>`` makes the process SIGKILL
itself the first time it reaches that point; nothing runs after it (no
``finally``, no flush), exactly like a real kill. Unset, this costs one dict lookup.
"""

from __future__ import annotations

import logging
import os
import signal

log = logging.getLogger(__name__)

POINTS = frozenset({
    "after_approval",  # the request is approved in the database; RDS not yet called
    "after_rds_call",  # RDS accepted the job; the answer is not yet stored
    "while_polling",  # a progress probe ran; its result is not yet stored
    "while_posting_final",  # Slack has the final reply; the outbox does not know yet
})

_armed: str | None = None


def arm(point: str | None) -> None:
    global _armed
    if point is not None and point not in POINTS:
        raise ValueError(f"unknown crash point {point!r}; known: {', '.join(sorted(POINTS))}")
    _armed = point
    if point:
        log.warning("test crash point armed", extra={"crash_at": point})


def reached(point: str) -> None:
    """Die here if this point is armed."""
    if _armed == point:
        log.warning("crashing at test crash point", extra={"crash_at": point})
        os.kill(os.getpid(), signal.SIGKILL)
