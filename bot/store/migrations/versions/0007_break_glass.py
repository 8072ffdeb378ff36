"""Break-glass requests (approvals and freezes waived) and the review each one owes.

``break_glass`` marks a request its requester ran with ``rdsbot:BreakGlass``;
``review_due_at`` is when its review is next due (moved on by
``RDSBOT_BREAKGLASS_REVIEW_S`` each time an overdue one is posted again);
``reviewed_by``/``reviewed_at`` say who reviewed it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("break_glass", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("review_due_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("reviewed_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        for column in ("reviewed_at", "reviewed_by", "review_due_at", "break_glass"):
            batch.drop_column(column)
