"""Benchmark judgekit.stats against baselines measured in the same run.

Run: .venv/bin/python benchmarks/bench_stats.py [--n 1000000] [--raters 5] [--n-boot 1000] [--repeat 5]

1. Kappa kernels at 10k -> 100k -> 1M pairs, as a ratio to a plain ``np.bincount`` confusion matrix of integer
   codes (the floor: one counting pass): already-coded input (:class:`Coded`), integer labels, float labels with
   NaN, string labels.
2. ``pair_kappas`` (10 rater pairs, one shared bootstrap of B resamples) at 10k -> 100k -> 1M items, with the
   per-item cost, against a loop of ``cohen_kappa`` calls over index resamples (the previous way, measured on
   a few resamples and scaled).
3. Krippendorff's alpha against the ``krippendorff`` package (equal results to 1e-12 asserted).

Every figure is best-of-N with the spread (max/min) and the load average beside it: the machine is shared.
No timing assertion.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import warnings
from collections.abc import Callable
from typing import Any

import krippendorff
import numpy as np

from judgekit import stats as js


def _t(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(best seconds, spread = worst / best, last output)."""
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), max(times) / min(times), out


def _load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def _labels(n: int, raters: int, k: int, rng: np.random.Generator) -> np.ndarray:
    truth = rng.integers(0, k, n)
    return np.where(rng.random((n, raters)) < 0.7, truth[:, None], rng.integers(0, k, (n, raters)))


def bench_kappa_kernels(repeat: int) -> None:
    print("\n== Cohen's kappa vs a plain np.bincount confusion matrix (ratio = kernel / bincount, same run) ==")
    rng = np.random.default_rng(0)
    k = 5
    for n in (10_000, 100_000, 1_000_000):
        codes = _labels(n, 2, k, rng)
        tb, sb, _ = _t(lambda c=codes: np.bincount(c[:, 0] * k + c[:, 1], minlength=k * k), repeat)
        coded = js.Coded.from_codes(codes, list(range(k)))
        floats = (codes + 1).astype(float)
        floats[rng.random(n) < 0.05, 1] = np.nan
        strings = np.array(["a", "b", "c", "d", "e"], dtype=object)[codes]
        rows = [
            ("Coded (codes, -1 missing)", lambda c=coded: js.cohen_kappa(c)),
            ("integer labels", lambda c=codes + 1: js.cohen_kappa(c)),
            ("float labels, 5% NaN", lambda f=floats: js.cohen_kappa(f)),
            ("float labels + levels", lambda f=floats: js.cohen_kappa(f, levels=[1, 2, 3, 4, 5])),
            ("string labels + levels", lambda s=strings: js.cohen_kappa(s, levels=list("abcde"))),
        ]
        print(f"n={n:>9,}  bincount {tb * 1e3:8.2f} ms (spread {sb:.2f})  {_load()}")
        for name, fn in rows:
            tk, sk, _ = _t(fn, repeat)
            print(f"    {name:28s} {tk * 1e3:8.2f} ms  ratio {tk / tb:6.2f}x  (spread {sk:.2f})")


def bench_pair_kappas(n_boot: int, repeat: int) -> None:
    print(f"\n== pair_kappas: 10 pairs (3 annotators, 2 judges), {n_boot} shared resamples ==")
    rng = np.random.default_rng(1)
    pairs = [(0, 1), (0, 2), (1, 2), (3, 0), (3, 1), (3, 2), (4, 0), (4, 1), (4, 2), (3, 4)]
    per_item = {}
    for n in (10_000, 100_000, 1_000_000):
        codes = _labels(n, 5, 3, rng)
        codes[rng.random((n, 5)) < 0.05] = -1
        coded = js.Coded.from_codes(codes, ["a", "b", "c"])
        tk, sk, res = _t(lambda c=coded: js.pair_kappas(c, pairs, n_boot=n_boot, seed=0), repeat)
        per_item[n] = tk / n
        # the previous way: one cohen_kappa per pair per index resample (3 resamples measured, scaled to B)
        ridx = np.random.default_rng(2).integers(0, n, (3, n))

        def loop(c: np.ndarray = codes, idx: np.ndarray = ridx) -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for ix in idx:
                    sub = c[ix]
                    for i, j in pairs:
                        both = (sub[:, i] >= 0) & (sub[:, j] >= 0)
                        js.cohen_kappa(sub[both][:, [i, j]], levels=[0, 1, 2])

        tl, sl, _ = _t(loop, max(1, repeat // 2))
        tl_b = tl / 3 * n_boot
        lo, hi = np.nanpercentile(res.boot[:, 0], [2.5, 97.5])
        print(
            f"n={n:>9,}  pair_kappas {tk:7.3f} s (spread {sk:.2f})  loop of cohen_kappa ~{tl_b:8.1f} s "
            f"(spread {sl:.2f})  ratio {tl_b / tk:7.0f}x  pair0 {res.value[0]:.3f} [{lo:.3f}, {hi:.3f}]  {_load()}"
        )
    base = per_item[10_000]
    print("    per-item cost relative to 10k: " + ", ".join(f"{n:,}: {v / base:.3f}" for n, v in per_item.items()))


def bench_alpha(n: int, raters: int, n_boot: int) -> None:
    print(f"\n== Krippendorff's alpha vs the krippendorff package, {n:,} items x {raters} raters, 10% missing ==")
    rng = np.random.default_rng(0)
    x = rng.integers(1, 6, (n, raters)).astype(float)
    x[rng.random(x.shape) < 0.1] = np.nan
    for level in ("nominal", "ordinal", "interval"):
        tb, _sb, base = _t(lambda lv=level: krippendorff.alpha(reliability_data=x.T, level_of_measurement=lv), 2)
        to, _so, ours = _t(lambda lv=level: js.krippendorff_alpha(x, level=lv).value, 2)
        assert abs(ours - base) < 1e-12, (level, ours, base)
        tboot, _, res = _t(lambda lv=level: js.krippendorff_alpha(x, level=lv, ci=True, n_boot=n_boot, seed=0), 2)
        print(
            f"alpha[{level:8s}] krippendorff={tb:.3f}s judgekit={to:.3f}s speedup={tb / to:.1f}x | "
            f"{n_boot} bootstrap resamples={tboot:.3f}s = {tboot / tb:.2f}x one krippendorff alpha "
            f"[{res.interval.low:.4f}, {res.interval.high:.4f}]  {_load()}"
        )
    tf, _, _ = _t(lambda: js.fleiss_kappa(x).value, 2)
    tfb, _, _ = _t(lambda: js.fleiss_kappa(x, ci=True, n_boot=n_boot, seed=0), 2)
    print(f"fleiss_kappa={tf:.3f}s (+{n_boot} boot {tfb:.3f}s)  {_load()}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000, help="items for the alpha comparison")
    ap.add_argument("--raters", type=int, default=5)
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5, help="best of N for the kernel timings")
    args = ap.parse_args()
    print(f"cores {os.cpu_count()}  {_load()}")
    bench_kappa_kernels(args.repeat)
    bench_pair_kappas(args.n_boot, max(2, args.repeat // 2))
    bench_alpha(args.n, args.raters, args.n_boot)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MiB (includes the krippendorff baseline and the input)")


if __name__ == "__main__":
    main()
