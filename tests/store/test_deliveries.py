"""The duplicate-delivery log: a key is new exactly once, whichever replica or thread asks."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.store.db import Database
from bot.store.deliveries import KEEP, DeliveryLog
from bot.store.models import Delivery
from bot.timeutil import CLOCK


def test_a_key_is_new_once_and_a_second_replica_sees_it_too(db: Database) -> None:
    replica = Database(db.url)
    try:
        first, second = DeliveryLog(db), DeliveryLog(replica)
        assert first.first_time("trigger:1") is True
        assert first.first_time("trigger:1") is False
        assert second.first_time("trigger:1") is False
        assert second.first_time("trigger:2") is True
    finally:
        replica.dispose()


def test_threads_racing_on_one_key_let_exactly_one_through(db: Database) -> None:
    log = DeliveryLog(db)
    keys = [f"sig:{n // 8}" for n in range(64)]  # eight threads per key
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(log.first_time, keys))
    assert sum(answers) == 8
    with db.reader() as session:
        assert session.execute(select(func.count()).select_from(Delivery)).scalar_one() == 8


def test_a_key_longer_than_the_column_is_cut_the_same_way_each_time(db: Database) -> None:
    log = DeliveryLog(db)
    assert log.first_time("event:" + "x" * 500) is True
    assert log.first_time("event:" + "x" * 500) is False


def test_old_keys_are_pruned(db: Database) -> None:
    log = DeliveryLog(db)
    log.first_time("trigger:old")
    CLOCK.advance((KEEP + timedelta(minutes=1)).total_seconds())
    log.first_time("trigger:new")
    assert log.prune() == 1
    assert log.first_time("trigger:new") is False


def test_callers_who_wait_while_a_batch_is_written_share_the_next_transaction(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    if not db.is_sqlite:
        pytest.skip("the same code on both; only SQLite's write lock can hold the first caller before it takes the queue")
    log = DeliveryLog(db)
    transactions: list[int] = []
    write_cursor = db.write_cursor

    @contextmanager
    def counted() -> Iterator[Any]:
        transactions.append(1)
        with write_cursor() as cursor:
            yield cursor

    monkeypatch.setattr(db, "write_cursor", counted)
    with ThreadPoolExecutor(8) as pool:
        with db.session():  # the write lock is taken: the first caller waits for it, the other seven queue
            futures = [pool.submit(log.first_time, f"trigger:{n}") for n in range(8)]
            deadline = time.monotonic() + 10
            while len(log._queue) < 8 and time.monotonic() < deadline:
                time.sleep(0.001)
        assert all(f.result() for f in futures)
    assert len(transactions) == 1  # one for all eight


def test_a_broken_batch_reaches_every_caller_in_it(db: Database) -> None:
    from sqlalchemy import text

    with db.session() as session:
        session.execute(text("DROP TABLE deliveries"))
    log = DeliveryLog(db)
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(log.first_time, f"trigger:{n}") for n in range(8)]
        errors = [f.exception(timeout=30) for f in futures]
    assert all(error is not None for error in errors)


def test_a_failed_write_leaves_the_kept_connection_usable(db: Database) -> None:
    """SQLite's write_cursor keeps one connection; a transaction that fails is rolled back on it, not left open."""
    log = DeliveryLog(db)
    assert log.first_time("trigger:before") is True
    with pytest.raises(RuntimeError):
        with db.write_cursor() as cursor:
            cursor.execute(log._sql, ("trigger:rolled-back", "2026-12-07 00:00:00.000000"))
            raise RuntimeError("the caller failed mid-transaction")
    assert log.first_time("trigger:rolled-back") is True  # the failed transaction's row is gone
    assert log.first_time("trigger:after") is True
    assert log.first_time("trigger:after") is False
