"""Remember which Slack deliveries were already acted on, across replicas and restarts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from bot.store.db import Database
from bot.store.models import Delivery
from bot.timeutil import utcnow

KEEP = timedelta(hours=1)  # far beyond Slack's 5-minute signature window


class DeliveryLog:
    """``first_time(key)`` is True exactly once per key, whichever replica asks."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def first_time(self, key: str) -> bool:
        try:
            with self.db.session() as session:
                session.add(Delivery(key=key[:200], seen_at=utcnow()))
        except IntegrityError:
            return False
        return True

    def prune(self) -> int:
        with self.db.session() as session:
            result = session.execute(delete(Delivery).where(Delivery.seen_at < utcnow() - KEEP))  # type: ignore[arg-type]
            return int(result.rowcount or 0)  # type: ignore[attr-defined]
