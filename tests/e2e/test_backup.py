"""`/rds backup` end to end: no approval, one job per instance at a time, progress edited in place."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.sandbox.rds import Backup
from bot.sandbox.slack import APPROVALS_CHANNEL, BOB, DAVE, ERIN, OPS_CHANNEL
from bot.sandbox.stack import Stack
from tests.e2e.flows_ops import (
    MARIADB_WEB,
    MSSQL_PROD,
    MYSQL_DEV,
    MYSQL_LOCKED,
    MYSQL_PROD,
    MYSQL_READONLY,
    MYSQL_STOPPED,
    PG_STAGING,
    audit_ok,
    events,
    final_state,
    is_final,
    ok_calls,
    replies,
)

CREATE = "CreateBackup"


def _open(stack: Stack, user: str, instance: str) -> dict[str, Any]:
    return stack.driver.open_modal(user, f"backup {instance}", channel=OPS_CHANNEL)


def _submit(stack: Stack, user: str, view: dict[str, Any], **values: Any) -> Any:
    return stack.driver.submit_view(user, view["id"], {k: v for k, v in values.items() if v is not None},
                                    validate=False)


def _anchor(stack: Stack, request_id: str, timeout: float = 10.0) -> dict[str, Any]:
    """The bot's message in the command channel that starts the request's thread."""
    return stack.slack.wait_for_message(OPS_CHANNEL, where=lambda m: request_id in m.get("text", ""),
                                        timeout=timeout)


def _final(stack: Stack, ts: str, timeout: float = 15.0) -> dict[str, Any]:
    return stack.slack.wait_for_message(OPS_CHANNEL, thread_ts=ts, where=is_final, timeout=timeout)


def _percents(versions: list[dict[str, Any]]) -> list[int]:
    found = [re.search(r"(\d+)%", v.get("text") or "") for v in versions]
    return [int(m.group(1)) for m in found if m]


def test_on_call_backs_up_without_approval_and_one_reply_shows_the_progress(stack: Stack) -> None:
    view = _open(stack, ERIN, MYSQL_PROD)
    submitted = _submit(stack, ERIN, view)
    assert submitted.status == 200 and not submitted.errors, submitted.text
    [request] = stack.requests.recent(ERIN)
    anchor = _anchor(stack, request.id)
    final = _final(stack, anchor["ts"])
    assert final["metadata"]["event_payload"] == {"request_id": request.id, "state": "succeeded"}

    calls = ok_calls(stack, CREATE)
    assert len(calls) == 1 and calls[0].params["DBInstanceId"] == MYSQL_PROD
    backup_id = stack.requests.get(request.id).result["BackupId"]
    assert backup_id in final["text"] and MYSQL_PROD in final["text"], final["text"]
    assert backup_id in {b.id for b in stack.rds.backups(MYSQL_PROD)}

    thread = replies(stack, OPS_CHANNEL, anchor["ts"])
    progress = [m for m in thread if "%" in m["text"] and not is_final(m)]
    assert len(progress) == 1, f"one progress reply, edited in place: {[m['text'] for m in thread]}"
    versions = stack.slack.message_versions(OPS_CHANNEL, progress[0]["ts"])
    percents = _percents(versions)
    assert len(versions) >= 3 and percents == sorted(percents) and percents[-1] == 100, percents
    assert len(set(percents)) >= 3, percents
    assert thread[-1]["ts"] == final["ts"] and len([m for m in thread if is_final(m)]) == 1
    assert stack.slack.messages(APPROVALS_CHANNEL) == [], "a backup needs no approval"
    trail = events(stack, request.id)
    assert trail[:4] == ["requested", "approved", "submitted", "started"] and "approval" not in trail
    assert audit_ok(stack)


def test_a_second_backup_while_one_runs_is_refused_on_the_modal(stack: Stack) -> None:
    first = _submit(stack, ERIN, _open(stack, ERIN, MYSQL_DEV))
    assert not first.errors, first.errors
    [running] = stack.requests.recent(ERIN)
    second = _submit(stack, BOB, _open(stack, BOB, MYSQL_DEV))
    assert second.response_action == "errors"
    assert "already" in second.errors["DBInstanceId"] and MYSQL_DEV in second.errors["DBInstanceId"], second.errors
    assert stack.requests.recent(BOB) == []
    final = _final(stack, _anchor(stack, running.id)["ts"])
    assert final_state(final) == "succeeded"
    assert len(stack.rds.calls_for(CREATE)) == 1, "the refused one never reached RDS"

    # Once the first has finished, the instance is free again.
    third = _submit(stack, BOB, _open(stack, BOB, MYSQL_DEV))
    assert not third.errors, third.errors
    [again] = stack.requests.recent(BOB)
    assert final_state(_final(stack, _anchor(stack, again.id)["ts"])) == "succeeded"
    assert len(ok_calls(stack, CREATE)) == 2


def test_two_backups_submitted_at_once_start_one_job(stack: Stack) -> None:
    views = {user: _open(stack, user, PG_STAGING) for user in (ERIN, BOB)}
    barrier = threading.Barrier(len(views))
    answers: dict[str, Any] = {}

    def submit(user: str) -> None:
        barrier.wait()
        answers[user] = _submit(stack, user, views[user])

    threads = [threading.Thread(target=submit, args=(u,)) for u in views]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    refused = [u for u, a in answers.items() if a.response_action == "errors"]
    accepted = [u for u, a in answers.items() if a.response_action != "errors"]
    assert len(refused) == 1 and len(accepted) == 1, {u: a.text for u, a in answers.items()}
    assert "already" in answers[refused[0]].errors["DBInstanceId"]
    [request] = stack.requests.recent(accepted[0])
    assert stack.requests.recent(refused[0]) == []
    assert final_state(_final(stack, _anchor(stack, request.id)["ts"])) == "succeeded"
    assert [c.code for c in stack.rds.calls_for(CREATE)] == [None], "exactly one CreateBackup"


# (name, form, field, words)
BACKUP_RULES: list[tuple[str, dict[str, Any], str, str]] = [
    ("MySQL on cloud disk: Snapshot only", {"DBInstanceId": MYSQL_DEV, "BackupMethod": "Physical"}, "BackupMethod",
     "takes Snapshot backups"),
    ("MySQL on cloud disk: no Logical", {"DBInstanceId": MYSQL_DEV, "BackupMethod": "Logical"}, "BackupMethod",
     "Snapshot"),
    ("MariaDB: Physical only", {"DBInstanceId": MARIADB_WEB, "BackupMethod": "Snapshot"}, "BackupMethod",
     "takes Physical backups"),
    ("Logical: MySQL on local SSD only", {"DBInstanceId": PG_STAGING, "BackupMethod": "Logical"}, "BackupMethod",
     "Physical or Snapshot"),
    ("BackupType: SQL Server only", {"BackupType": "FullBackup"}, "BackupType", "Only SQL Server"),
    ("BackupType: Physical only", {"DBInstanceId": MSSQL_PROD, "BackupMethod": "Snapshot", "BackupType": "Auto"},
     "BackupType", "Physical"),
    ("db scope on MySQL Physical", {"BackupStrategy": "db", "DBName": ["payments"]}, "BackupStrategy",
     "MySQL Logical or SQL Server Physical Full"),
    ("db scope on SQL Server Auto", {"DBInstanceId": MSSQL_PROD, "BackupStrategy": "db", "DBName": ["erp"]},
     "BackupStrategy", "MySQL Logical or SQL Server Physical Full"),
    ("db scope on PostgreSQL", {"DBInstanceId": PG_STAGING, "BackupStrategy": "db", "DBName": ["analytics"]},
     "BackupStrategy", "MySQL Logical or SQL Server Physical Full"),
    ("DBName without db scope", {"BackupMethod": "Logical", "DBName": ["payments"]}, "DBName",
     "Scope = Selected databases"),
    ("db scope without DBName", {"BackupMethod": "Logical", "BackupStrategy": "db"}, "DBName", "Pick the databases"),
    ("DBName that does not exist", {"BackupMethod": "Logical", "BackupStrategy": "db", "DBName": ["nosuchdb"]},
     "DBName", "Not on"),
    ("retention below 7", {"BackupRetentionPeriod": "5"}, "BackupRetentionPeriod", "7 to 730"),
    ("retention above 730", {"BackupRetentionPeriod": "731"}, "BackupRetentionPeriod", "730"),
    ("retention not a number", {"BackupRetentionPeriod": "a week"}, "BackupRetentionPeriod", "whole number"),
    ("retention on PostgreSQL", {"DBInstanceId": PG_STAGING, "BackupRetentionPeriod": "30"}, "BackupRetentionPeriod",
     "Only MySQL"),
    ("retention on SQL Server instance scope", {"DBInstanceId": MSSQL_PROD, "BackupRetentionPeriod": "30"},
     "BackupRetentionPeriod", "Only MySQL"),
    ("read-only instance", {"DBInstanceId": MYSQL_READONLY}, "DBInstanceId", "read-only"),
    ("locked instance", {"DBInstanceId": MYSQL_LOCKED}, "DBInstanceId", "locked"),
    ("stopped instance", {"DBInstanceId": MYSQL_STOPPED}, "DBInstanceId", "Stopped"),
    ("unknown instance", {"DBInstanceId": "rm-bp1doesnotexist99"}, "DBInstanceId", "No instance"),
    ("not an instance ID", {"DBInstanceId": "DROP TABLE"}, "DBInstanceId", "does not look like"),
]
ACCEPTED = [
    {"DBInstanceId": MYSQL_PROD, "BackupMethod": "Logical", "BackupStrategy": "db", "DBName": ["payments", "ledger"],
     "BackupRetentionPeriod": "-1"},
    {"DBInstanceId": MSSQL_PROD, "BackupMethod": "Physical", "BackupType": "FullBackup", "BackupStrategy": "db",
     "DBName": ["erp"], "BackupRetentionPeriod": "30"},
    {"DBInstanceId": MARIADB_WEB},
    {"DBInstanceId": MYSQL_DEV},
]


def test_every_backup_rule_is_checked_on_the_modal(stack: Stack) -> None:
    view = _open(stack, ERIN, MYSQL_PROD)
    for name, change, field, words in BACKUP_RULES:
        response = _submit(stack, ERIN, view, **{"DBInstanceId": MYSQL_PROD, **change})
        assert response.response_action == "errors", f"{name}: {response.text}"
        assert words in response.errors.get(field, ""), f"{name}: {response.errors}"
    assert stack.requests.recent(ERIN) == [] and stack.rds.calls_for(CREATE) == []


def test_what_each_engine_accepts_is_sent_as_given(stack: Stack) -> None:
    for form in ACCEPTED:
        response = _submit(stack, ERIN, _open(stack, ERIN, form["DBInstanceId"]), **form)
        assert not response.errors, f"{form}: {response.errors}"
    stack.slack.wait_for(lambda: len(stack.rds.calls_for(CREATE)) == len(ACCEPTED) or None, timeout=10)
    sent = {c.params["DBInstanceId"]: c.params for c in stack.rds.calls_for(CREATE)}
    assert all(c.status == 200 for c in stack.rds.calls_for(CREATE)), stack.rds.calls_for(CREATE)
    assert sent[MYSQL_PROD]["DBName"] == "payments,ledger" and sent[MYSQL_PROD]["BackupRetentionPeriod"] == "-1"
    assert sent[MSSQL_PROD]["BackupType"] == "FullBackup" and sent[MSSQL_PROD]["BackupStrategy"] == "db"
    assert sent[MARIADB_WEB]["BackupMethod"] == "Physical", "MariaDB takes snapshots but is sent Physical"
    assert sent[MYSQL_DEV]["BackupMethod"] == "Snapshot", "the default for MySQL on cloud disks"


def _fill_the_day(stack: Stack, instance: str, count: int = 20) -> None:
    """Twenty manual backup sets made today (the emulator has no API to make them faster)."""
    now = datetime.now(UTC)
    state = stack.rds.state
    with state.lock:
        for n in range(count):
            start = max(now - timedelta(seconds=30 * (n + 1)), now.replace(hour=0, minute=0, second=1))
            backup = Backup(id=state.new_backup_id(), instance_id=instance, start=start, end=start + timedelta(seconds=5),
                            method="Physical", mode="Manual", size_bytes=1024**3)
            state.backups[backup.id] = backup


def test_the_twentieth_backup_of_the_day_is_the_last(stack: Stack) -> None:
    _fill_the_day(stack, PG_STAGING)
    response = _submit(stack, ERIN, _open(stack, ERIN, PG_STAGING))
    assert response.response_action == "errors"
    assert "20" in response.errors["DBInstanceId"] and "UTC day" in response.errors["DBInstanceId"], response.errors
    assert stack.rds.calls_for(CREATE) == []


@pytest.mark.parametrize("code,status,words", [
    ("Exceeded.BackupTimes", 403, "20 backups a day"),
    ("IncorrectDBInstanceState", 403, "must be Running"),
])
def test_an_api_refusal_is_a_plain_failure_reply_with_its_code(stack: Stack, code: str, status: int, words: str) -> None:
    stack.rds.inject(action=CREATE, code=code, status=status)
    response = _submit(stack, ERIN, _open(stack, ERIN, MYSQL_PROD))
    assert not response.errors
    [request] = stack.requests.recent(ERIN)
    final = _final(stack, _anchor(stack, request.id)["ts"])
    assert final_state(final) == "failed"
    assert code in final["text"] and words in final["text"], final["text"]
    assert stack.requests.get(request.id).error_code == code
    # The instance is free again for the next attempt.
    assert not _submit(stack, ERIN, _open(stack, ERIN, MYSQL_PROD)).errors


def test_a_backup_job_that_fails_in_rds_ends_failed(stack: Stack) -> None:
    stack.rds.fail_job(CREATE)
    assert not _submit(stack, ERIN, _open(stack, ERIN, MYSQL_PROD)).errors
    [request] = stack.requests.recent(ERIN)
    final = _final(stack, _anchor(stack, request.id)["ts"])
    assert final_state(final) == "failed" and "BackupJobFailed" in final["text"], final["text"]


def test_an_intern_is_denied_by_the_named_rule(stack: Stack) -> None:
    response = _submit(stack, DAVE, _open(stack, DAVE, MYSQL_DEV))
    assert response.status == 200 and "not allowed" in str(response.json)
    note = stack.slack.wait_for_ephemeral(DAVE, timeout=5)
    assert "rds:CreateBackup" in note["text"] and "policy.csv:" in note["text"], note["text"]
    assert "role:intern" in note["text"] and "rds:Create*" in note["text"], note["text"]
    assert [r.state for r in stack.requests.recent(DAVE)] == ["denied"]
    assert stack.rds.calls_for(CREATE) == []
    # A denied request holds no lock on the instance.
    assert not _submit(stack, ERIN, _open(stack, ERIN, MYSQL_DEV)).errors
