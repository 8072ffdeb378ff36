"""`/rds backups`: cross-region backup sets, answered at once, paged, with "Restore from this".

The default estate holds at most four sets per instance, too few to page; this
module's emulators add 35 more to PG_STAGING (through the emulator's public
``Seed``), so its default 7-day window holds 37 sets: two pages of 30.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.sandbox.rds import CrossRegionBackup, default_seed
from bot.sandbox.slack import ALICE, APPROVALS_CHANNEL, OPS_CHANNEL
from bot.sandbox.stack import Emulators, Stack, start_emulators
from tests.e2e.conftest import FAST
from tests.e2e.flows_ops import MARIADB_WEB, MYSQL_DEV, MYSQL_PROD, PG_STAGING, audit_rows, card_and_id

LIST = "DescribeCrossRegionBackups"
EXTRA_SETS = 35
PG_SETS = 2 + EXTRA_SETS


@pytest.fixture
def emulators() -> Iterator[Emulators]:
    """The default estate plus 35 cross-region sets of PG_STAGING, one every four hours."""
    now = datetime.now(UTC)
    seed = default_seed(now)
    for n in range(EXTRA_SETS):
        consistent = now - timedelta(hours=4 * n + 3)
        seed.cross_region_backups.append(CrossRegionBackup(
            id=1300000 + n, instance_id=PG_STAGING, cross_backup_region="cn-shanghai",
            restore_regions=("cn-shanghai", "cn-hangzhou"), start=consistent + timedelta(minutes=5),
            end=consistent + timedelta(minutes=25), consistent=consistent, backup_id=330000000 + n,
            databases=("analytics", "reporting"), size_bytes=(n + 1) * 1024**3, node_id=8161000,
        ))
    emu = start_emulators(timings=FAST, seed=seed)
    yield emu
    emu.stop()


def _listing(stack: Stack, user: str, instance: str) -> dict[str, Any]:
    """Run `/rds backups <instance>` and return the ephemeral answer."""
    before = len(stack.slack.ephemerals(user))
    response = stack.driver.slash_command(user, f"backups {instance}", channel=OPS_CHANNEL)
    assert response.status == 200
    return stack.slack.wait_for(lambda: (stack.slack.ephemerals(user)[before:] or [None])[-1], timeout=5)


def _set_ids(message: dict[str, Any]) -> list[int]:
    return [int(b["block_id"].split("|")[2]) for b in message.get("blocks") or []
            if str(b.get("block_id", "")).startswith("xrb|") and b["block_id"].count("|") == 2]


def _buttons(message: dict[str, Any], action_id: str) -> list[dict[str, Any]]:
    found = []
    for block in message.get("blocks") or []:
        for element in [block.get("accessory")] + list(block.get("elements") or []):
            if isinstance(element, dict) and element.get("action_id") == action_id:
                found.append(element)
    return found


def _current(stack: Stack, user: str, ts: str) -> dict[str, Any]:
    return next(e for e in stack.slack.ephemerals(user) if e["ts"] == ts)


def test_listing_by_id_answers_at_once_without_a_modal(stack: Stack) -> None:
    message = _listing(stack, ALICE, MYSQL_PROD)
    assert stack.slack.views(ALICE) == [], "no modal for `/rds backups <id>`"
    text = json.dumps(message["blocks"])
    assert _set_ids(message) == [1249004, 1249003, 1249002, 1249001], "newest first"
    assert "115.5 GB" in text and re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", text)
    assert re.search(r"<!date\^\d+\^[^|]+\|\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC>", text), "each reader's zone"
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", text), "times are for people"
    failed = next(b for b in message["blocks"] if b.get("block_id", "").endswith("|1249001"))
    assert "failed" in failed["text"]["text"] and "accessory" not in failed, "a failed set cannot be restored"
    restore = _buttons(message, "restore_from_backup")
    # 1249001 failed and 1249002 is a logical set: neither can restore databases or tables.
    assert [b["value"] for b in restore] == ["1249004", "1249003"]
    [call] = stack.rds.calls_for(LIST)
    assert call.status == 200 and call.params["PageSize"] == "30" and call.params["PageNumber"] == "1"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", call.params["StartTime"])
    listed = [e for e in audit_rows(stack) if e.event == "listed"]
    assert len(listed) == 1 and listed[0].actor == ALICE and listed[0].request_id is None
    assert listed[0].detail["query"]["instance"] == MYSQL_PROD and listed[0].detail["decision"]["allowed"]


@pytest.mark.parametrize("instance,words", [
    (MARIADB_WEB, "MariaDB"),
    (MYSQL_DEV, "only for MySQL on local disks"),
])
def test_an_engine_without_cross_region_backups_is_refused_with_the_reason(stack: Stack, instance: str,
                                                                           words: str) -> None:
    message = _listing(stack, ALICE, instance)
    assert words in message["text"] and instance in message["text"], message["text"]
    assert stack.rds.calls_for(LIST) == []


def test_the_listing_modal_needs_only_the_instance(stack: Stack) -> None:
    view = stack.driver.open_modal(ALICE, "backups", channel=OPS_CHANNEL)
    assert view["callback_id"] == "rds_backups"
    inputs = [b for b in view["blocks"] if b.get("type") == "input"]
    assert [b["block_id"] for b in inputs if not b.get("optional")] == ["DBInstanceId"]
    sizes = next(b for b in inputs if b["block_id"] == "PageSize")["element"]["options"]
    assert [o["value"] for o in sizes] == ["30", "50", "100"]
    refusals = [
        ({"DBInstanceId": MARIADB_WEB}, "DBInstanceId", "MariaDB"),
        ({"DBInstanceId": MYSQL_DEV}, "DBInstanceId", "local disks"),
        ({"DBInstanceId": PG_STAGING, "PageSize": "40"}, "PageSize", "not one of"),
        ({"DBInstanceId": PG_STAGING, "StartTime": "2026-13-01"}, "StartTime", "yyyy-MM-ddTHH:mm:ssZ"),
        ({"DBInstanceId": PG_STAGING, "StartTime": "2026-01-02T00:00:00Z", "EndTime": "2026-01-01T00:00:00Z"},
         "EndTime", "after the start"),
        ({"DBInstanceId": PG_STAGING, "StartTime": "2020-01-01T00:00:00Z", "EndTime": "2026-01-01T00:00:00Z"},
         "StartTime", "730 days"),
        ({"DBInstanceId": PG_STAGING, "CrossBackupRegion": "Shanghai"}, "CrossBackupRegion", "cn-shanghai"),
    ]
    for values, field, words in refusals:
        response = stack.driver.submit_view(ALICE, view["id"], values, validate=False)
        assert response.response_action == "errors", f"{values}: {response.text}"
        assert words in response.errors.get(field, ""), f"{values}: {response.errors}"
    assert stack.rds.calls_for(LIST) == []
    response = stack.driver.submit_view(ALICE, view["id"], {"DBInstanceId": PG_STAGING, "PageSize": "50"})
    assert response.response_action == "clear", response.text
    message = stack.slack.wait_for_ephemeral(ALICE, where=lambda e: PG_STAGING in e["text"], timeout=5)
    assert len(_set_ids(message)) == PG_SETS and not _buttons(message, "page_next")
    assert [c.params["PageSize"] for c in stack.rds.calls_for(LIST)] == ["50"]


@pytest.mark.parametrize("size", ["30", "100"])
def test_page_sizes_reach_the_api(stack: Stack, size: str) -> None:
    view = stack.driver.open_modal(ALICE, "backups", channel=OPS_CHANNEL)
    stack.driver.submit_view(ALICE, view["id"], {"DBInstanceId": PG_STAGING, "PageSize": size})
    message = stack.slack.wait_for_ephemeral(ALICE, where=lambda e: PG_STAGING in e["text"], timeout=5)
    assert len(_set_ids(message)) == min(int(size), PG_SETS)
    assert [c.params["PageSize"] for c in stack.rds.calls_for(LIST)] == [size]


def test_next_and_previous_page(stack: Stack) -> None:
    first = _listing(stack, ALICE, PG_STAGING)
    assert "page 1 of 2" in first["text"] and len(_set_ids(first)) == 30
    assert not _buttons(first, "page_prev")
    stack.driver.click(ALICE, channel=OPS_CHANNEL, ts=first["ts"], action_id="page_next")
    second = stack.slack.wait_for(lambda: (lambda e: e if "page 2 of 2" in e["text"] else None)(
        _current(stack, ALICE, first["ts"])), timeout=5)
    assert len(_set_ids(second)) == PG_SETS - 30 and not _buttons(second, "page_next")
    assert not set(_set_ids(second)) & set(_set_ids(first))
    stack.driver.click(ALICE, channel=OPS_CHANNEL, ts=first["ts"], action_id="page_prev")
    again = stack.slack.wait_for(lambda: (lambda e: e if "page 1 of 2" in e["text"] else None)(
        _current(stack, ALICE, first["ts"])), timeout=5)
    assert _set_ids(again) == _set_ids(first)
    assert [c.params["PageNumber"] for c in stack.rds.calls_for(LIST)] == ["1", "2", "1"]
    assert len([e for e in audit_rows(stack) if e.event == "listed"]) == 3, "every page is audited"


TAMPERED = [
    ("not a pointer", "x" * 40, "not one of mine"),
    ("page zero", "{instance}|{start}|{end}||30|0", "page does not exist"),
    ("page size the API refuses", "{instance}|{start}|{end}||40|1", "not one of"),
    ("page past the end", "{instance}|{start}|{end}||30|99", "InvalidPage.notFound"),
    ("window too wide", "{instance}|2020-01-01T00:00:00Z|{end}||30|1", "730 days"),
    ("unsupported instance", f"{MARIADB_WEB}|{{start}}|{{end}}||30|1", "MariaDB"),
]


def test_tampered_page_buttons_get_a_clear_answer(stack: Stack) -> None:
    first = _listing(stack, ALICE, PG_STAGING)
    [button] = _buttons(first, "page_next")
    instance, start, end = button["value"].split("|")[:3]
    store = stack.slack.state.messages
    for name, template, words in TAMPERED:
        blocks = copy.deepcopy(first["blocks"])
        _buttons({"blocks": blocks}, "page_next")[0]["value"] = template.format(instance=instance, start=start, end=end)
        store.replace_ephemeral(OPS_CHANNEL, first["ts"], text=first["text"], blocks=blocks, attachments=None)
        seen = len(stack.slack.ephemerals(ALICE))
        clicked = stack.driver.click(ALICE, channel=OPS_CHANNEL, ts=first["ts"], action_id="page_next")
        assert clicked.status == 200, f"{name}: {clicked.text}"
        answer = stack.slack.wait_for(lambda: (stack.slack.ephemerals(ALICE)[seen:] or [None])[-1], timeout=5)
        assert words in answer["text"], f"{name}: {answer['text']}"
        assert "page 2" not in _current(stack, ALICE, first["ts"])["text"], f"{name}: the listing was replaced"
    # Still answering: the untouched button works.
    store.replace_ephemeral(OPS_CHANNEL, first["ts"], text=first["text"], blocks=first["blocks"], attachments=None)
    stack.driver.click(ALICE, channel=OPS_CHANNEL, ts=first["ts"], action_id="page_next")
    stack.slack.wait_for(lambda: "page 2 of 2" in _current(stack, ALICE, first["ts"])["text"] or None, timeout=5)


def test_restore_from_this_opens_the_restore_modal_with_the_set(stack: Stack) -> None:
    first = _listing(stack, ALICE, PG_STAGING)
    chosen = _buttons(first, "restore_from_backup")[1]["value"]
    stack.driver.click(ALICE, channel=OPS_CHANNEL, ts=first["ts"], action_id="restore_from_backup", value=chosen)
    view = stack.slack.wait_for_view(ALICE, callback_id="rds_restore", timeout=5)
    initial = {b["block_id"]: b["element"] for b in view["blocks"] if b.get("type") == "input"}
    assert initial["DBInstanceId"]["initial_option"]["value"] == PG_STAGING
    assert initial["RestoreType"]["initial_option"]["value"] == "0"
    assert initial["BackupId"]["initial_option"]["value"] == chosen
    response = stack.driver.submit_view(ALICE, view["id"], {"TableMetaLines": "analytics -> analytics_fix",
                                                            "reason": "bad migration"})
    assert not response.errors, response.errors
    card, request_id = card_and_id(stack)
    request = stack.requests.get(request_id)
    assert request is not None and request.params["BackupId"] == chosen and request.params["RestoreType"] == "0"
    assert card["ts"] in {m["ts"] for m in stack.slack.messages(APPROVALS_CHANNEL)}
