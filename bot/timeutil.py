"""Time in one place: the bot's clock, the RDS API's formats, and human durations.

Every "now" the bot reads comes from :data:`CLOCK`, so tests move time
(approval expiry, reminders, job time-outs) instead of sleeping for it.
Monotonic timers for caches and budgets stay on :func:`time.monotonic`: they
measure how long the process waited, not what time it is.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

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
    units = (("d", 86400), ("h", 3600), ("min", 60), ("s", 1))
    for index, (name, size) in enumerate(units):
        if seconds >= size or name == "s":
            value, rest = divmod(seconds, size)
            text = f"{value} {name}"
            if index + 1 < len(units):
                next_name, next_size = units[index + 1]
                if rest // next_size:
                    text += f" {rest // next_size} {next_name}"
            return text
    return "0 s"


def human_time(ts: datetime) -> str:
    """'2026-11-29 09:00 UTC': short and unambiguous."""
    return ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def human_bytes(size: int | float) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"
