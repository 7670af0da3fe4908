"""Kappa-type coefficients: percent agreement, Cohen's kappa, Scott's pi, Fleiss' kappa, Brennan–Prediger.

All are "observed agreement corrected for chance": ``kappa = (p_o - p_e) / (1 - p_e)``; they differ in the
chance model ``p_e``. Read them as: 1 = perfect agreement, 0 = what chance alone would give, < 0 = worse than
chance. They are undefined (nan + :class:`UndefinedStatisticWarning`) when ``p_e = 1`` (e.g. everyone used a
single category).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._asymptotic import (
    FCE_1969,
    FNL_1979,
    GWET_2014,
    cohen_variance,
    fleiss_h0_variance,
    linearized_variance,
    sqrt_or_nan,
    z_test,
)
from ._bootstrap import SeedLike
from ._multirater import finish, gwet_parts, pa_and_pi
from ._patterns import Patterns, _unique_rows, count_patterns, pair_patterns, pair_table
from ._result import StatResult
from ._validate import Coded, code_ratings, code_vectors
from ._weights import agreement_weights

__all__ = [
    "brennan_prediger",
    "cohen_kappa",
    "fleiss_kappa",
    "fleiss_kappa_from_counts",
    "percent_agreement",
    "ratings_from_contingency_table",
    "scott_pi",
]

_UNDEF = "chance agreement is 1 (all ratings fall in one category) or no item has two ratings"


def ratings_from_contingency_table(table: Any, levels: Sequence[Any] | None = None) -> NDArray[Any]:
    """Expand a k × k contingency table (rows = rater A, columns = rater B) to an (n, 2) items × raters array.

    Examples
    --------
    >>> ratings_from_contingency_table([[2, 1], [0, 1]]).tolist()
    [[0, 0], [0, 0], [0, 1], [1, 1]]
    """
    t = np.asarray(table)
    if t.ndim != 2 or t.shape[0] != t.shape[1]:
        raise ValueError(f"A contingency table must be square (k × k); got shape {t.shape}.")
    if (t < 0).any() or not np.array_equal(t, np.round(t)):
        raise ValueError("A contingency table must hold non-negative whole counts.")
    k = t.shape[0]
    lv = np.arange(k) if levels is None else np.asarray(list(levels), dtype=object)
    if len(lv) != k:
        raise ValueError(f"levels has {len(lv)} entries but the table is {k} × {k}.")
    cells = np.repeat(np.arange(k * k), t.astype(np.int64).ravel())
    return np.column_stack([lv[cells // k], lv[cells % k]])


def _two_raters(ratings: Any, b: Any, levels: Sequence[Any] | None) -> Coded:
    if b is not None:
        coded = code_vectors(ratings, b, levels=levels, names=("rater a", "rater b"))
    else:
        coded = code_ratings(ratings, levels, min_raters=2)
        if coded.n_raters != 2:
            raise ValueError(
                f"This statistic compares exactly two raters: pass an (n_items, 2) matrix or two vectors; "
                "got "
                f"{coded.n_raters} columns. For more raters use fleiss_kappa or krippendorff_alpha."
            )
    return coded


def _pair_stat(rows: NDArray[np.int64], k: int, wmat: NDArray[np.float64], kind: str) -> Any:
    a_hot = np.eye(k)[rows[:, 0]]
    b_hot = np.eye(k)[rows[:, 1]]
    agree = wmat[rows[:, 0], rows[:, 1]]

    def stat(w: NDArray[np.float64]) -> NDArray[np.float64]:
        n = w.sum(axis=1)
        po = (w @ agree) / n
        pa = (w @ a_hot) / n[:, None]
        pb = (w @ b_hot) / n[:, None]
        if kind == "scott":
            pa = pb = (pa + pb) / 2.0
        pe = np.einsum("bi,ij,bj->b", pa, wmat, pb)
        return (po - pe) / (1.0 - pe)

    return stat


def _pairs(ratings: Any, b: Any, levels: Sequence[Any] | None, cluster: Any) -> tuple[Any, Patterns, Any]:
    coded = _two_raters(ratings, b, levels)
    k = coded.n_levels
    if cluster is None:
        # one counting pass over (a + 1, b + 1) keys: no mask, no copy, no sort
        table = pair_table(coded.codes[:, 0], coded.codes[:, 1], k)
        cells = np.flatnonzero(table)
        rows = np.column_stack([cells // k, cells % k]).astype(np.int64)
        return coded, Patterns(rows, table.ravel()[cells].astype(np.float64), None), None
    keep = (coded.codes >= 0).all(axis=1)
    cl = np.asarray(cluster, dtype=object)[keep]
    codes = coded.codes[keep]
    return coded, pair_patterns(codes[:, 0], codes[:, 1], k, need_inverse=True), cl


def cohen_kappa(
    ratings: Any,
    b: Any = None,
    *,
    weights: Any = None,
    levels: Sequence[Any] | None = None,
    ci: bool = False,
    n_boot: int = 1000,
    seed: SeedLike = None,
    ci_method: str = "percentile",
    cluster: Any = None,
    level: float = 0.95,
) -> StatResult:
    """Cohen's kappa (1960) for two raters; weighted kappa (Cohen 1968) with ``weights``.

    Why: two raters (e.g. one human and the judge) agree partly by chance; kappa removes the agreement
    expected if each rater labelled independently with their own category frequencies.

    ``kappa_w = (p_o - p_e) / (1 - p_e)`` with ``p_o = sum_ij w_ij p_ij`` and
    ``p_e = sum_ij w_ij p_i. p_.j``, ``w`` agreement weights (identity for unweighted kappa).

    Parameters
    ----------
    ratings
        (n_items, 2) items × raters matrix, or rater A's labels when ``b`` is given.
    b
        Rater B's labels (same items, same order), optional.
    weights
        ``None``, ``"linear"``, ``"quadratic"`` or a k × k agreement-weight array. Weights use positions in
        the
        DECLARED ``levels``: declaring a level nobody used changes weighted kappa (R ``irr``/scikit-learn use
        observed levels; pass only the observed levels to reproduce them).
    levels
        Ordered categories of the scale.
    ci, n_boot, seed, ci_method, cluster, level
        Bootstrap interval options (see :func:`bootstrap_ci`).

    Notes
    -----
    Items with a missing rating from either rater are dropped (``details["n_dropped"]``).
    Landis & Koch (1977) bands (0.41-0.60 moderate, 0.61-0.80 substantial) are conventions, not tests.

    Examples
    --------
    Cohen (1960, p. 45) table, N = 200; published kappa = .492:

    >>> r = ratings_from_contingency_table([[88, 14, 18], [10, 40, 10], [2, 6, 12]])
    >>> round(cohen_kappa(r).value, 3)
    0.492

    Large-sample standard errors (Fleiss, Cohen & Everitt 1969): ``result.se`` at the estimate and
    ``details["se0"]``, ``["z"]``, ``["p_value"]`` under H0: kappa = 0; ``ci_method="asymptotic"`` for the
    normal interval. SAS PROC FREQ on a 3 × 3 table (n = 19): kappa .4842, ASE .1380, ASE under H0 .1484,
    95% limits .2137 to .7547:

    >>> sas = ratings_from_contingency_table([[0, 4, 1], [0, 8, 0], [0, 1, 5]])
    >>> t = cohen_kappa(sas, ci=True, ci_method="asymptotic")
    >>> round(t.value, 4), round(t.se, 4), round(t.details["se0"], 4)
    (0.4842, 0.138, 0.1484)
    >>> round(t.interval.low, 4), round(t.interval.high, 4)
    (0.2137, 0.7547)
    """
    coded, pat, cl = _pairs(ratings, b, levels, cluster)
    k = coded.n_levels
    wmat = agreement_weights(weights, k)
    stat = _pair_stat(pat.rows, k, wmat, "cohen")
    table = np.zeros((k, k))
    np.add.at(table, (pat.rows[:, 0], pat.rows[:, 1]), pat.freq)
    var, var0 = cohen_variance(table, wmat)
    with np.errstate(divide="ignore", invalid="ignore"):
        point = float(stat(pat.freq[None, :])[0]) if pat.freq.size else float("nan")
    z, p = z_test(point, sqrt_or_nan(var0))
    return finish(
        "cohen_kappa",
        stat,
        pat,
        undefined_reason="expected agreement is 1 (both raters used a single category)",
        ci=ci,
        n_boot=n_boot,
        seed=seed,
        ci_method=ci_method,
        cluster=cl,
        level=level,
        se=lambda _v: (sqrt_or_nan(var), FCE_1969, None),
        weights=weights if isinstance(weights, str) or weights is None else "custom",
        levels=list(coded.levels),
        n_dropped=coded.n_items - pat.n_items,
        se0=sqrt_or_nan(var0),
        z=z,
        p_value=p,
    )


def scott_pi(
    ratings: Any,
    b: Any = None,
    *,
    weights: Any = None,
    levels: Sequence[Any] | None = None,
    ci: bool = False,
    n_boot: int = 1000,
    seed: SeedLike = None,
    ci_method: str = "percentile",
    cluster: Any = None,
    level: float = 0.95,
) -> StatResult:
    """Scott's pi (1955): like Cohen's kappa but chance uses the raters' POOLED category distribution.

    ``p_e = sum_ij w_ij m_i m_j`` with ``m = (p_i. + p_.j) / 2``. Appropriate when raters are interchangeable
    (Artstein & Poesio 2008). Fleiss' kappa is its multi-rater generalisation.

    Examples
    --------
    Artstein & Poesio (2008, p. 558): pi = 0.341.

    >>> r = ratings_from_contingency_table([[20, 10], [20, 50]])
    >>> round(scott_pi(r).value, 3)
    0.341
    """
    coded, pat, cl = _pairs(ratings, b, levels, cluster)
    wmat = agreement_weights(weights, coded.n_levels)
    stat = _pair_stat(pat.rows, coded.n_levels, wmat, "scott")
    return finish(
        "scott_pi",
        stat,
        pat,
        undefined_reason="expected agreement is 1 (a single category was used)",
        ci=ci,
        n_boot=n_boot,
        seed=seed,
        ci_method=ci_method,
        cluster=cl,
        level=level,
        levels=list(coded.levels),
        n_dropped=coded.n_items - pat.n_items,
    )


def _multi(
    name: str,
    ratings: Any,
    levels: Sequence[Any] | None,
    weights: Any,
    chance: str,
    ci: bool,
    n_boot: int,
    seed: SeedLike,
    ci_method: str,
    cluster: Any,
    level: float,
    counts: Any = None,
) -> StatResult:
    if counts is not None:
        c = np.asarray(counts)
        if c.ndim != 2 or (c < 0).any() or not np.array_equal(c, np.round(c)):
            raise ValueError("A counts table must be items × categories of non-negative whole counts.")
        c = c.astype(np.int64)
        k = c.shape[1]
        lv: list[Any] = list(range(k)) if levels is None else list(levels)
        if len(lv) != k:
            raise ValueError(f"levels has {len(lv)} entries but the counts table has {k} category columns.")
        pat = _unique_rows(c, int(c.sum(axis=1).max()) + 1, cluster is not None)
        n_raters: Any = "from counts"
    else:
        from ._validate import code_ratings as _code

        coded = _code(ratings, levels, min_raters=2)
        k = coded.n_levels
        lv = list(coded.levels)
        pat = count_patterns(coded.codes, k, need_inverse=cluster is not None)
        n_raters = coded.n_raters
    wmat = agreement_weights(weights, k)
    parts = gwet_parts(pat.rows, wmat)
    wsum = float(wmat.sum())

    def se(value: float) -> tuple[float, str, float | None]:
        _, pi_b = pa_and_pi(parts, pat.freq[None, :])
        pi = pi_b[0]
        pe_item: NDArray[np.float64] | None
        if chance == "none":
            pe, pe_item = 0.0, None
        elif chance == "fleiss":
            pe = float(pi @ wmat @ pi)
            pe_item = parts["share"] @ ((wmat @ pi + wmat.T @ pi) / 2.0)
        elif chance == "gwet":
            c = wsum / (k * (k - 1)) if k > 1 else float("nan")
            pe = c * float(np.sum(pi * (1.0 - pi)))
            pe_item = c * (parts["share"] @ (1.0 - pi))
        else:
            pe, pe_item = wsum / k**2, None
        var = linearized_variance(pat.freq, parts["one"], parts["pa_item"], parts["two"], pe, pe_item, value)
        n_rated = float(pat.freq @ parts["one"])
        return sqrt_or_nan(var), GWET_2014, n_rated - 1.0

    def stat(w: NDArray[np.float64]) -> NDArray[np.float64]:
        pa, pi = pa_and_pi(parts, w)
        if chance == "none":
            return pa
        if chance == "fleiss":
            pe = np.einsum("bk,kl,bl->b", pi, wmat, pi)
        elif chance == "gwet":
            pe = wsum / (k * (k - 1)) * np.sum(pi * (1.0 - pi), axis=1) if k > 1 else np.full(len(pa), np.nan)
        else:  # brennan-prediger
            pe = np.full(len(pa), wsum / k**2)
        return (pa - pe) / (1.0 - pe)

    res = finish(
        name,
        stat,
        pat,
        undefined_reason=_UNDEF,
        ci=ci,
        n_boot=n_boot,
        seed=seed,
        ci_method=ci_method,
        cluster=cluster,
        level=level,
        se=se,
        levels=lv,
        n_raters=n_raters,
        weights=weights if isinstance(weights, str) or weights is None else "custom",
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        pa, pi = pa_and_pi(parts, pat.freq[None, :])
    extra: dict[str, Any] = {"observed_agreement": float(pa[0])}
    if chance == "fleiss":
        pe = float(np.einsum("bk,kl,bl->b", pi, wmat, pi)[0])
        # per-category kappa (Fleiss 1971 eq. 9, generalised to variable numbers of ratings per item)
        cnt = pat.rows.astype(np.float64)
        r = cnt.sum(axis=1)
        two = r >= 2
        dis = np.where(two[:, None], cnt * (r[:, None] - cnt) / np.where(two, r * (r - 1), 1.0)[:, None], 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean_dis = (pat.freq @ dis) / (pat.freq @ two.astype(np.float64))
            pj = pi[0]
            per_cat = 1.0 - mean_dis / (pj * (1.0 - pj))
        r_items = pat.rows.sum(axis=1)
        rated = r_items > 0
        same_m = rated.any() and np.unique(r_items[rated]).size == 1 and int(r_items[rated][0]) >= 2
        if same_m and weights is None:
            var0 = fleiss_h0_variance(pi[0], int(pat.freq[rated].sum()), int(r_items[rated][0]))
            se0 = sqrt_or_nan(var0)
            z, p = z_test(res.value, se0)
            extra.update(se0=se0, z=z, p_value=p, se0_method=FNL_1979)
        else:
            extra.update(
                se0=float("nan"),
                se0_method=f"{FNL_1979}: needs unweighted kappa and the same number of raters on every item",
            )
        extra.update(
            expected_agreement=pe,
            category_proportions=dict(zip(map(str, lv), pj.tolist(), strict=True)),
            per_category=dict(zip(map(str, lv), per_cat.tolist(), strict=True)),
        )
    elif chance == "gwet":
        extra["expected_agreement"] = float(wsum / (k * (k - 1)) * np.sum(pi * (1 - pi))) if k > 1 else float("nan")
    elif chance == "bp":
        extra["expected_agreement"] = wsum / k**2
    details = {**res.details, **extra}
    return res.model_copy(update={"details": details})


def percent_agreement(
    ratings: Any,
    *,
    weights: Any = None,
    levels: Sequence[Any] | None = None,
    ci: bool = False,
    n_boot: int = 1000,
    seed: SeedLike = None,
    ci_method: str = "percentile",
    cluster: Any = None,
    level: float = 0.95,
) -> StatResult:
    """Observed (pairwise) percent agreement, not corrected for chance.

    For each item with ``r_i ≥ 2`` ratings, the share of agreeing ordered rater pairs
    ``sum_k r_ik (r_ik - 1) / (r_i (r_i - 1))``, averaged over those items (Gwet 2014, with missing ratings;
    for two raters it is the share of items where they agree). Easy to read but inflated when one category
    dominates — report it next to a chance-corrected coefficient.

    Examples
    --------
    Artstein & Poesio (2008, p. 558): A_o = 0.7.

    >>> r = ratings_from_contingency_table([[20, 10], [20, 50]])
    >>> percent_agreement(r).value
    0.7
    """
    return _multi("percent_agreement", ratings, levels, weights, "none", ci, n_boot, seed, ci_method, cluster, level)


def brennan_prediger(
    ratings: Any,
    *,
    weights: Any = None,
    levels: Sequence[Any] | None = None,
    ci: bool = False,
    n_boot: int = 1000,
    seed: SeedLike = None,
    ci_method: str = "percentile",
    cluster: Any = None,
    level: float = 0.95,
) -> StatResult:
    """Brennan & Prediger (1981) coefficient (Bennett et al.'s S): chance = uniform over the k DECLARED
    levels.

    ``p_e = sum(w) / k²`` (``1/k`` unweighted). Insensitive to skewed prevalence, but depends on how many
    levels the scale declares.

    Examples
    --------
    Artstein & Poesio (2008, p. 558): S = 0.4.

    >>> r = ratings_from_contingency_table([[20, 10], [20, 50]])
    >>> brennan_prediger(r).value
    0.4
    """
    return _multi("brennan_prediger", ratings, levels, weights, "bp", ci, n_boot, seed, ci_method, cluster, level)


def fleiss_kappa(
    ratings: Any,
    *,
    weights: Any = None,
    levels: Sequence[Any] | None = None,
    ci: bool = False,
    n_boot: int = 1000,
    seed: SeedLike = None,
    ci_method: str = "percentile",
    cluster: Any = None,
    level: float = 0.95,
) -> StatResult:
    """Fleiss' kappa (1971) for any number of raters, overall and per category.

    ``kappa = (P̄ - P̄_e) / (1 - P̄_e)`` with ``P̄`` the mean pairwise agreement per item and
    ``P̄_e = sum_j p_j²`` (``p_j`` the share of ratings in category j). Items may have different numbers of
    ratings (missing): this is Gwet's (2014) generalisation, identical to Fleiss (1971) for complete data.
    ``weights`` gives the weighted generalisation (Gwet 2014). ``details["per_category"]`` holds
    Fleiss's per-category kappas (eq. 9), telling which categories raters confuse.

    Parameters
    ----------
    ratings
        items × raters matrix (missing = None/NaN). For an items × categories counts table use
        :func:`fleiss_kappa_from_counts`.

    Examples
    --------
    Gwet's ``cac.raw4raters`` (12 units × 4 raters, missing ratings); irrCAC ``fleiss.kappa.raw`` = 0.76117
    (Fleiss 1971's own 30 × 6 example, .430, is in the test suite):

    >>> r = [[1, 1, None, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4],
    ...      [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [None, 5, 5, 5], [None, None, 1, 1],
    ...      [None, None, 3, None]]
    >>> res = fleiss_kappa(r)
    >>> round(res.value, 5), round(res.se, 5)
    (0.76117, 0.15302)

    ``result.se``: Gwet's (2014) linearisation (irrCAC prints se 0.15302 above); ``details["se0"]``/``["z"]``:
    Fleiss, Nee & Landis (1979) under H0 when every item has the same number of ratings (R ``irr`` gives
    z = 17.65183 for Fleiss 1971's 30 × 6 table).
    """
    return _multi("fleiss_kappa", ratings, levels, weights, "fleiss", ci, n_boot, seed, ci_method, cluster, level)


def fleiss_kappa_from_counts(
    counts: Any,
    *,
    weights: Any = None,
    levels: Sequence[Any] | None = None,
    ci: bool = False,
    n_boot: int = 1000,
    seed: SeedLike = None,
    ci_method: str = "percentile",
    cluster: Any = None,
    level: float = 0.95,
) -> StatResult:
    """Fleiss' kappa from an items × categories table of counts (how many raters chose each category).

    Examples
    --------
    Wikipedia "Fleiss' kappa" example (10 subjects, 14 raters): kappa = 0.210.

    >>> c = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    ...      [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    >>> round(fleiss_kappa_from_counts(c).value, 3)
    0.210
    """
    return _multi(
        "fleiss_kappa",
        None,
        levels,
        weights,
        "fleiss",
        ci,
        n_boot,
        seed,
        ci_method,
        cluster,
        level,
        counts=counts,
    )
