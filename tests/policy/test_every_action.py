"""RAM's bare ``*`` action: every action, the bot's own included (issue 12).

AdministratorAccess is ``"Action": "*"``. The policy used to refuse that line at
load, so an operator copying RAM's own wording lost every rule of the file.
"""

from __future__ import annotations

import pytest

from bot.policy import DEFAULT_MODEL_TEXT, PolicyError, lint_text

from .conftest import arn, engine_of

ADMIN = "p, U0ADMIN, *, acs:rds:*:*:dbinstance/*, allow\np, U0OPS, rds:*, acs:rds:*:*:dbinstance/*, allow\n"


@pytest.mark.parametrize("action", ["rds:CloneDBInstance", "rds:DescribeBackups", "rdsbot:Approve", "rdsbot:Remind"])
def test_a_bare_star_allows_every_action(action: str) -> None:
    decision = engine_of(ADMIN).decide("U0ADMIN", action, arn())
    assert decision.allowed and decision.rule is not None and decision.rule.line == 1


def test_rds_star_still_stops_at_the_service() -> None:
    engine = engine_of(ADMIN)
    assert engine.decide("U0OPS", "rds:CloneDBInstance", arn()).allowed
    assert not engine.decide("U0OPS", "rdsbot:Approve", arn()).allowed


def test_a_bare_star_deny_beats_any_allow() -> None:
    engine = engine_of(ADMIN + "p, U0ADMIN, *, acs:rds:*:*:dbinstance/rm-prod, deny\n")
    assert not engine.decide("U0ADMIN", "rdsbot:Approve", arn("rm-prod")).allowed
    assert engine.decide("U0ADMIN", "rdsbot:Approve", arn("rm-dev")).allowed


def test_lint_warns_where_a_star_hands_out_approval() -> None:
    findings = [f for f in lint_text(DEFAULT_MODEL_TEXT, ADMIN + "p, U0X, rdsbot:*, *, allow\n"
                                     "p, U0Y, rdsbot:*, *, deny\n")
                if f.code == "wildcard-grants-bot-power"]
    assert [f.line for f in findings] == [1, 3]
    assert "rdsbot:Approve" in findings[0].message and "rdsbot:BreakGlass" in findings[0].message


def test_other_service_less_actions_are_still_refused() -> None:
    with pytest.raises(PolicyError, match="no service prefix"):
        engine_of("p, U0A, CreateBackup, *, allow\n")
