"""The typed ``state.values`` entry Slack sends for each kind of input element.

A test gives plain Python values (``"Postpaid"``, ``["db1", "db2"]``,
``date(2024, 5, 1)``); Slack sends each element type in its own shape
(``selected_option``, ``selected_date``, ``value`` as a string for
``number_input`` ...). This module does that translation, including the
client-side checks Slack's UI performs before a modal can be submitted.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from . import block_kit
from .errors import DriverError

Options = Mapping[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class Shape:
    """Where an element type keeps its value: the state key, the initial key, the kind of value."""

    key: str
    initial_key: str
    kind: str

    @property
    def is_list(self) -> bool:
        return self.kind in ("options", "external_options", "ids")


SHAPES: dict[str, Shape] = {
    "plain_text_input": Shape("value", "initial_value", "text"),
    "email_text_input": Shape("value", "initial_value", "text"),
    "url_text_input": Shape("value", "initial_value", "text"),
    "number_input": Shape("value", "initial_value", "number"),
    "rich_text_input": Shape("rich_text_value", "initial_value", "rich_text"),
    "static_select": Shape("selected_option", "initial_option", "option"),
    "radio_buttons": Shape("selected_option", "initial_option", "option"),
    "external_select": Shape("selected_option", "initial_option", "external_option"),
    "multi_static_select": Shape("selected_options", "initial_options", "options"),
    "checkboxes": Shape("selected_options", "initial_options", "options"),
    "multi_external_select": Shape("selected_options", "initial_options", "external_options"),
    "users_select": Shape("selected_user", "initial_user", "id"),
    "conversations_select": Shape("selected_conversation", "initial_conversation", "id"),
    "channels_select": Shape("selected_channel", "initial_channel", "id"),
    "multi_users_select": Shape("selected_users", "initial_users", "ids"),
    "multi_conversations_select": Shape("selected_conversations", "initial_conversations", "ids"),
    "multi_channels_select": Shape("selected_channels", "initial_channels", "ids"),
    "datepicker": Shape("selected_date", "initial_date", "date"),
    "timepicker": Shape("selected_time", "initial_time", "time"),
    "datetimepicker": Shape("selected_date_time", "initial_date_time", "datetime"),
}


def shape_of(element: Mapping[str, Any]) -> Shape:
    """The shape of an element's value; ``DriverError`` for elements that hold no value."""
    shape = SHAPES.get(str(element.get("type")))
    if shape is None:
        raise DriverError(f"element type {element.get('type')!r} holds no value in view state")
    return shape


def empty_value(element: Mapping[str, Any]) -> dict[str, Any]:
    """What Slack sends for an element the user left alone (initial value, else null / [])."""
    shape = shape_of(element)
    if shape.initial_key in element:
        initial = copy.deepcopy(element[shape.initial_key])
        if shape.kind == "number":
            initial = str(initial)
        return _entry(element, shape, initial)
    return _entry(element, shape, [] if shape.is_list else None)


def given_value(
    element: Mapping[str, Any],
    value: Any,
    *,
    suggested: Options | None = None,
    check: bool = True,
    zone: str | None = None,
) -> dict[str, Any]:
    """The state entry for ``value`` typed/picked into ``element``.

    ``suggested`` holds the options the bot served for external selects, keyed by
    action_id, so a picked value carries the label the user saw. ``check``
    applies Slack's client-side checks (offered options, lengths, number format).
    ``zone`` is the picking user's time zone: Slack's datetimepicker shows their
    wall clock, so a naive datetime (``"2026-12-06T10:00"``) is read in it.
    """
    shape = shape_of(element)
    if shape.kind == "datetime" and zone:
        value = _in_zone(value, zone)
    converter = _CONVERTERS[shape.kind]
    converted = converter(element, value, suggested or {}, check)
    return _entry(element, shape, converted)


def is_empty(entry: Mapping[str, Any]) -> bool:
    """True when a state entry holds nothing (what makes a required input block the submit)."""
    shape = SHAPES.get(str(entry.get("type")))
    if shape is None:
        return True
    held = entry.get(shape.key)
    return held is None or held in ("", [])


def _entry(element: Mapping[str, Any], shape: Shape, held: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": element["type"], shape.key: held}
    if element["type"] == "timepicker" and "timezone" in element:
        entry["timezone"] = element["timezone"]
    return entry


def _describe(element: Mapping[str, Any]) -> str:
    return f"{element.get('type')} {element.get('action_id')!r}"


# --- converters: (element, value, suggested options, check) -> the held value ----------


def _text(element: Mapping[str, Any], value: Any, _s: Options, check: bool) -> str:
    text = str(value)
    if check:
        low, high = element.get("min_length"), element.get("max_length", 3000)
        if low is not None and len(text) < int(low):
            raise DriverError(f"{_describe(element)}: Slack needs at least {low} characters, got {len(text)}")
        if len(text) > int(high):
            raise DriverError(
                f"{_describe(element)}: Slack allows at most {high} characters, got {len(text)}"
            )
    return text


def _number(element: Mapping[str, Any], value: Any, _s: Options, check: bool) -> str:
    text = str(value)
    if not check:
        return text
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise DriverError(f"{_describe(element)}: {text!r} is not a number") from None
    if not element.get("is_decimal_allowed") and number != number.to_integral_value():
        raise DriverError(f"{_describe(element)}: decimals are not allowed, got {text!r}")
    for key, outside in (("min_value", number.__lt__), ("max_value", number.__gt__)):
        bound = element.get(key)
        if bound is not None and outside(Decimal(str(bound))):
            raise DriverError(f"{_describe(element)}: {text} is outside {key}={bound}")
    return text


def _rich_text(_e: Mapping[str, Any], value: Any, _s: Options, _check: bool) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    section = {"type": "rich_text_section", "elements": [{"type": "text", "text": str(value)}]}
    return {"type": "rich_text", "elements": [section]}


def _option(element: Mapping[str, Any], value: Any, _s: Options, check: bool) -> dict[str, Any]:
    wanted = value.get("value") if isinstance(value, Mapping) else str(value)
    found = block_kit.find_option(block_kit.all_options(dict(element)), str(wanted))
    if found is not None:
        return found
    if check:
        offered = [o.get("value") for o in block_kit.all_options(dict(element))]
        raise DriverError(f"{_describe(element)} offers no option with value {wanted!r}; it offers {offered}")
    return dict(value) if isinstance(value, Mapping) else _made_up_option(str(value))


def _options(element: Mapping[str, Any], value: Any, suggested: Options, check: bool) -> list[dict[str, Any]]:
    items = [value] if isinstance(value, (str, Mapping)) else list(value)
    return [_option(element, item, suggested, check) for item in items]


def _external_option(
    element: Mapping[str, Any], value: Any, suggested: Options, _check: bool
) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    # Prefer the option the bot itself served (its label is what the user saw);
    # without a prior suggestion, the user is assumed to have picked the value.
    served = suggested.get(str(element.get("action_id")), [])
    return block_kit.find_option(served, str(value)) or _made_up_option(str(value))


def _external_options(
    element: Mapping[str, Any], value: Any, suggested: Options, check: bool
) -> list[dict[str, Any]]:
    items = [value] if isinstance(value, (str, Mapping)) else list(value)
    return [_external_option(element, item, suggested, check) for item in items]


def _made_up_option(value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": value, "emoji": True}, "value": value}


def _id(_e: Mapping[str, Any], value: Any, _s: Options, _check: bool) -> str:
    return str(value)


def _ids(_e: Mapping[str, Any], value: Any, _s: Options, _check: bool) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence):
        return [str(v) for v in value]
    raise DriverError(f"expected a list of ids, got {value!r}")


def _date(element: Mapping[str, Any], value: Any, _s: Options, _check: bool) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise DriverError(f"{_describe(element)}: {value!r} is not a YYYY-MM-DD date") from None


def _time(element: Mapping[str, Any], value: Any, _s: Options, _check: bool) -> str:
    if isinstance(value, time):
        return value.strftime("%H:%M")
    try:
        return time.fromisoformat(str(value)).strftime("%H:%M")
    except ValueError:
        raise DriverError(f"{_describe(element)}: {value!r} is not an HH:MM time") from None


def _datetime(element: Mapping[str, Any], value: Any, _s: Options, check: bool) -> int | str:
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return int(aware.timestamp())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    try:
        return _datetime(element, datetime.fromisoformat(str(value)), _s, check)
    except ValueError:
        if not check:  # a forged payload: the picker could never send it, a crafted request can
            return str(value)
        raise DriverError(f"{_describe(element)}: {value!r} is neither a datetime nor a UNIX time") from None


def _in_zone(value: Any, zone: str) -> Any:
    """A naive datetime (or ISO text without offset) as wall-clock time in ``zone``; anything else unchanged."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=ZoneInfo(zone))
    return value


_CONVERTERS = {
    "text": _text,
    "number": _number,
    "rich_text": _rich_text,
    "option": _option,
    "options": _options,
    "external_option": _external_option,
    "external_options": _external_options,
    "id": _id,
    "ids": _ids,
    "date": _date,
    "time": _time,
    "datetime": _datetime,
}
