"""Finding backup sets among all of an instance's, not just the newest page.

DescribeBackups and DescribeCrossRegionBackups answer 100 sets a page at most.
A picker's query (what the person typed) becomes the narrowest call that can
answer it, and paging stops after :data:`MAX_PAGES` calls, so one keystroke
never costs more than that; :class:`Found` says when the answer was cut.

What can be typed (:func:`parse_query`):

* nothing: the newest sets;
* a day ``yyyy-mm-dd`` or a month ``yyyy-mm`` (UTC): the sets started then
  (StartTime/EndTime narrow the call, so any age is found in one page or two);
* digits: the sets whose ID contains them; a whole ID is also looked up
  directly (BackupId / CrossBackupId filter), so it is found at any age.

Validation uses the direct look-ups (:func:`backup_by_id`,
:func:`cross_region_by_id`), never a scan of the newest page.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Generic, TypeVar

from bot.rds.directory import BackupInfo, CrossRegionBackup, RdsDirectory

T = TypeVar("T", BackupInfo, CrossRegionBackup)

# Pages read per keystroke, at most (plus one look-up when a whole ID is typed): Slack waits 3 s for
# the options, and pages are cached (RdsDirectory), so the next keystroke reads none of them again.
MAX_PAGES = 5
MAX_SHOWN = 100  # Slack shows at most 100 options
CROSS_REGION_WINDOW = timedelta(days=730)  # what validation (and `/rds backups`) accept at once
CROSS_PAGE_SIZE = 100  # DescribeCrossRegionBackups' largest page
_WHOLE_ID = re.compile(r"^\d{4,20}$")  # long enough to be worth a direct look-up


class QueryKind(StrEnum):
    """What a picker's text asks for."""

    NEWEST = "newest"
    DAY = "day"
    MONTH = "month"
    DIGITS = "digits"
    UNCLEAR = "unclear"  # neither a date nor digits (a date half typed, a word)


@dataclass(frozen=True)
class Query:
    """A parsed picker query: its kind, the digits, or the UTC period it names."""

    kind: QueryKind
    text: str = ""
    start: datetime | None = None
    end: datetime | None = None  # exclusive


def parse_query(text: str) -> Query:
    """The query a picker's text stands for (see the module's docstring)."""
    text = (text or "").strip()
    if not text:
        return Query(QueryKind.NEWEST)
    if text.isdigit() and len(text) <= 20:
        return Query(QueryKind.DIGITS, text)
    match = re.fullmatch(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?", text)
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        day = int(match.group(3)) if match.group(3) else None
        if 2000 <= year <= 2100 and 1 <= month <= 12:
            days_in_month = calendar.monthrange(year, month)[1]
            if day is None:
                start = datetime(year, month, 1, tzinfo=UTC)
                return Query(QueryKind.MONTH, text, start, start + timedelta(days=days_in_month))
            if 1 <= day <= days_in_month:
                start = datetime(year, month, day, tzinfo=UTC)
                return Query(QueryKind.DAY, text, start, start + timedelta(days=1))
    return Query(QueryKind.UNCLEAR, text)


@dataclass
class Found(Generic[T]):
    """What a search found, newest first, and whether that is everything that matches.

    ``complete`` is False when paging stopped at the bound (older sets were not
    read) or more matched than can be shown; ``searched`` counts the sets read,
    ``total`` those the narrowest call said exist.
    """

    query: Query
    items: list[T] = field(default_factory=list)
    complete: bool = True
    searched: int = 0
    total: int = 0


# ------------------------------------------------------------------ one set, by ID


def backup_by_id(directory: RdsDirectory, instance_id: str, backup_id: str) -> BackupInfo | None:
    """The instance's backup set ``backup_id`` in any state and of any age, or None (raises RdsError)."""
    page = directory.backup_page(instance_id, backup_id=backup_id, status=None)
    return next((b for b in page.items if b.id == backup_id), None)


def cross_region_window(now: datetime) -> tuple[datetime, datetime]:
    """The 730 days up to ``now``, with the end on the next whole minute, so keystrokes share cached pages."""
    end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return end - CROSS_REGION_WINDOW, end


def cross_region_by_id(directory: RdsDirectory, instance_id: str, cross_id: int,
                       *, now: datetime) -> CrossRegionBackup | None:
    """The instance's cross-region set ``cross_id`` of the last 730 days, or None (raises RdsError)."""
    start, end = cross_region_window(now)
    page = directory.cross_region_backups(instance_id, start=start, end=end, cross_backup_id=cross_id,
                                          page_size=CROSS_PAGE_SIZE, fresh=False)
    return next((b for b in page.items if b.id == cross_id), None)


# ------------------------------------------------------------------ searches

Fetch = Callable[[int], tuple[list[T], bool, int]]  # page number -> (sets, last page?, total)


def _scan(fetch: Fetch[T], keep: Callable[[T], bool], found: Found[T], *, max_pages: int) -> Found[T]:
    """Read pages until the matches fill the picker, the sets run out, or ``max_pages`` were read."""
    seen = {_key(b) for b in found.items}
    for number in range(1, max_pages + 1):
        sets, last, total = fetch(number)
        found.total = max(found.total, total)
        found.searched += len(sets)
        for backup in sets:
            if keep(backup) and _key(backup) not in seen:
                seen.add(_key(backup))
                found.items.append(backup)
        if len(found.items) >= MAX_SHOWN:
            found.complete = last and len(found.items) == MAX_SHOWN
            del found.items[MAX_SHOWN:]
            return found
        if last:
            return found
    found.complete = False
    return found


def _key(backup: BackupInfo | CrossRegionBackup) -> str:
    return str(backup.id)


def _matches(query: Query, backup_id: str) -> bool:
    """Digits narrow by ID; a date already narrowed the call itself."""
    return query.kind is not QueryKind.DIGITS or query.text in backup_id


def search_backups(directory: RdsDirectory, instance_id: str, text: str, *,
                   max_pages: int = MAX_PAGES) -> Found[BackupInfo]:
    """The instance's successful backup sets that ``text`` asks for (raises RdsError)."""
    query = parse_query(text)
    found: Found[BackupInfo] = Found(query)
    if query.kind is QueryKind.UNCLEAR:
        return found
    if query.kind is QueryKind.DIGITS and _WHOLE_ID.match(query.text):
        exact = backup_by_id(directory, instance_id, query.text)
        if exact is not None and exact.ok:
            found.items.append(exact)
    start = query.start
    # DescribeBackups' EndTime is inclusive and in whole minutes: the period's last minute.
    end = query.end - timedelta(minutes=1) if query.end is not None else None

    def fetch(number: int) -> tuple[list[BackupInfo], bool, int]:
        page = directory.backup_page(instance_id, page=number, start=start, end=end)
        return page.items, page.last, page.total

    pages = 1 if query.kind is QueryKind.NEWEST else max_pages
    return _scan(fetch, lambda b: _matches(query, str(b.id)), found, max_pages=pages)


def search_cross_region(directory: RdsDirectory, instance_id: str, text: str, *, now: datetime,
                        usable: Callable[[CrossRegionBackup], bool] = lambda b: not b.failed,
                        max_pages: int = MAX_PAGES) -> Found[CrossRegionBackup]:
    """The instance's ``usable`` cross-region sets of the last 730 days that ``text`` asks for (raises RdsError)."""
    query = parse_query(text)
    found: Found[CrossRegionBackup] = Found(query)
    if query.kind is QueryKind.UNCLEAR:
        return found
    start, end = cross_region_window(now)
    if query.kind is QueryKind.DIGITS and _WHOLE_ID.match(query.text) and len(query.text) <= 18:
        exact = cross_region_by_id(directory, instance_id, int(query.text), now=now)
        if exact is not None and usable(exact):
            found.items.append(exact)
    if query.start is not None and query.end is not None:
        # Only the part of the day or month inside the 730 days; the API's EndTime is inclusive (seconds).
        start, end = max(start, query.start), min(end, query.end - timedelta(seconds=1))
        if start > end:
            return found

    def fetch(number: int) -> tuple[list[CrossRegionBackup], bool, int]:
        page = directory.cross_region_backups(instance_id, start=start, end=end, page=number,
                                              page_size=CROSS_PAGE_SIZE, fresh=False)
        newest = sorted(page.items, key=lambda b: b.start or b.end or start, reverse=True)
        return newest, page.last, page.total

    return _scan(fetch, lambda b: usable(b) and _matches(query, str(b.id)), found, max_pages=max_pages)


def oldest_backup(directory: RdsDirectory, instance_id: str) -> BackupInfo | None:
    """The instance's oldest successful backup set, read from the last page: two calls at most,
    whatever the number of sets (raises RdsError)."""
    first = directory.backup_page(instance_id)
    page = first if first.last else directory.backup_page(instance_id, page=first.pages)
    items = page.items or first.items  # a set deleted between the two calls can empty the last page
    return items[-1] if items else None
