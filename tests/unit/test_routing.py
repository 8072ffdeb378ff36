"""Approval routing: who a card names (the "and N more" cut), and who the policy lets approve."""

from __future__ import annotations

import re
from types import SimpleNamespace

from bot import operations
from bot.policy import PolicyEngine
from bot.slack import notice_views
from bot.slack.ids import Action, Block
from bot.slack.notice_views import Facts
from bot.workflow import notices as n
from bot.workflow.routing import MENTION_LIMIT, Approvers, approvers_for
from bot.workflow.states import State
from tests.policy.conftest import POLICY_DIR
from tests.unit.test_notices import _request

MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")


def people(count: int) -> tuple[str, ...]:
    return tuple(f"U{i:04d}X" for i in range(count))


def test_the_cut_names_ten_then_counts_the_rest() -> None:
    assert Approvers(people(12)).cut() == (people(12)[:10], 2)
    assert Approvers(people(10)).cut() == (people(10), 0)
    assert Approvers(people(3)).cut() == (people(3), 0)
    assert Approvers().cut() == ((), 0)
    assert MENTION_LIMIT == 10


def _approvers_block(message) -> str:
    blocks = [b for b in message.blocks if b.get("block_id") == Block.APPROVERS]
    assert len(blocks) == 1
    return blocks[0]["text"]["text"]


def card(eligible: Approvers | None, state: State = State.PENDING_APPROVAL):
    request = _request(state)
    return notice_views.render(n.Anchor(), Facts(request=request, op=operations.require("clone"), eligible=eligible))


def test_the_card_mentions_ten_and_says_how_many_more() -> None:
    text = _approvers_block(card(Approvers(people(13))))
    assert MENTION.findall(text) == list(people(10))
    assert "and 3 more" in text


def test_the_card_mentions_exactly_ten_without_more() -> None:
    text = _approvers_block(card(Approvers(people(10))))
    assert MENTION.findall(text) == list(people(10))
    assert "more" not in text


def test_the_card_says_when_nobody_may_approve_and_which_groups_slack_could_not_read() -> None:
    text = _approvers_block(card(Approvers((), "role:dba", ("usergroup:S0DBA",))))
    assert not MENTION.findall(text)
    assert "Nobody may approve" in text and "usergroup:S0DBA" in text


def test_a_decided_card_names_nobody() -> None:
    message = card(Approvers(people(2)), State.SUCCEEDED)
    assert not [b for b in message.blocks if b.get("block_id") == Block.APPROVERS]


def test_the_approver_dm_has_approve_and_reject_but_not_cancel() -> None:
    request = _request(State.PENDING_APPROVAL)
    message = notice_views.render(n.ApproverDM(to="U0BOB"), Facts(request=request, op=operations.require("clone")))
    actions = [e["action_id"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]]
    assert actions == [Action.APPROVE, Action.REJECT]
    assert request.id in message.text


# ----------------------------------------------------------------- who, from the policy
class Groups:
    def __init__(self, members: dict[str, frozenset[str] | None]) -> None:
        self._members = members

    def members(self, group_id: str) -> frozenset[str] | None:
        return self._members.get(group_id, frozenset())

    def membership(self, user_id: str, candidates: list[str]) -> tuple[list[str], list[str]]:
        raise AssertionError("routing reads whole groups, never one person at a time")


def deps_with(groups: dict[str, frozenset[str] | None]) -> SimpleNamespace:
    engine = PolicyEngine.from_dir(POLICY_DIR)
    return SimpleNamespace(policy=SimpleNamespace(current=lambda: engine), groups=Groups(groups))


PROD = [{"role": "source", "instance_id": "rm-bp1mysqlprod0001", "region_id": "cn-hangzhou",
         "arn": "acs:rds:cn-hangzhou:*:dbinstance/rm-bp1mysqlprod0001", "tags": {"env": "prod"}}]
DBAS = {"S0DBA": frozenset({"U0BOB", "U0CAROL", "U0FRANK"}), "S0ONCALL": frozenset({"U0ERIN"})}


def route(deps: SimpleNamespace, requester: str = "U0ALICE", voted: tuple[str, ...] = (), pool: str = "role:dba"):
    request = _request(State.PENDING_APPROVAL, requester=requester, resources=PROD, approver_pool=pool)
    return approvers_for(deps, request, voted=list(voted))  # type: ignore[arg-type]


def test_dbas_and_group_members_may_approve_never_the_requester_nor_who_already_did() -> None:
    deps = deps_with(DBAS)
    assert route(deps).people == ("U0BOB", "U0CAROL", "U0FRANK")  # Frank: a DBA through the Slack group only
    assert route(deps, requester="U0BOB").people == ("U0CAROL", "U0FRANK")
    assert route(deps, voted=("U0CAROL",)).people == ("U0BOB", "U0FRANK")


def test_a_group_slack_cannot_read_lists_nobody_through_it_and_is_named() -> None:
    found = route(deps_with({"S0DBA": None, "S0ONCALL": frozenset()}))
    assert found.people == ("U0BOB", "U0CAROL")
    assert found.unknown_groups == ("usergroup:S0DBA",)


def test_the_rule_role_narrows_the_list() -> None:
    assert route(deps_with(DBAS), pool="role:engineer").people == ()
