"""Several regions and several accounts from one bot, end to end.

RDSBOT_REGIONS=cn-hangzhou,cn-shanghai: the instance picker searches both at once (a
region that cannot be read is named, never hides the other), each option says where
its instance is, and an instance in Shanghai is cloned and polled in Shanghai.
accounts.toml: an alias per account; the RDS emulator gives each AccessKey its own
account's instances, so a call signed with the wrong key would not find them. The ARNs
carry each account's ID, so a policy scoped to one account cannot act in the other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.rds.seed import (MSSQL_PROD, MSSQL_SHANGHAI, MYSQL_DEV, MYSQL_DR_SHANGHAI, MYSQL_PROD,
                                  OTHER_ACCOUNT_MYSQL, default_seed, with_other_account)
from bot.sandbox.slack import ALICE, BOB, CAROL, OPS_CHANNEL
from bot.sandbox.stack import ACCESS_KEY_ID, Emulators, Stack, start_emulators
from tests.e2e.conftest import FAST
from tests.e2e.flows import approval_message, final_reply, request_clone, request_id_of
from tests.e2e.flows_ops import approve, card_and_id, final_state, ok_calls

MAIN_ID, OTHER_ID = "1111111111111111", "2222222222222222"
OTHER_KEY, OTHER_SECRET = "LTAI5tOtherAccount01", "other-account-secret-e2e"
REFUSED = "-"


@pytest.fixture
def emulators() -> Iterator[Emulators]:
    """The usual world, plus one instance in a second account that only OTHER_KEY sees."""
    emu = start_emulators(timings=FAST, seed=with_other_account(default_seed(), OTHER_ID),
                          other_accounts={OTHER_ID: (OTHER_KEY, OTHER_SECRET)})
    yield emu
    emu.stop()


def _options(stack: Stack, view: dict[str, Any], query: str) -> list[tuple[str, str]]:
    response = stack.driver.suggest(ALICE, view["id"], "DBInstanceId", query)
    assert response.status == 200, response.text
    return [(str(o["value"]), str(o["text"]["text"])) for o in response.options or []]


def test_a_second_region_is_searched_cloned_and_polled_there(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(RDSBOT_REGIONS="cn-hangzhou,cn-shanghai")
    view = stack.driver.open_modal(ALICE, "clone", channel=OPS_CHANNEL)
    # Hangzhou cannot be read: Shanghai's instances are still offered, and the picker says what it missed.
    stack.rds.inject(action="DescribeDBInstances", region="cn-hangzhou", code="Forbidden.RAM")
    offered = _options(stack, view, "payments")
    assert (MYSQL_DR_SHANGHAI, f"{MYSQL_DR_SHANGHAI} · cn-shanghai · payments-dr · MySQL 8.0") in offered, offered
    assert MYSQL_PROD not in dict(offered)
    notes = [label for value, label in offered if value == REFUSED]
    assert len(notes) == 1 and "Could not read cn-hangzhou" in notes[0], notes
    # Hangzhou answers again on the next keystroke; each option names its region.
    labels = dict(_options(stack, view, "payments"))
    assert "· cn-hangzhou ·" in labels[MYSQL_PROD] and "· cn-shanghai ·" in labels[MYSQL_DR_SHANGHAI]

    _, submitted = request_clone(stack, instance=MYSQL_DR_SHANGHAI)
    assert submitted.status == 200 and not submitted.errors, submitted.text
    card = approval_message(stack)
    request = stack.requests.get(request_id_of(card))
    assert (request.region_id, request.account) == ("cn-shanghai", "")
    assert request.resource == f"acs:rds:cn-shanghai:*:dbinstance/{MYSQL_DR_SHANGHAI}"
    final = approve(stack, card, BOB)
    assert final_state(final) == "succeeded", final["text"]

    [clone] = ok_calls(stack, "CloneDBInstance")
    assert clone.params["RegionId"] == "cn-shanghai" and clone.params["DBInstanceId"] == MYSQL_DR_SHANGHAI
    new_id = stack.requests.get(request.id).result["DBInstanceId"]
    assert new_id in final["text"] and stack.rds.instance(new_id).region == "cn-shanghai"
    # Its status is read in Shanghai, in a batch of the instances polled there (DescribeDBInstances).
    polls = [c for c in stack.rds.calls_for("DescribeDBInstances") if new_id in c.params.get("DBInstanceId", "")]
    assert polls and all(c.params["RegionId"] == "cn-shanghai" and c.status == 200 for c in polls), \
        "polled where it runs until it was Running"


def test_an_account_alias_routes_to_its_credentials_and_its_account_id(
        make_stack: Callable[..., Stack], policy_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (policy_dir / "accounts.toml").write_text(
        f'[[account]]\nalias = "main"\nid = "{MAIN_ID}"\n\n'
        f'[[account]]\nalias = "other"\nid = "{OTHER_ID}"\nenv = "OTHER"\n')
    # The attack: engineers may clone in the main account only; Alice tries the other one's instance.
    policy = policy_dir / "policy.csv"
    text = policy.read_text()
    engineer_clone = "p, role:engineer, rds:CloneDBInstance, acs:rds:*:*:dbinstance/*, allow"
    assert engineer_clone in text
    policy.write_text(text.replace(engineer_clone, engineer_clone.replace(":*:*:", f":*:{MAIN_ID}:")))
    monkeypatch.setenv("OTHER_ALIBABA_CLOUD_ACCESS_KEY_ID", OTHER_KEY)
    monkeypatch.setenv("OTHER_ALIBABA_CLOUD_ACCESS_KEY_SECRET", OTHER_SECRET)
    stack = make_stack()

    view = stack.driver.open_modal(ALICE, "clone", channel=OPS_CHANNEL)
    labels = dict(_options(stack, view, "dev"))
    assert "· other · cn-hangzhou ·" in labels[OTHER_ACCOUNT_MYSQL] and "· main · cn-hangzhou ·" in labels[MYSQL_DEV]

    _, refused = request_clone(stack, instance=OTHER_ACCOUNT_MYSQL)
    assert refused.status == 200 and not refused.errors, refused.text
    [denied] = [r for r in stack.requests.recent(ALICE) if r.instance_id == OTHER_ACCOUNT_MYSQL]
    assert denied.state == "denied" and denied.account == "other"
    assert denied.decision["resource"] == f"acs:rds:cn-hangzhou:{OTHER_ID}:dbinstance/{OTHER_ACCOUNT_MYSQL}"
    assert not stack.rds.calls_for("CloneDBInstance"), "nothing reached RDS for the other account"
    _, allowed = request_clone(stack, instance=MYSQL_DEV)
    assert allowed.status == 200 and not allowed.errors, allowed.text
    [pending] = [r for r in stack.requests.recent(ALICE) if r.instance_id == MYSQL_DEV]
    assert pending.state == "pending_approval" and pending.resource.split(":")[3] == MAIN_ID

    # Bob (rds:* everywhere) backs the other account's instance up: signed with that account's key throughout.
    backup = stack.driver.open_modal(BOB, f"backup {OTHER_ACCOUNT_MYSQL}", channel=OPS_CHANNEL)
    assert not stack.driver.submit_view(BOB, backup["id"], {}, validate=False).errors
    [request] = stack.requests.recent(BOB)
    anchor = stack.slack.wait_for_message(OPS_CHANNEL, where=lambda m: request.id in m.get("text", ""), timeout=10)
    assert final_state(final_reply(stack, OPS_CHANNEL, anchor["ts"])) == "succeeded"
    assert stack.requests.get(request.id).account == "other"
    [created] = ok_calls(stack, "CreateBackup")
    assert created.access_key_id == OTHER_KEY and created.params["DBInstanceId"] == OTHER_ACCOUNT_MYSQL
    about_it = [c for c in stack.rds.calls if c.params.get("DBInstanceId") == OTHER_ACCOUNT_MYSQL and c.status == 200]
    assert {c.access_key_id for c in about_it} == {OTHER_KEY}
    assert ACCESS_KEY_ID in {c.access_key_id for c in stack.rds.calls if c.params.get("DBInstanceId") == MYSQL_DEV}


def test_restore_from_this_may_pick_another_target_where_the_set_restores(
        make_stack: Callable[..., Stack], policy_dir: Path) -> None:
    policy = policy_dir / "policy.csv"  # an operator's policy without the example's "no restore of prod data"
    policy.write_text("\n".join(line for line in policy.read_text().splitlines()
                                if not line.startswith("p, *, rds:RestoreDdrTable")) + "\n")
    stack = make_stack(RDSBOT_REGIONS="cn-hangzhou,cn-shanghai,cn-heyuan")
    stack.driver.slash_command(BOB, f"backups {MSSQL_PROD}", channel=OPS_CHANNEL)
    listing = stack.slack.wait_for_ephemeral(BOB, timeout=5, where=lambda m: "restore_from_backup" in str(m))
    chosen = next(b["accessory"]["value"] for b in listing["blocks"]
                  if (b.get("accessory") or {}).get("action_id") == "restore_from_backup")
    stack.driver.click(BOB, channel=OPS_CHANNEL, ts=listing["ts"], action_id="restore_from_backup", value=chosen)
    view = stack.slack.wait_for_view(BOB, callback_id="rds_restore", timeout=5)
    initial = {b["block_id"]: b["element"].get("initial_option", {}).get("value")
               for b in view["blocks"] if b.get("type") == "input"}
    assert (initial["DBInstanceId"], initial["BackupInstanceId"], initial["BackupId"]) == (
        MSSQL_PROD, MSSQL_PROD, chosen)

    # The target picker searches only where the set restores (its RestoreRegions: not cn-heyuan).
    before = len(stack.rds.calls_for("DescribeDBInstances"))
    targets = [str(o["value"]) for o in stack.driver.suggest(BOB, view["id"], "DBInstanceId", "erp").options or []]
    assert MSSQL_SHANGHAI in targets and MSSQL_PROD in targets
    asked = {c.params["RegionId"] for c in stack.rds.calls_for("DescribeDBInstances")[before:]}
    assert asked == {"cn-hangzhou", "cn-shanghai"}, asked

    form = {"TableMetaLines": "hr -> hr_restored", "reason": "check yesterday's HR rows in the DR copy"}
    wrong = stack.driver.submit_view(BOB, view["id"], {**form, "DBInstanceId": MYSQL_DR_SHANGHAI}, validate=False)
    assert "MySQL" in (wrong.errors or {}).get("DBInstanceId", ""), wrong.errors
    submitted = stack.driver.submit_view(BOB, view["id"], {**form, "DBInstanceId": MSSQL_SHANGHAI}, validate=False)
    assert submitted.status == 200 and not submitted.errors, submitted.errors
    card, request_id = card_and_id(stack)
    roles = {r["role"]: r["instance_id"] for r in stack.requests.get(request_id).resources}
    assert roles == {"target": MSSQL_SHANGHAI, "source": MSSQL_PROD}, "the set's own instance is a policy resource"
    assert final_state(approve(stack, card, CAROL)) == "succeeded"
    [call] = ok_calls(stack, "RestoreDdrTable")
    assert (call.params["DBInstanceId"], call.params["RegionId"], call.params["BackupId"]) == (
        MSSQL_SHANGHAI, "cn-shanghai", chosen)
