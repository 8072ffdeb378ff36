"""`/rds copy` end to end: a DBA asks, another approves, one copy runs, the thread says so.

Everything the API would refuse about the pair of instances or the databases is
refused on the modal, before an approval is ever asked; what only the API can
know (limits, timeouts) ends in a plain failure reply that still shows its code.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.rds import Timings
from bot.sandbox.slack import APPROVALS_CHANNEL, BOB, CAROL
from bot.sandbox.stack import Stack, start_bot, start_emulators
from bot.store.models import Request
from tests.e2e.flows import final_reply
from tests.e2e.flows_ops import (
    MSSQL_2016,
    MSSQL_ALWAYSON,
    MSSQL_BASIC,
    MSSQL_PROD,
    MSSQL_QA,
    MSSQL_SHANGHAI,
    MYSQL_DEV,
    MYSQL_PROD,
    REASON,
    ago,
    approve,
    audit_ok,
    card_and_id,
    copy_form,
    db_names_param,
    events,
    final_state,
    is_final,
    later,
    ok_calls,
    open_copy,
    options,
    replies,
    request_copy,
)

COPY = "CopyDatabaseBetweenInstances"


def _nothing_requested(stack: Stack, user: str = BOB) -> None:
    assert stack.requests.recent(user) == [], "a refused modal records no request"
    assert stack.slack.messages(APPROVALS_CHANNEL) == [], "a refused modal asks nobody for approval"
    assert stack.rds.calls_for(COPY) == [], "a refused modal never calls RDS"


def test_copy_from_request_to_databases_on_the_target(stack: Stack) -> None:
    view = open_copy(stack, BOB, MSSQL_PROD)
    offered = options(stack, BOB, view["id"], "DbNames")
    assert {"erp", "hr", "finance_tde"} <= set(offered)
    targets = options(stack, BOB, view["id"], "TargetDBInstanceId")
    assert MSSQL_QA in targets and MYSQL_PROD not in targets and MYSQL_DEV not in targets, targets
    backup_id = options(stack, BOB, view["id"], "BackupId")[0]
    # The target already holds "erp": it is copied under a new name, "hr" keeps its own.
    submitted = stack.driver.submit_view(BOB, view["id"], {
        "TargetDBInstanceId": MSSQL_QA, "DbNames": ["erp", "hr"], "TargetDbNames": "erp -> erp_copy",
        "BackupId": backup_id, "reason": REASON,
    })
    assert submitted.status == 200 and not submitted.errors, submitted.text
    card, request_id = card_and_id(stack)
    assert request_id.startswith("copy-")
    assert stack.rds.calls_for(COPY) == [], "nothing runs before approval"

    final = approve(stack, card, CAROL)
    assert final["metadata"]["event_payload"] == {"request_id": request_id, "state": "succeeded"}
    assert MSSQL_QA in final["text"] and "erp_copy" in final["text"] and "hr" in final["text"], final["text"]

    calls = stack.rds.calls_for(COPY)
    assert len(calls) == 1 and calls[0].status == 200
    assert db_names_param(calls[0]) == {"erp": "erp_copy", "hr": "hr"}
    assert calls[0].params["BackupId"] == backup_id and "RestoreTime" not in calls[0].params
    assert calls[0].params["DBInstanceId"] == MSSQL_PROD and calls[0].params["TargetDBInstanceId"] == MSSQL_QA

    thread = replies(stack, APPROVALS_CHANNEL, card["ts"])
    assert thread[-1]["ts"] == final["ts"] and [m for m in thread if is_final(m)] == [final]
    progress = [m["text"] for m in thread if "Creating" in m["text"] or "Waiting" in m["text"]]
    assert len(progress) == 1, f"one reply per database state change, got {progress}"
    assert f"databases on `{MSSQL_QA}`: *erp_copy Creating · hr Creating*" in progress[0], progress[0]
    assert not any("Running" in m["text"] for m in thread if not is_final(m)), "the end is not posted as progress"

    on_target = {d.name: d.status for d in stack.rds.databases(MSSQL_QA)}
    assert on_target["erp_copy"] == "Running" and on_target["hr"] == "Running" and "erp" in on_target
    trail = events(stack, request_id)
    assert trail[:4] == ["requested", "approval", "approved", "submitted"]
    assert trail.count("started") == 1 and trail.count("succeeded") == 1
    assert audit_ok(stack)


@pytest.mark.parametrize("source,target,field", [
    (MYSQL_DEV, MSSQL_QA, "DBInstanceId"),
    (MSSQL_PROD, MYSQL_DEV, "TargetDBInstanceId"),
])
def test_copy_with_a_mysql_instance_never_reaches_approval(stack: Stack, source: str, target: str, field: str) -> None:
    view = open_copy(stack, BOB, source)
    # A DBA may copy anything by policy: only the engine rule stops this one,
    # and it is said even when the rest of the form is still empty.
    response = stack.driver.submit_view(BOB, view["id"], {"DBInstanceId": source, "TargetDBInstanceId": target},
                                        validate=False)
    assert response.response_action == "errors"
    assert "SQL Server" in response.errors[field], response.errors
    full = stack.driver.submit_view(BOB, view["id"], copy_form(DBInstanceId=source, TargetDBInstanceId=target,
                                                               DbNames=["scratch"]), validate=False)
    assert full.response_action == "errors" and "SQL Server" in full.errors[field], full.errors
    _nothing_requested(stack)


# Each case: the form changes, then (field, words the error must hold).
REFUSALS: list[tuple[str, dict[str, Any], str, str]] = [
    ("same instance", {"TargetDBInstanceId": MSSQL_PROD}, "TargetDBInstanceId", "different instance"),
    ("other region", {"TargetDBInstanceId": MSSQL_SHANGHAI}, "TargetDBInstanceId", "one region"),
    ("HA to Basic", {"TargetDBInstanceId": MSSQL_BASIC}, "TargetDBInstanceId",
     "HighAvailability edition to a Basic edition"),
    ("AlwaysOn to HA", {"DBInstanceId": MSSQL_ALWAYSON, "DbNames": ["bi"]}, "TargetDBInstanceId",
     "AlwaysOn edition to a HighAvailability edition"),
    ("newer source", {"TargetDBInstanceId": MSSQL_2016}, "TargetDBInstanceId", "newer than the target"),
    ("TDE database", {"DbNames": ["finance_tde"]}, "DbNames", "TDE"),
    ("name taken", {"DbNames": ["erp"]}, "DbNames", "already has erp"),
    ("renamed onto a taken name", {"DbNames": ["hr"], "TargetDbNames": "hr -> qa_seed"}, "TargetDbNames",
     "already has qa_seed"),
    ("rename of a database not copied", {"TargetDbNames": "erp -> erp_copy"}, "TargetDbNames",
     "not among the databases"),
    ("source database missing", {"DbNames": ["nosuchdb"]}, "DbNames", "Not on"),
    ("system database", {"DbNames": ["master"]}, "DbNames", "System databases"),
    ("neither backup nor time", {"RestoreTime": None}, "BackupId", "a backup set or a point in time"),
    ("both backup and time", {"BackupId": "321000024"}, "RestoreTime", "not both"),
    ("backup of another instance", {"RestoreTime": None, "BackupId": "321000030"}, "BackupId",
     f"not a backup of {MSSQL_PROD}"),
    ("forged time, not from the picker", {"RestoreTime": "yesterday at noon"}, "RestoreTime", "yyyy-MM-ddTHH:mm:ssZ"),
    ("time in the future", {"RestoreTime": later(hours=1)}, "RestoreTime", "in the future"),
    ("time outside the window", {"RestoreTime": ago(days=30)}, "RestoreTime", "retention window"),
    ("no reason", {"reason": None}, "reason", "required"),
]


def test_every_copy_rule_is_checked_on_the_modal(stack: Stack) -> None:
    view = open_copy(stack, BOB, MSSQL_PROD)
    for name, change, field, words in REFUSALS:
        response = stack.driver.submit_view(BOB, view["id"], copy_form(**change), validate=False)
        assert response.response_action == "errors", f"{name}: {response.text}"
        assert words in response.errors.get(field, ""), f"{name}: {response.errors}"
    _nothing_requested(stack)


@pytest.mark.parametrize("typed,expected", [
    ('{"hr": "hr_copy"}', {"hr": "hr_copy"}),
    ("hr, erp -> erp2", {"hr": "hr", "erp": "erp2"}),
])
def test_db_names_typed_as_text_become_the_json_map(stack: Stack, typed: str, expected: dict[str, str]) -> None:
    view, response = request_copy(stack, BOB, DbNames=typed)
    assert response.response_action != "errors", response.errors
    card, request_id = card_and_id(stack)
    request = stack.requests.get(request_id)
    assert request is not None and json.loads(request.params["DbNames"]) == expected


COPY_FAILURES = [
    # (how, form changes, code, plain words): the first two are the emulator's own refusals.
    ("too many databases", {"DbNames": ["hr", "erp", "warehouse"], "TargetDbNames": "erp -> erp_copy"},
     "DBCountLimitExceeded", "database limit"),
    ("not enough storage", {"DbNames": ["warehouse"]}, "StorageLimitExceeded", "enough storage"),
    ("SIMPLE recovery model", {"DbNames": ["reporting_simple"]}, "CurrentRecoveryModelNotSupportThisAction",
     "recovery model"),
    ("cold storage", {"DbNames": ["archive2019"]}, "InvalidRestoreTimeSpecified", "cold storage"),
    ("injected", {}, "NetworkOrSqlTimeoutError", "try again later"),
]


@pytest.mark.parametrize("how,change,code,words", COPY_FAILURES, ids=[c[2] for c in COPY_FAILURES])
def test_an_api_refusal_after_approval_is_a_plain_failure_with_the_code(
    stack: Stack, how: str, change: dict[str, Any], code: str, words: str
) -> None:
    if how == "injected":
        stack.rds.inject(action=COPY, code=code, status=408)
    view, submitted = request_copy(stack, BOB, **change)
    assert not submitted.errors, submitted.errors
    card, request_id = card_and_id(stack)
    final = approve(stack, card, CAROL)
    assert final_state(final) == "failed"
    assert code in final["text"] and words in final["text"], final["text"]
    calls = stack.rds.calls_for(COPY)
    assert [c.code for c in calls] == [code], "a refusal is not retried"
    request = stack.requests.get(request_id)
    assert request is not None and request.state == "failed" and request.error_code == code
    dm = stack.slack.wait_for_message("D0BOB", where=lambda m: request_id in m["text"], timeout=5)
    assert code in dm["text"]


def test_a_copy_job_that_fails_in_rds_ends_in_a_failed_reply(stack: Stack) -> None:
    stack.rds.fail_job(COPY)
    request_copy(stack, BOB)
    card, request_id = card_and_id(stack)
    final = approve(stack, card, CAROL)
    assert final_state(final) == "failed", final["text"]
    assert len(ok_calls(stack, COPY)) == 1
    assert "hr" not in {d.name for d in stack.rds.databases(MSSQL_QA)}
    assert stack.requests.get(request_id).state == "failed"


@pytest.fixture
def quick_failing_copy(database_url: str, policy_dir: Path) -> Iterator[Stack]:
    """A copy that RDS abandons before the bot's first poll: it takes no time, so the emulator ends it
    on the very next request it serves, before any DescribeDatabases can show the new databases."""
    emulators = start_emulators(timings=Timings(clone_s=0.8, copy_s=0.0, backup_s=0.8, restore_s=0.8))
    stack = start_bot(emulators, database_url=database_url, policy_dir=policy_dir)
    yield stack
    stack.stop()


def test_a_copy_abandoned_before_the_first_poll_still_ends_failed(quick_failing_copy: Stack) -> None:
    stack = quick_failing_copy
    stack.rds.fail_job(COPY)
    request_copy(stack, BOB)
    card, request_id = card_and_id(stack)
    stack.driver.click(CAROL, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")
    final = final_reply(stack, APPROVALS_CHANNEL, card["ts"], timeout=3)
    assert final_state(final) == "failed"
    request: Request | None = stack.requests.get(request_id)
    assert request is not None and request.state == "failed"
