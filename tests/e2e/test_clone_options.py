"""Issue 14: every clone option reaches RDS, and the backup pickers search every set, over signed HTTP.

A partial clone (RestoreTable=1 + TableMeta), AutoPay and DeletionProtection are
asserted on the RDS emulator's journal of the CloneDBInstance call. PG_STAGING
holds 136 backup sets (more than a page of 100) and cross-region sets up to two
years old: the pickers find the old ones by ID and by date.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from bot.sandbox.slack import ALICE, BOB, OPS_CHANNEL
from bot.sandbox.stack import Stack
from bot.timeutil import utcnow
from tests.e2e.flows import request_clone
from tests.e2e.flows_ops import MYSQL_DEV, PG_STAGING, approve, card_and_id, final_state

PARTIAL = {
    "PayType": "Prepaid", "Period": "Month", "UsedTime": "1", "AutoPay": "false",
    "DeletionProtection": ["true"], "RestoreTable": ["1"],
    "TableMetaLines": "payments_dev -> payments_copy\nscratch.notes -> notes_old",
}
TABLE_META = [
    {"type": "db", "name": "payments_dev", "newname": "payments_copy", "tables": []},
    {"type": "db", "name": "scratch", "newname": "scratch",
     "tables": [{"type": "table", "name": "notes", "newname": "notes_old"}]},
]


def _modal_text(stack: Stack, view_id: str) -> str:
    view = stack.slack.current_view(view_id) or {}
    return "\n".join(str((b.get("text") or {}).get("text") or "") for b in view.get("blocks", []))


def test_a_partial_prepaid_clone_sends_every_option_it_was_given(stack: Stack) -> None:
    # The dry run names the exact parameters...
    view, dry = request_clone(stack, instance=MYSQL_DEV, values={**PARTIAL, "dry_run": ["yes"]})
    assert dry.status == 200 and not dry.errors, dry.text
    stack.drain()
    shown = _modal_text(stack, view["id"])
    for name, value in (("RestoreTable", "1"), ("AutoPay", "false"), ("DeletionProtection", "true")):
        assert f"`{name}` = `{value}`" in shown, shown
    assert "`TableMeta` = " in shown and not stack.rds.calls_for("CloneDBInstance")

    # ...the approver's card shows them, and they reach RDS as given.
    _view, submitted = request_clone(stack, instance=MYSQL_DEV, values=PARTIAL)
    assert submitted.status == 200 and not submitted.errors, submitted.text
    card, request_id = card_and_id(stack)
    assert "payments_copy" in str(card["blocks"]) and "Pay automatically" in str(card["blocks"])
    final = approve(stack, card, BOB)
    assert final_state(final) == "succeeded", final["text"]

    (call,) = [c for c in stack.rds.calls_for("CloneDBInstance") if c.status == 200]
    assert call.client_token == request_id
    assert call.params["RestoreTable"] == "1" and json.loads(call.params["TableMeta"]) == TABLE_META
    assert (call.params["AutoPay"], call.params["DeletionProtection"]) == ("false", "true")
    assert "DbNames" not in call.params
    new = stack.rds.instance(stack.requests.get(request_id).result["DBInstanceId"])
    assert new is not None and new.deletion_protection and not new.auto_pay
    assert sorted(d.name for d in stack.rds.databases(new.id)) == ["payments_copy", "scratch"]


def _suggest(stack: Stack, view_id: str, query: str) -> Any:
    response = stack.driver.suggest(ALICE, view_id, "BackupId", query)
    assert response.status == 200 and not response.problems, response.text
    return response


def _values(response: Any) -> list[str]:
    return [str(o["value"]) for o in response.options]


def test_the_backup_pickers_find_sets_older_than_the_newest_hundred(stack: Stack) -> None:
    sets = sorted((b for b in stack.rds.backups(PG_STAGING) if b.status == "Success"), key=lambda b: b.start)
    oldest = sets[0]
    view = stack.driver.open_modal(ALICE, f"clone {PG_STAGING}", channel=OPS_CHANNEL)

    newest = _suggest(stack, view["id"], "")
    assert len(_values(newest)) == 100 and oldest.id not in _values(newest)
    [group] = newest.option_groups
    assert f"of {len(sets)}" in group["label"]["text"] and "yyyy-mm-dd" in group["label"]["text"], group["label"]
    assert _values(_suggest(stack, view["id"], oldest.id)) == [oldest.id]
    assert _values(_suggest(stack, view["id"], oldest.start.strftime("%Y-%m-%d"))) == [oldest.id]
    assert _values(_suggest(stack, view["id"], "2026-1x"))[0] == "-", "a hint, not an error"

    submitted = stack.driver.submit_view(ALICE, view["id"], {
        "DBInstanceId": PG_STAGING, "BackupId": oldest.id, "PayType": "Postpaid", "reason": "INC-77 audit",
        "dry_run": ["yes"]})
    assert submitted.status == 200 and not submitted.errors, submitted.text

    # Cross-region sets: the whole 730 days, by date too.
    restore = stack.driver.open_modal(ALICE, f"restore {PG_STAGING}", channel=OPS_CHANNEL)
    cutoff = utcnow() - timedelta(days=300)
    old_cross = max((c for c in stack.rds.cross_region_backups(PG_STAGING) if c.start < cutoff
                     and utcnow() - c.start < timedelta(days=730)), key=lambda c: c.start)
    assert str(old_cross.id) in _values(_suggest(stack, restore["id"], ""))
    assert _values(_suggest(stack, restore["id"], old_cross.start.strftime("%Y-%m-%d"))) == [str(old_cross.id)]
