"""Slack's per-channel posting rate, kept on our side rather than learned from 429s.

Slack lets an app post about one message a second to one channel
(chat.postMessage), with short bursts allowed; a polling round that ends a
hundred jobs in one channel would otherwise fire a hundred posts at once and be
rate-limited. :class:`ChannelPace` is a token bucket per channel: about one post
a second, a burst of :data:`BURST` after a quiet spell (a request's card, its
"sent to RDS" and its first progress reply go out at once). The outbox asks
:meth:`ChannelPace.wait_s` before it claims a message and leaves a message whose
channel has no token for later (no attempt counted; its request's later
messages wait behind it); :meth:`ChannelPace.posted` spends a token. Edits
(chat.update) are not paced per channel. The pace is per process: replicas do
not share it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

#: Posts a second to one channel, in the long run: a little under Slack's "1 per second per channel",
#: so network jitter never lands two posts closer together than Slack counts them.
RATE = 0.95
#: Posts a channel may take at once after a quiet spell (Slack: "short bursts" are allowed).
BURST = 3
#: Channels remembered at once; the least recently posted to are forgotten first (a forgotten
#: channel has been quiet long enough to have its whole burst again).
MAX_CHANNELS = 4096


class ChannelPace:
    """A token bucket per channel: ``rate`` posts a second, at most ``burst`` at once."""

    def __init__(self, rate: float = RATE, burst: int = BURST, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # channel -> (tokens, when)
        self._lock = threading.Lock()

    def _tokens(self, channel: str, now: float) -> float:
        tokens, when = self._buckets.get(channel, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - when) * self.rate)

    def wait_s(self, channel: str | None) -> float:
        """Seconds until ``channel`` may be posted to (0: now; None, a channel not known yet: now)."""
        if not channel:
            return 0.0
        with self._lock:
            tokens = self._tokens(channel, self._clock())
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def posted(self, channel: str) -> None:
        """A message is being posted to ``channel`` now: it spends a token."""
        with self._lock:
            now = self._clock()
            tokens = self._tokens(channel, now) - 1.0
            self._buckets.pop(channel, None)
            self._buckets[channel] = (tokens, now)
            while len(self._buckets) > MAX_CHANNELS:
                self._buckets.popitem(last=False)
