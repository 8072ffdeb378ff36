"""Composition root: builds every part from the settings and wires them together.

Nothing else constructs long-lived objects, so tests and the sandbox get
exactly the production wiring, with only the endpoints (RDS, Slack) changed.
"""

from __future__ import annotations

import gc
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bot import crashpoints, metrics
from bot.config import Settings
from bot.policy import PolicyStore
from bot.policy.arn import concrete_accounts
from bot.rds.estate import Estate
from bot.rds.gateway import RdsGateway
from bot.rds.pool import Gateways
from bot.redact import register_secrets
from bot.scheduler.jobs import Job, Jobs
from bot.scheduler.leader import Leadership, leadership_for
from bot.store import migrate
from bot.store.db import Database
from bot.store.deliveries import DeliveryLog
from bot.workflow import break_glass, decisions, progress, recovery, routing
from bot.workflow.access import record_reload
from bot.workflow.accounts import AccountsStore
from bot.workflow.approvals import ApprovalRulesStore
from bot.workflow.freezes import FreezeStore
from bot.workflow.audit_seal import AuditSeal
from bot.workflow.background import Background, Foreground, Wakeup
from bot.workflow.deps import Deps
from bot.workflow.execution import retry_delay_s
from bot.workflow.limits import RateLimits
from bot.workflow.outbox import OutboxDispatcher
from bot.workflow.queries import Requests
from bot.workflow.reminders import Reminders

log = logging.getLogger(__name__)


class StartupError(RuntimeError):
    """The bot cannot start; the message says what to fix."""


@dataclass
class Runtime:
    """Everything one running bot is made of."""

    settings: Settings
    db: Database
    policy: PolicyStore
    gateway: RdsGateway
    directory: Estate
    deps: Deps
    requests: Requests
    outbox: OutboxDispatcher
    jobs: Jobs
    leader: Leadership
    web: Any
    executor: Background
    bolt: Any = None
    ready: threading.Event = field(default_factory=threading.Event)
    _stopping: bool = False
    server: Any = None
    metrics_web: Any = None  # /metrics on its own address (RDSBOT_METRICS_HOST/PORT), when set
    metrics_server: Any = None

    def start(self) -> None:
        """Start background work; /healthz turns 200 once the RDS SDK is loaded too.

        Loading the SDK takes about two seconds: a bot that said it was ready before
        would answer its first type-ahead or submission late (past Slack's 3 s).
        """
        self.outbox.start()
        self.jobs.start()
        warm = getattr(self.gateway, "warm", None)
        if warm is None:
            self._ready()
            return
        threading.Thread(target=self._warm_then_ready, args=(warm,), name="sdk-warm-up", daemon=True).start()

    def _warm_then_ready(self, warm: Any) -> None:
        try:
            warm()
        except Exception:  # noqa: BLE001 - the first RDS call will report the same problem to its user
            log.exception("the RDS SDK could not be loaded ahead of time")
        self._ready()

    def _ready(self) -> None:
        # What start-up built (modules, the SDK, the policy) lives as long as the process: the
        # collector need not walk it again (full collections over it paused every thread for
        # 0.3-0.5 s, now and then, in the middle of answering Slack). And collect young objects
        # less often: a request allocates thousands (its modal alone), nearly all freed at once
        # by reference counting, so the default (every 700) collected about once a request.
        gc.freeze()
        gc.set_threshold(20_000, 20, 20)
        self.ready.set()
        log.info("rdsbot ready", extra={"policy_version": self.policy.current().version})

    def listen(self) -> tuple[str, int]:
        """Bind the HTTP server (port 0 = any free port); returns the bound address."""
        from bot.slack.server import make_server

        self.server = make_server(self.web, self.settings.host, self.settings.port)
        host, port = self.server.effective_host, self.server.effective_port
        if self.metrics_web is not None:
            self.metrics_server = make_server(self.metrics_web, self.settings.metrics_host or self.settings.host,
                                              self.settings.metrics_port or 0, threads=2)
            threading.Thread(target=self._serve, args=(self.metrics_server,), name="metrics-http", daemon=True).start()
        return str(host), int(port)

    @property
    def metrics_address(self) -> tuple[str, int] | None:
        """Where /metrics is served on its own, once bound."""
        if self.metrics_server is None:
            return None
        return str(self.metrics_server.effective_host), int(self.metrics_server.effective_port)

    def serve_forever(self) -> None:
        if self.server is None:
            self.listen()
        self._serve(self.server)

    def _serve(self, server: Any) -> None:
        try:
            server.run()
        except (OSError, ValueError):
            # stop() closed the listening socket under the running loop: that is the way out.
            if not self._stopping:
                raise

    def drain(self, timeout_s: float = 10.0) -> None:
        """Wait until the bot has nothing left to do right now: no listener or follow-up
        running, and every Slack message that is due delivered (ones backing off after a
        failure excepted; ones waiting for their channel's rate waited for). Tests call this
        instead of sleeping; raises TimeoutError."""
        deadline = time.monotonic() + timeout_s
        quiet_rounds = 0
        while quiet_rounds < 2:
            if not self.executor.wait_idle(max(deadline - time.monotonic(), 0.0)):
                raise TimeoutError(f"{self.executor.busy} background tasks still running after {timeout_s} s")
            sent = self.outbox.deliver()
            paced = self.outbox.paced_for_s()
            if paced:
                time.sleep(min(paced, max(deadline - time.monotonic(), 0.0)))
            quiet_rounds = quiet_rounds + 1 if sent == 0 and not paced and self.executor.busy == 0 else 0
            if time.monotonic() > deadline:
                raise TimeoutError(f"the bot was still busy after {timeout_s} s")

    def stop(self) -> None:
        self._stopping = True
        self.ready.clear()
        for server in (self.server, self.metrics_server):
            if server is not None:
                server.close()
        self.jobs.stop()
        self.outbox.stop()
        self.leader.release()
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.directory.close()
        self.db.dispose()


def prepare_database(settings: Settings) -> Database:
    """Open the database; upgrade it if empty, refuse if it is behind (say what to run)."""
    db = Database(settings.database_url)
    current = migrate.current_revision(db)
    head = migrate.head_revision()
    if current is None:
        migrate.upgrade(db)
        log.info("database created", extra={"revision": head})
    elif current != head:
        raise StartupError(f"the database is at revision {current}, this bot needs {head}: run `rdsbot db upgrade`")
    return db


def _check_account(settings: Settings, policy: PolicyStore) -> None:
    """A policy line naming an account never matches while request ARNs carry '*' — denies included."""
    if settings.account_id != "*":
        return
    engine = policy.current()
    named = concrete_accounts(rule.resource for rule in engine.rules)
    if named:
        pattern, account = named[0]
        lines = sorted({rule.line for rule in engine.rules if rule.resource == pattern})
        raise StartupError(
            f"the policy names account {account} (policy.csv:{lines[0] if lines else '?'} {pattern}) but "
            "RDSBOT_ACCOUNT_ID is unset ('*'), so that line would never match, denies included: "
            f"set RDSBOT_ACCOUNT_ID={account} (or write the line with '*' for the account)")


def build_runtime(settings: Settings, *, gateway: RdsGateway | None = None) -> Runtime:
    """Wire the whole bot for HTTP mode (Socket Mode reuses the same Bolt app)."""
    missing = settings.missing_for_serve()
    if missing:
        raise StartupError("missing environment variables: " + ", ".join(missing))
    register_secrets(settings.secret_values())
    crashpoints.arm(settings.crash_at)
    try:
        policy = PolicyStore(settings.policy_dir)
        rules = ApprovalRulesStore(settings.policy_dir)
        freezes = FreezeStore(settings.policy_dir)
        accounts = AccountsStore(settings.policy_dir, settings)
    except Exception as error:  # noqa: BLE001 - any policy problem stops start-up with its message
        raise StartupError(f"cannot load the policy from {settings.policy_dir}: {error}") from error
    if not accounts.current().named:
        _check_account(settings, policy)  # with accounts.toml, every ARN carries its account's own ID
    db = prepare_database(settings)

    from bot.slack.bolt_app import DeliveryGuard, build_bolt_app
    from bot.slack.client import build_client
    from bot.slack.groups import SlackGroups
    from bot.slack.listeners import Listeners
    from bot.slack.people import People
    from bot.slack.sender import SlackSender
    from bot.slack.server import WebApp

    # One gateway per (account, region), built when first used; the estate routes each read to its place.
    gateways = Gateways(settings, accounts.current, fixed=gateway)
    directory = Estate(gateways)
    gateway = gateways.at(gateways.default_place())
    client = build_client(settings)
    # One cache of users.info for every Slack-side reader of a person's zone and language.
    people = People(client)
    # Bolt's lazy listeners and the workflow's follow-ups share one counted pool (see Runtime.drain).
    executor = Background(max_workers=32, thread_name_prefix="rdsbot")
    wakeup = Wakeup()
    limits = RateLimits(db, settings)
    deps = Deps(settings=settings, db=db, policy=policy, gateway=gateway, directory=directory, rules=rules,
                freezes=freezes, groups=SlackGroups(client, ttl_s=settings.usergroup_ttl_s), wakeup=wakeup, later=executor.submit,
                limits=limits)
    policy.subscribe(lambda e: record_reload(deps, "policy", ok=e.ok, version=e.version,
                                             previous=e.previous_version, error=e.error))
    rules.subscribe(lambda e: record_reload(deps, "approval_rules", ok=e.ok, version=e.version,
                                            previous=e.previous_version, error=e.error))
    freezes.subscribe(lambda e: record_reload(deps, "freezes", ok=e.ok, version=e.version,
                                              previous=e.previous_version, error=e.error))
    accounts.subscribe(lambda e: record_reload(deps, "accounts", ok=e.ok, version=e.version,
                                               previous=e.previous_version, error=e.error))
    requests = Requests(db)
    sender = SlackSender(build_client(settings, outbox=True), approval_channel=settings.approval_channel,
                         requests=requests, retry_in_s=retry_delay_s(deps),
                         routing=lambda request, votes: routing.approvers_for(deps, request, voted=votes),
                         people=people, default_locale=settings.default_locale,
                         channel_locale=settings.channel_locale)
    worker_id = f"{socket.gethostname()}:{os.getpid()}"
    outbox = OutboxDispatcher(db, sender, worker_id=worker_id, lease_s=settings.outbox_lease_s, wakeup=wakeup,
                              pace=sender.wait_s)
    leader = leadership_for(db)
    metrics.REQUESTS_BY_STATE.count = requests.counts_by_state
    reminders = Reminders(deps)
    deliveries = DeliveryLog(db)
    every = settings.poll_interval_s
    job_list = [
        Job("poll", lambda: progress.poll_all(deps), every),
        Job("expire", lambda: decisions.expire_due(deps), min(30.0, max(every, 1.0))),
        Job("recover", lambda: recovery.recover(deps), max(every, 5.0)),
        Job("outbox", outbox.deliver, 5.0),
        Job("policy_reload", policy.reload_if_changed, 2.0, leader_only=False),
        Job("approval_rules_reload", rules.reload_if_changed, 2.0, leader_only=False),
        Job("freezes_reload", freezes.reload_if_changed, 2.0, leader_only=False),
        Job("accounts_reload", accounts.reload_if_changed, 2.0, leader_only=False),
        Job("reminders", reminders.fire_due, 1.0),
        Job("break_glass_reviews", lambda: break_glass.remind_overdue(deps), min(60.0, settings.breakglass_review_s)),
        Job("prune_deliveries", deliveries.prune, 600.0),
        Job("prune_rate_counts", limits.prune, 600.0),
    ]
    if settings.audit_seal_channel:
        from bot.slack.seal_reader import SlackSealReader

        reader = SlackSealReader(build_client(settings, outbox=True), settings.audit_seal_channel)
        seal = AuditSeal(db, settings.audit_seal_channel, anchors=reader.anchors, kick=wakeup.ring)
        job_list.append(Job("audit_seal", seal.run, settings.audit_seal_every_s))
    jobs = Jobs(leader=leader, jobs=job_list)
    # An instance's facts under its modal are read on a lane of their own (a slow RDS never holds up
    # modals), after the requests being answered and the modals being opened (the foreground).
    foreground = Foreground()
    listeners = Listeners(deps=deps, executor=executor, reminders=reminders, people=people,
                          reads=executor.lane("reads", 8, yield_to=foreground), foreground=foreground)
    bolt = build_bolt_app(settings, client, listeners, executor=executor,
                          guard=DeliveryGuard(seen=deliveries.first_time), people=people)
    runtime = Runtime(settings=settings, db=db, policy=policy, gateway=gateway, directory=directory, deps=deps,
                      requests=requests, outbox=outbox, jobs=jobs, leader=leader, web=None, executor=executor,
                      bolt=bolt)
    signing = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    ready = lambda: runtime.ready.is_set() and jobs.running  # noqa: E731
    own_metrics = settings.metrics_host is not None or settings.metrics_port is not None
    # Socket Mode: Slack never calls in, so POST /slack/events does not exist here at all.
    runtime.web = WebApp(None if settings.socket_mode else bolt, ready=ready, signing_secret=signing,
                         metrics=not own_metrics, foreground=foreground)
    if own_metrics:
        runtime.metrics_web = WebApp(None, ready=ready, metrics=True)
    return runtime
