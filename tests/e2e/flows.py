"""Steps of a user's journey, so tests read like the flow they check."""

from __future__ import annotations

from typing import Any

from bot.sandbox.slack import ALICE, APPROVALS_CHANNEL, OPS_CHANNEL
from bot.sandbox.stack import Stack

PROD_MYSQL = "rm-bp1mysqlprod0001"
DEV_MYSQL = "rm-bp1mysqldev00002"
FINAL = "rdsbot_request_final"


def first_backup(stack: Stack, user: str, view_id: str) -> str:
    response = stack.driver.suggest(user, view_id, "BackupId", "")
    options = response.options or []
    assert options, f"no backup options offered: {response.text}"
    return str(options[0]["value"])


def request_clone(stack: Stack, *, user: str = ALICE, instance: str = PROD_MYSQL, values: dict[str, Any] | None = None,
                  channel: str = OPS_CHANNEL) -> Any:
    view = stack.driver.open_modal(user, f"clone {instance}", channel=channel)
    form = {"DBInstanceId": instance, "PayType": "Postpaid", "reason": "restore test for INC-4211"}
    if not values or ("BackupId" not in values and "RestoreTime" not in values):
        form["BackupId"] = first_backup(stack, user, view["id"])
    form.update(values or {})
    return view, stack.driver.submit_view(user, view["id"], form)


def approval_message(stack: Stack, request_id: str | None = None, timeout: float = 10.0) -> dict[str, Any]:
    def match(m: dict[str, Any]) -> bool:
        return request_id is None or request_id in m.get("text", "")

    return stack.slack.wait_for_message(APPROVALS_CHANNEL, where=match, timeout=timeout)


def final_reply(stack: Stack, channel: str, ts: str, timeout: float = 20.0) -> dict[str, Any]:
    return stack.slack.wait_for_message(
        channel, thread_ts=ts, timeout=timeout,
        where=lambda m: (m.get("metadata") or {}).get("event_type") == FINAL,
    )


def request_id_of(message: dict[str, Any]) -> str:
    return str(((message.get("metadata") or {}).get("event_payload") or {}).get("request_id"))


def approve_fully(stack: Stack, card: dict[str, Any], approvers: tuple[str, ...] = ("U0BOB", "U0CAROL")) -> None:
    """Production clones need two DBAs (policies/approvals.toml): click for each."""
    for approver in approvers:
        response = stack.driver.click(approver, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")
        assert response.status == 200
