"""``PolicyEngine.allowed_rules``: everyone allowed at once, the same answers as deciding each person."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.policy import DEFAULT_MODEL_TEXT, PolicyEngine
from tests.policy.conftest import POLICY_DIR, arn
from tests.policy.test_properties import (
    GROUPS,
    REQUEST_ACTIONS,
    REQUEST_RESOURCES,
    TAGS,
    USERS,
    grants_strategy,
    policy_text,
    ref_decide,
    rule_strategy,
)

PEOPLE = st.fixed_dictionaries({user: st.tuples(st.lists(st.sampled_from(GROUPS), max_size=2, unique=True),
                                               st.lists(st.sampled_from(GROUPS), max_size=1))
                                for user in [*USERS, "U0NOBODY"]})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=st.lists(rule_strategy, max_size=12), grants=grants_strategy(), people=PEOPLE,
       action=st.sampled_from(REQUEST_ACTIONS), resource=st.sampled_from(REQUEST_RESOURCES), tags=TAGS)
def test_allowed_rules_agree_with_decide_for_each_person(rules, grants, people, action, resource, tags):
    engine = PolicyEngine.from_text(DEFAULT_MODEL_TEXT, policy_text(rules, grants))
    people = {user: (known, [g for g in unknown if g not in known]) for user, (known, unknown) in people.items()}
    found = engine.allowed_rules(action, resource, tags=tags, people=people)
    first_rule_line = len(grants) + 1
    for user, (groups, unknown) in people.items():
        decision = engine.decide(user, action, resource, tags=tags, groups=groups, unknown_groups=unknown)
        assert (user in found) is decision.allowed, decision.explain()
        if user in found:  # the rule named really allows them, in the reference's eyes
            allowed, deciders = ref_decide(rules, grants, user, action, resource, tags, groups)
            assert allowed and found[user].line - first_rule_line in deciders


def test_without_people_it_lists_the_named_users_and_groups_like_subjects_allowed() -> None:
    engine = PolicyEngine.from_dir(POLICY_DIR)
    for action in ("rdsbot:Approve", "rds:CloneDBInstance", "rds:DescribeDBInstances", "rds:RestoreDdrTable"):
        for tags in (None, {}, {"env": "prod"}, {"env": "dev"}):
            found = engine.allowed_rules(action, arn("rm-bp1mysqlprod0001"), tags=tags)
            assert sorted(found) == sorted(engine.subjects_allowed(action, arn("rm-bp1mysqlprod0001"), tags=tags))


def test_the_rule_given_for_a_dba_is_the_approve_line() -> None:
    engine = PolicyEngine.from_dir(POLICY_DIR)
    found = engine.allowed_rules("rdsbot:Approve", arn("rm-bp1mysqlprod0001"), tags={"env": "prod"})
    assert sorted(found) == ["U0BOB", "U0CAROL", "usergroup:S0DBA"]
    assert {rule.text for rule in found.values()} == {"p, role:dba, rdsbot:Approve, acs:rds:*:*:dbinstance/*, allow"}


def test_an_unreadable_group_applies_its_denies_only() -> None:
    engine = PolicyEngine.from_text(DEFAULT_MODEL_TEXT, "g, usergroup:S0DBA, role:dba\n"
                                    "p, role:dba, rdsbot:Approve, *, allow\n"
                                    "p, usergroup:S0BAD, rdsbot:*, *, deny\n"
                                    "p, U0A, rdsbot:Approve, *, allow\n")
    people = {"U0A": ([], ["usergroup:S0BAD"]), "U0B": ([], ["usergroup:S0DBA"]), "U0C": (["usergroup:S0DBA"], [])}
    assert sorted(engine.allowed_rules("rdsbot:Approve", arn(), people=people)) == ["U0C"]
