"""Shared helpers: policies are stated inline, as text, next to the test that reads them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.policy import DEFAULT_MODEL_TEXT, PolicyEngine

REPO = Path(__file__).resolve().parents[2]
POLICY_DIR = REPO / "policies"


def arn(instance: str = "rm-1", region: str = "cn-hangzhou", account: str = "*") -> str:
    return f"acs:rds:{region}:{account}:dbinstance/{instance}"


def engine_of(policy: str) -> PolicyEngine:
    """An engine from policy text and the shipped model."""
    return PolicyEngine.from_text(DEFAULT_MODEL_TEXT, policy)


@pytest.fixture
def policy_dir(tmp_path: Path) -> Callable[[str], Path]:
    """Write a policy folder (shipped model.conf + the given policy.csv) and return it."""

    def write(policy: str) -> Path:
        (tmp_path / "model.conf").write_text(DEFAULT_MODEL_TEXT, encoding="utf-8")
        (tmp_path / "policy.csv").write_text(policy, encoding="utf-8")
        return tmp_path

    return write
