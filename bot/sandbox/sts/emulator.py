"""An STS endpoint (2015-04-01) that answers AssumeRole for the unmodified STS SDK.

It checks the caller's ACS3-HMAC-SHA256 signature with the RDS emulator's verifier
(:mod:`bot.sandbox.rds.signature`), validates the parameters as STS documents them
(RoleArn ``acs:ram::<account>:role/<name>``, RoleSessionName 2–64 of letters, digits
and ``. @ - _``, DurationSeconds 900–3600, Policy JSON up to 2,048 characters) and
issues an ``STS.…`` AccessKey, its secret and a security token, recorded in a
:class:`SessionBook` that an :class:`~bot.sandbox.rds.RdsEmulator` given the same
book enforces. It serves through the RDS emulator's HTTP server.
"""

from __future__ import annotations

import json
import re
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from bot.sandbox.rds.dispatch import Answer, request_parameters
from bot.sandbox.rds.errors import ApiError
from bot.sandbox.rds.server import Served
from bot.sandbox.rds.signature import NonceCache, SignedRequest, verify
from bot.sandbox.rds.sessions import Session, SessionBook

API_VERSION = "2015-04-01"
HOST_ID = "sts.aliyuncs.com"
MIN_DURATION_S, MAX_DURATION_S = 900, 3600
MAX_POLICY_CHARS = 2048
_ROLE_ARN = re.compile(r"acs:ram::(\d+):role/([A-Za-z0-9.@_-]{1,64})")
_SESSION_NAME = re.compile(r"[A-Za-z0-9.@_-]{2,64}")


def _bad(code: str, message: str, status: int = 400) -> ApiError:
    return ApiError(code, status=status, message=message)


class StsDispatcher:
    """AssumeRole (and nothing else) for the callers whose keys it knows."""

    def __init__(self, keys: Mapping[str, str], book: SessionBook, *, roles: set[str] | None,
                 clock: Callable[[], float]) -> None:
        self._keys = dict(keys)
        self._book = book
        self._roles = roles
        self._clock = clock
        self._nonces = NonceCache()

    def handle(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Answer:
        request_id = str(uuid.uuid4()).upper()
        query_params, params = request_parameters(query, headers, body)
        try:
            caller = verify(SignedRequest(method, path, query_params, headers, body), self._keys, self._nonces)
            if (headers.get("x-acs-version") or params.get("Version")) != API_VERSION:
                raise ApiError("InvalidVersion")
            if (headers.get("x-acs-action") or params.get("Action")) != "AssumeRole":
                raise ApiError("InvalidAction.NotFound")
            return Answer(200, {"RequestId": request_id, **self._assume(caller, params)})
        except ApiError as error:
            return Answer(error.status, {"RequestId": request_id, "HostId": HOST_ID, "Code": error.code,
                                         "Message": error.message})

    def _assume(self, caller: str, params: Mapping[str, str]) -> dict[str, Any]:
        role_arn = params.get("RoleArn", "")
        found = _ROLE_ARN.fullmatch(role_arn)
        if found is None:
            raise _bad("InvalidParameter.RoleArn", "The parameter RoleArn is wrongly formed.")
        if self._roles is not None and role_arn not in self._roles:
            raise _bad("EntityNotExist.Role", f"The role not exists: {role_arn}.", 404)
        name = params.get("RoleSessionName", "")
        if not _SESSION_NAME.fullmatch(name):
            raise _bad("InvalidParameter.RoleSessionName", "The parameter RoleSessionName is wrongly formed.")
        try:
            duration = int(params.get("DurationSeconds") or MAX_DURATION_S)
        except ValueError:
            raise _bad("InvalidParameter.DurationSeconds", "The DurationSeconds is not valid.") from None
        if not MIN_DURATION_S <= duration <= MAX_DURATION_S:
            raise _bad("InvalidParameter.DurationSeconds",
                       f"The DurationSeconds must be between {MIN_DURATION_S} and {MAX_DURATION_S}.")
        policy = self._policy(params.get("Policy"))
        now = self._clock()
        session = Session(access_key_id=f"STS.{secrets.token_hex(12)}", access_key_secret=secrets.token_urlsafe(30),
                          security_token=f"CAIS{secrets.token_urlsafe(96)}", role_arn=role_arn, session_name=name,
                          policy=policy, caller=caller, issued_at=now, expires_at=now + duration)
        self._book.add(session)
        role_name = found.group(2)
        return {
            "Credentials": {
                "AccessKeyId": session.access_key_id,
                "AccessKeySecret": session.access_key_secret,
                "SecurityToken": session.security_token,
                "Expiration": datetime.fromtimestamp(session.expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
            "AssumedRoleUser": {
                "Arn": f"acs:ram::{found.group(1)}:role/{role_name.lower()}/{name}",
                "AssumedRoleId": f"3{secrets.randbelow(10**17):017d}:{name}",
            },
        }

    @staticmethod
    def _policy(text: str | None) -> dict[str, Any] | None:
        if text is None or text == "":
            return None
        if len(text) > MAX_POLICY_CHARS:
            raise _bad("InvalidParameter.PolicySize", f"The policy is longer than {MAX_POLICY_CHARS} characters.")
        try:
            policy = json.loads(text)
        except ValueError:
            raise _bad("InvalidParameter.PolicyGrammar", "The policy is not valid JSON.") from None
        if not isinstance(policy, dict) or not isinstance(policy.get("Statement"), list):
            raise _bad("InvalidParameter.PolicyGrammar", "The policy has no Statement list.")
        return policy


class StsEmulator(Served):
    """Start/stop an STS endpoint; ``sessions`` is the book to hand to the RDS emulator.

    ``roles`` limits the role ARNs that exist (default: any well-formed one).
    """

    _thread_name = "STS emulator"

    def __init__(self, *, keys: Mapping[str, str], sessions: SessionBook | None = None,
                 roles: set[str] | None = None, clock: Callable[[], float] = time.time) -> None:
        self.sessions = sessions if sessions is not None else SessionBook()
        self._dispatcher = StsDispatcher(keys, self.sessions, roles=roles, clock=clock)
        Served.__init__(self)
