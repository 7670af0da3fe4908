"""What the browser benchmarks share: rounds of timings with the load average beside each, their summary against a
budget, the accounts they sign in with, and the app served and Chromium launched as the browser tests do.

Why one place: ``bench_labeling_browser.py`` (the desk) and ``bench_admin_browser.py`` (the admin page) must report
figures the same way (n, median, p95, max per round; best-of-N with the spread across rounds; each as a ratio to
its budget; the load average beside every figure), and serve the app exactly as the browser tests do
(``tests/labeling/browser_support.py``: free port, temp HOME, health check), or their figures would not compare.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests" / "labeling"))
from bench_labeling import build  # noqa: E402
from browser_support import APP, PROBE_JS, launch, serve_app  # noqa: E402

from judgekit.labeling import add_annotator, get_annotator, reset_code  # noqa: E402
from judgekit.storage import Project  # noqa: E402

__all__ = [
    "APP",
    "PROBE_JS",
    "Series",
    "access_code",
    "bench_db",
    "data_options",
    "launch",
    "load1",
    "pct",
    "serve_app",
]


@dataclass
class Series:
    """One figure's samples, a list per round, with the load average at the end of each round and a note (for
    instance "a background refresh was running") when the round was taken under a condition worth saying."""

    name: str
    budget_ms: float
    rounds: list[list[float]] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, samples: list[float], note: str = "") -> None:
        self.rounds.append(samples)
        self.loads.append(load1())
        self.notes.append(note)

    def round_line(self, label: str = "") -> str:
        """The latest round: n, median, p95, max and the load average."""
        ms = self.rounds[-1]
        note = f"  ({self.notes[-1]})" if self.notes[-1] else ""
        return (
            f"  {label}{self.name:<14} round {len(self.rounds)}: n={len(ms):>3}  median {statistics.median(ms):8.1f} ms"
            f"  p95 {pct(ms, 0.95):8.1f} ms  max {max(ms):8.1f} ms   load {self.loads[-1]:.2f}{note}"
        )

    def summary_line(self, label: str = "") -> str:
        """Best-of-N (the best round) median and p95, each with its spread across rounds and as a ratio to the
        budget, and the range of load averages the rounds were taken under."""
        meds = [statistics.median(r) for r in self.rounds]
        p95s = [pct(r, 0.95) for r in self.rounds]
        b = self.budget_ms
        return (
            f"{label}{self.name:<14} median {min(meds):8.1f} ms (spread {min(meds):.0f}-{max(meds):.0f}) "
            f"= {min(meds) / b:.2f}x budget;  p95 {min(p95s):8.1f} ms (spread {min(p95s):.0f}-{max(p95s):.0f}) "
            f"= {min(p95s) / b:.2f}x budget  (budget {b:.0f} ms; best of {len(self.rounds)} rounds of "
            f"{min(len(r) for r in self.rounds)}+; max {max(max(r) for r in self.rounds):.0f}; "
            f"load {min(self.loads):.2f}-{max(self.loads):.2f})"
        )


def pct(ms: list[float], q: float) -> float:
    """The ``q`` quantile of ``ms`` by the nearest-rank method (p95 of 10 samples is the 10th)."""
    s = sorted(ms)
    return s[max(0, round(q * len(s)) - 1)]


def load1() -> float:
    """The 1-minute load average (printed beside every figure: the machine is shared)."""
    return os.getloadavg()[0]


def access_code(db: Path, name: str, *, admin: bool = False) -> str:
    """A fresh access code for ``name`` (added when missing)."""
    with Project(db, create=False) as project:
        if get_annotator(project, name) is None:
            return add_annotator(project, name, admin=admin)
        return reset_code(project, name)


def data_options(ap: argparse.ArgumentParser) -> None:
    """The options every browser benchmark takes: the data (``--db`` to reuse one, or its size) and ``--rounds``."""
    ap.add_argument("--db", type=Path, default=None, help="reuse or create this database (default: a temp file)")
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--labels", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)


def bench_db(args: argparse.Namespace, prefix: str) -> tuple[Path, Path]:
    """A work folder and the benchmark's database (``--db``, or a new one in the folder), built like
    ``bench_labeling.py`` (50 annotators) when it does not exist yet."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    db: Path = args.db or work / "bench.db"
    if not db.exists():
        t0 = time.perf_counter()
        build(db, args.items, args.labels)
        print(f"built {db}: {args.items:,} items, {args.labels:,} labels in {time.perf_counter() - t0:.1f} s")
    return work, db
