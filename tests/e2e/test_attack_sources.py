"""Attacks through the other instance a request touches: a copy's source, a point-in-time restore's source.

Alice (role:engineer) may copy and restore only where the instance is known not
to be production (policies/policy.csv). Each test is her trying to pull
production data into an instance she does have rights on, through the field
that names the *other* instance.
"""

from __future__ import annotations

from typing import Any

from bot.sandbox.slack import ALICE, APPROVALS_CHANNEL, OPS_CHANNEL
from bot.sandbox.stack import Stack
from tests.e2e.flows_ops import MSSQL_PROD, MSSQL_QA, MYSQL_DEV, MYSQL_PROD, ago, copy_form, open_copy

RESTORE = "RestoreDdrTable"
COPY = "CopyDatabaseBetweenInstances"
WHY = "need last night's payments in dev for INC-9"


def _newest_request(stack: Stack, user: str) -> Any:
    recent = stack.requests.recent(user)
    assert recent, "no request was recorded"
    return recent[0]


def _cards(stack: Stack) -> list[dict[str, Any]]:
    return [m for m in stack.slack.messages(APPROVALS_CHANNEL) if "waiting for approval" in m.get("text", "")]


def _pitr_into(stack: Stack, target: str, source: str, **extra: Any) -> Any:
    view = stack.driver.open_modal(ALICE, f"restore {target}", channel=OPS_CHANNEL)
    form = {"RestoreType": "1", "RestoreTime": ago(hours=1), "SourceRegion": "cn-hangzhou",
            "SourceDBInstanceName": source, "TableMetaLines": "payments -> payments_from_prod", "reason": WHY,
            **extra}
    return stack.driver.submit_view(ALICE, view["id"], form, validate=False)


def test_a_copy_from_a_production_source_into_qa_is_denied_naming_the_source(stack: Stack) -> None:
    view = open_copy(stack, ALICE, MSSQL_PROD)
    submitted = stack.driver.submit_view(ALICE, view["id"], copy_form(TargetDBInstanceId=MSSQL_QA), validate=False)
    assert submitted.status == 200, submitted.text
    stack.drain()
    request = _newest_request(stack, ALICE)
    assert request.state == "denied", f"a copy out of production was recorded as {request.state}"
    assert request.decision["resource"].endswith(f"dbinstance/{MSSQL_PROD}"), request.decision
    note = stack.slack.wait_for_ephemeral(ALICE, timeout=15)
    assert MSSQL_PROD in note["text"] and "rds:CopyDatabaseBetweenInstances" in note["text"], note["text"]
    assert _cards(stack) == [] and stack.rds.calls_for(COPY) == []


def test_a_point_in_time_restore_from_production_into_dev_is_denied_not_run(stack: Stack) -> None:
    # Restores into env=dev need no approval (approvals.toml): before the source was a
    # resource, this ran at once and production tables landed in the dev instance.
    submitted = _pitr_into(stack, MYSQL_DEV, MYSQL_PROD)
    assert submitted.status == 200 and not submitted.errors, submitted.text
    stack.drain()
    request = _newest_request(stack, ALICE)
    assert request.state == "denied", f"the restore from production was recorded as {request.state}"
    assert request.decision["resource"].endswith(f"dbinstance/{MYSQL_PROD}"), request.decision
    assert [r["role"] for r in request.resources] == ["target", "source"]
    assert stack.rds.calls_for(RESTORE) == [], "production data was restored into dev"
    assert "payments_from_prod" not in {d.name for d in stack.rds.databases(MYSQL_DEV)}


def test_a_point_in_time_source_must_exist_in_its_region(stack: Stack) -> None:
    submitted = _pitr_into(stack, MYSQL_DEV, "rm-bp1doesnotexist99")
    assert "SourceDBInstanceName" in (submitted.errors or {}), submitted.text
    assert "rm-bp1doesnotexist99" in submitted.errors["SourceDBInstanceName"]
    assert stack.requests.recent(ALICE) == [] and stack.rds.calls_for(RESTORE) == []


def test_a_point_in_time_source_in_another_region_than_named_is_refused(stack: Stack) -> None:
    submitted = _pitr_into(stack, MYSQL_DEV, "rm-uf6mysqldr000014")  # lives in cn-shanghai, named cn-hangzhou
    assert "SourceDBInstanceName" in (submitted.errors or {}), submitted.text
    assert "cn-shanghai" in submitted.errors["SourceDBInstanceName"]
    assert stack.rds.calls_for(RESTORE) == []
