"""Benchmark: bulk imports against a plain ``executemany`` of the same rows into the same schema, on both engines.

Issue 15 budget: an import runs within 3x of a plain ``executemany`` of the same rows into the same schema, with
validation kept, as the work grows (items: 10,000 -> 100,000 -> 1,000,000; labels: 1,000,000 on 100,000 items).
For each engine (SQLite file; PostgreSQL server started here in a temporary folder, fsync on), each size and each
repeat, fresh projects get the same rubric (and, for labels, the same items), then

* **baseline**: exactly the rows the import stores (every column, hashes, keys and revisions included), prepared
  in memory beforehand, written by one ``executemany`` in one transaction;
* **import**: :func:`judgekit.io.import_items_file` / :func:`judgekit.io.import_labels_file` on the CSV file:
  reading the file, validating every row (located errors), content hashes / idempotency keys, revisions, and the
  bulk write (``COPY`` on PostgreSQL).

Printed: best of N and spread (wall clock) for each, this process's CPU time beside it (the PostgreSQL server's is
not in it), the ratio of the bests, and the load average beside every figure (the machine is shared).

    nice .venv/bin/python benchmarks/bench_import.py [--items 10000,100000,1000000] [--labels 1000000]
                [--repeat 3] [--large-repeat 2] [--engines sqlite,postgresql]   (--labels 0 / --items 0: skip)

``--large-repeat``: repeats at 1,000,000 rows and more (a label import of that size takes minutes on a loaded
machine). Beside the ratio of the bests, the spread of the per-repeat ratios (each repeat times the baseline and
the import back to back, so a load swing moves both).
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
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from judgekit.io import import_items_file, import_labels_file  # noqa: E402
from judgekit.models import Item, load_rubric  # noqa: E402
from judgekit.storage import Project  # noqa: E402
from judgekit.storage.project import (  # noqa: E402
    _INSERT_LABEL,
    ITEM_INSERT_COLUMNS,
    _import_key,
    _label_content,
    item_row,
    utc,
)

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
    """The rows import_items stores for this file (every column; computed once, outside the timing)."""
    rows = []
    with items_csv.open(newline="") as f:
        for seq, r in enumerate(csv.DictReader(f), start=1):
            item = Item.model_validate({"id": r["id"], "input": r["input"], "output": r["output"],
                                        "metadata": {"segment": r["segment"], "risk": r["risk"]}})  # fmt: skip
            rows.append(item_row(item, item.content_hash(), seq))
    return rows


INSERT_ITEM = (
    f"INSERT INTO items ({', '.join(ITEM_INSERT_COLUMNS)}) VALUES ({', '.join('?' * len(ITEM_INSERT_COLUMNS))})"
)


class Sample(NamedTuple):
    wall: float
    cpu: float
    """This process's CPU time (user + system)."""
    load: str


def timed(fn: Callable[[], object]) -> Sample:
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    return Sample(time.perf_counter() - t0, time.process_time() - c0, load())


Times = dict[str, list[Sample]]


def run_items(engine: str, new_db: Callable[[], str], items_csv: Path, repeat: int) -> Times:
    irows = item_rows(items_csv)
    times: Times = {"executemany": [], "import": []}
    for r in range(repeat):
        with fresh(new_db) as p:

            def base(p: Project = p) -> None:
                with p.transaction() as db:
                    db.executemany(INSERT_ITEM, irows)

            times["executemany"].append(timed(base))
        with fresh(new_db) as p:
            times["import"].append(timed(lambda p=p: import_items_file(p, items_csv)))
            assert p.item_count() == len(irows)
        print(f"  [{engine} items] repeat {r + 1}/{repeat} done ({load()})", flush=True)
    return times


def run_labels(engine: str, new_db: Callable[[], str], items_csv: Path, labels_csv: Path, repeat: int) -> Times:
    irows = item_rows(items_csv)
    lrows = label_rows(labels_csv)
    times: Times = {"executemany": [], "import": []}
    for r in range(repeat):
        with fresh(new_db, irows) as p:

            def base(p: Project = p) -> None:
                with p.transaction() as db:
                    db.executemany(_INSERT_LABEL, lrows)

            times["executemany"].append(timed(base))
        with fresh(new_db, irows) as p:
            times["import"].append(timed(lambda p=p: import_labels_file(p, labels_csv, RUBRIC)))
            assert p.label_count() == len(lrows)
        print(f"  [{engine} labels] repeat {r + 1}/{repeat} done ({load()})", flush=True)
    return times


def fresh(new_db: Callable[[], str], irows: list[tuple[object, ...]] | None = None) -> Project:
    p = Project(new_db())
    p.save_rubric(RUBRIC)
    if irows:
        with p.transaction() as db:
            db.executemany(INSERT_ITEM, irows)
    return p


def report(engine: str, kind: str, n: int, times: Times) -> tuple[float, float, float]:
    """Print the figures of one comparison; returns the ratio of the bests and the range of per-repeat ratios."""

    def fmt(name: str) -> str:
        xs = times[name]
        best = min(xs, key=lambda x: x.wall)
        walls = [x.wall for x in xs]
        return (
            f"best {best.wall:7.2f} s (spread {min(walls):.2f}-{max(walls):.2f}, n={len(xs)}; cpu {best.cpu:.2f} s; "
            f"{best.load})  {n / best.wall:>9,.0f} rows/s"
        )

    base = min(x.wall for x in times["executemany"])
    imp = min(x.wall for x in times["import"])
    ratio = imp / base
    pairs = [i.wall / b.wall for b, i in zip(times["executemany"], times["import"], strict=True)]
    print(f"\n{engine}: {kind}, {n:,} rows")
    print(f"  executemany  {fmt('executemany')}")
    print(f"  import       {fmt('import')}")
    print(
        f"  ratio import / executemany = {ratio:.2f}x (per repeat {min(pairs):.2f}-{max(pairs):.2f}; budget 3x) "
        f"({load()})",
        flush=True,
    )
    return ratio, min(pairs), max(pairs)


def sizes(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip() and int(x) > 0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", default="10000,100000,1000000", help="item import sizes, comma-separated (0: none)")
    ap.add_argument("--labels", default="1000000", help="label import sizes (on a tenth as many items; 0: none)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--large-repeat", type=int, default=2, help="repeats at 1,000,000 rows and more")
    ap.add_argument("--engines", default="sqlite,postgresql")
    args = ap.parse_args()
    ratios: list[str] = []
    with tempfile.TemporaryDirectory(prefix="judgekit-bench-import-") as tmp:
        folder = Path(tmp)
        files: dict[str, tuple[int, Path, Path | None]] = {}
        for n in sizes(args.items):
            sub = folder / f"items{n}"
            sub.mkdir()
            files[f"items {n}"] = (n, write_files(sub, n, 0)[0], None)
        for n in sizes(args.labels):
            sub = folder / f"labels{n}"
            sub.mkdir()
            items_csv, labels_csv = write_files(sub, max(1, n // 10), n)
            files[f"labels {n}"] = (n, items_csv, labels_csv)
        for name, (_, items_csv, labels_csv) in files.items():
            big = labels_csv or items_csv
            print(f"files for {name}: {big.stat().st_size / 1e6:.1f} MB", flush=True)
        counter = iter(range(10**6))
        for engine in args.engines.split(","):
            server = None
            if engine == "sqlite":

                def new_db() -> str:
                    return str(folder / f"p{next(counter)}.db")

            else:
                from tests.pg_server import PostgresServer

                server = PostgresServer.start(durable=True)
                new_db = server.fresh_url
            try:
                for name, (n, items_csv, labels_csv) in files.items():
                    repeat = args.large_repeat if n >= 1_000_000 else args.repeat
                    if labels_csv is None:
                        times = run_items(engine, new_db, items_csv, repeat)
                    else:
                        times = run_labels(engine, new_db, items_csv, labels_csv, repeat)
                    ratio, low, high = report(engine, name.split()[0], n, times)
                    ratios.append(
                        f"  {engine:<10} {name.split()[0]:<6} {n:>9,}: {ratio:.2f}x (per repeat {low:.2f}-{high:.2f},"
                        f" n={repeat}; {load()})"
                    )
            finally:
                if server is not None:
                    server.stop()
    print(f"\nratios import / executemany (budget 3x; {load()}):")
    print("\n".join(ratios))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
