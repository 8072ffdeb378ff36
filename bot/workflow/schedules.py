"""Reminder schedules in words: daily, weekly, cron-style, or once "in 2 minutes".

APScheduler's triggers compute the next time; the database keeps it, so a
restart loses nothing and no in-memory job store is needed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from bot.i18n import _, tr
from bot.timeutil import zoned_time

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_UNITS = {"s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1, "m": 60, "min": 60, "mins": 60, "minute": 60,
          "minutes": 60, "h": 3600, "hour": 3600, "hours": 3600, "d": 86400, "day": 86400, "days": 86400}
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
MAX_IN = timedelta(days=366)
# Wrapped once at import: per-user languages will need it translated lazily, per reader.
USAGE = _("`/rds remind <instance-id> daily 09:00 [Asia/Shanghai]`, `... weekly mon,thu 09:00 [tz]`, "
          "`... cron 0 9 * * 1-5 [tz]`, `... in 30 minutes`; `/rds remind list`, `/rds remind delete <id>`")


class ScheduleError(ValueError):
    """The schedule words make no sense; the message says how to write them."""


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule: ``spec`` is its canonical text, stored with the reminder."""

    kind: str  # once | daily | weekly | cron
    spec: str
    timezone: str
    at: datetime | None = None  # for "once"

    def next_after(self, moment: datetime) -> datetime | None:
        """The first fire time strictly after ``moment`` (None once a one-shot is done)."""
        if self.kind == "once":
            return self.at if self.at is not None and self.at > moment else None
        trigger = CronTrigger.from_crontab(self._crontab(), timezone=ZoneInfo(self.timezone))
        fire = trigger.get_next_fire_time(None, moment + timedelta(microseconds=1))
        return fire.astimezone(UTC) if fire is not None else None

    def _crontab(self) -> str:
        if self.kind == "daily":
            hour, minute = self.spec.split()[1].split(":")
            return f"{int(minute)} {int(hour)} * * *"
        if self.kind == "weekly":
            _kind, days, at = self.spec.split()
            hour, minute = at.split(":")
            return f"{int(minute)} {int(hour)} * * {days}"
        return standard_crontab(self.spec.removeprefix("cron ").strip())

    def describe(self) -> str:
        if self.kind == "once":
            return _("once at {when}", when=zoned_time(self.at, self.timezone)) if self.at else _("once")
        return f"{self.spec} ({self.timezone})"


_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def standard_crontab(expression: str) -> str:
    """Weekday numbers as cron means them (0 and 7 = Sunday), in names APScheduler reads alike.

    APScheduler counts 0 as Monday; left alone, `1-5` would mean Tuesday to Saturday.
    """
    fields = expression.split()
    if len(fields) != 5:
        return expression
    fields[4] = re.sub(r"\b([0-7])\b", lambda m: _CRON_DAYS[int(m.group(1))], fields[4])
    return " ".join(fields)


def _zone(name: str | None, default: str) -> str:
    candidate = name or default or "UTC"
    try:
        ZoneInfo(candidate)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(_("{zone} is not a time zone (like Asia/Shanghai or UTC).", zone=repr(candidate))) from None
    return candidate


def _looks_like_zone(word: str) -> bool:
    return "/" in word or word.upper() in {"UTC", "GMT"}


def parse(words: list[str], *, now: datetime, default_tz: str = "UTC") -> Schedule:
    """Parse the words after the instance ID."""
    if not words:
        raise ScheduleError(_("Say when. {usage}", usage=tr(USAGE)))
    kind = words[0].lower()
    rest = words[1:]
    tz_word = rest[-1] if rest and _looks_like_zone(rest[-1]) else None
    if tz_word:
        rest = rest[:-1]
    tz = _zone(tz_word, default_tz)
    if kind == "in":
        return _parse_in(rest, now, tz)
    if kind == "daily":
        if len(rest) != 1 or not _TIME.match(rest[0]):
            raise ScheduleError(_("Write `daily HH:MM [time zone]`, e.g. `daily 09:00 Asia/Shanghai`."))
        hour, minute = _TIME.match(rest[0]).groups()  # type: ignore[union-attr]
        return Schedule("daily", f"daily {int(hour):02d}:{minute}", tz)
    if kind == "weekly":
        if len(rest) != 2 or not _TIME.match(rest[1]):
            raise ScheduleError(_("Write `weekly mon,thu HH:MM [time zone]`."))
        days = [d.strip().lower()[:3] for d in rest[0].split(",") if d.strip()]
        if not days or any(d not in DAYS for d in days):
            raise ScheduleError(_("Days are {days}.", days=", ".join(DAYS)))
        hour, minute = _TIME.match(rest[1]).groups()  # type: ignore[union-attr]
        ordered = ",".join(d for d in DAYS if d in days)
        return Schedule("weekly", f"weekly {ordered} {int(hour):02d}:{minute}", tz)
    if kind == "cron":
        expression = " ".join(rest).strip().strip("\"'")
        fields = expression.split()
        if len(fields) != 5:
            raise ScheduleError(_("Write `cron <minute> <hour> <day> <month> <weekday> [time zone]`, e.g. `cron 0 9 * * 1-5`."))
        try:
            CronTrigger.from_crontab(standard_crontab(expression), timezone=ZoneInfo(tz))
        except ValueError as error:
            raise ScheduleError(_("Not a cron expression: {error}.", error=error)) from None
        schedule = Schedule("cron", f"cron {expression}", tz)
        if schedule.next_after(now) is None:
            raise ScheduleError(_("That cron expression never fires."))
        return schedule
    raise ScheduleError(_("I don't know the schedule `{word}`. {usage}", word=words[0][:20], usage=tr(USAGE)))


def _parse_in(rest: list[str], now: datetime, tz: str) -> Schedule:
    text = " ".join(rest).lower()
    match = re.fullmatch(r"(\d{1,6})\s*([a-z]+)", text)
    if not match or match.group(2) not in _UNITS:
        raise ScheduleError(_("Write `in <number> <seconds|minutes|hours|days>`, e.g. `in 30 minutes`."))
    delta = timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
    if delta <= timedelta(0) or delta > MAX_IN:
        raise ScheduleError(_("Between 1 second and a year from now."))
    at = now + delta
    return Schedule("once", f"once {at.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}", tz, at=at)


def load(spec: str, timezone: str) -> Schedule:
    """A schedule as stored (the canonical ``spec``), for computing its next time."""
    kind = spec.split(" ", 1)[0]
    if kind == "once":
        at = datetime.strptime(spec.split(" ", 1)[1], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        return Schedule("once", spec, timezone, at=at)
    return Schedule(kind, spec, timezone)
