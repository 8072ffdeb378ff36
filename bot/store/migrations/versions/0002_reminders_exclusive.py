"""Backup reminders; one active exclusive job per instance.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("exclusive_key", sa.String(200), nullable=True))
        batch.add_column(sa.Column("own_thread", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.create_unique_constraint("uq_requests_exclusive_key", ["exclusive_key"])
    op.create_table(
        "reminders",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("instance_id", sa.String(128), nullable=False),
        sa.Column("region_id", sa.String(64), nullable=False),
        sa.Column("schedule", sa.String(200), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fired", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_reminders_due", "reminders", ["active", "next_run_at"])


def downgrade() -> None:
    op.drop_index("ix_reminders_due", table_name="reminders")
    op.drop_table("reminders")
    with op.batch_alter_table("requests") as batch:
        batch.drop_constraint("uq_requests_exclusive_key", type_="unique")
        batch.drop_column("own_thread")
        batch.drop_column("exclusive_key")
