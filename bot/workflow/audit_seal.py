"""Seals the audit trail in Slack: its anchor on a schedule, an alarm when the chain breaks.

A hash chain shows any edit, deletion or reordering inside the trail, but not a
trail cut short whose head row was rewritten, nor one recomputed from scratch:
for those an anchor (``<seq>:<hash>``) must live outside the database. Posting it
to a channel puts it where the database's owner cannot quietly change it, and
each seal re-verifies the whole chain against the earlier seals *as read back
from Slack*, so tampering is announced in Slack instead of waiting for somebody
to run the CLI, even when the database's copy of those seals was rewritten too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any


from bot.store import audit
from bot.store.db import Database
from bot.workflow import notices as n

log = logging.getLogger(__name__)

KIND = n.AuditSealPost.kind
MAX_ANCHORS = 20


class AuditSeal:
    """Verifies the chain and queues a seal (or an alarm) for ``channel``; one per anchor.

    ``anchors`` reads the earlier seals back from Slack (newest first): the
    database being checked is never trusted to say what the last seal was.
    """

    def __init__(self, db: Database, channel: str, *, anchors: Callable[[], list[str]],
                 kick: Callable[[], None] | None = None) -> None:
        self.db = db
        self.channel = channel
        self.anchors = anchors
        self.kick = kick  # wakes the outbox sender, so a seal does not wait for its next round

    def run(self) -> dict[str, Any] | None:
        """Verify against the seals in Slack and queue what should be said; returns that message's data."""
        try:
            previous = self._previous()
        except Exception as error:  # noqa: BLE001 - whatever Slack did, no seal is posted unchecked
            log.warning("audit seal skipped: the earlier seals could not be read from Slack",
                        extra={"error": f"{type(error).__name__}: {error}"})
            return None
        with self.db.reader() as session:
            result = audit.verify(session, [audit.parse_anchor(a) for a in previous])
        if result.ok and result.count == 0:
            return None
        newest = previous[0] if previous else None
        if result.ok:
            data: dict[str, Any] = {"channel": self.channel, "ok": True, "anchor": result.anchor,
                                    "count": result.count, "previous": newest}
            key = f"{KIND}:{result.anchor}"
        else:
            data = {"channel": self.channel, "ok": False, "bad_seq": result.bad_seq, "reason": result.reason,
                    "count": result.count, "previous": newest}
            key = f"{KIND}:broken:{result.bad_seq}:{result.reason}"[:160]
            log.error("audit trail broken", extra={"bad_seq": result.bad_seq, "reason": result.reason})
        with self.db.session() as session:
            queued = n.post(session, n.AuditSealPost(**data), request_id=None, key=key)
        if queued and self.kick is not None:
            self.kick()
        return data if queued else None

    def _previous(self) -> list[str]:
        """Well-formed anchors of the earlier seals, newest first (at most a few: each covers the ones before)."""
        found = []
        for anchor in self.anchors():
            try:
                audit.parse_anchor(anchor)
            except ValueError:
                log.warning("a seal in Slack holds a malformed anchor", extra={"anchor": anchor[:100]})
                continue
            found.append(anchor)
        return found[:MAX_ANCHORS]
