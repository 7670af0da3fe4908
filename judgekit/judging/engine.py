"""The judge engine: run one judge config over a project's items, concurrently, paced, cached and resumable.

Guarantees, and why they matter for a trust analysis:

* **Verdicts are committed as they arrive** (a writer task commits whatever has finished, in one transaction, at
  most every ``WRITE_INTERVAL`` = 50 ms), so Ctrl-C loses at most the calls in flight and a hard kill at most
  the last 50 ms of results.
* **Resume pays for no call twice:** items that already have a verdict are skipped, and every successful reply is
  in the response cache (buffered, flushed every 50 ms and always before the verdicts that use it), so a reply
  that arrived but was not yet turned into a verdict is replayed from the cache.
* **One SDK client per run** (per worker process with ``workers > 1``, see :mod:`judgekit.judging.workers`), built
  at the first call: its connection pool keeps at least ``concurrency`` keep-alive connections, so no call waits
  for or pays for a new connection.
* **Cache hits cost almost nothing:** items are prepared in chunks, their cache keys looked up in one query, and
  an item whose replies are all cached becomes a verdict at once (no task, pacing or client).
* **Failures stay visible:** unreadable replies become ``parse_error`` (after a bounded number of repair
  attempts), refusals ``refused``, a request the provider rejects (400) ``api_error``. Items whose calls kept
  failing transiently (429/5xx/timeouts beyond the retry budget) get no verdict and leave the run
  ``interrupted``: a resume retries exactly those.
* **``max_cost`` stops cleanly:** an item is started only if the money spent plus the estimated cost of the items
  in flight and of this one stays within the budget; in-flight items finish and are saved.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import sqlite3
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ParamSpec, TextIO, TypeVar, cast

import numpy as np

from judgekit.errors import ConfigError, ProviderError, UserError
from judgekit.judging.budget import Budget
from judgekit.judging.cache import CacheKeyer, ResponseCache
from judgekit.judging.confidence import check_supported, logprob_confidence, sampling_vote
from judgekit.judging.fewshot import DynamicFewShot, consensus_labels
from judgekit.judging.pacing import Pacer, backoff_delay
from judgekit.judging.parse import Parsed, ReplyParser
from judgekit.judging.pricing import PriceTable
from judgekit.judging.progress import Progress
from judgekit.judging.prompts import MessageBuilder
from judgekit.judging.providers import CAPABILITIES, make_adapter
from judgekit.judging.providers.base import (
    ModelAdapter,
    PermanentError,
    ProviderReply,
    ProviderRequest,
    TransientError,
)
from judgekit.judging.schema import reply_schema
from judgekit.judging.workers import Outcome, WorkerSpec, engine_counts, run_with_workers, worker_context
from judgekit.models import (
    ConfidenceSource,
    FewShotExample,
    FewShotStrategy,
    Item,
    JudgeConfig,
    JudgeRun,
    JudgeVerdict,
    Rubric,
    VerdictStatus,
)
from judgekit.storage import INSERT_VERDICT, Project, verdict_row

DEFAULT_MAX_TOKENS = 300
"""A verdict is a label and one or two sentences; a tight bound keeps a runaway reply cheap."""
DEFAULT_PARSE_RETRIES = 2
DEFAULT_MAX_RETRIES = 6
WRITE_INTERVAL = 0.05
"""Seconds between two commits of verdicts and cached replies: one transaction per batch instead of one per call
(a commit costs more than the rest of the bookkeeping of a call); a hard kill loses at most this much work."""
CHUNK = 256
"""Items taken at a time by the feeder: their cache keys are looked up in one query, hits are turned into verdicts
at once, misses go to the workers (with several worker processes, a process takes chunks of ``CHUNK_SHARED``)."""
_FATAL_STATUS = {401, 403, 404}
"""Bad key, no access, unknown model: every further call would fail the same way, so the run stops."""


@dataclass(frozen=True)
class ItemVariant:
    """A transformation applied to each item before judging and the inverse mapping of the label (probes)."""

    name: str
    transform: Callable[[Item], Item]
    map_label: Callable[[str], str] = field(default=lambda label: label)
    note: Callable[[Item], dict[str, Any]] | None = None


@dataclass
class RunSummary:
    """What a call to :func:`run_judge` did."""

    run: JudgeRun
    total: int
    """Items selected for the run."""
    judged: int
    """Verdicts written by this call."""
    skipped: int
    """Items that already had a verdict (resume)."""
    statuses: dict[str, int]
    errors: dict[str, int]
    """Failed attempts by kind (``http_429``, ``timeout`` ...), including ones a retry recovered."""
    cost_usd: float
    cost_known: bool
    requests: int
    """HTTP calls made (cache hits excluded)."""
    cache_hits: int
    elapsed_s: float
    stop_reason: str
    """``complete``, ``max_cost``, ``failures`` (some items still need a verdict) or ``interrupted``."""
    missing: int = 0
    workers: list[int] = field(default_factory=list)
    """Verdicts written by each worker process (one entry per process; worker 0 is the calling process)."""
    cpu_s: list[float] = field(default_factory=list)
    """CPU seconds each worker process spent in the run (same order as :attr:`workers`): the client's cost."""

    def summary(self) -> str:
        st = ", ".join(f"{k}={v}" for k, v in sorted(self.statuses.items())) or "none"
        cost = f"${self.cost_usd:.4f}" + ("" if self.cost_known else " (+ models without a price)")
        return (
            f"run {self.run.name!r}: {self.judged} verdicts written ({st}), {self.skipped} already present, "
            f"{self.missing} missing; {self.requests} requests, {self.cache_hits} cache hits; cost {cost}; "
            f"{self.elapsed_s:.1f}s; {self.stop_reason}"
        )


class _ApiFailure(Exception):
    def __init__(self, message: str, *, permanent: bool, status_code: int | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.status_code = status_code


@dataclass
class _Todo:
    """An item ready to judge: its messages rendered once (for the cache lookup and for the call)."""

    item: Item
    messages: list[dict[str, str]]
    est: float
    """Estimated cost (for ``max_cost``)."""


@dataclass
class _Acc:
    """Usage accumulated over the calls of one item."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    cost_known: bool = True
    latency: float = 0.0
    calls: int = 0
    hits: int = 0
    raws: list[str] = field(default_factory=list)


def select_items(
    items: Sequence[Item], rubric: Rubric, *, limit: int | None = None, sample: int | None = None, seed: int = 0
) -> list[Item]:
    """The items a run judges: those of the rubric's kind, a seeded random ``sample`` (kept in project order),
    then the first ``limit``. Deterministic, so a resume selects the same items."""
    pairwise = rubric.task == "pairwise"
    chosen = [it for it in items if it.is_pairwise == pairwise]
    if sample is not None and sample < len(chosen):
        rng = np.random.default_rng(seed)
        keep = set(rng.choice(len(chosen), size=sample, replace=False).tolist())
        chosen = [it for i, it in enumerate(chosen) if i in keep]
    if limit is not None:
        chosen = chosen[:limit]
    return chosen


def default_run_name(project: Project, config: JudgeConfig) -> str:
    """``provider:model#N`` with the first free N."""
    base = f"{config.provider}:{config.model}" + (f"+{config.prompt_variant}" if config.prompt_variant else "")
    n = 1
    while project.find_run(f"{base}#{n}") is not None:
        n += 1
    return f"{base}#{n}"


class _Engine:
    def __init__(
        self,
        project: Project,
        run: JudgeRun,
        rubric: Rubric,
        adapter: ModelAdapter,
        *,
        concurrency: int,
        rpm: float | None,
        tpm: float | None,
        max_cost: float | None,
        prices: PriceTable,
        cache: ResponseCache,
        max_retries: int,
        parse_retries: int,
        examples: Callable[[Item], list[FewShotExample]],
        variant: ItemVariant | None,
        progress: Progress,
        backoff_base: float = 0.5,
        static_examples: Sequence[FewShotExample] | None = None,
        budget_cell: Any = None,
    ) -> None:
        self.backoff_base = backoff_base
        self.project = project
        self.run = run
        self.config = run.config
        self.rubric = rubric
        self.adapter = adapter
        self.pacer = Pacer(concurrency=concurrency, rpm=rpm, tpm=tpm)
        self.workers = concurrency
        self.budget = Budget(max_cost, budget_cell)
        """What the run may still commit; shared by the run's worker processes (``budget_cell``)."""
        self.prices = prices
        self.cache = cache
        self.max_retries = max_retries
        self.parse_retries = parse_retries
        self.examples = examples
        self.variant = variant
        self.progress = progress
        cfg = self.config
        self.method = cfg.confidence
        self.verbalized = self.method == "verbalized"
        self.parser = ReplyParser(rubric, verbalized=self.verbalized)
        params = dict(cfg.parameters)
        self.structured = bool(params.pop("structured", True)) and type(adapter).supports_schema
        self.max_tokens = int(params.pop("max_tokens", DEFAULT_MAX_TOKENS))  # type: ignore[arg-type]
        default_temp = 1.0 if self.method == "sampling" else 0.0
        temp = params.pop("temperature", default_temp)
        self.temperature = None if temp is None else float(temp)  # type: ignore[arg-type]
        seed = params.pop("seed", None)
        self.seed = None if seed is None else int(seed)  # type: ignore[arg-type]
        self.top_logprobs = int(params.pop("top_logprobs", 10)) if self.method == "logprobs" else 0  # type: ignore[arg-type]
        self.extra_params = params
        self.schema = (
            reply_schema(rubric, verbalized=self.verbalized, label_first=self.method == "logprobs")
            if self.structured
            else None
        )
        self.n_samples = cfg.samples if self.method == "sampling" else 1
        self.messages = MessageBuilder(rubric, verbalized=self.verbalized, static_examples=static_examples)
        self.keyer = CacheKeyer(cfg.provider, adapter.base_url, cfg.model, self._request(()))
        self._prefetched: dict[str, ProviderReply] = {}
        """Replies found by the bulk lookup for items that still go through :meth:`judge` (popped on use)."""
        self._absent: set[str] = set()
        """Keys the bulk lookup found absent: only this run's own writes can have added them since."""
        self.claim: Callable[[], Sequence[Item] | None] | None = None
        """Where the feeder takes its next chunk of items from (set by :meth:`run_items`, or by the worker
        processes' coordinator so that the processes share one list)."""
        self.on_tick: Callable[[], None] | None = None
        """Called every ``WRITE_INTERVAL`` (worker processes: report progress, obey a stop)."""
        self._more = asyncio.Event()
        self.done = False
        """:meth:`run_items` has returned."""
        self.cpu0 = time.process_time()
        """CPU time of this process when the engine was made (its run's CPU is the difference)."""
        self.spent = 0.0
        self.cost_known = True
        self.stop_reason: str | None = None
        self.fatal: BaseException | None = None
        self.missing: list[str] = []
        self.results: asyncio.Queue[JudgeVerdict | None] = asyncio.Queue()
        self.written = 0
        self.statuses: dict[str, int] = {}
        price = prices.price(cfg.model)
        self.price = price

    # -- cost ----------------------------------------------------------------------------------------------

    def estimate_cost(self, messages: list[dict[str, str]]) -> float:
        """Upper-ish estimate for one item: ~4 characters per prompt token, the full max_tokens per sample."""
        if self.price is None:
            return 0.0
        est_in = sum(len(m["content"]) for m in messages) // 4 + 16
        return self.price.cost(est_in, self.max_tokens) * self.n_samples

    # -- one HTTP call, with cache, pacing and retries ---------------------------------------------------

    async def call(self, request: ProviderRequest, sample: int, acc: _Acc) -> ProviderReply:
        key = self.keyer.key(request.messages, sample)
        hit = self._prefetched.pop(key, None)
        if hit is None:
            if key in self._absent:
                self._absent.discard(key)
                hit = self.cache.get_after_miss(key)
            else:
                hit = self.cache.get(key)
        if hit is not None:
            acc.hits += 1
            self.progress.cache_hits += 1
            return hit
        est = sum(len(m["content"]) for m in request.messages) // 4 + request.max_tokens
        conc = self.pacer.concurrency
        for attempt in range(self.max_retries + 1):
            await conc.acquire()
            try:
                await self.pacer.before_call(est)
                t0 = time.monotonic()
                self.progress.requests += 1
                reply = await self.adapter.complete(request)
            except TransientError as exc:
                await conc.release()
                self.progress.errors[exc.kind] += 1
                if exc.rate_limited:
                    conc.on_rate_limited()
                    if exc.retry_after:
                        self.pacer.pause_all(exc.retry_after)
                if attempt == self.max_retries:
                    raise _ApiFailure(
                        f"{exc} (gave up after {attempt + 1} attempts)", permanent=False, status_code=exc.status_code
                    ) from exc
                await asyncio.sleep(backoff_delay(attempt + 1, base=self.backoff_base, retry_after=exc.retry_after))
                continue
            except PermanentError as exc:
                await conc.release()
                self.progress.errors[f"http_{exc.status_code}"] += 1
                raise _ApiFailure(str(exc), permanent=True, status_code=exc.status_code) from exc
            except BaseException:
                await conc.release()
                raise
            await conc.release()
            conc.on_success()
            acc.latency += time.monotonic() - t0
            acc.calls += 1
            self.pacer.after_call(est, reply.input_tokens + reply.output_tokens)
            cost = self.prices.cost(self.config.model, reply.input_tokens, reply.output_tokens)
            acc.input_tokens += reply.input_tokens
            acc.output_tokens += reply.output_tokens
            if cost is None:
                acc.cost_known = False
                self.cost_known = False
                self.progress.cost_known = False
            else:
                acc.cost += cost
                self.spent += cost
                self.budget.spend(cost)
                self.progress.cost += cost
            self.cache.put(key, self.config.provider, self.config.model, reply, cost)
            return reply
        raise AssertionError("unreachable")  # pragma: no cover

    def _request(self, messages: tuple[dict[str, str], ...]) -> ProviderRequest:
        return ProviderRequest(
            messages=messages,
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            schema=self.schema,
            top_logprobs=self.top_logprobs,
            seed=self.seed,
            extra=self.extra_params,
        )

    # -- one sample: call, parse, repair ------------------------------------------------------------------

    async def sample(self, messages: list[dict[str, str]], index: int, acc: _Acc) -> tuple[Parsed, ProviderReply]:
        msgs = list(messages)
        for attempt in range(self.parse_retries + 1):
            reply = await self.call(self._request(tuple(msgs)), index, acc)
            acc.raws.append(reply.text if not reply.refusal else reply.refusal)
            parsed = self.parser.parse(reply)
            if parsed.status != "parse_error" or attempt == self.parse_retries:
                return parsed, reply
            msgs = [
                *msgs,
                {"role": "assistant", "content": reply.text or "(empty reply)"},
                {
                    "role": "user",
                    "content": f"Your reply could not be read: {parsed.error}. Reply again with only the JSON object.",
                },
            ]
        raise AssertionError("unreachable")  # pragma: no cover

    # -- one item ---------------------------------------------------------------------------------------------

    def prepare(self, item: Item) -> _Todo:
        """Render the item's messages (once: the cache lookup and the call use the same ones)."""
        shown = self.variant.transform(item) if self.variant else item
        messages = self.messages.build(shown, self.examples(item))
        return _Todo(item, messages, self.estimate_cost(messages))

    def _extra(self, item: Item) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if self.variant is not None:
            extra["variant"] = self.variant.name
            if self.variant.note is not None:
                extra.update(self.variant.note(item))
        return extra

    def serve_cached(self, todos: list[_Todo]) -> list[_Todo]:
        """Turn the items whose every reply is cached into verdicts now, with one lookup for the whole chunk and no
        task, pacing or client involved; return the others (their cached replies, if any, are kept for
        :meth:`call`). A reply that fails to parse while repairs are allowed goes the normal way (the repair
        request may need a call)."""
        if not self.cache.enabled or not todos:
            return todos
        keys = [[self.keyer.key(t.messages, s) for s in range(self.n_samples)] for t in todos]
        found = self.cache.get_many([k for ks in keys for k in ks])
        rest: list[_Todo] = []
        for todo, ks in zip(todos, keys, strict=True):
            replies = [found.get(k) for k in ks]
            verdict = None
            if all(r is not None for r in replies):
                verdict = self._from_cache(todo.item, cast(list[ProviderReply], replies))
            if verdict is not None:
                self.results.put_nowait(verdict)
                self.progress.cache_hits += self.n_samples
                continue
            for k, r in zip(ks, replies, strict=True):
                if r is None:
                    self._absent.add(k)
                else:
                    self._prefetched[k] = r
            rest.append(todo)
        return rest

    def _from_cache(self, item: Item, replies: list[ProviderReply]) -> JudgeVerdict | None:
        acc = _Acc(hits=len(replies))
        outcomes: list[tuple[Parsed, ProviderReply]] = []
        for reply in replies:
            parsed = self.parser.parse(reply)
            if parsed.status == "parse_error" and self.parse_retries > 0:
                return None
            acc.raws.append(reply.text if not reply.refusal else reply.refusal)
            outcomes.append((parsed, reply))
        return self._from_outcomes(item, outcomes, acc, self._extra(item))

    async def judge(self, todo: _Todo) -> JudgeVerdict | None:
        item, messages, est = todo.item, todo.messages, todo.est
        if not self.budget.try_reserve(est):
            self.stop_reason = "max_cost"
            return None
        acc = _Acc()
        extra = self._extra(item)
        try:
            outcomes: list[tuple[Parsed, ProviderReply]] = []
            for s in range(self.n_samples):
                outcomes.append(await self.sample(messages, s, acc))
        except _ApiFailure as exc:
            if exc.permanent and exc.status_code in _FATAL_STATUS:
                self.fatal = ProviderError(str(exc), status_code=exc.status_code)
                return None
            if not exc.permanent:
                self.missing.append(item.id)
                return None
            return self._verdict(item, acc, status="api_error", raw=str(exc), extra=extra)
        finally:
            self.budget.release(est)
        return self._from_outcomes(item, outcomes, acc, extra)

    def _from_outcomes(
        self, item: Item, outcomes: list[tuple[Parsed, ProviderReply]], acc: _Acc, extra: dict[str, Any]
    ) -> JudgeVerdict:
        raw = acc.raws[-1] if len(acc.raws) == 1 else "\n---\n".join(acc.raws)
        if acc.calls + acc.hits > self.n_samples:
            extra["parse_attempts"] = acc.calls + acc.hits
        mapl = self.variant.map_label if self.variant else (lambda x: x)
        if self.method == "sampling":
            labels = [mapl(p.label) if p.status == "ok" and p.label else None for p, _ in outcomes]
            label, share, tied = sampling_vote(labels)
            extra.update({"sample_labels": labels, "samples_failed": sum(x is None for x in labels)})
            if tied:
                extra["sample_tie"] = True
            if label is None:
                first_bad = outcomes[0][0]
                return self._verdict(
                    item, acc, status=first_bad.status, raw=raw, extra=extra, rationale=first_bad.rationale
                )
            rationale = next((p.rationale for p, _ in outcomes if p.label and mapl(p.label) == label), None)
            return self._verdict(
                item,
                acc,
                status="ok",
                label=label,
                confidence=share,
                source="sampling",
                raw=raw,
                extra=extra,
                rationale=rationale,
            )
        parsed, reply = outcomes[0]
        if parsed.status != "ok" or parsed.label is None:
            if parsed.error and parsed.status == "parse_error":
                extra["parse_error"] = parsed.error
            return self._verdict(item, acc, status=parsed.status, raw=raw, extra=extra, rationale=parsed.rationale)
        conf: float | None = None
        source = "none"
        if self.method == "verbalized":
            conf, source = parsed.confidence, "verbalized"
        elif self.method == "logprobs":
            conf, probs = logprob_confidence(reply, parsed.label, self.rubric.scale.values)
            if conf is not None:
                source = "logprobs"
                extra["label_probs"] = {mapl(k): round(v, 6) for k, v in probs.items()}
            else:
                extra["confidence_missing"] = "label token not found in the logprobs"
        return self._verdict(
            item,
            acc,
            status="ok",
            label=mapl(parsed.label),
            confidence=conf,
            source=source,
            raw=raw,
            extra=extra,
            rationale=parsed.rationale,
        )

    def _verdict(
        self,
        item: Item,
        acc: _Acc,
        *,
        status: str,
        raw: str | None,
        extra: dict[str, Any],
        label: str | None = None,
        confidence: float | None = None,
        source: str = "none",
        rationale: str | None = None,
    ) -> JudgeVerdict:
        cached_only = acc.calls == 0 and acc.hits > 0
        # validated: pydantic-core checks the fields faster than ``model_construct`` skips them (measured)
        return JudgeVerdict(
            item_id=item.id,
            status=cast(VerdictStatus, status),
            label=label,
            confidence=confidence,
            confidence_source=cast(ConfidenceSource, source if confidence is not None else "none"),
            rationale=rationale,
            raw_reply=raw,
            input_tokens=acc.input_tokens,
            output_tokens=acc.output_tokens,
            cost_usd=(acc.cost if acc.cost_known else None) if not cached_only else 0.0,
            latency_s=round(acc.latency, 6),
            cache_hit=cached_only,
            created_at=datetime.now(UTC),
            extra=extra,
        )

    # -- orchestration ---------------------------------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        return self.stop_reason is not None or self.fatal is not None

    def fail(self, exc: BaseException) -> None:
        """Stop because of an error elsewhere (another worker process): raised by the run."""
        if self.fatal is None:
            self.fatal = exc
        self._more.set()

    def stop(self, reason: str) -> None:
        """Start no further item (in-flight ones finish and are saved)."""
        if self.stop_reason is None:
            self.stop_reason = reason
        self._more.set()

    async def worker(self, queue: asyncio.Queue[_Todo | None]) -> None:
        while True:
            todo = await queue.get()
            self._more.set()
            if todo is None:
                queue.put_nowait(None)  # the end marker, for the next worker
                return
            if self.stopping:
                continue  # drain: the feeder ends the queue as soon as it sees the stop
            verdict = await self.judge(todo)
            if verdict is not None:
                self.results.put_nowait(verdict)
            elif self.stopping:
                self._more.set()

    async def feeder(self, queue: asyncio.Queue[_Todo | None]) -> None:
        """Take chunks of items, serve the cached ones at once and queue the rest for the workers, keeping only
        about one item per worker queued (so that other worker processes can take the remaining chunks)."""
        assert self.claim is not None
        try:
            while not self.stopping:
                chunk = self.claim()
                if chunk is None:
                    return
                for todo in self.serve_cached([self.prepare(it) for it in chunk]):
                    queue.put_nowait(todo)
                while queue.qsize() >= self.workers and not self.stopping:
                    self._more.clear()
                    await self._more.wait()
                await asyncio.sleep(0)
        finally:
            queue.put_nowait(None)

    async def writer(self) -> None:
        """Commit verdicts as they arrive, at most one transaction per ``WRITE_INTERVAL``: whatever has piled up
        meanwhile goes in the same transaction, after the replies cached since the last one."""
        done = False
        last = 0.0
        while not done:
            first = await self.results.get()
            wait = last + WRITE_INTERVAL - time.monotonic()
            if wait > 0 and first is not None:
                await asyncio.sleep(wait)
            batch = [] if first is None else [first]
            done = first is None
            while not self.results.empty():
                nxt = self.results.get_nowait()
                if nxt is None:
                    done = True
                else:
                    batch.append(nxt)
            self.cache.flush()
            last = time.monotonic()
            if batch:
                write_verdicts(self.project, self.run, self.rubric, batch)
                self.written += len(batch)
                for v in batch:
                    self.statuses[v.status] = self.statuses.get(v.status, 0) + 1
                    self.progress.statuses[v.status] += 1
                self.progress.done += len(batch)
                self.progress.maybe_print()

    async def ticker(self) -> None:
        """Flush replies cached by items still in flight (sampling, repairs) and redraw the progress line."""
        while True:
            await asyncio.sleep(WRITE_INTERVAL)
            self.cache.flush()
            self.progress.maybe_print()
            if self.on_tick is not None:
                self.on_tick()

    async def run_items(self, items: Sequence[Item] | None = None) -> None:
        """Judge ``items`` (or, with ``items=None``, the chunks :attr:`claim` hands out)."""
        if items is not None:
            self.claim = _chunks(items, CHUNK).__next__
        queue: asyncio.Queue[_Todo | None] = asyncio.Queue()
        stack = contextlib.ExitStack()
        stack.enter_context(frozen_heap())
        writer = asyncio.create_task(self.writer())
        ticker = asyncio.create_task(self.ticker())
        feeder = asyncio.create_task(self.feeder(queue))
        try:
            workers = [asyncio.create_task(self.worker(queue)) for _ in range(self.workers)]
            try:
                await asyncio.gather(*workers)
            finally:
                for w in [*workers, feeder]:
                    w.cancel()
                await asyncio.gather(*workers, feeder, return_exceptions=True)
                await self.results.put(None)
                await writer
        finally:
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)
            self.cache.flush()
            self.done = True
            stack.close()
            await self.adapter.aclose()


_frozen_runs = 0


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep the objects that exist when a run starts (the items, the rubric, the imported SDK) out of garbage
    collection until the last concurrent run of the process ends (:func:`gc.freeze`).

    Why: a full collection walks every tracked object, and while it runs no reply is read; with tens of thousands of
    items loaded, the periodic full collections add tens of milliseconds to every call in flight, measured as the
    slowest 1-2% of calls taking twice the server's latency (benchmarks/bench_judge.py). The frozen objects are the
    long-lived ones; they stay reachable for the whole run anyway, and are handed back to the collector afterwards.
    """
    global _frozen_runs
    gc.freeze()
    _frozen_runs += 1
    try:
        yield
    finally:
        _frozen_runs -= 1
        if _frozen_runs == 0:
            gc.unfreeze()


def _chunks(items: Sequence[Item], size: int) -> Iterator[Sequence[Item] | None]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
    while True:
        yield None


def _verdict_count(project: Project, run_id: int) -> int:
    return int(project.conn.execute("SELECT COUNT(*) FROM verdicts WHERE run_id = ?", (run_id,)).fetchone()[0])


def write_verdicts(project: Project, run: JudgeRun, rubric: Rubric, verdicts: list[JudgeVerdict]) -> None:
    """Store a batch of the engine's verdicts in one transaction with one ``executemany``.

    The engine's verdicts are already validated (:class:`JudgeVerdict` checks status, label and confidence; the
    parser accepts only the rubric's levels) and are for items without a verdict in the run, so the per-row checks
    of :meth:`Project.add_verdicts` (a query per verdict) are not repeated; the database still enforces the item's
    existence and one verdict per item and run. Anything unexpected (a label that is not a level, an unknown item,
    a verdict already stored by another process) goes through :meth:`Project.add_verdicts`, which skips an identical
    verdict and names the problem otherwise."""
    levels = set(rubric.scale.values)
    if any(v.label is not None and v.label not in levels for v in verdicts):
        project.add_verdicts(run.id, verdicts)
        return
    now = datetime.now(UTC)
    rows = [verdict_row(run.id, v, now) for v in verdicts]
    try:
        with project.transaction() as c:
            c.executemany(INSERT_VERDICT, rows)
    except sqlite3.IntegrityError:
        project.add_verdicts(run.id, verdicts)


def few_shot_source(
    project: Project, config: JudgeConfig, rubric: Rubric, exclude_ids: Sequence[str]
) -> tuple[Callable[[Item], list[FewShotExample]], list[FewShotExample] | None]:
    """``(examples(item), static_examples)``: the few-shot examples of an item, and the list every item shares
    (``None`` for dynamic few-shot, where they depend on the item)."""
    if config.few_shot == "dynamic":
        rubric_labels = consensus_labels(project.labels(rubric.id, rubric.version))
        pool = DynamicFewShot(project.items(), rubric_labels, exclude_ids=exclude_ids)
        k = config.few_shot_k

        def dynamic(item: Item) -> list[FewShotExample]:
            return pool.examples(item, k)

        return dynamic, None
    static = list(rubric.few_shot) if config.few_shot == "static" else []

    def shared(item: Item) -> list[FewShotExample]:
        return static

    return shared, static


def build_config(
    provider: str,
    model: str,
    rubric: Rubric,
    *,
    base_url: str | None = None,
    confidence: str | None = None,
    samples: int | None = None,
    parameters: dict[str, Any] | None = None,
    few_shot: str = "static",
    few_shot_k: int = 0,
    prompt_variant: str | None = None,
) -> JudgeConfig:
    """A :class:`JudgeConfig` with the rubric's confidence method and sample count as defaults."""
    method = confidence or rubric.confidence.method
    n = samples if samples is not None else (rubric.confidence.samples if method == "sampling" else 1)
    return JudgeConfig(
        provider=provider,
        model=model,
        rubric_id=rubric.id,
        rubric_version=rubric.version,
        base_url=base_url,
        parameters=parameters or {},
        few_shot=cast(FewShotStrategy, few_shot),
        few_shot_k=few_shot_k,
        confidence=cast(ConfidenceSource, method),
        samples=n,
        prompt_variant=prompt_variant,
    )


async def arun_judge(
    project: Project,
    config: JudgeConfig | None = None,
    *,
    rubric: Rubric | None = None,
    items: Sequence[Item] | None = None,
    run_name: str | None = None,
    concurrency: int = 8,
    rpm: float | None = None,
    tpm: float | None = None,
    limit: int | None = None,
    sample: int | None = None,
    seed: int = 0,
    max_cost: float | None = None,
    resume: str | None = None,
    timeout: float = 60.0,
    max_retries: int = DEFAULT_MAX_RETRIES,
    parse_retries: int = DEFAULT_PARSE_RETRIES,
    use_cache: bool = True,
    prices: PriceTable | None = None,
    adapter: ModelAdapter | None = None,
    variant: ItemVariant | None = None,
    exclude_ids: Sequence[str] = (),
    progress: bool = True,
    stream: TextIO | None = None,
    api_key: str | None = None,
    backoff_base: float = 0.5,
    run_meta: dict[str, Any] | None = None,
    workers: int = 1,
) -> RunSummary:
    """Judge items with ``config`` into a new run (or complete run ``resume``); see the module docstring.

    ``items`` defaults to every project item of the rubric's kind; ``variant`` transforms items (probes);
    ``exclude_ids`` are never used as dynamic few-shot examples (an evaluation split); ``run_meta`` is stored in a
    new run's notes (the CLI records ``split`` there, so a resume excludes the same items). :func:`run_judge` is the
    same call for code without an event loop.
    """
    t0 = time.monotonic()
    if concurrency < 1:
        raise ConfigError("concurrency must be at least 1")
    if workers < 1:
        raise ConfigError("workers must be at least 1")
    if workers > 1 and (adapter is not None or variant is not None):
        raise ConfigError("workers > 1 needs a provider named in the config: no custom adapter, no item variant")
    if resume is not None:
        run = project.run(resume)
        if run.source != "engine":
            raise UserError(f"run {run.name!r} was imported, not produced by the engine; it cannot be resumed")
        config = run.config
        sel: dict[str, Any] = cast(dict[str, Any], run.meta.get("selection") or {})
        limit, sample, seed = sel.get("limit"), sel.get("sample"), int(sel.get("seed") or 0)
    if config is None:
        raise ConfigError("run_judge needs a config (or resume=RUN)")
    if rubric is None or (rubric.id, rubric.version) != (config.rubric_id, config.rubric_version):
        rubric = project.rubric(config.rubric_id, config.rubric_version)
    else:
        project.save_rubric(rubric)
    if config.provider not in CAPABILITIES and adapter is None:
        raise ConfigError(f"provider {config.provider!r} cannot be run by the engine")
    check_supported(config.confidence, config.provider)
    if config.confidence == "sampling" and config.samples < 2:
        raise ConfigError("sampling confidence needs at least 2 samples (--samples N)")
    if config.confidence == "external":
        raise ConfigError("confidence 'external' is for imported runs; use logprobs, verbalized, sampling or none")
    prices = prices or PriceTable.load()
    if max_cost is not None and prices.price(config.model) is None:
        raise ConfigError(
            f"--max-cost needs the price of {config.model!r}, which is not in the price table: add it "
            "with --prices FILE (JSON or TOML, USD per 1M input/output tokens)"
        )
    if workers > 1:
        worker_context(config.provider)  # start the fork server now: its imports overlap the preparation below
    # build the adapter before creating the run: a missing key must fail before anything is written
    adapter = adapter or make_adapter(
        config.provider,
        config.model,
        base_url=config.base_url,
        timeout=timeout,
        api_key=api_key,
        max_connections=concurrency,
    )
    selected = select_items(
        items if items is not None else project.items(), rubric, limit=limit, sample=sample, seed=seed
    )
    if not selected:
        await adapter.aclose()
        raise UserError(
            f"no {rubric.task} items to judge with rubric {rubric.key}: import items first "
            "('judgekit import items FILE')"
        )
    if resume is None:
        name = run_name or default_run_name(project, config)
        run = project.create_run(
            name,
            config,
            meta={
                **(run_meta or {}),
                "selection": {"limit": limit, "sample": sample, "seed": seed},
                "items": len(selected),
            },
        )
    else:
        project.set_run_status(run.id, "running")
    done = project.verdict_item_ids(run.id)
    todo = [it for it in selected if it.id not in done]

    examples, static_examples = few_shot_source(project, config, rubric, exclude_ids)
    prog = Progress(len(selected), already=len(selected) - len(todo), stream=stream, enabled=progress)

    def make_engine(
        conc: int,
        rpm_: float | None,
        tpm_: float | None,
        max_cost_: float | None,
        progress_: Progress,
        budget_cell: Any = None,
    ) -> _Engine:
        assert adapter is not None
        return _Engine(
            project,
            run,
            rubric,
            adapter,
            concurrency=conc,
            rpm=rpm_,
            tpm=tpm_,
            max_cost=max_cost_,
            prices=prices,
            cache=ResponseCache(project, enabled=use_cache),
            max_retries=max_retries,
            parse_retries=parse_retries,
            examples=examples,
            variant=variant,
            progress=progress_,
            backoff_base=backoff_base,
            static_examples=static_examples,
            budget_cell=budget_cell,
        )

    def worker_spec(
        index: int,
        chunk: int,
        conc: int,
        rpm_: float | None,
        tpm_: float | None,
        cost_: float | None,
    ) -> WorkerSpec:
        return WorkerSpec(
            index=index,
            db_path=str(project.path.absolute()),
            run_id=run.id,
            chunk=chunk,
            concurrency=conc,
            rpm=rpm_,
            tpm=tpm_,
            max_cost=cost_,
            timeout=timeout,
            max_retries=max_retries,
            parse_retries=parse_retries,
            use_cache=use_cache,
            prices=prices,
            exclude_ids=list(exclude_ids),
            api_key=api_key,
            backoff_base=backoff_base,
        )

    n_workers = min(workers, concurrency) if todo else 1
    out = Outcome()
    status = "interrupted"
    try:
        if n_workers > 1:
            await run_with_workers(
                n_workers,
                todo,
                make_engine,
                worker_spec,
                concurrency=concurrency,
                rpm=rpm,
                tpm=tpm,
                max_cost=max_cost,
                display=prog,
                outcome=out,
            )
        else:
            engine = make_engine(concurrency, rpm, tpm, max_cost, prog)
            try:
                await engine.run_items(todo)
            finally:
                out.add(engine_counts(engine))
                out.fatal = engine.fatal
        missing = len(selected) - _verdict_count(project, run.id)
        stop = out.stop_reason or ("failures" if missing else "complete")
        status = "complete" if stop == "complete" and out.fatal is None else "interrupted"
    except (asyncio.CancelledError, KeyboardInterrupt):
        stop = "interrupted"
        raise
    finally:
        prog.maybe_print(final=True)
        prev: dict[str, Any] = dict(project.run(run.id).meta)
        meta: dict[str, Any] = {
            "cost_usd": round(float(prev.get("cost_usd", 0.0) or 0.0) + out.spent, 8),
            "requests": int(prev.get("requests", 0) or 0) + out.requests,
            "cache_hits": int(prev.get("cache_hits", 0) or 0) + out.cache_hits,
            "cost_known": out.cost_known and bool(prev.get("cost_known", True)),
        }
        if out.stop_reason:
            meta["stop_reason"] = out.stop_reason
        project.set_run_status(run.id, status, meta=meta)
    if out.fatal is not None:
        raise out.fatal
    missing = len(selected) - _verdict_count(project, run.id)
    return RunSummary(
        run=project.run(run.id),
        total=len(selected),
        judged=out.written,
        skipped=len(done),
        statuses=dict(out.statuses),
        errors=dict(out.errors),
        cost_usd=out.spent,
        cost_known=out.cost_known,
        requests=out.requests,
        cache_hits=out.cache_hits,
        elapsed_s=time.monotonic() - t0,
        stop_reason=stop,
        missing=missing,
        workers=out.per_worker,
        cpu_s=out.cpu_s,
    )


P = ParamSpec("P")
R = TypeVar("R")


def _blocking(fn: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, R]:
    """``fn`` run to completion in a new event loop, with ``fn``'s signature (one signature, not a copy of it)."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return asyncio.run(fn(*args, **kwargs))

    return run


run_judge = _blocking(arun_judge)
run_judge.__name__ = run_judge.__qualname__ = "run_judge"
run_judge.__doc__ = """:func:`arun_judge` run to completion in its own event loop (``asyncio.run``): the call for
scripts, notebooks without a running loop and the CLI. Same parameters and result."""
