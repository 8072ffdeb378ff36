"""Shared fixtures: databases (SQLite file, and PostgreSQL when available) and the stack.

Which database a test runs on is the ``database_url`` fixture's parameter. By
default a test runs on both: the store, its migrations, crash recovery and
replicas are where SQLite and PostgreSQL can differ (locking, advisory locks,
types, DDL). Folders whose tests drive the whole bot through Slack and RDS
(``tests/e2e``) narrow it to SQLite in their own conftest with
``database_fixture("sqlite")``: the bot reaches the database only through the
store, so a PostgreSQL twin of each flow would repeat the store's tests at
twice the cost. A single test can still ask for both with
``@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

PG_URL_ENV = "RDSBOT_TEST_POSTGRES_URL"
DATABASES = ("sqlite", "postgres")


def _postgres_admin_url() -> str | None:
    return os.environ.get(PG_URL_ENV)


def _create_pg_database(admin_url: str) -> tuple[str, str]:
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"rdsbot_test_{uuid.uuid4().hex[:10]}"
    url = make_url(admin_url)
    conn_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conn_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False), name


def _drop_pg_database(admin_url: str, name: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    conn_url = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conn_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fresh_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of a new, empty database of ``kind`` ("sqlite" or "postgres"); drop it afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'rdsbot.db'}"
        return
    admin = _postgres_admin_url()
    if not admin:
        pytest.skip(f"PostgreSQL tests need {PG_URL_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/postgres); "
                    ".ci/run sets it")
    url, name = _create_pg_database(admin)
    try:
        yield url
    finally:
        _drop_pg_database(admin, name)


def database_fixture(*kinds: str) -> Callable[..., Any]:
    """A ``database_url`` fixture whose tests run once per database in ``kinds``."""

    @pytest.fixture(params=list(kinds))
    def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
        """A fresh, empty database: a SQLite file, or (if configured) a PostgreSQL database."""
        yield from fresh_database(request.param, tmp_path)

    return database_url


database_url = database_fixture(*DATABASES)


@pytest.fixture(autouse=True)
def _wall_clock_after_each_test() -> Iterator[None]:
    """Tests may move the bot's clock forward (``CLOCK.advance``); the next test starts on wall time."""
    yield
    from bot.timeutil import CLOCK

    CLOCK.reset()


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With ``-n``, idle workers take tests from busy ones (xdist's "worksteal").

    The default ("load") hands each worker a first batch of about a sixteenth of the
    suite, in collection order: one worker got every chaos test and the first e2e
    modules (about six minutes of work) while the other three were done in two or
    three. Work stealing keeps the order within each worker (module fixtures stay
    shared) and lets the others take over the tail of a long queue.
    """
    from xdist.scheduler import WorkStealingScheduling

    return WorkStealingScheduling(config, log)
