"""Validation building blocks shared by every operation.

A :class:`Checker` reads one form, collects one plain-words error per field, and
hands back typed values; operations state their seed page's rules with it and
raise all errors at once, so the user fixes everything in one round.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime

from bot.i18n import _
from bot.operations.base import FieldError, FieldErrors, Form
from bot.timeutil import API_SECONDS, parse_api, to_api, utcnow

INSTANCE_ID = re.compile(r"^[a-z][a-z0-9-]{2,63}$")
VPC_ID = re.compile(r"^vpc-[a-z0-9]{4,64}$")
VSWITCH_ID = re.compile(r"^vsw-[a-z0-9]{4,64}$")
DB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.$-]{0,63}$")
# Places: a region (cn-shanghai) and a zone in one (cn-hangzhou-h) are named alike.
_PLACE = r"[a-z]{2,}(-[a-z0-9]+)"
REGION_ID = re.compile(rf"^{_PLACE}{{1,4}}$")
ZONE_ID = re.compile(rf"^{_PLACE}+$")
# Letters, digits, Chinese characters (漢字), underscore, hyphen; starts with a letter or 漢字.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff"
DESCRIPTION = re.compile(rf"^[A-Za-z{_CJK}][A-Za-z0-9{_CJK}_-]{{1,254}}$")
MAX_TEXT = 3000
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100  # RDS has no backups outside this; it also keeps date maths safe
MAX_JSON_DEPTH = 8
MAX_NAMES = 100
_VPC_RANGES = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


class Checker:
    """Reads and checks one form; errors accumulate until :meth:`done`."""

    def __init__(self, form: Form) -> None:
        self.form = form
        self.errors: dict[str, FieldError] = {}

    def fail(self, name: str, key: str, template: str, /, **params: object) -> None:
        """Field ``name`` has problem ``key``, worded by ``template`` with ``params`` (see FieldError.of)."""
        self.add(name, FieldError.of(key, template, **params))

    def add(self, name: str, error: FieldError) -> None:
        # The first problem found for a field is the one the user sees.
        self.errors.setdefault(name, error)

    def ok(self, name: str) -> bool:
        return name not in self.errors

    def raw(self, name: str) -> str | None:
        value = self.form.get(name)
        if isinstance(value, list):
            value = ",".join(v for v in value if v)
        if value is None:
            return None
        value = str(value).strip()
        return value or None

    def text(
        self,
        name: str,
        *,
        required: bool = False,
        max_len: int = 255,
        pattern: re.Pattern[str] | None = None,
        message: FieldError | None = None,
        what: str | None = None,
    ) -> str | None:
        """Free text; ``message`` is the error when it does not match ``pattern``."""
        what = what or _("This field")
        value = self._given(name, required, what)
        if value is None:
            return None
        if len(value) > max_len:
            self.fail(name, "too_long", "{what} is {length} characters long; at most {most} are allowed.",
                      what=what, length=len(value), most=max_len)
            return None
        if pattern is not None and not pattern.match(value):
            self.add(name, message or FieldError.of("bad_format", "{what} is not in the expected format.", what=what))
            return None
        return value

    def _given(self, name: str, required: bool, what: str) -> str | None:
        """The field's text, or None (and "required" when it must be given)."""
        value = self.raw(name)
        if value is None and required:
            self.fail(name, "required", "{what} is required.", what=what)
        return value

    def instance_id(self, name: str = "DBInstanceId", *, what: str | None = None, required: bool = True) -> str | None:
        """An RDS instance ID (format only; the live checks are in checks.require_instance)."""
        bad = FieldError.of("bad_instance_id", "That does not look like an RDS instance ID (e.g. rm-bp1abc...).")
        return self.text(name, required=required, max_len=64, pattern=INSTANCE_ID, message=bad,
                         what=what or _("The instance"))

    def region(self, name: str, *, what: str) -> str | None:
        """A region ID like cn-shanghai (format only)."""
        return self.text(name, max_len=40, pattern=REGION_ID, what=what,
                         message=FieldError.of("bad_region", "A region looks like cn-shanghai."))

    def choice(self, name: str, allowed: Iterable[str], *, required: bool = False, what: str | None = None) -> str | None:
        allowed = list(allowed)
        value = self._given(name, required, what or _("This field"))
        if value is None:
            return None
        if value not in allowed:
            self.fail(name, "not_a_choice", "{value!r} is not one of: {choices}.", value=value[:40],
                      choices=", ".join(allowed))
            return None
        return value

    def integer(
        self,
        name: str,
        *,
        required: bool = False,
        low: int | None = None,
        high: int | None = None,
        multiple_of: int | None = None,
        what: str | None = None,
    ) -> int | None:
        what = what or _("This field")
        value = self._given(name, required, what)
        if value is None:
            return None
        if not re.fullmatch(r"[+-]?\d{1,9}", value):
            self.fail(name, "not_whole_number", "{what} must be a whole number.", what=what)
            return None
        number = int(value)
        if low is not None and number < low or high is not None and number > high:
            if low is not None and high is not None:
                self.fail(name, "out_of_range", "{what} must be from {low} to {high}.", what=what, low=low, high=high)
            elif low is not None:
                self.fail(name, "below_minimum", "{what} must be at least {low}.", what=what, low=low)
            else:
                self.fail(name, "above_maximum", "{what} must be at most {high}.", what=what, high=high)
            return None
        if multiple_of and number % multiple_of:
            self.fail(name, "not_multiple", "{what} must be a multiple of {multiple}.", what=what, multiple=multiple_of)
            return None
        return number

    def time(self, name: str, *, required: bool = False, now: datetime | None = None,
             what: str | None = None) -> datetime | None:
        """A UTC time in yyyy-MM-ddTHH:mm:ssZ (also accepts 'yyyy-MM-dd HH:mm[:ss]' as UTC)."""
        what = what or _("The time")
        value = self.raw(name)
        if value is None:
            if required:
                self.fail(name, "required_time", "{what} is required (UTC, like {example}).",
                          what=what, example=to_api(now or utcnow()))
            return None
        if re.fullmatch(r"\d{9,11}", value):
            # A datetimepicker sends epoch seconds.
            try:
                parsed = datetime.fromtimestamp(int(value), tz=UTC)
            except (OverflowError, OSError, ValueError):
                self.fail(name, "implausible_time", "{what} is not a plausible time.", what=what)
                return None
        else:
            candidate = value.replace(" ", "T", 1)
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", candidate):
                candidate += ":00Z"
            elif re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", candidate):
                candidate += "Z"
            try:
                parsed = parse_api(candidate)
            except ValueError:
                self.fail(name, "bad_time_format",
                          "{what} must be UTC in the form yyyy-MM-ddTHH:mm:ssZ, e.g. 2026-11-28T16:00:00Z.", what=what)
                return None
        parsed = parsed.replace(microsecond=0)  # every API time has whole seconds
        if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
            self.fail(name, "time_out_of_years", "{what} {time} is not a plausible time (years {earliest}-{latest}).",
                      what=what, time=to_api(parsed), earliest=EARLIEST_YEAR, latest=LATEST_YEAR)
            return None
        if now is not None and parsed > now:
            self.fail(name, "time_in_future", "{what} {time} is in the future.", what=what, time=to_api(parsed))
            return None
        return parsed

    def done(self) -> None:
        if self.errors:
            raise FieldErrors(self.errors)


def api_time(value: datetime | None) -> str | None:
    return to_api(value, API_SECONDS) if value is not None else None


def check_description(c: Checker, name: str) -> str | None:
    """DBInstanceDescription: 2-255 chars, starts with a letter/CJK, letters, digits, CJK, _ and -."""
    value = c.raw(name)
    if value is None:
        return None
    if value.lower().startswith(("http://", "https://")):
        c.fail(name, "description_is_url", "The description must not start with http:// or https://.")
        return None
    if len(value) < 2 or len(value) > 255:
        c.fail(name, "description_length", "The description must be 2 to 255 characters (it is {length}).",
               length=len(value))
        return None
    if not DESCRIPTION.match(value):
        c.fail(name, "description_characters",
               "The description must start with a letter (or CJK character) and use only letters, digits, "
               "CJK characters, _ and -.")
        return None
    return value


def check_ip(c: Checker, name: str) -> str | None:
    value = c.raw(name)
    if value is None:
        return None
    try:
        ip = ipaddress.IPv4Address(value)
    except ValueError:
        c.fail(name, "not_ipv4", "{value!r} is not an IP address (IPv4 expected).", value=value[:40])
        return None
    if not any(ip in net for net in _VPC_RANGES):
        c.fail(name, "not_private_ip",
               "{value} is not a private address a VPC uses (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16).", value=value)
        return None
    return value


def check_names(c: Checker, name: str, *, what: str | None = None) -> list[str] | None:
    """A comma-separated list of database names."""
    what = what or _("Database names")
    value = c.raw(name)
    if value is None:
        return None
    names = [n.strip() for n in value.split(",") if n.strip()]
    if len(names) > MAX_NAMES:
        c.fail(name, "too_many_names", "{what}: {count} given; at most {most}.", what=what, count=len(names),
               most=MAX_NAMES)
        return None
    bad = [n for n in names if not DB_NAME.match(n)]
    if bad:
        c.fail(name, "bad_names", "{what}: {names} not valid (letters, digits, _ . $ -).", what=what,
               names=", ".join(repr(b[:40]) for b in bad[:3]))
        return None
    if len(set(names)) != len(names):
        c.fail(name, "name_twice", "{what}: a name is listed twice.", what=what)
        return None
    return names


def check_reason(c: Checker, *, required: bool) -> str | None:
    return c.text("reason", required=required, max_len=MAX_TEXT, what=_("A reason"))


def one_of(c: Checker, first: str, second: str, *, first_value: object, second_value: object, what: str) -> None:
    """Exactly one of two fields (BackupId xor RestoreTime); ``what`` names both, already through ``_()``."""
    if first_value in (None, "") and second_value in (None, "") and c.ok(first) and c.ok(second):
        c.fail(first, "neither_given", "Give {what}.", what=what)
    elif first_value not in (None, "") and second_value not in (None, ""):
        c.fail(second, "both_given", "Give {what}, not both.", what=what)


def load_json(text: str, *, max_depth: int = MAX_JSON_DEPTH) -> object:
    """json.loads for user input: bounded nesting and number sizes, one error type (ValueError)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            escaped = not escaped and char == "\\"
            if char == '"' and not escaped:
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > max_depth:
                raise ValueError(_("nested more than {depth} levels deep", depth=max_depth))
        elif char in "]}":
            depth -= 1
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(_("{problem} at line {line}, column {column}", problem=error.msg, line=error.lineno,
                           column=error.colno)) from None
    except (RecursionError, ValueError) as error:  # e.g. Python's limit on digits in an integer
        raise ValueError(str(error)[:100]) from None
