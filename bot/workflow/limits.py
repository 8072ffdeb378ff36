"""Per-person rate limits on submissions, picker lookups and reminders, shared by every replica.

Fixed windows counted in the database (one row per person, kind and window), so
two replicas behind a load balancer count together and a restart forgets
nothing. An unlimited setting (0) costs no query.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.config import Settings
from bot.i18n import _
from bot.store.db import Database
from bot.store.models import RateCount
from bot.timeutil import human_duration, utcnow

log = logging.getLogger(__name__)


class Limit(StrEnum):
    """What is limited: each has its window and its setting."""

    SUBMISSIONS = "submit"
    LOOKUPS = "lookup"
    REMINDERS = "remind"


WINDOWS: dict[Limit, timedelta] = {
    Limit.SUBMISSIONS: timedelta(hours=1),
    Limit.LOOKUPS: timedelta(minutes=1),
    Limit.REMINDERS: timedelta(days=1),
}


class RateLimits:
    """Counts and refuses; :meth:`check` is the only call the flows make."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.allowed = {
            Limit.SUBMISSIONS: settings.limit_submissions_per_hour,
            Limit.LOOKUPS: settings.limit_lookups_per_minute,
            Limit.REMINDERS: settings.limit_reminders_per_day,
        }

    def check(self, limit: Limit, user: str) -> str | None:
        """Count one more ``limit`` for ``user``; a sentence for them when it is one too many, else None."""
        allowed = self.allowed[limit]
        if allowed <= 0:
            return None
        window = WINDOWS[limit]
        now = utcnow()
        start = datetime.fromtimestamp(int(now.timestamp() // window.total_seconds() * window.total_seconds()),
                                       tz=now.tzinfo)
        end = start + window
        count = self._count(f"{limit.value}:{user}:{int(start.timestamp())}", end)
        if count <= allowed:
            return None
        log.info("rate limit reached", extra={"limit": limit.value, "count": count, "allowed": allowed})
        what = {Limit.SUBMISSIONS: _("requests"), Limit.LOOKUPS: _("picker lookups"),
                Limit.REMINDERS: _("reminders")}[limit]
        return _("You have reached the limit of {allowed} {what} per {window}; try again in {wait}.",
                 allowed=allowed, what=what, window=human_duration(window), wait=human_duration(end - now))

    def _count(self, key: str, window_end: datetime) -> int:
        insert = pg_insert if not self.db.is_sqlite else sqlite_insert
        statement = (insert(RateCount).values(key=key, count=1, window_end=window_end)
                     .on_conflict_do_update(index_elements=["key"], set_={"count": RateCount.count + 1})
                     .returning(RateCount.count))
        with self.db.session() as session:
            return int(session.execute(statement).scalar_one())

    def prune(self) -> int:
        """Forget windows that have ended (a scheduled job)."""
        with self.db.session() as session:
            return int(session.execute(delete(RateCount).where(RateCount.window_end < utcnow())).rowcount or 0)  # type: ignore[arg-type]
