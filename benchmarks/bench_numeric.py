"""Cost of the numeric figures of one interval scale as the items grow (10k -> 100k items x 3 annotators, a judge
scoring on a continuum), against a baseline measured in the same run: the plain numpy point figures (Pearson's r
and the MAE against the mean score, the three pairwise MAEs), no intervals, no design choice.

    python benchmarks/bench_numeric.py [--sizes 10000 100000] [--repeat 3]

Prints best-of-N seconds with the spread, the ratio to the baseline and the per-item cost ratio between sizes
(linear cost: about 1), with the load average beside them: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from itertools import combinations

import numpy as np

from judgekit.agreement import TrustCriteria
from judgekit.agreement.numeric import _versus_annotators, _versus_reference, human_numeric_ceiling


def _data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, 6, n).astype(float)
    people = np.clip(truth[:, None] + rng.integers(-1, 2, (n, 3)), 1, 5)
    judge = np.clip(truth + rng.normal(0.2, 0.7, n), 1, 5).round(2)
    return people, judge


def _figures(people: np.ndarray, judge: np.ndarray, c: TrustCriteria) -> None:
    names = ["a", "b", "c"]
    _, _, mae, _ = human_numeric_ceiling(people, names, c)
    ref = people.mean(axis=1)
    _versus_reference(judge, ref, c)
    _versus_annotators(people, judge, names, mae, c)


def _baseline(people: np.ndarray, judge: np.ndarray) -> None:
    ref = people.mean(axis=1)
    np.corrcoef(judge, ref)
    np.abs(judge - ref).mean()
    for i, j in combinations(range(3), 2):
        np.abs(people[:, i] - people[:, j]).mean()


def _best(fn: Callable[[], None], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), max(times) - min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    c = TrustCriteria()
    per_item: list[float] = []
    for n in args.sizes:
        people, judge = _data(n)
        base, base_spread = _best(lambda p=people, j=judge: _baseline(p, j), args.repeat)
        t, spread = _best(lambda p=people, j=judge: _figures(p, j, c), args.repeat)
        per_item.append(t / n)
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"n={n:>7}: numeric figures {t:.3f} s (spread {spread:.3f}), baseline {base:.4f} s "
            f"(spread {base_spread:.4f}), ratio {t / base:.0f}x; load {load}"
        )
    if len(per_item) > 1:
        print(f"per-item cost at {args.sizes[-1]} / at {args.sizes[0]}: {per_item[-1] / per_item[0]:.2f}")


if __name__ == "__main__":
    main()
