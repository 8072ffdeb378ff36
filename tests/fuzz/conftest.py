"""Fixtures and helpers of the property-based (fuzz) tests.

* ``TALLY`` counts generated cases, HTTP 5xx answers and side effects per
  property; a session fixture writes it to ``/tmp/rdsbot_fuzz_summary.json``.
* ``fuzz_stack`` is one whole deployment per test module (RDS emulator, Slack
  emulator, the bot over real HTTP, SQLite), with the bot's worker pool
  instrumented so a test can wait until every listener it triggered is done.
* ``raw_request`` speaks raw HTTP/1.1 to the bot (any method, path, headers,
  bytes), ``send_signed`` signs arbitrary bytes with the app's signing secret.
* ``Effects`` is a snapshot of everything a request could change: Slack Web
  API calls, RDS calls (and write calls), audit events, request rows and
  their states, approvals, delivery rows, reminders.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import func
from sqlmodel import select

from bot.sandbox.rds import Timings
from bot.sandbox.stack import Stack, copy_policies, start_bot, start_emulators
from bot.store.models import Approval, AuditEvent, Delivery, Reminder, Request

SUMMARY_PATH = Path(os.environ.get("RDSBOT_FUZZ_SUMMARY", "/tmp/rdsbot_fuzz_summary.json"))
FAST = Timings(clone_s=0.8, copy_s=0.8, backup_s=0.8, restore_s=0.8)
RDS_WRITES = ("CloneDBInstance", "CopyDatabaseBetweenInstances", "RestoreDdrTable", "CreateBackup")
# Slack methods that only read (who someone is, which groups or channels they are in): no effect on anyone.
SLACK_READS = frozenset({"users.info", "usergroups.users.list", "users.conversations", "conversations.info", "auth.test"})
ACK_DEADLINE_S = 3.0
KNOWN_BUGS = "known_bug_reproductions"


# ---------------------------------------------------------------------- tally
class Tally:
    """Per-property counters, shared by every fuzz module (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.props: dict[str, Counter[str]] = defaultdict(Counter)
        self.notes: dict[str, Counter[str]] = defaultdict(Counter)
        self.slowest_ack_s: dict[str, float] = defaultdict(float)

    def case(self, prop: str, n: int = 1) -> None:
        with self._lock:
            self.props[prop]["cases"] += n

    def count(self, prop: str, key: str, n: int = 1) -> None:
        with self._lock:
            self.props[prop][key] += n

    def http(self, prop: str, status: int, elapsed_s: float | None = None) -> None:
        with self._lock:
            self.props[prop]["http_requests"] += 1
            self.props[prop][f"status_{status}"] += 1
            if status >= 500:
                self.props[prop]["http_5xx"] += 1
            if elapsed_s is not None:
                self.slowest_ack_s[prop] = max(self.slowest_ack_s[prop], elapsed_s)
                if elapsed_s >= ACK_DEADLINE_S:
                    self.props[prop]["slow_acks"] += 1

    def side_effect(self, prop: str, what: str) -> None:
        with self._lock:
            self.props[prop]["side_effects"] += 1
            self.notes[prop][f"side effect: {what}"[:200]] += 1

    def note(self, prop: str, what: str) -> None:
        with self._lock:
            self.notes[prop][what[:200]] += 1

    def as_json(self) -> dict[str, Any]:
        props: dict[str, Any] = {}
        for name, counter in sorted(self.props.items()):
            entry = {"cases": 0, "http_5xx": 0, "side_effects": 0, **dict(counter)}
            if name in self.slowest_ack_s:
                entry["slowest_ack_s"] = round(self.slowest_ack_s[name], 3)
            if self.notes.get(name):
                entry["notes"] = dict(self.notes[name].most_common(15))
            props[name] = entry
        totals = Counter[str]()
        for name, counter in self.props.items():
            if name == KNOWN_BUGS:
                continue
            totals.update({k: v for k, v in counter.items() if k in {"cases", "http_requests", "http_5xx",
                                                                      "side_effects", "slow_acks"}})
        known = props.pop(KNOWN_BUGS, None)
        out = {"properties": props, "totals": {"cases": 0, "http_5xx": 0, "side_effects": 0, **dict(totals)}}
        if known is not None:
            out[KNOWN_BUGS] = known  # what the regression tests of fixed bugs sent (not part of the fuzz totals)
        return out


TALLY = Tally()


@pytest.fixture(scope="session", autouse=True)
def fuzz_summary() -> Iterator[Tally]:
    started = time.monotonic()
    yield TALLY
    data = TALLY.as_json()
    data["run_seconds"] = round(time.monotonic() - started, 1)
    SUMMARY_PATH.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


# ---------------------------------------------------------- listener errors
class ErrorLog(logging.Handler):
    """Collects ERROR records (listener crashes Bolt turns into 500/400 or swallows)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def since(self, mark: int) -> list[str]:
        out = []
        for record in self.records[mark:]:
            text = record.getMessage()
            extra = getattr(record, "error", None)
            if record.exc_info and record.exc_info[1] is not None:
                extra = f"{type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
            out.append(f"{record.name}: {text}" + (f" ({str(extra)[:160]})" if extra else ""))
        return out


# --------------------------------------------------------------------- stack
class FuzzStack:
    """The stack plus what the fuzz tests need around it (not a dataclass: hypothesis would print it all)."""

    def __init__(self, *, stack: Stack, errors: ErrorLog, host: str, port: int) -> None:
        self.stack = stack
        self.errors = errors
        self.host = host
        self.port = port

    @property
    def rds(self) -> Any:
        return self.stack.rds

    @property
    def slack(self) -> Any:
        return self.stack.slack

    @property
    def db(self) -> Any:
        return self.stack.runtime.db

    @property
    def requests(self) -> Any:
        return self.stack.requests

    def settle(self, timeout_s: float = 15.0) -> None:
        """Wait until every listener task (and what those started) has finished."""
        if not self.stack.runtime.executor.wait_idle(timeout_s):
            raise TimeoutError(f"{self.stack.runtime.executor.busy} listener tasks still running")

    def __repr__(self) -> str:  # hypothesis prints the arguments of a failing example
        return f"FuzzStack({self.stack.bot_url})"


@pytest.fixture(scope="module")
def fuzz_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzStack]:
    root = tmp_path_factory.mktemp("fuzzstack")
    emulators = start_emulators(timings=FAST)
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    stack = None
    try:
        # The fuzzers are a load of their own: per-person rate limits off (tests/e2e/test_limits.py has them).
        stack = start_bot(emulators, database_url=f"sqlite:///{root / 'rdsbot.db'}",
                          policy_dir=copy_policies(root / "policies"),
                          overrides={"RDSBOT_LIMIT_SUBMISSIONS_PER_HOUR": "0", "RDSBOT_LIMIT_LOOKUPS_PER_MINUTE": "0",
                                     "RDSBOT_LIMIT_REMINDERS_PER_DAY": "0"})
        parts = urlsplit(stack.bot_url)
        fs = FuzzStack(stack=stack, errors=errors, host=str(parts.hostname),
                       port=int(parts.port or 80))
        # Bolt calls auth.test once, on the first signed request: get that out of the way.
        warm = send_signed(fs, form_body({"command": "/rds", "text": "help", "user_id": "U0ALICE",
                                          "channel_id": "C0OPS", "team_id": "T0RDSBOT"}))
        assert warm.status == 200, warm.text
        fs.settle()
        yield fs
    finally:
        logging.getLogger().removeHandler(errors)
        if stack is not None:
            stack.stop()
        else:
            emulators.stop()


# ----------------------------------------------------------------- raw HTTP
@dataclass
class RawResponse:
    status: int
    body: bytes
    headers: dict[str, str]
    elapsed_s: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


def raw_request(fs: FuzzStack, method: str, path: str, body: bytes = b"",
                headers: Mapping[str, str] | None = None, *, timeout_s: float = 10.0) -> RawResponse:
    """One request on a fresh connection; headers are sent exactly as given (plus Host/Content-Length)."""
    conn = http.client.HTTPConnection(fs.host, fs.port, timeout=timeout_s)
    started = time.monotonic()
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        names = {k.lower() for k in (headers or {})}
        for key, value in (headers or {}).items():
            conn.putheader(key, value)
        if "content-length" not in names and "transfer-encoding" not in names:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        try:
            if body:
                conn.send(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer (413) and close before reading a huge body
        answer = conn.getresponse()
        data = answer.read()
        return RawResponse(answer.status, data, {k.lower(): v for k, v in answer.getheaders()},
                           time.monotonic() - started)
    finally:
        conn.close()


def signed_headers(fs: FuzzStack, body: bytes, content_type: str | None, *,
                   timestamp: int | None = None) -> dict[str, str]:
    headers = dict(fs.slack.signed_headers(body, timestamp))
    if content_type is not None:
        headers["Content-Type"] = content_type
    return headers


def send_signed(fs: FuzzStack, body: bytes, content_type: str | None = "application/x-www-form-urlencoded",
                extra_headers: Mapping[str, str] | None = None) -> RawResponse:
    headers = signed_headers(fs, body, content_type)
    headers.update(extra_headers or {})
    return raw_request(fs, "POST", "/slack/events", body, headers)


def interactive_body(payload: Any) -> bytes:
    if isinstance(payload, dict) and isinstance(payload.get("trigger_id"), str):
        # Each gesture Slack delivers has its own trigger_id; the bot treats a repeated one as a retry.
        payload = {**payload, "trigger_id": f"{time.monotonic_ns()}.{payload['trigger_id'][:40]}"}
    return urlencode({"payload": json.dumps(payload)}).encode()


def form_body(fields: Mapping[str, Any]) -> bytes:
    return urlencode({str(k): v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}).encode()


# ------------------------------------------------------------------ effects
@dataclass(frozen=True)
class Effects:
    slack_calls: int
    rds_calls: int
    rds_writes: int
    audit_events: int
    requests: dict[str, str] = field(default_factory=dict)
    approvals: int = 0
    deliveries: int = 0
    reminders: int = 0

    def diff(self, later: Effects) -> list[str]:
        """What changed from this snapshot to ``later``, in words (empty: nothing)."""
        out = []
        for name in ("slack_calls", "rds_calls", "rds_writes", "audit_events", "approvals", "deliveries", "reminders"):
            a, b = getattr(self, name), getattr(later, name)
            if a != b:
                out.append(f"{name} {a} -> {b}")
        new = sorted(set(later.requests) - set(self.requests))
        if new:
            out.append(f"new requests {new[:3]}")
        moved = [f"{rid}: {self.requests[rid]} -> {later.requests[rid]}" for rid in self.requests
                 if rid in later.requests and later.requests[rid] != self.requests[rid]]
        if moved:
            out.append(f"request states {moved[:3]}")
        return out


def effects(fs: FuzzStack) -> Effects:
    with fs.db.reader() as session:
        audit_n = session.exec(select(func.count()).select_from(AuditEvent)).one()
        rows = session.exec(select(Request.id, Request.state)).all()
        approvals = session.exec(select(func.count()).select_from(Approval)).one()
        deliveries = session.exec(select(func.count()).select_from(Delivery)).one()
        reminders = session.exec(select(func.count()).select_from(Reminder)).one()
    calls = fs.rds.calls
    return Effects(
        slack_calls=sum(1 for c in fs.slack.calls() if c.method not in SLACK_READS),
        rds_calls=len(calls),
        rds_writes=sum(1 for c in calls if c.action in RDS_WRITES),
        audit_events=int(audit_n),
        requests={str(r): str(s) for r, s in rows},
        approvals=int(approvals),
        deliveries=int(deliveries),
        reminders=int(reminders),
    )


def rds_writes_since(fs: FuzzStack, mark: int) -> list[Any]:
    return [c for c in fs.rds.calls[mark:] if c.action in RDS_WRITES]


def quiesce(fs: FuzzStack, *, rounds: int = 3, pause_s: float = 0.05, timeout_s: float = 10.0) -> None:
    """Wait until the listeners are done and the outbox stops talking to Slack."""
    deadline = time.monotonic() + timeout_s
    stable, last = 0, -1
    while time.monotonic() < deadline:
        fs.settle()
        n = len(fs.slack.calls())
        stable = stable + 1 if n == last else 0
        if stable >= rounds:
            return
        last = n
        time.sleep(pause_s)


# Over real HTTP each example costs milliseconds; the suite runs a sample sized for its time budget.
# RDSBOT_FUZZ_SCALE=10 (say) runs ten times as many, for a deeper run before a release.
FUZZ_SCALE = float(os.environ.get("RDSBOT_FUZZ_SCALE", "1"))


def examples(n: int) -> int:
    """``n`` Hypothesis examples, scaled by RDSBOT_FUZZ_SCALE."""
    return max(1, int(n * FUZZ_SCALE))
