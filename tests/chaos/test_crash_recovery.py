"""kill -9 at every dangerous point of a request's life, then start the bot again.

Each test runs `rdsbot serve` as a child with RDSBOT_TEST_CRASH_AT=<point>,
drives it through the Slack emulator until the child SIGKILLs itself, starts a
second child on the same database and emulators without the crash variable,
and checks: one RDS job, one final reply (the last of its thread), every
outbox message sent, an intact audit chain. SQLite and PostgreSQL both.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from bot.sandbox.slack import ALICE, APPROVALS_CHANNEL, BOB, CAROL, OPS_CHANNEL, SlackDriver
from bot.sandbox.stack import Emulators
from tests.chaos.conftest import Ledger
from tests.chaos.harness import (
    DEV_MYSQL,
    PROD_MYSQL,
    BotLauncher,
    Db,
    anchor_of,
    approval_card,
    duplicate_posts,
    executed_calls,
    finals,
    new_instances,
    ok_calls,
    request_backup,
    request_clone,
    request_id_of,
    wait_until,
)

pytestmark = pytest.mark.timeout(150)

SETTLE_S = 1.0  # every outbox row is "sent" by then: nothing may be claimed again, only in-flight posts land


def _settled(db: Db, request_id: str) -> bool:
    request = db.request(request_id)
    if request is None or request.state not in {"succeeded", "failed"}:
        return False
    rows = [r for r in db.outbox() if r.request_id == request_id]
    return bool(rows) and all(r.state == "sent" for r in rows)


def _wait_settled(db: Db, request_id: str, timeout: float) -> Any:
    wait_until(lambda: _settled(db, request_id), timeout,
               f"{request_id} to end with every Slack message sent "
               f"(state={getattr(db.request(request_id), 'state', None)}, "
               f"outbox={[(r.kind, r.state) for r in db.outbox() if r.request_id == request_id]})")
    time.sleep(SETTLE_S)
    return db.request(request_id)


def _crash_then_recover(launcher: BotLauncher, point: str, ledger: Ledger, drive: Any,
                        at_crash: Any = None) -> Any:
    """Drive a crashing child until it dies, check the scene of the crash, start a clean child."""
    crashing = launcher.start(f"crash-{point}", {"RDSBOT_TEST_CRASH_AT": point})
    driver = SlackDriver(launcher.emulators.slack, crashing.events_url)
    context = drive(driver)
    returncode = crashing.wait_exit(timeout_s=40)
    assert returncode == -9, f"expected the child to SIGKILL itself at {point}, got {returncode}\n{crashing.tail()}"
    assert any(r.get("crash_at") == point and "crashing" in str(r.get("msg")) for r in crashing.log_lines()), \
        f"the crash was not at the named point:\n{crashing.tail()}"
    ledger.crash(point)
    if at_crash is not None:
        at_crash(context)
    launcher.start(f"recover-{point}")
    return context


# What the database and the emulators hold at the moment of each crash, so each
# test proves the crash happened where its name says.
def _scene(point: str, db: Db, emulators: Emulators, request_id: str, thread_ts: str) -> None:
    request = db.request(request_id)
    clone_calls = executed_calls(emulators.rds, "CloneDBInstance")
    thread_finals = finals(emulators.slack, APPROVALS_CHANNEL, thread_ts)
    final_rows = [r for r in db.outbox() if r.request_id == request_id and r.kind == "final"]
    if point == "after_approval":
        assert request.state == "approved" and not clone_calls, (request.state, len(clone_calls))
    elif point == "after_rds_call":
        assert request.state == "submitted" and len(clone_calls) == 1, (request.state, len(clone_calls))
    elif point == "while_polling":
        assert request.state == "running" and len(clone_calls) == 1, (request.state, len(clone_calls))
    elif point == "while_posting_final":
        assert request.state == "succeeded" and len(thread_finals) == 1, (request.state, len(thread_finals))
        assert [r.state for r in final_rows] == ["sending"], "Slack has the final; the outbox does not know yet"


def _check_audit(launcher: BotLauncher, db: Db, request_id: str) -> None:
    verified = launcher.audit_verify()
    assert verified.returncode == 0, f"audit verify: {verified.stdout}\n{verified.stderr}"
    assert db.verify().ok
    events = db.events(request_id)
    assert events.count("final_posted") == 1, events
    assert events.count("started") == 1, events


@pytest.mark.parametrize("point", ["after_approval", "after_rds_call", "while_polling", "while_posting_final"])
def test_clone_survives_kill9(point: str, launcher: BotLauncher, emulators: Emulators, database_url: str,
                              ledger: Ledger) -> None:
    slack, rds = emulators.slack, emulators.rds
    before = [i.id for i in rds.instances()]
    # after_approval uses a production clone (two DBAs): the crash comes with the second vote.
    instance = PROD_MYSQL if point == "after_approval" else DEV_MYSQL
    approvers = (BOB, CAROL) if instance == PROD_MYSQL else (BOB,)

    def drive(driver: SlackDriver) -> dict[str, Any]:
        request_clone(driver, user=ALICE, instance=instance)
        card = approval_card(slack)
        for approver in approvers:
            clicked = driver.click(approver, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")
            assert clicked.status == 200 and clicked.acked_in_time
        return card

    db = Db(database_url)
    try:
        card = _crash_then_recover(
            launcher, point, ledger, drive,
            at_crash=lambda c: _scene(point, db, emulators, request_id_of(c), c["ts"]))
        request_id = request_id_of(card)
        request = _wait_settled(db, request_id, timeout=60)
        clones = executed_calls(rds, "CloneDBInstance")
        made = new_instances(rds, before)
        final_replies = finals(slack, APPROVALS_CHANNEL, card["ts"])
        ledger.dup("rds:CloneDBInstance", len(clones) - 1)
        ledger.dup("rds:new_instance", len(made) - 1)
        ledger.dup("slack:final", len(final_replies) - 1)
        ledger.dup("slack:post", sum(n - 1 for n in duplicate_posts(slack).values()))

        assert request.state == "succeeded", (request.state, request.error_code, request.error_message)
        assert len(clones) == 1, [(c.client_token, c.replayed) for c in rds.calls_for("CloneDBInstance")]
        assert all(c.client_token == request_id for c in ok_calls(rds, "CloneDBInstance"))
        assert len(made) == 1 and made == [request.result["DBInstanceId"]], made
        assert len(rds.jobs("CloneDBInstance")) == 1
        assert len(final_replies) == 1, [m["text"] for m in final_replies]
        thread = slack.messages(APPROVALS_CHANNEL, card["ts"])
        assert thread[-1]["ts"] == final_replies[0]["ts"], "the final reply is the last of its thread"
        assert final_replies[0]["metadata"]["event_payload"] == {"request_id": request_id, "state": "succeeded"}
        assert not duplicate_posts(slack), duplicate_posts(slack)
        assert all(r.state == "sent" for r in db.outbox()), [(r.kind, r.state, r.last_error) for r in db.outbox()]
        _check_audit(launcher, db, request_id)
    finally:
        db.dispose()


def test_backup_crash_after_rds_call_finds_the_started_job(launcher: BotLauncher, emulators: Emulators,
                                                           database_url: str, ledger: Ledger) -> None:
    """CreateBackup has no ClientToken: after the crash the bot must look for its job, never call again."""
    slack, rds = emulators.slack, emulators.rds
    backups_before = {b.id for b in rds.backups(DEV_MYSQL)}

    def drive(driver: SlackDriver) -> None:
        request_backup(driver, user=ALICE, instance=DEV_MYSQL)

    db = Db(database_url)

    def scene(_: Any) -> None:
        [request] = [r for r in db.requests() if r.operation == "backup"]
        assert request.state == "submitted" and len(rds.calls_for("CreateBackup")) == 1

    try:
        _crash_then_recover(launcher, "after_rds_call", ledger, drive, at_crash=scene)
        [request] = [r for r in db.requests() if r.operation == "backup"]
        request = _wait_settled(db, request.id, timeout=60)
        calls = rds.calls_for("CreateBackup")
        made = [b for b in rds.backups(DEV_MYSQL) if b.id not in backups_before]
        ledger.dup("rds:CreateBackup", len(calls) - 1)
        anchor = anchor_of(slack, OPS_CHANNEL, request.id)
        final_replies = finals(slack, OPS_CHANNEL, anchor["ts"])
        ledger.dup("slack:final", len(final_replies) - 1)

        assert len(calls) == 1 and calls[0].status == 200, [(c.status, c.code) for c in calls]
        assert len(made) == 1, made
        assert request.state == "succeeded", (request.state, request.error_code, request.error_message)
        assert request.result.get("BackupId") == made[0].id, request.result
        assert "resubmitted" in db.events(request.id)
        assert len(final_replies) == 1 and made[0].id in final_replies[0]["text"]
        assert not duplicate_posts(slack), duplicate_posts(slack)
        _check_audit(launcher, db, request.id)
    finally:
        db.dispose()
