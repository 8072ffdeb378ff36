"""Property 2a: correctly signed but malformed requests (mutated real payloads).

Real payloads of every kind the bot handles (slash command, view_submission of
each modal, block_actions on cards, listings, reminders and modals,
block_suggestion, view_closed, Events API callbacks) are captured from a live
flow, then mutated: keys dropped, values replaced by wrong types or hostile
strings, button values and private_metadata tampered, unknown callback_ids /
action_ids / types. Each is signed with the app's secret and posted.

Properties: never a 5xx; the ack comes in under 3 s; no RDS write call
(CloneDBInstance, CopyDatabaseBetweenInstances, RestoreDdrTable, CreateBackup)
ever follows; no existing request changes state. The base payloads are chosen
so that no mutation can be a legitimate write (their actors may not write or
approve, the instances are production ones), so any write or state change is a
bug; legitimate clickers are fuzzed in test_approval_clicks.py.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from bot.operations.backups import ListingQuery
from bot.sandbox.slack import ALICE, APPROVALS_CHANNEL, BOB, DAVE, OPS_CHANNEL, payloads
from bot.store.models import Reminder
from bot.timeutil import utcnow
from tests.e2e.flows import PROD_MYSQL, approval_message, request_id_of
from tests.fuzz import mutate
from tests.fuzz.conftest import (
    ACK_DEADLINE_S,
    TALLY,
    FuzzStack,
    examples,
    form_body,
    interactive_body,
    quiesce,
    rds_writes_since,
    send_signed,
)

# The bot's own threads (scheduler, retries) use the global ``random`` while hypothesis generates data;
# hypothesis mistakes that for a strategy using ``random``.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")

PROP = "p2_http_signed_mutated"
MSSQL_PROD = "rm-bp1mssqlprod0004"
MSSQL_QA = "rm-bp1mssqlqa000005"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
SUPERSCRIPT_PAGE = "rm-bp1mysqlprod0001|2026-01-01T00:00:00Z|2026-01-08T00:00:00Z||30|\u00b2"


@dataclass
class World:
    """Base payloads and the IDs the mutations point at."""

    bases: dict[str, tuple[str, Any]] = field(default_factory=dict)  # name -> (wire kind, payload)
    tokens: dict[str, str] = field(default_factory=dict)
    watched: list[str] = field(default_factory=list)  # requests whose state must never change here


def _view_submission(fs: FuzzStack, user: str, text: str, values: dict[str, Any]) -> dict[str, Any]:
    """Open the modal for ``/rds <text>`` and submit ``values``; returns the payload that was sent."""
    driver = fs.stack.driver
    view = driver.open_modal(user, text, channel=OPS_CHANNEL)
    response = driver.submit_view(user, view["id"], values, validate=False)
    assert response.status == 200, response.text
    return dict(response.payload)


@pytest.fixture(scope="module")
def world(fuzz_stack: FuzzStack) -> World:
    fs, driver, ws = fuzz_stack, fuzz_stack.stack.driver, fuzz_stack.slack.workspace
    w = World()
    alice, dave = ws.user(ALICE), ws.user(DAVE)

    # A production clone by Alice (two DBA approvals needed) and one by Bob (his own: he cannot approve it).
    view = driver.open_modal(ALICE, f"clone {PROD_MYSQL}", channel=OPS_CHANNEL)
    suggestion = driver.suggest(ALICE, view["id"], "BackupId", "")
    backup_id = str(suggestion.options[0]["value"])
    w.bases["block_suggestion"] = ("interactive", dict(suggestion.payload))
    picked = fs.slack.current_view(view["id"])
    w.bases["view_block_actions"] = ("interactive", payloads.view_block_actions(
        ws, alice, view=picked, trigger_id="1.2.3", actions=[{
            "type": "external_select", "action_id": "DBInstanceId", "block_id": "DBInstanceId",
            "selected_option": {"value": PROD_MYSQL, "text": {"type": "plain_text", "text": PROD_MYSQL}},
            "action_ts": "1.2"}]))
    submitted = driver.submit_view(ALICE, view["id"], {"DBInstanceId": PROD_MYSQL, "BackupId": backup_id,
                                                       "PayType": "Postpaid", "reason": "fuzz base"}, validate=False)
    assert submitted.status == 200, submitted.text
    w.bases["view_submission_clone"] = ("interactive", dict(submitted.payload))
    card = approval_message(fs.stack)
    rid_alice = request_id_of(card)
    bob_clone = _view_submission(fs, BOB, f"clone {PROD_MYSQL}", {"DBInstanceId": PROD_MYSQL, "BackupId": backup_id,
                                                                   "PayType": "Postpaid", "reason": "bob's own"})
    rid_bob = fs.requests.recent(BOB)[0].id
    w.bases["view_submission_clone_bob"] = ("interactive", bob_clone)
    w.watched = [rid_alice, rid_bob]
    w.tokens = {"@OWN_RID": rid_alice, "@OTHER_RID": rid_bob}

    # Copy (SQL Server prod -> qa), restore into production (explicitly denied), backup of production by
    # Alice (denied), and the listing modal.
    w.bases["view_submission_copy"] = ("interactive", _view_submission(
        fs, ALICE, f"copy {MSSQL_PROD}", {"TargetDBInstanceId": MSSQL_QA, "DbNames": ["hr"],
                                          "RestoreTime": "2026-01-01T00:00:00Z", "reason": "fuzz"}))
    w.bases["view_submission_restore"] = ("interactive", _view_submission(
        fs, ALICE, f"restore {PROD_MYSQL}", {"RestoreType": "0", "TableMetaLines": "orders -> orders_r",
                                             "reason": "fuzz"}))
    w.bases["view_submission_backup"] = ("interactive", _view_submission(
        fs, ALICE, f"backup {PROD_MYSQL}", {"reason": "fuzz"}))
    w.bases["view_submission_backups"] = ("interactive", _view_submission(fs, ALICE, "backups", {
        "DBInstanceId": PROD_MYSQL}))
    closing = fs.slack.current_view(view["id"]) or view
    w.bases["view_closed"] = ("interactive", payloads.view_closed(ws, alice, view=closing, is_cleared=False))

    # The Reject dialog (Dave may not decide), clicks by Dave on Alice's card.
    reject_view = {"id": "V0REJECT", "type": "modal", "callback_id": "rds_reject",
                   "private_metadata": json.dumps({"request_id": rid_alice}),
                   "state": {"values": {"reason": {"reason": {"type": "plain_text_input", "value": "no way"}}}}}
    w.bases["view_submission_reject"] = ("interactive", payloads.view_submission(
        ws, dave, view=reject_view, trigger_id="1.2.3", response_urls=[]))
    for action in ("approve", "reject", "cancel"):
        clicked = driver.click(DAVE, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id=action)
        assert clicked.status == 200
        w.bases[f"click_{action}"] = ("interactive", dict(clicked.payload))
    template = dict(w.bases["click_approve"][1])

    def click(action_id: str, value: str, user: Any = alice, block_id: str = "b") -> dict[str, Any]:
        payload = json.loads(json.dumps(template))
        payload["user"] = user.payload_user(ws.team_id)
        payload["actions"] = [{"action_id": action_id, "block_id": block_id, "type": "button", "value": value,
                               "action_ts": "1.2"}]
        return payload

    # A reminder on production set by Bob; Alice's "Back up now" click is refused by policy.
    reply = driver.slash_command(BOB, f"remind {PROD_MYSQL} daily 09:00", channel=OPS_CHANNEL)
    assert reply.status == 200
    fs.settle()
    with fs.db.reader() as session:
        reminder = session.exec(select(Reminder)).first()
    assert reminder is not None, "the reminder was not created"
    w.tokens["@REMINDER"] = reminder.id
    w.bases["click_backup_now"] = ("interactive", click("backup_now", reminder.id))
    now = utcnow()
    pointer = ListingQuery(instance_id=PROD_MYSQL, start=now.replace(year=now.year - 1), end=now).pointer()
    w.bases["click_page_next"] = ("interactive", click("page_next", pointer))
    w.bases["click_page_prev"] = ("interactive", click("page_prev", pointer))
    w.bases["click_restore_from"] = ("interactive", click("restore_from_backup", "123456", block_id=f"x|{PROD_MYSQL}"))

    # Slash commands (form fields) and Events API callbacks (JSON).
    command = driver.slash_command(ALICE, f"clone {PROD_MYSQL}", channel=OPS_CHANNEL)
    w.bases["slash_command"] = ("form", dict(command.payload))
    w.bases["slash_status"] = ("form", {**dict(command.payload), "text": f"status {rid_alice}"})
    w.bases["slash_remind"] = ("form", {**dict(command.payload), "text": f"remind {PROD_MYSQL} in 5 minutes"})
    w.bases["event_app_mention"] = ("json", payloads.event_callback(ws, {
        "type": "app_mention", "user": ALICE, "text": "<@U0RDSBOT> clone", "channel": OPS_CHANNEL, "ts": "1.1"}))
    w.bases["event_message"] = ("json", payloads.event_callback(ws, {
        "type": "message", "user": ALICE, "text": "hi", "channel": "D0ALICE", "channel_type": "im", "ts": "1.2"}))
    w.bases["url_verification"] = ("json", payloads.url_verification(ws, "challenge-1"))
    quiesce(fs)
    return w


def encode(kind: str, payload: Any) -> tuple[bytes, str]:
    if kind != "interactive" and isinstance(payload, dict) and isinstance(payload.get("trigger_id"), str):
        # Every delivery of a new gesture has its own trigger_id (the bot dedupes on it).
        payload = {**payload, "trigger_id": f"{time.monotonic_ns()}.fuzz.{payload['trigger_id'][:20]}"}
    if kind == "form":
        fields = payload if isinstance(payload, dict) else {"payload": payload}
        return form_body(mutate.as_form_fields(fields)), FORM
    if kind == "json":
        return json.dumps(payload, allow_nan=True).encode(), JSON
    return interactive_body(payload), FORM


def run_case(fs: FuzzStack, world: World, base: str, muts: list[Any]) -> None:
    kind, payload = world.bases[base]
    mutated = mutate.substitute(mutate.apply(payload, muts), world.tokens)
    if kind == "json" and isinstance(mutated, dict) and "event_id" in mutated and not any(
            m[0] in {"replace", "drop"} for m in muts):
        mutated["event_id"] = f"Ev{time.monotonic_ns()}"  # a new delivery, not a duplicate
    body, content_type = encode(kind, mutated)
    states_before = {rid: fs.requests.get(rid).state for rid in world.watched}
    writes_mark = len(fs.rds.calls)
    errors_mark = len(fs.errors.records)
    response = send_signed(fs, body, content_type)
    TALLY.case(PROP)
    TALLY.http(PROP, response.status, response.elapsed_s)
    fs.settle()
    writes = rds_writes_since(fs, writes_mark)
    states_after = {rid: fs.requests.get(rid).state for rid in world.watched}
    moved = {rid: (states_before[rid], states_after[rid]) for rid in world.watched
             if states_before[rid] != states_after[rid]}
    for call in writes:
        TALLY.side_effect(PROP, f"{call.action} after {base}")
    for rid, (a, b) in moved.items():
        TALLY.side_effect(PROP, f"{rid} {a} -> {b} after {base}")
    crashes = []
    for line in fs.errors.since(errors_mark):
        TALLY.note(PROP, f"listener error after {base}: {line}")
        crashes += [line] if "listener failed" in line or "could not process" in line else []
    assert response.status < 500, (response.status, response.text[:300])
    # A malformed envelope is refused by name before Bolt routes it, never a crash inside a listener.
    assert not crashes, crashes
    assert response.elapsed_s < ACK_DEADLINE_S, response.elapsed_s
    assert not writes, [(c.action, c.params) for c in writes]
    assert not moved, moved


BASES = ["slash_command", "slash_status", "slash_remind", "view_submission_clone", "view_submission_clone_bob",
         "view_submission_copy", "view_submission_restore", "view_submission_backup", "view_submission_backups",
         "view_submission_reject", "view_closed", "view_block_actions", "block_suggestion", "click_approve",
         "click_reject", "click_cancel", "click_backup_now", "click_page_next", "click_page_prev",
         "click_restore_from", "event_app_mention", "event_message", "url_verification"]


@settings(max_examples=examples(300), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(base=st.sampled_from(BASES), muts=mutate.mutations)
@example(base="click_approve", muts=[("user", 0, "U0MALLORY")])
@example(base="click_approve", muts=[("value", 0, "' OR 1=1 --")])
@example(base="click_approve", muts=[("value", 0, "A" * 10_000)])
@example(base="click_page_next", muts=[("value", 0, SUPERSCRIPT_PAGE)])
@example(base="view_submission_reject", muts=[("private_metadata", 0, "[1,2]")])
@example(base="view_submission_clone", muts=[("private_metadata", 0, "{\"channel\": \"C0PRIVATE\"}")])
@example(base="view_submission_clone", muts=[("callback_id", 0, "rds_unknown")])
@example(base="view_submission_clone", muts=[("state_value", 0, None), ("state_value", 1, ["<!channel>"])])
@example(base="slash_status", muts=[("user", 0, "")])
@example(base="slash_command", muts=[("text", 0, "status clone-20260101-deadbeef")])
@example(base="event_app_mention", muts=[("type", 0, "event_callback")])
def test_signed_malformed_payloads_never_5xx_never_write(fuzz_stack: FuzzStack, world: World, base: str,
                                                          muts: list[Any]) -> None:
    run_case(fuzz_stack, world, base, muts)


def test_every_base_payload_is_accepted_as_sent(fuzz_stack: FuzzStack, world: World) -> None:
    """The unmutated bases themselves: answered 2xx/404 fast, no write, no state change."""
    for base in BASES:
        run_case(fuzz_stack, world, base, [("add_key", 0, "harmless")])


# ------------------------------------------------------- fixed bugs, kept as regression tests
def _backup_submission(world: World, user: str, instance: str = "rm-bp1mysqldev00002") -> dict[str, Any]:
    payload = json.loads(json.dumps(world.bases["view_submission_backup"][1]))
    payload["user"]["id"] = user
    payload["view"]["id"] = f"V0ROLE{time.monotonic_ns()}"
    block = payload["view"]["state"]["values"]["DBInstanceId"]
    action = next(iter(block))
    block[action] = {"type": "external_select", "selected_option": {
        "value": instance, "text": {"type": "plain_text", "text": instance}}}
    return payload


def test_policy_subject_as_user_id_cannot_back_up(fuzz_stack: FuzzStack, world: World) -> None:
    TALLY.case("known_bug_reproductions")
    mark = len(fuzz_stack.rds.calls)
    response = send_signed(fuzz_stack, interactive_body(_backup_submission(world, "role:oncall")))
    fuzz_stack.settle()
    writes = rds_writes_since(fuzz_stack, mark)
    for call in writes:
        TALLY.side_effect("known_bug_reproductions", f"{call.action} by user.id 'role:oncall'")
    assert response.status < 500
    assert writes == [], [(c.action, c.params.get("DBInstanceId")) for c in writes]


def test_a_real_user_backup_submission_does_run(fuzz_stack: FuzzStack, world: World) -> None:
    """Control for the test above: the same submission from Bob (on call) is a legitimate backup
    (of another instance: one backup at a time per instance)."""
    mark = len(fuzz_stack.rds.calls)
    response = send_signed(fuzz_stack, interactive_body(_backup_submission(world, BOB, "rm-bp1pgstaging0003")))
    assert response.status == 200 and response.json.get("response_action") != "errors", response.text
    fuzz_stack.settle()
    fuzz_stack.slack.wait_for(lambda: rds_writes_since(fuzz_stack, mark) or None, timeout=10,
                              what="the CreateBackup call")
    assert [c.action for c in rds_writes_since(fuzz_stack, mark)] == ["CreateBackup"]


@pytest.mark.parametrize("base,user", [("slash_status", ""), ("click_approve", "<@U0BOB>"),
                                       ("click_page_next", ""), ("slash_remind", "")])
def test_malformed_user_id_is_refused_cleanly(fuzz_stack: FuzzStack, world: World, base: str, user: str) -> None:
    kind, payload = world.bases[base]
    mutated = mutate.substitute(mutate.apply(payload, [("user", 0, user)]), world.tokens)
    body, content_type = encode(kind, mutated)
    mark = len(fuzz_stack.errors.records)
    response = send_signed(fuzz_stack, body, content_type)
    fuzz_stack.settle()
    assert response.status < 500
    assert fuzz_stack.errors.since(mark) == []


def _typed(world: World, base: str, values: dict[str, str]) -> dict[str, Any]:
    """A base modal submission with some text inputs typed in (what a real user can do)."""
    payload = json.loads(json.dumps(world.bases[base][1]))
    payload["view"]["id"] = f"V0TYPED{time.monotonic_ns()}"
    for block_id, text in values.items():
        block = payload["view"]["state"]["values"][block_id]
        block[next(iter(block))] = {"type": "plain_text_input", "value": text}
    return payload


def test_listing_modal_end_time_year_one_is_a_field_error(fuzz_stack: FuzzStack, world: World) -> None:
    TALLY.case("known_bug_reproductions")
    mark = len(fuzz_stack.errors.records)
    response = send_signed(fuzz_stack, interactive_body(_typed(world, "view_submission_backups",
                                                               {"EndTime": "0001-01-01T00:00:00Z"})))
    fuzz_stack.settle()
    assert response.status == 200, (response.status, response.text, fuzz_stack.errors.since(mark))
    assert response.json.get("response_action") == "errors" and "EndTime" in response.json.get("errors", {})


def test_restore_modal_deep_table_meta_is_a_field_error(fuzz_stack: FuzzStack, world: World) -> None:
    TALLY.case("known_bug_reproductions")
    payload = _typed(world, "view_submission_restore", {"TableMeta": "[" * 1500 + "]" * 1500, "TableMetaLines": ""})
    response = send_signed(fuzz_stack, interactive_body(payload))
    fuzz_stack.settle()
    assert response.status == 200, response.text
    assert response.json.get("response_action") == "errors", response.text[:300]
    assert "TableMeta" in response.json.get("errors", {}), response.text[:300]
