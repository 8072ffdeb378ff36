"""Orchestration of a request's life: submit, vote, run, watch, expire, recover.

Plain Python: no Slack, no SDK. Each public method is one step a user or the
scheduler takes; each state change is a conditional update (transitions.move),
so repeating a step — a second click, a retried delivery, a second replica, a
restart — finds the state already moved and does nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy import func
from sqlmodel import select

from bot import crashpoints, logs, operations
from bot.config import Settings
from bot.operations.base import Context, FieldErrors, Form, Operation, Plan, Progress
from bot.policy import Decision, PolicyStore
from bot.policy.arn import instance_arn
from bot.operations.backups import ListingQuery
from bot.operations.backups import describe as describe_listing
from bot.rds.directory import CrossRegionPage, InstanceInfo, RdsDirectory
from bot.rds.errors import ErrorKind, RdsError
from bot.rds.gateway import RdsGateway
from bot.store.db import Database
from bot.store.models import Approval, AuditEvent, Request
from bot.timeutil import utcnow
from bot.workflow import transitions as tx
from bot.workflow.approvals import DEFAULT, ApprovalRulesStore, Requirement
from bot.workflow.outbox import OutboxDispatcher
from bot.workflow.ports import GroupResolver, NoGroups
from bot.workflow.states import ACTIVE, State

log = logging.getLogger(__name__)

APPROVE_ACTION = "rdsbot:Approve"
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")
MAX_SUBMIT_ATTEMPTS = 5
MAX_NOT_FOUND_POLLS = 5


@dataclass
class Submitted:
    """The request exists; it waits for approval or is already running."""

    request: Request
    decision: Decision
    requirement: Requirement | None


@dataclass
class Denied:
    """Policy said no; the request (if one was made) is recorded as denied."""

    request: Request | None
    decision: Decision


@dataclass
class Listing:
    """One page of cross-region backups."""

    query: ListingQuery
    page: CrossRegionPage
    instance: InstanceInfo


VoteStatus = Literal[
    "approved", "counted", "rejected", "duplicate", "self", "denied", "not_in_pool", "not_pending", "not_found"
]


@dataclass
class VoteOutcome:
    """What a click on Approve/Reject did, with a sentence for the clicker."""

    status: VoteStatus
    message: str
    request: Request | None = None
    decision: Decision | None = None


@dataclass
class CancelOutcome:
    ok: bool
    message: str
    request: Request | None = None


@dataclass
class Timeline:
    """A request and its audit events, for `/rds status <id>`."""

    request: Request
    events: list[AuditEvent] = field(default_factory=list)


class Workflow:
    """The request life cycle over the database, policy, RDS and the outbox."""

    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        policy: PolicyStore,
        gateway: RdsGateway,
        directory: RdsDirectory,
        outbox: OutboxDispatcher | None = None,
        groups: GroupResolver | None = None,
        rules: ApprovalRulesStore | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.policy = policy
        self.gateway = gateway
        self.directory = directory
        self.outbox = outbox
        self.groups = groups or NoGroups()
        self.rules = rules

    # ----------------------------------------------------------------- helpers
    def operation(self, name: str) -> Operation:
        op = operations.get(name)
        if op is None:
            raise KeyError(name)
        return op

    def resource_of(self, instance_id: str, region: str | None = None) -> str:
        """The instance's ARN, in its own region when known (a DR instance lives elsewhere)."""
        return instance_arn(region or self.settings.region_id, self.settings.account_id, instance_id)

    def decide(self, user: str, action: str, resource: str, tags: Mapping[str, str] | None) -> Decision:
        engine = self.policy.current()
        if not USER_ID.match(user or ""):
            # Only people are asked about: a caller can never pose as a role or a group.
            return Decision(allowed=False, subject=str(user)[:64], action=action, resource=resource,
                            tags=dict(tags) if tags is not None else None, policy_version=engine.version, rule=None)
        candidates = sorted(engine.referenced_usergroups())
        groups = self.groups.groups_of(user, candidates) if candidates else []
        return engine.decide(user, action, resource, tags=tags, groups=groups)

    def record_reload(self, what: str, *, ok: bool, version: str, previous: str, error: str | None) -> None:
        """Audit a policy or approval-rules reload (or a refused one)."""
        event = f"{what}_reloaded" if ok else f"{what}_reload_refused"
        with self.db.session() as session:
            tx.note(session, None, event, actor="rdsbot",
                    detail={"version": version, "previous_version": previous, "error": error})

    def requirement(self, op: Operation, resource: str, tags: Mapping[str, str] | None) -> Requirement | None:
        """Who must approve, or None when the request runs without approval."""
        if op.approval == "never":
            return None
        floor = 1 if op.approval == "always" else 0
        if self.rules is None:
            needed = DEFAULT
        else:
            needed = self.rules.current().requirement(op.ram_action, resource, tags, floor=floor)
        return needed if needed.approvers > 0 else None

    def context(self, user: str) -> Context:
        return Context(directory=self.directory, now=utcnow(), region_id=self.settings.region_id, user=user)

    def _kick(self) -> None:
        if self.outbox is not None:
            self.outbox.kick()

    # ------------------------------------------------------------------ submit
    def validate(self, op_name: str, *, user: str, form: Form) -> Plan:
        """Every seed rule; raises FieldErrors keyed by block_id."""
        return self.operation(op_name).validate(form, self.context(user))

    def submit(self, op_name: str, *, user: str, channel: str, form: Form,
               submission_key: str | None = None) -> Submitted | Denied:
        """Validate, check policy, and record the request (raises FieldErrors).

        ``submission_key`` (the modal's view id) makes a duplicated submission
        return the request the first one made instead of making a second.
        """
        op = self.operation(op_name)
        if submission_key is not None:
            earlier = self._submitted_before(submission_key)
            if earlier is not None:
                return earlier
        plan = op.validate(form, self.context(user))
        reason = str(form.get("reason") or "").strip()
        return self.open_request(op, plan, user=user, channel=channel, reason=reason, submission_key=submission_key)

    def _submitted_before(self, submission_key: str) -> Submitted | Denied | None:
        with self.db.reader() as session:
            request = session.exec(select(Request).where(Request.submission_key == submission_key)).first()
        if request is None:
            return None
        decision = self.decide(request.requester, self.operation(request.operation).ram_action, request.resource,
                               request.tags or None)
        if request.state == State.DENIED:
            return Denied(request=request, decision=decision)
        return Submitted(request=request, decision=decision, requirement=None)

    def open_request(self, op: Operation, plan: Plan, *, user: str, channel: str, reason: str,
                     thread: tuple[str, str] | None = None, submission_key: str | None = None) -> Submitted | Denied:
        """Record a validated plan as a request, after the policy check.

        ``thread`` puts the request's progress under an existing message (a
        reminder's "Back up now") instead of a new one.
        """
        region = (plan.instance.region_id if plan.instance is not None else "") or self.settings.region_id
        resource = self.resource_of(plan.instance_id, region)
        tags = plan.instance.tags if plan.instance is not None else None
        decision = self.decide(user, op.ram_action, resource, tags)
        requirement = self.requirement(op, resource, tags)
        now = utcnow()
        if not decision.allowed:
            state = State.DENIED
        elif requirement is not None:
            state = State.PENDING_APPROVAL
        else:
            state = State.APPROVED
        request = Request(
            id=tx.new_request_id(op.name),
            operation=op.name,
            state=state.value,
            requester=user,
            channel_id=channel,
            region_id=region,
            instance_id=plan.instance_id,
            resource=resource,
            params=plan.params,
            tags=dict(tags or {}),
            reason=reason,
            approvals_needed=requirement.approvers if requirement else 0,
            approver_pool=(requirement.pool or "") if requirement else "",
            policy_version=decision.policy_version,
            decision=decision_record(decision),
            created_at=now,
            updated_at=now,
            expires_at=now + timedelta(seconds=self.settings.approval_ttl_s) if state is State.PENDING_APPROVAL else None,
            exclusive_key=f"{op.name}:{plan.instance_id}" if op.exclusive and state is not State.DENIED else None,
            thread_channel=thread[0] if thread else None,
            thread_ts=thread[1] if thread else None,
            own_thread=thread is None,
            submission_key=submission_key,
        )
        detail = {
            "operation": op.name,
            "action": op.ram_action,
            "resource": resource,
            "params": plan.params,
            "reason": reason,
            "tags": tags,
            "decision": decision_record(decision),
        }
        if requirement is not None:
            detail["approval_rule"] = {"approvers": requirement.approvers, "pool": requirement.pool, "rule": requirement.rule}
        try:
            with self.db.session() as session:
                tx.create(session, request, actor=user, detail=detail)
                if state is State.APPROVED:
                    why = ("this operation needs no approval" if op.approval == "never"
                           else "the approval rules waive approval here")
                    tx.note(session, request.id, "approved", actor="policy", state=State.APPROVED,
                            detail={"why": why, "rules_version": self.rules.current().version if self.rules else None})
                if state is not State.DENIED and thread is None:
                    tx.enqueue(session, request_id=request.id, kind="anchor", dedupe_key=f"{request.id}:anchor")
                elif state is not State.DENIED:
                    tx.enqueue(session, request_id=request.id, kind="reply", dedupe_key=f"{request.id}:opened",
                               data={"event": "opened"})
        except IntegrityError:
            if submission_key is not None:
                earlier = self._submitted_before(submission_key)
                if earlier is not None:
                    return earlier  # the same modal submitted twice at once: one request
            raise self._busy(op, plan.instance_id, request.exclusive_key) from None
        self._kick()
        if state is State.DENIED:
            return Denied(request=request, decision=decision)
        return Submitted(request=request, decision=decision, requirement=requirement)

    def _busy(self, op: Operation, instance_id: str, key: str | None) -> FieldErrors:
        """The instance already has an active exclusive request (a second backup click)."""
        with self.db.session() as session:
            other = session.exec(select(Request).where(Request.exclusive_key == key)).first()
        who = f" by <@{other.requester}> ({other.id}, {other.state.replace('_', ' ')})" if other else ""
        return FieldErrors({"DBInstanceId": f"A {op.name} of {instance_id} is already under way{who}; "
                                            "wait for it to finish."})

    def list_backups(self, *, user: str, form: Form | None = None, pointer: str | None = None) -> Listing | Denied:
        """`/rds backups`: one page of cross-region backups, after the policy check (raises FieldErrors)."""
        spec = operations.LISTING
        ctx = self.context(user)
        if pointer is not None:
            query = ListingQuery.from_pointer(pointer, ctx.now)
            form = {"DBInstanceId": query.instance_id}
        query_from_form, info = spec.validate(form or {}, ctx)
        if pointer is None:
            query = query_from_form
        resource = self.resource_of(info.id)
        decision = self.decide(user, spec.ram_action, resource, info.tags)
        detail = {"action": spec.ram_action, "resource": resource, "query": describe_listing(query),
                  "decision": decision_record(decision)}
        with self.db.session() as session:
            tx.note(session, None, "listed" if decision.allowed else "list_denied", actor=user, detail=detail)
        if not decision.allowed:
            return Denied(request=None, decision=decision)
        try:
            page = self.directory.cross_region_backups(info.id, start=query.start, end=query.end, region=query.region,
                                                       page=query.page, page_size=query.page_size)
        except RdsError as error:
            field_name = error.field or "DBInstanceId"
            raise FieldErrors({field_name if spec.has_field(field_name) else "DBInstanceId": error.plain()}) from None
        return Listing(query=query, page=page, instance=info)

    # ------------------------------------------------------------------- votes
    def vote(self, request_id: str, *, user: str, approve: bool, reason: str = "") -> VoteOutcome:
        """One approver's click. Counts once per person; never the requester's."""
        reason = reason.strip()
        with self.db.session() as session:
            request = tx.lock(session, request_id)
            if request is None:
                return VoteOutcome("not_found", f"There is no request {request_id[:64]}.")
            if request.state != State.PENDING_APPROVAL:
                tx.note(session, request.id, "vote_ignored", actor=user, state=request.state,
                        detail={"approve": approve, "why": f"request is {request.state}"})
                return VoteOutcome("not_pending", f"Request {request.id} is already {request.state.replace('_', ' ')}.", request)
            if user == request.requester:
                tx.note(session, request.id, "self_approval_refused", actor=user, state=request.state,
                        detail={"approve": approve})
                word = "approve" if approve else "reject"
                hint = " Use Cancel to withdraw it." if not approve else ""
                return VoteOutcome("self", f"You cannot {word} your own request.{hint}", request)
            decision = self.decide(user, APPROVE_ACTION, request.resource, request.tags or None)
            if not decision.allowed:
                tx.note(session, request.id, "approval_denied", actor=user, state=request.state,
                        detail={"approve": approve, "decision": decision_record(decision)})
                return VoteOutcome("denied", "You may not decide on this request.", request, decision)
            if approve and request.approver_pool:
                engine = self.policy.current()
                groups = self.groups.groups_of(user, sorted(engine.referenced_usergroups()))
                if request.approver_pool not in engine.roles_of(user, groups):
                    tx.note(session, request.id, "approval_denied", actor=user, state=request.state,
                            detail={"why": f"approvers must hold {request.approver_pool}"})
                    return VoteOutcome("not_in_pool", f"This request needs approvers from {request.approver_pool}.", request, decision)
            already = session.exec(
                select(Approval).where(Approval.request_id == request.id, Approval.approver == user)
            ).first()
            if already is not None and (approve or already.decision == "reject"):
                return VoteOutcome("duplicate", f"You already {already.decision}d this request; it counts once.", request)
            if already is not None:
                # An approver may change their mind towards safety: approve, then reject.
                already.decision, already.reason, already.created_at = "reject", reason, utcnow()
                session.add(already)
            else:
                try:
                    with session.begin_nested():
                        session.add(Approval(request_id=request.id, approver=user,
                                             decision="approve" if approve else "reject", reason=reason,
                                             policy_version=decision.policy_version, created_at=utcnow()))
                except IntegrityError:
                    return VoteOutcome("duplicate", "Your decision was already recorded; it counts once.", request)
            if not approve:
                moved = tx.move(session, request.id, State.REJECTED, actor=user, event="rejected",
                                detail={"reason": reason, "decision": decision_record(decision)})
                assert moved is not None  # the row lock guarantees it
                self._announce(session, moved)
                outcome = VoteOutcome("rejected", f"You rejected {moved.id}.", moved, decision)
            else:
                approvers = _approvers(session, request.id)
                tx.note(session, request.id, "approval", actor=user, state=request.state,
                        detail={"count": len(approvers), "needed": request.approvals_needed,
                                "decision": decision_record(decision)})
                if len(approvers) >= max(request.approvals_needed, 1):
                    moved = tx.move(session, request.id, State.APPROVED, actor=user, event="approved",
                                    detail={"approvers": approvers})
                    assert moved is not None
                    self._announce(session, moved)
                    outcome = VoteOutcome("approved", f"You approved {moved.id}; it is being sent to RDS.", moved, decision)
                else:
                    if request.own_thread:
                        tx.enqueue(session, request_id=request.id, kind="anchor_update",
                                   dedupe_key=f"{request.id}:anchor:votes{len(approvers)}")
                    left = request.approvals_needed - len(approvers)
                    outcome = VoteOutcome("counted", f"Your approval is counted; {left} more needed.", request, decision)
        self._kick()
        if outcome.status == "approved" and outcome.request is not None:
            crashpoints.reached("after_approval")
            self.execute(outcome.request.id)
        return outcome

    def _announce(self, session: Any, request: Request) -> None:
        """The Slack side of a state change, recorded with it: card, final reply, DM."""
        state = State(request.state)
        if request.own_thread:
            tx.enqueue(session, request_id=request.id, kind="anchor_update", dedupe_key=f"{request.id}:anchor:{state}")
        if state in {State.SUCCEEDED, State.FAILED}:
            tx.enqueue(session, request_id=request.id, kind="final", dedupe_key=f"{request.id}:final")
        # The requester may not watch the approvals channel: tell them how it ended.
        ended_elsewhere = state in {State.SUCCEEDED, State.FAILED} and request.approvals_needed > 0
        if ended_elsewhere or state in {State.REJECTED, State.EXPIRED, State.CANCELLED}:
            tx.enqueue(session, request_id=request.id, kind="dm", dedupe_key=f"{request.id}:dm:{state}",
                       data={"to": request.requester})

    def cancel(self, request_id: str, *, user: str) -> CancelOutcome:
        """The requester withdraws a request that has not reached RDS yet."""
        with self.db.session() as session:
            request = tx.lock(session, request_id)
            if request is None:
                return CancelOutcome(False, f"There is no request {request_id[:64]}.")
            if request.requester != user:
                tx.note(session, request.id, "cancel_refused", actor=user, state=request.state,
                        detail={"why": "only the requester can cancel"})
                return CancelOutcome(False, "Only the requester can cancel a request.", request)
            moved = tx.move(session, request.id, State.CANCELLED, actor=user, event="cancelled",
                            sources={State.PENDING_APPROVAL, State.APPROVED})
            if moved is None:
                return CancelOutcome(False, f"{request.id} is already {request.state.replace('_', ' ')}; it can no longer be cancelled.", request)
            self._announce(session, moved)
        self._kick()
        return CancelOutcome(True, f"{moved.id} is cancelled.", moved)

    # --------------------------------------------------------------- execution
    def execute(self, request_id: str) -> None:
        """Claim an approved request and send it to RDS (once, whoever calls)."""
        with logs.bound(request_id):
            self._execute(request_id)

    def _execute(self, request_id: str) -> None:
        with self.db.session() as session:
            claimed = tx.move(session, request_id, State.SUBMITTED, actor="rdsbot", event="submitted",
                              sources={State.APPROVED}, submitted_at=utcnow(), attempts=Request.attempts + 1)
        if claimed is None:
            return
        self._call_rds(claimed)

    def _call_rds(self, request: Request) -> None:
        op = self.operation(request.operation)
        try:
            body = op.start(self.gateway, request.id, request.params)
        except RdsError as error:
            self._call_failed(request, op, error)
            return
        crashpoints.reached("after_rds_call")
        self._started(request, op, body)

    def _started(self, request: Request, op: Operation, body: Mapping[str, Any]) -> None:
        result = {k: v for k, v in body.items() if k != "RequestId"}
        result["ApiRequestId"] = body.get("RequestId")
        with self.db.session() as session:
            moved = tx.move(session, request.id, State.RUNNING, actor="rdsbot", event="started",
                            sources={State.SUBMITTED}, result=result, progress={}, error_code=None, error_message=None,
                            detail={"api": op.api_action, "response": result})
            if moved is not None:
                self._announce(session, moved)
                tx.enqueue(session, request_id=request.id, kind="reply", dedupe_key=f"{request.id}:started",
                           data={"event": "started"})
        self.directory.forget(request.instance_id)
        self._kick()

    def _call_failed(self, request: Request, op: Operation, error: RdsError) -> None:
        transient = error.transient and error.kind is not ErrorKind.AUTH
        with self.db.session() as session:
            if transient and request.attempts < MAX_SUBMIT_ATTEMPTS:
                # Unknown outcome: keep `submitted`; recovery asks again later with
                # the same ClientToken (or looks for the job first, without one).
                fresh = session.get(Request, request.id)
                if fresh is not None and fresh.state == State.SUBMITTED:
                    tx.touch(session, fresh, expect_version=fresh.version, error_code=error.code,
                             error_message=error.message[:2000])
                tx.note(session, request.id, "submit_retry_scheduled", actor="rdsbot", state=State.SUBMITTED,
                         detail={"code": error.code, "kind": error.kind, "attempt": request.attempts})
                tx.enqueue(session, request_id=request.id, kind="reply",
                           dedupe_key=f"{request.id}:retry:{request.attempts}",
                           data={"event": "retrying", "code": error.code, "plain": error.plain(),
                                 "attempt": request.attempts, "safe": op.takes_client_token})
            else:
                moved = tx.move(session, request.id, State.FAILED, actor="rdsbot", event="failed",
                                sources={State.SUBMITTED}, error_code=error.code, error_message=error.message[:2000],
                                detail={"code": error.code, "message": error.message, "status": error.status,
                                        "api_request_id": error.request_id})
                if moved is not None:
                    self._announce(session, moved)
        self._kick()

    # ---------------------------------------------------------------- progress
    def poll(self, request_id: str) -> Progress | None:
        """Look at one running job; post a reply when its status changed."""
        with logs.bound(request_id):
            return self._poll(request_id)

    def _poll(self, request_id: str) -> Progress | None:
        with self.db.reader() as session:
            request = session.get(Request, request_id)
        if request is None or request.state != State.RUNNING:
            return None
        op = self.operation(request.operation)
        now = utcnow()
        try:
            memo = {**(request.progress or {}).get("memo", {}),
                    "submitted_at": (request.submitted_at or request.created_at).isoformat()}
            progress = op.probe(self.directory, request.params, request.result, memo)
        except RdsError as error:
            return self._poll_error(request, error, now)
        crashpoints.reached("while_polling")
        if not progress.done and request.submitted_at and now - request.submitted_at > timedelta(seconds=self.settings.job_timeout_s):
            progress = Progress(status=progress.status, done=True, failed=True, error_code="JobTimeout",
                                error_message=f"The job was still {progress.status} after "
                                              f"{int(self.settings.job_timeout_s)} s; the bot stopped waiting. "
                                              "Check it in the RDS console.")
        with self.db.session() as session:
            fresh = session.get(Request, request_id)
            if fresh is None or fresh.state != State.RUNNING:
                return None
            if progress.done:
                target = State.FAILED if progress.failed else State.SUCCEEDED
                result = {**fresh.result, **progress.result}
                moved = tx.move(session, request_id, target, actor="rdsbot", event=target.value,
                                sources={State.RUNNING}, result=result,
                                progress={**fresh.progress, "status": progress.status, "checked_at": now.isoformat()},
                                error_code=progress.error_code, error_message=progress.error_message,
                                detail={"status": progress.status, "result": progress.result,
                                        "code": progress.error_code, "message": progress.error_message})
                if moved is not None:
                    if op.progress_in_place and fresh.progress_ts:
                        # Leave the in-place progress line showing how it ended.
                        tx.enqueue(session, request_id=request_id, kind="progress_edit",
                                   dedupe_key=f"{request_id}:edit:end",
                                   data={"event": "progress", "status": progress.status,
                                         "percent": 100 if not progress.failed else progress.percent})
                    self._announce(session, moved)
                    self.directory.forget(request.instance_id)
            else:
                seen = fresh.progress or {}
                changed = progress.key != seen.get("key")
                percent_moved = progress.percent is not None and progress.percent != seen.get("percent")
                new = {"key": progress.key, "status": progress.status, "percent": progress.percent,
                       "seq": int(seen.get("seq", 0)) + (1 if changed else 0), "checked_at": now.isoformat(),
                       "misses": 0, "memo": progress.memo}
                if not tx.touch(session, fresh, expect_version=fresh.version, progress=new):
                    return progress  # someone else polled it at the same moment
                if changed:
                    tx.note(session, request_id, "progress", actor="rdsbot", state=State.RUNNING,
                            detail={"status": progress.status, "percent": progress.percent})
                data = {"event": "progress", "status": progress.status, "percent": progress.percent}
                if op.progress_in_place and (changed or percent_moved):
                    tx.enqueue(session, request_id=request_id, kind="progress_edit",
                               dedupe_key=f"{request_id}:edit:{new['seq']}:{progress.percent}", data=data)
                elif changed:
                    tx.enqueue(session, request_id=request_id, kind="reply",
                               dedupe_key=f"{request_id}:progress:{new['seq']}", data=data)
        self._kick()
        return progress

    def _poll_error(self, request: Request, error: RdsError, now: datetime) -> None:
        misses = int((request.progress or {}).get("misses", 0)) + 1
        with self.db.session() as session:
            fresh = session.get(Request, request.id)
            if fresh is None or fresh.state != State.RUNNING:
                return None
            if error.code.endswith("NotFound") and misses >= MAX_NOT_FOUND_POLLS:
                moved = tx.move(session, request.id, State.FAILED, actor="rdsbot", event="failed",
                                sources={State.RUNNING}, error_code=error.code,
                                error_message=f"RDS no longer knows the job's resource: {error.message}",
                                detail={"code": error.code, "message": error.message, "polls": misses})
                if moved is not None:
                    self._announce(session, moved)
            else:
                tx.touch(session, fresh, expect_version=fresh.version,
                         progress={**(fresh.progress or {}), "misses": misses, "last_error": error.code,
                                   "checked_at": now.isoformat()})
        log.info("poll failed", extra={"request_id": request.id, "code": error.code, "misses": misses})
        self._kick()
        return None

    def poll_lag_s(self) -> float:
        """How long the longest-waiting running request has gone without a poll."""
        now = utcnow()
        worst = 0.0
        with self.db.reader() as session:
            for request in session.exec(select(Request).where(Request.state == State.RUNNING)):
                checked = (request.progress or {}).get("checked_at")
                last = datetime.fromisoformat(checked) if checked else (request.submitted_at or request.updated_at)
                worst = max(worst, (now - last).total_seconds())
        return worst

    def counts_by_state(self) -> list[tuple[str, str, int]]:
        """(operation, state, count) for the metrics gauge."""
        with self.db.reader() as session:
            rows = session.exec(
                select(Request.operation, Request.state, func.count()).group_by(Request.operation, Request.state)
            ).all()
        return [(str(op), str(state), int(n)) for op, state, n in rows]

    def running_ids(self) -> list[str]:
        with self.db.reader() as session:
            return list(session.exec(select(Request.id).where(Request.state == State.RUNNING).order_by(Request.updated_at)))

    def poll_all(self) -> int:
        count = 0
        for request_id in self.running_ids():
            try:
                self.poll(request_id)
                count += 1
            except Exception:  # noqa: BLE001 - one bad request must not stop the others' progress
                log.exception("poll crashed", extra={"request_id": request_id})
        return count

    # ------------------------------------------------------ expiry & recovery
    def expire_due(self) -> int:
        """Expire approvals nobody answered in time; tell the requester."""
        now = utcnow()
        with self.db.reader() as session:
            due = list(session.exec(
                select(Request.id).where(Request.state == State.PENDING_APPROVAL, Request.expires_at < now)  # type: ignore[operator]
            ))
        expired = 0
        for request_id in due:
            with self.db.session() as session:
                moved = tx.move(session, request_id, State.EXPIRED, actor="rdsbot", event="expired",
                                sources={State.PENDING_APPROVAL},
                                detail={"ttl_s": self.settings.approval_ttl_s})
                if moved is not None:
                    self._announce(session, moved)
                    expired += 1
        if expired:
            self._kick()
        return expired

    def recover(self) -> int:
        """Finish what a crash interrupted: approved-not-sent, and sent-without-answer."""
        now = utcnow()
        lease = timedelta(seconds=self.retry_delay_s())
        with self.db.reader() as session:
            approved = list(session.exec(
                select(Request.id).where(Request.state == State.APPROVED, Request.updated_at < now - timedelta(seconds=5))  # type: ignore[operator]
            ))
            stuck = list(session.exec(
                select(Request).where(Request.state == State.SUBMITTED, Request.updated_at < now - lease)  # type: ignore[operator]
            ))
        for request_id in approved:
            self.execute(request_id)
        for request in stuck:
            self._resubmit(request)
        return len(approved) + len(stuck)

    def _resubmit(self, request: Request) -> None:
        op = self.operation(request.operation)
        with self.db.session() as session:
            fresh = session.get(Request, request.id)
            if fresh is None or fresh.state != State.SUBMITTED:
                return
            # Claim the retry: only one replica wins the version check.
            if not tx.touch(session, fresh, expect_version=fresh.version, attempts=fresh.attempts + 1):
                return
            tx.note(session, request.id, "resubmitted", actor="rdsbot", state=State.SUBMITTED,
                    detail={"attempt": fresh.attempts + 1, "client_token": op.takes_client_token})
            claimed = session.get(Request, request.id)
        assert claimed is not None
        if claimed.attempts > MAX_SUBMIT_ATTEMPTS:
            self._call_failed(claimed, op, RdsError(claimed.error_code or "SubmitAbandoned",
                                                    claimed.error_message or "RDS never confirmed the job.",
                                                    ErrorKind.API))
            return
        if not op.takes_client_token:
            found = op.find_started(self.directory, claimed.id, claimed.params, claimed.submitted_at or claimed.created_at)
            if found is not None:
                self._started(claimed, op, found)
                return
        self._call_rds(claimed)

    # ----------------------------------------------------------------- reading
    def get(self, request_id: str) -> Request | None:
        with self.db.reader() as session:
            return session.get(Request, request_id)

    def may_view(self, request: Request, user: str) -> bool:
        """Details go to the requester and to those who may approve it, nobody else."""
        if user == request.requester:
            return True
        return self.decide(user, APPROVE_ACTION, request.resource, request.tags or None).allowed

    def may_decide(self, request: Request, user: str) -> bool:
        """Whether ``user`` may approve or reject this request (never its requester)."""
        if user == request.requester:
            return False
        return self.decide(user, APPROVE_ACTION, request.resource, request.tags or None).allowed

    def recent(self, user: str, *, limit: int = 10) -> list[Request]:
        with self.db.reader() as session:
            return list(session.exec(
                select(Request).where(Request.requester == user).order_by(Request.created_at.desc()).limit(limit)  # type: ignore[attr-defined]
            ))

    def timeline(self, request_id: str) -> Timeline | None:
        with self.db.reader() as session:
            request = session.get(Request, request_id)
            if request is None:
                return None
            events = list(session.exec(
                select(AuditEvent).where(AuditEvent.request_id == request_id).order_by(AuditEvent.seq)  # type: ignore[arg-type]
            ))
        return Timeline(request=request, events=events)

    def approvers_of(self, request_id: str) -> list[str]:
        with self.db.reader() as session:
            return _approvers(session, request_id)

    def rejection_of(self, request_id: str) -> tuple[str, str] | None:
        """(who, why) of the rejection, if the request was rejected."""
        with self.db.reader() as session:
            row = session.exec(
                select(Approval).where(Approval.request_id == request_id, Approval.decision == "reject")
            ).first()
            return (row.approver, row.reason) if row is not None else None

    def retry_delay_s(self) -> float:
        """How long until recovery resends a job whose outcome RDS left unknown."""
        if self.settings.resubmit_after_s is not None:
            return self.settings.resubmit_after_s
        return self.settings.rds_timeout_s * self.settings.rds_max_attempts + 20

    def active(self) -> Sequence[Request]:
        with self.db.reader() as session:
            return list(session.exec(select(Request).where(Request.state.in_([s.value for s in ACTIVE]))))  # type: ignore[attr-defined]


def _approvers(session: Any, request_id: str) -> list[str]:
    rows = session.exec(
        select(Approval.approver).where(Approval.request_id == request_id, Approval.decision == "approve").order_by(Approval.id)  # type: ignore[arg-type]
    )
    return list(rows)


def decision_record(decision: Decision) -> dict[str, Any]:
    """What the audit trail keeps of a policy decision (DESIGN: action, resource, version, rule)."""
    rule = decision.rule
    return {
        "allowed": decision.allowed,
        "subject": decision.subject,
        "action": decision.action,
        "resource": decision.resource,
        "policy_version": decision.policy_version,
        "rule": None if rule is None else {"path": rule.path, "line": rule.line, "text": rule.text},
        "via": decision.via,
        "explanation": decision.explain(),
    }
