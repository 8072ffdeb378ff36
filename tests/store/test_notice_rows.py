"""Outbox rows across the typed-notice change: rows an older release left unsent still decode.

Before revision 0005 every thread reply was stored as kind "reply" with the
event in its data; the upgrade must give each its own notice type, on both
databases, and a downgrade must give them back to an older release.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlmodel import select

from bot.store import migrate
from bot.store.db import Database
from bot.store.models import OutboxMessage
from bot.workflow import notices
from tests.store.test_migrations import _downgrade

LEGACY = [
    ("r-1:opened", {"event": "opened"}, notices.Opened()),
    ("r-1:started", {"event": "started"}, notices.Started()),
    ("r-1:progress:1", {"event": "progress", "status": "Creating", "percent": None},
     notices.ProgressReply(status="Creating")),
    ("r-1:retry:1", {"event": "retrying", "code": "Throttling", "plain": "RDS is busy", "attempt": 1, "safe": True},
     notices.Retrying(code="Throttling", plain="RDS is busy", attempt=1, safe=True)),
]


@pytest.fixture
def db_at_0004(database_url: str):
    db = Database(database_url)
    migrate.upgrade(db, "0004")
    with db.engine.begin() as conn:
        for key, data, _ in LEGACY:
            conn.execute(text("INSERT INTO outbox (request_id, kind, dedupe_key, data, state, attempts, created_at) "
                              "VALUES ('r-1', 'reply', :key, :data, 'pending', 0, CURRENT_TIMESTAMP)"),
                         {"key": key, "data": json.dumps(data)})
    yield db
    db.dispose()


def test_legacy_reply_rows_decode_as_their_notice_after_upgrade(db_at_0004: Database) -> None:
    migrate.upgrade(db_at_0004)
    with db_at_0004.reader() as session:
        rows = {row.dedupe_key: row for row in session.exec(select(OutboxMessage)).all()}
    assert {key: rows[key].kind for key, _, _ in LEGACY} == {
        "r-1:opened": "opened", "r-1:started": "started", "r-1:progress:1": "progress", "r-1:retry:1": "retrying"}
    for key, _, expected in LEGACY:
        assert notices.decode(rows[key]) == expected


def test_downgrade_gives_older_releases_their_reply_rows_back(db_at_0004: Database) -> None:
    migrate.upgrade(db_at_0004)
    _downgrade(db_at_0004, "0004")
    with db_at_0004.engine.connect() as conn:
        rows = conn.execute(text("SELECT dedupe_key, kind, data FROM outbox ORDER BY id")).all()
    assert [(key, kind) for key, kind, _ in rows] == [(key, "reply") for key, _, _ in LEGACY]
    events = [(json.loads(raw) if isinstance(raw, str) else raw)["event"] for _, _, raw in rows]
    assert events == ["opened", "started", "progress", "retrying"]


def test_every_notice_kind_round_trips_through_a_row() -> None:
    for cls in notices.KINDS.values():
        notice = cls()
        row = OutboxMessage(kind=notice.kind, dedupe_key="k", data=notice.data())
        assert notices.decode(row) == notice


def test_an_unknown_kind_is_refused_by_name() -> None:
    with pytest.raises(notices.UnknownNotice, match="'telegram'"):
        notices.decode(OutboxMessage(kind="telegram", dedupe_key="k", data={}))
