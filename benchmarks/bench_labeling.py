"""Benchmark: queue rebuild and time to the next item on a large project (budget: 300 ms per next item).

Builds (or reuses) a project with 100,000 items, 1,000,000 human labels (10 per item from 50 annotators) and a
judge run with confidences, then

* times the queue rebuild (what the first annotator waits for after items, verdicts, escalations or the policy
  change) four ways: the first build into an empty queue, a full re-rank in which every row changes (a policy
  change), 1,000 new items after 1,000 new labels (the usual case: only the new labels are tallied; rolled back)
  and a rebuild in which nothing changed (an explicit ``rebuild_queue``).
  The first two are also run the legacy way (the window query and per-item Python loop the set-based rebuild
  replaced: tests/labeling/queue_reference.py, the oracle of the tests) in the same run, inside a transaction that
  is rolled back, and the rows of both are checked to be identical;
* times :func:`judgekit.labeling.next_item` for a heavy annotator (who has labelled ~20% of everything, so the
  query must step over their items) and for a newcomer. Each timed call is followed by a timed submit, so every
  call searches the queue rather than returning a reservation;
* times the progress counts shown with every item and on the admin page.

    .venv/bin/python benchmarks/bench_labeling.py [--db PATH] [--items 100000] [--labels 1000000] [--calls 200]
                                                  [--no-legacy]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from judgekit.labeling import (
    AssignmentPolicy,
    ensure_queue,
    get_policy,
    next_item,
    progress,
    progress_all,
    rebuild_queue,
    set_policy,
    submit_label,
)
from judgekit.models import Item, JudgeConfig, Rubric, load_rubric
from judgekit.storage import Project, now_iso

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "labeling"))
from queue_reference import queue_rows, reference_rows

BUDGET_MS = 300.0
RUBRIC = Path(__file__).resolve().parents[1] / "rubrics" / "helpfulness_pass_fail.yaml"
ANNOTATORS = 50


def build(db: Path, n_items: int, n_labels: int, seed: int = 0) -> None:
    """Bulk-insert items, labels and verdicts with executemany, one transaction per table."""
    rng = np.random.default_rng(seed)
    project = Project(db)
    rubric = load_rubric(RUBRIC)
    project.save_rubric(rubric)
    risks = rng.choice(np.array(["low", "medium", "high", None], dtype=object), size=n_items, p=[0.6, 0.25, 0.05, 0.1])
    with project.transaction() as c:
        c.executemany(
            "INSERT INTO items (id, input, output, risk, extra_json, content_hash, seq) VALUES (?,?,?,?,?,?,?)",
            (
                (
                    f"item{i:06d}",
                    f"Question {i}: how do I do thing {i}?",
                    f"Answer {i}. " * 20,
                    risks[i],
                    "{}",
                    hashlib.sha256(str(i).encode()).hexdigest(),
                    i + 1,
                )
                for i in range(n_items)
            ),
        )
    per_item = max(1, n_labels // n_items)
    created = now_iso()
    with project.transaction() as c:
        rows = []
        for i in range(n_items):
            people = rng.choice(ANNOTATORS, size=min(per_item, ANNOTATORS), replace=False)
            for a in people:
                rows.append(
                    (
                        f"item{i:06d}",
                        f"a{a:02d}",
                        rubric.id,
                        rubric.version,
                        "pass" if rng.random() < 0.7 else "fail",
                        None,
                        12.0,
                        created,
                        1,
                        0,
                        None,
                        None,
                    )
                )
            if len(rows) >= 200_000:
                _insert_labels(c, rows)
                rows = []
        _insert_labels(c, rows)
    cfg = JudgeConfig(
        provider="external", model="bench", rubric_id=rubric.id, rubric_version=rubric.version, confidence="external"
    )
    run = project.create_run("bench-judge", cfg, source="import")
    conf = rng.uniform(0.5, 1.0, size=n_items)
    with project.transaction() as c:
        c.executemany(
            "INSERT INTO verdicts (run_id, item_id, status, label, confidence, confidence_source, created_at)"
            " VALUES (?,?,?,?,?,?,?)",
            (
                (run.id, f"item{i:06d}", "ok", "pass" if conf[i] > 0.6 else "fail", float(conf[i]), "external", created)
                for i in range(n_items)
            ),
        )
    # 12 people per item: with 10 labels each, every item is still open, the hardest case for the query
    set_policy(
        project, rubric.id, AssignmentPolicy(annotators_per_item=12, overlap_fraction=0.1, overlap_annotators=12)
    )
    project.close()


def _insert_labels(c: object, rows: list[tuple[object, ...]]) -> None:
    c.executemany(  # type: ignore[attr-defined]
        "INSERT INTO labels (item_id, annotator, rubric_id, rubric_version, label, critique, time_spent_s, created_at,"
        " revision, flagged, display_order, request_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )


def legacy_rebuild(project: Project, rubric: Rubric) -> tuple[float, list[tuple[object, ...]]]:
    """Seconds the legacy rebuild takes from the current state (rolled back afterwards), and its rows."""
    c = project.conn
    c.execute("BEGIN IMMEDIATE")
    try:
        t0 = time.perf_counter()
        rows = reference_rows(project, rubric, get_policy(project, rubric.id))
        c.execute("DELETE FROM label_queue WHERE rubric_id = ? AND rubric_version = ?", (rubric.id, rubric.version))
        c.executemany(
            "INSERT INTO label_queue (rubric_id, rubric_version, item_id, seq, priority, target, overlap,"
            " n_labelled, reasons) VALUES (?,?,?,?,?,?,?,?,?)",
            rows,
        )
        return time.perf_counter() - t0, rows
    finally:
        c.execute("ROLLBACK")


def time_rebuilds(project: Project, rubric: Rubric, *, legacy: bool) -> None:
    """Rebuild timings: first build, every row changing, new items, nothing changed; legacy vs set-based."""
    c = project.conn
    with project.transaction():  # a fresh project: empty queue, no label tally (not timed)
        c.execute("DELETE FROM label_queue WHERE rubric_id = ? AND rubric_version = ?", (rubric.id, rubric.version))
        c.execute("DELETE FROM label_tally WHERE rubric_id = ? AND rubric_version = ?", (rubric.id, rubric.version))
        c.execute(
            "DELETE FROM project_meta WHERE key IN (?, ?)",
            (f"labeling.queue:{rubric.key}", f"labeling.tally:{rubric.key}"),
        )

    def run_legacy() -> tuple[float, list[tuple[object, ...]]] | None:
        if not legacy:
            return None
        out = legacy_rebuild(project, rubric)
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # so its rolled-back writes do not slow what follows
        return out

    def line(name: str, new_s: float, old: tuple[float, list[tuple[object, ...]]] | None) -> None:
        text = f"rebuild, {name:<40} {new_s:6.2f} s"
        if old is not None:
            same = "identical rows" if queue_rows(project, rubric) == old[1] else "ROWS DIFFER"
            ratio = f"ratio new/legacy {new_s / old[0]:.3f} ({old[0] / new_s:.1f}x faster)"
            text += f"   legacy {old[0]:6.2f} s   {ratio}, {same}"
        print(text)

    old = run_legacy()
    t0 = time.perf_counter()
    ensure_queue(project, rubric)
    line("first build (fresh project, via ensure)", time.perf_counter() - t0, old)

    policy = get_policy(project, rubric.id)
    set_policy(project, rubric.id, policy.model_copy(update={"annotators_per_item": policy.annotators_per_item + 1}))
    old = run_legacy()
    t0 = time.perf_counter()
    ensure_queue(project, rubric)
    line("every row changes (policy change)", time.perf_counter() - t0, old)
    set_policy(project, rubric.id, policy)
    ensure_queue(project, rubric)

    # 1,000 new items after 1,000 new labels: the usual trigger. Rolled back, so the project stays as it was.
    n_items = project.item_count()
    heavy = str(c.execute("SELECT annotator FROM labels LIMIT 1").fetchone()[0])
    c.execute("BEGIN IMMEDIATE")
    try:
        for k in range(1000):
            submit_label(project, f"extra{k % 7}", rubric, f"item{k * 97 % n_items:06d}", "fail", critique="x")
        submit_label(project, heavy, rubric, "item000000", "fail", critique="changed my mind")  # a revision
        project.add_items(
            [Item(id=f"late{k:05d}", input=f"late question {k}", output="late answer") for k in range(1000)]
        )
        t0 = time.perf_counter()
        ensure_queue(project, rubric)
        line("1,000 new items and labels (incremental)", time.perf_counter() - t0, None)
    finally:
        c.execute("ROLLBACK")
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    t0 = time.perf_counter()
    rebuild_queue(project, rubric)
    line("nothing changed (explicit rebuild)", time.perf_counter() - t0, None)
    t0 = time.perf_counter()
    ensure_queue(project, rubric)
    print(f"ensure_queue, queue up to date                    {(time.perf_counter() - t0) * 1000:6.1f} ms")


def time_next(project: Project, annotator: str, calls: int) -> tuple[list[float], list[float]]:
    """Milliseconds per next_item call and per submit."""
    rubric = project.rubrics()[0]
    nxt, sub = [], []
    for k in range(calls):
        t0 = time.perf_counter()
        item = next_item(project, annotator, rubric)
        nxt.append((time.perf_counter() - t0) * 1000)
        assert item is not None
        t0 = time.perf_counter()
        submit_label(project, annotator, rubric, item.id, "pass", request_id=f"bench-{annotator}-{k}-{time.time()}")
        sub.append((time.perf_counter() - t0) * 1000)
    return nxt, sub


def report(name: str, ms: list[float], budget: float | None = BUDGET_MS) -> None:
    ms_sorted = sorted(ms)
    med = statistics.median(ms_sorted)
    p95 = ms_sorted[max(0, round(0.95 * len(ms_sorted)) - 1)]
    vs = f"  p95/budget {p95 / budget:.3f}" if budget else ""
    print(f"{name:<34} n={len(ms):>4}  median {med:7.2f} ms  p95 {p95:7.2f} ms  max {ms_sorted[-1]:7.2f} ms{vs}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, default=None, help="reuse or create this database (default: a temp file)")
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--labels", type=int, default=1_000_000)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--no-legacy", action="store_true", help="skip the legacy rebuild (about 8-10 s each)")
    args = ap.parse_args()
    db = args.db or Path(tempfile.mkdtemp(prefix="jk-bench-")) / "bench.db"
    if not db.exists():
        t0 = time.perf_counter()
        build(db, args.items, args.labels)
        print(f"built {db}: {args.items:,} items, {args.labels:,} labels in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    project = Project(db, create=False)  # applies pending migrations (new indexes: a few seconds, once)
    print(f"opened in {time.perf_counter() - t0:.2f} s")
    rubric = project.rubrics()[0]
    print(f"items {project.item_count():,}  labels {project.label_count():,}")
    time_rebuilds(project, rubric, legacy=not args.no_legacy)
    heavy = project.conn.execute(
        "SELECT annotator, COUNT(*) AS n FROM labels GROUP BY annotator ORDER BY n DESC LIMIT 1"
    ).fetchone()
    print(f"heavy annotator {heavy[0]} has {heavy[1]:,} labels")
    for name, who in ((f"heavy ({heavy[0]})", str(heavy[0])), ("newcomer", f"new-{int(time.time())}")):
        nxt, sub = time_next(project, who, args.calls)
        report(f"next_item, {name}", nxt)
        report(f"submit_label, {name}", sub, None)
    ms = []
    for _ in range(5):
        t0 = time.perf_counter()
        progress(project, str(heavy[0]), rubric)
        ms.append((time.perf_counter() - t0) * 1000)
    print(f"progress (heavy annotator): median {statistics.median(ms):.1f} ms")
    t0 = time.perf_counter()
    everyone = progress_all(project, rubric)
    print(f"progress_all (admin page, {len(everyone)} annotators): {time.perf_counter() - t0:.2f} s")
    print(f"budget {BUDGET_MS:.0f} ms per next item")
    project.close()


if __name__ == "__main__":
    main()
