"""The playground's world: the sandbox's stack (emulators and the bot), its clocks and who is who.

It is the terminal sandbox's world (``bot.sandbox.demo.start_world``: two regions, Kenji in
Japanese, short jobs), with the RDS emulator on an :class:`~bot.sandbox.rds.OffsetClock` so the
page can move time for RDS and the bot together. The audit panel reads the bot's database through
a read-only engine of its own, never through the bot.
"""

from __future__ import annotations

import csv
import logging
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.sandbox.rds import OffsetClock
from bot.sandbox.slack.workspace import User
from bot.sandbox.stack import Stack

log = logging.getLogger(__name__)

FAULTS = ("none", "slow", "throttled")


class ApiError(Exception):
    """A request the playground refuses: the status and a sentence for the page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Playground:
    """A running sandbox plus what the page changes in it (faults, time) and what Slack's client keeps
    (the field errors a modal shows until its next submission or update)."""

    stack: Stack
    workdir: Path
    rds_clock: OffsetClock
    audit_db: Any  # bot.store.db.Database, read-only use
    fault: str = "none"
    own_workdir: bool = False
    # view id -> (the view's hash when the errors came back, {block_id: message})
    view_errors: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def policy_dir(self) -> Path:
        return Path(self.stack.env["RDSBOT_POLICY_DIR"])

    def stop(self) -> None:
        self.stack.stop()
        self.audit_db.dispose()
        if self.own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


def start_playground(*, job_seconds: float = 5.0, workdir: Path | None = None) -> Playground:
    """Start the emulators and the bot (SQLite in ``workdir``, a new temporary folder by default)."""
    from bot.sandbox.demo import start_world
    from bot.store.db import Database

    own = workdir is None
    folder = Path(tempfile.mkdtemp(prefix="rdsbot-playground-")) if workdir is None else workdir
    folder.mkdir(parents=True, exist_ok=True)
    clock = OffsetClock()
    stack = start_world(folder, job_seconds=job_seconds, clock=clock)
    return Playground(stack=stack, workdir=folder, rds_clock=clock,
                      audit_db=Database(stack.env["RDSBOT_DATABASE_URL"]), own_workdir=own)


def human(playground: Playground, user_id: Any) -> User:
    """The human ``user_id`` names, or a 400."""
    user = playground.stack.slack.workspace.user(str(user_id or ""))
    if user is None or user.is_bot:
        raise ApiError(400, f"no such person in the sandbox's workspace: {user_id!r}")
    return user


def roles(policy_dir: Path) -> dict[str, list[str]]:
    """Subject -> the roles its ``g`` lines give it directly (``U0ALICE`` -> ``["engineer"]``)."""
    found: dict[str, list[str]] = {}
    with (policy_dir / "policy.csv").open(encoding="utf-8") as rows:
        for row in csv.reader(rows, skipinitialspace=True):
            cells = [cell.strip() for cell in row]
            if len(cells) >= 3 and cells[0] == "g" and cells[2].startswith("role:"):
                found.setdefault(cells[1], []).append(cells[2].removeprefix("role:"))
    return found


def world(playground: Playground) -> dict[str, Any]:
    """Team, people with their role (a label for the picker), channels, the bot's user id."""
    ws = playground.stack.slack.workspace
    given = roles(playground.policy_dir)
    people = []
    for user in ws.users:
        if user.is_bot:
            continue
        mine = list(given.get(user.id, []))
        for group in ws.usergroups:
            if user.id in group.users:
                mine += given.get(f"usergroup:{group.id}", [])
        people.append({"id": user.id, "name": user.name, "real_name": user.real_name, "title": user.title,
                       "role": ", ".join(dict.fromkeys(mine)) or "none", "locale": user.locale, "tz": user.tz})
    channels = [{"id": c.id, "name": c.name, "is_private": c.is_private, "members": list(c.members),
                 "bot_is_member": c.bot_is_member} for c in ws.channels]
    return {"team": {"id": ws.team_id, "name": ws.team_name, "domain": ws.domain},
            "users": people, "channels": channels, "bot_user_id": ws.bot_user_id}
