"""The HTTP surface: signatures, replays, health, timing of acks, help."""

from __future__ import annotations

import json
import logging
import re
import time
import urllib.request

import pytest

from bot.sandbox.slack import ALICE, BOB, CAROL, OPS_CHANNEL, DeliveryOptions, payloads
from bot.sandbox.stack import Stack
from bot.store import audit
from tests.e2e.flows import PROD_MYSQL, approval_message, request_clone


def _audit_count(stack: Stack) -> int:
    with stack.runtime.db.session() as session:
        return sum(1 for _ in audit.events(session))


def test_forged_stale_tampered_and_unsigned_requests_get_401_and_do_nothing(stack: Stack) -> None:
    before = _audit_count(stack)
    cases = {
        "wrong secret": DeliveryOptions(secret="not-the-signing-secret"),
        "stale": DeliveryOptions(timestamp=int(time.time()) - 600),
        "future": DeliveryOptions(timestamp=int(time.time()) + 600),
        "tampered": DeliveryOptions(tamper=True),
        "unsigned": DeliveryOptions(sign=False),
    }
    for name, options in cases.items():
        response = stack.driver.slash_command(ALICE, f"clone {PROD_MYSQL}", channel=OPS_CHANNEL, delivery=options)
        assert response.status == 401, name
    stack.drain()  # anything a refused request had set off would be done by now
    assert stack.slack.calls("views.open") == []
    assert _audit_count(stack) == before


def test_a_replayed_signed_click_acts_once(stack: Stack) -> None:
    request_clone(stack)
    card = approval_message(stack)
    first = stack.driver.click(BOB, channel="C0APPROVALS", ts=card["ts"], action_id="approve")
    again = stack.driver.replay(first)
    assert first.status == 200 and again.status == 200
    stack.driver.click(CAROL, channel="C0APPROVALS", ts=card["ts"], action_id="approve")
    stack.slack.wait_for(lambda: stack.requests.recent(ALICE)[0].state == "succeeded", 20)
    assert len([c for c in stack.rds.calls_for("CloneDBInstance") if c.status == 200]) == 1


def test_slash_command_ack_never_waits_on_rds(stack: Stack) -> None:
    stack.rds.inject(code=None, delay_s=4.0, times=100)
    response = stack.driver.slash_command(ALICE, f"clone {PROD_MYSQL}", channel=OPS_CHANNEL)
    # RDS answers after 4 s; Slack (emulated) accepted the ack within its 3 s deadline, so it did not wait on RDS.
    assert response.status == 200 and response.acked_in_time and not response.problems, response.problems
    view = stack.slack.wait_for_view(ALICE, callback_id="rds_clone", timeout=3)
    assert {b.get("block_id") for b in view["blocks"]} >= {"DBInstanceId", "BackupId", "RestoreTime", "PayType", "reason"}
    stack.rds.clear_faults()


def test_help_for_nothing_or_unknown_words(stack: Stack) -> None:
    for text in ("", "help", "frobnicate the cluster", "CLONE?"):
        response = stack.driver.slash_command(ALICE, text, channel=OPS_CHANNEL)
        assert response.status == 200 and "/rds clone" in response.text, text


def test_healthz_and_metrics(stack: Stack) -> None:
    base = stack.bot_url.rsplit("/slack", 1)[0]
    with urllib.request.urlopen(f"{base}/healthz", timeout=5) as r:  # noqa: S310
        assert r.status == 200 and json.loads(r.read()) == {"ok": True}
    request_clone(stack)
    approval_message(stack)
    with urllib.request.urlopen(f"{base}/metrics", timeout=5) as r:  # noqa: S310
        text = r.read().decode()
    assert 'rdsbot_requests_total{operation="clone",state="pending_approval"}' in text
    assert "rdsbot_rds_call_seconds_bucket" in text


def test_an_expired_trigger_gets_a_clear_message(stack: Stack) -> None:
    stack.slack.inject(method="views.open", error="expired_trigger_id")
    stack.driver.slash_command(ALICE, "clone", channel=OPS_CHANNEL)
    note = stack.slack.wait_for_ephemeral(ALICE, timeout=5)
    assert "again" in note["text"]


def test_a_signed_payload_with_a_malformed_envelope_gets_a_clear_400_and_does_nothing(
        stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    """Identifiers of the wrong type would crash Bolt's routing; they are refused by name before it runs."""
    alice = stack.slack.workspace.user(ALICE)
    view = {"id": "V0FORGED", "type": "modal", "callback_id": 7, "private_metadata": "{}", "state": {"values": {}}}
    submission = payloads.view_submission(stack.slack.workspace, alice, view=view, trigger_id="9.9.9", response_urls=[])
    click = {**submission, "type": "block_actions", "actions": []}
    event = payloads.event_callback(stack.slack.workspace, {"type": "app_mention", "user": 42, "channel": "C0OPS"})
    before = _audit_count(stack)
    with caplog.at_level(logging.WARNING):
        answers = [
            stack.driver.send_raw(payloads.interactive_body(submission)),
            stack.driver.send_raw(payloads.interactive_body(click)),
            stack.driver.send_raw(payloads.json_body(event), payloads.JSON),
        ]
    assert [a.status for a in answers] == [400, 400, 400]
    assert answers[0].text == "malformed payload: view.callback_id must be a string"
    assert answers[1].text == "malformed payload: actions must be a non-empty list"
    assert answers[2].text == "malformed payload: event.user must be a string or an object with a string id"
    stack.drain()  # anything a refused payload had set off would be done by now
    # Only what handles Slack's requests counts: a stack of an earlier test still shutting down in this worker may
    # log its own connection errors meanwhile.
    handling = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith(("bot.slack", "slack_bolt"))]
    assert not handling, "a malformed payload reached a listener"
    assert _audit_count(stack) == before
    assert stack.slack.calls("views.open") == [] and stack.slack.calls("chat.postMessage") == []
    base = stack.bot_url.rsplit("/slack", 1)[0]
    with urllib.request.urlopen(f"{base}/metrics", timeout=5) as r:  # noqa: S310
        assert re.search(r'rdsbot_slack_requests_total\{outcome="malformed"\} [1-9]', r.read().decode())
