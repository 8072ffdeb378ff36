"""The one door to the RDS API: the official SDK behind a tiny, typed interface.

Callers name an API action and pass its parameters by their API names (the same
names the modal's block_ids use); they get back the response body as a dict or
an :class:`RdsError`. The SDK is imported lazily on the first call because its
import alone costs about two seconds, which ``rdsbot --help`` must not pay.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from bot import metrics
from bot.config import Settings
from bot.rds import sdk_models
from bot.rds.errors import ErrorKind, RdsError
from bot.rds.places import KEY_ID_SUFFIX, SECRET_SUFFIX, Account
from bot.rds.retry import Backoff, CallSafety, should_retry
from bot.rds.session import SessionCredentials
from bot.redact import register_secrets

log = logging.getLogger(__name__)

#: Codes that say the identity is wrong or not allowed (RDS's, and STS's for AssumeRole).
AUTH_CODES = frozenset({"SignatureDoesNotMatch", "InvalidAccessKeyId.NotFound", "Forbidden.RAM", "InvalidAccessKeyId",
                        "NoPermission", "EntityNotExist.Role"})


class RdsGateway(Protocol):
    """What the rest of the bot needs from RDS."""

    region_id: str

    def call(self, action: str, params: Mapping[str, Any], *, safety: CallSafety = CallSafety.READ) -> dict[str, Any]:
        """Run one API action; raise :class:`RdsError` when it fails for good."""
        ...


def _sdk_methods(client_cls: type) -> dict[str, str]:
    """Action name (lower case) -> the SDK's ``*_with_options`` method name.

    The SDK's snake case is irregular (``describe_dbinstance_tdewith_options``),
    so the names are matched with underscores removed rather than derived.
    """
    methods = {}
    for name in dir(client_cls):
        if name.endswith("with_options") and not name.startswith("_"):
            key = name.replace("_", "").lower().removesuffix("withoptions")
            methods[key] = name
    return methods


class SdkGateway:
    """:class:`RdsGateway` over ``alibabacloud_rds20140815`` with retries and metrics."""

    def __init__(self, settings: Settings, *, sleep: Callable[[float], None] = time.sleep,
                 credentials: SessionCredentials | None = None, region_id: str | None = None,
                 account: Account | None = None, role_arn: str | None = None) -> None:
        self.settings = settings
        self.credentials = credentials  # STS credentials of one request; None: the account's own identity
        self._identities: Any = None
        self.region_id = region_id or settings.region_id
        # Whose credentials sign (None: the bot's own), and the role each request's session assumes there.
        self.account = account
        self.role_arn = role_arn if account is not None else settings.ram_role_arn
        self.backoff = Backoff(max_attempts=settings.rds_max_attempts)
        self._sleep = sleep
        self._client: Any = None
        self._methods: dict[str, str] = {}
        self._lock = threading.Lock()
        if "sdk" in os.environ.get("DEBUG", ""):
            # The SDK's debug logging prints the Authorization header.
            log.warning("DEBUG=sdk ignored: it would log request signatures")
            os.environ["DEBUG"] = os.environ["DEBUG"].replace("sdk", "")

    def warm(self) -> None:
        """Import the SDK and build the client now, so the first user does not wait ~2 s for it."""
        self._sdk()

    def _sdk(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._build_client()
                self._methods = _sdk_methods(type(self._client))
            return self._client

    def _build_client(self) -> Any:
        sdk_models.install()  # before the client imports the SDK's models, which it would import whole
        from alibabacloud_rds20140815.client import Client

        s = self.settings
        return Client(sdk_config(s, s.rds_endpoint, s.rds_protocol, self.credentials, account=self.account,
                                 region_id=self.region_id))

    def _who(self) -> str:
        return (self.account.alias if self.account is not None else "") or "(default)"

    def for_request(self, request_id: str, requester: str, action: str, resources: list[str]) -> RdsGateway:
        """The gateway for one request's mutating call: with a session role (``RDSBOT_RAM_ROLE_ARN``, or the
        account's ``role_arn``), signed with STS credentials for that role (session named after ``requester``
        and ``request_id``, policy allowing only ``action`` on ``resources``), cached per request; otherwise
        this gateway."""
        if not self.role_arn or self.credentials is not None:
            return self
        with self._lock:
            if self._identities is None:
                from bot.rds.sts import RequestIdentities

                self._identities = RequestIdentities(self.settings, sleep=self._sleep, region_id=self.region_id,
                                                     account=self.account, role_arn=self.role_arn)
            identities = self._identities
        gateway: RdsGateway = identities.gateway(request_id, requester, action, resources)
        return gateway

    def call(self, action: str, params: Mapping[str, Any], *, safety: CallSafety = CallSafety.READ) -> dict[str, Any]:
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                body = self._call_once(action, params)
            except RdsError as error:
                metrics.RDS_ERRORS.labels(action, error.code).inc()
                if attempt < self.backoff.max_attempts and should_retry(error, safety):
                    delay = self.backoff.delay(attempt, error)
                    log.info(
                        "rds call retry",
                        extra={"action": action, "code": error.code, "attempt": attempt, "delay_s": round(delay, 3)},
                    )
                    self._sleep(delay)
                    continue
                metrics.RDS_CALLS.labels(action, "error").observe(time.monotonic() - started)
                raise
            metrics.RDS_CALLS.labels(action, "ok").observe(time.monotonic() - started)
            return body

    def _call_once(self, action: str, params: Mapping[str, Any]) -> dict[str, Any]:
        client = self._sdk()
        from alibabacloud_credentials.exceptions import CredentialException
        from alibabacloud_rds20140815 import models  # after _sdk(): see sdk_models
        from alibabacloud_tea_openapi.exceptions import AlibabaCloudException, ThrottlingException
        from darabonba.runtime import RuntimeOptions
        from Tea.exceptions import TeaException, UnretryableException

        request_cls = getattr(models, f"{action}Request", None)
        method_name = self._methods.get(action.lower()) if self._methods else None
        method = getattr(client, method_name, None) if method_name else None
        if request_cls is None or method is None:
            raise RdsError("InvalidAction.NotFound", f"the SDK has no API named {action}")
        payload = {"RegionId": self.region_id, **{k: v for k, v in params.items() if v is not None}}
        runtime = RuntimeOptions(
            read_timeout=int(self.settings.rds_timeout_s * 1000),
            connect_timeout=int(min(self.settings.rds_timeout_s, 5.0) * 1000),
            autoretry=False,
        )
        try:
            response = method(request_cls().from_map(payload), runtime)
        except ThrottlingException as exc:
            raise from_sdk(exc, ErrorKind.THROTTLED) from None
        except AlibabaCloudException as exc:
            raise from_sdk(exc, None) from None
        except UnretryableException as exc:
            raise network_error(exc) from None
        except TeaException as exc:
            raise from_sdk(exc, None) from None
        except CredentialException as exc:
            # A profile that is missing or unreadable: say which account, never what the file holds.
            raise RdsError("CredentialsUnavailable", f"no credentials for account {self._who()}: {exc.message}",
                           ErrorKind.AUTH) from None
        body = response.body.to_map() if response.body is not None else {}
        return body


def sdk_config(settings: Settings, endpoint: str | None, protocol: str,
               credentials: SessionCredentials | None = None, *, account: Account | None = None,
               region_id: str | None = None) -> Any:
    """The SDK's ``Config`` for an endpoint and region: STS ``credentials`` when given, else the
    ``account``'s own (environment prefix or profile), else the bot's own identity (its AccessKey,
    or the SDK's default credential chain). Raises :class:`RdsError` when an account's are missing."""
    from alibabacloud_tea_openapi.utils_models import Config

    s = settings
    config = Config(
        region_id=region_id or s.region_id,
        protocol=protocol,
        read_timeout=int(s.rds_timeout_s * 1000),
        connect_timeout=int(min(s.rds_timeout_s, 5.0) * 1000),
    )
    if credentials is not None:
        config.access_key_id = credentials.access_key_id
        config.access_key_secret = credentials.access_key_secret
        config.security_token = credentials.security_token
    elif account is not None and account.own_key:
        _account_credentials(config, account)
    elif s.access_key_id is not None and s.access_key_secret is not None:
        config.access_key_id = s.access_key_id.get_secret_value()
        config.access_key_secret = s.access_key_secret.get_secret_value()
    else:
        from alibabacloud_credentials.client import Client as CredentialClient

        config.credential = CredentialClient()
    if endpoint:
        config.endpoint = endpoint
        host = endpoint.rsplit(":", 1)[0]
        if host in {"127.0.0.1", "localhost", "::1"}:
            # HTTP_PROXY would otherwise apply to the local emulator too.
            config.no_proxy = host
    return config


def _account_credentials(config: Any, account: Account) -> None:
    """An account's own AccessKey (from ``<env>_…`` variables) or credentials-file profile on ``config``."""
    if account.env:
        keys = account.env_keys()
        if keys is None:
            names = f"{account.env}{KEY_ID_SUFFIX} and {account.env}{SECRET_SUFFIX}"
            raise RdsError("AccountCredentialsMissing", f"account {account.alias}: set {names}", ErrorKind.AUTH)
        register_secrets(keys)  # redacted wherever they could appear, like the bot's own pair
        config.access_key_id, config.access_key_secret = keys
        return
    from alibabacloud_credentials.client import Client as CredentialClient
    from alibabacloud_credentials.provider.profile import ProfileCredentialsProvider

    # The file is named now (not when the SDK was imported), so a deployment can point at it late.
    provider = ProfileCredentialsProvider(profile_name=account.profile,
                                          profile_file=os.environ.get("ALIBABA_CLOUD_CREDENTIALS_FILE") or None)
    config.credential = CredentialClient(provider=provider)


# Only these prove the request never reached RDS; anything else (a read timeout,
# a reset mid-response, an unknown failure) may have run, so it counts as a timeout.
_NOT_SENT = ("NewConnectionError", "Connection refused", "ConnectTimeout", "connect timeout",
             "Name or service not known", "nodename nor servname", "No route to host")


def network_error(exc: Any) -> RdsError:
    inner = getattr(exc, "inner_exception", None)
    described = f"{type(inner).__name__}: {getattr(inner, 'message', '') or inner}" if inner is not None else repr(exc)
    if any(marker in described for marker in _NOT_SENT):
        return RdsError("ConnectionFailed", "could not connect to the RDS endpoint", ErrorKind.NETWORK)
    return RdsError("RequestTimeout", "RDS did not answer in time", ErrorKind.TIMEOUT)


def from_sdk(exc: Any, kind: ErrorKind | None) -> RdsError:
    data = getattr(exc, "data", None) or {}
    code = str(getattr(exc, "code", None) or data.get("Code") or "Unknown")
    status = getattr(exc, "status_code", None)
    message = str(data.get("Message") or getattr(exc, "message", "") or "")
    retry_after_ms = getattr(exc, "retry_after", None)
    if kind is None:
        if code.startswith("Throttling"):
            kind = ErrorKind.THROTTLED
        elif code in AUTH_CODES or code.startswith("InvalidSecurityToken"):
            kind = ErrorKind.AUTH
        elif status is not None and int(status) >= 500:
            kind = ErrorKind.SERVER
        else:
            kind = ErrorKind.API
    return RdsError(
        code=code,
        message=message,
        kind=kind,
        status=int(status) if status is not None else None,
        request_id=data.get("RequestId"),
        retry_after_s=(retry_after_ms / 1000.0) if retry_after_ms else None,
    )
