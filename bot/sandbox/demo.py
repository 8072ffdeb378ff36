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

from bot.sandbox import chapter_ja
from bot.sandbox.rds import Timings
from bot.sandbox.rds.clock import Clock
from bot.sandbox.slack import ALICE, APPROVALS_CHANNEL, BOB, CAROL, DAVE, ERIN, OPS_CHANNEL
from bot.sandbox.stack import Stack, copy_policies, start_bot, start_emulators

SOURCE = "rm-bp1mysqlprod0001"
DEV_MYSQL = "rm-bp1mysqldev00002"
SQL_PROD = "rm-bp1mssqlprod0004"
SQL_QA = "rm-bp1mssqlqa000005"
PG_STAGING = "rm-bp1pgstaging0003"
DR_MYSQL = "rm-uf6mysqldr000014"  # in cn-shanghai, the world's second region
REGIONS = "cn-hangzhou,cn-shanghai"
NAMES = {ALICE: "Alice (engineer)", BOB: "Bob (DBA)", CAROL: "Carol (DBA)", DAVE: "Dave (intern)",
         ERIN: "Erin (on-call)", chapter_ja.KENJI: chapter_ja.NAME}
CHAPTERS = ["dryrun", "clone", "backup", "copy", "restore", "guardrail", "breakglass", "remind", "regions", "japanese"]
FINAL = "rdsbot_request_final"


class Narrator:
    """Prints timestamped lines; Slack markup is turned into plain terminal text."""

    def __init__(self, out: Any = None) -> None:
        self.out = out or sys.stdout  # looked up now, not at import: whoever redirected stdout gets the story
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


def run_demo(*, keep_running: bool = False, job_seconds: float = 6.0, chapters: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.ERROR)
    workdir = Path(tempfile.mkdtemp(prefix="rdsbot-sandbox-"))
    database_url = f"sqlite:///{workdir / 'rdsbot.db'}"
    say = Narrator().say
    say("sandbox", "starting the RDS emulator, the Slack emulator and the bot (SQLite)...")
    stack = start_world(workdir, job_seconds=job_seconds)
    emulators = stack.emulators
    say("sandbox", f"bot on {stack.bot_url.rsplit('/slack', 1)[0]} · RDS emulator on {emulators.rds.endpoint} · "
                   f"Slack emulator on {emulators.slack.api_url}")
    try:
        code = Story(stack, say).run(chapters or CHAPTERS)
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


def start_world(workdir: Path, *, job_seconds: float, clock: Clock | None = None) -> Stack:
    """The sandbox's world, shared by the terminal demo and the playground: the emulators (two regions,
    Kenji added), a private copy of the packaged policy, the bot on SQLite in ``workdir``.
    ``clock`` drives the RDS emulator's jobs (the playground moves it)."""
    emulators = start_emulators(timings=Timings(clone_s=job_seconds, copy_s=job_seconds, backup_s=job_seconds,
                                                restore_s=job_seconds), clock=clock)
    emulators.slack.reset(seed=chapter_ja.with_kenji(emulators.slack.workspace))
    policy_dir = copy_policies(workdir / "policies")
    chapter_ja.grant(policy_dir)
    return start_bot(emulators, database_url=f"sqlite:///{workdir / 'rdsbot.db'}", policy_dir=policy_dir,
                     overrides={"RDSBOT_POLL_INTERVAL_S": "1", "RDSBOT_LOG_FORMAT": "text", "RDSBOT_LOG_LEVEL": "ERROR",
                                "RDSBOT_REGIONS": REGIONS})


class Story:
    """The demo's chapters; each returns True when its job ended as expected."""

    def __init__(self, stack: Stack, say: Any) -> None:
        self.stack = stack
        self.say = say
        self.driver = stack.driver
        self.slack = stack.slack

    def run(self, chapters: list[str]) -> int:
        results = {}
        for name in chapters:
            self.say("", "")
            self.say("─" * 18, name.upper())
            results[name] = getattr(self, name)()
        with self.stack.runtime.db.session() as session:
            from bot.store import audit

            verified = audit.verify(session)
        self.say("", "")
        self.say("audit", f"{verified.count} events, chain {'intact' if verified.ok else 'BROKEN'} (rdsbot audit verify)")
        if verified.ok:
            self.say("audit", f"anchor {verified.anchor}  (kept elsewhere, `rdsbot audit verify --anchor` "
                              "later catches a cut or rewritten trail)")
        for name, ok in results.items():
            self.say("result", f"{name}: {'ok' if ok else 'NOT as expected'}")
        return 0 if all(results.values()) and verified.ok else 1

    # ------------------------------------------------------------ helpers
    def submit(self, who: str, command: str, values: dict[str, Any], *, channel: str = OPS_CHANNEL) -> bool:
        self.say(NAMES[who], f"/rds {command}   (in #{'ops' if channel == OPS_CHANNEL else channel})")
        view = self.driver.open_modal(who, command, channel=channel)
        shown = ", ".join(f"{k}={v}" for k, v in values.items() if k != "reason")
        self.say(NAMES[who], f"fills the form: {shown}")
        response = self.driver.submit_view(who, view["id"], values)
        if response.errors:
            self.say("rdsbot (modal)", f"field errors: {response.errors}")
            return False
        self.say(f"rdsbot → {_first(who)}", _modal_text(response.json))
        return True

    def follow(self, channel: str, ts: str, timeout: float = 120) -> dict[str, Any] | None:
        """Print the thread as it grows (edits of a reply included) until the final reply."""
        seen: dict[str, str] = {}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.slack.thread(channel, ts)[1:]:
                text = message.get("text", "")
                if seen.get(message["ts"]) == text:
                    continue
                edited = message["ts"] in seen
                seen[message["ts"]] = text
                self.say("thread (edited)" if edited else "thread", text)
                if (message.get("metadata") or {}).get("event_type") == FINAL:
                    return message
            time.sleep(0.2)
        self.say("sandbox", "no final reply in time")
        return None

    def approve(self, *approvers: str) -> dict[str, Any] | None:
        card = self.slack.wait_for_message(APPROVALS_CHANNEL, timeout=10,
                                           where=lambda m: any(b.get("type") == "actions" for b in m.get("blocks", [])))
        self.say("#rds-approvals", _card_text(card))
        for approver in approvers[:-1]:
            self.say(NAMES[approver], "clicks Approve")
            before = len(self.slack.ephemerals(approver))
            self.driver.click(approver, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")
            self.slack.wait_for(lambda who=approver, n=before: len(self.slack.ephemerals(who)) > n, 10)
            self.say(f"rdsbot → {_first(approver)}", self.slack.ephemerals(approver)[-1].get("text", ""))
        self.say(NAMES[approvers[-1]], "clicks Approve")
        self.driver.click(approvers[-1], channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")
        return self.follow(APPROVALS_CHANNEL, card["ts"])

    @staticmethod
    def succeeded(final: dict[str, Any] | None) -> bool:
        return final is not None and final["metadata"]["event_payload"]["state"] == "succeeded"

    def clone_form(self, user: str, reason: str, **ticked: list[str]) -> Any:
        """Open the production clone's modal, pick its newest backup set, submit with ``ticked`` boxes;
        the response, or None (said) when the form came back with errors."""
        view = self.driver.open_modal(user, f"clone {SOURCE}", channel=OPS_CHANNEL)
        backup = (self.driver.suggest(user, view["id"], "BackupId", "").options or [{}])[0]
        response = self.driver.submit_view(user, view["id"], {
            "DBInstanceId": SOURCE, "BackupId": backup.get("value"), "PayType": "Postpaid", "reason": reason,
            **ticked}, validate=False)
        if response.errors:
            self.say("rdsbot (modal)", f"field errors: {response.errors}")
            return None
        return response

    # ----------------------------------------------------------- chapters
    def dryrun(self) -> bool:
        """Alice asks what a production clone would do, without asking for it: nothing is sent or left pending."""
        self.say(NAMES[ALICE], f"/rds clone {SOURCE}, ticks \"Dry run\"")
        response = self.clone_form(ALICE, "INC-4211: verify restore", dry_run=["yes"])
        if response is None:
            return False
        self.say("rdsbot (modal)", _modal_text(response.json))
        self.stack.drain()
        sent = [c for c in self.stack.rds.calls if c.action == "CloneDBInstance"]
        return not sent and not self.stack.requests.recent(ALICE)

    def clone(self) -> bool:
        view = self.driver.open_modal(ALICE, f"clone {SOURCE}", channel=OPS_CHANNEL)
        backup = (self.driver.suggest(ALICE, view["id"], "BackupId", "").options or [{}])[0]
        ok = self.submit(ALICE, f"clone {SOURCE}", {"DBInstanceId": SOURCE, "BackupId": backup.get("value"),
                                                     "PayType": "Postpaid", "reason": "INC-4211: verify restore"})
        if not ok:
            return False
        card = self.slack.wait_for_message(APPROVALS_CHANNEL, timeout=10)
        for who in (DAVE, ALICE):
            self.driver.click(who, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")
            note = self.slack.wait_for_ephemeral(who, timeout=10)
            self.say(f"{_first(who)} clicks Approve", "")
            self.say(f"rdsbot → {_first(who)}", note.get("text", ""))
        final = self.approve(BOB, CAROL)  # a production clone needs two DBAs (approvals.toml)
        dm = self.slack.wait_for_message(f"D{ALICE[1:]}", timeout=10)
        self.say("rdsbot → Alice (DM)", dm.get("text", ""))
        return self.succeeded(final)

    def backup(self) -> bool:
        if not self.submit(ERIN, f"backup {DEV_MYSQL}", {"DBInstanceId": DEV_MYSQL}):
            return False
        anchor = self.slack.wait_for_message(OPS_CHANNEL, timeout=10, where=lambda m: "backup-" in m.get("text", ""))
        self.say("#ops", _card_text(anchor))
        return self.succeeded(self.follow(OPS_CHANNEL, anchor["ts"]))

    def copy(self) -> bool:
        view = self.driver.open_modal(BOB, f"copy {SQL_PROD}", channel=OPS_CHANNEL)
        backup = (self.driver.suggest(BOB, view["id"], "BackupId", "").options or [{}])[0]
        values = {"DBInstanceId": SQL_PROD, "TargetDBInstanceId": SQL_QA, "DbNames": ["erp", "hr"],
                  "TargetDbNames": "erp -> erp_copy", "BackupId": backup.get("value"),
                  "reason": "refresh QA from last night's backup"}
        self.say(NAMES[ALICE], "/rds copy rm-bp1mysqlprod0001   (a MySQL instance, to see the refusal)")
        refused = self.driver.open_modal(ALICE, "copy rm-bp1mysqlprod0001", channel=OPS_CHANNEL)
        answer = self.driver.submit_view(ALICE, refused["id"], {"DBInstanceId": "rm-bp1mysqlprod0001",
                                                                "TargetDBInstanceId": SQL_QA, "DbNames": ["erp"],
                                                                "BackupId": "1", "reason": "x"}, validate=False)
        self.say("rdsbot (modal)", (answer.errors or {}).get("DBInstanceId", str(answer.errors)))
        if not self.submit(BOB, f"copy {SQL_PROD}", values):
            return False
        return self.succeeded(self.approve(CAROL))

    def restore(self) -> bool:
        self.say(NAMES[ALICE], f"/rds backups {PG_STAGING}")
        self.driver.slash_command(ALICE, f"backups {PG_STAGING}", channel=OPS_CHANNEL)
        listing = self.slack.wait_for_ephemeral(ALICE, timeout=10, where=lambda m: "Cross-region" in m.get("text", "")
                                                or "cross-region" in m.get("text", ""))
        self.say("rdsbot → Alice", _card_text(listing))
        usable = [b for b in listing.get("blocks", []) if b.get("accessory")]
        if not usable:
            return False
        set_id = usable[0]["accessory"]["value"]
        self.say(NAMES[ALICE], f"clicks \"Restore from this\" on set {set_id}")
        self.driver.click(ALICE, channel=OPS_CHANNEL, ts=listing["ts"], action_id="restore_from_backup", value=set_id)
        view = self.slack.wait_for_view(ALICE, callback_id="rds_restore", timeout=10)
        databases = [d.name for d in self.stack.runtime.directory.databases(PG_STAGING)]
        lines = f"{databases[0]} -> {databases[0]}_restored"
        values = {"DBInstanceId": PG_STAGING, "RestoreType": "0", "BackupId": set_id, "TableMetaLines": lines,
                  "reason": "recover yesterday's dropped rows"}
        self.say(NAMES[ALICE], f"restores {lines} (the form came prefilled with the set)")
        response = self.driver.submit_view(ALICE, view["id"], values)
        if response.errors:
            self.say("rdsbot (modal)", f"field errors: {response.errors}")
            return False
        self.say("rdsbot → Alice", _modal_text(response.json))
        return self.succeeded(self.approve(BOB))

    def guardrail(self) -> bool:
        """Alice may restore into dev without approval; pulling production data there is refused."""
        self.say(NAMES[ALICE], f"/rds restore {DEV_MYSQL}  (a point-in-time restore, source: {SOURCE})")
        restores_before = len(self.stack.rds.calls_for("RestoreDdrTable"))
        view = self.driver.open_modal(ALICE, f"restore {DEV_MYSQL}", channel=OPS_CHANNEL)
        moment = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600))
        values = {"RestoreType": "1", "RestoreTime": moment, "SourceRegion": "cn-hangzhou",
                  "SourceDBInstanceName": SOURCE, "TableMetaLines": "payments -> payments_copy",
                  "reason": "debug a payments bug with real data"}
        response = self.driver.submit_view(ALICE, view["id"], values, validate=False)
        if response.errors:
            self.say("rdsbot (modal)", f"field errors: {response.errors}")
            return False
        self.say("rdsbot (modal)", _modal_text(response.json))
        note = self.slack.wait_for_ephemeral(ALICE, timeout=10, where=lambda m: SOURCE in m.get("text", ""))
        self.say("rdsbot → Alice", note.get("text", ""))
        # Refused, and nothing reached RDS: that is the chapter's success.
        return len(self.stack.rds.calls_for("RestoreDdrTable")) == restores_before

    def breakglass(self) -> bool:
        """Bob (a DBA, on call) clones production in an emergency: no approval, a marked card, a review owed."""
        self.say(NAMES[BOB], f"/rds clone {SOURCE}, ticks \"Break glass\" (the incident cannot wait)")
        if self.clone_form(BOB, "INC-4300: payments down, need the data now", break_glass=["yes"]) is None:
            return False
        card = self.slack.wait_for_message(APPROVALS_CHANNEL, timeout=10, where=lambda m: "INC-4300" in str(m))
        final = self.follow(APPROVALS_CHANNEL, card["ts"])
        card = self.slack.wait_for_message(APPROVALS_CHANNEL, timeout=10, where=lambda m: m.get("ts") == card["ts"])
        self.say("#rds-approvals", _card_text(card))
        self.say(NAMES[CAROL], "clicks Review")
        self.driver.click(CAROL, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="review")
        self.stack.drain()
        reviewed = [r for r in self.stack.requests.recent(BOB) if r.break_glass]
        self.say("audit", f"reviewed by {NAMES.get(reviewed[0].reviewed_by or '', '(nobody yet)')}"
                 if reviewed else "no break-glass request found")
        return self.succeeded(final) and bool(reviewed) and reviewed[0].reviewed_by == CAROL

    def regions(self) -> bool:
        """Two regions (RDSBOT_REGIONS): the picker searches both and says where each instance is; the
        Shanghai instance is cloned, and its clone polled, in Shanghai."""
        self.say(NAMES[ALICE], "/rds clone, types \"payments\" in the instance picker")
        view = self.driver.open_modal(ALICE, "clone", channel=OPS_CHANNEL)
        offered = self.driver.suggest(ALICE, view["id"], "DBInstanceId", "payments").options or []
        for option in offered:
            self.say("picker", option["text"]["text"])
        if not any(o.get("value") == DR_MYSQL for o in offered):
            return False
        chosen = self.driver.open_modal(ALICE, f"clone {DR_MYSQL}", channel=OPS_CHANNEL)
        backup = (self.driver.suggest(ALICE, chosen["id"], "BackupId", "").options or [{}])[0]
        if not self.submit(ALICE, f"clone {DR_MYSQL}", {"DBInstanceId": DR_MYSQL, "BackupId": backup.get("value"),
                                                        "PayType": "Postpaid", "reason": "DR drill: a Shanghai copy"}):
            return False
        final = self.approve(BOB)
        sent = [c for c in self.stack.rds.calls_for("CloneDBInstance") if c.status == 200]
        region = sent[-1].params.get("RegionId") if sent else None
        self.say("RDS", f"CloneDBInstance reached RDS with RegionId={region}")
        return self.succeeded(final) and region == "cn-shanghai"

    def japanese(self) -> bool:
        """Kenji reads the bot in Japanese (his Slack locale): the form, a dry run, a deny."""
        return chapter_ja.play(self)

    def remind(self) -> bool:
        self.say(NAMES[ERIN], f"/rds remind {DEV_MYSQL} in 2 seconds")
        self.driver.slash_command(ERIN, f"remind {DEV_MYSQL} in 2 seconds", channel=OPS_CHANNEL)
        self.say("rdsbot → Erin", self.slack.wait_for_ephemeral(ERIN, timeout=10,
                                                               where=lambda m: "Reminder" in m.get("text", "")).get("text", ""))
        post = self.slack.wait_for_message(OPS_CHANNEL, timeout=15, where=lambda m: "Backup reminder" in m.get("text", ""))
        self.say("#ops", _card_text(post))
        self.say(NAMES[ERIN], "clicks Back up now")
        self.driver.click(ERIN, channel=OPS_CHANNEL, ts=post["ts"], action_id="backup_now")
        return self.succeeded(self.follow(OPS_CHANNEL, post["ts"]))


def _first(user: str) -> str:
    return NAMES[user].split(" ")[0]


def _modal_text(payload: Any) -> str:
    view = (payload or {}).get("view") or {}
    texts = [b["text"]["text"] for b in view.get("blocks", []) if b.get("type") == "section"]
    return "\n".join(texts) or str(payload)
