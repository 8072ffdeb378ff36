"""Change freezes: named windows in which nothing they cover is sent to RDS.

Read from ``freeze.toml`` beside ``policy.csv`` (optional; format in the shipped
example and policies/README.md) and reloaded when it changes, like the approval
rules (:class:`bot.workflow.reloading.FileStore`). A window is one-off
(``start``/``end``) or recurring (``days`` + ``from``/``to`` hours), each read in
its own ``timezone``; it covers the ``actions`` it names (wildcards), on the
instances its ``resource`` pattern and ``tags`` select. Unknown tags count as
matching: not knowing can only freeze more, never less.

This lives in the workflow, not in :mod:`bot.policy`: a freeze is about *when*
a request may be sent (the gate's ``HoldUntil``), not about who may do what, and
the policy package must stay free of the workflow's clock and request life
cycle. The command line (``rdsbot policy check --at``, ``policy lint``, ``plan``)
reaches it from :mod:`bot.freeze_cli` and :mod:`bot.plan`, outside the policy package.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.i18n import _
from bot.policy.matching import compile_wildcard
from bot.timeutil import zoned_time
from bot.workflow.reloading import FileStore, text_version, toml_tables

FILE = "freeze.toml"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_KEYS = {"name", "timezone", "start", "end", "days", "from", "to", "actions", "resource", "tags"}
MAX_CHAIN = 32  # abutting occurrences merged into one end (a whole week of every day, and more)


class FreezeError(ValueError):
    """The freeze file is malformed; the message names the window and the key."""


@dataclass(frozen=True)
class Window:
    """One ``[[window]]``: a one-off range (``start``..``end``) or a weekly one (``days`` + ``from``..``to``)."""

    name: str
    zone: str
    actions: tuple[str, ...]
    resource: str = "*"
    tags: dict[str, str] = field(default_factory=dict)
    start: datetime | None = None
    end: datetime | None = None
    days: frozenset[int] = frozenset()
    hours: tuple[time, time] | None = None  # to == 00:00 means midnight at the day's end

    def covers(self, action: str, resource: str, tags: Mapping[str, str] | None) -> bool:
        if not any(compile_wildcard(a.lower())(action.lower()) for a in self.actions):
            return False
        if not compile_wildcard(self.resource)(resource):
            return False
        if not self.tags or tags is None:
            return True
        return all(key in tags and compile_wildcard(value)(tags[key]) for key, value in self.tags.items())

    def occurrence(self, at: datetime) -> tuple[datetime, datetime] | None:
        """The occurrence of the window that contains ``at``, as aware datetimes, or None."""
        if self.start is not None and self.end is not None:
            return (self.start, self.end) if self.start <= at < self.end else None
        zone = ZoneInfo(self.zone)
        local = at.astimezone(zone).date()
        for day in (local - timedelta(days=1), local):
            span = self._on(day, zone)
            if span is not None and span[0] <= at < span[1]:
                return span
        return None

    def _on(self, day: date, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
        if day.weekday() not in self.days or self.hours is None:
            return None
        begin, finish = self.hours
        start = datetime.combine(day, begin, zone)
        end_day = day if finish > begin else day + timedelta(days=1)
        return start, datetime.combine(end_day, finish, zone)

    def ends_after(self, at: datetime) -> datetime | None:
        """When the window containing ``at`` lets go: abutting occurrences (sat and sun) count as one."""
        span = self.occurrence(at)
        if span is None:
            return None
        end = span[1]
        for _step in range(MAX_CHAIN):
            following = self.occurrence(end)
            if following is None or following[1] <= end:
                break
            end = following[1]
        return end


@dataclass(frozen=True)
class Frozen:
    """A freeze in force: the window's name, when it lets go, and the file's version."""

    window: str
    until: datetime
    zone: str
    version: str

    def local_end(self) -> str:
        """The end in the window's own zone, named in full ("CST" could be China's or Chicago's)."""
        return zoned_time(self.until, self.zone)

    def why(self) -> str:
        return _("change freeze {window} is in force until {until}", window=self.window, until=self.local_end())

    def record(self) -> dict[str, Any]:
        return {"window": self.window, "until": self.until.isoformat(), "zone": self.zone, "version": self.version}


class Freezes:
    """A loaded set of windows; :meth:`frozen` answers for one action on some instances at a moment."""

    def __init__(self, windows: tuple[Window, ...] = (), *, version: str = "none", source: str = FILE) -> None:
        self.windows = windows
        self.version = version
        self.source = source

    @classmethod
    def from_text(cls, text: str, *, source: str = FILE) -> Freezes:
        raw = toml_tables(text, source=source, key="window", allowed={"window"}, error=FreezeError)
        windows = tuple(_window(i, item, source) for i, item in enumerate(raw, 1))
        names = [w.name for w in windows]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise FreezeError(f"{source}: window name(s) used twice: {', '.join(twice)}")
        return cls(windows, version=text_version(text), source=source)

    @classmethod
    def from_dir(cls, path: Path) -> Freezes:
        file = Path(path) / FILE
        if not file.exists():
            return cls()
        return cls.from_text(file.read_text(encoding="utf-8"), source=str(file))

    def frozen(self, action: str, resources: Sequence[tuple[str, Mapping[str, str] | None]],
               at: datetime) -> Frozen | None:
        """The window in force for ``action`` on any of ``resources`` (ARN, tags) at ``at``; the one
        that lets go last when several are (nothing may be sent before all of them end)."""
        found: Frozen | None = None
        for window in self.windows:
            if not any(window.covers(action, arn, tags) for arn, tags in resources):
                continue
            until = window.ends_after(at)
            if until is not None and (found is None or until > found.until):
                found = Frozen(window.name, until, window.zone, self.version)
        return found


class FreezeStore(FileStore[Freezes]):
    """Holds the current windows and swaps in new ones when ``freeze.toml`` changes."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, file=FILE, load=Freezes.from_dir, errors=(FreezeError,))


def _window(index: int, raw: Any, source: str) -> Window:
    where = f"{source}: window {index}"
    if not isinstance(raw, dict):
        raise FreezeError(f"{where} must be a table")
    unknown = set(raw) - _KEYS
    if unknown:
        raise FreezeError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (allowed: {', '.join(sorted(_KEYS))})")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise FreezeError(f"{where}: give it a 'name' (shown to whoever it stops)")
    where = f"{source}: window {name!r}"
    zone = raw.get("timezone", "UTC")
    try:
        tz = ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        raise FreezeError(f"{where}: unknown 'timezone' {zone!r} (an IANA name like Asia/Shanghai)") from None
    actions = raw.get("actions")
    if isinstance(actions, str):
        actions = [actions]
    if not isinstance(actions, list) or not actions or not all(isinstance(a, str) and ":" in a for a in actions):
        raise FreezeError(f"{where}: 'actions' must list RAM actions like rds:CloneDBInstance or rds:*")
    resource = raw.get("resource", "*")
    if not isinstance(resource, str) or not (resource == "*" or resource.startswith("acs:rds:")):
        raise FreezeError(f"{where}: 'resource' must be an ARN pattern like acs:rds:*:*:dbinstance/*")
    tags = raw.get("tags", {})
    if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
        raise FreezeError(f"{where}: 'tags' must map tag keys to values, like {{ env = \"prod\" }}")
    common = {"name": name.strip()[:80], "zone": str(zone), "actions": tuple(actions), "resource": resource,
              "tags": dict(tags)}
    one_off, weekly = {"start", "end"} & set(raw), {"days", "from", "to"} & set(raw)
    if one_off and weekly or not (one_off or weekly):
        raise FreezeError(f"{where}: give either 'start' and 'end' (one-off) or 'days', 'from' and 'to' (weekly)")
    if one_off:
        start, end = _moment(raw.get("start"), tz, where, "start"), _moment(raw.get("end"), tz, where, "end")
        if end <= start:
            raise FreezeError(f"{where}: 'end' must come after 'start'")
        return Window(**common, start=start, end=end)
    days = raw.get("days")
    if not isinstance(days, list) or not days or not all(isinstance(d, str) and d.lower()[:3] in DAYS for d in days):
        raise FreezeError(f"{where}: 'days' must list week days, like [\"sat\", \"sun\"]")
    begin, finish = _hour(raw.get("from"), where, "from"), _hour(raw.get("to"), where, "to")
    if begin == finish and finish != time(0):
        raise FreezeError(f"{where}: 'from' and 'to' are the same hour; use \"00:00\" to \"24:00\" for whole days")
    return Window(**common, days=frozenset(DAYS.index(d.lower()[:3]) for d in days), hours=(begin, finish))


def _moment(value: Any, zone: ZoneInfo, where: str, key: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(0))
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise FreezeError(f"{where}: '{key}' must be a date and time like 2026-12-24T18:00") from None
    else:
        raise FreezeError(f"{where}: '{key}' must be a date and time like 2026-12-24T18:00")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _hour(value: Any, where: str, key: str) -> time:
    if value == "24:00":
        return time(0)
    try:
        hour, minute = str(value).split(":")
        return time(int(hour), int(minute))
    except (ValueError, TypeError):
        raise FreezeError(f"{where}: '{key}' must be an hour like \"18:00\" (\"24:00\": the day's end)") from None
