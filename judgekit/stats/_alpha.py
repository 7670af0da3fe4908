"""Krippendorff's alpha for any number of raters, missing data and four levels of measurement."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._bootstrap import SeedLike
from ._multirater import coded_patterns, finish
from ._result import StatResult

__all__ = ["coincidence_matrix", "krippendorff_alpha"]

_LEVELS = ("nominal", "ordinal", "interval", "ratio")


def _contributions(counts: NDArray[np.int64]) -> NDArray[np.float64]:
    """(P, V*V) coincidence contribution of each count pattern: (n n^T - diag n) / (m - 1), m ≥ 2 only."""
    c = counts.astype(np.float64)
    m = c.sum(axis=1)
    scale = np.where(m >= 2, 1.0 / np.where(m >= 2, m - 1.0, 1.0), 0.0)
    v = c.shape[1]
    outer = c[:, :, None] * c[:, None, :]
    outer[:, np.arange(v), np.arange(v)] -= c
    return (outer * scale[:, None, None]).reshape(len(c), v * v)


def coincidence_matrix(ratings: Any, *, levels: Sequence[Any] | None = None) -> NDArray[np.float64]:
    """Krippendorff's coincidence matrix ``o_ck = sum_u (n_uc n_uk - [c = k] n_uc) / (m_u - 1)`` (V × V).

    Examples
    --------
    >>> coincidence_matrix([[1, 1], [1, 2]]).tolist()
    [[2.0, 1.0], [1.0, 0.0]]
    """
    coded, pat, _ = coded_patterns(ratings, levels, None)
    v = coded.n_levels
    return (pat.freq @ _contributions(pat.rows)).reshape(v, v)


def _distance(level: str, values: NDArray[np.float64] | None, v: int) -> NDArray[np.float64] | None:
    if level == "nominal":
        return 1.0 - np.eye(v)
    if level == "ordinal":
        return None  # depends on the marginals, computed per resample
    if values is None:
        raise ValueError(f"level={level!r} needs numeric labels (or numeric declared levels).")
    d = values[:, None] - values[None, :]
    if level == "interval":
        return d**2
    s = values[:, None] + values[None, :]
    if (values < 0).any():
        raise ValueError("level='ratio' needs non-negative values (a ratio scale has a true zero).")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s == 0, 0.0, (d / np.where(s == 0, 1.0, s)) ** 2)


def _custom_distance(distance: Any, levels: tuple[Any, ...]) -> NDArray[np.float64]:
    """(V, V) matrix of ``distance(levels[i], levels[j])`` from a callable or a given matrix, validated."""
    v = len(levels)
    if callable(distance):
        d: NDArray[np.float64] | None = None
        numeric = all(isinstance(x, int | float) and not isinstance(x, bool) for x in levels)
        if numeric:
            vals = np.asarray(levels, dtype=np.float64)
            try:
                out = np.asarray(distance(vals[:, None], vals[None, :]), dtype=np.float64)
                d = out if out.shape == (v, v) else None
            except (TypeError, ValueError):
                d = None
        if d is None:
            d = np.array([[float(distance(a, b)) for b in levels] for a in levels], dtype=np.float64)
    else:
        d = np.asarray(distance, dtype=np.float64)
        if d.shape != (v, v):
            raise ValueError(f"A distance matrix must be {v} × {v} (one row/column per level); got {d.shape}.")
    if not np.isfinite(d).all() or (d < 0).any():
        raise ValueError("The distance function must return finite, non-negative numbers.")
    if not np.allclose(np.diag(d), 0.0):
        raise ValueError("The distance of a value to itself must be 0 (a rater agreeing with itself).")
    if not np.allclose(d, d.T):
        raise ValueError("The distance must be symmetric: distance(a, b) == distance(b, a).")
    return d


def krippendorff_alpha(
    ratings: Any,
    *,
    level: str = "nominal",
    distance: Callable[[Any, Any], float] | NDArray[np.float64] | None = None,
    levels: Sequence[Any] | None = None,
    ci: bool = False,
    n_boot: int = 1000,
    seed: SeedLike = None,
    ci_method: str = "percentile",
    cluster: Any = None,
    ci_level: float = 0.95,
) -> StatResult:
    """Krippendorff's alpha reliability coefficient (Krippendorff 2004, 2011).

    Why: the one coefficient that handles any number of raters, missing ratings and the scale's level of
    measurement, so it is the default "how reliable are the labels" number for human annotation.

    ``alpha = 1 - D_o / D_e = 1 - (n - 1) sum_ck o_ck δ²_ck / sum_ck n_c n_k δ²_ck``,
    with ``o`` the coincidence matrix (pairable values within items), ``n_c`` its marginals, ``n`` the number
    of pairable values and ``δ²`` the distance metric of ``level``:
    nominal ``[c ≠ k]``; ordinal ``(sum_{g=c..k} n_g - (n_c + n_k)/2)²``; interval ``(c - k)²``;
    ratio ``((c - k)/(c + k))²``. Only items with ≥ 2 ratings count.

    Computed as value counts (N × V, bincount) → coincidence matrix (V × V, matrix product) → distances;
    the bootstrap resamples count patterns by multinomial draws (see ``_patterns``).

    Parameters
    ----------
    ratings
        items × raters matrix (rows = items!), missing = None/NaN. Use
        :meth:`RatingMatrix.from_raters_x_items` for raters × items data (e.g. the ``krippendorff`` package's
        ``reliability_data``).
    level
        ``"nominal"``, ``"ordinal"``, ``"interval"`` or ``"ratio"``. Interval/ratio use the numeric label
        values.
    distance
        A user-supplied difference function ``δ²(a, b)`` of two label values (the squared-difference form, as
        the built-in metrics: ``(a - b) ** 2`` is the interval metric), or a (V, V) matrix over the levels.
        It must be 0 on equal values, symmetric and non-negative. Called on the whole grid of levels at
        once when the levels are numbers and it broadcasts, else once per pair of levels. Replaces ``level``
        (``details["measurement_level"] == "custom"``). The ``krippendorff`` package accepts the same idea
        as a callable ``level_of_measurement``.
    levels
        Declared categories (ordered for ordinal); values outside raise ``ValueError``.
    ci, n_boot, seed, ci_method, cluster
        Bootstrap options; ``ci_level`` is the confidence level (``level`` is the measurement level).

    Returns
    -------
    StatResult
        ``details`` has ``observed_disagreement`` D_o, ``expected_disagreement`` D_e, ``n_pairable``.
        Krippendorff (2004): rely on alpha ≥ .800; .667 ≤ alpha < .800 only for tentative conclusions.
        nan (+ :class:`UndefinedStatisticWarning`) when D_e = 0 (a single value used).

    Examples
    --------
    Krippendorff (2011), 4 observers × 12 units with missing data, published alpha = 0.743 (nominal):

    >>> data = [[1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    ...         [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    ...         [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    ...         [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]]
    >>> from judgekit.stats import RatingMatrix
    >>> round(krippendorff_alpha(RatingMatrix.from_raters_x_items(data)).value, 3)
    0.743
    >>> round(krippendorff_alpha(RatingMatrix.from_raters_x_items(data), level="interval").value, 3)
    0.849

    A user-supplied distance: the interval metric written out gives the same published 0.849.

    >>> round(krippendorff_alpha(RatingMatrix.from_raters_x_items(data), distance=lambda a, b: (a - b) ** 2).value, 3)
    0.849
    """
    if level not in _LEVELS:
        raise ValueError(f"level must be one of {_LEVELS}; got {level!r}.")
    if distance is not None and level != "nominal":
        raise ValueError(f"Give either level={level!r} or a distance, not both: a distance defines the metric.")
    coded, pat, cl = coded_patterns(ratings, levels, cluster, min_raters=2)
    v = coded.n_levels
    contrib = _contributions(pat.rows)
    delta = _custom_distance(distance, coded.levels) if distance is not None else _distance(level, coded.values, v)
    ii, jj = np.meshgrid(np.arange(v), np.arange(v), indexing="ij")
    lo, hi = np.minimum(ii, jj), np.maximum(ii, jj)

    def parts(w: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        o = (w @ contrib).reshape(-1, v, v)
        nc = o.sum(axis=2)
        n = nc.sum(axis=1)
        if delta is None:
            cs = np.cumsum(nc, axis=1)
            d = (cs[:, hi] - cs[:, lo] + nc[:, lo] - (nc[:, ii] + nc[:, jj]) / 2.0) ** 2
        else:
            d = np.broadcast_to(delta, o.shape)
        do = np.einsum("bij,bij->b", o, d) / n
        de = np.einsum("bi,bj,bij->b", nc, nc, d) / (n * (n - 1.0))
        return do, de, n

    def stat(w: NDArray[np.float64]) -> NDArray[np.float64]:
        do, de, _ = parts(w)
        return 1.0 - do / de

    with np.errstate(divide="ignore", invalid="ignore"):
        do, de, n = parts(pat.freq[None, :])
    return finish(
        "krippendorff_alpha",
        stat,
        pat,
        undefined_reason="expected disagreement is 0 (one value used, or < 2 pairable values)",
        ci=ci,
        n_boot=n_boot,
        seed=seed,
        ci_method=ci_method,
        cluster=cl,
        level=ci_level,
        measurement_level="custom" if distance is not None else level,
        levels=list(coded.levels),
        observed_disagreement=float(do[0]),
        expected_disagreement=float(de[0]),
        n_pairable=float(n[0]),
    )
