"""Slack request signing (v0): what the platform adds to every request it sends an app.

``X-Slack-Signature`` = ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{raw body}``
keyed with the app's signing secret; identical to
``slack_sdk.signature.SignatureVerifier.generate_signature``.
"""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-Slack-Signature`` value for ``body`` sent at ``timestamp``."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The two signing headers for ``body`` (now, unless a timestamp is forced)."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: signature(secret, ts, body)}
