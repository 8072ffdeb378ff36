"""The STS sessions the emulator has issued, shared with the RDS emulator that enforces them.

A session is an AccessKey pair (``STS.…``) plus a security token, for one role, named by
the caller (``RoleSessionName``) and optionally narrowed by a session policy. The RDS
emulator looks a signing key up here (:meth:`SessionBook.get` makes the book usable as a
key -> secret mapping next to the static keys), then asks :meth:`SessionBook.authorize`
whether the session may run an action on the instances a call names.

The policy language is RAM's: ``Statement`` entries with ``Effect`` Allow/Deny,
``Action`` and ``Resource`` (a string or a list, ``*`` matches any run of characters);
an explicit deny wins, and without a matching allow the answer is no. Actions compare
case-insensitively, resources exactly.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bot.sandbox.rds.errors import ApiError


@dataclass(frozen=True)
class Session:
    """One AssumeRole answer, as the emulator remembers it."""

    access_key_id: str
    access_key_secret: str
    security_token: str
    role_arn: str
    session_name: str
    policy: Mapping[str, Any] | None  # None: the role's own permissions, unnarrowed
    caller: str  # the AccessKey ID that asked
    issued_at: float
    expires_at: float

    @property
    def account(self) -> str:
        """The role's account (``acs:ram::<account>:role/<name>``)."""
        return self.role_arn.split(":")[3]


@lru_cache(maxsize=1024)
def _pattern(text: str, fold: bool) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in text.split("*")), re.IGNORECASE if fold else 0)


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value or ()]


def _covers(statement: Mapping[str, Any], action: str, resource: str) -> bool:
    actions = _listed(statement.get("Action"))
    resources = _listed(statement.get("Resource"))
    return (any(_pattern(a, True).fullmatch(action) for a in actions)
            and any(_pattern(r, False).fullmatch(resource) for r in resources))


def allows(policy: Mapping[str, Any] | None, action: str, resources: Sequence[str]) -> bool:
    """Whether ``policy`` lets ``action`` run on every one of ``resources``."""
    if policy is None:
        return True
    statements = [s for s in policy.get("Statement", ()) if isinstance(s, Mapping)]
    for resource in resources:
        effects = {s.get("Effect") for s in statements if _covers(s, action, resource)}
        if "Deny" in effects or "Allow" not in effects:
            return False
    return True


class SessionBook(Mapping[str, str]):
    """Issued sessions by AccessKey ID; as a mapping, AccessKey ID -> secret of live sessions."""

    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def add(self, session: Session) -> None:
        with self._lock:
            self._sessions[session.access_key_id] = session

    def session(self, access_key_id: str | None) -> Session | None:
        with self._lock:
            return self._sessions.get(access_key_id or "")

    def all(self) -> list[Session]:
        """Every session issued so far, oldest first."""
        with self._lock:
            return list(self._sessions.values())

    def __getitem__(self, access_key_id: str) -> str:
        session = self.session(access_key_id)
        if session is None:
            raise KeyError(access_key_id)
        return session.access_key_secret

    def __iter__(self) -> Iterator[str]:
        return iter(self.all_keys())

    def all_keys(self) -> list[str]:
        with self._lock:
            return list(self._sessions)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def authorize(self, session: Session, token: str | None, action: str, resources: Sequence[str],
                  now: float) -> None:
        """Raise the service's refusal unless ``session`` (with ``token``) may do ``action`` on ``resources``."""
        if token != session.security_token:
            raise ApiError("InvalidSecurityToken.MismatchWithAccessKey")
        if now >= session.expires_at:
            raise ApiError("InvalidSecurityToken.Expired")
        if not allows(session.policy, action, resources):
            names = ", ".join(resources)
            raise ApiError("Forbidden.RAM", message=(
                f"User not authorized to operate on the specified resource, or this API does not support RAM. "
                f"{action} on {names} is outside the policy of session {session.session_name}."))
