"""What a request was checked against, for the approver's card.

``requests.checked`` keeps, from intake, each touched instance's engine,
version, class, storage and tags, the backup set or restore window, a copy
target's databases, the rules that allowed the requester and set the
approvals, and a clone's price (DescribePrice). Older rows get ``{}``: their
cards show what they showed before.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("checked", sa.JSON(), nullable=True))
    op.execute(sa.text("UPDATE requests SET checked = '{}'"))
    with op.batch_alter_table("requests") as batch:
        batch.alter_column("checked", existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("checked")
