"""Duplicate guards shared by replicas: Slack deliveries seen, one request per modal.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_deliveries_seen_at", "deliveries", ["seen_at"])
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("submission_key", sa.String(200), nullable=True))
        batch.create_unique_constraint("uq_requests_submission_key", ["submission_key"])


def downgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.drop_constraint("uq_requests_submission_key", type_="unique")
        batch.drop_column("submission_key")
    op.drop_index("ix_deliveries_seen_at", table_name="deliveries")
    op.drop_table("deliveries")
