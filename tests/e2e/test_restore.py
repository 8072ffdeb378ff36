"""`/rds restore` end to end: RestoreDdrTable into an existing instance, behind approval.

PG_STAGING (env=staging) is the non-prod instance with cross-region backup sets
of its own; restoring into it from them is restoring into the source, so every
restored database or table needs a new name. The example policy refuses any
restore into env=prod, even to a DBA.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.slack import ALICE, APPROVALS_CHANNEL, BOB, CAROL, OPS_CHANNEL
from bot.sandbox.stack import Stack
from tests.e2e.flows_ops import (
    MSSQL_PROD,
    MSSQL_QA,
    MYSQL_DR_SHANGHAI,
    MYSQL_PROD,
    PG_STAGING,
    ago,
    approve,
    audit_ok,
    audit_rows,
    card_and_id,
    events,
    final_state,
    is_final,
    later,
    options,
    replies,
)

RESTORE = "RestoreDdrTable"
WHY = "restore the events table for INC-77"


def _open(stack: Stack, user: str, instance: str) -> dict[str, Any]:
    return stack.driver.open_modal(user, f"restore {instance}", channel=OPS_CHANNEL)


def _submit(stack: Stack, user: str, view: dict[str, Any], **values: Any) -> Any:
    form = {"reason": WHY, **values}
    return stack.driver.submit_view(user, view["id"], {k: v for k, v in form.items() if v is not None},
                                    validate=False)


def _restore_calls(stack: Stack) -> list[Any]:
    return stack.rds.calls_for(RESTORE)


def test_restore_from_a_cross_region_set_into_staging(stack: Stack) -> None:
    view = _open(stack, ALICE, PG_STAGING)
    sets = options(stack, ALICE, view["id"], "BackupId")
    assert sets and all(s.isdigit() for s in sets)
    lines = "analytics -> analytics_restored\nreporting.events -> events_old"
    submitted = _submit(stack, ALICE, view, RestoreType="0", BackupId=sets[0], TableMetaLines=lines)
    assert submitted.status == 200 and not submitted.errors, submitted.text
    card, request_id = card_and_id(stack)
    assert request_id.startswith("restore-") and _restore_calls(stack) == []

    final = approve(stack, card, BOB)
    assert final["metadata"]["event_payload"] == {"request_id": request_id, "state": "succeeded"}
    assert PG_STAGING in final["text"] and "analytics_restored" in final["text"] and "events_old" in final["text"]

    calls = _restore_calls(stack)
    assert len(calls) == 1 and calls[0].status == 200
    assert calls[0].client_token == request_id == calls[0].params["ClientToken"]
    assert calls[0].params["RestoreType"] == "0" and calls[0].params["BackupId"] == sets[0]
    assert json.loads(calls[0].params["TableMeta"]) == [
        {"type": "db", "name": "analytics", "newname": "analytics_restored", "tables": []},
        {"type": "db", "name": "reporting", "newname": "reporting",
         "tables": [{"type": "table", "name": "events", "newname": "events_old"}]},
    ]

    thread = replies(stack, APPROVALS_CHANNEL, card["ts"])
    assert any("Restoring" in m["text"] for m in thread if not is_final(m)), [m["text"] for m in thread]
    assert thread[-1]["ts"] == final["ts"] and len([m for m in thread if is_final(m)]) == 1
    assert stack.rds.instance(PG_STAGING).status == "Running"
    assert {"analytics_restored": "Running"}.items() <= {d.name: d.status for d in stack.rds.databases(PG_STAGING)}.items()
    trail = events(stack, request_id)
    assert trail[:4] == ["requested", "approval", "approved", "submitted"] and "succeeded" in trail
    assert audit_ok(stack)


def test_restoring_into_prod_is_denied_by_the_named_rule(stack: Stack) -> None:
    view = _open(stack, BOB, MYSQL_PROD)
    sets = options(stack, BOB, view["id"], "BackupId")
    assert sets and "1249001" not in sets, "the failed set is not offered"
    # A point-in-time restore into the SQL Server prod instance passes every form rule...
    view = _open(stack, BOB, MSSQL_PROD)
    response = _submit(stack, BOB, view, RestoreType="1", RestoreTime=ago(hours=1), SourceRegion="cn-hangzhou",
                       SourceDBInstanceName=MSSQL_PROD, TableMetaLines="hr -> hr_r")
    assert response.status == 200 and "not allowed" in str(response.json)
    # ...and the policy refuses it, naming the rule.
    note = stack.slack.wait_for_ephemeral(BOB, timeout=5)
    text = note["text"]
    assert "rds:RestoreDdrTable" in text and "policy.csv:" in text and "env=prod" in text, text
    assert MSSQL_PROD in text
    assert [r.state for r in stack.requests.recent(BOB)] == ["denied"]
    assert stack.slack.messages(APPROVALS_CHANNEL) == []
    assert _restore_calls(stack) == []


BAD_JSON = '[{"type": "db", "name": "analytics",'
NO_NEWNAME = '[{"type": "db", "name": "analytics", "tables": []}]'
NO_TABLE_NEWNAME = ('[{"type": "db", "name": "reporting", "newname": "reporting", '
                    '"tables": [{"type": "table", "name": "events"}]}]')
DUPLICATE = ('[{"type": "db", "name": "analytics", "newname": "x_restored", "tables": []}, '
             '{"type": "db", "name": "reporting", "newname": "x_restored", "tables": []}]')
SAME_NAME = '[{"type": "db", "name": "analytics", "newname": "analytics", "tables": []}]'
GOOD_JSON = '[{"type": "db", "name": "reporting", "newname": "reporting_old", "tables": []}]'

# (name, form, field, words the error must hold)
RESTORE_REFUSALS: list[tuple[str, dict[str, Any], str, str]] = [
    ("bad JSON", {"TableMeta": BAD_JSON}, "TableMeta", "Not valid JSON"),
    ("missing newname", {"TableMeta": NO_NEWNAME}, "TableMeta", "Entry 1 (analytics): 'newname'"),
    ("missing table newname", {"TableMeta": NO_TABLE_NEWNAME}, "TableMeta",
     "Entry 1 (reporting), table 1 (events): 'newname'"),
    ("duplicate new name (JSON)", {"TableMeta": DUPLICATE}, "TableMeta", "Entry 2 (reporting)"),
    ("duplicate new name (lines)", {"TableMetaLines": "analytics -> x_r\nreporting -> x_r"}, "TableMetaLines",
     "used twice"),
    ("both fields", {"TableMetaLines": "analytics -> a_r", "TableMeta": GOOD_JSON}, "TableMeta", "not both"),
    ("neither field", {}, "TableMetaLines", "Say which databases"),
    ("arrow without a name", {"TableMetaLines": "analytics ->"}, "TableMetaLines", "Line 1"),
    ("into the source, same name (lines)", {"TableMetaLines": "analytics"}, "TableMetaLines", "needs new names"),
    ("into the source, same name (JSON)", {"TableMeta": SAME_NAME}, "TableMeta", "needs new names"),
    ("into the source, same table name", {"TableMetaLines": "reporting.events"}, "TableMetaLines",
     "reporting.events"),
    ("name the target has", {"TableMetaLines": "analytics -> reporting"}, "TableMetaLines", "already has reporting"),
    ("no restore type", {"RestoreType": None, "TableMetaLines": "analytics -> a_r"}, "RestoreType", "required"),
    ("set without its id", {"BackupId": None, "TableMetaLines": "analytics -> a_r"}, "BackupId", "Pick the"),
    ("set with a time", {"RestoreTime": ago(hours=1), "TableMetaLines": "analytics -> a_r"}, "RestoreTime",
     "Only for 'To a point in time'"),
    ("set of another instance", {"BackupId": "1249004", "TableMetaLines": "analytics -> a_r"}, "BackupId",
     f"not a cross-region backup set of {PG_STAGING}"),
]
PITR = {"RestoreType": "1", "BackupId": None, "TableMetaLines": "analytics -> a_r"}
PITR_REFUSALS: list[tuple[str, dict[str, Any], str, str]] = [
    ("no time", {}, "RestoreTime", "needs the point in time"),
    ("no region", {}, "SourceRegion", "needs the source region"),
    ("no source", {}, "SourceDBInstanceName", "needs the source instance"),
    ("with a set", {"BackupId": "1249009"}, "BackupId", "Only for 'From a cross-region backup set'"),
    ("time in the future", {"RestoreTime": later(hours=1)}, "RestoreTime", "in the future"),
    ("forged time, not from the picker", {"RestoreTime": "29/11/2026 10:00"}, "RestoreTime", "yyyy-MM-ddTHH:mm:ssZ"),
    ("region not a region", {"SourceRegion": "Shanghai!"}, "SourceRegion", "cn-shanghai"),
]


def test_every_restore_rule_is_checked_on_the_modal(stack: Stack) -> None:
    view = _open(stack, ALICE, PG_STAGING)
    a_set = options(stack, ALICE, view["id"], "BackupId")[0]
    cases = [(n, {"RestoreType": "0", "BackupId": a_set, **f}, fld, w) for n, f, fld, w in RESTORE_REFUSALS]
    cases += [(n, {**PITR, **f}, fld, w) for n, f, fld, w in PITR_REFUSALS]
    for name, form, field, words in cases:
        response = _submit(stack, ALICE, view, **form)
        assert response.response_action == "errors", f"{name}: {response.text}"
        assert words in response.errors.get(field, ""), f"{name}: {response.errors}"
    assert stack.requests.recent(ALICE) == []
    assert stack.slack.messages(APPROVALS_CHANNEL) == [] and _restore_calls(stack) == []

    # The raw JSON, when right, is what the API gets.
    accepted = _submit(stack, ALICE, view, RestoreType="0", BackupId=a_set, TableMeta=GOOD_JSON)
    assert not accepted.errors, accepted.errors
    card, request_id = card_and_id(stack)
    request = stack.requests.get(request_id)
    assert request is not None and json.loads(request.params["TableMeta"]) == json.loads(GOOD_JSON)
    assert "TableMetaLines" not in request.params


def _pitr(stack: Stack, target: str, source: str, lines: str, *, requester: str = ALICE) -> tuple[dict[str, Any], str]:
    view = _open(stack, requester, target)
    response = _submit(stack, requester, view, RestoreType="1", RestoreTime=ago(hours=1), SourceRegion="cn-hangzhou",
                       SourceDBInstanceName=source, TableMetaLines=lines)
    assert not response.errors, response.errors
    return card_and_id(stack)


def test_a_point_in_time_restore_runs_with_its_three_parameters(make_stack: Callable[..., Stack],
                                                                 policy_dir: Path) -> None:
    # Production data into QA: the requester needs RestoreDdrTable on the production source
    # too, which the example policy gives nobody; this operator's policy lets DBAs do it.
    _allow_prod_restores(policy_dir)
    stack = make_stack()
    card, request_id = _pitr(stack, MSSQL_QA, MSSQL_PROD, "hr -> hr_restored", requester=BOB)
    final = approve(stack, card, CAROL)
    assert final_state(final) == "succeeded", final["text"]
    assert "hr_restored" in final["text"] and MSSQL_PROD in final["text"]
    [call] = _restore_calls(stack)
    assert call.client_token == request_id and call.params["RestoreType"] == "1"
    assert call.params["SourceRegion"] == "cn-hangzhou" and call.params["SourceDBInstanceName"] == MSSQL_PROD
    assert call.params["RestoreTime"].endswith("Z") and "BackupId" not in call.params
    assert "hr_restored" in {d.name for d in stack.rds.databases(MSSQL_QA)}


def test_an_emulator_refusal_after_approval_is_plain_and_keeps_its_code(stack: Stack) -> None:
    # PG_STAGING ships cross-region backups but no cross-region log backup: no point-in-time restore.
    card, request_id = _pitr(stack, PG_STAGING, PG_STAGING, "analytics -> analytics_pitr")
    final = approve(stack, card, BOB)
    assert final_state(final) == "failed"
    assert "InvalidBackupLogStatus" in final["text"] and "Log backup is not enabled" in final["text"], final["text"]
    assert [c.code for c in _restore_calls(stack)] == ["InvalidBackupLogStatus"]
    failed = [e for e in audit_rows(stack, request_id) if e.event == "failed"]
    assert len(failed) == 1 and failed[0].detail["code"] == "InvalidBackupLogStatus"


def test_a_point_in_time_restore_into_the_dr_region(make_stack: Callable[..., Stack], policy_dir: Path) -> None:
    _allow_prod_restores(policy_dir)
    stack = make_stack()
    card, request_id = _pitr(stack, MYSQL_DR_SHANGHAI, MYSQL_PROD, "payments -> payments_restored", requester=BOB)
    final = approve(stack, card, CAROL)
    assert final_state(final) == "succeeded", final["text"]


def _allow_prod_restores(policy_dir: Path) -> None:
    """An operator's policy without the example's "no restore into prod" line."""
    policy = policy_dir / "policy.csv"
    lines = policy.read_text().splitlines()
    kept = [line for line in lines if not (line.startswith("p, *, rds:RestoreDdrTable") and "deny" in line)]
    assert len(kept) == len(lines) - 1
    policy.write_text("\n".join(kept) + "\n")


@pytest.mark.parametrize("backup_set,field,words", [
    ("1249004", "DBInstanceId", "read-only"),   # MYSQL_PROD has a read-only instance
    ("1249002", "BackupId", "ogical"),          # a logical set cannot restore databases or tables
])
def test_what_the_api_refuses_about_target_and_set_is_refused_on_the_modal(
    make_stack: Callable[..., Stack], policy_dir: Path, backup_set: str, field: str, words: str
) -> None:
    _allow_prod_restores(policy_dir)
    stack = make_stack()
    view = _open(stack, BOB, MYSQL_PROD)
    offered = options(stack, BOB, view["id"], "BackupId")
    assert (backup_set in offered) == (field != "BackupId"), "a logical set is not even offered"
    response = _submit(stack, BOB, view, RestoreType="0", BackupId=backup_set, TableMetaLines="payments -> pay_r")
    assert response.response_action == "errors", "passed the modal: RDS refuses it only after approval"
    assert words in response.errors.get(field, ""), response.errors
