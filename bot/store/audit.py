"""The append-only, hash-chained audit trail: append, export, verify.

Each event's hash is SHA-256 over a canonical JSON of all its fields plus the
previous event's hash. Appends lock the single head row first, so concurrent
writers (threads or replicas) form one chain, never a fork; because appends run
inside the caller's transaction, a state change and its audit event commit or
vanish together.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from bot.redact import redact
from bot.timeutil import iso, utcnow
from bot.store.models import AuditEvent, AuditHead

GENESIS = "0" * 64


def _plain(value: Any) -> Any:
    """JSON-safe: keys become strings, NaN and infinities become strings (PostgreSQL's JSON refuses them)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def canonical(value: Any) -> str:
    return json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def event_hash(
    *,
    seq: int,
    request_id: str | None,
    event: str,
    state: str | None,
    actor: str,
    ts: datetime,
    detail: dict[str, Any],
    prev_hash: str,
) -> str:
    body = canonical(
        {
            "seq": seq,
            "request_id": request_id,
            "event": event,
            "state": state,
            "actor": actor,
            "ts": iso(ts),
            "detail": detail,
            "prev_hash": prev_hash,
        }
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def hash_of(row: AuditEvent) -> str:
    """The hash a row must carry: over all its fields and its predecessor's hash."""
    return event_hash(seq=row.seq, request_id=row.request_id, event=row.event, state=row.state, actor=row.actor,
                      ts=row.ts, detail=row.detail, prev_hash=row.prev_hash)


def append(
    session: Session,
    *,
    event: str,
    actor: str,
    request_id: str | None = None,
    state: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one event to the chain inside the caller's transaction."""
    head = session.exec(
        select(AuditHead).where(AuditHead.id == 1).with_for_update().execution_options(populate_existing=True)
    ).first()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
        session.flush()
    row = AuditEvent(
        seq=head.seq + 1,
        request_id=request_id,
        event=event,
        state=state,
        actor=actor,
        ts=utcnow(),
        detail=json.loads(canonical(redact(detail or {}))),
        prev_hash=head.hash,
        hash="",
    )
    row.hash = hash_of(row)
    session.add(row)
    head.seq = row.seq
    head.hash = row.hash
    session.add(head)
    session.flush()
    return row


def events(session: Session, *, request_id: str | None = None, batch: int = 1000) -> Iterator[AuditEvent]:
    """Events oldest first, read in batches so a long trail never sits in memory."""
    last = 0
    while True:
        query = select(AuditEvent).where(AuditEvent.seq > last).order_by(AuditEvent.seq).limit(batch)
        if request_id is not None:
            query = query.where(AuditEvent.request_id == request_id)
        rows = list(session.exec(query))
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def export_record(row: AuditEvent) -> dict[str, Any]:
    """One JSON Lines record, as DESIGN.md's CLI contract names its fields."""
    return {
        "seq": row.seq,
        "request_id": row.request_id,
        "event": row.event,
        "state": row.state,
        "actor": row.actor,
        "ts": iso(row.ts),
        "detail": row.detail,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of walking the chain; ``bad_seq`` names the first broken event.

    ``anchor`` is ``"<seq>:<hash>"`` of the last intact event: kept somewhere the
    database's owner cannot write (a ticket, a Slack message, another system),
    it lets a later ``verify --anchor`` catch what the chain alone cannot — a
    trail cut short with its head row rewritten, or recomputed from scratch.
    """

    ok: bool
    count: int
    bad_seq: int | None = None
    reason: str = ""
    head_hash: str = field(default=GENESIS, compare=False)

    @property
    def anchor(self) -> str:
        return f"{self.count}:{self.head_hash}"


def parse_anchor(text: str) -> tuple[int, str]:
    """``"<seq>:<64 hex>"`` as printed by verify; ValueError with the reason otherwise."""
    seq, sep, digest = text.strip().partition(":")
    if not sep or not seq.isdigit() or int(seq) < 1 or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"an anchor is <event number>:<64 lowercase hex digits>, as `audit verify` prints it; got {text!r}")
    return int(seq), digest


def verify(session: Session, anchors: Iterable[tuple[int, str]] = ()) -> VerifyResult:
    """Walk the whole chain: recompute every hash, check links, gaps, the head and any anchors.

    The head is read first: it commits together with the events it covers, so
    events appended while the walk runs (a live bot) are simply not looked at.
    """
    wanted = dict(anchors)
    seen: dict[int, str] = {}
    head = session.get(AuditHead, 1)
    head_seq = head.seq if head is not None else None
    prev = GENESIS
    expected_seq = 1
    count = 0
    for row in events(session):
        if head_seq is not None and row.seq > head_seq:
            break
        if row.seq != expected_seq:
            return VerifyResult(False, count, row.seq, f"event {expected_seq} is missing (next is {row.seq})")
        if row.prev_hash != prev:
            return VerifyResult(False, count, row.seq, "prev_hash does not match the previous event (edited, deleted or reordered)")
        if hash_of(row) != row.hash:
            return VerifyResult(False, count, row.seq, "the event's content does not match its hash (edited)")
        if row.seq in wanted:
            seen[row.seq] = row.hash
        prev = row.hash
        expected_seq += 1
        count += 1
    if head is None and count:
        return VerifyResult(False, count, count, "the chain head row is missing")
    if head is not None and (head.seq != count or head.hash != prev):
        return VerifyResult(
            False, count, count if head.seq == count else count + 1,
            f"the chain head says {head.seq} events but {count} were found intact (events at the end deleted or edited)",
        )
    for seq, digest in sorted(wanted.items()):
        if seq not in seen:
            return VerifyResult(False, count, seq, f"an anchor names event {seq} but the trail ends at {count} "
                                                   "(events at the end removed)")
        if seen[seq] != digest:
            return VerifyResult(False, count, seq, f"event {seq} is not the one anchored (the trail was rewritten "
                                                   "up to there)")
    return VerifyResult(True, count, head_hash=prev)
