"""Request parameters and the checks every operation shares.

:class:`Params` wraps the flat string map the SDK sends (``Tag.1.Key`` style for
lists, ``True``/``False`` for booleans) and raises :class:`ApiError` with the code
the caller names, so each operation states its rules, not how to parse. Time
formats and pagination live here too, because several pages share them with
different error codes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TypeVar, overload

from bot.sandbox.rds.errors import ApiError, invalid, missing

T = TypeVar("T")

SECONDS_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # yyyy-MM-ddTHH:mm:ssZ
MINUTES_FORMAT = "%Y-%m-%dT%H:%MZ"  # yyyy-MM-ddTHH:mmZ (DescribeBackups)
_SECONDS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_MINUTES_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$")

ErrorFactory = Callable[[str], ApiError]


def format_time(moment: datetime) -> str:
    """A UTC datetime as the API writes it (``2024-03-05T02:22:45Z``)."""
    return moment.astimezone(UTC).strftime(SECONDS_FORMAT)


def parse_time(value: str, code: str, *, minutes: bool = False) -> datetime:
    """Parse a UTC time in the API's second (or minute) precision, else raise ``code``."""
    pattern, fmt = (_MINUTES_RE, MINUTES_FORMAT) if minutes else (_SECONDS_RE, SECONDS_FORMAT)
    if not pattern.match(value):
        raise ApiError(code)
    try:
        return datetime.strptime(value, fmt).replace(tzinfo=UTC)
    except ValueError:
        raise ApiError(code) from None


class Params:
    """The parameters of one call, with typed getters that raise the API's errors.

    An empty value counts as absent: the SDK never sends one, and the real gateway
    treats ``DBInstanceId=`` like a missing parameter.
    """

    def __init__(self, raw: Mapping[str, str]) -> None:
        self.raw = dict(raw)

    def get(self, name: str) -> str | None:
        value = self.raw.get(name)
        return value if value not in (None, "") else None

    def require(self, name: str, error: ErrorFactory = missing) -> str:
        """The value of a parameter the API marks required (MissingParameter by default)."""
        value = self.get(name)
        if value is None:
            raise error(name)
        return value

    @overload
    def integer(self, name: str, default: int, error: ErrorFactory = ...) -> int: ...
    @overload
    def integer(self, name: str, default: None = None, error: ErrorFactory = ...) -> int | None: ...

    def integer(self, name: str, default: int | None = None, error: ErrorFactory = invalid) -> int | None:
        """An integer parameter; a non-integer raises ``error(name)``."""
        value = self.get(name)
        if value is None:
            return default
        if not re.fullmatch(r"-?\d+", value):
            raise error(name)
        return int(value)

    def boolean(self, name: str, default: bool) -> bool:
        """A boolean parameter; the SDK sends Python's ``True``/``False``."""
        value = self.get(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered not in ("true", "false"):
            raise invalid(name)
        return lowered == "true"

    @overload
    def choice(self, name: str, allowed: Iterable[str], default: str, error: ErrorFactory = ...) -> str: ...
    @overload
    def choice(
        self, name: str, allowed: Iterable[str], default: None = None, error: ErrorFactory = ...
    ) -> str | None: ...

    def choice(
        self,
        name: str,
        allowed: Iterable[str],
        default: str | None = None,
        error: ErrorFactory = invalid,
    ) -> str | None:
        """A parameter restricted to ``allowed`` values."""
        value = self.get(name)
        if value is None:
            return default
        if value not in set(allowed):
            raise error(name)
        return value

    def csv(self, name: str) -> list[str]:
        """A comma-separated list, blanks dropped."""
        value = self.get(name)
        return [part.strip() for part in value.split(",") if part.strip()] if value else []

    def indexed(self, prefix: str) -> list[dict[str, str]]:
        """``Tag.1.Key=a&Tag.1.Value=b`` -> ``[{"Key": "a", "Value": "b"}]``, in index order."""
        entries: dict[int, dict[str, str]] = {}
        pattern = re.compile(rf"^{re.escape(prefix)}\.(\d+)\.(\w+)$")
        for key, value in self.raw.items():
            match = pattern.match(key)
            if match:
                entries.setdefault(int(match.group(1)), {})[match.group(2)] = value
        return [entries[index] for index in sorted(entries)]

    def time(self, name: str, code: str, *, minutes: bool = False) -> datetime | None:
        """An optional UTC time parameter; a malformed one raises ``code``."""
        value = self.get(name)
        return None if value is None else parse_time(value, code, minutes=minutes)


def page_number(params: Params, error: ErrorFactory = invalid) -> int:
    """PageNumber: a positive integer, default 1."""
    number = params.integer("PageNumber", 1, error)
    if number < 1:
        raise error("PageNumber")
    return number


def page_size(
    params: Params,
    allowed: Sequence[int] | range,
    default: int,
    error: ErrorFactory = invalid,
) -> int:
    """PageSize restricted to ``allowed`` (a fixed list such as 30/50/100, or a range)."""
    size = params.integer("PageSize", default, error)
    if size not in allowed:
        raise error("PageSize")
    return size


def page(items: Sequence[T], number: int, size: int) -> list[T]:
    """The ``number``-th page (1-based) of ``items``."""
    start = (number - 1) * size
    return list(items[start : start + size])
