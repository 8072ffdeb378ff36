"""Backup sets are found among all of an instance's, not only the newest page (issue 14).

The directory talks to the RDS emulator through the real SDK; PG_STAGING holds
136 backup sets (more than DescribeBackups' page of 100) and cross-region sets
from 45 days to two years back. Call counts come from the emulator's journal.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.operations.base import Context, FieldErrors
from bot.operations.restore import Restore
from bot.rds.backup_search import (
    QueryKind,
    backup_by_id,
    cross_region_by_id,
    oldest_backup,
    parse_query,
    search_backups,
    search_cross_region,
)
from bot.rds.directory import RdsDirectory
from bot.rds.gateway import SdkGateway
from bot.sandbox.rds import RdsEmulator
from bot.sandbox.rds.seed import MYSQL_DEV, PG_STAGING
from bot.timeutil import utcnow

from .conftest import REGION, make_settings


@pytest.fixture
def live(emu: RdsEmulator) -> Iterator[RdsDirectory]:
    """A directory without a cache, so every page read is a call the journal counts."""
    emu.clear_calls()
    yield RdsDirectory(SdkGateway(make_settings(emu)), ttl_s=0)


def calls(emu: RdsEmulator, action: str = "DescribeBackups") -> int:
    return len(emu.calls_for(action))


def ok_sets(emu: RdsEmulator, instance: str) -> list:  # noqa: ANN401 - emulator records
    return sorted((b for b in emu.backups(instance) if b.status == "Success"), key=lambda b: b.start, reverse=True)


@pytest.mark.parametrize(("text", "kind"), [
    ("", QueryKind.NEWEST), ("  ", QueryKind.NEWEST), ("3210", QueryKind.DIGITS), ("2026-05-07", QueryKind.DAY),
    ("2026-5-7", QueryKind.DAY), ("2026-05", QueryKind.MONTH), ("2026-02-30", QueryKind.UNCLEAR),
    ("2026-13", QueryKind.UNCLEAR), ("2026-05-", QueryKind.UNCLEAR), ("rm-bp1", QueryKind.UNCLEAR),
    ("1999-01-01", QueryKind.UNCLEAR), ("9" * 21, QueryKind.UNCLEAR),
])
def test_what_can_be_typed(text: str, kind: QueryKind) -> None:
    assert parse_query(text).kind is kind


def test_a_day_and_a_month_are_utc_periods() -> None:
    day, month = parse_query("2024-02-29"), parse_query("2024-02")
    assert (day.start, day.end) == (datetime(2024, 2, 29, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC))
    assert (month.start, month.end) == (datetime(2024, 2, 1, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC))


def test_newest_is_one_page_and_says_it_was_cut(live: RdsDirectory, emu: RdsEmulator) -> None:
    sets = ok_sets(emu, PG_STAGING)
    found = search_backups(live, PG_STAGING, "")
    assert [b.id for b in found.items] == [b.id for b in sets[:100]]
    assert (found.complete, found.total, calls(emu)) == (False, len(sets), 1)


def test_newest_of_a_small_history_is_complete(live: RdsDirectory, emu: RdsEmulator) -> None:
    found = search_backups(live, MYSQL_DEV, "")
    assert found.complete and [b.id for b in found.items] == [b.id for b in ok_sets(emu, MYSQL_DEV)]


def test_a_whole_id_finds_the_oldest_set(live: RdsDirectory, emu: RdsEmulator) -> None:
    oldest = ok_sets(emu, PG_STAGING)[-1]
    found = search_backups(live, PG_STAGING, oldest.id)
    assert [b.id for b in found.items] == [oldest.id] and found.complete


def test_a_day_finds_that_days_sets_at_any_age(live: RdsDirectory, emu: RdsEmulator) -> None:
    oldest = ok_sets(emu, PG_STAGING)[-1]
    found = search_backups(live, PG_STAGING, oldest.start.strftime("%Y-%m-%d"))
    assert [b.id for b in found.items] == [oldest.id] and found.complete
    assert calls(emu) == 1


def test_a_month_finds_its_sets(live: RdsDirectory, emu: RdsEmulator) -> None:
    month = ok_sets(emu, PG_STAGING)[-1].start.strftime("%Y-%m")
    wanted = [b.id for b in ok_sets(emu, PG_STAGING) if b.start.strftime("%Y-%m") == month]
    assert [b.id for b in search_backups(live, PG_STAGING, month).items] == wanted


def test_digits_page_through_every_set(live: RdsDirectory, emu: RdsEmulator) -> None:
    wanted = [b.id for b in ok_sets(emu, PG_STAGING) if "3200001" in b.id]
    found = search_backups(live, PG_STAGING, "3200001")
    assert wanted and [b.id for b in found.items] == wanted and found.complete
    assert calls(emu) == 1 + 2  # the direct look-up, then both pages


def test_paging_stops_at_the_bound_and_says_so(live: RdsDirectory, emu: RdsEmulator) -> None:
    oldest = ok_sets(emu, PG_STAGING)[-1].id  # only on the second page
    found = search_backups(live, PG_STAGING, oldest[:-1], max_pages=1)
    assert oldest not in [b.id for b in found.items]
    assert not found.complete and found.searched == 100 and calls(emu) == 2


def test_something_else_typed_costs_no_call(live: RdsDirectory, emu: RdsEmulator) -> None:
    found = search_backups(live, PG_STAGING, "2026-05-")
    assert (found.items, found.query.kind, calls(emu)) == ([], QueryKind.UNCLEAR, 0)


def test_by_id_finds_any_state_and_only_the_instances(live: RdsDirectory, emu: RdsEmulator) -> None:
    oldest = ok_sets(emu, PG_STAGING)[-1].id
    found = backup_by_id(live, PG_STAGING, oldest)
    assert found is not None and found.id == oldest
    assert backup_by_id(live, MYSQL_DEV, oldest) is None


def test_the_oldest_set_is_read_from_the_last_page(live: RdsDirectory, emu: RdsEmulator) -> None:
    oldest = oldest_backup(live, PG_STAGING)
    assert oldest is not None and oldest.id == ok_sets(emu, PG_STAGING)[-1].id and calls(emu) == 2


# ---------------------------------------------------------------- cross-region sets over 730 days


def cross_ids(emu: RdsEmulator, *, older_than: int, younger_than: int = 730) -> list[int]:
    now = utcnow()
    return [c.id for c in emu.cross_region_backups(PG_STAGING)
            if timedelta(days=older_than) < now - c.start < timedelta(days=younger_than)]


def test_cross_region_sets_of_the_whole_730_days(live: RdsDirectory, emu: RdsEmulator) -> None:
    found = search_cross_region(live, PG_STAGING, "", now=utcnow())
    ids = [b.id for b in found.items]
    old = cross_ids(emu, older_than=30)
    assert len(old) == 4 and set(old) <= set(ids) and found.complete
    assert not set(cross_ids(emu, older_than=730, younger_than=10_000)) & set(ids), "beyond 730 days"
    assert ids == [b.id for b in sorted(found.items, key=lambda b: b.start, reverse=True)]


def test_cross_region_sets_by_day_and_by_id(live: RdsDirectory, emu: RdsEmulator) -> None:
    target = next(c for c in emu.cross_region_backups(PG_STAGING) if c.id in cross_ids(emu, older_than=300))
    by_day = search_cross_region(live, PG_STAGING, target.start.strftime("%Y-%m-%d"), now=utcnow())
    assert [b.id for b in by_day.items] == [target.id]
    by_id = search_cross_region(live, PG_STAGING, str(target.id), now=utcnow())
    assert [b.id for b in by_id.items] == [target.id]


def test_a_cross_region_set_beyond_730_days_is_not_found(live: RdsDirectory, emu: RdsEmulator) -> None:
    (ancient,) = cross_ids(emu, older_than=730, younger_than=10_000)
    assert cross_region_by_id(live, PG_STAGING, ancient, now=utcnow()) is None
    assert search_cross_region(live, PG_STAGING, str(ancient), now=utcnow()).items == []


def test_restore_accepts_a_cross_region_set_of_two_years_ago(directory: RdsDirectory, emu: RdsEmulator) -> None:
    ctx = Context(directory=directory, now=utcnow(), region_id=REGION, user="U0ALICE")
    form = {"DBInstanceId": PG_STAGING, "RestoreType": "0", "TableMetaLines": "analytics -> analytics_2y",
            "reason": "INC-1"}
    old = max(cross_ids(emu, older_than=600))
    assert Restore().validate({**form, "BackupId": str(old)}, ctx).params["BackupId"] == str(old)
    (ancient,) = cross_ids(emu, older_than=730, younger_than=10_000)
    with pytest.raises(FieldErrors) as info:
        Restore().validate({**form, "BackupId": str(ancient)}, ctx)
    assert "is not a cross-region backup set of" in info.value.errors["BackupId"]
