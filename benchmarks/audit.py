"""Audit: appending to the hash chain from 4 threads (SQLite, PostgreSQL) and verifying 1,000,000 events.

Appends run as the workflow runs them: each event in its own transaction
(``Database.session()`` then ``bot.store.audit.append``, what ``transitions.note``
does; a state change adds one UPDATE before it), from 4 threads started together,
on a migrated database configured as the bot configures it (SQLite: a file in WAL
mode; PostgreSQL at ``RDSBOT_BENCH_POSTGRES_URL``, default
postgresql://postgres@127.0.0.1:5432/postgres: a scratch database made for the
run, ``synchronous_commit`` forced on for it, dropped afterwards). Details are a
realistic mix (a request with its parameters, a decision, a progress step). The
rate is the median of 3 rounds (1 at ``--tiny``). Beside it, in the same run, the
same threads and transactions inserting one row that is not chained: the
database's own price of a transaction, which a chain does not beat. After the rounds the chain must verify
with exactly as many events as were appended, and no two events may share a
predecessor (a fork): anything else is counted as a break.

Verify is what ``rdsbot audit verify`` runs (``audit.verify`` in a reader
session) over a SQLite trail of 1,000,000 events built directly: the chain is
computed here and bulk-inserted, rows exactly as ``append`` stores them (a sample
is rechecked against the reference ``event_hash``). The file is cached under
/tmp, keyed by a hash of the schema and the hash definition, so reruns skip the
build. At ``--quick`` and ``--tiny`` sizes fewer events are verified and the time
is extrapolated to 1,000,000, and labelled so.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import random
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect

from benchmarks.core import Figure, Size, median
from bot.store import audit, audit_sql, migrate
from bot.store.audit_sql import for_dialect
from bot.store.db import Database

BENCH = "audit"
THREADS = 4
SQLITE_GOAL, POSTGRES_GOAL, VERIFY_GOAL_S, VERIFY_EVENTS = 2_000.0, 1_000.0, 10.0, 1_000_000
PG_URL_ENV = "RDSBOT_BENCH_POSTGRES_URL"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"
CACHE_DIR = Path(tempfile.gettempdir())
BUILDER_VERSION = "1"  # bump when the generated trail changes shape
PLAIN_TABLE = "bench_plain_rows"
SQLITE = for_dialect(sqlite_dialect())


# ------------------------------------------------------------------ events
def _event(rng: random.Random, n: int) -> dict[str, Any]:
    """One realistic event: what the workflow appends most (requests, decisions, votes, progress)."""
    rid = f"clone-20261129-{rng.getrandbits(32):08x}"
    instance = f"rm-bp1{rng.getrandbits(40):010x}"
    kind = n % 4
    if kind == 0:
        detail: dict[str, Any] = {"operation": "clone", "reason": "refresh staging from prod for the release test",
                                  "params": {"DBInstanceId": instance, "RegionId": "cn-hangzhou", "PayType": "Postpaid",
                                             "ZoneId": "cn-hangzhou-h", "DBInstanceClass": "mysql.n2.medium.1",
                                             "DBInstanceStorage": 100, "BackupId": str(rng.randrange(10**9)),
                                             "RestoreTime": None},
                                  "tags": {"env": "prod", "team": "payments"}}
        return {"event": "requested", "state": "pending_approval", "actor": "U0ALICE", "request_id": rid,
                "detail": detail}
    if kind == 1:
        return {"event": "approved", "state": "approved", "actor": "U0BOB", "request_id": rid,
                "detail": {"approve": True, "decision": {"allowed": True, "rule": "p, role:dba, rds:Clone*, "
                                                         "acs:rds:*:*:dbinstance/*, allow", "needed": 2, "have": 1}}}
    if kind == 2:
        return {"event": "progress", "state": "running", "actor": "rdsbot", "request_id": rid,
                "detail": {"status": "Creating", "percent": rng.randrange(100), "instance": instance}}
    return {"event": "listed", "state": None, "actor": "U0CAROL", "request_id": None,
            "detail": {"region": "cn-hangzhou", "count": rng.randrange(200), "filter": "env=prod"}}


# ------------------------------------------------------------------ appending
def _run_threads(work: Callable[[int], None]) -> tuple[float, list[BaseException]]:
    """Run ``work(k)`` on THREADS threads started together; wall seconds and what they raised."""
    barrier = threading.Barrier(THREADS + 1)
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        barrier.wait()
        try:
            work(k)
        except BaseException as error:  # noqa: BLE001 - reported as breaks, never swallowed
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(THREADS)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - started, errors


def _appends(db: Database, per_thread: int, seed: int) -> tuple[float, list[BaseException]]:
    events = [[_event(random.Random(seed * 100 + k), n) for n in range(per_thread)] for k in range(THREADS)]

    def work(k: int) -> None:
        for item in events[k]:
            with db.session() as session:
                audit.append(session, **item)

    return _run_threads(work)


def _plain_inserts(db: Database, per_thread: int) -> tuple[float, list[BaseException]]:
    """The same transactions, each inserting one unchained row: the database's own price of a transaction."""
    sql = f"INSERT INTO {PLAIN_TABLE} (k, n, payload) VALUES " + ("(?, ?, ?)" if db.is_sqlite else "(%s, %s, %s)")

    def work(k: int) -> None:
        for n in range(per_thread):
            with db.session() as session:
                cursor = session.connection().connection.cursor()
                cursor.execute(sql, (k, n, "x" * 200))
                cursor.close()

    return _run_threads(work)


def _breaks(db: Database, expected: int, errors: list[BaseException]) -> tuple[int, str]:
    """Problems with the chain after the rounds: failed appends, verify failures, wrong count, forks."""
    with db.reader() as session:
        result = audit.verify(session)
        cursor = session.connection().connection.cursor()
        cursor.execute("SELECT COUNT(*), COUNT(DISTINCT prev_hash), COUNT(DISTINCT hash) FROM audit_events")
        rows, parents, hashes = cursor.fetchone()
        cursor.close()
    problems = len(errors) + (0 if result.ok else 1) + abs(result.count - expected) + (rows - parents) + (rows - hashes)
    why = (f"verify ok={result.ok} count={result.count}/{expected}, {rows - parents} shared parents, "
           f"{len(errors)} errors")
    if errors:
        why += f" (first: {type(errors[0]).__name__}: {str(errors[0])[:120]})"
    return problems, why


def _append_figures(db: Database, label: str, goal: float, per_thread: int, rounds: int) -> list[Figure]:
    migrate.upgrade(db)
    with db.session() as session:
        session.connection().exec_driver_sql(
            f"CREATE TABLE {PLAIN_TABLE} (k INTEGER NOT NULL, n INTEGER NOT NULL, payload VARCHAR(300) NOT NULL)")
    _, errors = _appends(db, 5, seed=0)  # warms the pool and the statement caches
    appended, rates, plain = 5 * THREADS, [], []
    for r in range(rounds):
        wall, errs = _appends(db, per_thread, seed=r + 1)
        rates.append(per_thread * THREADS / wall)
        appended += per_thread * THREADS
        errors += errs
        wall, errs = _plain_inserts(db, per_thread)
        plain.append(per_thread * THREADS / wall)
        errors += errs
    problems, why = _breaks(db, appended, errors)
    note = (f"median of {rounds} rounds of {per_thread * THREADS:,} events, one transaction each; "
            f"{median(rates) / median(plain):.2f} of the unchained rate; {why}")
    return [
        Figure(BENCH, f"append, {THREADS} threads, {label}", round(median(rates)), "events/s", ">=", goal,
               reference=round(median(plain)), reference_label="unchained insert, same transactions", note=note,
               extra={"rounds": [round(x) for x in rates], "plain_rounds": [round(x) for x in plain]}),
        Figure(BENCH, f"chain breaks/forks after the {label} run", problems, "", "==", 0, note=why),
    ]


def _sqlite_append(size: Size) -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="rdsbot-bench-audit-") as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'audit.db'}")
        try:
            return _append_figures(db, "SQLite (WAL)", SQLITE_GOAL, size.pick(2_500, 300, 10),
                                   size.pick(3, 3, 1))
        finally:
            db.dispose()


def _postgres_append(size: Size) -> list[Figure]:
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(os.environ.get(PG_URL_ENV, PG_DEFAULT))
    admin_dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"rdsbot_bench_audit_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
            conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit TO on')
    except psycopg.Error as error:
        return [Figure(BENCH, f"append, {THREADS} threads, PostgreSQL", 0, "events/s", ">=", POSTGRES_GOAL,
                       note=f"PostgreSQL not reachable at {admin.render_as_string()}: {error}"[:300])]
    db = Database(admin.set(database=name).render_as_string(hide_password=False))
    try:
        with db.reader() as session:
            sync = session.connection().exec_driver_sql("SHOW synchronous_commit").scalar()
        figures = _append_figures(db, "PostgreSQL", POSTGRES_GOAL, size.pick(1_250, 150, 10),
                                  size.pick(3, 3, 1))
        figures[0].note += f"; synchronous_commit={sync}"
        return figures
    finally:
        db.dispose()
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ------------------------------------------------------------------ verifying
def _cache_key(events: int) -> str:
    """Schema (migrations, models) and the hash definition: a change to either builds a new trail."""
    digest = hashlib.sha256(f"{BUILDER_VERSION}:{events}".encode())
    for path in sorted(migrate.MIGRATIONS.joinpath("versions").glob("*.py")):
        digest.update(path.read_bytes())
    for source in (audit.event_hash, audit.canonical, audit.text_hash, audit.append, audit_sql._build, _event):
        digest.update(inspect.getsource(source).encode())
    return digest.hexdigest()[:16]


def _trail(events: int) -> Iterator[tuple[Any, ...]]:
    """``events`` rows as ``append`` stores them, chained; every 1,000th checked against ``event_hash``."""
    rng = random.Random(7)
    bind_ts = SQLITE.bind_ts
    prev, start = audit.GENESIS, datetime(2026, 1, 1, tzinfo=UTC)
    for seq in range(1, events + 1):
        item = _event(rng, seq)
        ts = start + timedelta(milliseconds=37 * seq)
        detail_json = audit.canonical(item["detail"])
        digest = audit.text_hash(seq, item["request_id"], item["event"], item["state"], item["actor"],
                               audit.iso(ts), detail_json, prev)
        if seq % 1000 == 1:
            reference = audit.event_hash(seq=seq, request_id=item["request_id"], event=item["event"],
                                         state=item["state"], actor=item["actor"], ts=ts, detail=item["detail"],
                                         prev_hash=prev)
            assert digest == reference, f"the fast hash differs from event_hash at {seq}"
        yield (seq, item["request_id"], item["event"], item["state"], item["actor"], bind_ts(ts), detail_json,
               prev, digest)
        prev = digest


def _build(path: Path, events: int) -> None:
    partial = path.with_name(path.name + f".{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    db = Database(f"sqlite:///{partial}")
    migrate.upgrade(db)
    db.dispose()
    conn = sqlite3.connect(partial, isolation_level=None)
    try:
        # A scratch file renamed into place when complete: no journal while it is written
        # (a 1M-row transaction through the WAL writes its 400 MB twice), then WAL as the bot has it.
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        last = None
        batch: list[tuple[Any, ...]] = []
        for row in _trail(events):
            batch.append(row)
            if len(batch) == 20_000:
                conn.executemany(SQLITE.insert_event, batch)
                last, batch = batch[-1], []
        if batch:
            conn.executemany(SQLITE.insert_event, batch)
            last = batch[-1]
        assert last is not None
        conn.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (last[0], last[8]))
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()
    partial.replace(path)


def _cached_trail(events: int) -> tuple[Path, str]:
    """The trail's file, built unless a build for this schema and hash definition is cached; and what was done."""
    path = CACHE_DIR / f"rdsbot-bench-audit-{events}-{_cache_key(events)}.db"
    if path.exists():
        return path, f"cached at {path}"
    for stale in CACHE_DIR.glob(f"rdsbot-bench-audit-{events}-*.db"):  # an older schema's: 400 MB at full size
        stale.unlink(missing_ok=True)
    started = time.perf_counter()
    _build(path, events)
    return path, f"built in {time.perf_counter() - started:.1f} s, cached at {path}"


def _verify_figures(size: Size) -> list[Figure]:
    events = size.pick(VERIFY_EVENTS, 50_000, 5_000)
    path, built = _cached_trail(events)
    db = Database(f"sqlite:///{path}")
    try:
        times, cpu = [], []
        for _ in range(1 if size is Size.FULL else 3):
            started, cpu_started = time.perf_counter(), time.process_time()
            with db.reader() as session:
                result = audit.verify(session)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
    finally:
        db.dispose()
    seconds = median(times)
    label = "audit verify of 1,000,000 events, SQLite" if events == VERIFY_EVENTS else \
        f"audit verify, SQLite, EXTRAPOLATED to 1,000,000 from {events:,}"
    why = f"verify ok={result.ok} count={result.count:,}/{events:,}" + ("" if result.ok else f": {result.reason}")
    return [
        Figure(BENCH, label, round(seconds * VERIFY_EVENTS / events, 2), "s", "<", VERIFY_GOAL_S,
               note=f"{events / seconds:,.0f} events/s, median of {len(times)} (CPU {median(cpu):.2f} s of "
                    f"{seconds:.2f} s wall); {why}; trail {built}",
               extra={"events": events, "seconds": round(seconds, 3), "times": [round(t, 3) for t in times]}),
        Figure(BENCH, "breaks found by verify in the built trail", (not result.ok) + abs(result.count - events), "",
               "==", 0, note=why),
    ]


def run(size: Size) -> list[Figure]:
    """SQLite and PostgreSQL appends from 4 threads, then verify."""
    return [*_sqlite_append(size), *_postgres_append(size), *_verify_figures(size)]
