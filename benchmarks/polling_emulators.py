"""The polling benchmark's emulators (RDS and Slack), in a process of their own.

In production RDS and Slack are other machines: their work is not the bot's.
Served from the bot's own process, a thousand-job RDS estate and a Slack taking
hundreds of posts would take the bot's CPU (and its interpreter lock) for every
call and count it as the bot's cycle time. So both run here in a child process:
it seeds RDS, starts every job on the emulator's hand-moved clock, and posts each
job's thread anchor in Slack; the parent moves the clock and reads both journals
through a pipe.
"""

from __future__ import annotations

import multiprocessing
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from benchmarks import polling_world as world


@dataclass(frozen=True)
class Keys:
    """What the bot signs with: the RDS AccessKey and Slack's bot token and signing secret."""

    access_key_id: str
    access_key_secret: str
    bot_token: str
    signing_secret: str


def _threads(slack: Any, planned: list[world.Planned]) -> None:
    """Each job's anchor message (and a backup's progress line), as the workflow left them."""
    messages = slack.state.messages
    for job in planned:
        channel = world.channel_of(job)
        job.thread = (channel, messages.post(channel, text=f"{job.op} of {job.instance}").ts)
        if job.op == "backup":
            job.progress_ts = messages.post(channel, text="NoStart", thread_ts=job.thread[1]).ts


def _serve(shape: world.Shape, keys: Keys, conn: Connection) -> None:
    from bot.sandbox.rds import ManualClock, RdsEmulator, Timings
    from bot.sandbox.slack import SlackEmulator

    clock = ManualClock()
    seed, planned = world.build(shape, world.now_utc())
    every = world.JOB_S
    rds = RdsEmulator(access_key_id=keys.access_key_id, access_key_secret=keys.access_key_secret, seed=seed,
                      clock=clock, timings=Timings(clone_s=every, copy_s=every, backup_s=every, restore_s=every),
                      extra_keys={world.OTHER_KEY: world.OTHER_SECRET}, accounts={world.OTHER_KEY: world.OTHER_ID})
    slack = SlackEmulator(bot_token=keys.bot_token, signing_secret=keys.signing_secret)
    conn.send((rds.start(), slack.start()))
    world.start_jobs(rds, clock, planned)
    _threads(slack, planned)
    conn.send(planned)
    while True:
        command, arg = conn.recv()
        if command == "advance":
            clock.advance(arg)
            conn.send(None)
        elif command == "rds":
            conn.send([(c.action, str(c.params.get("DBInstanceId") or c.params.get("InstanceId") or ""))
                       for c in rds.calls[arg:]])
        elif command == "cpu":
            conn.send(time.process_time())
        elif command == "slack":
            conn.send([(c.method, str(c.response.get("channel") or c.params.get("channel") or ""), c.at, c.ok)
                       for c in slack.calls()])
        else:
            slack.stop()
            rds.stop()
            conn.send(None)
            return


@dataclass(frozen=True)
class Endpoint:
    """Where the bot reaches one emulator (all that :func:`bot.sandbox.stack.start_bot` reads of it)."""

    endpoint: str = ""
    api_url: str = ""


class RemoteEmulators:
    """The parent's side: the child starts at once, :meth:`endpoints` waits for it to serve, :meth:`jobs`
    for it to have started every job."""

    def __init__(self, shape: world.Shape, keys: Keys) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, theirs = context.Pipe()
        self._process = context.Process(target=_serve, args=(shape, keys, theirs), name="emulators", daemon=True)
        self._process.start()
        self._count = 0

    def endpoints(self) -> tuple[Endpoint, Endpoint]:
        """Where RDS and Slack are served (the first time, waits for the child to serve them)."""
        if not hasattr(self, "_endpoints"):
            rds_endpoint, slack_url = self._answer()
            self._endpoints = (Endpoint(endpoint=rds_endpoint), Endpoint(api_url=slack_url))
        return self._endpoints

    def _answer(self) -> Any:
        """The child's next answer; an error rather than a hang if it died."""
        while not self._conn.poll(0.2):
            if not self._process.is_alive():
                raise RuntimeError(f"the emulators' process ended (exit code {self._process.exitcode})")
        return self._conn.recv()

    def jobs(self) -> list[world.Planned]:
        """Every job, started, with its thread (waits for the child to start them)."""
        planned: list[world.Planned] = self._answer()
        return planned

    def advance(self, seconds: float) -> None:
        """Move the RDS emulator's clock."""
        self._conn.send(("advance", seconds))
        self._answer()

    def new_rds_calls(self) -> list[tuple[str, str]]:
        """(action, the instance it names) of every RDS call since the last time this was asked."""
        self._conn.send(("rds", self._count))
        found: list[tuple[str, str]] = self._answer()
        self._count += len(found)
        return found

    def cpu_s(self) -> float:
        """The child's CPU time so far (both emulators' work)."""
        self._conn.send(("cpu", None))
        used: float = self._answer()
        return used

    def slack_calls(self) -> list[tuple[str, str, float, bool]]:
        """(method, channel, when, ok) of every Slack Web API call so far."""
        self._conn.send(("slack", None))
        found: list[tuple[str, str, float, bool]] = self._answer()
        return found

    def stop(self) -> None:
        if self._process.is_alive():
            try:
                self._conn.send(("stop", None))
                self._answer()
            except (EOFError, OSError, RuntimeError):
                self._process.kill()  # the pipe is gone: so is the child's will to stop by itself
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()
