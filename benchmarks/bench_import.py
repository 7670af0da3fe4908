"""Benchmark: bulk imports against a plain ``executemany`` of the same rows into the same schema, on both engines.

Issue 15 budget: importing labels runs within 3x of a plain ``executemany`` of the same rows into the same schema,
at 1,000,000 labels, with validation kept. For each engine (SQLite file; PostgreSQL server started here in a
temporary folder, fsync on) and each repeat, two fresh projects get the same items and rubric, then

* **baseline**: the rows the import stores (every column of ``labels``, keys and revisions included), prepared in
  memory beforehand, written by one ``executemany`` in one transaction;
* **import**: :func:`judgekit.io.import_labels_file` on the CSV file of those labels: reading the file, validating
  every row (located errors), idempotency keys, revisions, and the bulk write (``COPY`` on PostgreSQL).

Items are timed the same way (``import_items_file`` against ``executemany`` of the item rows). Printed: best of N
and spread for each, the ratio of the bests, and the load average beside every figure (the machine is shared).

    .venv/bin/python benchmarks/bench_import.py [--labels 1000000] [--items 100000] [--repeat 3]
                                                [--engines sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from judgekit.io import import_items_file, import_labels_file  # noqa: E402
from judgekit.models import Item, load_rubric  # noqa: E402
from judgekit.storage import Project  # noqa: E402
from judgekit.storage.project import _INSERT_LABEL, _import_key, _label_content, utc  # noqa: E402

RUBRIC = load_rubric(ROOT / "rubrics" / "helpfulness_pass_fail.yaml")
ANNOTATORS = 10


def load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def write_files(folder: Path, n_items: int, n_labels: int) -> tuple[Path, Path]:
    items = folder / "items.csv"
    with items.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "input", "output", "segment", "risk"])
        for i in range(n_items):
            w.writerow([f"item{i:07d}", f"Question {i}: how do I do thing {i}?", f"Answer {i}. " * 8,
                        f"seg{i % 7}", ("low", "medium", "high")[i % 3]])  # fmt: skip
    labels = folder / "labels.csv"
    per_item = max(1, n_labels // n_items)
    with labels.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["item_id", "annotator", "label", "critique", "time_spent_s", "created_at", "flagged"])
        n = 0
        for i in range(n_items):
            for a in range(per_item):
                if n == n_labels:
                    break
                fail = (i * 7 + a * 3) % 10 < 3
                w.writerow([f"item{i:07d}", f"annotator{(i + a) % ANNOTATORS:02d}", "fail" if fail else "pass",
                            "misses the point" if fail else "", f"{5 + (i + a) % 40}.5",
                            f"2024-05-{1 + i % 28:02d}T{a % 24:02d}:00:00+00:00", "false"])  # fmt: skip
                n += 1
    return items, labels


def label_rows(labels_csv: Path) -> list[tuple[object, ...]]:
    """The rows import_labels stores for this file (computed once, outside the timing)."""
    from judgekit.models import HumanLabel

    rows = []
    seen: dict[str, int] = {}
    revisions: dict[tuple[str, str], int] = {}
    with labels_csv.open(newline="") as f:
        for r in csv.DictReader(f):
            lab = HumanLabel.model_construct(
                item_id=r["item_id"], annotator=r["annotator"], rubric_id=RUBRIC.id, rubric_version=RUBRIC.version,
                label=r["label"], critique=r["critique"] or None, time_spent_s=float(r["time_spent_s"]),
                created_at=None, revision=1, flagged=False, display_order=None, provenance="blind",
            )  # fmt: skip
            content = _label_content(lab)
            n = seen.get(content, 0)
            seen[content] = n + 1
            rev = revisions.get((lab.item_id, lab.annotator), 0) + 1
            revisions[(lab.item_id, lab.annotator)] = rev
            created = utc(datetime.fromisoformat(r["created_at"])).isoformat()
            key = _import_key(content, n)
            rows.append((lab.item_id, lab.annotator, lab.rubric_id, lab.rubric_version, lab.label, lab.critique,
                         lab.time_spent_s, created, rev, 0, None, "blind", key))  # fmt: skip
    return rows


def item_rows(items_csv: Path) -> list[tuple[object, ...]]:
    rows = []
    with items_csv.open(newline="") as f:
        for seq, r in enumerate(csv.DictReader(f), start=1):
            item = Item.model_validate({"id": r["id"], "input": r["input"], "output": r["output"],
                                        "metadata": {"segment": r["segment"], "risk": r["risk"]}})  # fmt: skip
            rows.append((item.id, item.input, item.output, r["segment"], r["risk"], "{}", item.content_hash(), seq))
    return rows


INSERT_ITEM = (
    "INSERT INTO items (id, input, output, segment, risk, extra_json, content_hash, seq) VALUES (?,?,?,?,?,?,?,?)"
)


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run_engine(
    engine: str, new_db: Callable[[], str], items_csv: Path, labels_csv: Path, repeat: int
) -> dict[str, list[float]]:
    irows = item_rows(items_csv)
    lrows = label_rows(labels_csv)
    times: dict[str, list[float]] = {"items executemany": [], "items import": [], "labels executemany": [],
                                     "labels import": []}  # fmt: skip

    def fresh(with_items: bool) -> Project:
        p = Project(new_db())
        p.save_rubric(RUBRIC)
        if with_items:
            with p.transaction() as db:
                db.executemany(INSERT_ITEM, irows)
        return p

    for r in range(repeat):
        with fresh(False) as p:

            def base_items(p: Project = p) -> None:
                with p.transaction() as db:
                    db.executemany(INSERT_ITEM, irows)

            times["items executemany"].append(timed(base_items))
        with fresh(False) as p:
            times["items import"].append(timed(lambda p=p: import_items_file(p, items_csv)))
        with fresh(True) as p:

            def base_labels(p: Project = p) -> None:
                with p.transaction() as db:
                    db.executemany(_INSERT_LABEL, lrows)

            times["labels executemany"].append(timed(base_labels))
        with fresh(True) as p:
            times["labels import"].append(timed(lambda p=p: import_labels_file(p, labels_csv, RUBRIC)))
            assert p.label_count() == len(lrows)
        print(f"  [{engine}] repeat {r + 1}/{repeat} done ({load()})", flush=True)
    return times


def report(engine: str, times: dict[str, list[float]], n_items: int, n_labels: int) -> None:
    def fmt(name: str) -> str:
        xs = times[name]
        return f"best {min(xs):7.2f} s (spread {min(xs):.2f}-{max(xs):.2f}, n={len(xs)})"

    print(f"\n{engine}: {n_items:,} items, {n_labels:,} labels ({load()})")
    for kind, n in (("items", n_items), ("labels", n_labels)):
        base, imp = times[f"{kind} executemany"], times[f"{kind} import"]
        print(f"  {kind:<6} executemany  {fmt(f'{kind} executemany')}  {n / min(base):>10,.0f} rows/s")
        print(f"  {kind:<6} import       {fmt(f'{kind} import')}  {n / min(imp):>10,.0f} rows/s")
        print(f"  {kind:<6} ratio import / executemany = {min(imp) / min(base):.2f}x (budget 3x)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--labels", type=int, default=1_000_000)
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--engines", default="sqlite,postgresql")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="judgekit-bench-import-") as tmp:
        folder = Path(tmp)
        items_csv, labels_csv = write_files(folder, args.items, args.labels)
        print(f"files: {items_csv.stat().st_size / 1e6:.1f} MB items, {labels_csv.stat().st_size / 1e6:.1f} MB labels")
        for engine in args.engines.split(","):
            if engine == "sqlite":
                names = (str(folder / f"p{n}.db") for n in range(1000))
                times = run_engine(engine, names.__next__, items_csv, labels_csv, args.repeat)
            else:
                from tests.pg_server import PostgresServer

                server = PostgresServer.start(durable=True)
                try:
                    times = run_engine(engine, server.fresh_url, items_csv, labels_csv, args.repeat)
                finally:
                    server.stop()
            report(engine, times, args.items, args.labels)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
