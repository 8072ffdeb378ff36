"""Store fixtures: a migrated database on SQLite and (when configured) PostgreSQL.

``db`` is a freshly migrated database per test, on each backend. Running the
migrations for every test, and creating and dropping a PostgreSQL database for
each (``DROP DATABASE`` forces a checkpoint), cost more than most store tests
themselves; so the migrations run once per worker process, and each test gets
a copy of that result: a copied SQLite file, or the worker's PostgreSQL database
put back to exactly its just-migrated rows (see ``_ReusedPostgres``).
``shared_db`` is one migrated database per module and backend, for tests that
are many but small (the transition table); they must use unique request ids.
Tests that need an empty, unmigrated database use ``database_url``.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, bindparam, text
from sqlalchemy.engine import Connection

from bot.store import migrate
from bot.store.db import Database
from bot.store.models import Request
from bot.store.types import UTCDateTime
from bot.timeutil import utcnow
from tests.conftest import DATABASES, PG_URL_ENV, _create_pg_database, _drop_pg_database, _postgres_admin_url


@pytest.fixture(params=DATABASES)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A Database on a fresh, migrated schema: a SQLite file, then (if configured) PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "rdsbot.db"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("reused_postgres").fresh()
    database = Database(url)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file the migrations have run on, once per worker process (``db`` copies it)."""
    path = tmp_path_factory.mktemp("migrated") / "rdsbot.db"
    database = Database(f"sqlite:///{path}")
    migrate.upgrade(database)
    database.dispose()  # the last connection checkpoints the WAL into the file and removes it
    assert not path.with_name(path.name + "-wal").exists(), "the template must be one self-contained file"
    return path


class _ReusedPostgres:
    """One migrated PostgreSQL database per worker process, put back before each test to
    exactly what the migrations left: no other connection, the same schema (else it is
    replaced by a new one), every table's rows and every sequence as right after migrating."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.url: str | None = None
        self.name: str | None = None
        self.schema: list[Any] = []
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.sequences: dict[str, int | None] = {}
        self.metadata = MetaData()

    def fresh(self) -> str:
        if self.url is None or not self._reset():
            self._replace()
        assert self.url is not None
        return self.url

    def _replace(self) -> None:
        self.close()
        self.url, self.name = _create_pg_database(self.admin_url)
        database = Database(self.url)
        try:
            migrate.upgrade(database)
            with database.engine.connect() as conn:
                self.schema = _pg_schema(conn)
                self.metadata = MetaData()
                self.metadata.reflect(conn)
                self.rows = {t.name: [dict(r._mapping) for r in conn.execute(t.select())]
                             for t in self.metadata.sorted_tables if t.name != "alembic_version"}
                self.sequences = _pg_sequences(conn)
        finally:
            database.dispose()

    def _reset(self) -> bool:
        """Empty the database back to its migrated rows; False if the schema changed (then replace it)."""
        assert self.url is not None
        database = Database(self.url)
        try:
            with database.engine.begin() as conn:
                # What DROP DATABASE ... WITH (FORCE) would do: nobody else is connected, and
                # no lock or advisory lock of the previous test is left.
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
                if _pg_schema(conn) != self.schema:
                    return False
                tables = [t for t in self.metadata.sorted_tables if t.name != "alembic_version"]
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " RESTART IDENTITY CASCADE"))
                for table in tables:
                    if self.rows[table.name]:
                        conn.execute(table.insert(), self.rows[table.name])
                for sequence, last_value in self.sequences.items():
                    if last_value is not None:
                        conn.execute(text("SELECT setval(:s, :v, true)"), {"s": sequence, "v": last_value})
            return True
        finally:
            database.dispose()

    def close(self) -> None:
        if self.name is not None:
            _drop_pg_database(self.admin_url, self.name)
        self.url = self.name = None


def _pg_schema(conn: Connection) -> list[Any]:
    """Everything about the schema a test could change: relations, columns, constraints, triggers, functions."""
    queries = [
        "SELECT c.relname, c.relkind, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
        "pg_get_expr(d.adbin, d.adrelid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
        "LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum "
        "WHERE n.nspname = 'public' ORDER BY 1, 3",
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1",
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2",
        "SELECT tgrelid::regclass::text, tgname, tgenabled FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2",
        "SELECT proname, md5(prosrc) FROM pg_proc WHERE pronamespace = 'public'::regnamespace ORDER BY 1",
        "SELECT version_num FROM alembic_version",
    ]
    return [conn.execute(text(q)).all() for q in queries]


def _pg_sequences(conn: Connection) -> dict[str, int | None]:
    rows = conn.execute(text("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"))
    return {name: value for name, value in rows}


@pytest.fixture(scope="session")
def reused_postgres() -> Iterator[_ReusedPostgres]:
    admin = _postgres_admin_url()
    if not admin:
        pytest.skip(f"PostgreSQL tests need {PG_URL_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/postgres); "
                    ".ci/run sets it")
    reused = _ReusedPostgres(admin)
    yield reused
    reused.close()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def shared_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """One migrated database per module and backend; tests must use unique request ids."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("shared") / "rdsbot.db"
        database = Database(f"sqlite:///{path}")
        migrate.upgrade(database)
        yield database
        database.dispose()
        return
    admin = _postgres_admin_url()
    if not admin:
        pytest.skip(f"PostgreSQL tests need {PG_URL_ENV}")
    url, name = _create_pg_database(admin)
    database = Database(url)
    try:
        migrate.upgrade(database)
        yield database
    finally:
        database.dispose()
        _drop_pg_database(admin, name)


def new_request(state: str, *, request_id: str | None = None, operation: str = "clone", **fields: Any) -> Request:
    now = utcnow()
    values: dict[str, Any] = dict(
        id=request_id or f"{operation}-test-{uuid.uuid4().hex[:12]}",
        operation=operation,
        state=str(state),
        requester="U0ALICE",
        channel_id="C0OPS",
        region_id="cn-hangzhou",
        instance_id="rm-test1",
        resource="acs:rds:cn-hangzhou:*:dbinstance/rm-test1",
        params={"DBInstanceId": "rm-test1"},
        tags={},
        created_at=now,
        updated_at=now,
    )
    values.update(fields)
    return Request(**values)


def insert_request(db: Database, state: str, **kwargs: Any) -> str:
    """A request row put straight into ``state`` (bypassing create's initial-state rule)."""
    with db.session() as session:
        request = new_request(state, **kwargs)
        session.add(request)
        return request.id


def raw(db: Database, sql: str, **params: Any) -> Any:
    """Run raw SQL in its own transaction (the tamperer's view of the database)."""
    with db.engine.begin() as conn:
        result = conn.execute(text(sql), params)
        return result.fetchall() if result.returns_rows else result.rowcount


def raw_set_time(db: Database, table: str, column: str, value: datetime, where: str, **params: Any) -> int:
    """UPDATE one timestamp column with raw SQL, stored exactly as the app stores it."""
    stmt = text(f"UPDATE {table} SET {column} = :value WHERE {where}").bindparams(
        bindparam("value", type_=UTCDateTime())
    )
    with db.engine.begin() as conn:
        return conn.execute(stmt, {"value": value, **params}).rowcount


def raw_set_json(db: Database, table: str, column: str, value: Any, where: str, **params: Any) -> int:
    """UPDATE one JSON column with raw SQL."""
    placeholder = ":value" if db.is_sqlite else "CAST(:value AS json)"
    with db.engine.begin() as conn:
        return conn.execute(
            text(f"UPDATE {table} SET {column} = {placeholder} WHERE {where}"),
            {"value": json.dumps(value), **params},
        ).rowcount
