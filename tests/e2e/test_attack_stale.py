"""Stale decisions: what changed while a request waited must stop it, on every path that sends one.

The four paths that send a request to RDS for the first time are the last
approval, a submission that needs none, a reminder's "Back up now" and recovery
of an approved request a crash left unsent. Each test changes the world — a
deny added, the instance re-tagged ``env=prod``, an approver's rights revoked —
and acts within a second, before any background reload could notice: the
decision made again just before the call must catch it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bot.sandbox.slack import ALICE, APPROVALS_CHANNEL, BOB, CAROL, ERIN, OPS_CHANNEL
from bot.sandbox.stack import Stack
from bot.timeutil import CLOCK
from bot.workflow import intake
from tests.e2e.flows import DEV_MYSQL, PROD_MYSQL, approval_message, final_reply, request_clone, request_id_of
from tests.e2e.flows_ops import MYSQL_DEV, PG_STAGING, final_state, is_final, options

CLONE, BACKUP, RESTORE = "CloneDBInstance", "CreateBackup", "RestoreDdrTable"


def _frozen_policy(stack: Stack) -> None:
    """Stop the background reloads: only the decision made before the call may see an edit."""
    stack.runtime.jobs.pause("policy_reload", "approval_rules_reload")


def _add_line(policy_dir: Path, line: str) -> None:
    with (policy_dir / "policy.csv").open("a", encoding="utf-8") as policy:
        policy.write(line + "\n")


def _deny_everything_to(user: str) -> str:
    return f"p, {user}, rds:*, acs:rds:*:*:dbinstance/*, deny"


def _retag(stack: Stack, instance: str, **tags: str) -> None:
    current = dict(stack.rds.instance(instance).tags)  # type: ignore[union-attr]
    stack.rds.update_instance(instance, tags={**current, **tags})


def _click_approve(stack: Stack, card: dict[str, Any], user: str) -> None:
    response = stack.driver.click(user, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")
    assert response.status == 200, response.text
    stack.drain()


def _state(stack: Stack, request_id: str) -> str:
    request = stack.requests.get(request_id)
    assert request is not None
    return str(request.state)


def _backup(stack: Stack, user: str, instance: str) -> Any:
    view = stack.driver.open_modal(user, f"backup {instance}", channel=OPS_CHANNEL)
    submitted = stack.driver.submit_view(user, view["id"], {"DBInstanceId": instance}, validate=False)
    assert submitted.status == 200 and not submitted.errors, submitted.text
    stack.drain()
    return stack.requests.recent(user)[0]


def _thread_final(stack: Stack, channel: str, request_id: str) -> dict[str, Any]:
    anchor = stack.slack.wait_for_message(channel, where=lambda m: request_id in m.get("text", ""), timeout=30)
    return stack.slack.wait_for_message(channel, thread_ts=anchor["ts"], where=is_final, timeout=30)


# ------------------------------------------------------------------ the last approval
def test_a_deny_added_while_waiting_stops_the_approved_clone(make_stack: Callable[..., Stack],
                                                             policy_dir: Path) -> None:
    stack = make_stack()
    request_clone(stack, instance=DEV_MYSQL)
    card = approval_message(stack)
    request_id = request_id_of(card)
    _frozen_policy(stack)
    _add_line(policy_dir, _deny_everything_to(ALICE))
    _click_approve(stack, card, BOB)
    final = final_reply(stack, APPROVALS_CHANNEL, card["ts"], timeout=30)
    assert final_state(final) == "denied", final["text"]
    assert _state(stack, request_id) == "denied"
    assert stack.rds.calls_for(CLONE) == [], "a request the policy now denies was sent"
    assert "policy.csv:" in final["text"] and "policy version" in final["text"], final["text"]
    told = stack.slack.wait_for_ephemeral(BOB, timeout=15)
    assert "not sent to RDS" in told["text"], told["text"]


def test_a_retag_to_prod_while_waiting_needs_the_prod_approvers(stack: Stack) -> None:
    request_clone(stack, instance=DEV_MYSQL)
    card = approval_message(stack)
    request_id = request_id_of(card)
    _retag(stack, DEV_MYSQL, env="prod")
    _click_approve(stack, card, BOB)
    request = stack.requests.get(request_id)
    assert request is not None and request.state == "pending_approval", request and request.state
    assert (request.approvals_needed, request.approver_pool) == (2, "role:dba")
    assert stack.rds.calls_for(CLONE) == [], "a production clone ran on one approval"
    updated = stack.slack.wait_for(
        lambda: next((m for m in stack.slack.messages(APPROVALS_CHANNEL)
                      if m["ts"] == card["ts"] and "1/2" in str(m.get("blocks"))), None), 5,
        what="the card asking for a second approver")
    assert "role:dba" in str(updated["blocks"])
    _click_approve(stack, card, CAROL)
    final = final_reply(stack, APPROVALS_CHANNEL, card["ts"])
    assert final_state(final) == "succeeded" and len(stack.rds.calls_for(CLONE)) == 1


def test_an_approver_who_lost_approve_rights_no_longer_counts(make_stack: Callable[..., Stack],
                                                               policy_dir: Path) -> None:
    stack = make_stack()
    request_clone(stack, instance=PROD_MYSQL)  # production: two DBAs
    card = approval_message(stack)
    request_id = request_id_of(card)
    _click_approve(stack, card, BOB)
    _frozen_policy(stack)
    _add_line(policy_dir, "p, U0BOB, rdsbot:Approve, acs:rds:*:*:dbinstance/*, deny")
    _click_approve(stack, card, CAROL)
    assert _state(stack, request_id) == "pending_approval"
    assert stack.requests.approvers_of(request_id) == [CAROL], "the revoked approval still counts"
    assert stack.rds.calls_for(CLONE) == [], "it ran on an approval that no longer holds"


def test_an_approve_click_after_expiry_is_refused_as_expired(stack: Stack) -> None:
    request_clone(stack, instance=DEV_MYSQL)
    card = approval_message(stack)
    request_id = request_id_of(card)
    with stack.runtime.db.engine.begin() as conn:  # the day passed; the expiry sweep has not run yet
        conn.execute(text("UPDATE requests SET expires_at = :past WHERE id = :id"),
                     {"past": "2020-01-01 00:00:00+00:00", "id": request_id})
    stack.driver.click(BOB, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")
    told = stack.slack.wait_for_ephemeral(BOB, timeout=15)
    assert "expired" in told["text"], told["text"]
    stack.drain()
    assert _state(stack, request_id) != "approved" and stack.requests.approvers_of(request_id) == []
    assert stack.rds.calls_for(CLONE) == [], "an expired request was approved and sent"


# ------------------------------------------------------------------ a submission that needs no approval
def test_a_backup_submitted_just_after_a_deny_is_not_sent(make_stack: Callable[..., Stack],
                                                          policy_dir: Path) -> None:
    stack = make_stack()
    _frozen_policy(stack)
    _add_line(policy_dir, _deny_everything_to(ALICE))
    request = _backup(stack, ALICE, MYSQL_DEV)
    final = _thread_final(stack, OPS_CHANNEL, request.id)
    assert final_state(final) == "denied", final["text"]
    assert stack.rds.calls_for(BACKUP) == [], "a backup the policy denies was sent"


def test_a_backup_of_an_instance_retagged_prod_is_not_sent(stack: Stack) -> None:
    stack.runtime.directory.instance(MYSQL_DEV)  # the bot saw it as env=dev a moment ago
    _retag(stack, MYSQL_DEV, env="prod")
    request = _backup(stack, ALICE, MYSQL_DEV)
    final = _thread_final(stack, OPS_CHANNEL, request.id)
    assert final_state(final) == "denied", final["text"]
    assert "env!=prod" in final["text"] or "No rule allows" in final["text"] or "no rule allows" in final["text"]
    assert stack.rds.calls_for(BACKUP) == [], "Alice backed up a production instance"


def test_a_waived_restore_whose_target_left_dev_goes_to_the_approvers(stack: Stack) -> None:
    _retag(stack, PG_STAGING, env="dev")
    stack.runtime.directory.instance(PG_STAGING)  # seen as dev: restores into dev need no approval
    view = stack.driver.open_modal(ALICE, f"restore {PG_STAGING}", channel=OPS_CHANNEL)
    backup_set = options(stack, ALICE, view["id"], "BackupId")[0]
    _retag(stack, PG_STAGING, env="staging")
    submitted = stack.driver.submit_view(ALICE, view["id"], {
        "RestoreType": "0", "BackupId": backup_set, "TableMetaLines": "analytics -> analytics_r",
        "reason": "INC-12"}, validate=False)
    assert submitted.status == 200 and not submitted.errors, submitted.text
    stack.drain()
    request = stack.requests.recent(ALICE)[0]
    assert request.state == "pending_approval" and request.approvals_needed == 1, request.state
    assert stack.rds.calls_for(RESTORE) == [], "a restore into staging ran without approval"
    card = approval_message(stack, request.id)
    assert [e["action_id"] for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]][:1] == ["approve"]


# ------------------------------------------------------------------ a reminder's "Back up now"
def test_back_up_now_after_a_deny_is_not_sent(make_stack: Callable[..., Stack], policy_dir: Path) -> None:
    stack = make_stack()
    created = stack.driver.slash_command(ERIN, f"remind {MYSQL_DEV} in 2 seconds", channel=OPS_CHANNEL)
    assert created.status == 200
    stack.drain()
    CLOCK.advance(3)
    stack.runtime.jobs.run_now("reminders")
    stack.drain()
    post = stack.slack.wait_for_message(OPS_CHANNEL, where=lambda m: "Backup reminder" in m.get("text", ""), timeout=15)
    _frozen_policy(stack)
    _add_line(policy_dir, _deny_everything_to(ERIN))
    stack.driver.click(ERIN, channel=OPS_CHANNEL, ts=post["ts"], action_id="backup_now")
    stack.drain()
    final = stack.slack.wait_for_message(OPS_CHANNEL, thread_ts=post["ts"], where=is_final, timeout=30)
    assert final_state(final) == "denied", final["text"]
    assert stack.rds.calls_for(BACKUP) == [], "Back up now ran after the deny"


# ------------------------------------------------------------------ recovery after a crash
def test_recovery_decides_again_before_sending_what_a_crash_left(make_stack: Callable[..., Stack],
                                                                 policy_dir: Path) -> None:
    stack = make_stack()
    # Approved, then the process died before sending: nothing hands it on.
    crashed = dataclasses.replace(stack.runtime.deps, later=lambda *args, **kwargs: None)
    outcome = intake.submit(crashed, "backup", user=ALICE, channel=OPS_CHANNEL, form={"DBInstanceId": MYSQL_DEV})
    request_id = outcome.request.id  # type: ignore[union-attr]
    assert _state(stack, request_id) == "approved"
    _frozen_policy(stack)
    _add_line(policy_dir, _deny_everything_to(ALICE))
    CLOCK.advance(10)
    stack.runtime.jobs.run_now("recover")
    stack.drain()
    assert _state(stack, request_id) == "denied"
    assert stack.rds.calls_for(BACKUP) == [], "recovery sent a request the policy now denies"
