"""The approver sees what was checked, on the card (issue 13, item 2): each instance's
engine, version, class, storage and tags; the backup set; a copy target's databases;
the rules; a clone's price from DescribePrice, and a price failure never blocks."""

from __future__ import annotations

from typing import Any

from bot.sandbox.slack import APPROVALS_CHANNEL, BOB
from bot.sandbox.stack import Stack
from tests.e2e.flows import PROD_MYSQL, approval_message, approve_fully, final_reply, request_clone, request_id_of
from tests.e2e.flows_ops import MSSQL_PROD, MSSQL_QA, card_and_id, open_copy, options, REASON


def card_text(card: dict[str, Any]) -> str:
    return "\n".join(str((b.get("text") or {}).get("text") or "") for b in card["blocks"] if b.get("type") == "section")


def test_a_production_clone_card_shows_what_was_checked_and_the_price(stack: Stack) -> None:
    _view, submitted = request_clone(stack)
    assert submitted.status == 200 and not submitted.errors, submitted.text
    card = approval_message(stack)
    text = card_text(card)
    assert len(card["blocks"]) <= 50
    assert f"`{PROD_MYSQL}` (source): MySQL 8.0 · rds.mysql.m1.medium · 500 GB local_ssd" in text, text
    assert "tags: env=prod, team=payments" in text
    backup = stack.requests.get(request_id_of(card)).params["BackupId"]
    assert f"*Backup set* {backup}: taken " in text and "Physical" in text, text
    assert "*Requester allowed by* policy.csv:45" in text, text
    assert "*Approval rule*: " in text and "production clones (2 approvers from role:dba)" in text, text
    assert "TradePrice 1.12 CNY" in text and "DescribePrice, Postpaid" in text, text
    prices = stack.rds.calls_for("DescribePrice")
    assert len(prices) == 1 and prices[0].status == 200
    assert prices[0].params["DBInstanceClass"] == "rds.mysql.m1.medium" and prices[0].params["Quantity"] == "1"


def test_a_price_failure_shows_unavailable_and_the_request_proceeds(stack: Stack) -> None:
    stack.rds.inject(action="DescribePrice", code="InternalError", status=500, times=5)
    _view, submitted = request_clone(stack)
    assert submitted.status == 200 and not submitted.errors, submitted.text
    card = approval_message(stack)
    text = card_text(card)
    assert "price unavailable (" in text and "InternalError" in text, text
    assert "rds.mysql.m1.medium" in text, "the other facts are still shown"
    approve_fully(stack, card)
    final = final_reply(stack, APPROVALS_CHANNEL, card["ts"])
    assert final["metadata"]["event_payload"]["state"] == "succeeded"


def test_a_copy_card_lists_the_databases_already_on_the_target(stack: Stack) -> None:
    view = open_copy(stack, BOB, MSSQL_PROD)
    backup_id = options(stack, BOB, view["id"], "BackupId")[0]
    submitted = stack.driver.submit_view(BOB, view["id"], {
        "TargetDBInstanceId": MSSQL_QA, "DbNames": ["hr"], "BackupId": backup_id, "reason": REASON})
    assert submitted.status == 200 and not submitted.errors, submitted.text
    card, _request_id = card_and_id(stack)
    text = card_text(card)
    assert f"*Databases already on `{MSSQL_QA}`*: `erp`, `qa_seed`" in text, text
    assert f"`{MSSQL_QA}` (target): SQLServer 2019_std_ha" in text, text
    assert f"*Backup set* {backup_id}: taken " in text
    assert "*Price*" not in text and not stack.rds.calls_for("DescribePrice"), "only a clone is priced"
