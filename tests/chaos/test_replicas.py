"""Two `rdsbot serve` replicas on one PostgreSQL database behind one Slack app.

Replica B signs its RDS calls with a second AccessKey, so the RDS emulator's
journal says which replica made each call: polling (DescribeDBInstances / DescribeDBInstanceAttribute
of a new clone, DescribeBackupTasks of a job) must come from the leader only.
Requests are typed on one replica and approved on the other; every request id
must reach RDS once, every outbox message reach Slack once, a reminder fire once,
and a kill -9 of the leader must hand the running job to the other replica.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest

from bot.sandbox.rds import Timings
from bot.sandbox.slack import ALICE, APPROVALS_CHANNEL, BOB, CAROL, ERIN, OPS_CHANNEL, SlackDriver
from bot.sandbox.stack import ACCESS_KEY_ID, Emulators
from tests.chaos.conftest import Ledger
from tests.chaos.harness import (
    DEV_MYSQL,
    PROD_MYSQL,
    REPLICA_KEY_ID,
    BotLauncher,
    BotProcess,
    Db,
    anchor_of,
    approval_card,
    duplicate_posts,
    executed_calls,
    finals,
    ok_calls,
    request_backup,
    request_clone,
    request_id_of,
    wait_until,
)

PG_STAGING = "rm-bp1pgstaging0003"
pytestmark = [pytest.mark.timeout(120), pytest.mark.parametrize("database_url", ["postgres"], indirect=True)]


def _start_pair(launcher: BotLauncher, replica_secret: str) -> tuple[BotProcess, BotProcess]:
    first = launcher.start("replica-a")
    # A leads from its first scheduler tick; B starts only then, so who leads is known.
    wait_until(lambda: _leading(first), 10, "replica A to become the leader")
    second = launcher.start("replica-b", {"ALIBABA_CLOUD_ACCESS_KEY_ID": REPLICA_KEY_ID,
                                          "ALIBABA_CLOUD_ACCESS_KEY_SECRET": replica_secret})
    return first, second


def _concurrently(calls: list[Any]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait(5)
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    return results


def _leading(proc: BotProcess) -> int:
    return sum(1 for r in proc.log_lines() if r.get("msg") == "became the leader")


def _poll_calls(emulators: Emulators, clone_ids: set[str]) -> list[Any]:
    """Progress probes: live status of a new clone (a batched DescribeDBInstances naming it, or its own
    DescribeDBInstanceAttribute), or a backup job looked up by its id."""
    rds = emulators.rds

    def names_a_clone(call: Any) -> bool:
        return bool(clone_ids & {i.strip() for i in str(call.params.get("DBInstanceId") or "").split(",")})

    calls = [c for c in rds.calls_for("DescribeDBInstanceAttribute") + rds.calls_for("DescribeDBInstances")
             if names_a_clone(c)]
    calls += [c for c in rds.calls_for("DescribeBackupTasks") if c.params.get("BackupJobId")]
    return sorted(calls, key=lambda c: c.time)


def _settled(db: Db) -> bool:
    requests = db.requests()
    rows = db.outbox()
    return bool(requests) and all(r.state in {"succeeded", "failed"} for r in requests) and \
        all(r.state == "sent" for r in rows)


def test_two_replicas_share_the_work_without_doing_anything_twice(
        launcher: BotLauncher, emulators: Emulators, replica_secret: str, database_url: str, ledger: Ledger) -> None:
    slack, rds = emulators.slack, emulators.rds
    a, b = _start_pair(launcher, replica_secret)
    drivers = {"a": SlackDriver(slack, a.events_url), "b": SlackDriver(slack, b.events_url)}
    other = {"a": "b", "b": "a"}

    # A one-shot reminder, set on B: it must fire once, from the leader.
    reminded = drivers["b"].slash_command(ERIN, f"remind {DEV_MYSQL} in 2 seconds", channel=OPS_CHANNEL)
    assert reminded.status == 200 and reminded.acked_in_time

    # Clones typed on one replica, approved on the other.
    seen: list[str] = []
    clone_plan = [("a", DEV_MYSQL, (BOB,)), ("b", DEV_MYSQL, (CAROL,)), ("a", PROD_MYSQL, (BOB, CAROL)),
                  ("b", DEV_MYSQL, (BOB,))]
    for typed_on, instance, approvers in clone_plan:
        request_clone(drivers[typed_on], user=ALICE, instance=instance)
        card = approval_card(slack, exclude=seen)
        seen.append(request_id_of(card))
        # Clicked on the replica that did not receive the request; two DBAs click at the same moment.
        clicks = _concurrently([lambda who=who: drivers[other[typed_on]].click(
            who, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve") for who in approvers])
        assert all(c.status == 200 and c.acked_in_time for c in clicks), [(c.status, c.elapsed_s) for c in clicks]
    # Backups need no approval: one typed on each replica, on two instances.
    request_backup(drivers["a"], user=ERIN, instance=PROD_MYSQL)
    request_backup(drivers["b"], user=ERIN, instance=PG_STAGING)

    db = Db(database_url)
    try:
        wait_until(lambda: _settled(db), 60, "every request to end and every Slack message to be sent")
        wait_until(lambda: any(m for m in slack.messages(OPS_CHANNEL) if "Backup reminder" in (m.get("text") or "")),
                   10, "the reminder")
        time.sleep(2.0)  # a few more reminder ticks and outbox rounds on both replicas
        requests = db.requests()
        clones = [r for r in requests if r.operation == "clone"]
        backups = [r for r in requests if r.operation == "backup"]
        assert len(clones) == 4 and len(backups) == 2, [(r.operation, r.state) for r in requests]

        # RDS: each request id in exactly one successful write call.
        per_token = Counter(c.client_token for c in ok_calls(rds, "CloneDBInstance"))
        executed = Counter(c.client_token for c in executed_calls(rds, "CloneDBInstance"))
        per_instance = Counter(c.params.get("DBInstanceId") for c in rds.calls_for("CreateBackup"))
        ledger.dup("rds:CloneDBInstance", sum(n - 1 for n in executed.values()))
        ledger.dup("rds:CreateBackup", sum(n - 1 for n in per_instance.values()))
        assert per_token == {r.id: 1 for r in clones}, per_token
        assert per_instance == {PROD_MYSQL: 1, PG_STAGING: 1}, per_instance
        assert all(r.state == "succeeded" for r in requests), [(r.id, r.state, r.error_code) for r in requests]
        writers = Counter(c.access_key_id for c in ok_calls(rds, "CloneDBInstance"))
        assert set(writers) == {ACCESS_KEY_ID, REPLICA_KEY_ID}, f"approvals on both replicas sent work: {writers}"

        # Slack: every outbox message once; one final per thread, the last reply.
        dups = duplicate_posts(slack)
        ledger.dup("slack:post", sum(n - 1 for n in dups.values()))
        assert not dups, dups
        for request in requests:
            channel = APPROVALS_CHANNEL if request.approvals_needed else OPS_CHANNEL
            anchor = anchor_of(slack, channel, request.id)
            thread = slack.messages(channel, anchor["ts"])
            replies = finals(slack, channel, anchor["ts"])
            ledger.dup("slack:final", len(replies) - 1)
            assert len(replies) == 1 and thread[-1]["ts"] == replies[0]["ts"], [m["text"] for m in thread]
        rows = db.outbox()
        assert len({r.dedupe_key for r in rows}) == len(rows)
        posted = Counter(r.dedupe_key for r in rows if r.kind != "anchor_update" and r.kind != "progress_edit")
        assert all(n == 1 for n in posted.values())

        # The reminder fired once, posted once.
        reminders = [m for m in slack.messages(OPS_CHANNEL) if "Backup reminder" in (m.get("text") or "")]
        ledger.dup("slack:reminder", len(reminders) - 1)
        assert len(reminders) == 1, [m["text"] for m in reminders]
        assert db.events().count("reminder_fired") == 1

        # Leadership: pollers ran on exactly one replica (A, the leader), B never led.
        clone_ids = {str(r.result.get("DBInstanceId")) for r in clones}
        pollers = Counter(c.access_key_id for c in _poll_calls(emulators, clone_ids))
        assert pollers and set(pollers) == {ACCESS_KEY_ID}, f"polls by replica: {pollers}"
        assert _leading(a) == 1 and _leading(b) == 0, (_leading(a), _leading(b))

        verified = launcher.audit_verify()
        assert verified.returncode == 0, verified.stdout + verified.stderr
    finally:
        db.dispose()


class TestLeaderFailover:
    @pytest.fixture
    def timings(self) -> Timings:
        # A clone long enough to still be running when its leader dies.
        return Timings(clone_s=5.0, copy_s=1.0, backup_s=1.0, restore_s=1.0)

    def test_kill9_of_the_leader_hands_the_running_job_to_the_other_replica(
            self, launcher: BotLauncher, emulators: Emulators, replica_secret: str, database_url: str,
            ledger: Ledger) -> None:
        slack, rds = emulators.slack, emulators.rds
        a, b = _start_pair(launcher, replica_secret)
        request_clone(SlackDriver(slack, b.events_url), user=ALICE, instance=DEV_MYSQL)
        card = approval_card(slack)
        request_id = request_id_of(card)
        SlackDriver(slack, a.events_url).click(BOB, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")

        db = Db(database_url)
        try:
            wait_until(lambda: db.request(request_id).state == "running", 15, "the clone to be running")
            new_id = str(db.request(request_id).result["DBInstanceId"])
            wait_until(lambda: [c for c in _poll_calls(emulators, {new_id}) if c.access_key_id == ACCESS_KEY_ID],
                       10, "the leader (A) to poll the clone")
            assert not [c for c in _poll_calls(emulators, {new_id}) if c.access_key_id == REPLICA_KEY_ID]

            a.kill9()
            killed_at = time.time()
            ledger.crash("leader_kill9")
            first_b = wait_until(
                lambda: next((c for c in _poll_calls(emulators, {new_id}) if c.access_key_id == REPLICA_KEY_ID), None),
                10, "replica B to poll the clone")
            takeover_s = first_b.time - killed_at
            poll_interval = float(b.env["RDSBOT_POLL_INTERVAL_S"])
            assert takeover_s <= max(2 * poll_interval, 1.0) + 0.5, f"took {takeover_s:.2f}s to take over"
            assert db.request(request_id).state == "running", "the job was still running at the hand-over"
            print(f"leader failover: B polled {takeover_s:.2f}s after A was killed")

            wait_until(lambda: _settled(db), 30, "the clone to end and its messages to be sent")
            time.sleep(1.5)
            replies = finals(slack, APPROVALS_CHANNEL, card["ts"])
            executed = executed_calls(rds, "CloneDBInstance")
            ledger.dup("slack:final", len(replies) - 1)
            ledger.dup("rds:CloneDBInstance", len(executed) - 1)
            assert db.request(request_id).state == "succeeded"
            assert len(executed) == 1 and executed[0].client_token == request_id
            assert len(replies) == 1, [m["text"] for m in replies]
            assert slack.messages(APPROVALS_CHANNEL, card["ts"])[-1]["ts"] == replies[0]["ts"]
            assert not duplicate_posts(slack), duplicate_posts(slack)
            late = [c for c in _poll_calls(emulators, {new_id})
                    if c.access_key_id == ACCESS_KEY_ID and c.time > killed_at]
            assert not late
            assert _leading(b) == 1
            verified = launcher.audit_verify()
            assert verified.returncode == 0, verified.stdout + verified.stderr
        finally:
            db.dispose()


def test_rate_limited_post_outlasting_the_outbox_lease_is_posted_once(
        launcher: BotLauncher, emulators: Emulators, replica_secret: str, database_url: str, ledger: Ledger) -> None:
    slack = emulators.slack
    a, b = _start_pair(launcher, replica_secret)
    request_clone(SlackDriver(slack, a.events_url), user=ALICE, instance=DEV_MYSQL)
    card = approval_card(slack)
    request_id = request_id_of(card)
    time.sleep(0.5)
    # Three 429s with Retry-After: 1 make one send take about 3 s; the lease is 2 s.
    slack.inject(method="chat.postMessage", status=429, retry_after=1, times=3)
    ledger.fault("slack:chat.postMessage:429", 3)
    SlackDriver(slack, b.events_url).click(BOB, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")
    db = Db(database_url)
    try:
        wait_until(lambda: _settled(db), 40, "the clone to end and its messages to be sent")
        time.sleep(3.0)
        dups = duplicate_posts(slack)
        ledger.dup("slack:post", sum(n - 1 for n in dups.values()))
        assert len(finals(slack, APPROVALS_CHANNEL, card["ts"])) == 1
        assert db.request(request_id).state == "succeeded"
        assert not dups, dups
    finally:
        db.dispose()
