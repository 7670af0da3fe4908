"""The judge engine: one process's judging of one run, concurrent, paced, cached and resumable.

The engine runs on one asyncio event loop: a *feeder* task takes chunks of items, serves the fully cached ones at
once and queues the rest; ``concurrency`` *judge tasks* take queued items and make their calls
(:mod:`judgekit.judging.calls`); a *writer* task commits verdicts. Several worker processes each run one engine
on the same run (:mod:`judgekit.judging.processes`, which uses this module; this module knows nothing of
processes). :func:`judgekit.judging.run.arun_judge` is the entry point.

Guarantees, and why they matter for a trust analysis:

* **Verdicts are committed as they arrive** (the writer commits whatever has finished, in one transaction, at
  most every ``WRITE_INTERVAL`` = 50 ms), so Ctrl-C loses at most the calls in flight and a hard kill at most
  the last 50 ms of results.
* **Resume pays for no call twice:** items that already have a verdict are skipped, and every successful reply is
  in the response cache (buffered, flushed every 50 ms and always before the verdicts that use it), so a reply
  that arrived but was not yet turned into a verdict is replayed from the cache.
* **A repeated request inside a run is a hit:** identical requests in flight share one call (single-flight) and a
  retry looks in the cache again first.
* **One SDK client per process**, built at the first call: its connection pool keeps at least ``concurrency``
  keep-alive connections, so no call waits for or pays for a new connection.
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
import gc
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from judgekit.errors import ProviderError
from judgekit.judging.budget import Budget
from judgekit.judging.cache import ResponseCache
from judgekit.judging.calls import Caller, CallFailed, Usage
from judgekit.judging.circuit import CircuitBreaker
from judgekit.judging.counts import Counts
from judgekit.judging.fewshot import DynamicFewShot, consensus_labels
from judgekit.judging.items import ChunkClaim, ItemVariant, chunk_bounds, group_duplicates
from judgekit.judging.options import RunOptions
from judgekit.judging.pacing import Pacer
from judgekit.judging.per_criterion import CriterionCall, criterion_calls, criterion_examples
from judgekit.judging.prompts import MessageBuilder
from judgekit.judging.providers.base import ModelAdapter, ProviderReply
from judgekit.judging.providers.registry import Capabilities, ProviderSpec
from judgekit.judging.request import RequestTemplate
from judgekit.judging.verdicts import Outcome, VerdictMaker, read_cached
from judgekit.models import FewShotExample, Item, JudgeConfig, JudgeRun, JudgeVerdict, Rubric
from judgekit.storage import Project

WRITE_INTERVAL = 0.05
"""Seconds between two commits of verdicts and cached replies: one transaction per batch instead of one per call
(a commit costs more than the rest of the bookkeeping of a call); a hard kill loses at most this much work."""
CHUNK = 256
"""Items taken at a time by the feeder of a single process: their cache keys are looked up in one query, hits are
turned into verdicts at once, misses go to the judge tasks (several worker processes take smaller chunks)."""


@dataclass(frozen=True)
class Share:
    """The part of the run's limits one process uses (all of them with one process)."""

    concurrency: int
    rpm: float | None = None
    tpm: float | None = None

    @classmethod
    def whole(cls, options: RunOptions) -> Share:
        return cls(options.concurrency, options.rpm, options.tpm)


@dataclass
class _Todo:
    """An item ready to judge: its messages rendered once (for the cache lookup and for the call)."""

    item: Item
    messages: list[dict[str, str]]
    est: float
    """Estimated cost (for ``max_cost``)."""
    per: list[list[dict[str, str]]] | None = None
    """``judge_calls: per_criterion``: the messages of each criterion's call (in :attr:`Engine.per`'s order)."""


class Engine:
    """One process's judging of one run (see the module docstring). Made by :func:`open_engine`."""

    def __init__(
        self,
        project: Project,
        run: JudgeRun,
        rubric: Rubric,
        adapter: ModelAdapter,
        options: RunOptions,
        *,
        share: Share,
        capabilities: Capabilities,
        examples: Callable[[Item], list[FewShotExample]],
        static_examples: Sequence[FewShotExample] | None,
        budget: Budget,
        variant: ItemVariant | None = None,
        items_in_run: int = 0,
    ) -> None:
        self.project = project
        self.run = run
        self.config: JudgeConfig = run.config
        self.rubric = rubric
        self.adapter = adapter
        self.options = options
        self.tasks = share.concurrency
        """Judge tasks (asyncio), one per call this process may have in flight."""
        self.pacer = Pacer(concurrency=share.concurrency, rpm=share.rpm, tpm=share.tpm)
        self.budget = budget
        """What the run may still commit; shared by the run's worker processes."""
        self.cache = ResponseCache(project, enabled=options.use_cache)
        self.counts = Counts()
        self.template = RequestTemplate.for_run(self.config, rubric, capabilities, adapter.base_url)
        self.maker = VerdictMaker(rubric, self.template, variant)
        self.variant = variant
        self.examples = examples
        self.price = options.cost_price
        self.breaker = CircuitBreaker(options.circuit_breaker, items_in_run or 1_000_000)
        self.caller = Caller(
            adapter,
            self.config,
            self.template,
            self.cache,
            self.pacer,
            budget,
            self.price,
            options,
            self.counts,
            self.breaker,
        )
        self.caller.on_success = self._release_held
        self.caller.on_trip = self._tripped
        self._held: list[JudgeVerdict] = []
        """``api_error`` verdicts held back until a call succeeds: if the breaker opens on a streak of 400s, they
        are dropped (the items stay without a verdict, for a resume once the cause is fixed)."""
        self.messages = MessageBuilder(rubric, verbalized=self.template.verbalized, static_examples=static_examples)
        self.per: list[CriterionCall] | None = None
        """``judge_calls: per_criterion``: each rated criterion's own request, messages and parser
        (:mod:`judgekit.judging.per_criterion`); ``None``: one request per item."""
        self.redo: set[str] = set()
        """Items whose stored verdict has unanswered criteria (a resume asks them again and replaces it)."""
        if rubric.is_rated and rubric.judge_calls == "per_criterion":
            self.per = criterion_calls(
                rubric, self.config, capabilities, adapter.base_url, static_examples=static_examples
            )
            self.redo = project.unanswered_verdict_item_ids(run.id)
            self._levels = {c.name: list(c.rubric.scale.values) for c in self.per}
        self.claim: Callable[[], Sequence[Item] | None] | None = None
        """Where the feeder takes its next chunk of items from (set by :meth:`run_items`, or by the process layer
        so that the processes share one list)."""
        self.on_tick: Callable[[], None] | None = None
        """Called every ``WRITE_INTERVAL`` (progress display, worker process reports and stops)."""
        self._more = asyncio.Event()
        self.results: asyncio.Queue[JudgeVerdict | None] = asyncio.Queue()
        self.done = False
        """:meth:`run_items` has returned."""
        self.cpu0 = time.process_time()
        """CPU time of this process when the engine was made (its run's CPU is the difference)."""
        self.stop_reason: str | None = None
        self.stop_detail: str | None = None
        """What stopped the run, in words (the circuit breaker's streak)."""
        self.fatal: BaseException | None = None
        self.missing: list[str] = []

    # -- what the process did -------------------------------------------------------------------------------

    def snapshot(self) -> Counts:
        """The counts so far, with the CPU time spent."""
        out = self.counts.snapshot()
        out.cpu_s = time.process_time() - self.cpu0
        return out

    # -- cost --------------------------------------------------------------------------------------------------

    def estimate_cost(self, messages: list[dict[str, str]], template: RequestTemplate | None = None) -> float:
        """Upper-ish estimate for one call of an item: ~4 characters per prompt token, the full max_tokens per
        sample."""
        if self.price is None:
            return 0.0
        t = template or self.template
        est_in = sum(len(m["content"]) for m in messages) // 4 + 16
        return self.price.cost(est_in, t.template.max_tokens) * t.samples

    # -- one item ----------------------------------------------------------------------------------------------

    def prepare(self, item: Item) -> _Todo:
        """Render the item's messages (once: the cache lookup and the call use the same ones)."""
        shown = self.variant.transform(item) if self.variant else item
        if self.per is not None:
            examples = self.examples(item)
            per = [c.messages.build(shown, criterion_examples(examples, c.name)) for c in self.per]
            est = sum(self.estimate_cost(m, c.template) for c, m in zip(self.per, per, strict=True))
            return _Todo(item, per[0], est, per)
        messages = self.messages.build(shown, self.examples(item))
        return _Todo(item, messages, self.estimate_cost(messages))

    def serve_cached(self, todos: list[_Todo]) -> list[_Todo]:
        """Turn the items whose every reply is cached into verdicts now, with one lookup for the whole chunk and no
        task, pacing or client involved; return the others (their cached replies, if any, are kept for the
        caller). A reply that fails to parse while repairs are allowed goes the normal way (the repair request
        may need a call)."""
        if not self.cache.enabled or not todos:
            return todos
        if self.per is not None:
            return self._serve_cached_criteria(todos)
        n = self.template.samples
        keys = [[self.template.key(t.messages, s) for s in range(n)] for t in todos]
        found = self.cache.get_many([k for ks in keys for k in ks])
        rest: list[_Todo] = []
        repairs = self.options.parse_retries > 0
        for todo, ks in zip(todos, keys, strict=True):
            replies = [found.get(k) for k in ks]
            verdict = None
            if all(r is not None for r in replies):
                verdict = self.maker.from_cache(todo.item, cast(list[ProviderReply], replies), repairs_allowed=repairs)
            if verdict is not None:
                self.results.put_nowait(verdict)
                self.counts.cache_hits += n
                continue
            pairs = list(zip(ks, replies, strict=True))
            self.caller.remember({k: r for k, r in pairs if r is not None}, [k for k, r in pairs if r is None])
            rest.append(todo)
        return rest

    def _serve_cached_criteria(self, todos: list[_Todo]) -> list[_Todo]:
        """:meth:`serve_cached` for one call per criterion: an item becomes a verdict at once when every
        criterion's replies are cached; the others make calls only for the criteria without one."""
        assert self.per is not None
        n = self.template.samples
        keys = [
            [[c.template.key(m, s) for s in range(n)] for c, m in zip(self.per, t.per or [], strict=True)]
            for t in todos
        ]
        found = self.cache.get_many([k for per in keys for ks in per for k in ks])
        rest: list[_Todo] = []
        repairs = self.options.parse_retries > 0
        for todo, per in zip(todos, keys, strict=True):
            flat = [k for ks in per for k in ks]
            if all(k in found for k in flat):
                verdict = self._cached_criteria(todo.item, [[found[k] for k in ks] for ks in per], repairs)
                if verdict is not None:
                    self.results.put_nowait(verdict)
                    self.counts.cache_hits += len(flat)
                    continue
            self.caller.remember({k: found[k] for k in flat if k in found}, [k for k in flat if k not in found])
            rest.append(todo)
        return rest

    def _cached_criteria(self, item: Item, replies: list[list[ProviderReply]], repairs: bool) -> JudgeVerdict | None:
        assert self.per is not None
        answers: dict[str, list[Outcome] | CallFailed] = {}
        usages: dict[str, Usage] = {}
        for call, got in zip(self.per, replies, strict=True):
            usage = usages[call.name] = Usage(hits=len(got))
            outcomes = read_cached(call.parser.parse, got, usage, repairs_allowed=repairs)
            if outcomes is None:
                return None
            answers[call.name] = outcomes
        return self.maker.from_criteria(item, answers, usages, self._levels)

    async def sample(
        self,
        item_id: str,
        messages: list[dict[str, str]],
        index: int,
        usage: Usage,
        call: CriterionCall | None = None,
    ) -> Outcome:
        """One sample of an item (of one criterion's call, ``call``): call, read, and send an unreadable reply back
        with the reason (bounded)."""
        msgs = list(messages)
        retries = self.options.parse_retries
        template = self.template if call is None else call.template
        for attempt in range(retries + 1):
            request = template.request(tuple(msgs))
            reply = await self.caller.call(request, index, usage, item_id, None if call is None else template)
            usage.raws.append(reply.text if not reply.refusal else reply.refusal)
            parsed = self.maker.parse(reply) if call is None else call.parser.parse(reply)
            if parsed.status != "parse_error" or attempt == retries:
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

    async def judge(self, todo: _Todo) -> JudgeVerdict | None:
        """The verdict of one item, or ``None`` (no money left, a fatal error, or its calls kept failing)."""
        item, messages, est = todo.item, todo.messages, todo.est
        if not self.budget.try_reserve(est):
            self.stop("max_cost")
            return None
        if self.per is not None:
            try:
                return await self._judge_criteria(todo)
            finally:
                self.budget.release(est)
        usage = Usage()
        try:
            outcomes = [await self.sample(item.id, messages, s, usage) for s in range(self.template.samples)]
        except CallFailed as exc:
            if exc.fatal:
                self.fail(ProviderError(str(exc), status_code=exc.status_code))
                return None
            if not exc.permanent:
                self.missing.append(item.id)
                return None
            self._held.append(self.maker.api_error(item, usage, str(exc)))
            return None
        finally:
            self.budget.release(est)
        return self.maker.from_outcomes(item, outcomes, usage)

    async def _judge_criteria(self, todo: _Todo) -> JudgeVerdict | None:
        """One item, one call per criterion (concurrently; the pacer bounds the calls in flight): a criterion
        whose call fails is that criterion failed, the others keep their answers (see
        :meth:`VerdictMaker.from_criteria`). ``None`` on a fatal error or an open circuit (no verdict: a resume
        judges the item again, its answered criteria from the cache)."""
        assert self.per is not None and todo.per is not None
        item = todo.item
        usages = {c.name: Usage() for c in self.per}

        async def one(call: CriterionCall, messages: list[dict[str, str]]) -> list[Outcome] | CallFailed:
            usage = usages[call.name]
            try:
                return [await self.sample(item.id, messages, s, usage, call) for s in range(call.template.samples)]
            except CallFailed as exc:
                return exc

        got = await asyncio.gather(*(one(c, m) for c, m in zip(self.per, todo.per, strict=True)))
        answers = {c.name: g for c, g in zip(self.per, got, strict=True)}
        failures = [g for g in got if isinstance(g, CallFailed)]
        fatal = next((f for f in failures if f.fatal), None)
        if fatal is not None:
            self.fail(ProviderError(str(fatal), status_code=fatal.status_code))
            return None
        if failures and self.breaker.tripped is not None:  # no verdict: the resume asks again
            self.missing.append(item.id)
            return None
        verdict = self.maker.from_criteria(item, answers, usages, self._levels)
        if any(not f.permanent for f in failures):
            self.missing.append(item.id)
        if failures and all(f.permanent for f in failures) and len(failures) == len(got):
            self._held.append(verdict)  # every call refused (HTTP 400): held back as api_error verdicts are
            return None
        return verdict

    # -- orchestration -----------------------------------------------------------------------------------------

    def _release_held(self) -> None:
        if self._held:
            for v in self._held:
                self.results.put_nowait(v)
            self._held.clear()

    def _tripped(self) -> None:
        trip = self.breaker.tripped
        self.stop_detail = None if trip is None else trip.describe()
        self._held.clear()
        self.stop("circuit_open")

    @property
    def stopping(self) -> bool:
        return self.stop_reason is not None or self.fatal is not None

    def fail(self, exc: BaseException) -> None:
        """Stop because of an error (here or in another worker process): raised by the run."""
        if self.fatal is None:
            self.fatal = exc
        self._more.set()

    def stop(self, reason: str) -> None:
        """Start no further item (in-flight ones finish and are saved)."""
        if self.stop_reason is None:
            self.stop_reason = reason
        self._more.set()

    async def judge_task(self, queue: asyncio.Queue[_Todo | None]) -> None:
        """One of the engine's judge tasks: judge queued items one at a time until the end marker."""
        while True:
            todo = await queue.get()
            self._more.set()
            if todo is None:
                queue.put_nowait(None)  # the end marker, for the next task
                return
            if self.stopping:
                continue  # drain: the feeder ends the queue as soon as it sees the stop
            verdict = await self.judge(todo)
            if verdict is not None:
                self.results.put_nowait(verdict)
            elif self.stopping:
                self._more.set()

    async def feeder(self, queue: asyncio.Queue[_Todo | None]) -> None:
        """Take chunks of items, serve the cached ones at once and queue the rest for the judge tasks, keeping only
        about one item per task queued (so that other worker processes can take the remaining chunks)."""
        assert self.claim is not None
        try:
            while not self.stopping:
                chunk = self.claim()
                if chunk is None:
                    return
                for todo in self.serve_cached([self.prepare(it) for it in chunk]):
                    queue.put_nowait(todo)
                while queue.qsize() >= self.tasks and not self.stopping:
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
        levels = None if self.rubric.is_rated or self.rubric.scale.is_interval else self.rubric.scale.values
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
                redo = [v for v in batch if v.item_id in self.redo] if self.redo else []
                if redo:  # a resume's new answers for items whose stored verdict has unanswered criteria
                    self.project.replace_verdicts(self.run.id, redo)
                    replaced = {v.item_id for v in redo}
                    self.redo -= replaced
                    batch = [v for v in batch if v.item_id not in replaced]
                if batch:
                    self.project.append_verdicts(self.run.id, batch, levels)
                batch += redo
                for v in batch:
                    self.counts.statuses[v.status] += 1
                self.counts.done += len(batch)

    async def ticker(self) -> None:
        """Flush replies cached by items still in flight (sampling, repairs) and call :attr:`on_tick`."""
        while True:
            await asyncio.sleep(WRITE_INTERVAL)
            self.cache.flush()
            if self.on_tick is not None:
                self.on_tick()

    async def run_items(self, items: Sequence[Item] | None = None) -> None:
        """Judge ``items`` (or, with ``items=None``, the chunks :attr:`claim` hands out)."""
        if items is not None:
            ordered, groups = group_duplicates(items)
            self.claim = ChunkClaim(ordered, chunk_bounds(groups, CHUNK))
        queue: asyncio.Queue[_Todo | None] = asyncio.Queue()
        stack = contextlib.ExitStack()
        stack.enter_context(frozen_heap())
        writer = asyncio.create_task(self.writer())
        ticker = asyncio.create_task(self.ticker())
        feeder = asyncio.create_task(self.feeder(queue))
        try:
            tasks = [asyncio.create_task(self.judge_task(queue)) for _ in range(self.tasks)]
            try:
                await asyncio.gather(*tasks)
            finally:
                for t in [*tasks, feeder]:
                    t.cancel()
                await asyncio.gather(*tasks, feeder, return_exceptions=True)
                if self.breaker.tripped is None:
                    self._release_held()
                await self.results.put(None)
                await writer
        finally:
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)
            self.cache.flush()
            self.done = True
            stack.close()
            await self.adapter.aclose()


def open_engine(
    project: Project,
    run: JudgeRun,
    rubric: Rubric,
    options: RunOptions,
    provider: ProviderSpec | None,
    *,
    share: Share | None = None,
    adapter: ModelAdapter | None = None,
    variant: ItemVariant | None = None,
    budget_cell: Any = None,
    spent_before: float = 0.0,
    items_in_run: int = 0,
) -> Engine:
    """The engine of one process for ``run``: its adapter (built from ``provider`` unless one is given), cache,
    few-shot source, budget and share of the limits. The single place an engine is made, in the judging process
    and in every worker process.

    ``spent_before`` is what earlier calls of the run spent (a resume): ``max_cost`` is the budget of the whole
    run. ``budget_cell`` is the budget in shared memory when several processes share the run."""
    share = share or Share.whole(options)
    config = run.config
    if adapter is None:
        assert provider is not None
        adapter = make_run_adapter(provider, config, options, share.concurrency)
    examples, static_examples = few_shot_source(project, config, rubric, options.exclude_ids)
    budget = Budget(options.max_cost, budget_cell)
    if budget_cell is None and spent_before:
        budget.spend(spent_before)
    return Engine(
        project,
        run,
        rubric,
        adapter,
        options,
        share=share,
        capabilities=provider.capabilities if provider is not None else Capabilities(),
        examples=examples,
        static_examples=static_examples,
        budget=budget,
        variant=variant,
        items_in_run=items_in_run,
    )


def make_run_adapter(
    provider: ProviderSpec, config: JudgeConfig, options: RunOptions, max_connections: int
) -> ModelAdapter:
    """The adapter of ``config``'s model with the run's timeout and key, its pool sized for ``max_connections``
    (raises :class:`~judgekit.errors.MissingKeyError` naming the environment variable)."""
    return provider.make(
        config.model,
        base_url=config.base_url,
        timeout=options.timeout,
        api_key=options.api_key,
        max_connections=max_connections,
    )


def few_shot_source(
    project: Project, config: JudgeConfig, rubric: Rubric, exclude_ids: Sequence[str]
) -> tuple[Callable[[Item], list[FewShotExample]], list[FewShotExample] | None]:
    """``(examples(item), static_examples)``: the few-shot examples of an item, and the list every item shares
    (``None`` for dynamic few-shot, where they depend on the item)."""
    if config.few_shot == "dynamic":
        rubric_labels = consensus_labels(project.labels(rubric.id, rubric.labels_version))
        pool = DynamicFewShot(project.items(), rubric_labels, exclude_ids=exclude_ids)
        k = config.few_shot_k

        def dynamic(item: Item) -> list[FewShotExample]:
            return pool.examples(item, k)

        return dynamic, None
    static = list(rubric.few_shot) if config.few_shot == "static" else []

    def shared(item: Item) -> list[FewShotExample]:
        return static

    return shared, static


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
