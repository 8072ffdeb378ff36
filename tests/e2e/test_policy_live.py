"""Policy and approval rules change while the bot runs: next decision changes, broken files don't."""

from __future__ import annotations

import os
from pathlib import Path

from bot.sandbox.slack import ALICE, APPROVALS_CHANNEL, OPS_CHANNEL
from bot.sandbox.stack import Stack
from bot.store import audit
from tests.e2e.flows import DEV_MYSQL, approval_message, request_clone, request_id_of

GRANT = "p, U0ALICE, rdsbot:Remind, acs:rds:*:*:dbinstance/*, allow\n"


def _write(path: Path, text: str) -> None:
    # Editors replace files atomically; so do we (write, then rename).
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _audit_events(stack: Stack, name: str) -> list[dict[str, object]]:
    with stack.runtime.db.session() as session:
        return [e.detail for e in audit.events(session) if e.event == name]


def _remind(stack: Stack) -> str:
    before = len(stack.slack.ephemerals(ALICE))
    stack.driver.slash_command(ALICE, f"remind {DEV_MYSQL} daily 09:00 UTC", channel=OPS_CHANNEL)
    stack.slack.wait_for(lambda: len(stack.slack.ephemerals(ALICE)) > before, 5)
    return str(stack.slack.ephemerals(ALICE)[-1]["text"])


def test_an_edited_policy_decides_the_next_request_and_a_broken_one_is_refused(stack: Stack, policy_dir: Path) -> None:
    assert "may not" in _remind(stack)
    policy = policy_dir / "policy.csv"
    old_version = stack.runtime.policy.current().version
    _write(policy, policy.read_text() + GRANT)
    stack.slack.wait_for(lambda: stack.runtime.policy.current().version != old_version, 10)
    assert "Reminder rem-" in _remind(stack)
    new_version = stack.runtime.policy.current().version
    assert {"version": new_version, "previous_version": old_version, "error": None} in _audit_events(stack, "policy_reloaded")

    _write(policy, policy.read_text() + "p, U0ALICE, rds:CreateBackup\n")  # four columns: a syntax error
    stack.slack.wait_for(lambda: _audit_events(stack, "policy_reload_refused"), 10)
    refused = _audit_events(stack, "policy_reload_refused")[0]
    assert refused["previous_version"] == new_version and "policy.csv" in str(refused["error"])
    assert stack.runtime.policy.current().version == new_version
    assert "Reminder rem-" in _remind(stack), "the previous policy stays in force"


def test_edited_approval_rules_apply_to_new_requests(stack: Stack, policy_dir: Path) -> None:
    rules = policy_dir / "approvals.toml"
    request_clone(stack, instance=DEV_MYSQL)
    first = stack.requests.get(request_id_of(approval_message(stack)))
    assert first.approvals_needed == 1
    old = stack.runtime.deps.rules.current().version
    _write(rules, rules.read_text() + '\n[[rule]]\nname = "dev clones"\naction = "rds:Clone*"\n'
                                      'tags = { env = "dev" }\napprovers = 3\n')
    stack.slack.wait_for(lambda: stack.runtime.deps.rules.current().version != old, 10)
    request_clone(stack, instance=DEV_MYSQL)
    second = stack.slack.wait_for(
        lambda: next((m for m in stack.slack.messages(APPROVALS_CHANNEL) if first.id not in m["text"]), None), 10)
    assert stack.requests.get(request_id_of(second)).approvals_needed == 3
    assert stack.requests.get(first.id).approvals_needed == 1, "a pending request keeps its rule"
    assert _audit_events(stack, "approval_rules_reloaded")

    _write(rules, "this is = = not toml")
    stack.slack.wait_for(lambda: _audit_events(stack, "approval_rules_reload_refused"), 10)
    assert stack.runtime.deps.rules.current().rules[-1].approvers == 3
