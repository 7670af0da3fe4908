"""Staying inside a provider's limits: requests and tokens per minute, concurrency, backoff.

Why all three: providers enforce requests-per-minute and tokens-per-minute separately, and too many connections
at once trips either. Pacing below the limits costs nothing; running into them costs retries and time. When
429s arrive anyway (a shared key, a lower tier than configured), :class:`AdaptiveConcurrency` halves the number of
calls in flight and only grows it back slowly after a run of successes, and every worker waits out the server's
``retry-after`` together, instead of each hammering the server on its own schedule.
"""

from __future__ import annotations

import asyncio
import random
import time


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


class AdaptiveConcurrency:
    """A semaphore whose limit shrinks multiplicatively on 429 and grows additively after successes (AIMD)."""

    def __init__(self, maximum: int, *, minimum: int = 1, grow_after: int = 20) -> None:
        self.maximum = max(1, maximum)
        self.minimum = max(1, min(minimum, self.maximum))
        self.limit = self.maximum
        self.in_flight = 0
        self.grow_after = grow_after
        self._successes = 0
        self._cond = asyncio.Condition()
        self.decreases = 0

    async def acquire(self) -> None:
        async with self._cond:
            await self._cond.wait_for(lambda: self.in_flight < self.limit)
            self.in_flight += 1

    async def release(self) -> None:
        async with self._cond:
            self.in_flight -= 1
            self._cond.notify_all()

    def shrink(self, by: int) -> None:
        """Give ``by`` slots away for good (to another worker process); calls in flight beyond the new limit
        finish, and no new call starts until they fit."""
        self.maximum = max(1, self.maximum - by)
        self.minimum = min(self.minimum, self.maximum)
        self.limit = min(self.limit, self.maximum)

    def on_success(self) -> None:
        self._successes += 1
        if self.limit < self.maximum and self._successes >= self.grow_after:
            self.limit += 1
            self._successes = 0

    def on_rate_limited(self) -> None:
        new = max(self.minimum, self.limit // 2)
        if new < self.limit:
            self.decreases += 1
        self.limit = new
        self._successes = 0


class Pacer:
    """Everything a worker passes before and after a call: concurrency slot, shared pause, rpm and tpm buckets."""

    def __init__(
        self, *, concurrency: int = 8, rpm: float | None = None, tpm: float | None = None, adaptive: bool = True
    ) -> None:
        self.concurrency = (
            AdaptiveConcurrency(concurrency) if adaptive else AdaptiveConcurrency(concurrency, minimum=concurrency)
        )
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
