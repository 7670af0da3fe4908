"""Comparing judges and placing a judge against the human ceiling."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import combinations
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from ._alpha import krippendorff_alpha
from ._bootstrap import SeedLike, weighted_bootstrap
from ._kappa import cohen_kappa, fleiss_kappa
from ._patterns import _unique_rows
from ._result import StatResult, make_result
from ._validate import _as_2d, code_ratings
from ._warnings import warn_undefined
from ._weights import agreement_weights

__all__ = ["alpha_with_judge", "human_ceiling", "mcnemar", "paired_bootstrap_difference"]


def mcnemar(
    correct_a: Any,
    correct_b: Any,
    *,
    method: Literal["exact", "chi2"] = "exact",
    correction: bool = True,
    exact: bool | None = None,
) -> StatResult:
    """McNemar's test (1947) that two judges have the same accuracy on the same items.

    Why: two judges graded on the same items are paired; only the items where exactly one of them is right
    (discordant pairs) carry information about which is better.

    With ``b`` = A right & B wrong and ``c`` = A wrong & B right, under H0 ``b ~ Binomial(b + c, 1/2)``:

    * ``method="exact"`` (default, as statsmodels ``mcnemar(exact=True)``): the two-sided exact binomial
      p-value ``min(1, 2 · P(X ≤ min(b, c)))``, ``X ~ Bin(b + c, 1/2)``; the p-value papers publish;
    * ``method="chi2"``: the large-sample approximation ``(|b - c| - 1)² / (b + c)`` on 1 degree of freedom
      (Edwards' 1948 continuity correction; ``correction=False`` drops the ``- 1``).

    ``value`` is the p-value; ``details`` say which test was used (``method``, ``test``), and give the
    statistic, ``b``, ``c`` and ``accuracy_difference`` = acc_A - acc_B.

    Parameters
    ----------
    correct_a, correct_b
        0/1 (or bool) per item: was judge A / B right. Items missing either are dropped.
    method
        ``"exact"`` or ``"chi2"``.
    correction
        Continuity correction for ``"chi2"``.
    exact
        Legacy spelling: ``True`` = ``"exact"``, ``False`` = ``"chi2"``.

    Examples
    --------
    b = 6, c = 0 (A right on 6 items where B is wrong, never the reverse): exact p = 2 · 0.5⁶ = 0.03125.

    >>> r = mcnemar([1] * 10 + [0] * 2, [1] * 4 + [0] * 8)
    >>> round(r.value, 5), r.details["method"]
    (0.03125, 'exact')
    """
    from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar

    if exact is not None:
        legacy: Literal["exact", "chi2"] = "exact" if exact else "chi2"
        if method != "exact" and method != legacy:
            raise ValueError(f"mcnemar: exact={exact} contradicts method={method!r}; pass only method=.")
        method = legacy
    if method not in ("exact", "chi2"):
        raise ValueError(f"mcnemar: method must be 'exact' or 'chi2'; got {method!r}.")
    a = np.asarray(correct_a, dtype=float)
    b = np.asarray(correct_b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"correct_a and correct_b must be 1-D with one entry per item; got {a.shape}, {b.shape}.")
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    if not (np.isin(a, (0, 1)).all() and np.isin(b, (0, 1)).all()):
        raise ValueError("correct_a and correct_b must be 0/1 (or True/False).")
    table = np.array(
        [
            [np.sum((a == 1) & (b == 1)), np.sum((a == 1) & (b == 0))],
            [np.sum((a == 0) & (b == 1)), np.sum((a == 0) & (b == 0))],
        ]
    )
    use_exact = method == "exact"
    res = sm_mcnemar(table, exact=use_exact, correction=correction)
    test = (
        "exact binomial, two-sided"
        if use_exact
        else f"chi-square, 1 df{', continuity-corrected' if correction else ''} (large-sample approximation)"
    )
    return make_result(
        "mcnemar",
        float(res.pvalue),
        int(a.size),
        None,
        method=method,
        test=test,
        statistic=float(res.statistic),
        exact=use_exact,
        a_right_b_wrong=int(table[0, 1]),
        a_wrong_b_right=int(table[1, 0]),
        accuracy_difference=float(a.mean() - b.mean()) if a.size else float("nan"),
    )


def _kappa_stat(rows: NDArray[np.int64], k: int, wmat: NDArray[np.float64], j: int) -> Callable[..., Any]:
    eye = np.eye(k)
    ref, jud = eye[rows[:, 0]], eye[rows[:, j]]
    agree = wmat[rows[:, 0], rows[:, j]]

    def stat(w: NDArray[np.float64]) -> NDArray[np.float64]:
        n = w.sum(axis=1)
        po = (w @ agree) / n
        pe = np.einsum("bi,ij,bj->b", (w @ ref) / n[:, None], wmat, (w @ jud) / n[:, None])
        return (po - pe) / (1 - pe)

    return stat


def paired_bootstrap_difference(
    reference: Any,
    judge_a: Any,
    judge_b: Any,
    *,
    metric: str | Callable[[Any, Any], float] = "cohen_kappa",
    weights: Any = None,
    levels: Sequence[Any] | None = None,
    n_boot: int = 2000,
    seed: SeedLike = None,
    ci_method: str = "percentile",
    cluster: Any = None,
    level: float = 0.95,
) -> StatResult:
    """Difference in agreement with a reference, judge A minus judge B, with a PAIRED bootstrap interval.

    Why: two judges scored on the same items are correlated; resampling items jointly (the same indices for
    both) gives a much tighter, honest interval for the difference than two separate intervals.

    ``metric``: ``"cohen_kappa"`` (with ``weights``/``levels``), ``"accuracy"``, or a callable
    ``f(reference, judge) -> float`` (slower, generic resampling). The interval excluding 0 means the
    difference is unlikely to be resampling noise. Items missing any of the three labels are dropped.

    Examples
    --------
    >>> ref = [0, 1, 1, 0, 1, 0, 1, 1, 0, 0] * 5
    >>> worse = [1 - v for v in ref[:25]] + ref[25:]
    >>> r = paired_bootstrap_difference(ref, ref, worse, metric="accuracy", seed=0)
    >>> r.value
    0.5
    """
    if callable(metric):
        from ._bootstrap import bootstrap_ci

        res = bootstrap_ci(
            lambda r, a, b: metric(r, a) - metric(r, b),
            np.asarray(reference, dtype=object),
            np.asarray(judge_a, dtype=object),
            np.asarray(judge_b, dtype=object),
            n_boot=n_boot,
            seed=seed,
            method=ci_method,
            cluster=cluster,
            level=level,
        )
        return res.model_copy(update={"name": "paired_difference"})
    if metric not in ("cohen_kappa", "accuracy"):
        raise ValueError(f"metric must be 'cohen_kappa', 'accuracy' or a callable; got {metric!r}.")
    coded = code_ratings(
        np.column_stack([np.asarray(x, dtype=object) for x in (reference, judge_a, judge_b)]),
        levels,
        min_raters=3,
    )
    keep = (coded.codes >= 0).all(axis=1)
    codes = coded.codes[keep]
    k = coded.n_levels
    pat = _unique_rows(codes, k, need_inverse=cluster is not None)
    wmat = agreement_weights(weights if metric == "cohen_kappa" else None, k)
    if metric == "cohen_kappa":
        fa, fb = _kappa_stat(pat.rows, k, wmat, 1), _kappa_stat(pat.rows, k, wmat, 2)
    else:
        ea = (pat.rows[:, 0] == pat.rows[:, 1]).astype(float)
        eb = (pat.rows[:, 0] == pat.rows[:, 2]).astype(float)

        def fa(w: NDArray[np.float64]) -> NDArray[np.float64]:
            return (w @ ea) / w.sum(axis=1)

        def fb(w: NDArray[np.float64]) -> NDArray[np.float64]:
            return (w @ eb) / w.sum(axis=1)

    def diff(w: NDArray[np.float64]) -> NDArray[np.float64]:
        return fa(w) - fb(w)

    cl = None if cluster is None else np.asarray(cluster, dtype=object)[keep]
    with np.errstate(divide="ignore", invalid="ignore"):
        f = pat.freq[None, :]
        va, vb = float(fa(f)[0]), float(fb(f)[0])
        value = va - vb
        if not np.isfinite(value):
            value = warn_undefined("paired difference", "an agreement value is undefined")
            interval = None
        else:
            interval, boot = weighted_bootstrap(
                diff, pat, value, n_boot=n_boot, seed=seed, method=ci_method, level=level, cluster=cl
            )
    p_two = float("nan")
    if interval is not None:
        valid = boot[np.isfinite(boot)]
        p_two = min(1.0, 2.0 * float(min(np.mean(valid <= 0), np.mean(valid >= 0)))) if valid.size else float("nan")
    return make_result(
        "paired_difference",
        value,
        pat.n_items,
        interval,
        metric=metric,
        value_a=va,
        value_b=vb,
        bootstrap_p_value=p_two,
    )


def human_ceiling(
    human_ratings: Any,
    judge: Any = None,
    *,
    level: str = "nominal",
    weights: Any = None,
    levels: Sequence[Any] | None = None,
) -> StatResult:
    """How much humans agree with each other (the ceiling), and how the judge compares.

    Why: a judge-human kappa of 0.6 is excellent if humans agree with each other at 0.55, and poor if they
    agree at 0.9. Reports pairwise Cohen's kappa for every annotator pair, Krippendorff's alpha and Fleiss'
    kappa over all annotators, and (with ``judge``) the judge's kappa against each annotator, the mean of
    those, and :func:`alpha_with_judge`. ``value`` is the mean pairwise human-human kappa.

    Parameters
    ----------
    human_ratings
        items × annotators matrix (missing allowed; pairs are computed on items both rated).
    judge
        optional judge label per item.

    Examples
    --------
    >>> h = [[1, 1], [0, 0], [1, 0], [1, 1], [0, 0], [0, 1]]
    >>> round(human_ceiling(h).value, 3)
    0.333
    """
    arr = _as_2d(human_ratings)
    coded = code_ratings(
        arr if judge is None else np.column_stack([arr.astype(object), np.asarray(judge, dtype=object)]),
        levels,
        min_raters=2,
    )
    lv = list(coded.levels)
    m = arr.shape[1]
    hum = arr
    pairs: dict[str, float] = {}
    import warnings

    from ._warnings import UndefinedStatisticWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedStatisticWarning)
        for i, j in combinations(range(m), 2):
            pairs[f"{i}-{j}"] = cohen_kappa(hum[:, [i, j]], weights=weights, levels=lv).value
        details: dict[str, Any] = {
            "pairwise_kappa": pairs,
            "alpha": krippendorff_alpha(hum, level=level, levels=lv).value,
            "fleiss_kappa": fleiss_kappa(hum, weights=weights, levels=lv).value,
        }
        if judge is not None:
            jv = np.asarray(judge, dtype=object)
            jk = {
                str(i): cohen_kappa(np.column_stack([hum[:, i].astype(object), jv]), weights=weights, levels=lv).value
                for i in range(m)
            }
            details["judge_vs_human_kappa"] = jk
            details["judge_mean_kappa"] = float(np.nanmean(list(jk.values())))
            details["alpha_with_judge"] = alpha_with_judge(hum, judge, level=level, levels=lv).details
    vals = np.array(list(pairs.values()), dtype=float)
    mean = float(np.nanmean(vals)) if np.isfinite(vals).any() else warn_undefined("human ceiling", "no defined pair")
    details["min_pairwise_kappa"] = float(np.nanmin(vals)) if np.isfinite(vals).any() else float("nan")
    details["max_pairwise_kappa"] = float(np.nanmax(vals)) if np.isfinite(vals).any() else float("nan")
    return make_result("human_ceiling", mean, arr.shape[0], None, **details)


def alpha_with_judge(
    human_ratings: Any, judge: Any, *, level: str = "nominal", levels: Sequence[Any] | None = None
) -> StatResult:
    """Krippendorff's alpha with the judge counted as one more rater, compared with alpha of humans alone.

    ``value = alpha(humans + judge)``; ``details["delta"] = value - alpha(humans)``. A judge that behaves like
    one more careful annotator leaves alpha about unchanged (delta ≈ 0); a clearly negative delta means it
    disagrees with the humans more than they disagree with each other.

    Examples
    --------
    >>> h = [[1, 1], [0, 0], [1, 0], [1, 1], [0, 0], [0, 1]]
    >>> round(alpha_with_judge(h, [1, 0, 1, 1, 0, 0]).details["delta"], 3)
    0.191
    """
    arr = _as_2d(human_ratings).astype(object)
    jv = np.asarray(judge, dtype=object)
    if jv.ndim != 1 or jv.shape[0] != arr.shape[0]:
        raise ValueError(f"judge needs one label per item ({arr.shape[0]}); got shape {jv.shape}.")
    both = np.column_stack([arr, jv])
    coded = code_ratings(both, levels, min_raters=2)
    lv = list(coded.levels)
    a_h = krippendorff_alpha(arr, level=level, levels=lv).value
    a_j = krippendorff_alpha(both, level=level, levels=lv).value
    return make_result(
        "alpha_with_judge", a_j, arr.shape[0], None, alpha_humans=a_h, alpha_with_judge=a_j, delta=a_j - a_h
    )
