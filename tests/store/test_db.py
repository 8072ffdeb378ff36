"""bot.store.db: URLs, SQLite connection set-up, and the transaction helper."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.store.db import Database, normalise_url, redact_url


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"])
def test_postgres_urls_use_psycopg3(scheme: str) -> None:
    assert normalise_url(f"{scheme}://u:pw@h:5432/db") == "postgresql+psycopg://u:pw@h:5432/db"


def test_redact_url_hides_the_password() -> None:
    assert redact_url("postgresql://u:s3cret@h/db") == "postgresql://u:***@h/db"


@pytest.mark.parametrize("url", [
    "sqlite://",
    "sqlite:///",
    "sqlite:///:memory:",
])
def test_in_memory_sqlite_is_refused(url: str) -> None:
    """In memory, every connection (one per thread) would get its own empty database: refused, saying why."""
    with pytest.raises(ValueError, match="use a file for SQLite"):
        Database(url)


def test_a_sqlite_file_keeps_its_schema_across_connections_and_engines(tmp_path: Path) -> None:
    """What ':memory:' would lose, a file keeps: a schema upgraded once is there for every later connection."""
    from bot.store import migrate

    url = f"sqlite:///{tmp_path / 'kept.db'}"
    db = Database(url)
    try:
        migrate.upgrade(db)
        head = migrate.current_revision(db)
        assert head is not None and migrate.is_current(db)
    finally:
        db.dispose()
    again = Database(url)
    try:
        assert migrate.current_revision(again) == head and migrate.is_current(again)
        with again.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM requests").scalar() == 0
    finally:
        again.dispose()


def test_sqlite_connections_are_wal_with_a_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        db.dispose()


def test_session_commits_on_success_and_rolls_back_on_error(database_url: str) -> None:
    db = Database(database_url)
    try:
        with db.session() as session:
            session.execute(text("CREATE TABLE t (a INTEGER)"))
        with pytest.raises(RuntimeError):
            with db.session() as session:
                session.execute(text("INSERT INTO t VALUES (1)"))
                raise RuntimeError
        with db.session() as session:
            session.execute(text("INSERT INTO t VALUES (2)"))
        with db.session() as session:
            assert session.execute(text("SELECT a FROM t")).scalars().all() == [2]
    finally:
        db.dispose()


def test_connecting_to_a_fresh_file_another_connection_is_writing_waits(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # a replica mid-upgrade, before the file is in WAL mode
    holder.execute("CREATE TABLE x (a INTEGER)")
    release = threading.Timer(0.3, lambda: holder.execute("COMMIT"))
    release.start()
    db = Database(f"sqlite:///{path}")
    try:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        release.join()
        holder.close()
        db.dispose()
