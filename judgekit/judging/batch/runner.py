"""Judging a run's items through the provider's batch API: build, submit, poll, fetch, turn into verdicts.

:func:`judge_in_batches` takes the engine of the run (:func:`~judgekit.judging.engine.open_engine`), so a batch
request is the interactive request, byte for byte: the same messages (``Engine.prepare``), the same request
template and cache key (:class:`~judgekit.judging.request.RequestTemplate`), the same body
(``adapter.body``), read by the same reader (``adapter.read_reply``) and parser (:class:`VerdictMaker`). It returns
the items left for the interactive engine: replies that do not parse (repaired interactively, bounded by
``parse_retries``) and, with ``fallback="interactive"``, requests still without a reply after their rounds.

**Exactly once, across kill -9.** Every step is committed before the next one starts
(:mod:`judgekit.judging.batch.store`):

* the batch row and its custom ids are committed before the input file is uploaded, so a resume rebuilds the same
  requests and sends none of them in a second batch while the first may still answer;
* ``submitting`` is committed before the create call, so a resume whose create reply was lost looks for the batch
  at the provider (OpenAI: by input file or metadata; Anthropic: by time and size, adopted only once its results
  carry our custom ids) instead of creating a second one;
* the results of a batch (replies into the response cache, each request's outcome, the batch's cost) are
  committed in one transaction, and verdicts are made from the stored replies in a later one, so a kill while
  fetching loses nothing (the results are fetched again: the provider keeps them) and a kill between the two
  pays nothing twice (the replies are in the project).

A request whose result is ``expired``, ``cancelled`` or a transient error goes into a follow-up batch, until it
has been in ``rounds`` batches; a request the provider refused (4xx) becomes an ``api_error`` verdict, as
interactively. Cost is counted at batch prices (:meth:`~judgekit.judging.pricing.Price.batch`), and ``max_cost``
holds a batch's estimated cost from its submission until its results are in.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from judgekit.errors import ConfigError, ProviderError
from judgekit.judging.batch import store
from judgekit.judging.batch.api import BatchApi, RemoteBatch, Result, make_batch_api
from judgekit.judging.cache import ResponseCache
from judgekit.judging.calls import Usage
from judgekit.judging.options import BatchOptions, RunOptions
from judgekit.judging.pacing import backoff_delay
from judgekit.judging.pricing import Price
from judgekit.judging.providers.base import PermanentError, ProviderReply, TransientError
from judgekit.judging.providers.registry import ProviderSpec
from judgekit.models import Item, JudgeVerdict
from judgekit.storage import now_iso

if TYPE_CHECKING:  # pragma: no cover
    from judgekit.judging.engine import Engine

WRITE_CHUNK = 1000
"""Verdicts per transaction (items with the same requests are never split between two)."""
SIZE_MARGIN = 0.95
"""Share of a provider's byte limit a batch fills at most (the envelope of the request adds a little)."""
FATAL = frozenset({401, 403})


def batch_price(options: RunOptions) -> Price | None:
    """The run's price in a provider batch (``None``: unknown)."""
    price = options.cost_price
    return None if price is None else price.batch()


def poll_delay(k: int, base: float, cap: float, *, rng: random.Random | None = None) -> float:
    """Seconds before the ``k``-th look (from 0) at the outstanding batches: ``base * 1.5**k``, at most ``cap``,
    +-10% jitter (several runs polling one account do not fall into step).

    >>> [round(poll_delay(k, 10, 60, rng=random.Random(0)) / 10, 1) for k in range(6)]
    [1.1, 1.6, 2.4, 3.6, 5.4, 6.4]
    """
    r = rng or random
    return float(min(cap, base * 1.5**k) * (0.9 + 0.2 * r.random()))


async def check_batch_api(provider: ProviderSpec | None, adapter: Any, options: RunOptions) -> BatchApi:
    """The batch API of the run's provider, checked before the run is created: a provider that declares none, or a
    server without batch endpoints, is a :class:`~judgekit.errors.ConfigError` with one clear line."""
    kind = provider.capabilities.batch if provider is not None else None
    if kind is None:
        name = provider.name if provider is not None else "this provider"
        raise ConfigError(f"{name} has no batch API that judgekit can use: run without --batch")
    api = make_batch_api(kind, adapter, timeout=options.timeout)
    try:
        await api.check()
    except BaseException:
        await adapter.aclose()
        raise
    return api


@dataclass
class _Todo:
    item: Item
    messages: list[dict[str, str]]
    keys: list[str]


@dataclass
class _Plan:
    """What the stored state says about the items still to judge."""

    ready: list[tuple[_Todo, list[ProviderReply]]] = field(default_factory=list)
    refused: list[tuple[_Todo, str]] = field(default_factory=list)
    pending: dict[str, tuple[list[dict[str, str]], int]] = field(default_factory=dict)
    """Requests to submit: custom id -> (messages, rounds so far)."""
    waiting: int = 0
    exhausted: list[_Todo] = field(default_factory=list)


class BatchRunner:
    """One call's judging of a run through batches (see the module docstring). Made by :func:`judge_in_batches`."""

    def __init__(self, engine: Engine, api: BatchApi, opts: BatchOptions, log: Callable[[str], None]) -> None:
        self.engine = engine
        self.api = api
        self.opts = opts
        self.log = log
        self.project = engine.project
        self.run = engine.run
        self.template = engine.template
        self.price = batch_price(engine.options)
        self.limit = min(api.max_requests, opts.max_requests or api.max_requests)
        self.todos: dict[str, _Todo] = {}
        self.by_key: dict[str, list[_Todo]] = {}
        """The items still to judge, by custom id (identical requests of several items share one)."""
        self.ok_keys: set[str] = set()
        """Custom ids this run's batches returned a reply for (paid at batch price)."""
        self.paid: set[str] = set()
        """Of those, the ones already counted in a verdict's cost."""
        self.reserved: dict[str, float] = {}
        """Estimated cost held in the budget per batch, until its results are in."""

    # -- what is where -----------------------------------------------------------------------------------------

    def prepare(self, items: Sequence[Item]) -> None:
        """Render every item's messages once (as the interactive engine does) and compute its custom ids."""
        n = self.template.samples
        for it in items:
            messages = self.engine.prepare(it).messages
            todo = _Todo(it, messages, [self.template.key(messages, s) for s in range(n)])
            self.todos[it.id] = todo
            for k in todo.keys:
                self.by_key.setdefault(k, []).append(todo)

    def plan(self) -> _Plan:
        """Classify the items still to judge from what is stored: replies in, refused, waiting for a batch, to
        submit, or out of rounds."""
        history = store.request_history(self.project, self.run.id)
        none = store.RequestHistory()
        keys = list(self.by_key)
        self.ok_keys = {k for k in keys if history.get(k, none).outcome == "ok"}
        if self.engine.cache.enabled:
            found = self.engine.cache.get_many(keys)
        else:  # --no-cache: replies of other runs are not used, this run's own batch results are
            found = stored_replies(self.project, sorted(self.ok_keys))
        plan = _Plan()
        for todo in self.todos.values():
            replies = [found.get(k) for k in todo.keys]
            if all(r is not None for r in replies):
                plan.ready.append((todo, [r for r in replies if r is not None]))
                continue
            missing = [(k, history.get(k, none)) for k, r in zip(todo.keys, replies, strict=True) if r is None]
            if any(h.outstanding for _, h in missing):
                plan.waiting += 1
            elif any(h.outcome == "error" for _, h in missing):
                plan.refused.append((todo, next(str(h.detail) for _, h in missing if h.outcome == "error")))
            elif all(h.rounds < self.opts.rounds for _, h in missing):
                for k, h in missing:
                    plan.pending[k] = (todo.messages, h.rounds)
            else:
                plan.exhausted.append(todo)
        return plan

    # -- verdicts ----------------------------------------------------------------------------------------------

    def _usage(self, todo: _Todo, replies: list[ProviderReply]) -> Usage:
        """Tokens and cost of an item's replies: a reply of this run's batches counts, at batch price, for the first
        item that uses it; any other (from the cache, or shared with an identical request) is a hit."""
        usage = Usage()
        for key, reply in zip(todo.keys, replies, strict=True):
            if key in self.ok_keys and key not in self.paid:
                self.paid.add(key)
                usage.calls += 1
                usage.input_tokens += reply.input_tokens
                usage.output_tokens += reply.output_tokens
                if self.price is None:
                    usage.cost_known = False
                else:
                    usage.cost += self.price.cost(reply.input_tokens, reply.output_tokens)
            else:
                usage.hits += 1
            usage.raws.append(reply.text if not reply.refusal else reply.refusal)
        return usage

    def write_verdicts(self, plan: _Plan) -> list[_Todo]:
        """Store the verdicts of the items whose replies are all in (and of the refused ones); return those that
        need an interactive repair (a reply that does not parse while repairs are allowed).

        Items with the same requests are written in one transaction, so the one that carries the reply's cost and
        the ones that share it are stored together or not at all (a kill between two transactions cannot make a
        resume count a cost twice)."""
        maker = self.engine.maker
        repairs = self.engine.options.parse_retries > 0
        groups: dict[tuple[str, ...], list[tuple[_Todo, list[ProviderReply]]]] = {}
        for todo, replies in plan.ready:
            groups.setdefault(tuple(todo.keys), []).append((todo, replies))
        chunks: list[list[JudgeVerdict]] = [[]]
        repair: list[_Todo] = []
        for group in groups.values():
            made = []
            for todo, replies in group:
                v = maker.from_cache(todo.item, replies, repairs_allowed=repairs, usage=self._usage(todo, replies))
                if v is None:
                    repair.append(todo)
                else:
                    made.append(v)
            if len(chunks[-1]) + len(made) > WRITE_CHUNK:
                chunks.append([])
            chunks[-1] += made
        for todo, detail in plan.refused:
            if len(chunks[-1]) >= WRITE_CHUNK:
                chunks.append([])
            chunks[-1].append(maker.api_error(todo.item, Usage(), f"the provider refused the request: {detail}"))
        for chunk in chunks:
            if chunk:
                self._append(chunk)
        for todo in [*(t for t, _ in plan.ready), *(t for t, _ in plan.refused)]:
            self._forget(todo)
        return repair

    def _append(self, verdicts: list[JudgeVerdict]) -> None:
        rubric = self.engine.rubric
        levels = None if rubric.is_rated or rubric.scale.is_interval else rubric.scale.values
        self.project.append_verdicts(self.run.id, verdicts, levels)
        c = self.engine.counts
        c.done += len(verdicts)
        for v in verdicts:
            c.statuses[v.status] += 1
        if self.engine.on_tick is not None:
            self.engine.on_tick()  # the progress display

    def _forget(self, todo: _Todo) -> None:
        self.todos.pop(todo.item.id, None)
        for k in todo.keys:
            users = self.by_key.get(k)
            if users is not None:
                users[:] = [t for t in users if t is not todo]
                if not users:
                    del self.by_key[k]

    # -- submitting --------------------------------------------------------------------------------------------

    def _estimate(self, messages: list[dict[str, str]]) -> float:
        """Upper-ish cost of one request at batch price: ~4 characters per prompt token, the full max_tokens."""
        if self.price is None:
            return 0.0
        est_in = sum(len(m["content"]) for m in messages) // 4 + 16
        return self.price.cost(est_in, self.template.template.max_tokens)

    def _entry(self, key: str, messages: list[dict[str, str]]) -> bytes:
        """The request as the batch carries it: the interactive request's body, under its custom id."""
        body = self.engine.adapter.body(self.template.request(tuple(messages)))  # type: ignore[attr-defined]
        return self.api.entry(key, body)

    async def submit(self, pending: dict[str, tuple[list[dict[str, str]], int]]) -> None:
        """Submit the pending requests in batches within the provider's limits (requests and bytes) and the run's
        budget (a batch is started only if its estimated cost fits beside what is spent and held)."""
        budget = self.engine.budget
        max_bytes = self.api.max_bytes * SIZE_MARGIN
        by_round: dict[int, list[str]] = {}
        for key, (_, rounds) in pending.items():
            by_round.setdefault(rounds, []).append(key)
        for rounds, keys in sorted(by_round.items()):
            chunk: list[tuple[str, bytes]] = []
            size = est = 0.0
            for key in keys:
                messages = pending[key][0]
                entry = self._entry(key, messages)
                e = self._estimate(messages)
                if budget.limit is not None and budget.spent + budget.reserved + est + e > budget.limit:
                    if chunk:
                        await self.submit_one(chunk, rounds + 1, est)
                    self.engine.stop("max_cost")
                    return
                if chunk and (len(chunk) >= self.limit or size + len(entry) + 1 > max_bytes):
                    await self.submit_one(chunk, rounds + 1, est)
                    chunk, size, est = [], 0.0, 0.0
                chunk.append((key, entry))
                size += len(entry) + 1
                est += e
            if chunk:
                await self.submit_one(chunk, rounds + 1, est)

    async def submit_one(self, chunk: list[tuple[str, bytes]], round_: int, estimate: float) -> None:
        keys = [k for k, _ in chunk]
        row = store.new_batch(self.project, self.run.id, self.api.name, round_, keys, estimate if self.price else None)
        self._hold(row)
        self.log(
            f"batch {row.id}: {len(keys):,} requests"
            + (f", about ${estimate:.4f} at batch prices" if self.price else "")
            + (f" (round {round_})" if round_ > 1 else "")
        )
        await self.advance(row, [e for _, e in chunk])

    def _hold(self, row: store.BatchRow) -> None:
        if row.id not in self.reserved and row.estimate_usd:
            self.engine.budget.hold(row.estimate_usd)
            self.reserved[row.id] = row.estimate_usd

    def _settle(self, row: store.BatchRow, cost: float) -> None:
        est = self.reserved.pop(row.id, 0.0)
        if est:
            self.engine.budget.release(est)
        self.engine.budget.spend(cost)

    def _rebuild_entries(self, row: store.BatchRow) -> tuple[list[bytes], bool] | None:
        """The entries of a batch recorded by an interrupted run, rebuilt from the items (deterministic), and
        whether requests had to be dropped from it (their items have a verdict now, or changed). ``None``: nothing
        is left of it (the row is abandoned)."""
        entries: list[bytes] = []
        gone: list[str] = []
        for k in store.batch_custom_ids(self.project, row.id):
            users = self.by_key.get(k)
            if users:
                entries.append(self._entry(k, users[0].messages))
            else:
                gone.append(k)
        if gone:
            store.drop_requests(self.project, row.id, gone)
        if not entries:
            store.update_batch(self.project, row.id, state="abandoned", error="its items have verdicts or changed")
            return None
        return entries, bool(gone)

    async def advance(self, row: store.BatchRow, entries: list[bytes] | None = None) -> None:
        """Carry a batch from ``prepared`` / ``uploaded`` / ``submitting`` to ``submitted``, committing each step
        before the next call (``entries`` given: a new batch; else it is resumed)."""
        api = self.api
        if row.state == "submitting":  # a create call may have reached the provider: look before creating another
            found = await self._retrying(lambda: api.find_created(row, self._known(row)))
            if found:
                self._submitted(row, found)
                return
        resumed = entries is None
        reuse_file = True
        if entries is None and (row.file_id is None or not api.uploads):
            rebuilt = self._rebuild_entries(row)
            if rebuilt is None:
                return
            entries, dropped = rebuilt
            reuse_file = not dropped
            row = store.get_batch(self.project, row.id)
        file_id = row.file_id
        if api.uploads and file_id is None:
            if resumed and reuse_file:  # killed after an upload whose file id was not yet recorded?
                file_id = await self._retrying(lambda: api.find_upload(row))
            if file_id is None:
                file_id = await self._retrying(lambda: api.upload(row, entries or []))
            store.update_batch(self.project, row.id, state="uploaded", file_id=file_id)
            row = replace(row, state="uploaded", file_id=file_id)
        store.update_batch(self.project, row.id, state="submitting")
        row = replace(row, state="submitting")
        attempts = self.engine.options.max_retries + 1
        for attempt in range(attempts):
            try:
                remote = await api.create(row, file_id, entries or [])
            except PermanentError as exc:
                if exc.status_code in FATAL or (exc.status_code or 0) < 500:
                    store.update_batch(self.project, row.id, state="abandoned", error=str(exc)[:500])
                    raise ProviderError(f"batch {row.id} was refused: {exc}", status_code=exc.status_code) from None
                raise
            except TransientError as exc:
                found = await self._retrying(lambda: api.find_created(row, self._known(row)))
                if found:  # the batch exists although its reply was lost
                    self._submitted(row, found)
                    return
                if attempt + 1 == attempts:
                    raise ProviderError(
                        f"batch {row.id} could not be created ({exc}); it is recorded, and --resume looks for it "
                        "at the provider before creating it again"
                    ) from None
                await asyncio.sleep(backoff_delay(attempt + 1, base=self.engine.options.backoff_base))
                continue
            store.update_batch(
                self.project,
                row.id,
                state="submitted",
                remote_id=remote.id,
                remote_status=remote.status,
                submitted_at=now_iso(),
            )
            self.engine.counts.requests += row.n_requests
            self.log(f"batch {row.id}: submitted as {remote.id}")
            return

    def _known(self, row: store.BatchRow) -> set[str]:
        return store.known_remote_ids(self.project, excluding=row.id)

    def _submitted(self, row: store.BatchRow, found: list[str]) -> None:
        if len(found) == 1 and not self.api.verify_by_custom_ids:
            store.update_batch(self.project, row.id, state="submitted", remote_id=found[0], submitted_at=now_iso())
            self.log(f"batch {row.id}: found at the provider as {found[0]} (its create reply was lost)")
        else:
            store.update_batch(self.project, row.id, state="submitted", candidates=found, submitted_at=now_iso())
            self.log(
                f"batch {row.id}: {len(found)} batch(es) at the provider may be it ({', '.join(found)}); "
                "adopted once its results show our requests"
            )

    async def _retrying(self, fn: Callable[[], Any]) -> Any:
        """``await fn()``, retried with backoff on transient errors (for calls that are safe to repeat)."""
        opts = self.engine.options
        for attempt in range(opts.max_retries + 1):
            try:
                return await fn()
            except TransientError:
                if attempt == opts.max_retries:
                    raise
                await asyncio.sleep(backoff_delay(attempt + 1, base=opts.backoff_base))
        raise AssertionError("unreachable")  # pragma: no cover

    # -- polling and fetching ----------------------------------------------------------------------------------

    async def look(self, row: store.BatchRow) -> bool:
        """Look at one submitted batch (or its candidates) and fetch its results if it has ended; ``True`` when
        something was stored."""
        ids = [row.remote_id] if row.remote_id else list(row.candidates)
        for rid in ids:
            try:
                remote = await self.api.retrieve(rid)
            except TransientError as exc:
                self.log(f"batch {row.id}: cannot look at {rid} now ({exc}); trying again later")
                continue
            except PermanentError as exc:
                if exc.status_code in FATAL:
                    raise ProviderError(str(exc), status_code=exc.status_code) from None
                if row.remote_id:
                    store.update_batch(self.project, row.id, state="abandoned", error=f"gone at the provider: {exc}")
                    self._settle(row, 0.0)
                    self.log(f"batch {row.id}: {rid} is gone at the provider ({exc}); its requests go again")
                    return True
                self._drop_candidate(row, rid)
                return True
            if remote.status != row.remote_status or remote.done != row.n_done:
                store.update_batch(self.project, row.id, remote_status=remote.status, n_done=remote.done)
                total = remote.total or row.n_requests
                self.log(f"batch {row.id}: {remote.status}, {remote.done:,}/{total:,} done")
            if remote.ended:
                if row.remote_id and row.state != "ended":
                    store.update_batch(self.project, row.id, state="ended")
                if await self.fetch(store.get_batch(self.project, row.id), remote):
                    return True
        return False

    def _drop_candidate(self, row: store.BatchRow, rid: str) -> None:
        left = [c for c in row.candidates if c != rid]
        if left:
            store.update_batch(self.project, row.id, candidates=left)
        else:  # none of them was ours: the create never reached the provider, so the batch is sent now
            store.update_batch(self.project, row.id, state="prepared", candidates=[])
            self.log(f"batch {row.id}: no batch at the provider is it; sending it")

    async def fetch(self, row: store.BatchRow, remote: RemoteBatch) -> bool:
        """Download the results of an ended batch and store them (one transaction); ``True`` when stored."""
        ours = set(store.batch_custom_ids(self.project, row.id))
        if remote.failed:
            with self.project.transaction():
                store.record_outcomes(self.project, row.id, [(k, "retry", f"batch {remote.status}") for k in ours])
                store.update_batch(
                    self.project, row.id, state="fetched", n_retry=len(ours), error=remote.error, ended_at=now_iso()
                )
            self._settle(row, 0.0)
            raise ProviderError(f"batch {row.id} ({remote.id}) failed at the provider: {remote.error or 'no reason'}")
        try:
            results = await self.api.results(remote)
        except TransientError as exc:
            self.log(f"batch {row.id}: cannot download its results now ({exc}); trying again later")
            return False
        if not row.remote_id:  # a candidate: ours only if its results are our requests
            if {r.custom_id for r in results} != ours:
                self._drop_candidate(row, remote.id)
                return True
            self.log(f"batch {row.id}: {remote.id} carries our requests: adopted")
        self._store_results(row, remote, results, ours)
        return True

    def _store_results(self, row: store.BatchRow, remote: RemoteBatch, results: list[Result], ours: set[str]) -> None:
        """Replies into the response cache, each request's outcome, the batch's totals: one transaction."""
        read = self.engine.adapter.read_reply  # type: ignore[attr-defined]
        outcomes: list[tuple[str, str, str | None]] = []
        replies: dict[str, ProviderReply] = {}
        seen: set[str] = set()
        for r in results:
            if r.custom_id not in ours or r.custom_id in seen:
                continue
            seen.add(r.custom_id)
            if r.outcome == "ok":
                try:
                    replies[r.custom_id] = read(r.body)
                except TransientError as exc:
                    outcomes.append((r.custom_id, "retry", f"unreadable response: {exc}"))
                    continue
                outcomes.append((r.custom_id, "ok", None))
            else:
                outcomes.append((r.custom_id, r.outcome, r.detail))
        outcomes += [(k, "retry", f"no result ({remote.status})") for k in sorted(ours - seen)]
        tin = sum(x.input_tokens for x in replies.values())
        tout = sum(x.output_tokens for x in replies.values())
        price = self.price
        cost = None if price is None else price.cost(tin, tout)
        writer = ResponseCache(self.project, enabled=True)  # even with --no-cache: paid for, and only here
        cfg = self.engine.config
        for key, reply in replies.items():
            each = None if price is None else price.cost(reply.input_tokens, reply.output_tokens)
            writer.put(key, cfg.provider, cfg.model, reply, each)
        n = Counter(o for _, o, _ in outcomes)
        with self.project.transaction():
            writer.flush()
            store.record_outcomes(self.project, row.id, outcomes)
            store.update_batch(
                self.project,
                row.id,
                state="fetched",
                remote_id=remote.id,
                remote_status=remote.status,
                candidates=[],
                n_done=len(seen),
                n_ok=n["ok"],
                n_retry=n["retry"],
                n_error=n["error"],
                input_tokens=tin,
                output_tokens=tout,
                cost_usd=cost,
                ended_at=now_iso(),
            )
        c = self.engine.counts
        c.input_tokens += tin
        c.output_tokens += tout
        if cost is None:
            c.cost_known = False
        else:
            c.cost += cost
        self._settle(row, cost or 0.0)
        self.log(
            f"batch {row.id}: {n['ok']:,} replies, {n['retry']:,} to retry, {n['error']:,} refused"
            + (f", ${cost:.4f}" if cost is not None else "")
        )

    # -- the loop ----------------------------------------------------------------------------------------------

    def cancelled(self) -> bool:
        """``judgekit runs cancel`` was run on this run (from another process, maybe)."""
        return bool(self.project.run(self.run.id).meta.get("batch_cancelled"))

    async def run_all(self, items: Sequence[Item]) -> list[Item]:
        self.prepare(items)
        for row in store.run_batches(self.project, self.run.id, outstanding=True):
            self._hold(row)  # batches of an interrupted call are committed money
        leftover: list[_Todo] = []
        while True:
            plan = self.plan()
            leftover += self.write_verdicts(plan)
            stopping = self.engine.stopping or self.cancelled()
            if plan.pending and not stopping:
                await self.submit(plan.pending)
                continue
            outstanding = store.run_batches(self.project, self.run.id, outstanding=True)
            if not outstanding:
                break
            unsent = [b for b in outstanding if b.state in ("prepared", "uploaded", "submitting")]
            if unsent:
                for row in unsent:
                    if stopping and row.state != "submitting":
                        store.update_batch(self.project, row.id, state="abandoned", error="the run stopped")
                        self._settle(row, 0.0)
                    else:
                        await self.advance(row)
                continue
            if not self.opts.wait:
                self.engine.stop("batch_pending")
                self.log(f"{len(outstanding)} batch(es) still running at the provider")
                return [t.item for t in leftover]
            await self.wait_for_change(outstanding)
        if self.cancelled():
            self.engine.stop("cancelled")
        elif self.opts.fallback == "interactive" and not self.engine.stopping:
            if plan.exhausted:
                self.log(
                    f"{len(plan.exhausted):,} item(s) still without a reply after their batches: sent interactively"
                )
            leftover += plan.exhausted
        self.engine.caller.remember(stored_replies(self.project, [k for t in leftover for k in t.keys]), [])
        return [t.item for t in leftover]

    async def wait_for_change(self, outstanding: list[store.BatchRow]) -> None:
        """Look at the outstanding batches, backing off while none of them changes, until results are stored."""
        k = 0
        while True:
            changed = False
            for row in outstanding:
                changed = await self.look(store.get_batch(self.project, row.id)) or changed
            if changed:
                return
            await asyncio.sleep(poll_delay(k, self.opts.poll, self.opts.poll_max))
            k += 1


def stored_replies(project: Any, keys: list[str]) -> dict[str, ProviderReply]:
    """The stored replies of ``keys`` (read even under ``--no-cache``: they are this run's own batch results)."""
    return ResponseCache(project, enabled=True).get_many(keys)


async def judge_in_batches(
    engine: Engine, items: Sequence[Item], api: BatchApi, *, log: Callable[[str], None] | None = None
) -> list[Item]:
    """Judge ``items`` through ``api`` (see the module docstring); return the items left for the interactive
    engine. Sets the engine's stop reason to ``batch_pending`` (``wait=False``: batches still running),
    ``cancelled`` (``judgekit runs cancel``) or ``max_cost``."""
    opts = engine.options.batch or BatchOptions()
    if engine.project.run(engine.run.id).meta.get("batch_cancelled"):  # resumed after a cancel: carry on
        engine.project.set_run_status(engine.run.id, "running", meta={"batch_cancelled": False})
    runner = BatchRunner(engine, api, opts, log or (lambda _: None))
    try:
        return await runner.run_all(items)
    except BaseException as exc:
        await engine.adapter.aclose()  # the interactive engine, which would close it, will not run
        running = store.run_batches(engine.project, engine.run.id, outstanding=True)
        if isinstance(exc, KeyboardInterrupt | asyncio.CancelledError) and running:
            runner.log(
                f"{len(running)} batch(es) keep running at the provider (billed when they finish): collect them "
                f"with judgekit judge --resume {engine.run.name!r}, or cancel them with judgekit runs cancel "
                f"{engine.run.name!r}"
            )
        raise
