"""Every instance a request touches, its form as submitted, and per-person rate counts.

``requests.resources`` lists the instances a request acts on (a copy's source
and target, a point-in-time restore's source); rows written before it get their
one instance, so approvals of requests already waiting are checked the same way.
``rate_counts`` holds fixed-window counters for submissions, picker lookups and
reminders. ``requests.form`` keeps the submitted form, which the decision made
again just before the RDS call validates once more (older rows have none: for
them that call re-checks the policy and tags only, never refusing a form it cannot see).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from bot.store.migrations.json_rows import as_object

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("resources", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("form", sa.JSON(), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, instance_id, region_id, resource, tags FROM requests")).all()
    for row_id, instance_id, region_id, resource, tags in rows:
        one = [{"role": "instance", "instance_id": instance_id, "region_id": region_id, "arn": resource,
                "tags": as_object(tags)}]
        conn.execute(sa.text("UPDATE requests SET resources = :r, form = :f WHERE id = :id"),
                     {"r": json.dumps(one), "f": "{}", "id": row_id})
    with op.batch_alter_table("requests") as batch:
        batch.alter_column("resources", existing_type=sa.JSON(), nullable=False)
        batch.alter_column("form", existing_type=sa.JSON(), nullable=False)
    op.create_table(
        "rate_counts",
        sa.Column("key", sa.String(length=200), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rate_counts")
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("form")
        batch.drop_column("resources")
