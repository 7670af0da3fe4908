"""Shared machinery: turn ratings into patterns and finish a result (point, undefined policy, interval)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._asymptotic import asymptotic_interval
from ._bootstrap import SeedLike, maybe_interval
from ._patterns import Patterns, count_patterns
from ._result import Interval, StatResult, make_result
from ._validate import Coded, check_level, code_ratings
from ._warnings import warn_undefined

WeightedStat = Callable[[NDArray[np.float64]], NDArray[np.float64]]


def coded_patterns(
    ratings: Any, levels: Sequence[Any] | None, cluster: Any, min_raters: int = 2
) -> tuple[Coded, Patterns, Any]:
    """Code ratings and compress them to category-count patterns (keeping the item map for clusters)."""
    coded = code_ratings(ratings, levels, min_raters=min_raters)
    pat = count_patterns(coded.codes, coded.n_levels, need_inverse=cluster is not None)
    return coded, pat, cluster


def finish(
    name: str,
    stat_w: WeightedStat,
    pat: Patterns,
    *,
    undefined_reason: str,
    ci: bool,
    n_boot: int,
    seed: SeedLike,
    ci_method: str,
    cluster: Any,
    level: float,
    se: Callable[[float], tuple[float, str, float | None]] | None = None,
    **details: Any,
) -> StatResult:
    """Point estimate from pattern frequencies; nan + warning if undefined; optional interval.

    ``se(value) -> (standard error, its method, t degrees of freedom or None for normal)`` gives the
    large-sample standard error; ``ci_method="asymptotic"`` turns it into the interval instead of a bootstrap.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        value = float(stat_w(pat.freq[None, :])[0]) if pat.freq.size else float("nan")
    if not np.isfinite(value):
        value = warn_undefined(name, undefined_reason)
        ci = False
    if ci_method == "asymptotic" and se is None:
        raise ValueError(f"{name} has no large-sample standard error here; use ci_method='percentile' or 'bca'.")
    se_value: float | None = None
    if se is not None and np.isfinite(value):
        with np.errstate(divide="ignore", invalid="ignore"):
            se_value, se_method, df = se(value)
        details["se_method"] = se_method
        if df is not None:
            details["se_df"] = df
    if ci and ci_method == "asymptotic":
        check_level(level)
        assert se_value is not None
        interval: Interval | None = asymptotic_interval(value, se_value, level, details.get("se_df"))
        extra: dict[str, float] = {}
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            interval, extra = maybe_interval(stat_w, pat, value, ci, n_boot, seed, ci_method, cluster, level)
    return make_result(name, value, pat.n_items, interval, std_error=se_value, **details, **extra)


def gwet_parts(counts: NDArray[np.int64], wmat: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
    """Per-pattern pieces of Gwet's (2014) multi-rater framework with missing ratings.

    ``pa_item``: weighted pairwise agreement of an item with r_i ≥ 2 ratings,
    ``sum_k r_ik (r*_ik - 1) / (r_i (r_i - 1))`` with ``r*_ik = sum_l w_kl r_il``; ``two``: indicator r_i ≥ 2;
    ``share``: r_ik / r_i (items with ≥ 1 rating); ``one``: indicator r_i ≥ 1.
    """
    c = counts.astype(np.float64)
    r = c.sum(axis=1)
    rstar = c @ wmat.T
    two = r >= 2
    pa_item = np.where(two, (c * (rstar - 1.0)).sum(axis=1) / np.where(two, r * (r - 1.0), 1.0), 0.0)
    one = r >= 1
    share = np.where(one[:, None], c / np.where(one, r, 1.0)[:, None], 0.0)
    return {"pa_item": pa_item, "two": two.astype(np.float64), "share": share, "one": one.astype(np.float64)}


def pa_and_pi(
    parts: dict[str, NDArray[np.float64]], w: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Observed agreement ``pa`` (B,) and category shares ``pi`` (B, k) under pattern weights ``w`` (B, P)."""
    pa = (w @ parts["pa_item"]) / (w @ parts["two"])
    pi = (w @ parts["share"]) / (w @ parts["one"])[:, None]
    return pa, pi
