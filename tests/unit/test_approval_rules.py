"""approvals.toml: parsing errors name the rule and key; the strictest matching rule wins."""

from __future__ import annotations

import pytest

from bot.workflow.approvals import DEFAULT, ApprovalRules, ApprovalRulesError

ARN = "acs:rds:cn-hangzhou:*:dbinstance/rm-x"
RULES = """
[[rule]]
name = "prod clones"
action = "rds:CloneDBInstance"
tags = { env = "prod" }
approvers = 2
from = "role:dba"

[[rule]]
name = "payments"
action = "rds:*"
tags = { team = "pay*" }
approvers = 3

[[rule]]
name = "dev restores"
action = "rds:RestoreDdrTable"
tags = { env = "dev" }
approvers = 0
"""


@pytest.fixture
def rules() -> ApprovalRules:
    return ApprovalRules.from_text(RULES)


@pytest.mark.parametrize(("action", "tags", "floor", "approvers", "pool"), [
    ("rds:CloneDBInstance", {"env": "prod"}, 1, 2, "role:dba"),
    ("rds:CloneDBInstance", {"env": "dev"}, 1, 1, None),  # no rule: the default
    ("rds:CloneDBInstance", {"env": "prod", "team": "payments"}, 1, 3, None),  # strictest of two
    ("rds:CloneDBInstance", None, 1, 3, None),  # unknown tags: every tag rule counts
    ("rds:RestoreDdrTable", {"env": "dev"}, 0, 0, None),  # waived
    ("rds:RestoreDdrTable", None, 0, 3, None),  # unknown tags never waive
    ("rds:RestoreDdrTable", {"env": "staging"}, 0, 1, None),
    ("rds:CopyDatabaseBetweenInstances", {"env": "dev", "team": "web"}, 1, 1, None),
])
def test_strictest_matching_rule_wins(rules: ApprovalRules, action: str, tags: dict[str, str] | None, floor: int,
                                      approvers: int, pool: str | None) -> None:
    found = rules.requirement(action, ARN, tags, floor=floor)
    assert (found.approvers, found.pool) == (approvers, pool)


def test_always_operations_are_never_waived() -> None:
    rules = ApprovalRules.from_text('[[rule]]\naction = "rds:Clone*"\napprovers = 0\n')
    found = rules.requirement("rds:CloneDBInstance", ARN, {}, floor=1)
    assert found.approvers == 1 and "raised to 1" in found.rule


def test_no_file_means_one_approver() -> None:
    assert ApprovalRules().requirement("rds:CopyDatabaseBetweenInstances", ARN, {"env": "prod"}) == DEFAULT


def test_the_rule_text_names_the_file_version_and_rule(rules: ApprovalRules) -> None:
    found = rules.requirement("rds:CloneDBInstance", ARN, {"env": "prod"})
    assert found.rule.startswith(f"approvals.toml v{rules.version}: prod clones")


@pytest.mark.parametrize(("text", "words"), [
    ("rule = 3", "[[rule]]"),
    ("[[rule]]\napprovers = 2", "'action'"),
    ('[[rule]]\naction = "CloneDBInstance"', "'action'"),
    ('[[rule]]\naction = "rds:X"\napprovers = 11', "'approvers'"),
    ('[[rule]]\naction = "rds:X"\napprovers = -1', "'approvers'"),
    ('[[rule]]\naction = "rds:X"\napprovers = true', "'approvers'"),
    ('[[rule]]\naction = "rds:X"\nfrom = "dba"', "'from'"),
    ('[[rule]]\naction = "rds:X"\ntags = "env=prod"', "'tags'"),
    ('[[rule]]\naction = "rds:X"\nresource = "instance/*"', "'resource'"),
    ('[[rule]]\naction = "rds:X"\napprover = 2', "unknown key"),
    ('oops = 1', "unknown top-level"),
    ("this is = = not toml", "not valid TOML"),
])
def test_malformed_files_say_which_rule_and_key(text: str, words: str) -> None:
    with pytest.raises(ApprovalRulesError) as info:
        ApprovalRules.from_text(text)
    assert words in str(info.value)
    if "rule" in text and "TOML" not in words and "top-level" not in words and "[[rule]]" not in words:
        assert "rule 1" in str(info.value)
