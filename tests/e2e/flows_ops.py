"""Steps of the copy, restore, backup, listing and reminder journeys (see flows.py for clone)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.sandbox.rds.seed import (
    MARIADB_WEB,
    MSSQL_2016,
    MSSQL_ALWAYSON,
    MSSQL_BASIC,
    MSSQL_PROD,
    MSSQL_QA,
    MSSQL_SHANGHAI,
    MYSQL_CLASSIC,
    MYSQL_DEV,
    MYSQL_DR_SHANGHAI,
    MYSQL_LOCKED,
    MYSQL_PROD,
    MYSQL_READONLY,
    MYSQL_STOPPED,
    PG_STAGING,
)
from bot.sandbox.slack import APPROVALS_CHANNEL, BOB, OPS_CHANNEL
from bot.sandbox.stack import Stack
from bot.store import audit
from tests.e2e.flows import FINAL, approval_message, final_reply, request_id_of

__all__ = [
    "MARIADB_WEB", "MSSQL_2016", "MSSQL_ALWAYSON", "MSSQL_BASIC", "MSSQL_PROD", "MSSQL_QA", "MSSQL_SHANGHAI",
    "MYSQL_CLASSIC", "MYSQL_DEV", "MYSQL_DR_SHANGHAI", "MYSQL_LOCKED", "MYSQL_PROD", "MYSQL_READONLY",
    "MYSQL_STOPPED", "PG_STAGING",
]

REASON = "copy for the INC-4211 investigation"


# ------------------------------------------------------------------ reading
def events(stack: Stack, request_id: str) -> list[str]:
    with stack.runtime.db.session() as session:
        return [e.event for e in audit.events(session, request_id=request_id)]


def audit_rows(stack: Stack, request_id: str | None = None) -> list[Any]:
    with stack.runtime.db.session() as session:
        return list(audit.events(session, request_id=request_id))


def audit_ok(stack: Stack) -> bool:
    with stack.runtime.db.session() as session:
        return bool(audit.verify(session).ok)


def ok_calls(stack: Stack, action: str) -> list[Any]:
    return [c for c in stack.rds.calls_for(action) if c.status == 200]


def is_final(message: dict[str, Any]) -> bool:
    return (message.get("metadata") or {}).get("event_type") == FINAL


def final_state(message: dict[str, Any]) -> str:
    return str(((message.get("metadata") or {}).get("event_payload") or {}).get("state"))


def replies(stack: Stack, channel: str, ts: str) -> list[dict[str, Any]]:
    """The thread's replies (parent excluded), oldest first."""
    return stack.slack.messages(channel, ts)


def api_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ago(**delta: float) -> str:
    return api_time(datetime.now(UTC) - timedelta(**delta))


def later(**delta: float) -> str:
    return api_time(datetime.now(UTC) + timedelta(**delta))


def options(stack: Stack, user: str, view_id: str, action_id: str, query: str = "") -> list[str]:
    response = stack.driver.suggest(user, view_id, action_id, query)
    return [str(o["value"]) for o in response.options or []]


# ------------------------------------------------------------------ approvals
def approve(stack: Stack, card: dict[str, Any], user: str = BOB) -> dict[str, Any]:
    """A DBA approves the card; returns the final reply of its thread."""
    clicked = stack.driver.click(user, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")
    assert clicked.status == 200, clicked.text
    return final_reply(stack, APPROVALS_CHANNEL, card["ts"])


# ------------------------------------------------------------------ copy
def open_copy(stack: Stack, user: str, source: str = MSSQL_PROD, channel: str = OPS_CHANNEL) -> dict[str, Any]:
    return stack.driver.open_modal(user, f"copy {source}", channel=channel)


def copy_form(**values: Any) -> dict[str, Any]:
    form: dict[str, Any] = {"TargetDBInstanceId": MSSQL_QA, "DbNames": ["hr"], "RestoreTime": ago(hours=2),
                            "reason": REASON}
    form.update(values)
    return {k: v for k, v in form.items() if v is not None}


def request_copy(stack: Stack, user: str, *, source: str = MSSQL_PROD, **values: Any) -> tuple[dict[str, Any], Any]:
    view = open_copy(stack, user, source)
    submitted = stack.driver.submit_view(user, view["id"], copy_form(**values), validate=False)
    return view, submitted


def db_names_param(call: Any) -> dict[str, str]:
    return dict(json.loads(call.params["DbNames"]))


def card_and_id(stack: Stack) -> tuple[dict[str, Any], str]:
    card = approval_message(stack)
    return card, request_id_of(card)


# ------------------------------------------------------------------ commands
def answer(stack: Stack, user: str, text: str, channel: str = OPS_CHANNEL, timeout: float = 5.0) -> dict[str, Any]:
    """Run `/rds <text>` and return the next ephemeral the user gets (the lazy answer)."""
    seen = len(stack.slack.ephemerals(user))
    response = stack.driver.slash_command(user, text, channel=channel)
    assert response.status == 200, response.text
    return stack.slack.wait_for(lambda: (stack.slack.ephemerals(user)[seen:] or [None])[0], timeout=timeout,
                                what=f"the answer to /rds {text}")
