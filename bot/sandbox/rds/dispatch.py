"""From one HTTP request to one answer: authenticate, apply faults, run the operation.

Kept apart from the HTTP server so the pipeline reads top to bottom and can be
driven without sockets. The steps, in order:

1. parameters: the query string, plus a form-encoded body when there is one;
2. the ACS3 signature (:mod:`signature`): unknown AccessKey, bad signature, stale
   date, reused nonce;
3. ``x-acs-version`` must be 2014-08-15 (``InvalidVersion``) and the action known
   (``InvalidAction.NotFound``, 404);
4. the next injected fault for the action, if any;
5. the operation, under the state lock, after finishing due jobs. For actions whose
   API has a ClientToken (CloneDBInstance, RestoreDdrTable), a token seen before for
   the same action returns the first successful answer unchanged and runs nothing;
6. one journal record.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from bot.sandbox.rds import ops_backup, ops_clone, ops_copy, ops_cross_region, ops_history, ops_instances, ops_price
from bot.sandbox.rds.errors import ApiError, invalid
from bot.sandbox.rds.faults import Fault, FaultQueue
from bot.sandbox.rds.journal import CallRecord, Journal
from bot.sandbox.rds.params import Params
from bot.sandbox.rds.signature import NonceCache, SignedRequest, verify
from bot.sandbox.rds.state import State
from bot.sandbox.rds.sessions import Session, SessionBook

logger = logging.getLogger(__name__)

API_VERSION = "2014-08-15"
Operation = Callable[[State, Params], dict[str, Any]]
OPERATIONS: dict[str, Operation] = {
    **ops_instances.OPERATIONS,
    **ops_backup.OPERATIONS,
    **ops_clone.OPERATIONS,
    **ops_copy.OPERATIONS,
    **ops_cross_region.OPERATIONS,
    **ops_history.OPERATIONS,
    **ops_price.OPERATIONS,
}
# Parameters that name an instance a call acts on (its RAM resources).
INSTANCE_PARAMS = ("DBInstanceId", "TargetDBInstanceId", "SourceDBInstanceName")
# Actions whose request model has a ClientToken that the service honours.
IDEMPOTENT_ACTIONS = {ops_clone.ACTION, ops_cross_region.RESTORE_ACTION}


@dataclass
class Answer:
    """What the HTTP layer sends back."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


def request_parameters(query: str, headers: Mapping[str, str], body: bytes) -> tuple[dict[str, str], dict[str, str]]:
    """(query parameters, all parameters): the body counts only when it is a form."""
    query_params = dict(parse_qsl(query, keep_blank_values=True))
    params = dict(query_params)
    if body and headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return query_params, params


class Dispatcher:
    """Runs requests against one :class:`State`; safe to call from many threads."""

    def __init__(self, state: State, secrets: Mapping[str, str], faults: FaultQueue, journal: Journal,
                 sessions: SessionBook | None = None, accounts: Mapping[str, str] | None = None) -> None:
        self.state = state
        self._sessions = sessions
        # AccessKey ID -> the account it acts in; any other key (and a session of a role outside
        # these accounts) acts in the main account "".
        self._accounts = dict(accounts or {})
        # STS session keys (issued by the STS emulator sharing ``sessions``) sign like any other key.
        self._secrets: Mapping[str, str] = ChainMap(dict(secrets), sessions) if sessions is not None else dict(secrets)
        self._nonces = NonceCache()
        self._faults = faults
        self._journal = journal

    def handle(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """Answer one request; ``headers`` must have lower-case names."""
        request_id = str(uuid.uuid4()).upper()
        query_params, params = request_parameters(query, headers, body)
        action = headers.get("x-acs-action") or params.get("Action", "")
        fault: Fault | None = None
        replayed = False
        access_key_id = None
        session: Session | None = None
        try:
            signed = SignedRequest(method, path, query_params, headers, body)
            access_key_id = verify(signed, self._secrets, self._nonces)
            if (headers.get("x-acs-version") or params.get("Version")) != API_VERSION:
                raise ApiError("InvalidVersion")
            operation = OPERATIONS.get(action)
            if operation is None:
                raise ApiError("InvalidAction.NotFound")
            session = self._sessions.session(access_key_id) if self._sessions is not None else None
            if session is not None:
                self._sessions.authorize(session, headers.get("x-acs-security-token"),  # type: ignore[union-attr]
                                         f"rds:{action}", self._resources(params, session.account), time.time())
            fault = self._faults.take(action, params.get("RegionId"))
            injected = fault.error() if fault is not None else None
            if injected is not None:
                raise injected
            answer_body, replayed = self._run(action, operation, params, request_id,
                                              self._account_of(access_key_id, session))
            answer = Answer(200, answer_body)
        except ApiError as error:
            answer = Answer(error.status, error.body(request_id))
            if error.retry_after_ms:
                answer.headers["x-acs-retry-after"] = str(error.retry_after_ms)
        if fault is not None:
            answer.delay_s = fault.delay_s
        self._journal.append(
            CallRecord(
                action=action,
                params=params,
                status=answer.status,
                code=answer.body.get("Code") if answer.status >= 400 else None,
                client_token=params.get("ClientToken"),
                time=time.time(),
                request_id=answer.body.get("RequestId", request_id),
                replayed=replayed,
                access_key_id=access_key_id,
                session_name=session.session_name if session is not None else None,
            )
        )
        return answer

    def run(self, action: str, params: Mapping[str, str], account: str = "") -> dict[str, Any]:
        """Step 5 alone: the operation, as a call acting in ``account`` would run it (no HTTP, signature,
        faults or journal record). Raises :class:`ApiError` as the call would have answered it."""
        operation = OPERATIONS.get(action)
        if operation is None:
            raise ApiError("InvalidAction.NotFound")
        body, _replayed = self._run(action, operation, dict(params), str(uuid.uuid4()).upper(), account)
        return body

    def _resources(self, params: Mapping[str, str], account: str) -> list[str]:
        """The ARN of every instance a call names, as RAM authorises it."""
        named = [params[name] for name in INSTANCE_PARAMS if params.get(name)]
        region = params.get("RegionId", "*")
        if not named:
            return [f"acs:rds:{region}:{account}:*"]
        arns = []
        for instance_id in named:
            instance = self.state.instances.get(instance_id)
            arns.append(f"acs:rds:{instance.region if instance else region}:{account}:dbinstance/{instance_id}")
        return arns

    def _account_of(self, access_key_id: str | None, session: Session | None) -> str:
        """The account a call acts in: its key's, or (STS) its role's when that is one of the accounts."""
        if session is not None:
            return session.account if session.account in self._accounts.values() else ""
        return self._accounts.get(access_key_id or "", "")

    def _run(
        self, action: str, operation: Operation, raw: dict[str, str], request_id: str, account: str = ""
    ) -> tuple[dict[str, Any], bool]:
        """Run the operation; returns (body, whether it was a ClientToken replay)."""
        params = Params(raw)
        token = params.get("ClientToken") if action in IDEMPOTENT_ACTIONS else None
        if token is not None and (len(token) > 64 or not token.isascii()):
            raise invalid("ClientToken")
        with self.state.lock:
            self.state.tick()
            self.state.caller = account
            if token is not None and (action, token) in self.state.responses:
                return dict(self.state.responses[(action, token)]), True
            try:
                result = operation(self.state, params)
            except ApiError:
                raise
            except Exception:  # a bug in the emulator: answer like the service would, keep the trace
                logger.exception("RDS emulator failed on %s", action)
                raise ApiError("InternalError") from None
            body = {"RequestId": request_id, **result}
            if token is not None:
                self.state.responses[(action, token)] = dict(body)
            return body, False
