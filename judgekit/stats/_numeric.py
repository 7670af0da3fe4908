"""Agreement of numeric scores between two raters (a judge and a person, or two people).

Pearson's r (linear association), Lin's concordance correlation (association AND agreement on the line
y = x), the mean absolute error, and the mean bias with Bland-Altman limits of agreement. Pairs with a missing
score are dropped. Every bootstrap resamples items; items with the same (x, y) pair are resampled together
(a multinomial over distinct pairs), so scores on a short scale (1-5, 1-10) cost little at any N.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from scipy import stats as sps

from ._asymptotic import asymptotic_interval
from ._bootstrap import SeedLike, maybe_interval
from ._patterns import Patterns
from ._result import Interval, StatResult, make_result
from ._validate import as_float_vector, check_level
from ._warnings import warn_undefined

__all__ = ["bland_altman", "concordance_correlation", "mean_absolute_error", "pearson"]

FloatArray = NDArray[np.float64]


def _pairs(x: Any, y: Any, cluster: Any) -> tuple[FloatArray, FloatArray, Patterns, Any, int]:
    """Complete (x, y) pairs compressed to distinct pairs (rows ``[x, y]`` as floats in ``xy``)."""
    a = as_float_vector(x, "x")
    b = as_float_vector(y, "y")
    if a.shape != b.shape:
        raise ValueError(f"x and y must have one score per item each; got lengths {a.size} and {b.size}.")
    if np.isinf(a).any() or np.isinf(b).any():
        raise ValueError("Scores contain an infinite value; use NaN or None for a missing score.")
    keep = ~(np.isnan(a) | np.isnan(b))
    xy = np.column_stack([a[keep], b[keep]])
    dropped = int((~keep).sum())
    if xy.shape[0] == 0:
        return xy, np.zeros(0), Patterns(np.zeros((0, 1), np.int64), np.zeros(0), None), None, dropped
    rows, inv, cnt = np.unique(xy, axis=0, return_inverse=True, return_counts=True)
    need = cluster is not None
    pat = Patterns(
        np.arange(rows.shape[0], dtype=np.int64)[:, None], cnt.astype(np.float64), inv.ravel() if need else None
    )
    cl = None if cluster is None else np.asarray(cluster, dtype=object)[keep]
    return rows, xy[:, 0], pat, cl, dropped


def _moments(rows: FloatArray, w: FloatArray) -> tuple[FloatArray, ...]:
    """Weighted n, means, (1/n) variances and covariance of x and y under pattern weights ``w`` (B, P)."""
    x, y = rows[:, 0], rows[:, 1]
    n = w.sum(axis=1)
    mx, my = (w @ x) / n, (w @ y) / n
    vx = (w @ x**2) / n - mx**2
    vy = (w @ y**2) / n - my**2
    cxy = (w @ (x * y)) / n - mx * my
    return n, mx, my, np.maximum(vx, 0.0), np.maximum(vy, 0.0), cxy


def _interval(
    stat_w: Any,
    pat: Patterns,
    value: float,
    ci: bool,
    ci_method: str,
    asym: tuple[float, float] | Interval | None,
    n_boot: int,
    seed: SeedLike,
    cluster: Any,
    level: float,
) -> tuple[Interval | None, dict[str, float]]:
    if not ci or not np.isfinite(value):
        return None, {}
    if ci_method == "asymptotic":
        check_level(level)
        if asym is None:
            raise ValueError("this statistic has no asymptotic interval; use ci_method='percentile' or 'bca'.")
        return (asym if isinstance(asym, Interval) else asymptotic_interval(value, asym[0], level, asym[1])), {}
    with np.errstate(divide="ignore", invalid="ignore"):
        return maybe_interval(stat_w, pat, value, True, n_boot, seed, ci_method, cluster, level)


def pearson(
    x: Any,
    y: Any,
    *,
    ci: bool = False,
    n_boot: int = 1000,
    seed: SeedLike = None,
    ci_method: str = "asymptotic",
    cluster: Any = None,
    level: float = 0.95,
) -> StatResult:
    """Pearson's product-moment correlation r between judge scores ``x`` and human scores ``y``.

    ``r = s_xy / (s_x s_y)``: whether the scores rise together linearly; a judge that adds 2 points to every
    score has r = 1, so read r beside :func:`concordance_correlation` or :func:`bland_altman`.
    ``ci_method="asymptotic"`` (default) is Fisher's z interval ``tanh(atanh(r) ± z / sqrt(n - 3))`` (Fisher
    1921), ``"percentile"``/``"bca"`` a bootstrap of items. ``details["p_value"]`` tests r = 0 (t test).

    Examples
    --------
    >>> round(pearson([1, 2, 3, 4, 5], [2, 4, 5, 4, 5]).value, 4)
    0.7746
    """
    rows, _, pat, cl, dropped = _pairs(x, y, cluster)
    n_items = pat.n_items

    def stat(w: FloatArray) -> FloatArray:
        _, _, _, vx, vy, cxy = _moments(rows, w)
        return cxy / np.sqrt(vx * vy)

    with np.errstate(divide="ignore", invalid="ignore"):
        value = float(stat(pat.freq[None, :])[0]) if n_items >= 2 else float("nan")
    if not np.isfinite(value):
        value = warn_undefined("pearson", "fewer than 2 items or a constant score vector")
        return make_result("pearson", value, n_items, None, n_dropped=dropped)
    value = float(np.clip(value, -1.0, 1.0))
    asym: Interval | None = None
    p = float("nan")
    if n_items >= 3:
        t = value * math.sqrt((n_items - 2) / max(1e-300, 1.0 - value**2)) if abs(value) < 1 else math.inf
        p = float(2 * sps.t.sf(abs(t), n_items - 2))
    if n_items > 3:
        z = float(sps.norm.ppf(0.5 + level / 2))
        h = z / math.sqrt(n_items - 3)
        zr = math.atanh(value) if abs(value) < 1 else math.copysign(math.inf, value)
        asym = Interval(low=math.tanh(zr - h), high=math.tanh(zr + h), level=level, method="asymptotic")
    interval, extra = _interval(stat, pat, value, ci, ci_method, asym, n_boot, seed, cl, level)
    return make_result(
        "pearson", value, n_items, interval, p_value=p, n_dropped=dropped, ci_formula="Fisher z", **extra
    )


def concordance_correlation(
    x: Any,
    y: Any,
    *,
    unbiased: bool = False,
    ci: bool = False,
    n_boot: int = 1000,
    seed: SeedLike = None,
    ci_method: str = "asymptotic",
    cluster: Any = None,
    level: float = 0.95,
) -> StatResult:
    """Lin's (1989) concordance correlation coefficient between judge scores ``x`` and human scores ``y``.

    Why: the question for a numeric judge is whether it gives the SAME scores as people, not merely scores
    that rise with theirs. ``ρ_c`` is 1 only on the line y = x; an offset or a different spread lowers it.

    ``ρ_c = 2 s_xy / (s_x² + s_y² + (x̄ - ȳ)²) = r · C_b`` with moments over n (Lin 1989; ``unbiased=True``
    uses n - 1, the convention of torchmetrics and a few R packages), ``r`` Pearson's correlation (precision)
    and ``C_b`` the bias-correction factor (accuracy), both in ``details`` with the scale shift
    ``v = s_x / s_y`` and location shift ``u = (x̄ - ȳ) / sqrt(s_x s_y)``.

    Interval (``ci_method="asymptotic"``, default): Lin's z-transform, ``atanh(ρ_c) ± z · se_z`` with
    ``se_z² = [(1 - r²) ρ_c² / ((1 - ρ_c²) r²) + 2 ρ_c³ (1 - ρ_c) u² / (r (1 - ρ_c²)²)
    - ρ_c⁴ u⁴ / (2 r² (1 - ρ_c²)²)] / (n - 2)`` (Lin 1989 eq. 3, corrected in Lin 2000), back-transformed;
    ``result.se`` is the standard error of ρ_c itself. McBride (2005): < .90 poor, .90-.95 moderate,
    .95-.99 substantial, > .99 almost perfect (for measurement methods; judges are rarely that good).

    Examples
    --------
    The torchmetrics ``concordance_corrcoef`` docstring example (n - 1 moments) gives 0.9777:

    >>> t, p = [3, -0.5, 2, 7], [2.5, 0.0, 2, 8]
    >>> round(concordance_correlation(p, t, unbiased=True).value, 4)
    0.9777
    >>> round(concordance_correlation(p, t).value, 4)
    0.9768
    """
    rows, _, pat, cl, dropped = _pairs(x, y, cluster)
    n_items = pat.n_items

    def parts(w: FloatArray) -> tuple[FloatArray, ...]:
        n, mx, my, vx, vy, cxy = _moments(rows, w)
        if unbiased:
            f = n / (n - 1)
            vx, vy, cxy = vx * f, vy * f, cxy * f
        return vx, vy, cxy, mx - my

    def stat(w: FloatArray) -> FloatArray:
        vx, vy, cxy, d = parts(w)
        return 2 * cxy / (vx + vy + d**2)

    with np.errstate(divide="ignore", invalid="ignore"):
        value = float(stat(pat.freq[None, :])[0]) if n_items >= 2 else float("nan")
        vx, vy, cxy, d = (float(v[0]) for v in parts(pat.freq[None, :])) if n_items >= 2 else (math.nan,) * 4
    if not np.isfinite(value):
        value = warn_undefined("concordance_correlation", "fewer than 2 items, or both score vectors constant")
        return make_result("concordance_correlation", value, n_items, None, n_dropped=dropped)
    r = cxy / math.sqrt(vx * vy) if vx > 0 and vy > 0 else float("nan")
    u = d / (vx * vy) ** 0.25 if vx > 0 and vy > 0 else float("nan")
    se_rho = se_z = float("nan")
    asym: Interval | None = None
    if n_items > 2 and np.isfinite(r) and r != 0 and abs(value) < 1:
        pc = value
        var_z = (
            (1 - r**2) * pc**2 / ((1 - pc**2) * r**2)
            + 2 * pc**3 * (1 - pc) * u**2 / (r * (1 - pc**2) ** 2)
            - pc**4 * u**4 / (2 * r**2 * (1 - pc**2) ** 2)
        ) / (n_items - 2)
        if var_z >= 0:
            se_z = math.sqrt(var_z)
            se_rho = se_z * (1 - pc**2)
            zq = float(sps.norm.ppf(0.5 + level / 2))
            zt = math.atanh(pc)
            asym = Interval(
                low=math.tanh(zt - zq * se_z), high=math.tanh(zt + zq * se_z), level=level, method="asymptotic"
            )
    interval, extra = _interval(stat, pat, value, ci, ci_method, asym, n_boot, seed, cl, level)
    return make_result(
        "concordance_correlation",
        value,
        n_items,
        interval,
        std_error=se_rho,
        se_method="Lin (1989, 2000) large-sample variance; interval on the z = atanh scale",
        se_z=se_z,
        pearson=r,
        bias_correction=value / r if np.isfinite(r) and r != 0 else float("nan"),
        scale_shift=math.sqrt(vx / vy) if vy > 0 else float("nan"),
        location_shift=u,
        moments="n - 1" if unbiased else "n",
        n_dropped=dropped,
        **extra,
    )


def mean_absolute_error(
    x: Any,
    y: Any,
    *,
    ci: bool = False,
    n_boot: int = 1000,
    seed: SeedLike = None,
    ci_method: str = "percentile",
    cluster: Any = None,
    level: float = 0.95,
) -> StatResult:
    """Mean absolute error ``mean |x - y|`` between judge scores ``x`` and human scores ``y``, in score units.

    Why: the plainest "how far off is the judge" figure, on the scale's own units (0.4 points on a 1-5
    scale). ``ci_method="asymptotic"``: ``MAE ± t · sd(|d|) / sqrt(n)`` (t with n - 1 df); ``"percentile"``
    (default) / ``"bca"``: bootstrap of items. ``result.se`` = ``sd(|d|) / sqrt(n)``.

    Examples
    --------
    The scikit-learn ``mean_absolute_error`` docstring example: 0.5.

    >>> mean_absolute_error([2.5, 0.0, 2, 8], [3, -0.5, 2, 7]).value
    0.5
    """
    rows, _, pat, cl, dropped = _pairs(x, y, cluster)
    n_items = pat.n_items
    absdiff = np.abs(rows[:, 0] - rows[:, 1])

    def stat(w: FloatArray) -> FloatArray:
        return (w @ absdiff) / w.sum(axis=1)

    if n_items == 0:
        value = warn_undefined("mean_absolute_error", "no item has both scores")
        return make_result("mean_absolute_error", value, 0, None, n_dropped=dropped)
    value = float(stat(pat.freq[None, :])[0])
    se = float("nan")
    if n_items >= 2:
        var = float(pat.freq @ (absdiff - value) ** 2) / (n_items - 1)
        se = math.sqrt(var / n_items)
    interval, extra = _interval(stat, pat, value, ci, ci_method, (se, n_items - 1.0), n_boot, seed, cl, level)
    return make_result(
        "mean_absolute_error",
        value,
        n_items,
        interval,
        std_error=se,
        se_method="sd(|x - y|) / sqrt(n); asymptotic interval with t, n - 1 df",
        n_dropped=dropped,
        **extra,
    )


def bland_altman(
    x: Any,
    y: Any,
    *,
    multiplier: float = 1.96,
    level: float = 0.95,
    loa_se: Literal["1999", "1986"] = "1999",
) -> StatResult:
    """Mean bias of judge scores ``x`` against human scores ``y`` with Bland-Altman limits of agreement.

    Why: the bias says whether the judge scores systematically higher (> 0) or lower (< 0) than people; the
    limits of agreement say how far apart a single judge score and a single human score will typically be
    (95% of differences lie within them, if the differences are roughly normal).

    With differences ``d = x - y`` (mean ``d̄``, standard deviation ``s``, n pairs), Bland & Altman (1986):

    * ``value`` = bias ``d̄``, ``result.se = s / sqrt(n)``, ``interval`` = ``d̄ ± t_{n-1} · s / sqrt(n)``;
    * limits of agreement ``d̄ ± multiplier · s`` (1.96 for 95%; the 1986 paper used 2);
    * their confidence intervals ``limit ± t_{n-1} · se_limit`` with ``se_limit = s · sqrt(1/n + m²/(2(n-1)))``
      (Bland & Altman 1999, Stat Methods Med Res 8:135-160, ``loa_se="1999"``, default) or the 1986
      approximation ``s · sqrt(3/n)`` (``loa_se="1986"``, as pingouin's plot).

    ``details``: ``sd``, ``loa_low``, ``loa_high``, ``loa_low_ci``, ``loa_high_ci`` (pairs [low, high]),
    ``loa_se``, ``multiplier``, ``n_dropped``.

    Examples
    --------
    Bland & Altman (1986) PEFR data, Wright vs mini Wright meter (first readings, 17 people): bias -2.1,
    s = 38.8 l/min, SE 9.4, bias CI -22.0 to 17.8; limits (2 s) -2.1 ∓ 2 · 38.8 = -79.7 and 75.5 in the
    paper, which adds the rounded figures (unrounded: -79.65 and 75.41).

    >>> wright = [494, 395, 516, 434, 476, 557, 413, 442, 650, 433, 417, 656, 267, 478, 178, 423, 427]
    >>> mini = [512, 430, 520, 428, 500, 600, 364, 380, 658, 445, 432, 626, 260, 477, 259, 350, 451]
    >>> r = bland_altman(wright, mini, multiplier=2)
    >>> round(r.value, 1), round(r.details["sd"], 1), round(r.se, 1)
    (-2.1, 38.8, 9.4)
    >>> round(r.interval.low, 1), round(r.interval.high, 1)
    (-22.0, 17.8)
    >>> round(r.details["loa_low"], 2), round(r.details["loa_high"], 2)
    (-79.65, 75.41)
    """
    check_level(level)
    if loa_se not in ("1999", "1986"):
        raise ValueError(f"loa_se must be '1999' or '1986'; got {loa_se!r}.")
    if not multiplier > 0:
        raise ValueError(f"multiplier must be positive; got {multiplier}.")
    rows, _, pat, _, dropped = _pairs(x, y, None)
    n = pat.n_items
    if n < 2:
        value = warn_undefined("bland_altman", "fewer than 2 items have both scores")
        return make_result("mean_bias", value, n, None, n_dropped=dropped)
    d = rows[:, 0] - rows[:, 1]
    bias = float(pat.freq @ d) / n
    sd = math.sqrt(float(pat.freq @ (d - bias) ** 2) / (n - 1))
    se = sd / math.sqrt(n)
    t = float(sps.t.ppf(0.5 + level / 2, n - 1))
    se_loa = sd * math.sqrt(3.0 / n) if loa_se == "1986" else sd * math.sqrt(1.0 / n + multiplier**2 / (2.0 * (n - 1)))
    low, high = bias - multiplier * sd, bias + multiplier * sd
    return make_result(
        "mean_bias",
        bias,
        n,
        Interval(low=bias - t * se, high=bias + t * se, level=level, method="asymptotic"),
        std_error=se,
        se_method="s / sqrt(n); t interval, n - 1 df (Bland & Altman 1986)",
        sd=sd,
        multiplier=multiplier,
        loa_low=low,
        loa_high=high,
        loa_se=se_loa,
        loa_se_method="Bland & Altman 1999" if loa_se == "1999" else "Bland & Altman 1986: sqrt(3 s²/n)",
        loa_low_ci=[low - t * se_loa, low + t * se_loa],
        loa_high_ci=[high - t * se_loa, high + t * se_loa],
        direction="x - y (positive: x scores higher)",
        n_dropped=dropped,
    )
