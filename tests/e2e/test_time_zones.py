"""Time zones end to end: a person picks their own wall-clock time, RDS gets the UTC it means.

Alice's Slack zone is Asia/Shanghai (UTC+8, no daylight saving). She picks
10:00 on her clock for a point-in-time clone: the modal says which UTC value RDS
will get, the card shows the time for each reader (``<!date^…>``), and the
CloneDBInstance call carries 02:00:00Z of that day.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.sandbox.slack import ALICE, APPROVALS_CHANNEL, OPS_CHANNEL
from bot.sandbox.stack import Stack
from bot.slack.ids import Block
from tests.e2e.flows import PROD_MYSQL, approval_message, approve_fully, final_reply

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _block(stack: Stack, view_id: str, block_id: str) -> dict[str, Any] | None:
    view = stack.slack.current_view(view_id) or {}
    return next((b for b in view.get("blocks", []) if b.get("block_id") == block_id), None)


def test_ten_local_in_shanghai_reaches_rds_as_two_utc(stack: Stack) -> None:
    day = (datetime.now(UTC).astimezone(SHANGHAI) - timedelta(days=1)).date()  # yesterday: past, inside retention
    wall_clock = datetime(day.year, day.month, day.day, 10, 0)  # no zone: what Alice sees on the picker
    sent = f"{day.isoformat()}T02:00:00Z"
    epoch = int(datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC).timestamp())

    view = stack.driver.open_modal(ALICE, f"clone {PROD_MYSQL}", channel=OPS_CHANNEL)
    picker = next(b for b in view["blocks"] if b.get("block_id") == "RestoreTime")
    assert picker["element"]["type"] == "datetimepicker" and picker["dispatch_action"] is True
    assert "UTC" not in picker["label"]["text"]
    # The source panel lands first (its views.update), then Alice picks the time.
    stack.slack.wait_for(lambda: _block(stack, view["id"], Block.SOURCE_INFO), timeout=5, what="the source panel")
    picked = stack.driver.select_in_view(ALICE, view["id"], "RestoreTime", wall_clock)
    assert picked is not None and picked.ok, "a picker with dispatch_action tells the bot"
    assert picked.payload["actions"][0]["selected_date_time"] == epoch

    info = stack.slack.wait_for(lambda: _block(stack, view["id"], Block.time_info("RestoreTime")), timeout=5,
                                what="the UTC line under the picker")
    line = info["elements"][0]["text"]
    assert f"{day.isoformat()} 10:00 (Asia/Shanghai, UTC+8) → RDS receives {sent}" in line, line
    blocks = [b.get("block_id") for b in stack.slack.current_view(view["id"])["blocks"]]
    assert blocks.index(Block.time_info("RestoreTime")) == blocks.index("RestoreTime") + 1
    assert Block.SOURCE_INFO in blocks, "the time line keeps the source panel"

    submitted = stack.driver.submit_view(ALICE, view["id"], {"DBInstanceId": PROD_MYSQL, "PayType": "Postpaid",
                                                             "reason": "INC-4211: the 10:00 state"})
    assert submitted.ok and not submitted.errors, submitted.text
    card = approval_message(stack)
    assert f"<!date^{epoch}^" in json.dumps(card["blocks"]), "the card shows the time in each reader's zone"
    assert sent in json.dumps(card["blocks"]), "... next to the exact value RDS gets"
    approve_fully(stack, card)

    final = final_reply(stack, APPROVALS_CHANNEL, card["ts"])
    clones = [c for c in stack.rds.calls_for("CloneDBInstance") if c.status == 200]
    assert len(clones) == 1 and clones[0].params["RestoreTime"] == sent and "BackupId" not in clones[0].params
    assert f"<!date^{epoch}^" in json.dumps(final["blocks"]), final["blocks"]
    decided = stack.slack.message(APPROVALS_CHANNEL, card["ts"])
    assert "<!date^" in json.dumps(decided["blocks"]), "the card's 'Finished …' line"
