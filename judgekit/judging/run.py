"""Running a judge over a project: the entry point, :func:`run_judge` / :func:`arun_judge`.

It checks everything that can be checked before a call (the provider is registered and can do what the config
asks, the key is set, the model has a price when there is a budget), creates the run (or resumes one, with the
options it was started with), chooses how many worker processes to use, hands the items to the engine
(:mod:`judgekit.judging.engine`, in this process, or :mod:`judgekit.judging.processes`) and records the outcome.
The guarantees are the engine's (see its docstring).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import shlex
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TextIO, TypeVar, cast

from judgekit.errors import ConfigError, UserError
from judgekit.judging.batch.runner import check_batch_api, judge_in_batches
from judgekit.judging.confidence import check_supported
from judgekit.judging.counts import Counts
from judgekit.judging.engine import make_run_adapter, open_engine
from judgekit.judging.items import ItemVariant, select_items
from judgekit.judging.options import BatchOptions, PriceModel, RunOptions, resolve_workers
from judgekit.judging.pricing import PriceTable
from judgekit.judging.processes import Outcome, judge_with_processes, process_context
from judgekit.judging.progress import Progress
from judgekit.judging.providers.base import ModelAdapter
from judgekit.judging.providers.registry import ProviderSpec, find_provider, provider_names
from judgekit.models import Item, JudgeConfig, JudgeRun, Rubric
from judgekit.storage import Project

EXIT_CODES: dict[str, int] = {
    "complete": 0,
    "failures": 3,
    "max_cost": 4,
    "circuit_open": 5,
    "interrupted": 130,
    "batch_pending": 0,
    "cancelled": 3,
}
"""Exit code of ``judgekit judge`` by how the run ended (1 and 2 are the CLI's: a check failed, a usage error):
0 every item has a verdict; 3 some items still have none after their retries (resume); 4 stopped at ``--max-cost``
(resume with a larger budget); 5 stopped by the circuit breaker (the same failure on every call: fix it, resume);
130 interrupted (Ctrl-C; resume). With ``--batch --no-wait``, ``batch_pending`` (submitted, collect with a resume)
is 0 and a run whose batches were cancelled is 3."""


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
    db: str | None = None
    """The project database (for the commands that continue from here)."""
    stop_detail: str | None = None
    """Why the run stopped early, in words (the failure the circuit breaker saw repeat)."""

    @property
    def exit_code(self) -> int:
        """The CLI's exit code for this outcome: :data:`EXIT_CODES`."""
        return EXIT_CODES.get(self.stop_reason, 3)

    def resume_command(self, max_cost: float | None = None) -> str:
        """A command that completes the run when pasted in a shell (the run's options are stored with it)."""
        cmd = ["judgekit", "judge", "--resume", self.run.name]
        if self.db is not None:
            cmd += ["--db", self.db]
        if max_cost is not None:
            cmd += ["--max-cost", f"{max_cost:g}"]
        return shlex.join(cmd)

    def next_steps(self) -> list[str]:
        """What to do next, as commands to paste."""
        db = ["--db", self.db] if self.db is not None else []
        agree = shlex.join(["judgekit", "agree", self.run.name, *db])
        show = shlex.join(["judgekit", "runs", "show", self.run.name, *db])
        if self.stop_reason == "complete":
            return [f"agreement with people: {agree}", f"details: {show}"]
        if self.stop_reason == "max_cost":
            options = self.run.meta.get("options")
            limit = options.get("max_cost") if isinstance(options, dict) else None
            spent = self.run.meta.get("cost_usd")
            more = None
            if isinstance(limit, (int, float)) and isinstance(spent, (int, float)):
                done = max(1, self.total - self.missing)  # what the rest should cost at the price so far, +10%
                more = round(max(float(limit), float(spent)) + float(spent) / done * self.missing * 1.1, 2)
            return [f"raise the budget and resume: {self.resume_command(more)}", f"agreement so far: {agree}"]
        if self.stop_reason == "circuit_open":
            return [f"fix the cause above, then resume: {self.resume_command()}"]
        if self.stop_reason == "batch_pending":
            return [f"collect the results (any time, safe to repeat): {self.resume_command()}"]
        return [f"resume (judges only what is missing, pays for nothing twice): {self.resume_command()}"]

    def to_json(self) -> str:
        """The summary for scripts (``judgekit judge --json``)."""
        body = {
            "run": self.run.name,
            "db": self.db,
            "status": self.run.status,
            "stop_reason": self.stop_reason,
            "stop_detail": self.stop_detail,
            "exit_code": self.exit_code,
            "total": self.total,
            "judged": self.judged,
            "skipped": self.skipped,
            "missing": self.missing,
            "statuses": self.statuses,
            "errors": self.errors,
            "cost_usd": round(self.cost_usd, 8),
            "cost_known": self.cost_known,
            "run_cost_usd": self.run.meta.get("cost_usd"),
            "requests": self.requests,
            "cache_hits": self.cache_hits,
            "elapsed_s": round(self.elapsed_s, 3),
            "workers": self.workers,
            "cpu_s": [round(x, 3) for x in self.cpu_s],
            "next": self.next_steps(),
        }
        return json.dumps(body, indent=2, ensure_ascii=False)

    def summary(self) -> str:
        st = ", ".join(f"{k}={v}" for k, v in sorted(self.statuses.items())) or "none"
        cost = f"${self.cost_usd:.4f}" + ("" if self.cost_known else " (+ models without a price)")
        return (
            f"run {self.run.name!r}: {self.judged} verdicts written ({st}), {self.skipped} already present, "
            f"{self.missing} missing; {self.requests} requests, {self.cache_hits} cache hits; cost {cost}; "
            f"{self.elapsed_s:.1f}s; {self.stop_reason}"
        )


def default_run_name(project: Project, config: JudgeConfig) -> str:
    """``provider:model#N`` with the first free N."""
    base = f"{config.provider}:{config.model}" + (f"+{config.prompt_variant}" if config.prompt_variant else "")
    n = 1
    while project.find_run(f"{base}#{n}") is not None:
        n += 1
    return f"{base}#{n}"


def _check_config(config: JudgeConfig, provider: ProviderSpec | None) -> None:
    if config.confidence == "external":
        raise ConfigError("confidence 'external' is for imported runs; use logprobs, verbalized, sampling or none")
    if config.confidence == "sampling" and config.samples < 2:
        raise ConfigError("sampling confidence needs at least 2 samples (--samples N)")
    if provider is not None:
        check_supported(config.confidence, config.provider, provider.capabilities)
        if config.parameters.get("seed") is not None and not provider.capabilities.seed:
            raise ConfigError(f"provider {config.provider!r} takes no sampling seed: drop --model-seed")


async def arun_judge(
    project: Project,
    config: JudgeConfig | None = None,
    *,
    rubric: Rubric | None = None,
    items: Sequence[Item] | None = None,
    run_name: str | None = None,
    concurrency: int | None = None,
    rpm: float | None = None,
    tpm: float | None = None,
    limit: int | None = None,
    sample: int | None = None,
    seed: int = 0,
    max_cost: float | None = None,
    resume: str | None = None,
    timeout: float | None = None,
    max_retries: int | None = None,
    parse_retries: int | None = None,
    use_cache: bool | None = None,
    prices: PriceTable | None = None,
    adapter: ModelAdapter | None = None,
    variant: ItemVariant | None = None,
    exclude_ids: Sequence[str] = (),
    progress: bool = True,
    stream: TextIO | None = None,
    api_key: str | None = None,
    backoff_base: float | None = None,
    run_meta: dict[str, Any] | None = None,
    workers: int | str | None = None,
    options: RunOptions | None = None,
    batch: BatchOptions | None = None,
) -> RunSummary:
    """Judge items with ``config`` into a new run (or complete run ``resume``); see :mod:`judgekit.judging.engine`.

    ``items`` defaults to every project item of the rubric's kind; ``variant`` transforms items (probes);
    ``exclude_ids`` are never used as dynamic few-shot examples (an evaluation split); ``run_meta`` is stored in a
    new run's notes (the CLI records ``split`` there, so a resume excludes the same items). The run's settings
    are ``options`` (a :class:`~judgekit.judging.options.RunOptions`) with the keyword arguments given (not
    ``None``) applied over them; a resumed run starts from the options it was stored with. :func:`run_judge` is the
    same call for code without an event loop.
    """
    t0 = time.monotonic()
    base = options
    if resume is not None:
        run = project.run(resume)
        if run.source != "engine":
            raise UserError(f"run {run.name!r} was imported, not produced by the engine; it cannot be resumed")
        config = run.config
        sel: dict[str, Any] = cast(dict[str, Any], run.meta.get("selection") or {})
        limit, sample, seed = sel.get("limit"), sel.get("sample"), int(sel.get("seed") or 0)
        stored = run.meta.get("options")
        if base is None and isinstance(stored, dict):
            base = RunOptions.model_validate(stored)
    if config is None:
        raise ConfigError("run_judge needs a config (or resume=RUN)")
    opts = (base or RunOptions()).with_overrides(
        concurrency=concurrency,
        workers=workers,
        rpm=rpm,
        tpm=tpm,
        max_cost=max_cost,
        timeout=timeout,
        max_retries=max_retries,
        parse_retries=parse_retries,
        use_cache=use_cache,
        backoff_base=backoff_base,
        api_key=api_key,
        exclude_ids=tuple(exclude_ids) or None,
        batch=batch,
    )
    if rubric is None or (rubric.id, rubric.version) != (config.rubric_id, config.rubric_version):
        rubric = project.rubric(config.rubric_id, config.rubric_version)
    else:
        project.save_rubric(rubric)
    provider = find_provider(config.provider)
    if provider is None and adapter is None:
        raise ConfigError(
            f"provider {config.provider!r} is not registered (known: {', '.join(provider_names())}); register it "
            "with judgekit.judging.providers.register_provider(name, adapter, capabilities=...)"
        )
    _check_config(config, provider)
    per_criterion = rubric.is_rated and rubric.judge_calls == "per_criterion"
    if per_criterion and opts.batch:  # refused before anything is sent, never silently run another way
        raise ConfigError(
            f"rubric {rubric.key} asks for judge_calls: per_criterion, which --batch does not run (a batch request "
            "is one call per item); run it without --batch, or use judge_calls: one"
        )
    if prices is not None or opts.price is None:
        price = (prices or PriceTable.load()).price(config.model)
        opts = opts.model_copy(
            update={
                "price": None
                if price is None
                else PriceModel(
                    input=price.input,
                    output=price.output,
                    batch_input=price.batch_input,
                    batch_output=price.batch_output,
                )
            }
        )
    if opts.max_cost is not None and opts.price is None:
        raise ConfigError(
            f"--max-cost needs the price of {config.model!r}, which is not in the price table: add it "
            "with --prices FILE (JSON or TOML, USD per 1M input/output tokens)"
        )
    selected = select_items(
        items if items is not None else project.items(), rubric, limit=limit, sample=sample, seed=seed
    )
    n_proc = 1 if opts.batch else resolve_workers(opts.workers, opts.concurrency, len(selected))
    if n_proc > 1 and (adapter is not None or variant is not None or provider is None):
        if opts.workers != "auto":
            raise ConfigError("workers > 1 needs a provider named in the config: no custom adapter, no item variant")
        n_proc = 1
    if n_proc > 1:
        process_context(provider)  # start the fork server now: its imports overlap the preparation below
    # build the adapter before creating the run: a missing key must fail before anything is written
    if adapter is None:
        assert provider is not None
        adapter = make_run_adapter(provider, config, opts, opts.concurrency)
    batch_api = await check_batch_api(provider, adapter, opts) if opts.batch else None  # before the run exists
    if not selected:
        await adapter.aclose()
        raise UserError(
            f"no {rubric.task} items to judge with rubric {rubric.key}: import items first "
            "('judgekit import items FILE')"
        )
    if resume is None:
        run = project.create_run(
            run_name or default_run_name(project, config),
            config,
            meta={
                **(run_meta or {}),
                "selection": {"limit": limit, "sample": sample, "seed": seed},
                "items": len(selected),
                "options": opts.stored(),
            },
        )
    else:
        project.set_run_status(run.id, "running", meta={"options": opts.stored()})
    # an item whose per_criterion verdict has unanswered criteria is judged again (the others from the cache)
    unanswered = project.unanswered_verdict_item_ids(run.id) if per_criterion and resume is not None else set()
    done = project.verdict_item_ids(run.id) - unanswered
    todo = [it for it in selected if it.id not in done]
    prev: dict[str, Any] = dict(run.meta)
    spent_before = float(prev.get("cost_usd", 0.0) or 0.0)

    display = Progress(len(selected), already=len(selected) - len(todo), stream=stream, enabled=progress)
    n_proc = min(n_proc, max(1, len(todo)))
    out = Outcome()
    status = "interrupted"
    stop = "interrupted"
    try:
        if n_proc > 1:
            assert provider is not None
            await judge_with_processes(
                n_proc,
                todo,
                project=project,
                run=run,
                rubric=rubric,
                options=opts,
                provider=provider,
                spent_before=spent_before,
                on_progress=display.update,
                adapter=adapter,
                outcome=out,
            )
        else:
            engine = open_engine(
                project,
                run,
                rubric,
                opts,
                provider,
                adapter=adapter,
                variant=variant,
                spent_before=spent_before,
                items_in_run=len(todo),
            )
            engine.on_tick = lambda: display.update(engine.snapshot())
            try:
                if batch_api is not None:
                    todo = await judge_in_batches(engine, todo, batch_api, log=display.note)
                await engine.run_items(todo)
            finally:
                out.add(engine.snapshot(), engine.stop_reason, engine.stop_detail)
                out.fatal = engine.fatal
                display.update(out.counts)
        missing = _missing(project, run.id, len(selected), per_criterion)
        stop = out.stop_reason or ("failures" if missing else "complete")
        status = "complete" if stop == "complete" and out.fatal is None else "interrupted"
    except (asyncio.CancelledError, KeyboardInterrupt):
        sink = _INTERRUPTED.get(None)
        if sink is not None:  # run_judge turns the interruption into RunInterrupted with this summary
            sink.append(
                _summary(
                    project, run, out, len(selected), len(done), "interrupted", time.monotonic() - t0, per_criterion
                )
            )
        raise
    finally:
        display.maybe_print(final=True)
        c = out.counts
        meta: dict[str, Any] = {
            "cost_usd": round(spent_before + c.cost, 8),
            "requests": int(prev.get("requests", 0) or 0) + c.requests,
            "cache_hits": int(prev.get("cache_hits", 0) or 0) + c.cache_hits,
            "cost_known": c.cost_known and bool(prev.get("cost_known", True)),
            "stop_reason": stop if out.fatal is None else "error",
        }
        if out.stop_detail:
            meta["stop_detail"] = out.stop_detail
        project.set_run_status(run.id, status, meta=meta)
        if out.fatal is not None and resume is None:
            project.delete_empty_run(run.id)  # failed before its first verdict (a rejected key): nothing left behind
    if out.fatal is not None:
        raise out.fatal
    return _summary(project, run, out, len(selected), len(done), stop, time.monotonic() - t0, per_criterion)


def _missing(project: Project, run_id: int, total: int, per_criterion: bool) -> int:
    """Selected items without a complete verdict: none at all, or (``per_criterion``) one with unanswered
    criteria (a resume asks them again)."""
    pending = len(project.unanswered_verdict_item_ids(run_id)) if per_criterion else 0
    return total - project.verdict_count(run_id) + pending


def _summary(
    project: Project,
    run: JudgeRun,
    out: Outcome,
    total: int,
    skipped: int,
    stop: str,
    elapsed: float,
    per_criterion: bool = False,
) -> RunSummary:
    c: Counts = out.counts
    return RunSummary(
        run=project.run(run.id),
        db=str(project.path),
        stop_detail=out.stop_detail,
        total=total,
        judged=c.done,
        skipped=skipped,
        statuses=dict(c.statuses),
        errors=dict(c.errors),
        cost_usd=c.cost,
        cost_known=c.cost_known,
        requests=c.requests,
        cache_hits=c.cache_hits,
        elapsed_s=elapsed,
        stop_reason=stop,
        missing=_missing(project, run.id, total, per_criterion),
        workers=[p.done for p in out.per_process],
        cpu_s=[p.cpu_s for p in out.per_process],
    )


P = ParamSpec("P")
R = TypeVar("R")


_INTERRUPTED: contextvars.ContextVar[list[RunSummary]] = contextvars.ContextVar("judgekit_interrupted")
"""Where :func:`arun_judge` leaves the summary of a run cut short by Ctrl-C, for :func:`run_judge`."""


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a run (raised by :func:`run_judge`; a ``KeyboardInterrupt``). ``summary`` is what was done
    and saved (``None`` if the run had not started yet): resume it with ``run_judge(project, resume=NAME)``."""

    def __init__(self, summary: RunSummary | None) -> None:
        super().__init__("interrupted")
        self.summary = summary


def _blocking(fn: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, R]:
    """``fn`` run to completion in a new event loop, with ``fn``'s signature (one signature, not a copy of it); a
    Ctrl-C becomes :class:`RunInterrupted` carrying what the run did."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass  # no loop running: the usual case (a script, the CLI)
        else:
            raise RuntimeError(
                f"this call starts its own event loop and cannot run inside one (a Jupyter notebook, an async "
                f"function): use 'await {fn.__name__}(...)' there, with the same parameters"
            )
        sink: list[RunSummary] = []
        token = _INTERRUPTED.set(sink)
        try:
            return asyncio.run(fn(*args, **kwargs))
        except KeyboardInterrupt as exc:
            if isinstance(exc, RunInterrupted):
                raise
            raise RunInterrupted(sink[-1] if sink else None) from None
        finally:
            _INTERRUPTED.reset(token)

    return run


run_judge = _blocking(arun_judge)
run_judge.__name__ = run_judge.__qualname__ = "run_judge"
run_judge.__doc__ = """:func:`arun_judge` run to completion in its own event loop (``asyncio.run``): the call for
scripts, notebooks without a running loop and the CLI. Same parameters and result."""
