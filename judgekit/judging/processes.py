"""Several worker processes for one run (``workers=N``, ``judgekit judge --workers N``; ``auto`` by default).

Vocabulary: a *worker process* is an operating-system process running one :class:`~judgekit.judging.engine.Engine`;
inside it, the engine's *judge tasks* are asyncio tasks. The judging process itself is worker process 0. This
module depends on the engine; the engine knows nothing of processes.

Why: one asyncio event loop runs on one core, and the provider SDK alone costs about 1.5 ms of CPU per call, so a
single process tops out near 550 calls/s whatever the concurrency. With ``N`` workers the judging process is
worker 0 and ``N - 1`` more processes are started (``multiprocessing``, from a fork server: see
:func:`process_context`); each runs the same engine against the same run in the same SQLite file (WAL; writers
wait on the busy timeout), committing its verdicts and cached replies every 50 ms as a single process does. So the
guarantees do not change: every verdict is committed as it arrives, and a resume (with any number of workers)
judges only what is missing and pays for nothing twice.

* **Work is shared, not pre-split:** the items to judge are cut into small chunks (items of the same text in one
  chunk, so their identical requests share one call) and every process takes the next chunk from a shared counter
  when it needs more, so a process that starts late (the fork server still importing the SDK on a process's first
  multi-worker run) or runs slower simply takes fewer chunks.
* **Limits are divided:** worker ``i`` gets ``concurrency // N`` calls in flight (the remainder goes to the first
  ones), ``rpm / N`` and ``tpm / N``; the sum is the limit. Worker 0 starts alone with the whole limits and hands a
  share over to each process when it is ready: it lowers its own limits first, and the new process starts once
  worker 0's calls in flight fit its new share. ``max_cost`` is not divided: the processes draw on one budget in
  shared memory (:mod:`judgekit.judging.budget`), and the run stops cleanly, ``max_cost``, when its total would pass
  it.
* **One progress display and one summary:** the processes report their :class:`~judgekit.judging.counts.Counts`
  through a pipe every 0.2 s; the parent shows the sum and sums the run summary.
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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from judgekit import errors
from judgekit.judging.counts import Counts
from judgekit.judging.engine import Engine, Share, open_engine
from judgekit.judging.items import ChunkClaim, chunk_bounds, group_duplicates
from judgekit.judging.options import RunOptions
from judgekit.judging.providers.base import ModelAdapter
from judgekit.judging.providers.registry import ProviderSpec
from judgekit.models import Item, JudgeRun, Rubric
from judgekit.storage import Project

REPORT_INTERVAL = 0.2
"""Seconds between two progress reports of a worker process."""
JOIN_TIMEOUT = 30.0
"""Seconds to wait for stopped worker processes to save their work and exit before they are terminated."""


def split_limit(total: int, n: int) -> list[int]:
    """``total`` calls in flight divided among ``n`` processes; the first ``total % n`` get one more.

    >>> split_limit(64, 3)
    [22, 21, 21]
    """
    return [total // n + (1 if i < total % n else 0) for i in range(n)]


def shares(options: RunOptions, n: int) -> list[Share]:
    """The limits of each of ``n`` processes; they sum to the run's."""

    def part(x: float | None) -> float | None:
        return None if x is None else x / n

    return [Share(c, part(options.rpm), part(options.tpm)) for c in split_limit(options.concurrency, n)]


def shared_chunk_size(n_items: int, workers: int) -> int:
    """Items per chunk: at most 32 (a late process still finds work; the last chunks end close together), and at
    least four chunks per worker on small runs."""
    return max(1, min(32, n_items // (4 * workers)))


@dataclass
class Outcome:
    """What the processes of a run did, summed (one process: its counts alone)."""

    counts: Counts = field(default_factory=Counts)
    stop_reason: str | None = None
    stop_detail: str | None = None
    fatal: BaseException | None = None
    per_process: list[Counts] = field(default_factory=list)
    """Counts of each process (the judging process first)."""

    def add(self, counts: Counts, stop_reason: str | None, stop_detail: str | None = None) -> None:
        self.counts = self.counts + counts
        self.per_process.append(counts)
        if stop_reason not in (None, "stopped") and (self.stop_reason is None or stop_reason == "circuit_open"):
            self.stop_reason = stop_reason
            self.stop_detail = stop_detail or self.stop_detail


@dataclass(frozen=True)
class ProcessSpec:
    """What worker process ``index`` needs to join a run (pickled to it)."""

    index: int
    db_path: str
    run_id: int
    bounds: list[int]
    """Chunk offsets into the item ids it receives (the same chunks every process uses)."""
    share: Share
    options: RunOptions
    provider: ProviderSpec
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    """The judging process's environment when the run started (keys, base URLs, proxies): a worker forked from the
    fork server would otherwise see the environment of the run that started the server, possibly stale."""
    cwd: str = field(default_factory=os.getcwd)
    """The judging process's working directory (relative paths in the environment resolve the same)."""


@dataclass(frozen=True)
class Report:
    """A worker process's counts, sent to the parent while it runs and when it ends."""

    counts: Counts
    stop_reason: str | None = None
    fatal: dict[str, Any] | None = None
    stop_detail: str | None = None
    """:func:`describe_error` of the error that stopped it, if any."""


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


# -- a worker process ----------------------------------------------------------------------------------------------


def process_main(
    spec: ProcessSpec,
    counter: Any,
    conn: Connection,
    items_conn: Connection,
    go: Any,
    stop: Any,
    abort: Any,
    budget_cell: Any,
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
        asyncio.run(_judge_in_process(spec, ids, counter, conn, go, stop, abort, budget_cell))
    except BaseException as exc:  # report, never raise: the parent decides
        with contextlib.suppress(OSError, ValueError):
            conn.send(("error", describe_error(exc)))
    finally:
        with contextlib.suppress(OSError):
            conn.close()


async def _judge_in_process(
    spec: ProcessSpec,
    ids: list[str],
    counter: Any,
    conn: Connection,
    go: Any,
    stop: Any,
    abort: Any,
    budget_cell: Any,
) -> None:
    parent = mp.parent_process()  # the judging process (not the fork server): its sentinel closes when it dies

    def orphaned() -> bool:
        return parent is not None and not parent.is_alive()

    if orphaned() or abort.is_set():
        return
    with Project(spec.db_path, create=False) as project:
        run = project.run(spec.run_id)
        rubric = project.rubric(run.config.rubric_id, run.config.rubric_version)
        engine = open_engine(
            project,
            run,
            rubric,
            spec.options,
            spec.provider,
            share=spec.share,
            budget_cell=budget_cell,
            items_in_run=len(ids),
        )
        conn.send(("ready", None))
        while not go.wait(0.02):
            if stop.is_set() or abort.is_set() or orphaned():
                await engine.adapter.aclose()
                conn.send(("done", Report(engine.snapshot())))
                return
        claim_ids = ChunkClaim(ids, spec.bounds, counter)

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
                    conn.send(("progress", Report(engine.snapshot(), engine.stop_reason, None, engine.stop_detail)))

        engine.on_tick = tick
        try:
            await engine.run_items()
        except asyncio.CancelledError:
            if not (abort.is_set() or orphaned()):
                raise
        fatal = describe_error(engine.fatal) if engine.fatal is not None else None
        with contextlib.suppress(OSError):
            conn.send(("done", Report(engine.snapshot(), engine.stop_reason, fatal, engine.stop_detail)))


# -- the parent -----------------------------------------------------------------------------------------------------


def _send_ids(conn: Connection, items: Sequence[Item]) -> None:
    """Send the ids of the items to judge; a worker reads each chunk it takes from the project database. Why not
    the items: pickling 10,000 items holds this process's interpreter for about 0.1 s (every call in flight
    waits), and unpickling them costs the worker more than reading its chunks."""
    with contextlib.suppress(OSError):  # the process died or was stopped before reading them
        conn.send([it.id for it in items])
    conn.close()


PROCESS_PRELOAD = ["judgekit.judging.processes", "judgekit.judging.providers.openai", "jinja2"]
"""Modules imported once by the fork server, so that every worker forked from it starts with them loaded (the
provider's own modules, its ``preload``, are added)."""


def process_context(provider: ProviderSpec | None = None) -> Any:
    """The ``multiprocessing`` context worker processes are started with, starting its fork server if need be.

    Why a fork server: a fresh Python process needs 1.5 to 5 s of CPU to import a provider SDK (``import openai``
    1.4 s, ``import anthropic`` 2.7 s on the benchmark machine; twice that without compiled bytecode), paid by every
    worker of every run with ``spawn``, and on a 2-core machine that CPU is taken from the judging. The fork server
    is a clean process (started with ``spawn``, so it never inherits the parent's threads, event loop or SQLite
    connection) that imports the engine and the SDK once; each worker is then a ``fork`` of it and starts in
    milliseconds. The server is started at most once per Python process (the first run pays for its imports;
    :func:`~judgekit.judging.run.arun_judge` starts it before preparing the run, so the imports overlap that work).
    Where there is no fork server (Windows), workers are spawned.
    """
    if "forkserver" not in mp.get_all_start_methods():  # pragma: no cover - Windows
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    from multiprocessing import forkserver

    if provider is not None:
        # effective only before the server starts (the first run of the process); later ones import what they lack
        ctx.set_forkserver_preload([*PROCESS_PRELOAD, *provider.preload, *_transport_preload()])
        with _sigint_ignored():
            forkserver.ensure_running()
    return ctx


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore Ctrl-C while the fork server is started, so that it starts with SIGINT ignored.

    Why: Ctrl-C reaches every process of the terminal's process group. The fork server ignores SIGINT only once its
    preload (the SDK import, 1-3 s) is done, and its children get the handler it started with back, so an early
    Ctrl-C printed a ``KeyboardInterrupt`` traceback from the server or a starting worker. A process started with
    SIGINT ignored keeps it ignored (Python installs its handler only where SIGINT is not ignored), and so do the
    workers forked from it; the judging process stops them itself (they save what they have and exit)."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: signals cannot be changed here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _transport_preload() -> list[str]:
    from judgekit.judging.providers.base import http_transport

    return ["aiohttp"] if http_transport() == "aiohttp" else []


class ProcessPool:
    """The worker processes 1..N-1 of a run, seen from worker process 0 (the parent): start, admit, aggregate,
    stop."""

    def __init__(self, specs: list[ProcessSpec], claim_items: Sequence[Item], bounds: list[int]) -> None:
        ctx = process_context()
        self.ctx = ctx
        self.counter = ctx.Value("q", 0)
        self.budget_cell = ctx.Array("d", 2)
        """The run's money (spent, reserved), shared by every process: see :mod:`judgekit.judging.budget`."""
        self.claim = ChunkClaim(claim_items, bounds, self.counter)
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
        self.snapshots: dict[int, Report] = {}
        self.final: dict[int, Report] = {}
        self.error: BaseException | None = None
        self.engine: Engine | None = None
        """Worker 0's engine (its counts are part of the display)."""

    def start(self) -> None:
        """Start the processes, each from its own thread: starting one waits for the fork server, which on the
        process's first run is still importing the SDK (seconds), and the judging in this process must not wait
        for that. The thread then sends the item list through a pipe (a large list takes a moment too)."""
        for i, spec in self.specs.items():
            recv, send = self.ctx.Pipe(duplex=False)
            items_recv, items_send = self.ctx.Pipe(duplex=False)
            proc = self.ctx.Process(
                target=process_main,
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
            _send_ids(items_send, self.claim.seq)
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
                    if data.fatal:
                        self.fail(rebuild_error(data.fatal, i))
                elif kind == "error":
                    self.final[i] = self.snapshots.get(i, Report(Counts()))
                    self.fail(rebuild_error(data, i))
        except Exception:  # EOF, a broken pipe, a message cut by a kill: the exit code tells
            pass

    def poll(self) -> None:
        """Read the workers' reports, admit the ready ones, propagate a failure."""
        for i in self.specs:
            if i in self.final:
                continue
            if i in self.start_errors:
                self.final[i] = Report(Counts())
                self.fail(errors.JudgekitError(f"judge worker {i} could not be started: {self.start_errors[i]}"))
                continue
            if i not in self.started:
                continue
            self._receive(i)
            code = self.procs[i].exitcode
            if i not in self.final and code is not None:
                self._receive(i)
                if i not in self.final:
                    self.final[i] = self.snapshots.get(i, Report(Counts()))
                    self.fail(errors.JudgekitError(f"judge worker {i} exited unexpectedly (exit code {code})"))
        engine = self.engine
        running = engine is not None and not engine.done
        if engine is not None:
            if engine.fatal is not None:
                self.fail(engine.fatal)
            elif self.error is not None and running:
                engine.fail(self.error)
            # the same failure on every call: one process's breaker stops them all
            tripped = [r for r in self.snapshots.values() if r.stop_reason == "circuit_open"]
            if engine.stop_reason == "circuit_open" or tripped:
                self.stop_event.set()
                if running and engine.stop_reason is None:
                    engine.stop_detail = tripped[0].stop_detail
                    engine.stop("circuit_open")
        for i in sorted(self.ready - self.admitted - set(self.final)):
            if self.stop_event.is_set():
                break
            if running and engine is not None:
                if i not in self.shrunk:
                    share = self.specs[i].share
                    engine.pacer.shrink(share.concurrency, share.rpm, share.tpm)
                    self.shrunk.add(i)
                conc = engine.pacer.concurrency
                if conc.in_flight > conc.limit:
                    break  # worker 0's calls in flight must fit its new share first
            self.go[i].set()
            self.admitted.add(i)

    def counts(self) -> Counts:
        """Worker 0's counts plus the latest report of every other worker."""
        total = self.engine.snapshot() if self.engine is not None else Counts()
        for report in self.snapshots.values():
            total = total + report.counts
        return total

    async def wait(self, tick: Callable[[], None]) -> None:
        """Until every worker has finished (worker 0 has): those that never got to judging are not waited for
        once no work is left."""
        while len(self.final) < len(self.specs):
            self.poll()
            tick()
            if self.claim.exhausted or self.stop_event.is_set():
                for i, proc in self.procs.items():
                    if i not in self.ready and i not in self.final:
                        if i in self.started:
                            proc.terminate()  # still starting: it has written nothing
                            proc.join(5)
                        self.final[i] = Report(Counts())  # (a starter thread still waiting starts nothing)
            await asyncio.sleep(0.05)
        self.poll()

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


async def judge_with_processes(
    n: int,
    todo: Sequence[Item],
    *,
    project: Project,
    run: JudgeRun,
    rubric: Rubric,
    options: RunOptions,
    provider: ProviderSpec,
    spent_before: float,
    on_progress: Callable[[Counts], None],
    adapter: ModelAdapter | None = None,
    outcome: Outcome | None = None,
) -> Outcome:
    """Judge ``todo`` with worker process 0 (this process, with ``adapter`` if given) and ``n - 1`` more; their
    counts summed into ``outcome`` (filled even when the run is cancelled)."""
    ordered, groups = group_duplicates(todo)
    bounds = chunk_bounds(groups, shared_chunk_size(len(ordered), n))
    parts = shares(options, n)
    specs = [ProcessSpec(i, project.url, run.id, bounds, parts[i], options, provider) for i in range(1, n)]
    pool = ProcessPool(specs, ordered, bounds)
    pool.budget_cell[0] = spent_before
    engine = open_engine(
        project,
        run,
        rubric,
        options,
        provider,
        adapter=adapter,
        budget_cell=pool.budget_cell,
        items_in_run=len(ordered),
    )
    pool.engine = engine
    engine.claim = pool.claim

    def tick() -> None:
        pool.poll()
        on_progress(pool.counts())

    engine.on_tick = tick
    pool.start()
    aborted = True
    out = outcome if outcome is not None else Outcome()
    try:
        await engine.run_items()
        pool.poll()
        await pool.wait(lambda: on_progress(pool.counts()))
        aborted = False
    finally:
        pool.close(abort=aborted)
        out.add(engine.snapshot(), engine.stop_reason, engine.stop_detail)
        out.fatal = engine.fatal
        for i in sorted(pool.specs):
            report = pool.final.get(i) or pool.snapshots.get(i) or Report(Counts())
            out.add(report.counts, report.stop_reason, report.stop_detail)
        if out.fatal is None:
            out.fatal = pool.error
        on_progress(out.counts)
    return out
