"""One call to the provider, paid for at most once: cache, single-flight, pacing, retries, accounting.

* **Cache first:** the reply of an identical request (same cache key: :mod:`judgekit.judging.cache`) is served
  from the cache, including replies buffered but not yet written.
* **Single-flight:** a request identical to one already in flight in this process waits for that call and shares
  its reply instead of sending a second one (items with the same text, a few rows apart in a data set). With
  several worker processes, items of the same text are handed out in one chunk
  (:func:`judgekit.judging.items.chunk_bounds`), so they meet in the same process.
* **Cache again before every retry:** the reply may have arrived meanwhile (another process, a resumed run).
* **Pacing and retries:** every attempt passes the pacer (:mod:`judgekit.judging.pacing`); transient failures
  (429, 5xx, timeouts, resets, unreadable bodies) are retried with backoff, honouring ``retry-after``.
* **Accounting:** tokens, latency and cost per item (:class:`Usage`) and per process (:class:`Counts`); the cost of
  each reply is drawn from the run's budget as it arrives.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from judgekit.judging.budget import Budget
from judgekit.judging.cache import ResponseCache
from judgekit.judging.circuit import CircuitBreaker
from judgekit.judging.counts import Counts
from judgekit.judging.options import RunOptions
from judgekit.judging.pacing import Pacer, backoff_delay
from judgekit.judging.pricing import Price
from judgekit.judging.providers.base import (
    ModelAdapter,
    PermanentError,
    ProviderReply,
    ProviderRequest,
    TransientError,
)
from judgekit.judging.request import RequestTemplate
from judgekit.models import JudgeConfig

RATE_LIMIT_RETRIES = 4
"""A 429 is the provider pacing us, not a failure of the call: 429s are retried up to this many times the retry
budget (``max_retries``) before the item is given up (for now: a resume retries it)."""


class CallFailed(Exception):
    """A call that did not get a reply: permanently (the provider refused it) or after its retries.

    ``fatal``: no call of the run can succeed (rejected key, no access, unknown model, exhausted quota)."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        status_code: int | None = None,
        kind: str = "",
        fatal: bool = False,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.status_code = status_code
        self.kind = kind
        self.fatal = fatal


@dataclass
class Usage:
    """Tokens, cost, latency and raw replies accumulated over the calls of one item."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    cost_known: bool = True
    latency: float = 0.0
    calls: int = 0
    hits: int = 0
    raws: list[str] = field(default_factory=list)


class Caller:
    """Makes the calls of one process's engine (see the module docstring)."""

    def __init__(
        self,
        adapter: ModelAdapter,
        config: JudgeConfig,
        template: RequestTemplate,
        cache: ResponseCache,
        pacer: Pacer,
        budget: Budget,
        price: Price | None,
        options: RunOptions,
        counts: Counts,
        breaker: CircuitBreaker,
    ) -> None:
        self.adapter = adapter
        self.breaker = breaker
        self.on_success: Callable[[], None] | None = None
        """Called after every reply (the engine releases verdicts it held back while failures streaked)."""
        self.on_trip: Callable[[], None] | None = None
        """Called when the circuit breaker opens."""
        self.config = config
        self.template = template
        self.cache = cache
        self.pacer = pacer
        self.budget = budget
        self.price = price
        self.options = options
        self.counts = counts
        self._prefetched: dict[str, ProviderReply] = {}
        """Replies found by a bulk lookup for items that still make calls (popped on use)."""
        self._absent: set[str] = set()
        """Keys a bulk lookup found absent: only this process's own writes can have added them since."""
        self._inflight: dict[str, asyncio.Future[ProviderReply]] = {}
        """Calls in flight by cache key (single-flight)."""

    # -- the cache ---------------------------------------------------------------------------------------------

    def remember(self, found: dict[str, ProviderReply], absent: Iterable[str]) -> None:
        """What a bulk lookup found (and did not find) for items that go on to make calls."""
        self._prefetched.update(found)
        self._absent.update(absent)

    def cached(self, key: str) -> ProviderReply | None:
        """The cached reply of ``key``, if any (a key the bulk lookup found absent costs no query)."""
        hit = self._prefetched.pop(key, None)
        if hit is not None:
            return hit
        if key in self._absent:
            self._absent.discard(key)
            return self.cache.get_after_miss(key)
        return self.cache.get(key)

    def _hit(self, reply: ProviderReply, usage: Usage) -> ProviderReply:
        usage.hits += 1
        self.counts.cache_hits += 1
        return reply

    # -- one call ----------------------------------------------------------------------------------------------

    async def call(
        self,
        request: ProviderRequest,
        sample: int,
        usage: Usage,
        item_id: str = "",
        template: RequestTemplate | None = None,
    ) -> ProviderReply:
        """The reply to ``request`` (sample index ``sample``, for item ``item_id``): from the cache, from an
        identical call in flight, or from the provider. ``template``: the request template ``request`` was made
        from, when not the run's (one criterion's call); its cache key is that template's. Raises
        :class:`CallFailed`."""
        key = (template or self.template).key(request.messages, sample)
        hit = self.cached(key)
        if hit is not None:
            return self._hit(hit, usage)
        shared = self._inflight.get(key)
        if shared is not None:
            # shield: a follower being cancelled must not cancel the call the others wait for
            return self._hit(await asyncio.shield(shared), usage)
        flight: asyncio.Future[ProviderReply] = asyncio.get_running_loop().create_future()
        self._inflight[key] = flight
        try:
            reply = await self._send(key, request, usage, item_id)
        except CallFailed as exc:
            flight.set_exception(exc)
            flight.exception()  # retrieved: no "exception never retrieved" warning when nobody waited
            raise
        except BaseException:
            flight.cancel()
            raise
        finally:
            del self._inflight[key]
        flight.set_result(reply)
        return reply

    def _open_circuit(self) -> CallFailed:
        trip = self.breaker.tripped
        assert trip is not None
        return CallFailed(f"circuit open: {trip.describe()}", permanent=False, kind="circuit_open")

    def _failed(self, kind: str, item_id: str, message: str) -> None:
        self.counts.errors[kind] += 1
        if self.breaker.failure(kind, item_id, message) and self.on_trip is not None:
            self.on_trip()

    async def _send(self, key: str, request: ProviderRequest, usage: Usage, item_id: str) -> ProviderReply:
        est = sum(len(m["content"]) for m in request.messages) // 4 + request.max_tokens
        conc = self.pacer.concurrency
        retries = self.options.max_retries
        failed = limited = 0  # transient failures so far, and 429s (see RATE_LIMIT_RETRIES)
        while True:
            if self.breaker.tripped is not None:
                raise self._open_circuit()
            if failed or limited:
                hit = self.cache.get(key)  # the reply may have arrived meanwhile (another process)
                if hit is not None:
                    return self._hit(hit, usage)
            await conc.acquire()
            t0 = 0.0
            try:
                await self.pacer.before_call(est)
                t0 = time.monotonic()
                self.counts.requests += 1
                reply = await self.adapter.complete(request)
            except TransientError as exc:
                await conc.release()
                self._failed(exc.kind, item_id, str(exc))
                if exc.rate_limited:
                    limited += 1
                    if conc.on_rate_limited(t0) and (exc.retry_after or 0) >= conc.LONG_RETRY_AFTER_S:
                        self.pacer.pause_all(exc.retry_after or 0.0)
                    attempt, budget = limited, retries * RATE_LIMIT_RETRIES
                else:
                    failed += 1
                    attempt, budget = failed, retries
                if self.breaker.tripped is not None:
                    raise self._open_circuit() from exc
                if attempt > budget:
                    raise CallFailed(
                        f"{exc} (gave up after {failed + limited} attempts)",
                        permanent=False,
                        status_code=exc.status_code,
                        kind=exc.kind,
                    ) from exc
                await asyncio.sleep(backoff_delay(attempt, base=self.options.backoff_base, retry_after=exc.retry_after))
                continue
            except PermanentError as exc:
                await conc.release()
                kind = f"http_{exc.status_code}"
                message = str(exc)
                if exc.fatal and exc.status_code in (401, 403):
                    where = self.adapter.key_env or "the api_key given to run_judge"
                    message += f"; check the API key in {where}"
                if not exc.fatal:
                    self._failed(kind, item_id, message)
                else:
                    self.counts.errors[kind] += 1
                raise CallFailed(
                    message, permanent=True, status_code=exc.status_code, kind=kind, fatal=exc.fatal
                ) from exc
            except BaseException:
                await conc.release()
                raise
            await conc.release()
            conc.on_success(t0)
            self.breaker.success()
            if self.on_success is not None:
                self.on_success()
            self._account(key, reply, usage, time.monotonic() - t0)
            self.pacer.after_call(est, reply.input_tokens + reply.output_tokens)
            return reply

    def _account(self, key: str, reply: ProviderReply, usage: Usage, latency: float) -> None:
        usage.latency += latency
        usage.calls += 1
        usage.input_tokens += reply.input_tokens
        usage.output_tokens += reply.output_tokens
        self.counts.input_tokens += reply.input_tokens
        self.counts.output_tokens += reply.output_tokens
        cost = None if self.price is None else self.price.cost(reply.input_tokens, reply.output_tokens)
        if cost is None:
            usage.cost_known = False
            self.counts.cost_known = False
        else:
            usage.cost += cost
            self.counts.cost += cost
            self.budget.spend(cost)
        self.cache.put(key, self.config.provider, self.config.model, reply, cost)
