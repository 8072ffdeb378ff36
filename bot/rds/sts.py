"""A cloud identity per request: AssumeRole through the STS SDK, cached per request.

:class:`RequestIdentities` hands out, for one request, an :class:`SdkGateway` whose
client signs with STS credentials for ``RDSBOT_RAM_ROLE_ARN`` (session name and
policy from :mod:`bot.rds.session`), for :data:`SESSION_DURATION_S`. The credentials
are kept per request ID and asked for again shortly before they expire, so a
retried or resumed call of the same request reuses its session. The STS client
itself signs with the bot's own identity (RDSBOT_STS_ENDPOINT, RDSBOT_STS_PROTOCOL).
"""

from __future__ import annotations

import calendar
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bot.config import Settings
from bot.rds.errors import ErrorKind, RdsError
from bot.rds.gateway import SdkGateway, from_sdk, network_error, sdk_config
from bot.rds.places import Account
from bot.rds.retry import CallSafety
from bot.rds.session import SESSION_DURATION_S, SessionCredentials, session_name, session_policy

log = logging.getLogger(__name__)

#: Credentials closer than this to their expiry are replaced before a call.
REFRESH_MARGIN_S = 120.0
#: Requests whose sessions are remembered at once (the oldest are forgotten first).
MAX_CACHED = 256


def _expiry(text: str | None, fallback: float) -> float:
    try:
        return float(calendar.timegm(time.strptime(text or "", "%Y-%m-%dT%H:%M:%SZ")))
    except ValueError:
        return fallback


class StsIssuer:
    """AssumeRole for one role (default RDSBOT_RAM_ROLE_ARN), signed with the ``account``'s own
    credentials when it has them, else with the bot's own."""

    def __init__(self, settings: Settings, *, role_arn: str | None = None, account: Account | None = None) -> None:
        self.settings = settings
        self.role_arn = role_arn or settings.ram_role_arn
        self.account = account
        self._client: Any = None
        self._lock = threading.Lock()

    def _sdk(self) -> Any:
        with self._lock:
            if self._client is None:
                from alibabacloud_sts20150401.client import Client

                s = self.settings
                self._client = Client(sdk_config(s, s.sts_endpoint, s.sts_protocol, account=self.account))
            return self._client

    def assume(self, name: str, policy: str) -> SessionCredentials:
        """One AssumeRole call; raises :class:`RdsError` (kind AUTH when STS refuses)."""
        from alibabacloud_sts20150401 import models
        from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
        from darabonba.runtime import RuntimeOptions
        from Tea.exceptions import TeaException, UnretryableException

        request = models.AssumeRoleRequest(role_arn=self.role_arn, role_session_name=name,
                                           policy=policy, duration_seconds=SESSION_DURATION_S)
        timeout_ms = int(self.settings.rds_timeout_s * 1000)
        runtime = RuntimeOptions(read_timeout=timeout_ms, connect_timeout=min(timeout_ms, 5000), autoretry=False)
        asked_at = time.time()
        try:
            body = self._sdk().assume_role_with_options(request, runtime).body
        except UnretryableException as exc:
            raise network_error(exc) from None
        except (AlibabaCloudException, TeaException) as exc:
            error = from_sdk(exc, None)
            if error.kind is ErrorKind.API and error.status in {401, 403, 404}:
                error = RdsError(error.code, error.message, ErrorKind.AUTH, error.status, error.request_id)
            raise error from None
        credentials = body.credentials if body is not None else None
        if credentials is None or not credentials.access_key_id:
            raise RdsError("InvalidStsResponse", "STS answered AssumeRole without credentials", ErrorKind.SERVER)
        return SessionCredentials(
            access_key_id=credentials.access_key_id, access_key_secret=credentials.access_key_secret,
            security_token=credentials.security_token, session_name=name,
            expires_at=_expiry(credentials.expiration, asked_at + SESSION_DURATION_S))


class RequestIdentities:
    """Per-request gateways over STS sessions, cached by request ID until shortly before expiry."""

    def __init__(self, settings: Settings, *, sleep: Callable[[float], None] = time.sleep,
                 issuer: StsIssuer | None = None, clock: Callable[[], float] = time.time,
                 region_id: str | None = None, account: Account | None = None, role_arn: str | None = None) -> None:
        self.settings = settings
        self.issuer = issuer or StsIssuer(settings, role_arn=role_arn, account=account)
        self.region_id = region_id or settings.region_id
        self._sleep = sleep
        self._clock = clock
        self._cache: dict[str, SdkGateway] = {}
        self._lock = threading.Lock()

    def gateway(self, request_id: str, requester: str, action: str | Sequence[str],
                resources: Sequence[str]) -> SdkGateway:
        """The gateway for ``request_id``'s mutating call, with a fresh enough session."""
        now = self._clock()
        with self._lock:
            cached = self._cache.get(request_id)
        if cached is not None and cached.credentials is not None \
                and cached.credentials.expires_at - now > REFRESH_MARGIN_S:
            return cached
        credentials = self.issuer.assume(session_name(requester, request_id), session_policy(action, resources))
        # The session name says who and which request; no part of the credentials is logged.
        log.info("sts session", extra={"request_id": request_id, "session": credentials.session_name})
        gateway = SdkGateway(self.settings, sleep=self._sleep, credentials=credentials, region_id=self.region_id)
        with self._lock:
            self._cache = {k: g for k, g in self._cache.items()
                           if g.credentials is not None and g.credentials.expires_at > now}
            while len(self._cache) >= MAX_CACHED:
                self._cache.pop(next(iter(self._cache)))
            self._cache[request_id] = gateway
        return gateway


#: What the bot's own read session in a cross-account role may do: the Describe and List calls only.
READ_ACTIONS = ("rds:Describe*", "rds:ListTagResources")
READ_SESSION = "reads"


class RoleReads:
    """The gateway of an account reached only through its ``role_arn``: reads in one read-only session
    of that role (renewed before it expires), each request's call in a session of its own."""

    def __init__(self, settings: Settings, account: Account, region_id: str, *,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.region_id = region_id
        self.account = account
        self.identities = RequestIdentities(settings, sleep=sleep, region_id=region_id, account=account,
                                            role_arn=account.role_arn)

    def call(self, action: str, params: Mapping[str, Any], *, safety: CallSafety = CallSafety.READ) -> dict[str, Any]:
        reader = self.identities.gateway(READ_SESSION, "rdsbot", READ_ACTIONS, ["*"])
        return reader.call(action, params, safety=safety)

    def for_request(self, request_id: str, requester: str, action: str, resources: list[str]) -> SdkGateway:
        return self.identities.gateway(request_id, requester, action, resources)
