"""Reads through the modals: a person sees only what the policy lets them read.

The bot reads RDS with its own AccessKey, so every picker, the source panel and
the listing must apply the person's rights. Each test is someone with no (or
narrow) rights asking a modal for what ``/rds backups`` would refuse them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.sandbox.slack import DAVE, OPS_CHANNEL
from bot.sandbox.stack import Stack
from tests.e2e.flows_ops import MSSQL_PROD, MYSQL_DEV, MYSQL_PROD, PG_STAGING, answer

ESTATE = (MYSQL_PROD, MYSQL_DEV, PG_STAGING, MSSQL_PROD)
# Every external select of the operation modals: (command, block_id).
PICKERS = (("clone", "DBInstanceId"), ("clone", "BackupId"), ("restore", "DBInstanceId"), ("restore", "BackupId"),
           ("copy", "DBInstanceId"), ("copy", "TargetDBInstanceId"), ("copy", "BackupId"), ("copy", "DbNames"),
           ("backup", "DBInstanceId"), ("backups", "DBInstanceId"))


def _without_roles(policy_dir: Path, user: str, *extra: str) -> None:
    """Dave loses his intern role (he could read everything as a reader); ``extra`` lines are added."""
    policy = policy_dir / "policy.csv"
    lines = [line for line in policy.read_text().splitlines() if not line.startswith(f"g, {user},")]
    policy.write_text("\n".join([*lines, *extra]) + "\n")


def _values(stack: Stack, view_id: str, field: str, query: str = "") -> list[str]:
    response = stack.driver.suggest(DAVE, view_id, field, query)
    assert response.status == 200, response.text
    return [str(o["value"]) for o in response.options or []]


def _labels(stack: Stack, view_id: str, field: str, query: str = "") -> list[str]:
    response = stack.driver.suggest(DAVE, view_id, field, query)
    return [str(o["text"]["text"]) for o in response.options or []]


@pytest.fixture
def nobody(make_stack: Callable[..., Stack], policy_dir: Path) -> Stack:
    _without_roles(policy_dir, DAVE)
    return make_stack()


def test_a_person_refused_the_listing_cannot_read_it_from_the_restore_picker(nobody: Stack) -> None:
    refused = answer(nobody, DAVE, f"backups {PG_STAGING}")
    assert "may not" in refused["text"] or "not allowed" in refused["text"].lower(), refused["text"]
    view = nobody.driver.open_modal(DAVE, f"restore {PG_STAGING}", channel=OPS_CHANNEL)
    values = _values(nobody, view["id"], "BackupId")
    assert not [v for v in values if v.isdigit()], f"cross-region sets leaked through the picker: {values}"
    [label] = _labels(nobody, view["id"], "BackupId")
    assert "Not allowed" in label and "rds:DescribeCrossRegionBackups" in label, label


def test_backup_sets_and_database_names_follow_the_policy(nobody: Stack) -> None:
    clone = nobody.driver.open_modal(DAVE, f"clone {MYSQL_PROD}", channel=OPS_CHANNEL)
    assert not [v for v in _values(nobody, clone["id"], "BackupId") if v.isdigit()], "backup sets leaked"
    copy = nobody.driver.open_modal(DAVE, f"copy {MSSQL_PROD}", channel=OPS_CHANNEL)
    names = _values(nobody, copy["id"], "DbNames")
    assert "erp" not in names and "hr" not in names, f"database names leaked: {names}"


def test_the_instance_picker_lists_nothing_a_person_may_not_read(nobody: Stack) -> None:
    view = nobody.driver.open_modal(DAVE, "clone", channel=OPS_CHANNEL)
    values = _values(nobody, view["id"], "DBInstanceId", "rm-")
    assert not [v for v in values if v.startswith("rm-")], f"instances leaked: {values}"


def test_the_source_panel_shows_no_facts_to_a_person_who_may_not_read_them(nobody: Stack) -> None:
    view = nobody.driver.open_modal(DAVE, f"clone {MYSQL_PROD}", channel=OPS_CHANNEL)
    nobody.drain()
    current = nobody.slack.current_view(view["id"])
    assert current is not None
    text = str(current["blocks"])
    assert "payments" not in text and "env=prod" not in text, "the panel showed the instance's tags and facts"
    assert "rds:DescribeDBInstances" in text, text


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    picker=st.sampled_from(PICKERS),
    instance=st.sampled_from(ESTATE),
    query=st.sampled_from(["", "rm", "prod", "1", "e", "bp1", "mssql", "00", "rm-bp1mysqlprod0001"]),
)
def test_fuzzed_picker_queries_reveal_only_the_one_readable_instance(
    narrow: Stack, picker: tuple[str, str], instance: str, query: str
) -> None:
    command, field = picker
    # `/rds backups <id>` lists at once; its modal opens only without an instance.
    words = command if command == "backups" else f"{command} {instance}"
    view = narrow.driver.open_modal(DAVE, words, channel=OPS_CHANNEL)
    response = narrow.driver.suggest(DAVE, view["id"], field, query)
    assert response.status == 200, response.text
    values = [str(o["value"]) for o in response.options or []]
    instances = [v for v in values if v.startswith("rm-")]
    assert set(instances) <= {MYSQL_DEV}, f"{command} {instance} {field} {query!r} listed {instances}"
    if instance != MYSQL_DEV and field in {"BackupId", "DbNames"}:
        assert values in ([], ["-"]), f"{command} {instance} {field} {query!r} read {values}"


@pytest.fixture(scope="module")
def narrow(tmp_path_factory: pytest.TempPathFactory) -> Stack:
    """Dave may read one instance, the dev MySQL, and nothing else (one stack for every example)."""
    from bot.sandbox.stack import copy_policies, start_bot, start_emulators
    from tests.e2e.conftest import FAST

    root = tmp_path_factory.mktemp("narrow")
    policy_dir = copy_policies(root / "policies")
    _without_roles(policy_dir, DAVE, f"p, {DAVE}, rds:Describe*, acs:rds:*:*:dbinstance/{MYSQL_DEV}, allow")
    emulators = start_emulators(timings=FAST)
    stack = start_bot(emulators, database_url=f"sqlite:///{root / 'rdsbot.db'}", policy_dir=policy_dir)
    yield stack  # type: ignore[misc]
    stack.stop()
