"""Process harness and flows for the chaos tests.

A bot runs as ``python -m bot.cli serve`` with the environment contract
(``bot_env``) pointing at in-process emulators; tests kill it (SIGKILL, either
by a crash point or from outside), start another on the same database and
emulators, and count what reached RDS and Slack.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from bot.sandbox.rds import RdsEmulator, Timings
from bot.sandbox.slack import ALICE, APPROVALS_CHANNEL, OPS_CHANNEL, SlackDriver, SlackEmulator
from bot.sandbox.stack import ACCESS_KEY_ID, BOT_TOKEN, Emulators, bot_env, wait_healthy

T = TypeVar("T")

PROD_MYSQL = "rm-bp1mysqlprod0001"  # env=prod: a clone needs two DBAs
DEV_MYSQL = "rm-bp1mysqldev00002"  # env=dev: a clone needs one approver
FINAL = "rdsbot_request_final"
REPLICA_KEY_ID = "sandbox-replica-b-key-id"
REPO = Path(__file__).resolve().parents[2]

# Recovery knobs short enough for tests (the suggestion).
FAST_RECOVERY = {
    "RDSBOT_RESUBMIT_AFTER_S": "2",
    "RDSBOT_OUTBOX_LEASE_S": "2",
    "RDSBOT_POLL_INTERVAL_S": "0.3",
}


# --------------------------------------------------------------------- waiting
def wait_until(predicate: Callable[[], T | None], timeout: float, what: str, interval: float = 0.05) -> T:
    """Poll ``predicate`` until truthy; TimeoutError naming ``what`` (and the last value) otherwise."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.1f}s waiting for {what} (last: {last!r})")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------ emulators
def start_chaos_emulators(timings: Timings, *, replica_secret: str | None = None) -> tuple[Emulators, str]:
    """Both emulators; the RDS one also accepts a second AccessKey so a replica's calls can be told apart."""
    import secrets

    access_key_secret = secrets.token_urlsafe(24)
    signing_secret = secrets.token_hex(16)
    replica_secret = replica_secret or secrets.token_urlsafe(24)
    rds = RdsEmulator(access_key_id=ACCESS_KEY_ID, access_key_secret=access_key_secret, timings=timings,
                      extra_keys={REPLICA_KEY_ID: replica_secret})
    rds.start()
    slack = SlackEmulator(bot_token=BOT_TOKEN, signing_secret=signing_secret, trigger_ttl_s=3.0)
    slack.start()
    return Emulators(rds=rds, slack=slack, access_key_secret=access_key_secret,
                     signing_secret=signing_secret), replica_secret


# -------------------------------------------------------------------- process
@dataclass
class BotProcess:
    """One ``rdsbot serve`` child: its port, its stderr file, its fate."""

    name: str
    port: int
    env: dict[str, str]
    stderr_path: Path
    process: subprocess.Popen[bytes]
    started: float = field(default_factory=time.monotonic)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def events_url(self) -> str:
        return f"{self.base_url}/slack/events"

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_healthy(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited with {self.process.returncode} before it was healthy:\n"
                                   f"{self.tail()}")
            try:
                wait_healthy(self.base_url, timeout_s=0.5)
                return
            except TimeoutError:
                continue
        raise TimeoutError(f"{self.name} never became healthy:\n{self.tail()}")

    def wait_exit(self, timeout_s: float) -> int:
        try:
            return int(self.process.wait(timeout=timeout_s))
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"{self.name} (pid {self.pid}) still runs after {timeout_s}s:\n{self.tail()}") from None

    def kill9(self) -> None:
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """Whatever state it is in, make sure this child is gone (SIGTERM, then SIGKILL)."""
        if self.process.poll() is not None:
            return
        try:
            self.process.terminate()
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        except ProcessLookupError:
            pass

    def log_lines(self) -> list[dict[str, Any]]:
        """The JSON log records this process wrote (non-JSON lines are skipped)."""
        out = []
        try:
            text = self.stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return out
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue
        return out

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no stderr file)"
        return "\n".join(text.splitlines()[-lines:])


class BotLauncher:
    """Starts ``serve`` children for one test and guarantees they are gone afterwards."""

    def __init__(self, emulators: Emulators, *, database_url: str, policy_dir: Path, workdir: Path) -> None:
        self.emulators = emulators
        self.database_url = database_url
        self.policy_dir = policy_dir
        self.workdir = workdir
        self.procs: list[BotProcess] = []

    def env(self, overrides: Mapping[str, str] | None = None, port: int = 0) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RDSBOT_", "SLACK_", "ALIBABA_CLOUD_"))}
        env.update(bot_env(self.emulators, database_url=self.database_url, policy_dir=self.policy_dir, port=port,
                           overrides={**FAST_RECOVERY, **(overrides or {})}))
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def start(self, name: str, overrides: Mapping[str, str] | None = None, *, healthy: bool = True,
              timeout_s: float = 30.0) -> BotProcess:
        port = free_port()
        env = self.env(overrides, port)
        stderr_path = self.workdir / f"{len(self.procs) + 1:02d}-{name}.stderr"
        with open(stderr_path, "wb") as err:
            process = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], env=env, cwd=str(REPO),
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        proc = BotProcess(name=name, port=port, env=env, stderr_path=stderr_path, process=process)
        self.procs.append(proc)
        if healthy:
            proc.wait_healthy(timeout_s)
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            try:
                proc.stop()
            except Exception:  # noqa: BLE001 - teardown must reach every child
                try:
                    proc.process.kill()
                except OSError:
                    pass

    def tails(self) -> str:
        return "\n\n".join(f"----- {p.name} (pid {p.pid}, rc {p.process.poll()}) {p.stderr_path}\n{p.tail()}"
                           for p in self.procs)

    def audit_verify(self) -> subprocess.CompletedProcess[str]:
        """`rdsbot audit verify` with the same environment as `serve`.

        Run in this process through typer's CliRunner (as tests/store/test_audit_cli.py
        does): the command is the same, without a second interpreter and its imports.
        """
        from typer.testing import CliRunner

        from bot.cli import app

        # Only the bot's variables: CliRunner sets them in os.environ for the call and restores it after.
        env = {k: v for k, v in self.env().items() if k.startswith(("RDSBOT_", "SLACK_", "ALIBABA_CLOUD_"))}
        result = CliRunner().invoke(app, ["audit", "verify"], env=env)
        crashed = result.exception if not isinstance(result.exception, (SystemExit, type(None))) else None
        return subprocess.CompletedProcess(["rdsbot", "audit", "verify"], result.exit_code, result.stdout,
                                           result.stderr + (f"\n{crashed!r}" if crashed else ""))


# ---------------------------------------------------------------- database
class Db:
    """Read-only looks at the bot's database from the test process."""

    def __init__(self, url: str) -> None:
        from bot.store.db import Database

        self.db = Database(url)

    def request(self, request_id: str) -> Any:
        from bot.store.models import Request

        with self.db.reader() as session:
            return session.get(Request, request_id)

    def requests(self) -> list[Any]:
        from sqlmodel import select

        from bot.store.models import Request

        with self.db.reader() as session:
            return list(session.exec(select(Request).order_by(Request.created_at)))

    def outbox(self) -> list[Any]:
        from sqlmodel import select

        from bot.store.models import OutboxMessage

        with self.db.reader() as session:
            return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))

    def events(self, request_id: str | None = None) -> list[str]:
        from bot.store import audit

        with self.db.reader() as session:
            return [e.event for e in audit.events(session, request_id=request_id)]

    def verify(self) -> Any:
        from bot.store import audit

        with self.db.reader() as session:
            return audit.verify(session)

    def dispose(self) -> None:
        self.db.dispose()


# ------------------------------------------------------------------- counting
def ok_calls(rds: RdsEmulator, action: str) -> list[Any]:
    return [c for c in rds.calls_for(action) if c.status == 200]


def executed_calls(rds: RdsEmulator, action: str) -> list[Any]:
    """Calls that made RDS do something: answered 200 and not a ClientToken replay."""
    return [c for c in ok_calls(rds, action) if not c.replayed]


def is_final(message: Mapping[str, Any]) -> bool:
    return (message.get("metadata") or {}).get("event_type") == FINAL


def finals(slack: SlackEmulator, channel: str, ts: str) -> list[dict[str, Any]]:
    return [m for m in slack.messages(channel, ts) if is_final(m)]


def bot_posts(slack: SlackEmulator) -> list[Any]:
    return [c for c in slack.calls("chat.postMessage") if c.ok]


def stored_bot_messages(slack: SlackEmulator) -> list[Any]:
    """Every message the bot has in the emulated workspace (all channels, DMs and threads).

    Read from the emulator's store, not from the call journal: a call that Slack
    acted on but answered with an error (a 5xx after posting) is counted too.
    """
    store = slack.state.messages
    with store._lock:  # noqa: SLF001 - a test's read of the emulator's own state
        return [m for channel in store._channels.values() for m in channel.values()  # noqa: SLF001
                if m.bot_id and not m.deleted]


def duplicate_posts(slack: SlackEmulator) -> dict[str, int]:
    """Outbox messages that exist more than once in Slack.

    Every bot post carries metadata naming its request and its outbox key (the
    final reply: its request and end state), so two different progress replies
    are never mistaken for one message posted twice.
    """
    seen: Counter[str] = Counter()
    for message in stored_bot_messages(slack):
        meta = message.metadata or {}
        if not meta:
            continue
        payload = meta.get("event_payload") or {}
        identity = json.dumps([meta.get("event_type"), payload, message.channel, message.thread_ts if
                               message.thread_ts != message.ts else None], sort_keys=True, default=str)
        seen[identity] += 1
    return {k: n for k, n in seen.items() if n > 1}


def new_instances(rds: RdsEmulator, before: Iterable[str]) -> list[str]:
    known = set(before)
    return [i.id for i in rds.instances() if i.id not in known]


# ---------------------------------------------------------------------- flows
def first_backup(driver: SlackDriver, user: str, view_id: str) -> str:
    response = driver.suggest(user, view_id, "BackupId", "")
    options = response.options or []
    assert options, f"no backup options offered: {response.text}"
    return str(options[0]["value"])


def request_clone(driver: SlackDriver, *, user: str = ALICE, instance: str = DEV_MYSQL,
                  channel: str = OPS_CHANNEL) -> Any:
    view = driver.open_modal(user, f"clone {instance}", channel=channel, timeout=10)
    form = {"DBInstanceId": instance, "PayType": "Postpaid", "reason": "chaos test INC-4211",
            "BackupId": first_backup(driver, user, view["id"])}
    submitted = driver.submit_view(user, view["id"], form)
    assert submitted.status == 200 and not submitted.errors, submitted.text
    return submitted


def request_backup(driver: SlackDriver, *, user: str, instance: str, channel: str = OPS_CHANNEL) -> Any:
    view = driver.open_modal(user, f"backup {instance}", channel=channel, timeout=10)
    submitted = driver.submit_view(user, view["id"], {"DBInstanceId": instance}, validate=False)
    assert submitted.status == 200 and not submitted.errors, submitted.text
    return submitted


def request_id_of(message: Mapping[str, Any]) -> str:
    return str(((message.get("metadata") or {}).get("event_payload") or {}).get("request_id"))


def approval_card(slack: SlackEmulator, *, exclude: Iterable[str] = (), timeout: float = 15.0) -> dict[str, Any]:
    """The newest approval card in the approvals channel not in ``exclude`` (request ids)."""
    skip = set(exclude)

    def found() -> dict[str, Any] | None:
        cards = [m for m in slack.messages(APPROVALS_CHANNEL)
                 if request_id_of(m) not in skip and request_id_of(m) not in {"", "None"}
                 and any(b.get("type") == "actions" for b in m.get("blocks") or [])]
        return cards[-1] if cards else None

    return wait_until(found, timeout, "an approval card")


def anchor_of(slack: SlackEmulator, channel: str, request_id: str, timeout: float = 15.0) -> dict[str, Any]:
    return wait_until(lambda: next((m for m in slack.messages(channel) if request_id in (m.get("text") or "")
                                    or request_id_of(m) == request_id), None),
                      timeout, f"the thread anchor of {request_id} in {channel}")


def wait_final(slack: SlackEmulator, channel: str, ts: str, timeout: float) -> dict[str, Any]:
    return wait_until(lambda: next(iter(finals(slack, channel, ts)), None), timeout,
                      f"the final reply in {channel} thread {ts}")
