"""Which account a request's instance lives in.

``requests.account`` is the alias, in ``accounts.toml``, of the account the
request's instance was found in; with ``region_id`` it says where every call of
the request goes (the job, its progress, recovery). Older rows, and every row of
a deployment without accounts.toml, get ``""``: the deployment's one account.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("account", sa.String(length=64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("account")
