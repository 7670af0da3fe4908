"""Staying inside a provider's limits: requests and tokens per minute, calls in flight, congestion, backoff.

Why all of it: providers enforce requests-per-minute and tokens-per-minute separately, and too many connections
at once trips either. Pacing below the limits costs nothing; running into them costs retries and time. The limits
the user knows are token buckets (``--rpm``, ``--tpm``) and a cap on calls in flight (``--concurrency``). The limit
nobody told us (a shared key, a lower tier than configured) is found by :class:`CongestionControl` from the 429s.

Congestion control, and why this one. Halving the calls in flight on every 429 collapses a run under sporadic
429s (at concurrency 32, 101 replies/s became 18/s with 5% of replies 429 and 9/s with 12%): a burst of 429s
caused by one overshoot is one congestion event, and a 429 that is noise is not a reason to slow down at all.
:class:`CongestionControl` therefore

* reacts **once per congestion event**: a 429 for a request sent *before* the last reduction belongs to the event
  already answered and changes nothing (the rule of TCP NewReno, RFC 6582);
* reduces multiplicatively (``beta`` = 0.7, as CUBIC, RFC 8312), but **never below what the provider is actually
  delivering** (replies per second over the last seconds times the reply latency, with 15% headroom: the delivery
  rate and bandwidth-delay product of BBR, Cardwell et al., ACM Queue 2016). Under a real rate limit R the calls in
  flight settle just above R x latency, so throughput stays at R; under noise the delivery rate does not drop, so
  neither does the window;
* **paces sends** at 1.15 x the delivered rate after an event (a learned token bucket), so that requests refused
  with a short ``retry-after`` do not bounce off the limit in a tight loop; the pace grows 10% per second without
  a new event, and is dropped after 10 s without one;
* **recovers** additively: one more call in flight per window's worth of replies (+1 per round trip).

``retry-after`` (``retry-after-ms`` preferred) is honoured by the request that received it (it waits that long
before its retry); when it is long (1 s or more: a quota window that resets) the first 429 of an event pauses
every new call for that time, since each would be refused too.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import deque


class TokenBucket:
    """Async token bucket refilled at ``rate_per_min / 60`` per second, holding at most ``burst`` tokens.

    ``burst`` defaults to one second's worth (at least 1), so the first seconds of a run do not spend a whole
    minute's allowance at once.
    """

    def __init__(self, rate_per_min: float, *, burst: float | None = None) -> None:
        if rate_per_min <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate_per_min / 60.0
        self.default_burst = burst is None
        self.capacity = burst if burst is not None else max(1.0, self.rate)
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    async def acquire(self, amount: float = 1.0) -> None:
        """Wait until ``amount`` tokens are available and take them (an amount above the burst is capped so a
        single large request can still pass once the bucket is full)."""
        amount = min(amount, self.capacity)
        async with self._lock:
            while True:
                self._refill()
                if self.tokens >= amount:
                    self.tokens -= amount
                    return
                await asyncio.sleep((amount - self.tokens) / self.rate)

    def slow_down(self, by_per_min: float) -> None:
        """Give ``by_per_min`` of the rate away for good (to another worker process); the burst shrinks with it."""
        self._refill()
        new = max(self.rate * 60.0 - by_per_min, 1e-9) / 60.0
        if self.default_burst:
            self.capacity = max(1.0, new)
        self.rate = new
        self.tokens = min(self.tokens, self.capacity)

    def adjust(self, delta: float) -> None:
        """Charge (positive) or refund (negative) tokens after the fact, e.g. actual vs estimated tokens."""
        self._refill()
        self.tokens = min(self.capacity, self.tokens - delta)


class CongestionControl:
    """The calls in flight and the learned sending pace of one process (see the module docstring).

    ``acquire`` / ``release`` bracket one attempt; ``on_success`` and ``on_rate_limited`` feed the controller with
    the attempt's send time (the value ``acquire`` returned)."""

    BETA = 0.7
    """Multiplicative decrease at a congestion event."""
    HEADROOM = 1.25
    """Calls in flight and pace kept above what is delivered: enough that the limit, not the client, binds."""
    BIN_S = 0.5
    """The delivery rate is counted in bins of this many seconds ..."""
    FILTER_S = 3.0
    """... and the provider's rate is the best bin of the last this many seconds (a windowed maximum: a dip of the
    client's own making, such as a retry wave, does not lower the estimate)."""
    PACE_GROWTH = 0.10
    """Growth of the learned pace per second without a congestion event."""
    PACE_EXPIRY_S = 10.0
    """Seconds without a congestion event after which the learned pace is dropped."""
    LONG_RETRY_AFTER_S = 1.0
    """A ``retry-after`` at least this long pauses every new call (see :class:`Pacer`)."""

    def __init__(self, maximum: int, *, minimum: int = 1, adaptive: bool = True) -> None:
        self.maximum = max(1, maximum)
        self.minimum = max(1, min(minimum, self.maximum))
        self.adaptive = adaptive
        self.window = float(self.maximum)
        """Calls allowed in flight (a float: the additive increase adds 1/window per reply)."""
        self.in_flight = 0
        self.events = 0
        """Congestion events reacted to."""
        self.last_cut = -math.inf
        """When the window was last reduced (monotonic seconds)."""
        self.pace: float | None = None
        """Learned sends per second, or ``None`` (no pace: only the window and the user's buckets apply)."""
        self._pace_set = -math.inf
        self._next_send = 0.0
        self._bins: deque[list[float]] = deque()
        """``[bin start, replies]`` of the last ``FILTER_S`` seconds."""
        self._latency: float | None = None
        self._cond = asyncio.Condition()

    @property
    def limit(self) -> int:
        """Calls allowed in flight now."""
        return max(self.minimum, min(self.maximum, int(self.window)))

    async def acquire(self) -> float:
        """Wait for a slot (and the learned pace); return the send time to pass to the ``on_*`` methods."""
        async with self._cond:
            await self._cond.wait_for(lambda: self.in_flight < self.limit)
            self.in_flight += 1
        await self._paced()
        return time.monotonic()

    async def release(self) -> None:
        async with self._cond:
            self.in_flight -= 1
            self._cond.notify_all()

    async def _paced(self) -> None:
        pace = self._current_pace()
        if pace is None:
            return
        now = time.monotonic()
        at = max(now, self._next_send)
        self._next_send = at + 1.0 / pace
        if at > now:
            await asyncio.sleep(at - now)

    def _current_pace(self) -> float | None:
        if self.pace is None:
            return None
        quiet = time.monotonic() - self._pace_set
        if quiet >= self.PACE_EXPIRY_S:
            self.pace = None
            return None
        return self.pace * (1.0 + self.PACE_GROWTH) ** quiet

    def shrink(self, by: int) -> None:
        """Give ``by`` slots away for good (to another worker process); calls in flight beyond the new limit
        finish, and no new call starts until they fit."""
        self.maximum = max(1, self.maximum - by)
        self.minimum = min(self.minimum, self.maximum)
        self.window = min(self.window, float(self.maximum))

    def delivered(self, now: float | None = None) -> float | None:
        """The provider's delivery rate: replies per second in the best complete bin of the last ``FILTER_S``
        seconds, or ``None`` before a complete bin with at least 5 replies."""
        now = time.monotonic() if now is None else now
        while self._bins and self._bins[0][0] < now - self.FILTER_S - self.BIN_S:
            self._bins.popleft()
        best = max((n for start, n in self._bins if start + self.BIN_S <= now), default=0.0)
        return best / self.BIN_S if best >= 5 else None

    def on_success(self, sent_at: float) -> None:
        now = time.monotonic()
        if not self._bins or now >= self._bins[-1][0] + self.BIN_S:
            self._bins.append([now, 0.0])
        self._bins[-1][1] += 1
        latency = now - sent_at
        self._latency = latency if self._latency is None else 0.9 * self._latency + 0.1 * latency
        if self.window < self.maximum and self.in_flight + 1 >= self.limit:
            self.window = min(float(self.maximum), self.window + 1.0 / max(1.0, self.window))

    def on_rate_limited(self, sent_at: float) -> bool:
        """A 429 for the attempt sent at ``sent_at``; ``True`` when it starts a new congestion event."""
        if not self.adaptive or sent_at < self.last_cut:
            return False
        now = time.monotonic()
        self.events += 1
        self.last_cut = now
        rate = self.delivered(now)
        floor = float(self.minimum)
        if rate is not None:
            if self._latency is not None:
                floor = max(floor, math.ceil(rate * self._latency * self.HEADROOM))
            self.pace = rate * self.HEADROOM
            self._pace_set = now
        self.window = max(floor, min(self.window, float(self.maximum)) * self.BETA)
        self.window = min(self.window, float(self.maximum))
        return True


class Pacer:
    """Everything a worker passes before and after a call: concurrency slot, shared pause, rpm and tpm buckets."""

    def __init__(
        self, *, concurrency: int = 8, rpm: float | None = None, tpm: float | None = None, adaptive: bool = True
    ) -> None:
        self.concurrency = CongestionControl(concurrency, adaptive=adaptive)
        self.rpm = TokenBucket(rpm) if rpm else None
        self.tpm = TokenBucket(tpm) if tpm else None
        self._not_before = 0.0

    def shrink(self, concurrency: int, rpm: float | None, tpm: float | None) -> None:
        """Hand part of the limits to another worker process (see :mod:`judgekit.judging.processes`)."""
        self.concurrency.shrink(concurrency)
        if self.rpm is not None and rpm:
            self.rpm.slow_down(rpm)
        if self.tpm is not None and tpm:
            self.tpm.slow_down(tpm)

    def pause_all(self, seconds: float) -> None:
        """Make every worker wait ``seconds`` from now before its next call (a server-requested pause)."""
        self._not_before = max(self._not_before, time.monotonic() + seconds)

    async def before_call(self, est_tokens: int) -> None:
        """Wait for the shared pause and the rate buckets (the concurrency slot is taken separately)."""
        delay = self._not_before - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        if self.rpm is not None:
            await self.rpm.acquire(1)
        if self.tpm is not None:
            await self.tpm.acquire(est_tokens)

    def after_call(self, est_tokens: int, actual_tokens: int | None) -> None:
        """Correct the token bucket with the tokens actually billed."""
        if self.tpm is not None and actual_tokens is not None:
            self.tpm.adjust(actual_tokens - est_tokens)


def backoff_delay(
    attempt: int,
    *,
    base: float = 0.5,
    cap: float = 30.0,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before retry ``attempt`` (1-based): the server's ``retry-after`` when given (plus a little
    jitter so workers do not return in lockstep), else full-jitter exponential backoff ``U(0, min(cap,
    base * 2**attempt))``."""
    r = rng or random
    if retry_after is not None:
        return retry_after + r.uniform(0, min(0.1, retry_after * 0.1 + 0.01))
    return r.uniform(base / 2, min(cap, base * 2**attempt))
