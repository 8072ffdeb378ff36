"""Read a modal's submitted values by block_id, whatever element carried them.

The block_id is the API parameter name (DESIGN.md), so the value is found by
block alone; the element type only decides where inside the action the value
sits. Unknown shapes yield None rather than an exception: validation then
says "required" or "not valid", which is what the user needs to hear.
"""

from __future__ import annotations

from typing import Any

from bot.operations.base import FormValue

MAX_VALUE = 10_000  # longer values are cut before validation sees (and rejects) them


def value_of(action: dict[str, Any]) -> FormValue:
    """The value one action (a state entry or a block action) carries, by its element's shape."""
    if not isinstance(action, dict):
        return None
    if "selected_option" in action:
        option = action.get("selected_option") or {}
        return _text(option.get("value")) if isinstance(option, dict) else None
    if "selected_options" in action:
        options = action.get("selected_options")
        if not isinstance(options, list):
            return None
        return [v for v in (_text(o.get("value")) for o in options if isinstance(o, dict)) if v]
    for key in ("value", "selected_date_time", "selected_date", "selected_time", "selected_user",
                "selected_conversation", "selected_channel"):
        if key in action:
            return _text(action.get(key))
    for key in ("selected_users", "selected_conversations", "selected_channels"):
        if key in action:
            items = action.get(key)
            if not isinstance(items, list):
                return None
            return [v for v in (_text(x) for x in items if isinstance(x, str)) if v]
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text[:MAX_VALUE]


def form_values(view: dict[str, Any]) -> dict[str, FormValue]:
    """{block_id: value} from ``view.state.values``; the first action of each block counts."""
    values: dict[str, FormValue] = {}
    if not isinstance(view, dict):
        return values
    state = view.get("state")
    if not isinstance(state, dict):
        return values
    blocks = state.get("values") or {}
    if not isinstance(blocks, dict):
        return values
    for block_id, actions in blocks.items():
        if not isinstance(actions, dict) or not actions:
            continue
        action = next(iter(actions.values()))
        values[str(block_id)[:255]] = value_of(action)
    return values


def selected(view: dict[str, Any], block_id: str) -> str | None:
    """One block's current single value (used by pickers that depend on another field)."""
    value = form_values(view).get(block_id)
    if isinstance(value, list):
        return value[0] if value else None
    return value


def errors_for(view: dict[str, Any], errors: dict[str, str]) -> dict[str, str]:
    """Only block_ids the view has may carry errors, or Slack rejects the whole answer."""
    inputs = [b.get("block_id") for b in view.get("blocks", []) if isinstance(b, dict) and b.get("type") == "input"]
    out: dict[str, str] = {}
    for name, message in errors.items():
        target = name if name in inputs else (inputs[0] if inputs else name)
        out[target] = (out[target] + " " + message) if target in out else message
    return {k: v[:2000] for k, v in out.items()}
