"""Slack misbehaving: redelivered and replayed requests, a slow Web API, 429s and 5xx.

The bot runs in-process here (production wiring, real HTTP) since no process
is killed; the checks are the same as the crash tests': one effect per user
gesture, one post per outbox message, an ack within Slack's 3 seconds.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from bot.sandbox.slack import ALICE, APPROVALS_CHANNEL, BOB, CAROL, OPS_CHANNEL, DeliveryOptions, SlackDriver
from bot.sandbox.stack import Emulators
from bot.timeutil import CLOCK
from tests.chaos.conftest import Ledger
from tests.chaos.harness import (
    DEV_MYSQL,
    PROD_MYSQL,
    approval_card,
    duplicate_posts,
    executed_calls,
    finals,
    first_backup,
    request_clone,
    request_id_of,
    wait_final,
    wait_until,
)

pytestmark = pytest.mark.timeout(90)
# Database-independent faults run once, on SQLite (no PostgreSQL database is made for them).
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _redeliver(driver: SlackDriver, first: Any, *, retry_num: int = 1, new_timestamp: bool = True) -> Any:
    """Slack delivering the same payload again with X-Slack-Retry-Num (re-signed, as each delivery is)."""
    headers = first.request.headers
    sent_ts = int(headers["X-Slack-Request-Timestamp"])
    return driver.send_raw(first.request.body, headers["Content-Type"],
                           delivery=DeliveryOptions(timestamp=sent_ts - 1 if new_timestamp else sent_ts,
                                                    retry_num=retry_num, retry_reason="http_timeout"))


def _approvals(stack: Any, request_id: str) -> list[str]:
    return stack.requests.approvers_of(request_id)


def _settle(stack: Any, request_id: str, timeout: float = 30.0) -> Any:
    def done() -> bool:
        request = stack.requests.get(request_id)
        rows = [r for r in stack.runtime.outbox.pending() if r["request_id"] == request_id]
        return request.state in {"succeeded", "failed", "rejected", "expired", "cancelled", "denied"} and not rows

    wait_until(done, timeout, f"{request_id} to end with every message sent")
    stack.drain()  # and whatever else the bot was still doing (a late post would be counted below)
    return stack.requests.get(request_id)


# ------------------------------------------------------------- redelivery
@SQLITE
def test_redelivered_approve_click_counts_once(make_stack: Any, emulators: Emulators,
                                               ledger: Ledger) -> None:
    stack = make_stack()
    slack, driver = emulators.slack, stack.driver
    request_clone(driver, user=ALICE, instance=PROD_MYSQL)
    card = approval_card(slack)
    request_id = request_id_of(card)

    first = driver.click(BOB, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")
    replayed = driver.replay(first)
    retried_same = _redeliver(driver, first, retry_num=1, new_timestamp=False)
    ledger.fault("slack:replayed_delivery", 2)
    assert all(r.status == 200 and r.acked_in_time for r in (first, replayed, retried_same))
    wait_until(lambda: slack.ephemerals(BOB), 5, "BOB's 'counted' note")
    stack.drain()  # a duplicate that was acted on would have answered by now
    assert _approvals(stack, request_id) == [BOB]
    assert stack.requests.get(request_id).state == "pending_approval", "one DBA's duplicate click is not two DBAs"
    notes = slack.ephemerals(BOB)
    ledger.dup("slack:click_handled", len(notes) - 1)
    assert len(notes) == 1 and "1 more needed" in notes[0]["text"], [n["text"] for n in notes]

    second = driver.click(CAROL, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")
    driver.replay(second)
    ledger.fault("slack:replayed_delivery")
    wait_final(slack, APPROVALS_CHANNEL, card["ts"], timeout=20)
    _settle(stack, request_id)
    ledger.dup("rds:CloneDBInstance", len(executed_calls(emulators.rds, "CloneDBInstance")) - 1)
    assert len(executed_calls(emulators.rds, "CloneDBInstance")) == 1
    assert len(finals(slack, APPROVALS_CHANNEL, card["ts"])) == 1


@SQLITE
def test_retried_deliveries_with_a_new_signature_act_once(make_stack: Any, emulators: Emulators,
                                                          ledger: Ledger) -> None:
    """Each Slack delivery is signed afresh, so a retry's signature differs from the first one's."""
    stack = make_stack()
    slack, driver = emulators.slack, stack.driver
    command = driver.slash_command(ALICE, f"clone {DEV_MYSQL}", channel=OPS_CHANNEL)
    retried = _redeliver(driver, command, retry_num=1)
    ledger.fault("slack:retried_delivery")
    assert command.acked_in_time and retried.status == 200 and retried.acked_in_time
    slack.wait_for_view(ALICE, callback_id="rds_clone", timeout=5)
    stack.drain()  # a retry that was acted on would have opened its modal by now
    opens = slack.calls("views.open")
    ledger.dup("slack:slash_command_handled", len(opens) - 1)
    assert len(opens) == 1, [c.summary() for c in opens]
    assert not slack.ephemerals(ALICE), [e["text"] for e in slack.ephemerals(ALICE)]


@SQLITE
def test_a_slash_command_copied_to_another_replica_acts_once(make_stack: Any, emulators: Emulators,
                                                             ledger: Ledger) -> None:
    """The replica that gets the copy never saw the command (nothing in its memory): the shared record and
    Slack's single-use trigger_id must keep it from acting. A slash command is acked before the record is
    asked, so this is the attack on that: a second modal, a second reminder, or an error told to the person."""
    from sqlmodel import select

    from bot.store.models import Reminder

    first, second = make_stack(), make_stack()
    slack = emulators.slack
    copier = SlackDriver(slack, second.bot_url)

    command = first.driver.slash_command(ALICE, f"clone {DEV_MYSQL}", channel=OPS_CHANNEL)
    slack.wait_for_view(ALICE, callback_id="rds_clone", timeout=5)
    wait_until(lambda: slack.calls("views.update"), 10, "the instance's facts under the modal")
    first.drain()
    copy = _redeliver(copier, command)
    ledger.fault("slack:copied_delivery")
    assert copy.status == 200 and copy.acked_in_time
    second.drain()
    opened = [c for c in slack.calls("views.open") if c.ok]
    ledger.dup("slack:slash_command_handled", len(opened) - 1)
    assert len(opened) == 1, [c.summary() for c in slack.calls("views.open")]
    assert len(slack.calls("views.update")) == 1, "the copy read the instance's facts again"
    assert not slack.ephemerals(ALICE), [e["text"] for e in slack.ephemerals(ALICE)]

    remind = first.driver.slash_command(BOB, f"remind {PROD_MYSQL} daily 09:00", channel=OPS_CHANNEL)
    wait_until(lambda: slack.ephemerals(BOB), 5, "the reminder's confirmation")
    first.drain()
    copy = _redeliver(copier, remind)
    ledger.fault("slack:copied_delivery")
    assert copy.status == 200 and copy.acked_in_time
    second.drain()
    with first.runtime.db.reader() as session:
        reminders = list(session.exec(select(Reminder)))
    ledger.dup("reminder:created", len(reminders) - 1)
    assert len(reminders) == 1, [(r.id, r.schedule) for r in reminders]
    assert len(slack.ephemerals(BOB)) == 1, [e["text"] for e in slack.ephemerals(BOB)]


def _unsent_submission(driver: SlackDriver, slack: Any, instance: str) -> tuple[Any, dict[str, Any]]:
    """A filled-in clone modal whose submission has been built and signed but not acted on.

    The first delivery is sent unsigned (the bot answers 401 and does nothing; the
    modal stays open), which gives the exact bytes Slack would send.
    """
    view = driver.open_modal(ALICE, f"clone {instance}", channel=OPS_CHANNEL, timeout=10)
    form = {"DBInstanceId": instance, "PayType": "Postpaid", "reason": "chaos: duplicated submission",
            "BackupId": first_backup(driver, ALICE, view["id"])}
    refused = driver.submit_view(ALICE, view["id"], form, delivery=DeliveryOptions(sign=False))
    assert refused.status == 401
    return refused, view


def test_duplicated_view_submission_creates_one_request(make_stack: Any, emulators: Emulators, database_url: str,
                                                        ledger: Ledger) -> None:
    stack = make_stack()
    slack, driver = emulators.slack, stack.driver

    # 1. The exact same submission twice, one after the other.
    refused, view = _unsent_submission(driver, slack, DEV_MYSQL)
    body, kind = refused.request.body, refused.request.headers["Content-Type"]
    now = int(time.time())
    one = driver.send_raw(body, kind, delivery=DeliveryOptions(timestamp=now))
    two = driver.replay(one)
    three = driver.send_raw(body, kind, delivery=DeliveryOptions(timestamp=now - 1, retry_num=1))
    ledger.fault("slack:duplicate_submission", 2)
    answers_so_far = (one, two, three)
    assert all(r.status == 200 and r.acked_in_time for r in answers_so_far), [(r.status, r.text) for r in answers_so_far]
    mine = [r for r in stack.requests.recent(ALICE)]
    assert len(mine) == 1, [(r.id, r.submission_key) for r in mine]
    assert mine[0].submission_key == f"view:{ALICE}:{view['id']}"  # per person: nobody else's modal matches

    # 2. Two deliveries of one submission at the same moment (differently signed).
    refused, view = _unsent_submission(driver, slack, DEV_MYSQL)
    body = refused.request.body
    now = int(time.time())
    barrier = threading.Barrier(2)
    answers: list[Any] = []

    def deliver(ts: int) -> None:
        barrier.wait()
        answers.append(driver.send_raw(body, kind, delivery=DeliveryOptions(timestamp=ts)))

    threads = [threading.Thread(target=deliver, args=(ts,)) for ts in (now, now - 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    ledger.fault("slack:concurrent_submission")
    assert len(answers) == 2 and all(a.status == 200 and a.acked_in_time for a in answers), \
        [(a.status, a.text) for a in answers]
    mine = stack.requests.recent(ALICE)
    from_view = [r for r in mine if r.submission_key == f"view:{ALICE}:{view['id']}"]
    ledger.dup("request:duplicate_submission", len(mine) - 2)
    assert len(mine) == 2 and len(from_view) == 1, [(r.id, r.submission_key) for r in mine]
    # Each answer is the request's confirmation (or an empty ack of a dropped duplicate); no error modal.
    texts = [a.text for a in answers]
    assert any(from_view[0].id in t for t in texts) and all(from_view[0].id in t or not t.strip() for t in texts), texts
    wait_until(lambda: [m for m in slack.messages(APPROVALS_CHANNEL) if request_id_of(m) == from_view[0].id],
               10, "the approval card")
    stack.drain()  # a second request from the same submission would have posted its card by now
    cards = [m for m in slack.messages(APPROVALS_CHANNEL) if request_id_of(m) == from_view[0].id]
    assert len(cards) == 1


# ------------------------------------------------------------------ slowness
@SQLITE
def test_ack_within_3s_while_the_slack_web_api_is_slow(make_stack: Any, emulators: Emulators,
                                                       ledger: Ledger) -> None:
    stack = make_stack()
    slack, driver = emulators.slack, stack.driver
    request_clone(driver, user=ALICE, instance=PROD_MYSQL)
    card = approval_card(slack)

    slack.inject(method="views.open", delay_s=4)
    ledger.fault("slack:slow:views.open")
    command = driver.slash_command(ALICE, f"clone {DEV_MYSQL}", channel=OPS_CHANNEL)
    assert command.status == 200 and command.elapsed_s < 3.0, command.elapsed_s

    # Clicks whose work posts to Slack (ephemeral, card update) while the Web API lags.
    slack.inject(method="chat.postEphemeral", delay_s=4, times=None)
    slack.inject(method="chat.update", delay_s=4, times=None)
    ledger.fault("slack:slow:chat.postEphemeral")
    ledger.fault("slack:slow:chat.update")
    click = driver.click(BOB, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")
    assert click.status == 200 and click.elapsed_s < 3.0, click.elapsed_s
    reject = driver.click(CAROL, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="reject")
    assert reject.status == 200 and reject.elapsed_s < 3.0, reject.elapsed_s
    # The late views.open still ends in something the user sees: the modal, or a clear "try again".
    wait_until(lambda: slack.open_view(ALICE) or slack.ephemerals(ALICE), 12, "the modal or a note to ALICE")
    slack.clear_faults()


@SQLITE
def test_ack_within_3s_while_rds_is_slow(make_stack: Any, emulators: Emulators, ledger: Ledger) -> None:
    stack = make_stack(RDSBOT_RDS_TIMEOUT_S="10")
    slack, driver, rds = emulators.slack, stack.driver, emulators.rds
    # A request already waiting for approval, and a second modal ready to submit.
    request_clone(driver, user=ALICE, instance=DEV_MYSQL)
    card = approval_card(slack)
    view = driver.open_modal(CAROL, f"clone {DEV_MYSQL}", channel=OPS_CHANNEL, timeout=10)
    backup_id = first_backup(driver, CAROL, view["id"])
    stack.runtime.directory._cache.clear()  # noqa: SLF001 - every lookup from here on must reach the slow RDS
    rds.inject(delay_s=3.5, times=10_000)
    ledger.fault("rds:slow_every_call")
    try:
        command = driver.slash_command(ALICE, f"backup {DEV_MYSQL}", channel=OPS_CHANNEL)
        assert command.status == 200 and command.elapsed_s < 3.0, command.elapsed_s
        submitted = driver.submit_view(CAROL, view["id"], {"DBInstanceId": DEV_MYSQL, "PayType": "Postpaid",
                                                           "reason": "slow RDS", "BackupId": backup_id})
        assert submitted.status == 200 and submitted.elapsed_s < 3.0, submitted.elapsed_s
        assert not submitted.problems, submitted.problems
        assert "Checking" in submitted.text, "the modal says it is still checking"
        click = driver.click(BOB, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")
        assert click.status == 200 and click.elapsed_s < 3.0, click.elapsed_s
        # Before the call the bot reads the instance, its tags and backups again, uncached (the
        # decision is made again): four slow calls first.
        wait_until(lambda: rds.calls_for("CloneDBInstance"), 30, "the approved clone to reach (slow) RDS")
    finally:
        rds.clear_faults()
    wait_final(slack, APPROVALS_CHANNEL, card["ts"], timeout=30)
    assert len(executed_calls(rds, "CloneDBInstance")) == 1


@SQLITE
def test_options_ack_within_3s_while_rds_is_slow(make_stack: Any, emulators: Emulators,
                                                 ledger: Ledger) -> None:
    stack = make_stack(RDSBOT_RDS_TIMEOUT_S="10")
    driver, rds = stack.driver, emulators.rds
    view = driver.open_modal(ALICE, f"clone {DEV_MYSQL}", channel=OPS_CHANNEL, timeout=10)
    stack.runtime.directory._cache.clear()  # noqa: SLF001 - the lookup must reach the slow RDS
    rds.inject(delay_s=3.5, times=10_000)
    ledger.fault("rds:slow_every_call")
    try:
        options = driver.suggest(ALICE, view["id"], "BackupId", "")
        assert options.status == 200 and options.elapsed_s < 3.0, (options.status, options.elapsed_s, options.text)
        assert not options.problems, options.problems
    finally:
        rds.clear_faults()


# ----------------------------------------------------------- 429 and 5xx
@pytest.mark.parametrize("fault", ["429", "503"])
@SQLITE
def test_rate_limited_or_failing_post_message_is_retried_and_arrives_once(
        fault: str, make_stack: Any, emulators: Emulators, ledger: Ledger) -> None:
    stack = make_stack()
    slack, driver = emulators.slack, stack.driver
    request_clone(driver, user=ALICE, instance=DEV_MYSQL)
    card = approval_card(slack)
    request_id = request_id_of(card)
    # Every reply of the thread (started, progress, final) meets the fault once or more.
    if fault == "429":
        slack.inject(method="chat.postMessage", status=429, retry_after=1, times=3)
        ledger.fault("slack:chat.postMessage:429", 3)
    else:
        slack.inject(method="chat.postMessage", status=503, times=3)
        ledger.fault("slack:chat.postMessage:503", 3)
    driver.click(BOB, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")
    wait_final(slack, APPROVALS_CHANNEL, card["ts"], timeout=40)
    _settle(stack, request_id)
    failed = [c for c in slack.calls("chat.postMessage") if c.fault]
    assert len(failed) == 3, [c.summary() for c in failed]
    dups = duplicate_posts(slack)
    ledger.dup("slack:post", sum(n - 1 for n in dups.values()))
    assert not dups, dups
    assert len(finals(slack, APPROVALS_CHANNEL, card["ts"])) == 1
    assert not [r for r in stack.runtime.outbox.pending()], stack.runtime.outbox.pending()
    thread = slack.messages(APPROVALS_CHANNEL, card["ts"])
    assert thread[-1]["metadata"]["event_type"] == "rdsbot_request_final"


@pytest.mark.parametrize("target", ["thread_reply", "dm"])
@SQLITE
def test_post_message_5xx_after_slack_posted_does_not_post_twice(target: str, make_stack: Any, emulators: Emulators,
                                                                ledger: Ledger) -> None:
    """Slack can answer 500/503 for a message it did post; resending blindly duplicates it."""
    stack = make_stack()
    slack, driver = emulators.slack, stack.driver
    request_clone(driver, user=ALICE, instance=DEV_MYSQL if target == "thread_reply" else PROD_MYSQL)
    card = approval_card(slack)
    request_id = request_id_of(card)
    stack.drain()  # the card's own post is done; the next chat.postMessage is the one under test
    if target == "thread_reply":
        slack.inject(method="chat.postMessage", status=503, times=1, side_effect=True)
        driver.click(BOB, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")  # next post: "started"
        wait_final(slack, APPROVALS_CHANNEL, card["ts"], timeout=40)
    else:
        driver.click(CAROL, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="reject")
        modal = slack.wait_for_view(CAROL, callback_id="rds_reject", timeout=5)
        slack.inject(method="chat.postMessage", status=503, times=1, side_effect=True)
        driver.submit_view(CAROL, modal["id"], {"reason": "not during the freeze"})  # next post: the DM to ALICE
    ledger.fault(f"slack:chat.postMessage:503_after_posting:{target}")
    _settle(stack, request_id)
    # Past the outbox's longest retry back-off (a minute): whatever waited after the 503 is due now,
    # and drain sends it, so a message posted twice would be counted below.
    CLOCK.advance(60.0)
    stack.drain()
    assert not stack.runtime.outbox.pending(), stack.runtime.outbox.pending()
    dups = duplicate_posts(slack)
    ledger.dup("slack:post", sum(n - 1 for n in dups.values()))
    assert not dups, dups
