"""The App Home without Slack: the view fits Slack's limits, "what may I do" reads the policy, and
"Edit and resubmit" prefills what the requester typed, in each field's shape."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from bot import operations
from bot.policy import PolicyEngine
from bot.sandbox.slack import validation
from bot.slack import modals
from bot.slack.home_view import MAX_BLOCKS, home_view
from bot.store.models import Reminder
from bot.timeutil import utcnow
from bot.workflow.home import Home
from bot.workflow.own import prefill_values
from bot.workflow.rights import rights_of
from bot.workflow.states import State
from tests.policy.conftest import POLICY_DIR
from tests.unit.test_notices import _request


class Groups:
    def membership(self, user_id: str, candidates: list[str]) -> tuple[list[str], list[str]]:
        return (["S0DBA"], []) if user_id == "U0FRANK" else ([], ["S0ONCALL"] if user_id == "U0GINA" else [])


def _deps() -> SimpleNamespace:
    engine = PolicyEngine.from_dir(POLICY_DIR)
    return SimpleNamespace(policy=SimpleNamespace(current=lambda: engine), groups=Groups())


def _rights(user: str) -> dict[str, tuple[list[str], list[str]]]:
    found = rights_of(_deps(), user)  # type: ignore[arg-type]
    return {a.action: ([s.resource + s.conditions for s in a.allowed], [s.resource + s.conditions for s in a.denied])
            for a in found.actions}


def test_what_may_i_do_reads_the_lines_that_apply_to_the_person() -> None:
    alice = _rights("U0ALICE")
    assert alice["rds:CloneDBInstance"] == (["acs:rds:*:*:dbinstance/*"], [])
    assert alice["rds:CreateBackup"] == (["acs:rds:*:*:dbinstance/*rds:ResourceTag/env!=prod"], [])
    assert alice["rdsbot:Approve"] == ([], [])
    dave = _rights("U0DAVE")
    assert dave["rds:CloneDBInstance"] == ([], ["acs:rds:*:*:dbinstance/*"])
    assert rights_of(_deps(), "U0FRANK").roles == ("role:dba", "role:oncall", "role:reader")  # type: ignore[arg-type]
    assert _rights("U0FRANK")["rdsbot:Approve"][0] == ["acs:rds:*:*:dbinstance/*"]  # through his user group
    gina = rights_of(_deps(), "U0GINA")  # type: ignore[arg-type]
    assert gina.unknown_groups == ("S0ONCALL",) and not gina.roles  # a group Slack could not confirm lends nothing


def _reminder(i: int) -> Reminder:
    return Reminder(id=f"rem-{i:08x}", channel_id="C0OPS", region_id="cn-hangzhou", instance_id="rm-bp1x",
                    schedule="daily 09:00", timezone="Asia/Shanghai", created_by="U0BOB", created_at=utcnow(),
                    next_run_at=utcnow() + timedelta(hours=i))


def test_the_view_fits_slack_and_says_how_many_more_however_long_the_lists() -> None:
    states = [State.PENDING_APPROVAL, State.REJECTED, State.FAILED, State.SUCCEEDED, State.HELD]
    mine = [_request(states[i % len(states)], id=f"clone-20261207-{i:08x}", thread_channel="C0APPROVALS",
                     thread_ts=f"1700000000.{i:06d}") for i in range(70)]
    waiting = [_request(State.PENDING_APPROVAL, id=f"copy-20261207-{i:08x}", requester="U0CAROL") for i in range(70)]
    home = Home(user="U0ALICE", mine=mine, waiting=waiting, reminders=[_reminder(i) for i in range(70)],
                rights=rights_of(_deps(), "U0BOB"))  # type: ignore[arg-type]
    view = home_view(home, link=lambda r: f"https://acme.slack.com/archives/{r.thread_channel}/p1", note="done")
    validation.check_view(view)  # Slack's own limits: 100 blocks, unique block_ids, text lengths
    assert len(view["blocks"]) <= MAX_BLOCKS
    text = str(view["blocks"])
    assert "and 40 more" in text and "and 50 more" in text
    actions = {(e["action_id"], e["value"]) for b in view["blocks"]
               for e in [b.get("accessory") or {}, *(b.get("elements") or [])] if e.get("type") == "button"}
    assert ("cancel", mine[0].id) in actions and ("resubmit", mine[1].id) in actions
    assert ("resubmit", mine[3].id) not in actions and ("cancel", mine[3].id) not in actions  # succeeded: neither
    assert ("approve", waiting[0].id) in actions and ("reject", waiting[0].id) in actions


def test_resubmit_prefills_the_typed_form_in_each_fields_shape_never_dry_run() -> None:
    copy = operations.require("copy")
    form = {"DBInstanceId": "rm-src", "DbNames": ["db1", "db2"], "reason": "again", "dry_run": ["yes"],
            "break_glass": ["yes"], "TargetDBInstanceId": None}
    request = _request(State.REJECTED, operation="copy", form=form)
    values = prefill_values(copy, request)
    assert values == {"DBInstanceId": "rm-src", "DbNames": ["db1", "db2"], "reason": "again"}
    view = modals.operation_modal(copy, initial=values)
    block = next(b for b in view["blocks"] if b.get("block_id") == "DbNames")
    assert [o["value"] for o in block["element"]["initial_options"]] == ["db1", "db2"]
    old = _request(State.FAILED, form={})  # a row from before forms were kept: the API parameters
    assert prefill_values(operations.require("clone"), old)["PayType"] == "Postpaid"
