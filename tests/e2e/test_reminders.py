"""`/rds remind`: backup reminders in a channel, each with a "Back up now" button.

A reminder fires once per due time, whatever restarts happen; its button is an
ordinary backup request for whoever clicks, checked as rds:CreateBackup, with
its progress threaded under the reminder.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo


from sqlmodel import select

from bot.sandbox.slack import ALICE, BOB, DAVE, ERIN, OPS_CHANNEL
from bot.sandbox.stack import Stack
from bot.store.models import Reminder
from bot.timeutil import CLOCK
from tests.e2e.flows_ops import MYSQL_DEV, answer, audit_rows, final_state, is_final, ok_calls

CREATE = "CreateBackup"


def _reminder_id(text: str) -> str:
    words = [w.strip("`.:") for w in text.split()]
    return next(w for w in words if w.startswith("rem-"))


def _posts(stack: Stack, reminder_id: str) -> list[dict[str, Any]]:
    """The reminder's messages in the channel (top level, by their metadata)."""
    return [m for m in stack.slack.messages(OPS_CHANNEL)
            if ((m.get("metadata") or {}).get("event_payload") or {}).get("reminder_id") == reminder_id]


def _wait_post(stack: Stack, reminder_id: str, timeout: float = 8.0) -> dict[str, Any]:
    return stack.slack.wait_for(lambda: (_posts(stack, reminder_id) or [None])[0], timeout=timeout,
                                what=f"reminder {reminder_id} to fire")


def _tick(stack: Stack, seconds: float) -> None:
    """Let ``seconds`` pass on the bot's clock, run the reminder job as its scheduler would, and wait
    until what it queued has reached Slack. Twice: a reminder due once must not fire on a later round."""
    CLOCK.advance(seconds)
    for _ in range(2):
        stack.runtime.jobs.run_now("reminders")
        stack.drain()


def _row(stack: Stack, reminder_id: str) -> Reminder:
    with stack.runtime.db.session() as session:
        row = session.get(Reminder, reminder_id)
        assert row is not None
        return row


def _next_local(now: datetime, zone: str, weekdays: set[int]) -> datetime:
    """The next 09:00 in ``zone`` on one of ``weekdays`` (Monday = 0)."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    for days in range(0, 9):
        day = (local + timedelta(days=days)).date()
        candidate = datetime(day.year, day.month, day.day, 9, 0, tzinfo=tz)
        if candidate > now and candidate.weekday() in weekdays:
            return candidate
    raise AssertionError("no 09:00 within a week")


def test_schedules_list_and_delete(stack: Stack) -> None:
    now = datetime.now(UTC)
    every_day, workdays = set(range(7)), {0, 1, 2, 3, 4}
    cases = [  # Erin's Slack time zone (Asia/Shanghai) is the default.
        ("daily 09:00 Asia/Shanghai", "Asia/Shanghai", every_day),
        ("weekly mon,thu 09:00", "Asia/Shanghai", {0, 3}),
        ("cron 0 9 * * 1-5", "Asia/Shanghai", workdays),
        ("daily 09:00 Europe/Berlin", "Europe/Berlin", every_day),
    ]
    ids = []
    for words, zone, days in cases:
        text = answer(stack, ERIN, f"remind {MYSQL_DEV} {words}")["text"]
        assert text.startswith("Reminder rem-") and MYSQL_DEV in text, text
        nxt = _next_local(now, zone, days)
        # In the schedule's zone, named; then the same moment in the reader's own, as Slack renders it for them.
        assert f"next: {nxt:%a %Y-%m-%d} 09:00 {zone}." in text, f"{words}: {text}"
        assert f"<!date^{int(nxt.timestamp())}^" in text, text
        ids.append(_reminder_id(text))
    soon = _reminder_id(answer(stack, ERIN, f"remind {MYSQL_DEV} in 2 seconds")["text"])
    listed = answer(stack, ERIN, "remind list")["text"]
    assert all(i in listed for i in [*ids, soon]), listed
    assert f"next: {_next_local(now, 'Europe/Berlin', every_day):%a %Y-%m-%d} 09:00 Europe/Berlin" in listed, listed

    deleted = answer(stack, ERIN, f"remind delete {soon}")["text"]
    assert f"{soon} deleted" in deleted, deleted
    assert "no active reminder" in answer(stack, ERIN, f"remind delete {soon}")["text"]
    listed = answer(stack, ERIN, "remind list")["text"]
    assert soon not in listed and all(i in listed for i in ids), listed
    assert _row(stack, soon).active is False and _row(stack, soon).next_run_at is None
    _tick(stack, 3.0)  # past the deleted reminder's due time
    assert _posts(stack, soon) == [], "a deleted reminder never fires"
    assert _row(stack, soon).fired == 0
    assert not any(_posts(stack, i) for i in ids)
    events = [e.event for e in audit_rows(stack)]
    assert events.count("reminder_created") == 5 and events.count("reminder_deleted") == 1


def test_creating_a_reminder_needs_rdsbot_remind(stack: Stack) -> None:
    alice = answer(stack, ALICE, f"remind {MYSQL_DEV} daily 09:00")["text"]
    assert "rdsbot:Remind" in alice and "No rule allows it" in alice and MYSQL_DEV in alice, alice
    dave = answer(stack, DAVE, f"remind {MYSQL_DEV} daily 09:00")["text"]
    assert "rdsbot:Remind" in dave and "policy.csv:" in dave and "role:intern, rdsbot:*" in dave, dave
    erin = answer(stack, ERIN, f"remind {MYSQL_DEV} daily 09:00")["text"]
    bob = answer(stack, BOB, f"remind {MYSQL_DEV} weekly fri 17:30")["text"]
    assert erin.startswith("Reminder rem-") and bob.startswith("Reminder rem-"), (erin, bob)

    # Deleting is the same action: Alice cannot remove Erin's reminder.
    erins = _reminder_id(erin)
    refused = answer(stack, ALICE, f"remind delete {erins}")["text"]
    assert "may not delete" in refused and "rdsbot:Remind" in refused, refused
    assert _row(stack, erins).active
    denied = [e for e in audit_rows(stack) if e.event in {"reminder_denied", "reminder_delete_denied"}]
    assert sorted(e.actor for e in denied) == [ALICE, ALICE, DAVE]
    with stack.runtime.db.session() as session:
        assert {r.created_by for r in session.exec(select(Reminder))} == {ERIN, BOB}


def test_bad_schedules_get_the_usage(stack: Stack) -> None:
    usage = "/rds remind <instance-id> daily 09:00"
    cases = [
        (f"remind {MYSQL_DEV} sometimes", usage),
        (f"remind {MYSQL_DEV}", usage),
        ("remind NOT_AN_ID daily 09:00", usage),
        (f"remind {MYSQL_DEV} daily 25:00", "daily HH:MM"),
        (f"remind {MYSQL_DEV} daily 09:00 Mars/Olympus", "not a time zone"),
        (f"remind {MYSQL_DEV} weekly fun 09:00", "Days are"),
        (f"remind {MYSQL_DEV} cron 0 9 * *", "cron <minute> <hour>"),
        (f"remind {MYSQL_DEV} cron 0 25 * * *", "Not a cron expression"),
        (f"remind {MYSQL_DEV} in 0 seconds", "Between 1 second and a year"),
        (f"remind {MYSQL_DEV} in soon", "in <number>"),
        ("remind rm-bp1doesnotexist99 daily 09:00", "could not find"),
        ("remind delete", "Which one?"),
    ]
    for text, words in cases:
        got = answer(stack, ERIN, text)["text"].replace("&lt;", "<").replace("&gt;", ">")
        assert words in got, f"{text}: {got}"
    assert "No backup reminders" in answer(stack, ERIN, "remind list")["text"]
    with stack.runtime.db.session() as session:
        assert session.exec(select(Reminder)).all() == []


def test_in_two_seconds_fires_once_and_back_up_now_makes_one_backup(stack: Stack) -> None:
    created = answer(stack, ERIN, f"remind {MYSQL_DEV} in 2 seconds")["text"]
    reminder_id = _reminder_id(created)
    _tick(stack, 2.0)
    [post] = _posts(stack, reminder_id)
    newest = max((b for b in stack.rds.backups(MYSQL_DEV) if b.status == "Success"), key=lambda b: b.end)
    assert "last successful backup finished" in post["text"] and " ago" in post["text"], post["text"]
    assert newest.id in post["text"]
    [button] = [e for b in post["blocks"] if b.get("type") == "actions" for e in b["elements"]]
    assert button["action_id"] == "backup_now" and button["value"] == reminder_id

    # An intern may look but not back up: the click is checked like any request.
    stack.driver.click(DAVE, channel=OPS_CHANNEL, ts=post["ts"], action_id="backup_now")
    note = stack.slack.wait_for_ephemeral(DAVE, timeout=5)
    assert "rds:CreateBackup" in note["text"] and "policy.csv:" in note["text"], note["text"]
    assert "role:intern, rds:Create*" in note["text"], note["text"]
    assert [r.state for r in stack.requests.recent(DAVE)] == ["denied"]

    # Erin clicks twice while Bob clicks too: one backup.
    clickers = [ERIN, BOB, ERIN]
    barrier = threading.Barrier(len(clickers))

    def click(user: str) -> None:
        barrier.wait()
        stack.driver.click(user, channel=OPS_CHANNEL, ts=post["ts"], action_id="backup_now")

    threads = [threading.Thread(target=click, args=(u,)) for u in clickers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = stack.slack.wait_for_message(OPS_CHANNEL, thread_ts=post["ts"], where=is_final, timeout=15)
    assert final_state(final) == "succeeded"
    calls = stack.rds.calls_for(CREATE)
    assert len(calls) == 1 and calls[0].status == 200 and calls[0].params["DBInstanceId"] == MYSQL_DEV
    requests = stack.requests.recent(ERIN) + stack.requests.recent(BOB)
    assert len(requests) == 1, [(r.requester, r.state) for r in requests]
    refusals = [e for u in (ERIN, BOB) for e in stack.slack.ephemerals(u) if "already" in e["text"]]
    assert len(refusals) == 2, [e["text"] for u in (ERIN, BOB) for e in stack.slack.ephemerals(u)]
    backup_id = stack.requests.get(requests[0].id).result["BackupId"]
    assert backup_id in final["text"]
    thread = stack.slack.messages(OPS_CHANNEL, post["ts"])
    assert thread[-1]["ts"] == final["ts"] and any("%" in m["text"] for m in thread)

    _tick(stack, 3.0)  # more rounds of the reminder job, past its time
    assert len(_posts(stack, reminder_id)) == 1, "a one-shot reminder fires once"
    assert _row(stack, reminder_id).fired == 1 and not _row(stack, reminder_id).active


def test_a_reminder_survives_a_restart_before_it_fires(make_stack: Callable[..., Stack]) -> None:
    first = make_stack()
    reminder_id = _reminder_id(answer(first, ERIN, f"remind {MYSQL_DEV} in 3 seconds")["text"])
    first.runtime.stop()
    assert _posts(first, reminder_id) == [], "stopped before it was due"

    CLOCK.advance(3.0)  # it falls due while no bot runs
    second = make_stack()
    # The new bot's own scheduler fires it (its jobs run at start-up, then every second).
    post = _wait_post(second, reminder_id)
    _tick(second, 2.0)
    assert len(_posts(second, reminder_id)) == 1, "fires exactly once after the restart"
    row = _row(second, reminder_id)
    assert row.fired == 1 and not row.active
    fired = [e for e in audit_rows(second) if e.event == "reminder_fired"]
    assert len(fired) == 1
    # The new bot answers the button of the reminder it posted.
    second.driver.click(ERIN, channel=OPS_CHANNEL, ts=post["ts"], action_id="backup_now")
    final = second.slack.wait_for_message(OPS_CHANNEL, thread_ts=post["ts"], where=is_final, timeout=15)
    assert final_state(final) == "succeeded" and len(ok_calls(second, CREATE)) == 1


def test_the_usage_text_is_escaped_for_slack(stack: Stack) -> None:
    for text in ("remind NOT_AN_ID daily 09:00", "remind help"):
        got = answer(stack, ERIN, text)["text"]
        assert "<instance-id>" not in got and "&lt;instance-id&gt;" in got, f"{text}: {got}"
