"""RDS misbehaving: throttling, 5xx, timeouts with and without a ClientToken, unknown statuses.

In-process bot (production wiring, real HTTP to the RDS emulator). The emulator's
delay-only fault runs the operation and answers late, so a timed-out call has
still started its job: exactly what ClientToken, and for CreateBackup the bot's
"look before resending", exist for.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.sandbox.rds import Timings
from bot.sandbox.slack import ALICE, APPROVALS_CHANNEL, BOB, OPS_CHANNEL
from bot.sandbox.stack import Emulators
from bot.timeutil import CLOCK
from tests.chaos.conftest import Ledger
from tests.chaos.harness import (
    DEV_MYSQL,
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
    wait_final,
    wait_until,
)

# Database-independent faults: run once, on SQLite (no PostgreSQL database is made for them).
pytestmark = [pytest.mark.timeout(90), pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
CLONE = "CloneDBInstance"
BACKUP = "CreateBackup"


def _approved_dev_clone(stack: Any, slack: Any) -> tuple[str, dict[str, Any]]:
    request_clone(stack.driver, user=ALICE, instance=DEV_MYSQL)
    card = approval_card(slack)
    clicked = stack.driver.click(BOB, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")
    assert clicked.status == 200 and clicked.acked_in_time
    return request_id_of(card), card


def _settle(stack: Any, request_id: str, timeout: float = 30.0) -> Any:
    def done() -> bool:
        request = stack.requests.get(request_id)
        rows = [r for r in stack.runtime.outbox.pending() if r["request_id"] == request_id]
        return request.state in {"succeeded", "failed", "rejected", "expired", "cancelled", "denied"} and not rows

    wait_until(done, timeout, f"{request_id} to end with every message sent "
                              f"(state {stack.requests.get(request_id).state})")
    stack.drain()  # and whatever else the bot was still doing (a late post would be counted below)
    return stack.requests.get(request_id)


def _one_clone(stack: Any, emulators: Emulators, ledger: Ledger, request_id: str, card: dict[str, Any],
               before: list[str]) -> Any:
    rds, slack = emulators.rds, emulators.slack
    wait_final(slack, APPROVALS_CHANNEL, card["ts"], timeout=40)
    request = _settle(stack, request_id)
    executed = executed_calls(rds, CLONE)
    made = new_instances(rds, before)
    replies = finals(slack, APPROVALS_CHANNEL, card["ts"])
    ledger.dup("rds:CloneDBInstance", len(executed) - 1)
    ledger.dup("rds:new_instance", len(made) - 1)
    ledger.dup("slack:final", len(replies) - 1)
    assert request.state == "succeeded", (request.state, request.error_code, request.error_message)
    assert len(executed) == 1 and len(made) == 1, (executed, made)
    assert {c.client_token for c in rds.calls_for(CLONE)} == {request_id}
    assert len(replies) == 1 and made[0] in replies[0]["text"]
    assert not duplicate_posts(slack)
    with stack.runtime.db.reader() as session:
        from bot.store import audit

        assert audit.verify(session).ok
    return request


@pytest.mark.parametrize("code", ["Throttling.User", "ServiceUnavailable", "InternalError"])
def test_throttled_or_failing_clone_is_retried_into_one_clone(code: str, make_stack: Any, emulators: Emulators,
                                                              ledger: Ledger) -> None:
    stack = make_stack()
    rds = emulators.rds
    before = [i.id for i in rds.instances()]
    retry_after = 400 if code.startswith("Throttling") else None
    rds.inject(action=CLONE, code=code, times=2, retry_after_ms=retry_after)
    ledger.fault(f"rds:{CLONE}:{code}", 2)
    request_id, card = _approved_dev_clone(stack, emulators.slack)
    _one_clone(stack, emulators, ledger, request_id, card, before)
    calls = rds.calls_for(CLONE)
    assert [c.code for c in calls] == [code, code, None], [(c.status, c.code) for c in calls]
    if retry_after:
        gaps = [b.time - a.time for a, b in zip(calls, calls[1:])]
        assert all(g >= retry_after / 1000 - 0.05 for g in gaps), f"Retry-After not honoured: {gaps}"


def test_clone_timeout_says_what_happens_next_then_resubmits_with_the_same_token(
        make_stack: Any, emulators: Emulators, ledger: Ledger) -> None:
    stack = make_stack(RDSBOT_RDS_TIMEOUT_S="1", RDSBOT_RDS_MAX_ATTEMPTS="2")
    rds, slack = emulators.rds, emulators.slack
    before = [i.id for i in rds.instances()]
    # Both of the gateway's attempts time out; RDS started the job on the first.
    rds.inject(action=CLONE, delay_s=1.8, times=2)
    ledger.fault(f"rds:{CLONE}:timeout", 2)
    request_id, card = _approved_dev_clone(stack, slack)
    note = wait_until(lambda: next((m for m in slack.messages(APPROVALS_CHANNEL, card["ts"])
                                    if "try again" in (m.get("text") or "")), None), 20, "the 'retrying' reply")
    assert "ClientToken" in note["text"] and "second job" in note["text"], note["text"]
    request = _one_clone(stack, emulators, ledger, request_id, card, before)
    calls = ok_calls(rds, CLONE)
    assert len(calls) == 3 and [c.replayed for c in calls] == [False, True, True], calls
    events = [e.event for e in stack.requests.timeline(request_id).events]
    assert "submit_retry_scheduled" in events and "resubmitted" in events, events
    assert request.attempts >= 2
    thread = slack.messages(APPROVALS_CHANNEL, card["ts"])
    assert thread.index(note) < len(thread) - 1 and thread[-1]["metadata"]["event_type"] == "rdsbot_request_final"


def test_backup_timeout_is_not_blindly_resent(make_stack: Any, emulators: Emulators, ledger: Ledger) -> None:
    """CreateBackup has no ClientToken: after a timeout the bot finds the job it started."""
    stack = make_stack(RDSBOT_RDS_TIMEOUT_S="1")
    rds, slack = emulators.rds, emulators.slack
    backups_before = {b.id for b in rds.backups(DEV_MYSQL)}
    rds.inject(action=BACKUP, delay_s=1.8, times=1)
    ledger.fault(f"rds:{BACKUP}:timeout")
    request_backup(stack.driver, user=ALICE, instance=DEV_MYSQL)
    [request] = stack.requests.recent(ALICE)
    anchor = anchor_of(slack, OPS_CHANNEL, request.id)
    note = wait_until(lambda: next((m for m in slack.messages(OPS_CHANNEL, anchor["ts"])
                                    if "try again" in (m.get("text") or "")), None), 20, "the 'retrying' reply")
    assert "already started" in note["text"], note["text"]
    wait_final(slack, OPS_CHANNEL, anchor["ts"], timeout=30)
    request = _settle(stack, request.id)
    calls = rds.calls_for(BACKUP)
    made = [b for b in rds.backups(DEV_MYSQL) if b.id not in backups_before]
    ledger.dup("rds:CreateBackup", len(calls) - 1)
    assert len(calls) == 1, [(c.status, c.code) for c in calls]
    assert len(made) == 1 and request.state == "succeeded", (made, request.state, request.error_code)
    assert request.result.get("BackupId") == made[0].id
    assert len(finals(slack, OPS_CHANNEL, anchor["ts"])) == 1


def test_backup_5xx_looks_for_the_job_before_calling_again(make_stack: Any, emulators: Emulators,
                                                          ledger: Ledger) -> None:
    """A 5xx may or may not have run: no blind resend; look first, then call again once."""
    stack = make_stack()
    rds, slack = emulators.rds, emulators.slack
    backups_before = {b.id for b in rds.backups(DEV_MYSQL)}
    rds.inject(action=BACKUP, code="ServiceUnavailable", times=1)
    ledger.fault(f"rds:{BACKUP}:ServiceUnavailable")
    request_backup(stack.driver, user=ALICE, instance=DEV_MYSQL)
    [request] = stack.requests.recent(ALICE)
    anchor = anchor_of(slack, OPS_CHANNEL, request.id)
    wait_final(slack, OPS_CHANNEL, anchor["ts"], timeout=30)
    request = _settle(stack, request.id)
    calls = rds.calls_for(BACKUP)
    made = [b for b in rds.backups(DEV_MYSQL) if b.id not in backups_before]
    ledger.dup("rds:CreateBackup", len(made) - 1)
    assert [c.code for c in calls] == ["ServiceUnavailable", None], [(c.status, c.code) for c in calls]
    first_failure, resend = calls
    looked = [c for c in rds.calls_for("DescribeBackupTasks") if first_failure.time < c.time < resend.time]
    assert looked, "the bot resent CreateBackup without looking for a started job first"
    assert len(made) == 1 and request.state == "succeeded"


class TestUnknownStatus:
    @pytest.fixture
    def timings(self) -> Timings:
        return Timings(clone_s=120.0, copy_s=1.0, backup_s=1.0, restore_s=1.0)  # never finishes on its own

    def test_unknown_status_is_in_progress_then_a_clear_job_timeout(self, make_stack: Any, emulators: Emulators,
                                                                    ledger: Ledger) -> None:
        stack = make_stack(RDSBOT_JOB_TIMEOUT_S="5")
        rds, slack = emulators.rds, emulators.slack
        request_id, card = _approved_dev_clone(stack, slack)
        wait_until(lambda: stack.requests.get(request_id).state == "running", 15, "the clone to run")
        new_id = stack.requests.get(request_id).result["DBInstanceId"]
        rds.update_instance(new_id, status="Maintaining")
        ledger.fault("rds:unknown_status")
        wait_until(lambda: (stack.requests.get(request_id).progress or {}).get("status") == "Maintaining", 5,
                   "a poll to see Maintaining")
        stack.runtime.jobs.run_now("poll")  # one more look at RDS while it still says Maintaining
        stack.drain()
        assert stack.requests.get(request_id).state == "running", "an unknown status is not an end"
        rds.update_instance(new_id, status="SomethingRdsInventedLater")
        wait_until(lambda: (stack.requests.get(request_id).progress or {}).get("status") ==
                   "SomethingRdsInventedLater", 5, "a poll to see the new status")
        assert stack.requests.get(request_id).state == "running"

        CLOCK.advance(5.0)  # RDSBOT_JOB_TIMEOUT_S has passed since the clone was submitted
        stack.runtime.jobs.run_now("poll")
        final = wait_final(slack, APPROVALS_CHANNEL, card["ts"], timeout=20)
        request = _settle(stack, request_id)
        assert request.state == "failed" and request.error_code == "JobTimeout", (request.state, request.error_code)
        assert final["metadata"]["event_payload"] == {"request_id": request_id, "state": "failed"}
        assert "JobTimeout" in final["text"] and "stopped waiting" in final["text"], final["text"]
        assert len(finals(slack, APPROVALS_CHANNEL, card["ts"])) == 1
        assert len(executed_calls(rds, CLONE)) == 1
