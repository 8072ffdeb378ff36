"""A whole local deployment: RDS emulator, Slack emulator and the bot over real HTTP.

The bot runs with production wiring (``bot.app.build_runtime``); only its
endpoints point at the emulators. Used by ``rdsbot sandbox`` and the tests.
The bot can also run as a separate ``rdsbot serve`` process (``bot_env``),
which crash tests kill and restart while the emulators keep their state.
"""

from __future__ import annotations

import secrets
import shutil
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.sandbox.rds import RdsEmulator, Seed, Timings
from bot.sandbox.rds.clock import Clock
from bot.sandbox.slack import APPROVALS_CHANNEL, SlackDriver, SlackEmulator
from bot.sandbox.sts import StsEmulator

ACCESS_KEY_ID = "sandbox-access-key-id"
BOT_TOKEN = "xoxb-sandbox-0000-bot-token"
#: The role the bot may assume in the sandbox (RDSBOT_RAM_ROLE_ARN).
ROLE_ARN = "acs:ram::1234567890123456:role/rdsbot-requests"
#: The sandbox's policy, shipped inside the package so that an installed wheel has it. The repository's
#: policies/ folder, the operator's starting point, holds the same files (tests/unit/test_packaged_policies.py).
DEFAULT_POLICIES = Path(__file__).resolve().parents[1] / "defaults" / "policies"
POLICY_FILES = ("model.conf", "policy.csv", "approvals.toml", "freeze.toml")


@dataclass
class Emulators:
    """The emulators and the secrets the bot must use with them.

    ``sts`` answers AssumeRole for the bot's AccessKey, for the role :data:`ROLE_ARN`; the RDS
    emulator accepts the sessions it issues, within their session policies.
    """

    rds: RdsEmulator
    slack: SlackEmulator
    access_key_secret: str
    signing_secret: str
    sts: StsEmulator | None = None

    def stop(self) -> None:
        self.slack.stop()
        self.rds.stop()
        if self.sts is not None:
            self.sts.stop()


def start_emulators(*, timings: Timings | None = None, seed: Seed | None = None, trigger_ttl_s: float = 3.0,
                    other_accounts: Mapping[str, tuple[str, str]] | None = None,
                    clock: Clock | None = None) -> Emulators:
    """``other_accounts``: account ID -> (AccessKey ID, secret) of a key acting in that account (the
    seed's instances with that ``account``), beside the main account the bot's own key acts in.
    ``clock``: what the RDS emulator's jobs read as now (the playground moves it); default real time."""
    access_key_secret = secrets.token_urlsafe(24)
    signing_secret = secrets.token_hex(16)
    sts = StsEmulator(keys={ACCESS_KEY_ID: access_key_secret}, roles={ROLE_ARN})
    sts.start()
    others = other_accounts or {}
    rds = RdsEmulator(access_key_id=ACCESS_KEY_ID, access_key_secret=access_key_secret, seed=seed, timings=timings,
                      clock=clock, sessions=sts.sessions, extra_keys=dict(others.values()),
                      accounts={key: account for account, (key, _secret) in others.items()})
    rds.start()
    slack = SlackEmulator(bot_token=BOT_TOKEN, signing_secret=signing_secret, trigger_ttl_s=trigger_ttl_s)
    slack.start()
    return Emulators(rds=rds, slack=slack, access_key_secret=access_key_secret, signing_secret=signing_secret,
                     sts=sts)


def copy_policies(target: Path, source: Path = DEFAULT_POLICIES) -> Path:
    """A private copy of the policy folder, so a test may edit it."""
    target.mkdir(parents=True, exist_ok=True)
    for name in POLICY_FILES:
        if (source / name).exists():
            shutil.copy(source / name, target / name)
    return target


def bot_env(emulators: Emulators, *, database_url: str, policy_dir: Path, port: int = 0,
            overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment contract (DESIGN.md) pointing a bot at the emulators."""
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": emulators.signing_secret,
        "RDSBOT_HOST": "127.0.0.1",
        "RDSBOT_PORT": str(port),
        "RDSBOT_SLACK_API_URL": emulators.slack.api_url,
        "RDSBOT_APPROVAL_CHANNEL": APPROVALS_CHANNEL,
        "ALIBABA_CLOUD_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": emulators.access_key_secret,
        "RDSBOT_REGION_ID": "cn-hangzhou",
        "RDSBOT_RDS_ENDPOINT": emulators.rds.endpoint,
        "RDSBOT_RDS_PROTOCOL": "http",
        "RDSBOT_DATABASE_URL": database_url,
        "RDSBOT_POLICY_DIR": str(policy_dir),
        "RDSBOT_POLL_INTERVAL_S": "0.3",
        "RDSBOT_RDS_TIMEOUT_S": "3",
        "RDSBOT_LOG_FORMAT": "json",
    }
    if emulators.sts is not None:
        # RDSBOT_RAM_ROLE_ARN stays unset: a test or the demo sets it (to ROLE_ARN) to turn sessions on.
        env.update({"RDSBOT_STS_ENDPOINT": emulators.sts.endpoint, "RDSBOT_STS_PROTOCOL": "http"})
    env.update(overrides or {})
    return env


@dataclass
class Stack:
    """Emulators plus an in-process bot listening on a real port."""

    emulators: Emulators
    runtime: Any
    bot_url: str
    driver: SlackDriver
    env: dict[str, str] = field(default_factory=dict)

    @property
    def rds(self) -> RdsEmulator:
        return self.emulators.rds

    @property
    def slack(self) -> SlackEmulator:
        return self.emulators.slack

    @property
    def requests(self) -> Any:
        """The bot's read-only view of its requests (get, recent, timeline, approvers_of)."""
        return self.runtime.requests

    def drain(self, timeout_s: float = 10.0) -> None:
        """Wait until the bot has finished what it was asked to do (see ``Runtime.drain``)."""
        self.runtime.drain(timeout_s)

    def stop(self) -> None:
        # Work already under way (a modal's facts waiting for a lull) finishes while the emulators still
        # answer, instead of failing against closed ports after them; bounded, so a stuck task cannot hang a stop.
        self.runtime.executor.wait_idle(2.0)
        self.runtime.stop()
        self.emulators.stop()


def start_bot(emulators: Emulators, *, database_url: str, policy_dir: Path,
              overrides: Mapping[str, str] | None = None) -> Stack:
    """Build and start the bot in this process with the production wiring."""
    import threading

    from bot.app import build_runtime
    from bot.config import Settings

    env = bot_env(emulators, database_url=database_url, policy_dir=policy_dir, overrides=overrides)
    # The same variable names as the environment contract, given directly.
    settings = Settings(**env)  # type: ignore[arg-type]
    runtime = build_runtime(settings)
    host, port = runtime.listen()
    threading.Thread(target=runtime.serve_forever, name="http", daemon=True).start()
    runtime.start()
    # start() imports the RDS SDK in the background (about 2 s the first time in a process, more on
    # a busy machine); wait for it here, so a test's first picker or submission is not answered
    # "over budget" only because this process was still importing.
    warm = getattr(runtime.gateway, "warm", None)
    if warm is not None:
        warm()
    url = f"http://{host}:{port}"
    wait_healthy(url)
    return Stack(emulators=emulators, runtime=runtime, bot_url=f"{url}/slack/events",
                 driver=SlackDriver(emulators.slack, f"{url}/slack/events"), env=env)


def wait_healthy(base_url: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as response:  # noqa: S310 - local URL
                if response.status == 200:
                    return
        except OSError as error:
            last = error
        time.sleep(0.05)
    raise TimeoutError(f"the bot at {base_url} never became healthy: {last}")
