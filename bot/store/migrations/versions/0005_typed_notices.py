"""Outbox rows name their notice type: the old kind "reply" becomes the event it carried.

Before, a thread reply was stored as kind "reply" with ``data["event"]`` one of
opened, started, progress or retrying; each is now a notice type of its own
(bot/workflow/notices.py), so rows written by an older release, still waiting
to be sent, decode after the upgrade. The data column is read and rewritten in
Python so the same code serves SQLite and PostgreSQL JSON.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from bot.store.migrations.json_rows import as_object

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

EVENTS = {"opened": "opened", "started": "started", "progress": "progress", "retrying": "retrying"}


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, data FROM outbox WHERE kind = 'reply'")).all()
    for row_id, raw in rows:
        kind = EVENTS.get(str(as_object(raw).get("event") or "progress"), "progress")
        conn.execute(sa.text("UPDATE outbox SET kind = :kind WHERE id = :id"), {"kind": kind, "id": row_id})


def downgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT id, kind, data FROM outbox WHERE kind IN ('opened', 'started', 'progress', 'retrying')")).all()
    for row_id, kind, raw in rows:
        data = {**as_object(raw), "event": kind}
        conn.execute(sa.text("UPDATE outbox SET kind = 'reply', data = :data WHERE id = :id"),
                     {"data": json.dumps(data), "id": row_id})
