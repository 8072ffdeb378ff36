"""The shape of a Slack payload's envelope, checked before Bolt routes it.

Bolt's listener matchers run regular expressions over ``callback_id`` and
``action_id`` and index ``actions[0]`` without looking at types, so a payload
whose identifiers are numbers, lists or missing crashes inside Bolt: the sender
gets an opaque error and the log gets a traceback. Slack never sends such a
payload, but anyone holding the signing secret (or a future Slack change) can,
so the envelope is checked once here and refused with one clear 400. Only the
fields something routes or reads by type are checked; the rest stays Slack's
business.
"""

from __future__ import annotations

from typing import Any

_VIEW_TYPES = {"view_submission", "view_closed"}


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _optional_str(container: dict[str, Any], *keys: str) -> str | None:
    """The first of ``keys`` present with a non-string value."""
    for key in keys:
        if key in container and not _is_str(container[key]):
            return key
    return None


def _actions_problem(actions: Any) -> str | None:
    if not isinstance(actions, list) or not actions:
        return "actions must be a non-empty list"
    for index, action in enumerate(actions):
        if not isinstance(action, dict):
            return f"actions[{index}] must be an object"
        if not _is_str(action.get("action_id")):
            return f"actions[{index}].action_id must be a string"
        bad = _optional_str(action, "block_id", "value", "type")
        if bad:
            return f"actions[{index}].{bad} must be a string"
    return None


def _org_problem(obj: dict[str, Any], path: str, depth: int = 0) -> str | None:
    """Where Bolt looks for the workspace and organisation: it tests ``"id" in`` them and indexes lists."""
    for key in ("enterprise", "team"):
        value = obj.get(key)
        if value is not None and not isinstance(value, (str, dict)):
            return f"{path}{key} must be a string or an object"
    bad = _optional_str(obj, "enterprise_id", "team_id") if obj.get("enterprise_id") is not None else None
    if bad:
        return f"{path}{bad} must be a string"
    auths = obj.get("authorizations")
    if auths is not None and (not isinstance(auths, list) or not all(isinstance(a, dict) for a in auths)):
        return f"{path}authorizations must be a list of objects"
    for index, auth in enumerate(auths or []):
        bad = _org_problem(auth, f"{path}authorizations[{index}].", depth + 1) if depth < 2 else None
        if bad:
            return bad
    event = obj.get("event")
    if isinstance(event, dict) and depth < 2:
        return _org_problem(event, f"{path}event.", depth + 1)
    return None


# Where Bolt looks, recursively, for the acting user and the channel of a payload.
_NESTED = ("event", "message", "previous_message", "item", "assistant_thread")


def _who_problem(obj: dict[str, Any], path: str, depth: int = 0) -> str | None:
    for key in ("user", "channel"):
        value = obj.get(key)
        if value is not None and not _is_str(value) and not (isinstance(value, dict) and _is_str(value.get("id"))):
            return f"{path}{key} must be a string or an object with a string id"
    bad = _optional_str(obj, "user_id", "channel_id")
    if bad:
        return f"{path}{bad} must be a string"
    for key in _NESTED if depth < 3 else ():
        nested = obj.get(key)
        if isinstance(nested, dict):
            bad = _who_problem(nested, f"{path}{key}.", depth + 1)
            if bad:
                return bad
    return None


def problem(body: Any) -> str | None:
    """Why ``body`` is not a well-formed Slack payload envelope, or None when it is."""
    if not isinstance(body, dict):
        return "the payload is not an object"
    bad = _optional_str(body, "type", "command", "text", "trigger_id", "response_url", "team_id", "api_app_id",
                        "event_id")
    if bad:
        return f"{bad} must be a string"
    bad = _who_problem(body, "")
    if bad:
        return bad
    bad = _org_problem(body, "")
    if bad:
        return bad
    urls = body.get("response_urls", [])
    if not isinstance(urls, list) or not all(isinstance(u, dict) for u in urls):
        # Bolt takes len() of it and reads each entry's "response_url" while building the request.
        return "response_urls must be a list of objects"
    kind = body.get("type")
    if kind in _VIEW_TYPES:
        view = body.get("view")
        if not isinstance(view, dict):
            return "view must be an object"
        if not _is_str(view.get("callback_id")):
            return "view.callback_id must be a string"
        if not _is_str(view.get("type")):
            return "view.type must be a string"  # Bolt reads view["type"] while routing
        bad = _optional_str(view, "id", "private_metadata", "hash")
        if bad:
            return f"view.{bad} must be a string"
    elif kind == "block_actions":
        return _actions_problem(body.get("actions"))
    elif kind == "block_suggestion":
        if not _is_str(body.get("action_id")):
            return "action_id must be a string"
        bad = _optional_str(body, "block_id", "value")
        if bad:
            return f"{bad} must be a string"
    elif kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not _is_str(event.get("type")):
            return "event must be an object with a string type"
    return None
