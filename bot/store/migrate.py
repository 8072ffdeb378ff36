"""Schema upgrades through Alembic, safe when two replicas start at once.

On PostgreSQL a session-level advisory lock serialises concurrent upgrades; on
SQLite the ``BEGIN IMMEDIATE`` transaction does the same job.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.store.db import Database

MIGRATIONS = Path(__file__).with_name("migrations")
# Any fixed 64-bit number works; it only has to be the same for every replica.
UPGRADE_LOCK_KEY = 0x5244_5342_4F54_0001


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database, revision: str = "head") -> tuple[str | None, str]:
    """Bring the schema to ``revision``; returns (before, after)."""
    config = _config()
    with db.engine.begin() as conn:
        if not db.is_sqlite:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": UPGRADE_LOCK_KEY})
        before = MigrationContext.configure(conn).get_current_revision()
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        after = MigrationContext.configure(conn).get_current_revision()
    return before, after or ""


def is_current(db: Database) -> bool:
    return current_revision(db) == head_revision()
