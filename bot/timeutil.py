"""Time in one place: the bot's clock, the RDS API's formats, and human durations.

Every "now" the bot reads comes from :data:`CLOCK`, so tests move time
(approval expiry, reminders, job time-outs) instead of sleeping for it.
Monotonic timers for caches and budgets stay on :func:`time.monotonic`: they
measure how long the process waited, not what time it is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.i18n import _

API_SECONDS = "%Y-%m-%dT%H:%M:%SZ"  # RestoreTime, DescribeCrossRegionBackups
API_MINUTES = "%Y-%m-%dT%H:%MZ"  # DescribeBackups


class Clock:
    """Wall time plus an offset that tests may move forward (never backward)."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            offset = self._offset
        return datetime.now(UTC) + offset

    def advance(self, seconds: float) -> None:
        """Jump ``seconds`` ahead; the bot's next look at the time sees the future."""
        if seconds < 0:
            raise ValueError("the clock only moves forward: stored times must stay in order")
        with self._lock:
            self._offset += timedelta(seconds=seconds)

    @property
    def offset_s(self) -> float:
        with self._lock:
            return self._offset.total_seconds()

    def reset(self) -> None:
        """Back to wall time (between tests)."""
        with self._lock:
            self._offset = timedelta(0)


CLOCK = Clock()


def utcnow() -> datetime:
    """Aware UTC with microseconds from :data:`CLOCK`: what both databases store and give back alike."""
    return CLOCK.now()


def iso(ts: datetime) -> str:
    """ISO 8601 in UTC with microseconds, as the audit export writes it."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def to_api(ts: datetime, fmt: str = API_SECONDS) -> str:
    return ts.astimezone(UTC).strftime(fmt)


def parse_api(text: str) -> datetime:
    """Parse the API's UTC formats (seconds or minutes, with or without 'Z')."""
    text = text.strip()
    for fmt in (API_SECONDS, API_MINUTES, "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ValueError(f"not a UTC time in yyyy-MM-ddTHH:mm:ssZ form: {text!r}")


def human_duration(delta: timedelta) -> str:
    """'3 d 4 h', '12 min', '19 h', '40 s': the largest unit and the next one if not zero."""
    seconds = int(abs(delta.total_seconds()))
    for index, (unit, size) in enumerate(_UNITS):
        if seconds >= size or size == 1:
            value, rest = divmod(seconds, size)
            text = unit(value)
            if index + 1 < len(_UNITS):
                next_unit, next_size = _UNITS[index + 1]
                if rest // next_size:
                    text += " " + next_unit(rest // next_size)
            return text
    return _("{n} s", n=0)


# Abbreviated units (no plural forms), each its own message id.
_UNITS: tuple[tuple[Callable[[int], str], int], ...] = (
    (lambda n: _("{n} d", n=n), 86400),
    (lambda n: _("{n} h", n=n), 3600),
    (lambda n: _("{n} min", n=n), 60),
    (lambda n: _("{n} s", n=n), 1),
)


def human_time(ts: datetime) -> str:
    """'2026-11-29 09:00 UTC': short and unambiguous (plain text: field errors, option labels)."""
    return ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def slack_date(ts: datetime, style: str = "{date_short_pretty} {time}") -> str:
    """A moment written in Slack's date syntax, so each reader sees it in their own zone.

    Only mrkdwn renders it (messages, section and context text): plain_text
    (labels, options, modal field errors) takes :func:`human_time` instead.
    The fallback, for clients that cannot render it, is the UTC time saying so.
    Plain Python and no Slack import: operations (a clone's outcome) use it too.
    """
    aware = _aware(ts)
    return f"<!date^{int(aware.timestamp())}^{style}|{human_time(aware)}>"


def _aware(ts: datetime) -> datetime:
    """The bot's times are UTC; a naive one (from an old row) is read as UTC, never as the host's zone."""
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


def slack_date_of(text: str | None) -> str | None:
    """:func:`slack_date` of a stored ISO 8601 or API time; None when ``text`` is not a time."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = parse_api(text)
        except ValueError:
            return None
    return slack_date(moment)


def utc_offset(ts: datetime, zone: str) -> str:
    """'UTC+8', 'UTC-3:30', 'UTC': the zone's offset at that moment (daylight saving included)."""
    offset = _aware(ts).astimezone(ZoneInfo(zone)).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    if minutes == 0:
        return "UTC"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{'+' if minutes > 0 else '-'}{hours}" + (f":{rest:02d}" if rest else "")


def local_time(ts: datetime, zone: str) -> str:
    """'2026-12-06 10:00': the wall-clock time in ``zone`` (say which zone next to it)."""
    return _aware(ts).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def zoned_time(ts: datetime, zone: str) -> str:
    """'Mon 2026-12-07 09:00 Asia/Tokyo': a moment in a named zone (a reminder's schedule), said outright."""
    days = (_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun"))
    local = _aware(ts).astimezone(ZoneInfo(zone))
    return f"{days[local.weekday()]} {local.strftime('%Y-%m-%d %H:%M')} {zone}"


def epoch_of(text: str | None) -> int | None:
    """Epoch seconds of a time as a form carries it (a datetimepicker's epoch, or API text); None if neither."""
    if not text:
        return None
    text = text.strip()
    if text.isdigit():
        return int(text)
    try:
        return int(parse_api(text).timestamp())
    except ValueError:
        return None


def human_bytes(size: int | float) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"
