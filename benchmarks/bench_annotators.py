"""Benchmark: 50 annotators labelling at once through the labeling app's own calls, on PostgreSQL and SQLite.

Each annotator is a separate process (forked, each with its own connection, as each browser session of the app
has its own) that signs in with its access code (:func:`judgekit.labeling.sign_in`, :func:`open_session`) and
loops through the labeling page's own round: the desk view (:func:`judgekit.labeling.desk_view`: the current and
the next item, both reserved, what the page shows), then the page's outbox with one submit
(:func:`judgekit.labeling.apply_actions`: the session check, then the label with its per-form request id), sent
twice (a resend after a lost reply, or a double press). An action answered ``busy`` (the project's write lock was
held longer than the lock timeout) stays in the outbox and is sent again, as the page does. At the end every label
is accounted for:

* 0 lost: every submit an annotator saw succeed is stored;
* 0 doubled: one row per (annotator, item) and per request id, although every form was submitted twice;
* the queue's counts match the labels.

Printed: next-item and submit latency (p50, p95, max, from the annotator's side, in ms), labels per second, busy
retries, and the load average (the machine is shared with other work; the figures hold under that load). Beside
the latency, each call's **server time**: the CPU time the app's side spent on it (this process) plus the CPU time
of the database server's process for this connection (PostgreSQL's backend, read from ``/proc``; SQLite runs in
this process), mean per call. With more annotators than cores the latency is mostly waiting for a core and for the
project's write lock; the server time is what one call costs.

    .venv/bin/python benchmarks/bench_annotators.py [--annotators 50] [--labels-each 20] [--items 20000]
                                                    [--engines postgresql,sqlite]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import queue
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from judgekit.errors import DatabaseBusyError  # noqa: E402
from judgekit.labeling import (  # noqa: E402
    AssignmentPolicy,
    DeskAction,
    add_annotator,
    apply_actions,
    desk_view,
    ensure_queue,
    open_session,
    set_policy,
    sign_in,
)
from judgekit.models import Item, load_rubric  # noqa: E402
from judgekit.storage import Project  # noqa: E402

RUBRIC = load_rubric(ROOT / "rubrics" / "helpfulness_pass_fail.yaml")


def load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def build(url: str, n_items: int, n_annotators: int) -> dict[str, str]:
    """The project, and each annotator's access code."""
    codes: dict[str, str] = {}
    with Project(url) as p:
        p.save_rubric(RUBRIC)
        p.add_items(
            Item(id=f"item{i:06d}", input=f"Question {i}?", output=f"Answer {i}. " * 10) for i in range(n_items)
        )
        for a in range(n_annotators):
            codes[f"annotator{a:02d}"] = add_annotator(p, f"annotator{a:02d}")
        set_policy(p, RUBRIC.id, AssignmentPolicy(annotators_per_item=3, overlap_fraction=0.1, overlap_annotators=3))
        ensure_queue(p, RUBRIC)
    return codes


def annotate(url: str, who: str, code: str, n: int, start: mp.synchronize.Event, out: mp.Queue) -> None:  # type: ignore[type-arg]
    next_ms: list[float] = []
    submit_ms: list[float] = []
    cpu = {"next": 0.0, "submit": 0.0}  # server time: this process's CPU + the database backend's CPU
    stored: list[tuple[str, str]] = []
    retries = 0
    with Project(url, create=False, lock_timeout=5) as p:
        rubric = p.rubric(RUBRIC.id, RUBRIC.version)
        while True:  # 50 people signing in at once: a busy answer means "try again", as a person would
            try:
                signed = sign_in(p, code)
                break
            except DatabaseBusyError:
                retries += 1
        assert signed.annotator is not None and signed.annotator.name == who, signed.message
        token = open_session(p, signed.annotator)
        backend = _backend_cpu(p)
        start.wait()
        for _ in range(n):
            t0, c0 = time.perf_counter(), time.process_time() + backend()
            while True:
                try:
                    view = desk_view(p, who, rubric)
                    break
                except DatabaseBusyError:  # the page shows the last view and asks again
                    retries += 1
            next_ms.append((time.perf_counter() - t0) * 1000)
            cpu["next"] += time.process_time() + backend() - c0
            if not view.items:
                break
            item_id = view.items[0].item_id
            action = DeskAction(rid=uuid.uuid4().hex, kind="submit", item_id=item_id, choice="pass", seconds=3.0)
            t0, c0 = time.perf_counter(), time.process_time() + backend()
            for _send in range(2):  # the outbox is sent twice: the second must store nothing
                while True:
                    (outcome,) = apply_actions(p, token, rubric, [action])
                    if outcome.status != "busy":
                        break
                    retries += 1  # kept in the outbox, sent again
                assert outcome.status == "saved", outcome.message
            submit_ms.append((time.perf_counter() - t0) * 1000 / 2)
            cpu["submit"] += (time.process_time() + backend() - c0) / 2
            stored.append((item_id, action.rid))
    out.put((who, next_ms, submit_ms, stored, retries, cpu))


def _backend_cpu(p: Project) -> Callable[[], float]:
    """The CPU seconds (user + system) used so far by the PostgreSQL server process serving ``p``'s connection
    (0 for SQLite, which runs in this process). Clock-tick resolution: summed over many calls it is unbiased."""
    conn = getattr(p.db, "conn", None)
    info = getattr(conn, "info", None)
    if info is None or not hasattr(info, "backend_pid"):
        return lambda: 0.0
    stat, tick = Path(f"/proc/{info.backend_pid}/stat"), os.sysconf("SC_CLK_TCK")

    def read() -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick  # utime, stime (fields 14 and 15 of stat)

    return read


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def run(engine: str, url: str, n_annotators: int, per: int, n_items: int) -> None:
    codes = build(url, n_items, n_annotators)
    ctx = mp.get_context("fork")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=annotate, args=(url, name, code, per, start, out)) for name, code in codes.items()]
    for pr in procs:
        pr.start()
    time.sleep(2.0)  # every process connected and waiting
    t0 = time.perf_counter()
    start.set()
    results = []
    while len(results) < len(procs):  # slow under load; an annotator process that died stops the run
        try:
            results.append(out.get(timeout=5))
        except queue.Empty:
            dead = [pr for pr in procs if pr.exitcode not in (None, 0)]
            if dead:
                for pr in procs:
                    pr.kill()
                raise SystemExit(f"{len(dead)} annotator process(es) failed (see above)") from None
    wall = time.perf_counter() - t0
    for pr in procs:
        pr.join(timeout=60)
    next_ms = [x for r in results for x in r[1]]
    submit_ms = [x for r in results for x in r[2]]
    submitted = {(r[0], item, form) for r in results for item, form in r[3]}
    retries = sum(r[4] for r in results)
    calls = {"next": len(next_ms), "submit": len(submit_ms)}  # submit: per send (each form is sent twice)
    server_ms = {k: sum(r[5][k] for r in results) * 1000 / max(1, calls[k]) for k in calls}
    with Project(url, create=False) as p:
        labels = p.labels(history=True)
        rows = {(lab.annotator, lab.item_id) for lab in labels}
        lost = len({(w, i) for w, i, _ in submitted} - rows)
        doubled = len(labels) - len(rows)
        queue_total = p.db.scalar("SELECT SUM(n_labelled) FROM label_queue")
    print(f"\n{engine}: {n_annotators} annotator processes x {per} items, {n_items:,} items ({load()})")
    print(f"  labels stored {len(labels):,} of {len(submitted):,} submitted (each form twice): lost {lost}, doubled "
          f"{doubled}; queue counts {queue_total:,}")  # fmt: skip
    print(f"  next item  p50 {statistics.median(next_ms):7.1f} ms  p95 {pct(next_ms, 0.95):7.1f} ms  "
          f"max {max(next_ms):7.1f} ms  (n={len(next_ms)}); server time {server_ms['next']:.1f} ms/call")  # fmt: skip
    print(f"  submit     p50 {statistics.median(submit_ms):7.1f} ms  p95 {pct(submit_ms, 0.95):7.1f} ms  "
          f"max {max(submit_ms):7.1f} ms; server time {server_ms['submit']:.1f} ms/call")  # fmt: skip
    print(f"  {len(labels) / wall:,.0f} labels/s over {wall:.1f} s; busy retries {retries}")
    assert lost == 0 and doubled == 0 and len(labels) == len(submitted) == queue_total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--annotators", type=int, default=50)
    ap.add_argument("--labels-each", type=int, default=20)
    ap.add_argument("--items", type=int, default=20_000)
    ap.add_argument("--engines", default="postgresql,sqlite")
    args = ap.parse_args()
    for engine in args.engines.split(","):
        if engine == "postgresql":
            from tests.pg_server import PostgresServer

            server = PostgresServer.start(durable=True, max_connections=args.annotators + 20)
            try:
                run(engine, server.fresh_url(), args.annotators, args.labels_each, args.items)
            finally:
                server.stop()
        else:
            with tempfile.TemporaryDirectory(prefix="judgekit-bench-annotators-") as tmp:
                run(engine, str(Path(tmp) / "p.db"), args.annotators, args.labels_each, args.items)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
