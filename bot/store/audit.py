"""The append-only, hash-chained audit trail: append, export, verify.

Each event's hash is SHA-256 over a canonical JSON of all its fields plus the
previous event's hash. Appends lock the single head row first, so concurrent
writers (threads or replicas) form one chain, never a fork; because appends run
inside the caller's transaction, a state change and its audit event commit or
vanish together. The head stays locked until that commit, so a process's own
appenders queue in turn (``audit_sql.take_turn``, ``Database.session``) instead
of all waking to fight for it.

An event's detail is stored as its canonical JSON text, so ``verify`` hashes rows
as read, without parsing them; rows stored otherwise (by older versions) are
re-encoded, and only a row that still does not match is read through the ORM,
the definition's last word (``hash_of``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from hashlib import sha256
from json.encoder import encode_basestring
from typing import Any

from sqlmodel import Session, select

from bot.redact import redact
from bot.store.audit_sql import GENESIS, Statements, appended, guessed_head, raw_cursor, statements, take_turn
from bot.timeutil import iso, utcnow
from bot.store.models import AuditEvent, AuditHead

_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
VERIFY_BATCH = 5000


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
    return _ENCODER.encode(_plain(value))


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
    return sha256(body.encode("utf-8")).hexdigest()


def hash_of(row: AuditEvent) -> str:
    """The hash a row must carry: over all its fields and its predecessor's hash."""
    return event_hash(seq=row.seq, request_id=row.request_id, event=row.event, state=row.state, actor=row.actor,
                      ts=row.ts, detail=row.detail, prev_hash=row.prev_hash)


def text_hash(seq: int, request_id: str | None, event: str, state: str | None, actor: str, ts_iso: str,
            detail_json: str, prev_hash: str) -> str:
    """:func:`event_hash` from the canonical JSON of ``detail`` and plain strings, without re-encoding.

    The body is the same text ``canonical`` writes for the dict of all fields (keys in sorted order,
    strings escaped by the same encoder function), assembled directly: building and sorting a dict
    and walking it for every event is most of what appending and verifying cost in Python.
    ``encode_basestring`` refuses anything but text (and ``:d`` anything but an int), so odd values
    raise TypeError or ValueError; callers then fall back to :func:`event_hash`.
    """
    body = (f'{{"actor":{encode_basestring(actor)},"detail":{detail_json},"event":{encode_basestring(event)},'
            f'"prev_hash":{encode_basestring(prev_hash)},'
            f'"request_id":{"null" if request_id is None else encode_basestring(request_id)},"seq":{seq:d},'
            f'"state":{"null" if state is None else encode_basestring(state)},"ts":"{ts_iso}"}}')
    return sha256(body.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Appended:
    """Where an appended event landed in the chain (an ORM object per event cost more than the insert)."""

    seq: int
    hash: str
    prev_hash: str
    ts: datetime


def _str(value: Any) -> Any:
    """A str subclass (a StrEnum state) as a plain str for the driver; anything else unchanged."""
    return str.__str__(value) if isinstance(value, str) and type(value) is not str else value


def append(
    session: Session,
    *,
    event: str,
    actor: str,
    request_id: str | None = None,
    state: str | None = None,
    detail: dict[str, Any] | None = None,
) -> Appended:
    """Add one event to the chain inside the caller's transaction.

    The head is locked (its row on PostgreSQL; on SQLite the write transaction already holds the
    database's write lock) until the caller commits, so other appenders wait for that commit and
    then chain onto this event: keep appends at the end of a transaction. Usually the head is not
    read: the event is built on where this process's last append left it, and one compare-and-swap
    moves the head only if it is still there; if another writer moved it, the head is read under
    its lock and the event built again. ``detail`` is stored as its canonical JSON text, the very
    text the hash covers.
    """
    sql = statements(session)
    detail_json = canonical(redact(detail or {}))
    cursor = raw_cursor(session)  # flushing and beginning the transaction before the turn, not during it
    try:
        if not sql.locks_whole_transaction:
            take_turn(session)
        ts = utcnow()
        guess = guessed_head(session)
        row = None if guess is None else _row(sql, guess, request_id, event, state, actor, ts, detail_json)
        if guess is None or row is None or not sql.advance_head(cursor, guess, row):
            head = sql.head(cursor)
            row = _row(sql, head, request_id, event, state, actor, ts, detail_json)
            if not sql.advance_head(cursor, head, row):
                raise RuntimeError("the audit head moved while this transaction held its lock")
    finally:
        cursor.close()
    appended(session, (row[0], row[8]))
    return Appended(row[0], row[8], row[7], ts)


def _row(sql: Statements, head: tuple[int, str], request_id: str | None, event: str, state: str | None, actor: str,
         ts: datetime, detail_json: str) -> tuple[Any, ...]:
    """The event's columns as stored, chained onto ``head``."""
    seq, prev = head[0] + 1, head[1]
    try:
        digest = text_hash(seq, request_id, event, state, actor, iso(ts), detail_json, prev)
    except (TypeError, ValueError):  # not text where text belongs: the general definition decides
        digest = event_hash(seq=seq, request_id=request_id, event=event, state=state, actor=actor, ts=ts,
                            detail=json.loads(detail_json), prev_hash=prev)
    return (seq, _str(request_id), _str(event), _str(state), _str(actor), sql.bind_ts(ts), detail_json, prev, digest)


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


def _ts_text(value: Any) -> str | None:
    """The ``iso`` text of a stored ts read raw: SQLite's text, PostgreSQL's datetime; None when unusual."""
    if type(value) is str:
        # SQLAlchemy stores "YYYY-MM-DD HH:MM:SS.ffffff"; anything else is rechecked the slow way
        return f"{value[:10]}T{value[11:]}Z" if len(value) == 26 and value[10] == " " else None
    return iso(value) if isinstance(value, datetime) else None


def _stored_digest(row: tuple[Any, ...]) -> str | None:
    """The hash of a raw row taking its detail text as stored, which ``append`` stores as the canonical
    JSON: no JSON is parsed or re-encoded, which was most of verify's time.

    A match is as good as the old reading's: the body's fixed keys, JSON string literals (whose
    quotes are always escaped) and the fixed-length ts leave one way only to cut it into fields,
    so equal bodies mean every stored value, the detail text included, is the one that was hashed.
    """
    ts_text = _ts_text(row[5])
    if ts_text is None:
        return None
    try:
        return text_hash(row[0], row[1], row[2], row[3], row[4], ts_text, row[6], row[7])
    except (TypeError, ValueError):
        return None


def _reencoded_digest(row: tuple[Any, ...]) -> str | None:
    """The hash of a raw row with its detail parsed and re-encoded canonically; None if it cannot be had."""
    ts_text = _ts_text(row[5])
    if ts_text is None or not isinstance(row[6], str):
        return None
    try:
        return text_hash(row[0], row[1], row[2], row[3], row[4], ts_text, canonical(json.loads(row[6])), row[7])
    except (TypeError, ValueError):  # not JSON, or not text where text belongs: the ORM reading decides
        return None


def _rechecked(session: Session, row: tuple[Any, ...]) -> bool:
    """Whether a row that failed the fast check still carries the hash of its content.

    A row stored before details were kept as canonical text (or one whose detail text was
    reformatted without changing its content) hashes right once its detail is re-encoded; only
    then, as the last word, the row read through the ORM exactly as ``hash_of`` defines it.
    A match in either way is sound: the digest covers the very text the append hashed.
    """
    if _reencoded_digest(row) == row[8]:
        return True
    event = session.exec(select(AuditEvent).where(AuditEvent.seq == row[0])
                         .execution_options(populate_existing=True)).first()
    return event is not None and hash_of(event) == event.hash


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
    for row in statements(session).scan(session, VERIFY_BATCH):
        seq, row_prev, row_hash = row[0], row[7], row[8]
        if head_seq is not None and seq > head_seq:
            break
        if seq != expected_seq:
            return VerifyResult(False, count, seq, f"event {expected_seq} is missing (next is {seq})")
        if row_prev != prev:
            return VerifyResult(False, count, seq, "prev_hash does not match the previous event (edited, deleted or reordered)")
        if _stored_digest(row) != row_hash and not _rechecked(session, row):
            return VerifyResult(False, count, seq, "the event's content does not match its hash (edited)")
        if seq in wanted:
            seen[seq] = row_hash
        prev = row_hash
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
