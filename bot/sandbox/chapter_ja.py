"""The sandbox's chapter in Japanese: Kenji, an engineer in Tokyo whose Slack is set to 日本語.

He is added to the demo's world only (the emulators' seed and the copied policy), so
no test's world changes. Everything he reads comes back in Japanese because Slack's
``users.info`` says ``ja-JP``; the approvals channel stays in its own language.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.sandbox.slack import OPS_CHANNEL
from bot.sandbox.slack.workspace import Workspace

if TYPE_CHECKING:
    from bot.sandbox.demo import Story

KENJI = "U0KENJI"
NAME = "Kenji (engineer, Tokyo)"
PROD = "rm-bp1mysqlprod0001"


def with_kenji(world: Workspace) -> Workspace:
    """The world plus Kenji: Asia/Tokyo, Slack in Japanese."""
    template = next(u for u in world.users if not u.is_bot)
    world = world.with_user(dataclasses.replace(template, id=KENJI, name="kenji", real_name="Kenji Sato",
                                                display_name="kenji", email="kenji@example.com",
                                                tz="Asia/Tokyo", locale="ja-JP", is_admin=False))
    ops = world.channel(OPS_CHANNEL)
    return world.with_channel(dataclasses.replace(ops, members=(*ops.members, KENJI))) if ops else world


def grant(policy_dir: Path) -> None:
    """Kenji is an engineer, like Alice (one ``g`` line in the demo's private copy of the policy)."""
    with (policy_dir / "policy.csv").open("a", encoding="utf-8") as out:
        out.write(f"\ng, {KENJI}, role:engineer\n")


def play(story: Story) -> bool:
    """Kenji opens a clone form (Japanese), dry-runs it (a Japanese answer), and is refused a production
    backup (a Japanese deny with the rule that decided). Succeeds when all three came back in Japanese."""
    say, driver = story.say, story.driver
    say(NAME, f"/rds clone {PROD}   (Slack set to 日本語, time zone Asia/Tokyo)")
    view = driver.open_modal(KENJI, f"clone {PROD}", channel=OPS_CHANNEL)
    labels = [b["label"]["text"] for b in view.get("blocks", []) if b.get("type") == "input"][:4]
    say("rdsbot (modal)", f"{view['title']['text']}: " + " · ".join(labels))
    backup = (driver.suggest(KENJI, view["id"], "BackupId", "").options or [{}])[0]
    say(NAME, "picks the newest backup set, ticks the dry-run box and submits")
    answer = driver.submit_view(KENJI, view["id"], {"DBInstanceId": PROD, "BackupId": backup.get("value"),
                                                    "PayType": "Postpaid", "reason": "障害調査のため",
                                                    "dry_run": ["yes"]}, validate=False)
    dry_run = _first_section(answer.json)
    say("rdsbot (modal)", dry_run)
    say(NAME, f"/rds backup {PROD}   (engineers may back up only what is not production)")
    form = driver.open_modal(KENJI, f"backup {PROD}", channel=OPS_CHANNEL)
    refused = driver.submit_view(KENJI, form["id"], {"DBInstanceId": PROD}, validate=False)
    deny = "\n".join((refused.errors or {}).values()) or _first_section(refused.json)
    if not deny:
        deny = story.slack.wait_for_ephemeral(KENJI, timeout=10).get("text", "")
    say("rdsbot → Kenji", deny)
    return all(_japanese(text) for text in (view["title"]["text"], dry_run, deny))


def _first_section(payload: Any) -> str:
    view = (payload or {}).get("view") or {}
    texts = [b["text"]["text"] for b in view.get("blocks", []) if b.get("type") == "section"]
    return "\n".join(texts)


def _japanese(text: str) -> bool:
    """Has kana: Japanese, not Chinese or English."""
    return any("\u3040" <= ch <= "\u30ff" for ch in text)
