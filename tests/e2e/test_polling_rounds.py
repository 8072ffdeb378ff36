"""A polling round reads instance statuses in batches: one DescribeDBInstances per 30 instances of a place.

The clones here are started in the RDS emulator directly and recorded as the
workflow leaves a running clone (its thread anchored, its last status "Creating"),
so a round can be run by hand (``jobs.run_now("poll")``) and its calls counted in
the emulator's journal. Clones take ten minutes unless the test ends them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlmodel import select

from bot.sandbox.rds import Timings
from bot.sandbox.rds.seed import MYSQL_DEV
from bot.sandbox.slack import ALICE, APPROVALS_CHANNEL
from bot.sandbox.stack import Emulators, Stack, start_emulators
from bot.store.models import OutboxMessage, Request
from bot.timeutil import utcnow
from bot.workflow.progress import MAX_NOT_FOUND_POLLS

BATCH, ATTRIBUTE = "DescribeDBInstances", "DescribeDBInstanceAttribute"


@pytest.fixture
def emulators() -> Iterator[Emulators]:
    emu = start_emulators(timings=Timings(clone_s=600.0, copy_s=0.8, backup_s=0.8, restore_s=0.8))
    yield emu
    emu.stop()


@pytest.fixture
def polled(make_stack: Callable[..., Stack]) -> Stack:
    """The bot, its rounds run only by the test; RDS calls are not retried (a fault is seen as it is)."""
    stack = make_stack(RDSBOT_RDS_MAX_ATTEMPTS="1")
    stack.runtime.jobs.pause("poll")
    return stack


def _running_clones(stack: Stack, count: int) -> list[Request]:
    """``count`` clones of MYSQL_DEV started in RDS, each a running request with its thread."""
    backup = next(b.id for b in stack.rds.backups(MYSQL_DEV) if b.status == "Success")
    params = {"DBInstanceId": MYSQL_DEV, "PayType": "Postpaid", "BackupId": backup}
    now, rows = utcnow(), []
    for n in range(count):
        answer = stack.rds.run("CloneDBInstance", {**params, "RegionId": "cn-hangzhou"})
        anchor = stack.slack.state.messages.post(APPROVALS_CHANNEL, text=f"clone {n} of {MYSQL_DEV}")
        rows.append(Request(
            id=f"clone-rounds-{n:03d}", operation="clone", state="running", requester=ALICE, region_id="cn-hangzhou",
            instance_id=MYSQL_DEV, channel_id=APPROVALS_CHANNEL, resource=f"acs:rds:cn-hangzhou:*:dbinstance/{MYSQL_DEV}",
            params=params, result={"DBInstanceId": answer["DBInstanceId"]}, thread_channel=APPROVALS_CHANNEL,
            thread_ts=anchor.ts, progress={"key": "Creating", "status": "Creating", "seq": 1, "misses": 0, "memo": {}},
            created_at=now, updated_at=now, submitted_at=now))
    with stack.runtime.db.session() as session:
        session.add_all(rows)
    return rows


def _round(stack: Stack) -> None:
    stack.rds.clear_calls()
    stack.runtime.jobs.run_now("poll")


def _outbox(stack: Stack) -> list[OutboxMessage]:
    with stack.runtime.db.reader() as session:
        return list(session.exec(select(OutboxMessage)))


def _states(stack: Stack, clones: list[Request]) -> set[str]:
    return {stack.requests.get(c.id).state for c in clones}


def test_31_running_clones_cost_two_status_calls_a_round_and_each_ends_once(polled: Stack) -> None:
    stack = polled
    clones = _running_clones(stack, 31)
    _round(stack)
    batches = stack.rds.calls_for(BATCH)
    assert len(batches) == 2 and not stack.rds.calls_for(ATTRIBUTE), [c.action for c in stack.rds.calls]
    asked = [c.params["DBInstanceId"].split(",") for c in batches]
    assert sorted(len(ids) for ids in asked) == [1, 30]
    assert {i for ids in asked for i in ids} == {c.result["DBInstanceId"] for c in clones}
    assert all(c.params["RegionId"] == "cn-hangzhou" and c.status == 200 for c in batches)
    assert _states(stack, clones) == {"running"} and _outbox(stack) == [], "nothing changed: nothing to say"

    stack.rds.complete_all()
    _round(stack)
    assert len(stack.rds.calls_for(BATCH)) == 2 and not stack.rds.calls_for(ATTRIBUTE)
    assert _states(stack, clones) == {"succeeded"}
    finals = [m.request_id for m in _outbox(stack) if m.kind == "final"]
    assert sorted(finals) == sorted(c.id for c in clones), "one final reply each"
    _round(stack)
    assert not stack.rds.calls, "nothing left to poll"


def test_a_throttled_batch_costs_a_missed_look_never_the_job(polled: Stack) -> None:
    stack = polled
    clones = _running_clones(stack, 31)
    stack.rds.inject(action=BATCH, code="Throttling.User", times=2)
    _round(stack)
    assert [c.code for c in stack.rds.calls_for(BATCH)] == ["Throttling.User"] * 2
    looks = [stack.requests.get(c.id) for c in clones]
    assert {r.state for r in looks} == {"running"}
    assert {(r.progress["misses"], r.progress["last_error"], r.progress["status"]) for r in looks} == {
        (1, "Throttling.User", "Creating")}
    assert _outbox(stack) == [], "a look that failed is not news"

    stack.rds.complete_all()
    _round(stack)
    assert _states(stack, clones) == {"succeeded"}


def test_an_instance_the_listing_no_longer_has_fails_its_job_alone(polled: Stack) -> None:
    stack = polled
    stack.rds.fail_job("CloneDBInstance", final_status=None)  # the first clone's order is rolled back
    gone, *others = _running_clones(stack, 3)
    stack.rds.complete_all()
    for _ in range(MAX_NOT_FOUND_POLLS - 1):
        _round(stack)
        assert stack.requests.get(gone.id).state == "running", "RDS may be slow to list it: wait a few rounds"
    assert _states(stack, others) == {"succeeded"}
    _round(stack)
    failed = stack.requests.get(gone.id)
    assert (failed.state, failed.error_code) == ("failed", "InvalidDBInstanceId.NotFound")
    assert "no longer knows" in (failed.error_message or "")
    assert [m.kind for m in _outbox(stack) if m.request_id == gone.id].count("final") == 1
