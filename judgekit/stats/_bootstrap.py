"""Bootstrap confidence intervals: percentile and BCa, item or cluster resampling, reproducible seeds.

Two engines share one interval computation:

* :func:`bootstrap_ci` — generic: resample rows of the data arrays and call any statistic function.
* ``weighted_bootstrap`` (internal) — for statistics written as functions of item (pattern) weights: a
resample
  is a multinomial vector of pattern counts, so no data is copied (see ``_patterns``). It is *exactly* the
  same
  distribution as resampling items: the counts of each pattern in a with-replacement sample of N items are
  Multinomial(N, pattern frequencies / N).

References: Efron & Tibshirani (1993) *An Introduction to the Bootstrap*, ch. 13-14; Efron (1987) "Better
bootstrap confidence intervals", JASA 82:171-185 (BCa, jackknife acceleration); Field & Welsh (2007)
"Bootstrapping clustered data", JRSS-B 69:369-390 (resampling whole clusters).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse
from scipy.special import ndtr, ndtri

from ._patterns import Patterns
from ._result import Interval, StatResult, make_result
from ._validate import check_level

__all__ = ["SeedLike", "bootstrap_ci", "weighted_bootstrap"]

SeedLike = int | np.random.Generator | None
WeightedStat = Callable[[NDArray[np.float64]], NDArray[np.float64]]
_CHUNK = 256
_CELLS = 4_000_000


def _rng(seed: SeedLike) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _check_method(method: str, n_boot: int) -> None:
    if method not in ("percentile", "bca"):
        raise ValueError(f"ci_method must be 'percentile' or 'bca'; got {method!r}.")
    if n_boot < 2:
        raise ValueError(f"n_boot must be at least 2; got {n_boot}.")


def _cluster_codes(cluster: Any, n: int) -> tuple[NDArray[np.int64], int]:
    arr = np.asarray(cluster.to_numpy() if isinstance(cluster, pd.Series) else cluster, dtype=object)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"cluster must give one group key per item ({n} items); got shape {arr.shape}.")
    if pd.isna(arr).any():
        raise ValueError("cluster contains a missing group key; every item needs a cluster.")
    codes, uniques = pd.factorize(arr)
    return codes.astype(np.int64), len(uniques)


def interval_from_samples(
    boot: NDArray[np.float64],
    theta: float,
    method: str,
    level: float,
    jack: NDArray[np.float64] | None = None,
    jack_w: NDArray[np.float64] | None = None,
) -> Interval:
    """Percentile or BCa interval from bootstrap replicates (nan replicates are dropped and counted)."""
    valid = boot[np.isfinite(boot)]
    n_boot = int(boot.size)
    if valid.size < 2 or not np.isfinite(theta):
        return Interval(low=float("nan"), high=float("nan"), level=level, method=method, n_boot=n_boot, n_valid=0)
    alpha = (1.0 - level) / 2.0
    qs = np.array([alpha, 1.0 - alpha])
    if method == "bca" and jack is not None:
        ok = np.isfinite(jack)
        jw = np.ones_like(jack) if jack_w is None else jack_w
        j, w = jack[ok], jw[ok]
        prop = (np.sum(valid < theta) + 0.5 * np.sum(valid == theta)) / valid.size
        z0 = float(ndtri(np.clip(prop, 1.0 / (valid.size + 1), 1 - 1.0 / (valid.size + 1))))
        mean = np.sum(w * j) / np.sum(w)
        d = mean - j
        den = 6.0 * np.sum(w * d**2) ** 1.5
        a = float(np.sum(w * d**3) / den) if den > 0 else 0.0
        z = ndtri(qs)
        qs = ndtr(z0 + (z0 + z) / (1 - a * (z0 + z)))
    lo, hi = np.quantile(valid, qs)
    return Interval(low=float(lo), high=float(hi), level=level, method=method, n_boot=n_boot, n_valid=int(valid.size))


def weighted_bootstrap(
    stat_w: WeightedStat,
    pat: Patterns,
    theta: float,
    *,
    n_boot: int = 1000,
    seed: SeedLike = None,
    method: str = "percentile",
    level: float = 0.95,
    cluster: Any = None,
) -> tuple[Interval, NDArray[np.float64]]:
    """Bootstrap a pattern-weighted statistic; ``cluster`` (one key per item) resamples whole clusters."""
    _check_method(method, n_boot)
    check_level(level)
    rng = _rng(seed)
    n = pat.n_items
    p = pat.freq.size
    M: sparse.csr_matrix | None = None
    g = 0
    if cluster is not None:
        if pat.inverse is None:
            raise ValueError("Internal error: cluster bootstrap needs the item → pattern map.")
        cc, g = _cluster_codes(cluster, n)
        M = sparse.csr_matrix((np.ones(n), (cc, pat.inverse)), shape=(g, p))
    boot = np.empty(n_boot)
    chunk = max(1, min(_CHUNK, _CELLS // max(p, 1)))  # at most _CELLS weights held at once
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for start in range(0, n_boot, chunk):
            b = min(chunk, n_boot - start)
            if M is None:
                w = rng.multinomial(n, pat.freq / n, size=b).astype(np.float64)
            else:
                mult = rng.multinomial(g, np.full(g, 1.0 / g), size=b).astype(np.float64)
                w = np.asarray((M.T @ mult.T).T)
            boot[start : start + b] = stat_w(w)
        jack = jack_w = None
        if method == "bca":
            if M is None:
                jack = np.empty(p)
                for s in range(0, p, _CHUNK):
                    e = min(p, s + _CHUNK)
                    w = np.repeat(pat.freq[None, :], e - s, axis=0)
                    w[np.arange(e - s), np.arange(s, e)] -= 1.0
                    jack[s:e] = stat_w(w)
                jack_w = pat.freq
            else:
                jack = np.empty(g)
                for s in range(0, g, _CHUNK):
                    e = min(g, s + _CHUNK)
                    jack[s:e] = stat_w(pat.freq[None, :] - M[s:e].toarray())
    return interval_from_samples(boot, theta, method, level, jack, jack_w), boot


def _take(x: Any, idx: NDArray[np.int64]) -> Any:
    if isinstance(x, pd.DataFrame | pd.Series):
        return x.iloc[idx]
    return x[idx]


def bootstrap_ci(
    statistic_fn: Callable[..., Any],
    *data: Any,
    n_boot: int = 1000,
    seed: SeedLike = None,
    method: str = "percentile",
    cluster: Any = None,
    level: float = 0.95,
) -> StatResult:
    """Bootstrap confidence interval of any statistic by resampling items (rows) with replacement.

    Why: a point estimate of agreement on a few hundred items can be far from the truth; the interval says
    how far. All ``data`` arrays are resampled with the same row indices (paired), so a statistic of two
    judges
    on the same items keeps their pairing.

    Parameters
    ----------
    statistic_fn
        Called as ``statistic_fn(*resampled_data)``; returns a float or a :class:`StatResult`.
    *data
        Arrays / DataFrames with one row per item (same number of rows).
    n_boot, seed
        Number of resamples; ``seed`` (int or ``numpy.random.Generator``) makes the interval reproducible.
    method
        ``"percentile"`` or ``"bca"`` (bias-corrected and accelerated, Efron 1987; acceleration from the
        leave-one-out jackknife, or leave-one-cluster-out when ``cluster`` is given).
    cluster
        Optional group key per item: whole clusters are resampled (items in a cluster are not independent,
        e.g. several responses to the same prompt).
    level
        Confidence level.

    Returns
    -------
    StatResult
        ``value`` is the statistic on the full data; ``interval`` the bootstrap interval; ``details`` has the
        bootstrap standard error ``se`` and ``bias``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(20.0)
    >>> r = bootstrap_ci(np.mean, x, n_boot=200, seed=0)
    >>> r.value
    9.5
    >>> bool(r.interval.low < 9.5 < r.interval.high)
    True
    """
    _check_method(method, n_boot)
    check_level(level)
    if not data:
        raise ValueError("bootstrap_ci needs at least one data array.")
    arrs = [d if isinstance(d, pd.DataFrame | pd.Series) else np.asarray(d) for d in data]
    n = len(arrs[0])
    if any(len(a) != n for a in arrs):
        raise ValueError(f"All data arrays must have one row per item; got lengths {[len(a) for a in arrs]}.")

    def call(idx: NDArray[np.int64] | None) -> float:
        args = arrs if idx is None else [_take(a, idx) for a in arrs]
        out = statistic_fn(*args)
        return float(out.value if isinstance(out, StatResult) else out)

    theta = call(None)
    rng = _rng(seed)
    groups: list[NDArray[np.int64]] | None = None
    if cluster is not None:
        cc, g = _cluster_codes(cluster, n)
        order = np.argsort(cc, kind="stable")
        bounds = np.searchsorted(cc[order], np.arange(g + 1))
        groups = [order[bounds[i] : bounds[i + 1]] for i in range(g)]
    boot = np.empty(n_boot)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for b in range(n_boot):
            if groups is None:
                idx = rng.integers(0, n, n)
            else:
                pick = rng.integers(0, len(groups), len(groups))
                idx = np.concatenate([groups[i] for i in pick])
            boot[b] = call(idx)
        jack = None
        if method == "bca":
            if groups is None:
                allidx = np.arange(n)
                jack = np.array([call(np.delete(allidx, i)) for i in range(n)])
            else:
                jack = np.array(
                    [call(np.concatenate([gr for j, gr in enumerate(groups) if j != i])) for i in range(len(groups))]
                )
    interval = interval_from_samples(boot, theta, method, level, jack)
    valid = boot[np.isfinite(boot)]
    return make_result(
        "bootstrap",
        theta,
        n,
        interval,
        se=float(np.std(valid, ddof=1)) if valid.size > 1 else float("nan"),
        bias=float(np.mean(valid) - theta) if valid.size else float("nan"),
    )


def maybe_interval(
    stat_w: WeightedStat,
    pat: Patterns,
    theta: float,
    ci: bool,
    n_boot: int,
    seed: SeedLike,
    ci_method: str,
    cluster: Any,
    level: float,
) -> tuple[Interval | None, dict[str, float]]:
    """Helper for metric functions: the interval (or None) plus bootstrap se for ``details``."""
    if not ci:
        return None, {}
    interval, boot = weighted_bootstrap(
        stat_w, pat, theta, n_boot=n_boot, seed=seed, method=ci_method, level=level, cluster=cluster
    )
    valid = boot[np.isfinite(boot)]
    return interval, {"boot_se": float(np.std(valid, ddof=1)) if valid.size > 1 else float("nan")}
