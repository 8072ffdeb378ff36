"""`rdsbot sandbox`: the whole flow offline, narrated in the terminal.

Starts the RDS and Slack emulators with seeded data, the bot on SQLite, and
plays a short story through real signed Slack requests: an engineer asks for
a clone, an intern and the requester try to approve (and are refused), a DBA
approves, and the clone's progress arrives in the thread until the new
instance is Running. Every line printed is read back from the Slack emulator,
so what you see is what Slack would show.
"""

from __future__ import annotations

import logging
import re
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bot.sandbox.rds import Timings
from bot.sandbox.slack import ALICE, APPROVALS_CHANNEL, BOB, DAVE, OPS_CHANNEL
from bot.sandbox.stack import Stack, copy_policies, start_bot, start_emulators

SOURCE = "rm-bp1mysqlprod0001"
NAMES = {ALICE: "Alice (engineer)", BOB: "Bob (DBA)", DAVE: "Dave (intern)"}
FINAL = "rdsbot_request_final"


class Narrator:
    """Prints timestamped lines; Slack markup is turned into plain terminal text."""

    def __init__(self, out: Any = sys.stdout) -> None:
        self.out = out
        self.start = time.monotonic()

    def say(self, who: str, text: str) -> None:
        stamp = f"{time.monotonic() - self.start:6.1f}s"
        lines = _plain(text).splitlines() or [""]
        self.out.write(f"{stamp}  {who:<18} {lines[0]}\n")
        for line in lines[1:]:
            self.out.write(f"{'':>7}  {'':<18} {line}\n")
        self.out.flush()


def _plain(text: str) -> str:
    """Slack mrkdwn to terminal text; code spans (ARNs, rules) are left untouched."""
    parts = text.split("`")
    for i in range(0, len(parts), 2):
        part = re.sub(r"<@(\w+)>", lambda m: "@" + NAMES.get(m.group(1), m.group(1)).split(" ")[0], parts[i])
        part = re.sub(r"<#(\w+)>", lambda m: "#rds-approvals" if m.group(1) == APPROVALS_CHANNEL else "#" + m.group(1), part)
        part = re.sub(r":[a-z_]+: ?", "", part)
        parts[i] = part.replace("*", "")
    return "".join(parts).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _card_text(message: dict[str, Any]) -> str:
    parts = []
    for block in message.get("blocks", []):
        if block.get("type") == "header":
            parts.append(block["text"]["text"])
        elif block.get("type") == "section" and "text" in block:
            parts.append(block["text"]["text"])
        elif block.get("type") == "section":
            parts.append(" · ".join(f["text"].replace("\n", ": ") for f in block.get("fields", [])))
        elif block.get("type") == "context":
            parts.append(" · ".join(e.get("text", "") for e in block.get("elements", [])))
        elif block.get("type") == "actions":
            parts.append("[" + "] [".join(e["text"]["text"] for e in block.get("elements", [])) + "]")
    return "\n".join(parts)


def run_demo(*, keep_running: bool = False, job_seconds: float = 6.0) -> int:
    logging.basicConfig(level=logging.ERROR)
    workdir = Path(tempfile.mkdtemp(prefix="rdsbot-sandbox-"))
    database_url = f"sqlite:///{workdir / 'rdsbot.db'}"
    say = Narrator().say
    say("sandbox", "starting the RDS emulator, the Slack emulator and the bot (SQLite)...")
    emulators = start_emulators(timings=Timings(clone_s=job_seconds, copy_s=job_seconds, backup_s=job_seconds,
                                                restore_s=job_seconds))
    policy_dir = copy_policies(workdir / "policies")
    stack = start_bot(emulators, database_url=database_url, policy_dir=policy_dir,
                      overrides={"RDSBOT_POLL_INTERVAL_S": "1", "RDSBOT_LOG_FORMAT": "text", "RDSBOT_LOG_LEVEL": "ERROR"})
    say("sandbox", f"bot on {stack.bot_url.rsplit('/slack', 1)[0]} · RDS emulator on {emulators.rds.endpoint} · "
                   f"Slack emulator on {emulators.slack.api_url}")
    try:
        code = _story(stack, say)
        say("sandbox", f"database: {database_url}")
        say("sandbox", f"try: RDSBOT_DATABASE_URL={database_url} rdsbot audit export")
        if keep_running:
            say("sandbox", "still running (Ctrl-C to stop)")
            threading.Event().wait()
        return code
    except KeyboardInterrupt:
        return 0
    finally:
        stack.stop()


def _story(stack: Stack, say: Any) -> int:
    driver, slack = stack.driver, stack.slack
    say(NAMES[ALICE], f"/rds clone {SOURCE}   (in #ops)")
    started = time.monotonic()
    view = driver.open_modal(ALICE, f"clone {SOURCE}", channel=OPS_CHANNEL)
    say("Slack", f"the form \"{view['title']['text']}\" opened in {time.monotonic() - started:.2f}s "
                 f"with {sum(1 for b in view['blocks'] if b.get('type') == 'input')} fields")
    backups = driver.suggest(ALICE, view["id"], "BackupId", "").options or []
    if not backups:
        say("sandbox", "the emulator offered no backup sets; giving up")
        return 1
    backup = backups[0]
    say(NAMES[ALICE], f"picks backup set {backup['text']['text']}, billing Postpaid, reason \"INC-4211: verify restore\"")
    response = driver.submit_view(ALICE, view["id"], {"DBInstanceId": SOURCE, "BackupId": backup["value"],
                                                      "PayType": "Postpaid", "reason": "INC-4211: verify restore"})
    if response.errors:
        say("rdsbot", f"field errors: {response.errors}")
        return 1
    say("rdsbot → Alice", _modal_text(response.json))
    card = slack.wait_for_message(APPROVALS_CHANNEL, timeout=10)
    say("#rds-approvals", _card_text(card))
    for who in (DAVE, ALICE):
        driver.click(who, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")
        note = slack.wait_for_ephemeral(who, timeout=10)
        say(f"rdsbot → {NAMES[who].split(' ')[0]}", note.get("text", ""))
    say(NAMES[BOB], "clicks Approve")
    driver.click(BOB, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")
    shown: set[str] = set()
    deadline = time.monotonic() + 120
    final = None
    while final is None and time.monotonic() < deadline:
        for message in slack.thread(APPROVALS_CHANNEL, card["ts"])[1:]:
            if message["ts"] in shown:
                continue
            shown.add(message["ts"])
            say("thread", message.get("text", ""))
            if (message.get("metadata") or {}).get("event_type") == FINAL:
                final = message
        time.sleep(0.2)
    if final is None:
        say("sandbox", "no final reply within two minutes")
        return 1
    dm = slack.wait_for_message(f"D{ALICE[1:]}", timeout=10)
    say("rdsbot → Alice (DM)", dm.get("text", ""))
    with stack.runtime.db.session() as session:
        from bot.store import audit

        result = audit.verify(session)
    say("audit", f"{result.count} events, chain {'intact' if result.ok else 'BROKEN'} (rdsbot audit verify)")
    return 0 if final["metadata"]["event_payload"]["state"] == "succeeded" and result.ok else 1


def _modal_text(payload: Any) -> str:
    view = (payload or {}).get("view") or {}
    texts = [b["text"]["text"] for b in view.get("blocks", []) if b.get("type") == "section"]
    return "\n".join(texts) or str(payload)
