"""Schema upgrades through Alembic, safe when two replicas start at once.

On PostgreSQL a session-level advisory lock serialises concurrent upgrades; on
SQLite the ``BEGIN IMMEDIATE`` transaction does the same job.

Only an upgrade imports Alembic. Every start of ``rdsbot serve`` (and every audit
command) merely compares the database's revision with the newest one, and
Alembic's import (with Mako, Pygments and every dialect's DDL) would cost that
process about 10 MB of memory for good and a fifth of a second: the revisions
are read from the migration files and the ``alembic_version`` table directly.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text

from bot.store.db import Database

MIGRATIONS = Path(__file__).with_name("migrations")
# Any fixed 64-bit number works; it only has to be the same for every replica.
UPGRADE_LOCK_KEY = 0x5244_5342_4F54_0001
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps
_REVISION = re.compile(r"""^(down_revision|revision)\s*(?::[^=]+)?=\s*(None|["']([\w-]+)["'])\s*$""", re.M)


def _config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def alembic_head() -> str:
    """The newest revision as Alembic works it out (what :func:`head_revision` must agree with)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def head_revision() -> str:
    """The newest revision: the one no migration file revises. A history this simple reading cannot
    follow (a merge, a branch, a revision written another way) is left to Alembic."""
    revisions: dict[str, str | None] = {}
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        found = {name: ident for name, _value, ident in _REVISION.findall(path.read_text(encoding="utf-8"))}
        if "revision" in found and "down_revision" in found:
            revisions[found["revision"]] = found["down_revision"] or None
        elif path.name != "__init__.py":
            return alembic_head()
    heads = set(revisions) - {parent for parent in revisions.values() if parent}
    return heads.pop() if len(heads) == 1 else alembic_head()


def current_revision(db: Database) -> str | None:
    """The database's revision (None: no schema yet)."""
    with db.engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()  # noqa: S608 - a constant
    if len(rows) > 1:
        raise RuntimeError(f"the database is at several revisions at once ({', '.join(sorted(rows))})")
    return rows[0] if rows else None


def upgrade(db: Database, revision: str = "head") -> tuple[str | None, str]:
    """Bring the schema to ``revision``; returns (before, after)."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

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
