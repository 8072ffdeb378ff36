"""Seals the audit trail in Slack: its anchor on a schedule, an alarm when the chain breaks.

A hash chain shows any edit, deletion or reordering inside the trail, but not a
trail cut short whose head row was rewritten, nor one recomputed from scratch:
for those an anchor (``<seq>:<hash>``) must live outside the database. Posting it
to a channel puts it where the database's owner cannot quietly change it, and
each seal re-verifies the whole chain against the previous seal, so tampering
is announced in Slack instead of waiting for somebody to run the CLI.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlmodel import col, select

from bot.store import audit
from bot.store.db import Database
from bot.store.models import OutboxMessage
from bot.workflow import notices as n

log = logging.getLogger(__name__)

KIND = n.AuditSealPost.kind


class AuditSeal:
    """Verifies the chain and queues a seal (or an alarm) for ``channel``; one per anchor."""

    def __init__(self, db: Database, channel: str, *, kick: Callable[[], None] | None = None) -> None:
        self.db = db
        self.channel = channel
        self.kick = kick  # wakes the outbox sender, so a seal does not wait for its next round

    def run(self) -> dict[str, Any] | None:
        """Verify against the last seal and queue what should be said; returns that message's data."""
        previous = self._last_anchor()
        with self.db.reader() as session:
            result = audit.verify(session, [audit.parse_anchor(previous)] if previous else [])
        if result.ok and result.count == 0:
            return None
        if result.ok:
            data: dict[str, Any] = {"channel": self.channel, "ok": True, "anchor": result.anchor,
                                    "count": result.count, "previous": previous}
            key = f"{KIND}:{result.anchor}"
        else:
            data = {"channel": self.channel, "ok": False, "bad_seq": result.bad_seq, "reason": result.reason,
                    "count": result.count, "previous": previous}
            key = f"{KIND}:broken:{result.bad_seq}:{result.reason}"[:160]
            log.error("audit trail broken", extra={"bad_seq": result.bad_seq, "reason": result.reason})
        with self.db.session() as session:
            queued = n.post(session, n.AuditSealPost(**data), request_id=None, key=key)
        if queued and self.kick is not None:
            self.kick()
        return data if queued else None

    def _last_anchor(self) -> str | None:
        """The anchor of the newest seal that reached Slack (the one people can compare with)."""
        with self.db.reader() as session:
            rows = session.exec(
                select(OutboxMessage.data).where(OutboxMessage.kind == KIND, OutboxMessage.state == "sent")
                .order_by(col(OutboxMessage.id).desc()).limit(20)
            ).all()
        for data in rows:
            anchor = (data or {}).get("anchor")
            if isinstance(anchor, str):
                try:
                    audit.parse_anchor(anchor)
                except ValueError:
                    log.warning("an earlier audit seal holds a malformed anchor", extra={"anchor": anchor[:100]})
                    continue
                return anchor
        return None
