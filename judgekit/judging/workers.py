"""Several worker processes for one run (``workers=N``, ``judgekit judge --workers N``).

Why: one asyncio event loop runs on one core, and the provider SDK alone costs about 1.5 ms of CPU per call, so a
single process tops out near 550 calls/s whatever the concurrency. With ``N`` workers the judging process itself is
worker 0 and ``N - 1`` more processes are started (``multiprocessing``, from a fork server: see
:func:`worker_context`); each runs the same engine against the same run in the same SQLite file (WAL; writers wait on
the busy timeout), committing its verdicts and cached replies every 50 ms as a single process does. So the
guarantees do not change: every verdict is committed as it arrives, and a resume (with any number of workers)
judges only what is missing and pays for nothing twice.

* **Work is shared, not pre-split:** the items to judge are cut into small chunks and every process takes the next
  chunk from a shared counter when it needs more, so a process that starts late (the fork server still importing the
  SDK on a process's first multi-worker run) or runs slower simply takes fewer chunks.
* **Limits are divided:** worker ``i`` gets ``concurrency // N`` calls in flight (the remainder goes to the first
  ones), ``rpm / N`` and ``tpm / N``; the sum is the limit. Worker 0 starts alone with the whole limits and hands a
  share over to each process when it is ready: it lowers its own limits first, and the new process starts once
  worker 0's calls in flight fit its new share. ``max_cost`` is not divided: the processes draw on one budget in
  shared memory (:mod:`judgekit.judging.budget`), and the run stops cleanly, ``max_cost``, when its total would pass
  it.
* **One progress line and one summary:** the processes report their counts through a pipe every 0.2 s; the
  parent shows the sum and sums the run summary (verdicts, cost, tokens, errors, requests, cache hits).
* **A failure stops everything:** a fatal reply (401/403/404) or an unexpected error in any worker stops the
  others (they finish their calls in flight) and is raised by the parent as the same one-line error as with one
  process. Ctrl-C in the parent, or the parent dying (even by SIGKILL), makes the workers save what they have and
  exit at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from judgekit import errors
from judgekit.judging.pricing import PriceTable
from judgekit.judging.progress import Progress
from judgekit.models import Item

if TYPE_CHECKING:  # pragma: no cover
    from judgekit.judging.engine import _Engine

T = TypeVar("T")

REPORT_INTERVAL = 0.2
"""Seconds between two progress reports of a worker process."""
JOIN_TIMEOUT = 30.0
"""Seconds to wait for stopped worker processes to save their work and exit before they are terminated."""


def split_limit(total: int, n: int) -> list[int]:
    """``total`` calls in flight divided among ``n`` workers; the first ``total % n`` get one more.

    >>> split_limit(64, 3)
    [22, 21, 21]
    """
    return [total // n + (1 if i < total % n else 0) for i in range(n)]


def shared_chunk_size(n_items: int, workers: int) -> int:
    """Items per chunk: at most 32 (a late process still finds work; the last chunks end close together), and at
    least four chunks per worker on small runs."""
    return max(1, min(32, n_items // (4 * workers)))


class SharedClaim(Generic[T]):
    """Hands out the chunks of one list (the items in worker 0, their ids in the others) to every process, through a
    counter in shared memory."""

    def __init__(self, items: Sequence[T], size: int, counter: Any) -> None:
        self.items, self.size, self.counter = items, size, counter

    def __call__(self) -> Sequence[T] | None:
        with self.counter.get_lock():
            k = self.counter.value
            if k * self.size >= len(self.items):
                return None
            self.counter.value = k + 1
        return self.items[k * self.size : (k + 1) * self.size]

    @property
    def exhausted(self) -> bool:
        with self.counter.get_lock():
            return bool(self.counter.value * self.size >= len(self.items))


@dataclass
class WorkerSpec:
    """What a worker process needs to join a run (pickled to it)."""

    index: int
    db_path: str
    run_id: int
    chunk: int
    concurrency: int
    rpm: float | None
    tpm: float | None
    max_cost: float | None
    timeout: float
    max_retries: int
    parse_retries: int
    use_cache: bool
    prices: PriceTable
    exclude_ids: list[str]
    api_key: str | None
    backoff_base: float
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    """The judging process's environment when the run started (keys, base URLs, proxies): a worker forked from the
    fork server would otherwise see the environment of the run that started the server, possibly stale."""
    cwd: str = field(default_factory=os.getcwd)
    """The judging process's working directory (relative paths in the environment resolve the same)."""


@dataclass
class Outcome:
    """What the processes of a run did, summed."""

    spent: float = 0.0
    cost_known: bool = True
    requests: int = 0
    cache_hits: int = 0
    written: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    stop_reason: str | None = None
    fatal: BaseException | None = None
    per_worker: list[int] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)

    def add(self, counts: dict[str, Any]) -> None:
        self.spent += float(counts.get("spent", 0.0))
        self.cost_known = self.cost_known and bool(counts.get("cost_known", True))
        self.requests += int(counts.get("requests", 0))
        self.cache_hits += int(counts.get("cache_hits", 0))
        self.written += int(counts.get("written", 0))
        for k, v in counts.get("statuses", {}).items():
            self.statuses[k] = self.statuses.get(k, 0) + v
        for k, v in counts.get("errors", {}).items():
            self.errors[k] = self.errors.get(k, 0) + v
        reason = counts.get("stop_reason")
        if self.stop_reason is None and reason not in (None, "stopped"):
            self.stop_reason = reason
        self.per_worker.append(int(counts.get("written", 0)))
        self.cpu_s.append(float(counts.get("cpu_s", 0.0)))


def engine_counts(engine: _Engine) -> dict[str, Any]:
    """The counts of one engine, as a worker reports them."""
    prog = engine.progress
    return {
        "done": prog.done,
        "statuses": dict(engine.statuses),
        "errors": dict(prog.errors),
        "cost": prog.cost,
        "spent": engine.spent,
        "cost_known": engine.cost_known,
        "cache_hits": prog.cache_hits,
        "requests": prog.requests,
        "written": engine.written,
        "stop_reason": engine.stop_reason,
        "cpu_s": time.process_time() - engine.cpu0,
    }


def describe_error(exc: BaseException) -> dict[str, Any]:
    """A picklable description of an exception (judgekit's errors do not all survive pickling)."""
    attrs = {k: v for k, v in vars(exc).items() if isinstance(v, (str, int, float, bool, type(None)))}
    return {
        "module": type(exc).__module__,
        "name": type(exc).__qualname__,
        "message": str(exc),
        "attrs": attrs,
        "traceback": "".join(traceback.format_exception(exc)),
    }


def rebuild_error(desc: dict[str, Any], index: int) -> BaseException:
    """The exception a worker reported: the same judgekit error class and one-line message; anything else (a bug)
    as a :class:`~judgekit.errors.JudgekitError` carrying the worker's traceback."""
    cls = getattr(errors, desc["name"], None) if desc["module"] == errors.__name__ else None
    if isinstance(cls, type) and issubclass(cls, errors.JudgekitError):
        exc = cls.__new__(cls)
        Exception.__init__(exc, desc["message"])
        vars(exc).update(desc["attrs"])
        return exc
    return errors.JudgekitError(
        f"judge worker {index} failed: {desc['name']}: {desc['message']}\n{desc['traceback']}".rstrip()
    )


# -- the worker process --------------------------------------------------------------------------------------------


def worker_main(
    spec: WorkerSpec,
    counter: Any,
    conn: Connection,
    items_conn: Connection,
    go: Any,
    stop: Any,
    abort: Any,
    budget_cell: Any = None,
) -> None:
    """Entry point of worker process ``spec.index``: join the run, wait for the go, judge chunks until none is left,
    report the counts. Ctrl-C is left to the parent (which stops the workers)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.clear()
    os.environ.update(spec.env)
    with contextlib.suppress(OSError):  # the directory was removed meanwhile: the database path is absolute
        os.chdir(spec.cwd)
    try:
        ids: list[str] = items_conn.recv()
        items_conn.close()
        asyncio.run(_worker(spec, ids, counter, conn, go, stop, abort, budget_cell))
    except BaseException as exc:  # report, never raise: the parent decides
        with contextlib.suppress(OSError, ValueError):
            conn.send(("error", describe_error(exc)))
    finally:
        with contextlib.suppress(OSError):
            conn.close()


async def _worker(
    spec: WorkerSpec,
    ids: list[str],
    counter: Any,
    conn: Connection,
    go: Any,
    stop: Any,
    abort: Any,
    budget_cell: Any = None,
) -> None:
    from judgekit.judging.cache import ResponseCache
    from judgekit.judging.engine import _Engine, few_shot_source
    from judgekit.judging.providers import make_adapter
    from judgekit.storage import Project

    parent = mp.parent_process()  # the judging process (not the fork server): its sentinel closes when it dies

    def orphaned() -> bool:
        return parent is not None and not parent.is_alive()

    if orphaned() or abort.is_set():
        return
    with Project(spec.db_path, create=False) as project:
        run = project.run(spec.run_id)
        config = run.config
        rubric = project.rubric(config.rubric_id, config.rubric_version)
        adapter = make_adapter(
            config.provider,
            config.model,
            base_url=config.base_url,
            timeout=spec.timeout,
            api_key=spec.api_key,
            max_connections=spec.concurrency,
        )
        examples, static_examples = few_shot_source(project, config, rubric, spec.exclude_ids)
        engine = _Engine(
            project,
            run,
            rubric,
            adapter,
            concurrency=spec.concurrency,
            rpm=spec.rpm,
            tpm=spec.tpm,
            max_cost=spec.max_cost,
            prices=spec.prices,
            cache=ResponseCache(project, enabled=spec.use_cache),
            max_retries=spec.max_retries,
            parse_retries=spec.parse_retries,
            examples=examples,
            variant=None,
            progress=Progress(len(ids), enabled=False),
            backoff_base=spec.backoff_base,
            static_examples=static_examples,
            budget_cell=budget_cell,
        )
        conn.send(("ready", None))
        while not go.wait(0.02):
            if stop.is_set() or abort.is_set() or orphaned():
                await adapter.aclose()
                conn.send(("done", engine_counts(engine)))
                return
        claim_ids = SharedClaim(ids, spec.chunk, counter)

        def claim() -> Sequence[Item] | None:
            chunk = claim_ids()
            return None if chunk is None else project.items(chunk)

        engine.claim = claim
        main = asyncio.current_task()
        last = [0.0]

        def tick() -> None:
            if abort.is_set() or orphaned():
                if main is not None:
                    main.cancel()  # like Ctrl-C in one process: in-flight calls are dropped, the rest is saved
                return
            if stop.is_set():
                engine.stop("stopped")
            now = time.monotonic()
            if now - last[0] >= REPORT_INTERVAL:
                last[0] = now
                with contextlib.suppress(OSError):
                    conn.send(("progress", engine_counts(engine)))

        engine.on_tick = tick
        try:
            await engine.run_items()
        except asyncio.CancelledError:
            if not (abort.is_set() or orphaned()):
                raise
        counts = engine_counts(engine)
        if engine.fatal is not None:
            counts["fatal"] = describe_error(engine.fatal)
        with contextlib.suppress(OSError):
            conn.send(("done", counts))


# -- the parent -----------------------------------------------------------------------------------------------------


def _send_ids(conn: Connection, items: Sequence[Item]) -> None:
    """Send the ids of the items to judge; a worker reads each chunk it takes from the project database. Why not
    the items: pickling 10,000 items holds this process's interpreter for about 0.1 s (every call in flight
    waits), and unpickling them costs the worker more than reading its chunks."""
    with contextlib.suppress(OSError):  # the process died or was stopped before reading them
        conn.send([it.id for it in items])
    conn.close()


WORKER_PRELOAD = ["judgekit.judging.workers", "judgekit.judging.engine", "judgekit.judging.providers.openai", "jinja2"]
"""Modules imported once by the fork server, so that every worker forked from it starts with them loaded."""
_SDK_PRELOAD = {"openai": ["openai"], "openai-compatible": ["openai"], "anthropic": ["anthropic"]}


def worker_context(provider: str | None = None) -> Any:
    """The ``multiprocessing`` context worker processes are started with, starting its fork server if need be.

    Why a fork server: a fresh Python process needs 1.5 to 5 s of CPU to import a provider SDK (``import openai``
    1.4 s, ``import anthropic`` 2.7 s on the benchmark machine; twice that without compiled bytecode), paid by every
    worker of every run with ``spawn``, and on a 2-core machine that CPU is taken from the judging. The fork server
    is a clean process (started with ``spawn``, so it never inherits the parent's threads, event loop or SQLite
    connection) that imports the engine and the SDK once; each worker is then a ``fork`` of it and starts in
    milliseconds. The server is started at most once per Python process (the first run pays for its imports;
    :func:`run_judge` starts it before preparing the run, so the imports overlap that work). Where there is no fork
    server (Windows), workers are spawned.
    """
    if "forkserver" not in mp.get_all_start_methods():  # pragma: no cover - Windows
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    from multiprocessing import forkserver

    if provider is not None:
        # effective only before the server starts (the first run of the process); later ones import what they lack
        ctx.set_forkserver_preload([*WORKER_PRELOAD, *_SDK_PRELOAD.get(provider, []), *_transport_preload()])
        forkserver.ensure_running()
    return ctx


def _transport_preload() -> list[str]:
    from judgekit.judging.providers.base import http_transport

    return ["aiohttp"] if http_transport() == "aiohttp" else []


class WorkerPool:
    """The processes 1..N-1 of a run, seen from worker 0 (the parent): start, admit, aggregate, stop."""

    def __init__(self, specs: list[WorkerSpec], claim_items: Sequence[Item], chunk: int, display: Progress) -> None:
        ctx = worker_context()
        self.ctx = ctx
        self.counter = ctx.Value("q", 0)
        self.budget_cell = ctx.Array("d", 2)
        """The run's money (spent, reserved), shared by every process: see :mod:`judgekit.judging.budget`."""
        self.claim = SharedClaim(claim_items, chunk, self.counter)
        self.stop_event = ctx.Event()
        self.abort_event = ctx.Event()
        self.specs = {s.index: s for s in specs}
        self.go = {s.index: ctx.Event() for s in specs}
        self.conns: dict[int, Connection] = {}
        self.starters: list[threading.Thread] = []
        self.started: set[int] = set()
        """Workers whose process has been started (by its starter thread)."""
        self.start_errors: dict[int, BaseException] = {}
        self.procs: dict[int, Any] = {}
        self.ready: set[int] = set()
        self.admitted: set[int] = set()
        self.shrunk: set[int] = set()
        self.snapshots: dict[int, dict[str, Any]] = {}
        self.final: dict[int, dict[str, Any]] = {}
        self.error: BaseException | None = None
        self.display = display
        self.engine: _Engine | None = None
        """Worker 0's engine (its counts are part of the display)."""

    def start(self) -> None:
        """Start the processes, each from its own thread: starting one waits for the fork server, which on the
        process's first run is still importing the SDK (seconds), and the judging in this process must not wait
        for that. The thread then sends the item list through a pipe (a large list takes a moment too)."""
        for i, spec in self.specs.items():
            recv, send = self.ctx.Pipe(duplex=False)
            items_recv, items_send = self.ctx.Pipe(duplex=False)
            proc = self.ctx.Process(
                target=worker_main,
                args=(
                    spec,
                    self.counter,
                    send,
                    items_recv,
                    self.go[i],
                    self.stop_event,
                    self.abort_event,
                    self.budget_cell,
                ),
                name=f"judgekit-worker-{i}",
                daemon=True,
            )
            self.conns[i], self.procs[i] = recv, proc
            starter = threading.Thread(
                target=self._start_one, args=(i, proc, send, items_recv, items_send), daemon=True
            )
            starter.start()
            self.starters.append(starter)

    def _start_one(self, i: int, proc: Any, send: Connection, items_recv: Connection, items_send: Connection) -> None:
        try:
            if not self.stop_event.is_set():
                proc.start()
                self.started.add(i)
        except Exception as exc:  # pragma: no cover - fork server gone, out of processes
            self.start_errors[i] = exc
        finally:
            send.close()
            items_recv.close()
        if i in self.started:
            _send_ids(items_send, self.claim.items)
        else:
            items_send.close()

    def fail(self, exc: BaseException) -> None:
        """Record the first error and stop every worker (they finish their calls in flight)."""
        if self.error is None:
            self.error = exc
        self.stop_event.set()

    def _receive(self, i: int) -> None:
        conn = self.conns[i]
        try:
            while i not in self.final and conn.poll():
                kind, data = conn.recv()
                if kind == "ready":
                    self.ready.add(i)
                elif kind == "progress":
                    self.snapshots[i] = data
                elif kind == "done":
                    self.snapshots[i] = self.final[i] = data
                    if data.get("fatal"):
                        self.fail(rebuild_error(data["fatal"], i))
                elif kind == "error":
                    self.final[i] = self.snapshots.get(i, {})
                    self.fail(rebuild_error(data, i))
        except Exception:  # EOF, a broken pipe, a message cut by a kill: the exit code tells
            pass

    def poll(self, engine: _Engine | None) -> None:
        """Read the workers' reports, admit the ready ones, propagate a failure, redraw the progress line."""
        for i in self.specs:
            if i in self.final:
                continue
            if i in self.start_errors:
                self.final[i] = {}
                self.fail(errors.JudgekitError(f"judge worker {i} could not be started: {self.start_errors[i]}"))
                continue
            if i not in self.started:
                continue
            self._receive(i)
            code = self.procs[i].exitcode
            if i not in self.final and code is not None:
                self._receive(i)
                if i not in self.final:
                    self.final[i] = self.snapshots.get(i, {})
                    self.fail(errors.JudgekitError(f"judge worker {i} exited unexpectedly (exit code {code})"))
        running = engine is not None and engine.claim is not None and not engine.done
        if engine is not None:
            if engine.fatal is not None:
                self.fail(engine.fatal)
            elif self.error is not None and running:
                engine.fail(self.error)
        for i in sorted(self.ready - self.admitted - set(self.final)):
            if self.stop_event.is_set():
                break
            if running and engine is not None:
                if i not in self.shrunk:
                    spec = self.specs[i]
                    engine.pacer.shrink(spec.concurrency, spec.rpm, spec.tpm)
                    self.shrunk.add(i)
                conc = engine.pacer.concurrency
                if conc.in_flight > conc.limit:
                    break  # worker 0's calls in flight must fit its new share first
            self.go[i].set()
            self.admitted.add(i)
        self.refresh()
        self.display.maybe_print()

    def refresh(self) -> None:
        """The display progress: worker 0's counts plus the latest report of every other worker."""
        d = self.display
        parts = [engine_counts(self.engine)] if self.engine is not None else []
        parts += list(self.snapshots.values())
        d.done = sum(int(p.get("done", 0)) for p in parts)
        d.cost = sum(float(p.get("cost", 0.0)) for p in parts)
        d.cost_known = all(bool(p.get("cost_known", True)) for p in parts)
        d.cache_hits = sum(int(p.get("cache_hits", 0)) for p in parts)
        d.requests = sum(int(p.get("requests", 0)) for p in parts)
        d.statuses.clear()
        d.errors.clear()
        for p in parts:
            d.statuses.update(p.get("statuses", {}))
            d.errors.update(p.get("errors", {}))

    async def wait(self) -> None:
        """Until every worker has finished (worker 0 has): those that never got to judging are not waited for
        once no work is left."""
        while len(self.final) < len(self.specs):
            self.poll(None)
            if self.claim.exhausted or self.stop_event.is_set():
                for i, proc in self.procs.items():
                    if i not in self.ready and i not in self.final:
                        if i in self.started:
                            proc.terminate()  # still starting: it has written nothing
                            proc.join(5)
                        self.final[i] = {}  # (a starter thread still waiting sees the stop and starts nothing)
            await asyncio.sleep(0.05)
        self.poll(None)

    def close(self, *, abort: bool) -> None:
        """Stop (``abort``: at once, saving what is done) and reap every worker process."""
        (self.abort_event if abort else self.stop_event).set()
        deadline = time.monotonic() + JOIN_TIMEOUT
        for starter in self.starters:
            starter.join(max(0.0, deadline - time.monotonic()))
        started = [proc for i, proc in self.procs.items() if i in self.started]
        for proc in started:
            proc.join(max(0.0, deadline - time.monotonic()))
        for proc in started:
            if proc.is_alive():  # pragma: no cover - a worker stuck beyond the timeout
                proc.terminate()
                proc.join(5)
        for i, conn in self.conns.items():
            self._receive(i)  # the last counts of a stopped worker (its cost and requests go in the run's notes)
            conn.close()


async def run_with_workers(
    n: int,
    todo: Sequence[Item],
    make_engine: Callable[[int, float | None, float | None, float | None, Progress, Any], _Engine],
    spec: Callable[[int, int, int, float | None, float | None, float | None], WorkerSpec],
    *,
    concurrency: int,
    rpm: float | None,
    tpm: float | None,
    max_cost: float | None,
    display: Progress,
    outcome: Outcome,
) -> None:
    """Judge ``todo`` with worker 0 (this process) and ``n - 1`` worker processes; sum their counts in ``outcome``."""
    items = list(todo)
    chunk = shared_chunk_size(len(items), n)
    conc = split_limit(concurrency, n)

    def share(x: float | None) -> float | None:
        return None if x is None else x / n

    specs = [spec(i, chunk, conc[i], share(rpm), share(tpm), max_cost) for i in range(1, n)]
    pool = WorkerPool(specs, items, chunk, display)
    own = Progress(display.total, already=display.already, enabled=False)
    engine: _Engine = make_engine(concurrency, rpm, tpm, max_cost, own, pool.budget_cell)
    pool.engine = engine
    engine.claim = pool.claim
    engine.on_tick = lambda: pool.poll(engine)
    pool.start()
    aborted = True
    try:
        await engine.run_items()
        pool.poll(engine)
        await pool.wait()
        aborted = False
    finally:
        pool.close(abort=aborted)
        pool.refresh()
        outcome.add(engine_counts(engine))
        outcome.fatal = engine.fatal
        for i in sorted(pool.specs):
            outcome.add(pool.final.get(i) or pool.snapshots.get(i) or {})
        if outcome.fatal is None:
            outcome.fatal = pool.error
