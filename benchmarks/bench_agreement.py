"""Benchmark: the verdict at the scale teams have (issue 11). ``agree``, ``report`` and ``check`` on projects of
N items x 3 annotators x 2 imported judge runs (with a confidence column), N = 10,000 and 100,000 (1,000,000 with
``--sizes``), each command run in-process through ``judgekit.cli.main`` exactly as a user types it.

Budget: each command under 10 s at 100,000 items, and cost linear in N: the per-item cost at 100k within 1.5x of
that at 10k. Both are printed as measured in this run (best of ``--repeats``, with the spread, and the load
average beside every figure: the machine is shared). The projects are built once with the public import API
(``Project.add_items``, ``Project.add_labels``, ``judgekit.io.import_verdicts``) into ``--cache`` and reused.

    .venv/bin/python benchmarks/bench_agreement.py [--sizes 10000 100000] [--repeats 3] [--cache DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from judgekit.cli import main
from judgekit.io import Row, import_verdicts
from judgekit.models import HumanLabel, Item, ItemMetadata, load_rubric
from judgekit.storage import Project

ROOT = Path(__file__).resolve().parents[1]
RUBRIC = ROOT / "rubrics" / "helpfulness_pass_fail.yaml"
BUDGET_S = 10.0
LINEARITY = 1.5
SCHEMA = "v1"  # bump when the generated project changes


def build(db: Path, n: int, seed: int = 0) -> None:
    """N items (20 segments; a third without a risk tier), 3 annotators who label every item (10% noise around a
    hidden truth), 2 imported judge runs (20% / 25% noise, confidences, 1% unparseable replies)."""
    rng = np.random.default_rng(seed)
    rubric = load_rubric(RUBRIC)
    truth = rng.choice(np.array(["pass", "fail"]), size=n, p=[0.6, 0.4])
    flip = {"pass": "fail", "fail": "pass"}
    risks = [None, "low", "medium", "high"]
    with Project(db) as p:
        p.save_rubric(rubric)
        p.add_items(
            Item(id=f"i{i}", input=f"q{i}", output="o", metadata=ItemMetadata(segment=f"s{i % 20}", risk=risks[i % 4]))
            for i in range(n)
        )
        labels = []
        for a in range(3):
            noise = rng.random(n) < 0.1
            labels += [
                HumanLabel(
                    item_id=f"i{i}",
                    annotator=f"annotator{a + 1}",
                    rubric_id=rubric.id,
                    rubric_version=rubric.version,
                    label=flip[truth[i]] if noise[i] else str(truth[i]),
                )
                for i in range(n)
            ]
        p.add_labels(labels)
        for r, err in enumerate((0.2, 0.25)):
            noise = rng.random(n) < err
            bad = rng.random(n) < 0.01
            conf = rng.uniform(0.5, 1.0, n)
            rows = [
                Row(
                    {"item_id": f"i{i}", "status": "parse_error", "raw_reply": "??"}
                    if bad[i]
                    else {
                        "item_id": f"i{i}",
                        "label": flip[truth[i]] if noise[i] else str(truth[i]),
                        "confidence": round(float(conf[i]), 3),
                    },
                    f"judge-{r + 1}.jsonl",
                    i + 1,
                )
                for i in range(n)
            ]
            import_verdicts(p, rows, rubric, run_name=f"judge-{r + 1}", model=f"model-{r + 1}")


def _load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def _time(args: list[str], repeats: int) -> tuple[float, float, float, str]:
    """Best, median and worst wall time of ``judgekit ARGS`` in-process (output discarded), with the load average
    read before the first run."""
    load = _load()
    times = []
    for _ in range(repeats):
        sink = io.StringIO()
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            code = main(args)
        times.append(time.perf_counter() - t0)
        if code not in (0, 1):
            raise SystemExit(f"judgekit {' '.join(args)} exited {code}: {sink.getvalue()[-400:]}")
    return min(times), statistics.median(times), max(times), load


def main_bench(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "judgekit-bench-agreement")
    args = ap.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    os.chdir(args.cache)  # no judgekit.toml here: the documented defaults (1,000 resamples)
    print(f"judgekit agree / report / check, N items x 3 annotators x 2 imported runs; best of {args.repeats}")
    print(f"{'command':<8} {'items':>9} {'best s':>8} {'median':>8} {'worst':>8} {'us/item':>8}  load 1/5/15 min")
    results: dict[tuple[str, int], float] = {}
    for n in args.sizes:
        db = args.cache / f"agreement-{SCHEMA}-{n}.db"
        if not db.exists():
            t0 = time.perf_counter()
            build(db.with_suffix(".tmp"), n)
            db.with_suffix(".tmp").rename(db)
            print(f"(built {db.name} in {time.perf_counter() - t0:.0f} s)", flush=True)
        commands = {
            "agree": ["agree", "--db", str(db), "--json"],
            "report": ["report", "--db", str(db), "-o", str(args.cache / f"report-{n}")],
            "check": ["check", "judge-1", "--db", str(db)],
        }
        for name, cmd in commands.items():
            best, med, worst, load = _time(cmd, args.repeats)
            results[(name, n)] = best
            print(
                f"{name:<8} {n:>9,} {best:>8.2f} {med:>8.2f} {worst:>8.2f} {best / n * 1e6:>8.1f}  {load}", flush=True
            )
    ok = True
    sizes = sorted(args.sizes)
    print()
    for name in ("agree", "report", "check"):
        for small, big in itertools.pairwise(sizes):
            ratio = (results[(name, big)] / big) / (results[(name, small)] / small)
            verdict = "ok" if ratio <= LINEARITY else "OVER"
            ok &= ratio <= LINEARITY
            print(f"{name}: per-item cost at {big:,} / at {small:,} = {ratio:.2f} (budget {LINEARITY}) {verdict}")
        if 100_000 in args.sizes:
            t = results[(name, 100_000)]
            ok &= t < BUDGET_S
            print(f"{name}: {t:.2f} s at 100,000 items (budget {BUDGET_S:g} s) {'ok' if t < BUDGET_S else 'OVER'}")
    print(f"load average now {_load()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main_bench())
