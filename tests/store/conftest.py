"""Store fixtures: a migrated database on SQLite and (when configured) PostgreSQL.

``db`` builds on the shared ``database_url`` fixture (a fresh database per test);
``shared_db`` is one migrated database per module and backend, for tests that
are many but small (the transition table), where a fresh PostgreSQL database
per case would cost more than the case itself.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, text

from bot.store import migrate
from bot.store.db import Database
from bot.store.models import Request
from bot.store.types import UTCDateTime
from bot.timeutil import utcnow
from tests.conftest import _create_pg_database, _drop_pg_database, _postgres_admin_url, PG_URL_ENV


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A Database on a fresh, migrated schema."""
    database = Database(database_url)
    migrate.upgrade(database)
    try:
        yield database
    finally:
        database.dispose()


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
