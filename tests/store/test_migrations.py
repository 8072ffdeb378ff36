"""Alembic migrations: create, idempotence, `rdsbot db current`, model/schema drift, concurrent upgrades."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlmodel import SQLModel
from typer.testing import CliRunner

import bot.store.models  # noqa: F401  (registers the tables)
from bot.cli import app
from bot.store import audit, migrate
from bot.store.db import Database

from .conftest import raw

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()

CORE_TABLES = {"requests", "approvals", "audit_events", "audit_head", "outbox"}
APP_TABLES = set(SQLModel.metadata.tables)  # every table the models declare (newer revisions add some)


def _tables(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return set(inspect(conn).get_table_names())


def _schema(db: Database) -> dict[str, tuple]:
    """A comparable picture of the schema: columns, indexes, unique constraints per table."""
    picture = {}
    with db.engine.connect() as conn:
        insp = inspect(conn)
        for table in sorted(insp.get_table_names()):
            cols = tuple((c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(table))
            idx = tuple(sorted((i["name"], tuple(i["column_names"])) for i in insp.get_indexes(table)))
            uqs = tuple(sorted((u["name"] or "", tuple(u["column_names"])) for u in insp.get_unique_constraints(table)))
            picture[table] = (cols, idx, uqs)
    return picture


def _downgrade(db: Database, revision: str = "base") -> None:
    config = migrate._config()
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def _cli(url: str, *args: str):
    return runner.invoke(app, list(args), env={"RDSBOT_DATABASE_URL": url})


def _open_file_first(url: str) -> None:
    """SQLite only: create the (still empty) file in WAL mode before the race.

    Switching a brand-new file to WAL while another connection writes used to fail
    with "database is locked"; Database now retries (``bot.store.db._enable_wal``)
    and test_db.py's ``test_connecting_to_a_fresh_file_another_connection_is_writing_waits``
    covers that, so these tests race on the schema upgrade itself.
    """
    if url.startswith("sqlite"):
        db = Database(url)
        with db.engine.connect():
            pass
        db.dispose()


def _assert_single_head_schema(db: Database) -> None:
    assert APP_TABLES | {"alembic_version"} <= _tables(db)
    assert raw(db, "SELECT version_num FROM alembic_version") == [(migrate.head_revision(),)]
    assert raw(db, "SELECT id, seq, hash FROM audit_head") == [(1, 0, audit.GENESIS)]


def test_upgrade_on_empty_database_creates_every_table(database_url: str) -> None:
    db = Database(database_url)
    try:
        assert APP_TABLES.isdisjoint(_tables(db))
        assert migrate.current_revision(db) is None
        before, after = migrate.upgrade(db)
        assert (before, after) == (None, migrate.head_revision())
        assert CORE_TABLES <= APP_TABLES
        _assert_single_head_schema(db)
        assert migrate.is_current(db)
    finally:
        db.dispose()


def test_head_revision_read_from_the_files_is_alembics() -> None:
    assert migrate.head_revision() == migrate.alembic_head()


def test_checking_an_up_to_date_database_imports_no_alembic(tmp_path: Path) -> None:
    # `serve` checks the schema at every start: Alembic (with Mako, Pygments and every dialect's DDL)
    # is about 10 MB the process would keep; only an upgrade needs it.
    url = f"sqlite:///{tmp_path / 'current.db'}"
    db = Database(url)
    migrate.upgrade(db)
    db.dispose()
    code = ("import sys\nfrom bot.store import migrate\nfrom bot.store.db import Database\n"
            f"db = Database({url!r})\nassert migrate.is_current(db)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako', 'pygments')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_upgrade_twice_is_a_no_op(database_url: str) -> None:
    db = Database(database_url)
    try:
        migrate.upgrade(db)
        first = _schema(db)
        head = migrate.head_revision()
        assert migrate.upgrade(db) == (head, head)
        assert _schema(db) == first
        _assert_single_head_schema(db)  # the head row was not inserted a second time
    finally:
        db.dispose()


def test_db_current_exits_0_at_head_and_1_when_behind(database_url: str) -> None:
    head = migrate.head_revision()
    result = _cli(database_url, "db", "current")
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"empty (newest: {head})")

    result = _cli(database_url, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert f"empty -> {head}" in result.output

    result = _cli(database_url, "db", "current")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{head} (newest: {head})")

    script = ScriptDirectory.from_config(migrate._config())
    previous = script.get_revision(head).down_revision
    db = Database(database_url)
    try:
        if previous is not None:  # one revision behind
            _downgrade(db, "-1")
            assert migrate.current_revision(db) == previous
            result = _cli(database_url, "db", "current")
            assert result.exit_code == 1, result.output
            assert result.output.startswith(f"{previous} (newest: {head})")
            assert not migrate.is_current(db)
        _downgrade(db, "base")
        assert APP_TABLES.isdisjoint(_tables(db))
        assert migrate.current_revision(db) is None
    finally:
        db.dispose()
    result = _cli(database_url, "db", "current")
    assert result.exit_code == 1, result.output
    assert result.output.startswith("empty (newest:")

    # and back up again from base
    result = _cli(database_url, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert _cli(database_url, "db", "current").exit_code == 0


def _flatten(diffs: list) -> list[tuple]:
    """compare_metadata groups column changes in lists; flatten to single tuples."""
    flat: list[tuple] = []
    for diff in diffs:
        flat.extend(diff if isinstance(diff, list) else [diff])
    return flat


def _justified(diff: tuple) -> bool:
    """A server default that only the migration has, for a column the ORM always fills.

    Adding a NOT NULL column to a table that may hold rows needs a server default
    to backfill them; the model sets the value in Python on every insert, so the
    two agree on every row the application writes.
    """
    if diff[0] != "modify_default":
        return False
    _, _schema, table, column, _kw, _db_default, model_default = diff
    model_column = SQLModel.metadata.tables[table].c[column]
    return model_default is None and model_column.default is not None and not model_column.nullable


def test_models_match_the_migrated_schema(database_url: str) -> None:
    db = Database(database_url)
    try:
        migrate.upgrade(db)
        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True}
            )
            diffs = _flatten(compare_metadata(context, SQLModel.metadata))
        assert [d for d in diffs if not _justified(d)] == []
    finally:
        db.dispose()


def test_two_threads_upgrading_one_empty_database_both_succeed(database_url: str) -> None:
    _open_file_first(database_url)
    barrier = threading.Barrier(3)
    results: list[tuple[str | None, str]] = []
    errors: list[BaseException] = []

    def replica() -> None:
        db = Database(database_url)  # each "replica" has its own engine and connections
        try:
            barrier.wait()
            results.append(migrate.upgrade(db))
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            db.dispose()

    threads = [threading.Thread(target=replica) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    head = migrate.head_revision()
    # exactly one of them did the work; the others found the schema at head
    assert sorted(results, key=lambda r: r[0] or "") == [(None, head), (head, head), (head, head)]
    db = Database(database_url)
    try:
        _assert_single_head_schema(db)
    finally:
        db.dispose()


_REPLICA = """
import sys
from bot.store import migrate
from bot.store.db import Database
db = Database(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
before, after = migrate.upgrade(db)
print(f"{before or 'empty'} -> {after}", flush=True)
"""


def test_two_processes_upgrading_one_empty_database_both_succeed(database_url: str) -> None:
    _open_file_first(database_url)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _REPLICA, database_url],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        )
        for _ in range(2)
    ]
    try:
        for p in procs:
            assert p.stdout is not None
            assert p.stdout.readline().strip() == "ready"
        for p in procs:  # release both as close together as we can
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        outputs = [p.communicate(timeout=60) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    head = migrate.head_revision()
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert sorted(out.strip() for out, _ in outputs) == sorted([f"empty -> {head}", f"{head} -> {head}"])
    db = Database(database_url)
    try:
        _assert_single_head_schema(db)
    finally:
        db.dispose()
