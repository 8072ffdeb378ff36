"""ACS3-HMAC-SHA256 verification, rebuilt from the SDK's signer.

The SDK (``alibabacloud_tea_openapi.utils.Utils.get_authorization``) signs:

    METHOD \\n pathname \\n canonical query \\n canonical headers \\n signed headers \\n hex(sha256(body))

where the canonical query is every parameter sorted by name, values encoded with
``quote(v, safe="~")`` (names are not encoded), and the canonical headers are every
header present at signing time, lower-cased, trimmed and sorted. The string to sign
is ``"ACS3-HMAC-SHA256\\n" + hex(sha256(canonical request))`` and the signature is
``hex(hmac_sha256(secret, string to sign))``. The server takes the list of signed
headers from the ``Authorization`` header, exactly as the real gateway does.

Nothing here logs or returns a secret; a mismatch tells the caller the string to
sign the server computed (the real service does the same), which holds no secret.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from bot.sandbox.rds.errors import ApiError

ALGORITHM = "ACS3-HMAC-SHA256"
MAX_CLOCK_SKEW_S = 15 * 60


@dataclass(frozen=True)
class SignedRequest:
    """What the verifier needs from one HTTP request (header names lower-cased)."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes


def canonical_request(request: SignedRequest, signed_headers: list[str], payload_hash: str) -> str:
    """The canonical request string, byte for byte as the SDK builds it."""
    query = "&".join(f"{key}={quote(request.query[key], safe='~')}" for key in sorted(request.query))
    headers = "".join(f"{name}:{request.headers.get(name, '').strip()}\n" for name in signed_headers)
    return "\n".join(
        [request.method.upper(), request.path or "/", query, headers, ";".join(signed_headers), payload_hash]
    )


def string_to_sign(canonical: str) -> str:
    """``ACS3-HMAC-SHA256`` followed by the hex SHA-256 of the canonical request."""
    return f"{ALGORITHM}\n{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"


def sign(secret: str, to_sign: str) -> str:
    """The hex HMAC-SHA256 signature of ``to_sign``."""
    return hmac.new(secret.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


class NonceCache:
    """Signature nonces seen within the clock-skew window, so a replay is refused.

    Nonces older than the window can be forgotten: a request that old already fails
    the timestamp check.
    """

    def __init__(self, window_s: float = MAX_CLOCK_SKEW_S) -> None:
        self._window_s = window_s
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def use(self, nonce: str, now: float) -> bool:
        """Record ``nonce``; False when it was already used inside the window."""
        with self._lock:
            if len(self._seen) > 10_000:
                cutoff = now - 2 * self._window_s
                self._seen = {n: t for n, t in self._seen.items() if t >= cutoff}
            if nonce in self._seen:
                return False
            self._seen[nonce] = now
            return True


def _parse_authorization(value: str) -> tuple[str, list[str], str]:
    """Split ``ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..``."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise ApiError("IncompleteSignature")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, field_value = part.strip().partition("=")
        if sep:
            fields[name] = field_value
    try:
        return fields["Credential"], fields["SignedHeaders"].split(";"), fields["Signature"]
    except KeyError:
        raise ApiError("IncompleteSignature") from None


def _check_date(value: str | None, now: float) -> None:
    if not value:
        raise ApiError("MissingParameter", "x-acs-date")
    try:
        sent = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise ApiError("InvalidTimeStamp.Format") from None
    if abs(now - sent) > MAX_CLOCK_SKEW_S:
        raise ApiError("InvalidTimeStamp.Expired")


def verify(
    request: SignedRequest,
    secrets: Mapping[str, str],
    nonces: NonceCache,
    now: float | None = None,
) -> str:
    """Check one request's ACS3 signature; return the AccessKey ID or raise ApiError.

    Order: header shape, AccessKey, signed-header coverage, body hash, signature,
    then timestamp and nonce, so a replay is only recorded for a genuine request
    (a forged one cannot burn someone else's nonce).
    """
    now = time.time() if now is None else now
    authorization = request.headers.get("authorization")
    if not authorization:
        raise ApiError("IncompleteSignature")
    access_key_id, signed_headers, signature = _parse_authorization(authorization)
    secret = secrets.get(access_key_id)
    if secret is None:
        raise ApiError("InvalidAccessKeyId.NotFound")
    # Every header the signer must cover: host and all x-acs-* the client sent.
    required = {"host", "x-acs-date", "x-acs-content-sha256"}
    required |= {name for name in request.headers if name.startswith("x-acs-")}
    if signed_headers != sorted(signed_headers) or not required <= set(signed_headers):
        raise ApiError("IncompleteSignature")
    payload_hash = hashlib.sha256(request.body).hexdigest()
    if request.headers.get("x-acs-content-sha256") != payload_hash:
        raise ApiError("SignatureDoesNotMatch")
    to_sign = string_to_sign(canonical_request(request, signed_headers, payload_hash))
    if not hmac.compare_digest(sign(secret, to_sign), signature):
        expected = ApiError("SignatureDoesNotMatch")
        # The real service echoes its string to sign: a debugging aid with no secret in it.
        raise ApiError(
            "SignatureDoesNotMatch",
            message=f"{expected.message} server string to sign is:{to_sign}",
        )
    _check_date(request.headers.get("x-acs-date"), now)
    nonce = request.headers.get("x-acs-signature-nonce")
    if not nonce:
        raise ApiError("MissingParameter", "x-acs-signature-nonce")
    if not nonces.use(nonce, now):
        raise ApiError("SignatureNonceUsed")
    return access_key_id
