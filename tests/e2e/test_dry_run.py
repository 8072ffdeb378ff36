"""Issue 13: a dry run (the modal's `dry_run` checkbox, and `rdsbot plan`) checks and decides, sends nothing;
a clone is born with its source's tags and the request that made it."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

from bot.cli import app
from bot.sandbox.slack import ALICE, APPROVALS_CHANNEL, DAVE
from bot.sandbox.stack import Stack
from tests.e2e.flows import PROD_MYSQL, approval_message, approve_fully, final_reply, request_clone, request_id_of
from tests.e2e.flows_ops import audit_ok, audit_rows

DRY = {"dry_run": ["yes"]}


def _modal_text(stack: Stack, view_id: str) -> str:
    view = stack.slack.current_view(view_id) or {}
    return "\n".join(str((b.get("text") or {}).get("text") or "") for b in view.get("blocks", []))


def _mutating(stack: Stack) -> list[Any]:
    return [c for c in stack.rds.calls if not c.action.startswith(("Describe", "List"))]


def _dry_events(stack: Stack) -> list[Any]:
    return [e for e in audit_rows(stack) if (e.request_id or "").startswith("dry-")]


def _backup(stack: Stack, instance: str) -> str:
    sets = [b for b in stack.rds.backups(instance) if b.status == "Success"]
    return max(sets, key=lambda b: b.start).id


def test_a_dry_run_of_a_production_clone_sends_nothing_and_says_what_would_happen(stack: Stack) -> None:
    view, submitted = request_clone(stack, values=DRY)
    assert submitted.status == 200 and not submitted.errors, submitted.text
    stack.drain()
    text = _modal_text(stack, view["id"])
    assert not _mutating(stack) and not stack.rds.calls_for("CloneDBInstance"), "nothing is sent to RDS"
    assert stack.slack.messages(APPROVALS_CHANNEL) == [], "no approval card"
    assert stack.requests.recent(ALICE) == [], "no request is left pending"

    [event] = _dry_events(stack)
    assert event.event == "dry_run" and event.state == "dry_run" and event.actor == ALICE
    assert event.request_id.startswith("dry-clone-") and event.request_id in text
    assert [e for e in audit_rows(stack) if e.event == "requested"] == []
    would_be = event.detail["request_id_would_be"]
    assert event.request_id == f"dry-{would_be}" and event.detail["would_be"] == "pending_approval"
    assert event.detail["api_params"]["ClientToken"] == would_be
    assert audit_ok(stack)

    assert "CloneDBInstance" in text and f"`DBInstanceId` = `{PROD_MYSQL}`" in text
    assert "`PayType` = `Postpaid`" in text and "`BackupId`" in text
    assert f"`ClientToken` = `{would_be}`" in text and "request ID a real submission would get" in text
    assert "`Tag.1.Key` = `env`" in text and "`Tag.1.Value` = `prod`" in text, "the source's guard goes with it"
    assert "= `rdsbot-request`" in text and f"= `{would_be}`" in text
    assert "<@U0ALICE> may `rds:CloneDBInstance`" in text and "Allowed by `policy.csv:" in text, "the rule"
    assert "2 approvers from role:dba" in text and "production clones" in text
    assert "Could approve it: <@U0BOB>, <@U0CAROL>." in text, text  # the people a real card would name
    assert "passed every check" in text and "would wait for approval" in text


def test_a_denied_dry_run_explains_the_deny_and_is_audited_the_same_way(stack: Stack) -> None:
    view, submitted = request_clone(stack, user=DAVE, values=DRY)
    assert submitted.status == 200 and not submitted.errors, submitted.text
    stack.drain()
    text = _modal_text(stack, view["id"])
    assert "may not `rds:CloneDBInstance`" in text and "Explicitly denied by `policy.csv:61" in text
    assert "would be denied" in text
    assert not _mutating(stack) and stack.requests.recent(DAVE) == []
    [event] = _dry_events(stack)
    assert event.state == "dry_run" and event.detail["would_be"] == "denied"
    assert event.detail["decision"]["allowed"] is False


def test_a_dry_run_with_a_bad_form_answers_with_field_errors_like_a_real_one(stack: Stack) -> None:
    _view, submitted = request_clone(stack, values={**DRY, "DBInstanceStorage": "7"})
    assert "DBInstanceStorage" in submitted.errors, submitted.text
    assert _dry_events(stack) == [] and stack.requests.recent(ALICE) == []


def test_rdsbot_plan_prints_the_same_facts(stack: Stack) -> None:
    runner = CliRunner()
    args = ["plan", "clone", "--param", f"DBInstanceId={PROD_MYSQL}", "--param", f"BackupId={_backup(stack, PROD_MYSQL)}",
            "--param", "PayType=Postpaid"]
    result = runner.invoke(app, [*args, "--user", "U0ALICE"], env=stack.env)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Would call CloneDBInstance with:" in out and f"DBInstanceId = {PROD_MYSQL}" in out
    assert "Tag.1.Key = env" in out and "Tag.1.Value = prod" in out and "ClientToken = clone-" in out
    assert "allow: U0ALICE may rds:CloneDBInstance" in out and "2 approvers from role:dba" in out
    assert "Could approve it: U0BOB, U0CAROL." in out, out
    [event] = _dry_events(stack)
    assert event.request_id in out and event.state == "dry_run" and event.detail["via"] == "cli"

    denied = runner.invoke(app, [*args, "--user", DAVE], env=stack.env)
    assert denied.exit_code == 1 and "policy.csv:61 `p, role:intern" in denied.output, denied.output
    bad = runner.invoke(app, [*args, "--param", "DBInstanceStorage=7", "--user", "U0ALICE"], env=stack.env)
    assert bad.exit_code == 2 and "DBInstanceStorage" in bad.output, bad.output
    unknown = runner.invoke(app, [*args, "--param", "Nope=1", "--user", "U0ALICE"], env=stack.env)
    assert unknown.exit_code == 2 and "no parameter Nope" in unknown.output, unknown.output
    assert not _mutating(stack) and stack.requests.recent(ALICE) == []


def test_a_clone_of_a_production_instance_is_born_with_its_tags_and_its_request(stack: Stack) -> None:
    _view, submitted = request_clone(stack)
    assert submitted.status == 200 and not submitted.errors, submitted.text
    card = approval_message(stack)
    request_id = request_id_of(card)
    approve_fully(stack, card)
    final = final_reply(stack, APPROVALS_CHANNEL, card["ts"])
    assert final["metadata"]["event_payload"]["state"] == "succeeded"

    [call] = [c for c in stack.rds.calls_for("CloneDBInstance") if c.status == 200]
    sent = {call.params[k]: call.params[k.replace(".Key", ".Value")] for k in call.params
            if k.startswith("Tag.") and k.endswith(".Key")}
    assert sent["env"] == "prod" and sent["rdsbot-request"] == request_id
    new_id = stack.requests.get(request_id).result["DBInstanceId"]
    tags = stack.runtime.directory.instance(new_id, fresh=True).tags  # read back through ListTagResources
    assert tags is not None and tags["env"] == "prod" and tags["rdsbot-request"] == request_id
    assert tags == {**stack.rds.instance(PROD_MYSQL).tags, "rdsbot-request": request_id}
