"""When and how long to wait before calling RDS again.

A write is only resent when resending cannot start a second job: always after a
throttling or connection refusal (the service never ran it), and after timeouts
and 5xx only when the call carries a ClientToken.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from bot.rds.errors import ErrorKind, RdsError


class CallSafety(StrEnum):
    """What resending a call could do."""

    READ = "read"  # a Describe: resending is harmless
    IDEMPOTENT = "idempotent"  # a write with a ClientToken: the service dedupes
    UNSAFE = "unsafe"  # a write without one: only resend if it surely did not run


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter, capped; honours the service's Retry-After."""

    base_s: float = 0.5
    cap_s: float = 8.0
    max_attempts: int = 4

    def delay(self, attempt: int, error: RdsError) -> float:
        ceiling = min(self.cap_s, self.base_s * (2 ** (attempt - 1)))
        jittered = random.uniform(0, ceiling)
        if error.retry_after_s is not None:
            return max(jittered, min(error.retry_after_s, self.cap_s * 4))
        return jittered


def should_retry(error: RdsError, safety: CallSafety) -> bool:
    if not error.transient:
        return False
    if safety is CallSafety.UNSAFE:
        return error.kind in {ErrorKind.THROTTLED, ErrorKind.NETWORK}
    return True
