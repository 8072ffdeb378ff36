"""Web API methods ``views.*``: open, push, update, publish."""

from __future__ import annotations

from typing import Any

from .params import Params
from .state import SlackState
from .view_store import ViewRecord


def _view(p: Params) -> Any:
    return p.decoded("view", error="invalid_arguments")


def _answer(state: SlackState, record: ViewRecord) -> dict[str, Any]:
    return {"ok": True, "view": record.to_slack(state.workspace)}


def _trigger(p: Params) -> str | None:
    # interactivity_pointer is the newer name for the same capability.
    return p.string("trigger_id") or p.string("interactivity_pointer")


def open_view(state: SlackState, p: Params) -> dict[str, Any]:
    """``views.open`` (needs a fresh trigger_id from an interaction)."""
    return _answer(state, state.views.open(_view(p), _trigger(p)))


def push_view(state: SlackState, p: Params) -> dict[str, Any]:
    """``views.push`` (needs a fresh trigger_id from an interaction inside the modal)."""
    return _answer(state, state.views.push(_view(p), _trigger(p)))


def update_view(state: SlackState, p: Params) -> dict[str, Any]:
    """``views.update`` by view_id or external_id, optionally guarded by ``hash``."""
    record = state.views.update(
        _view(p),
        view_id=p.string("view_id"),
        external_id=p.string("external_id"),
        expected_hash=p.string("hash"),
    )
    return _answer(state, record)


def publish_view(state: SlackState, p: Params) -> dict[str, Any]:
    """``views.publish`` (App Home)."""
    return _answer(
        state, state.views.publish(p.string("user_id") or "", _view(p), expected_hash=p.string("hash"))
    )


HANDLERS = {
    "views.open": open_view,
    "views.push": push_view,
    "views.update": update_view,
    "views.publish": publish_view,
}
