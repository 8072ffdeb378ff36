"""A cloud identity per request, below the emulators: names, policies, scopes and the cache."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from bot.config import Settings
from bot.rds.gateway import SdkGateway
from bot.rds.session import SessionCredentials, session_name, session_policy
from bot.rds.sts import REFRESH_MARGIN_S, RequestIdentities
from bot.workflow.identity import session_resources

ROLE = "acs:ram::1234567890123456:role/rdsbot-requests"
ARN_A = "acs:rds:cn-hangzhou:*:dbinstance/rm-a"


def test_the_session_name_names_the_requester_and_the_request_within_stss_rules() -> None:
    assert session_name("U0ERIN", "backup-20261207-1a2b3c4d") == "U0ERIN@backup-20261207-1a2b3c4d"
    long_id = "clone-" + "x" * 58
    name = session_name("U0ALICEWITHAVERYLONGSLACKID", long_id)
    assert len(name) == 64 and name.endswith(long_id[-62:]) and "@" in name
    assert session_name("U 1/2", "r:1") == "U_1_2@r_1"


def test_the_session_policy_allows_only_the_action_on_the_resources() -> None:
    policy = json.loads(session_policy("rds:CreateBackup", [ARN_A, ARN_A]))
    assert policy == {"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["rds:CreateBackup"],
                                                     "Resource": [ARN_A]}]}


def test_resources_are_the_requests_arns_or_star_where_ram_has_no_resource_level_permission() -> None:
    request: Any = SimpleNamespace(resources=[{"arn": ARN_A, "role": "source"}, {"arn": "acs:b", "role": "target"}],
                                   resource=ARN_A)
    assert session_resources("rds:CopyDatabaseBetweenInstances", request) == ["acs:b", ARN_A]
    assert session_resources("rds:RestoreDdrTable", request) == ["*"]
    assert session_resources("rds:CreateBackup", SimpleNamespace(resources=[], resource=ARN_A)) == [ARN_A]


class _Issuer:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []
        self.now = 1000.0

    def assume(self, name: str, policy: str) -> SessionCredentials:
        self.asked.append((name, policy))
        return SessionCredentials(f"STS.{len(self.asked)}", "secret", "token", self.now + 900, name)


def test_sessions_are_cached_per_request_and_renewed_before_they_expire() -> None:
    settings = Settings(RDSBOT_RAM_ROLE_ARN=ROLE)  # type: ignore[call-arg]
    issuer = _Issuer()
    clock = SimpleNamespace(now=1000.0)
    identities = RequestIdentities(settings, issuer=issuer, clock=lambda: clock.now)  # type: ignore[arg-type]
    first = identities.gateway("r1", "U0ERIN", "rds:CreateBackup", [ARN_A])
    assert identities.gateway("r1", "U0ERIN", "rds:CreateBackup", [ARN_A]) is first
    assert first.credentials is not None and first.credentials.session_name == "U0ERIN@r1"
    other = identities.gateway("r2", "U0ERIN", "rds:CreateBackup", [ARN_A])
    assert other is not first and len(issuer.asked) == 2
    clock.now = 1000.0 + 900 - REFRESH_MARGIN_S + 1
    issuer.now = clock.now
    renewed = identities.gateway("r1", "U0ERIN", "rds:CreateBackup", [ARN_A])
    assert renewed is not first and len(issuer.asked) == 3
    assert "secret" not in repr(renewed.credentials) and "token" not in repr(renewed.credentials)


def test_without_a_role_the_gateway_is_its_own_per_request_gateway() -> None:
    gateway = SdkGateway(Settings())
    assert gateway.for_request("r1", "U0ERIN", "rds:CreateBackup", [ARN_A]) is gateway


@pytest.mark.parametrize("value", ["arn:aws:iam::1:role/x", "acs:ram::abc:role/x", "acs:ram::1:user/x"])
def test_a_malformed_role_arn_is_refused_at_start(value: str) -> None:
    with pytest.raises(ValueError, match="RDSBOT_RAM_ROLE_ARN"):
        Settings(RDSBOT_RAM_ROLE_ARN=value)  # type: ignore[call-arg]
