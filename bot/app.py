"""Composition root: builds every part from the settings and wires them together.

Nothing else constructs long-lived objects, so tests and the sandbox get
exactly the production wiring, with only the endpoints (RDS, Slack) changed.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from bot import crashpoints, metrics
from bot.config import Settings
from bot.policy import PolicyStore
from bot.rds.directory import RdsDirectory
from bot.rds.gateway import RdsGateway, SdkGateway
from bot.redact import register_secrets
from bot.scheduler.jobs import Jobs
from bot.scheduler.leader import Leadership, leadership_for
from bot.store import migrate
from bot.store.db import Database
from bot.store.deliveries import DeliveryLog
from bot.workflow.approvals import ApprovalRulesStore
from bot.workflow.outbox import OutboxDispatcher
from bot.workflow.audit_seal import AuditSeal
from bot.workflow.reminders import Reminders
from bot.workflow.service import Workflow

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
    directory: RdsDirectory
    workflow: Workflow
    outbox: OutboxDispatcher
    jobs: Jobs
    leader: Leadership
    web: Any
    executor: ThreadPoolExecutor
    bolt: Any = None
    ready: threading.Event = field(default_factory=threading.Event)
    _stopping: bool = False
    server: Any = None

    def start(self) -> None:
        """Start background work; /healthz turns 200 when this returns."""
        warm = getattr(self.gateway, "warm", None)
        if warm is not None:
            threading.Thread(target=warm, name="sdk-warm-up", daemon=True).start()
        self.outbox.start()
        self.jobs.start()
        self.ready.set()
        log.info("rdsbot ready", extra={"policy_version": self.policy.current().version})

    def listen(self) -> tuple[str, int]:
        """Bind the HTTP server (port 0 = any free port); returns the bound address."""
        from bot.slack.server import make_server

        self.server = make_server(self.web, self.settings.host, self.settings.port)
        host, port = self.server.effective_host, self.server.effective_port
        return str(host), int(port)

    def serve_forever(self) -> None:
        if self.server is None:
            self.listen()
        try:
            self.server.run()
        except (OSError, ValueError):
            # stop() closed the listening socket under the running loop: that is the way out.
            if not self._stopping:
                raise

    def stop(self) -> None:
        self._stopping = True
        self.ready.clear()
        if self.server is not None:
            self.server.close()
        self.jobs.stop()
        self.outbox.stop()
        self.leader.release()
        self.executor.shutdown(wait=False, cancel_futures=True)
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
    except Exception as error:  # noqa: BLE001 - any policy problem stops start-up with its message
        raise StartupError(f"cannot load the policy from {settings.policy_dir}: {error}") from error
    db = prepare_database(settings)

    from bot.slack.bolt_app import DeliveryGuard, build_bolt_app
    from bot.slack.client import build_client
    from bot.slack.groups import SlackGroups
    from bot.slack.listeners import Listeners
    from bot.slack.sender import SlackSender
    from bot.slack.server import WebApp

    gateway = gateway or SdkGateway(settings)
    directory = RdsDirectory(gateway)
    client = build_client(settings)
    executor = ThreadPoolExecutor(max_workers=32, thread_name_prefix="rdsbot")
    workflow = Workflow(settings=settings, db=db, policy=policy, gateway=gateway, directory=directory,
                        groups=SlackGroups(client), rules=rules)
    policy.subscribe(lambda e: workflow.record_reload("policy", ok=e.ok, version=e.version,
                                                      previous=e.previous_version, error=e.error))
    rules.subscribe(lambda e: workflow.record_reload("approval_rules", ok=e.ok, version=e.version,
                                                     previous=e.previous_version, error=e.error))
    sender = SlackSender(build_client(settings, outbox=True), approval_channel=settings.approval_channel, workflow=workflow)
    worker_id = f"{socket.gethostname()}:{os.getpid()}"
    outbox = OutboxDispatcher(db, sender, worker_id=worker_id, lease_s=settings.outbox_lease_s)
    workflow.outbox = outbox
    leader = leadership_for(db)
    metrics.REQUESTS_BY_STATE.count = workflow.counts_by_state
    reminders = Reminders(workflow)
    deliveries = DeliveryLog(db)
    extra_jobs = [("policy_reload", policy.reload_if_changed, 2.0, False),
                  ("approval_rules_reload", rules.reload_if_changed, 2.0, False),
                  ("reminders", reminders.fire_due, 1.0, True),
                  ("prune_deliveries", deliveries.prune, 600.0, True)]
    if settings.audit_seal_channel:
        extra_jobs.append(("audit_seal", AuditSeal(db, settings.audit_seal_channel, kick=outbox.kick).run,
                           settings.audit_seal_every_s, True))
    jobs = Jobs(workflow=workflow, outbox=outbox, leader=leader, poll_interval_s=settings.poll_interval_s,
                extra=extra_jobs)
    listeners = Listeners(workflow=workflow, settings=settings, directory=directory, executor=executor,
                          reminders=reminders)
    bolt = build_bolt_app(settings, client, listeners, executor=executor,
                          guard=DeliveryGuard(seen=deliveries.first_time))
    runtime = Runtime(settings=settings, db=db, policy=policy, gateway=gateway, directory=directory,
                      workflow=workflow, outbox=outbox, jobs=jobs, leader=leader, web=None, executor=executor,
                      bolt=bolt)
    signing = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    runtime.web = WebApp(bolt, ready=lambda: runtime.ready.is_set() and jobs.running, signing_secret=signing)
    return runtime
