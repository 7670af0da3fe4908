"""Intraclass correlation coefficients (Shrout & Fleiss 1979; McGraw & Wong 1996), the form chosen for the design."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from scipy import stats as sps

from ._bootstrap import SeedLike
from ._multirater import finish
from ._patterns import Patterns
from ._result import Interval, StatResult
from ._validate import Coded, _as_2d, check_level

__all__ = ["IccForm", "icc", "icc_form"]

_FORMS = ("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k")
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class IccForm:
    """Which ICC a design calls for: Shrout & Fleiss ``form``, McGraw & Wong ``name``, ``model`` and ``why``."""

    form: str
    name: str
    model: str
    why: str


_NAMES = {
    "ICC1": ("ICC(1)", "one-way random"),
    "ICC1k": ("ICC(k)", "one-way random"),
    "ICC2": ("ICC(A,1)", "two-way, absolute agreement"),
    "ICC2k": ("ICC(A,k)", "two-way, absolute agreement"),
    "ICC3": ("ICC(C,1)", "two-way, consistency"),
    "ICC3k": ("ICC(C,k)", "two-way, consistency"),
}


def icc_form(
    *,
    same_raters: bool = True,
    agreement: Literal["absolute", "consistency"] = "absolute",
    unit: Literal["single", "average"] = "single",
) -> IccForm:
    """Pick the ICC form for a design (McGraw & Wong 1996, Fig. 1; Koo & Li 2016), with the reason.

    * ``same_raters=False`` (each item scored by a different set of people, as when annotators are assigned
      items at random): one-way random model, ICC(1) / ICC(k): rater effects cannot be separated from error.
    * ``same_raters=True`` (the same raters score every item, e.g. a judge and the same annotators): two-way
      model; ``agreement="absolute"`` when a rater scoring systematically higher is a disagreement (a judge
      that adds one point to every answer is not interchangeable with a person): ICC(A,1) = Shrout & Fleiss
      ICC(2,1); ``"consistency"`` when only the ordering/spacing matters: ICC(C,1) = ICC(3,1). The formulas of
      the random (2) and mixed (3) models coincide per type (McGraw & Wong 1996), so the choice is the type.
    * ``unit="average"`` when the figure that will be used is the mean of the k raters' scores (e.g. a panel
      of annotators as the reference), ``"single"`` when one rater's score is used (one judge's score).

    Examples
    --------
    >>> icc_form(same_raters=True, agreement="absolute", unit="single").form
    'ICC2'
    >>> icc_form(same_raters=False, unit="average").name
    'ICC(k)'
    """
    if agreement not in ("absolute", "consistency"):
        raise ValueError(f"agreement must be 'absolute' or 'consistency'; got {agreement!r}.")
    if unit not in ("single", "average"):
        raise ValueError(f"unit must be 'single' or 'average'; got {unit!r}.")
    suffix = "k" if unit == "average" else ""
    what = "the mean of the k raters' scores" if unit == "average" else "a single rater's score"
    if not same_raters:
        form = "ICC1" + suffix
        why = (
            "different raters scored different items, so rater effects cannot be separated from error (one-way "
            f"random model); reliability of {what}"
        )
        if agreement == "consistency":
            why += "; consistency is not defined in the one-way model, so this is absolute agreement"
    elif agreement == "absolute":
        form = "ICC2" + suffix
        why = (
            "the same raters scored every item and a systematic offset between raters counts as disagreement "
            f"(two-way model, absolute agreement); reliability of {what}"
        )
    else:
        form = "ICC3" + suffix
        why = (
            "the same raters scored every item and only consistency matters: a constant offset between raters "
            f"is ignored (two-way model, consistency); reliability of {what}"
        )
    name, model = _NAMES[form]
    return IccForm(form=form, name=name, model=model, why=why)


def _mean_squares(x: FloatArray, w: FloatArray) -> dict[str, FloatArray]:
    """Two-way ANOVA mean squares of the (n, k) scores under item weights ``w`` (B, n)."""
    k = x.shape[1]
    rowsum = x.sum(axis=1)
    nw = w.sum(axis=1)
    gm = (w @ rowsum) / (nw * k)
    ss_total = w @ (x**2).sum(axis=1) - nw * k * gm**2
    ss_rows = (w @ (rowsum**2)) / k - nw * k * gm**2
    colmean = (w @ x) / nw[:, None]
    ss_cols = nw * ((colmean - gm[:, None]) ** 2).sum(axis=1)
    ss_err = ss_total - ss_rows - ss_cols
    return {
        "n": nw,
        "msr": ss_rows / (nw - 1),
        "msc": ss_cols / (k - 1),
        "mse": ss_err / ((nw - 1) * (k - 1)),
        "msw": (ss_total - ss_rows) / (nw * (k - 1)),
    }


def _icc_value(ms: dict[str, FloatArray], form: str, k: int) -> FloatArray:
    msr, msc, mse, msw, n = ms["msr"], ms["msc"], ms["mse"], ms["msw"], ms["n"]
    if form == "ICC1":
        return (msr - msw) / (msr + (k - 1) * msw)
    if form == "ICC2":
        return (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
    if form == "ICC3":
        return (msr - mse) / (msr + (k - 1) * mse)
    if form == "ICC1k":
        return (msr - msw) / msr
    if form == "ICC2k":
        return (msr - mse) / (msr + (msc - mse) / n)
    return (msr - mse) / msr


def _f_test(ms: dict[str, float], form: str, n: int, k: int) -> tuple[float, int, float]:
    """(F, df2, p) of H0: ICC = 0; df1 = n - 1 (McGraw & Wong 1996, Table 8)."""
    if form.startswith("ICC1"):
        f, df2 = ms["msr"] / ms["msw"], n * (k - 1)
    else:
        f, df2 = ms["msr"] / ms["mse"], (n - 1) * (k - 1)
    return float(f), int(df2), float(sps.f.sf(f, n - 1, df2))


def _f_interval(ms: dict[str, float], form: str, value: float, n: int, k: int, level: float) -> Interval:
    """Exact (F-distribution) interval under the normal ANOVA model, McGraw & Wong (1996) Table 7."""
    q = 0.5 + level / 2
    msr, msc, mse = ms["msr"], ms["msc"], ms["mse"]
    if form in ("ICC2", "ICC2k"):
        # Satterthwaite degrees of freedom for the denominator (McGraw & Wong 1996, Table 7, case 2A)
        r = ms["icc2"]
        a = k * r / (n * (1 - r))
        b = 1 + k * r * (n - 1) / (n * (1 - r))
        v = (a * msc + b * mse) ** 2 / ((a * msc) ** 2 / (k - 1) + (b * mse) ** 2 / ((n - 1) * (k - 1)))
        fl, fu = sps.f.ppf(q, n - 1, v), sps.f.ppf(q, v, n - 1)
        low = n * (msr - fl * mse) / (fl * (k * msc + (k * n - k - n) * mse) + n * msr)
        high = n * (fu * msr - mse) / (k * msc + (k * n - k - n) * mse + n * fu * msr)
        if form == "ICC2k":
            low, high = low * k / (1 + low * (k - 1)), high * k / (1 + high * (k - 1))
    else:
        f, df2, _ = _f_test(ms, form, n, k)
        fl = f / sps.f.ppf(q, n - 1, df2)
        fu = f * sps.f.ppf(q, df2, n - 1)
        if form.endswith("k"):
            low, high = 1 - 1 / fl, 1 - 1 / fu
        else:
            low, high = (fl - 1) / (fl + k - 1), (fu - 1) / (fu + k - 1)
    return Interval(low=float(low), high=float(high), level=level, method="f")


def icc(
    ratings: Any,
    *,
    form: str | None = None,
    same_raters: bool = True,
    agreement: Literal["absolute", "consistency"] = "absolute",
    unit: Literal["single", "average"] = "single",
    ci: bool = False,
    n_boot: int = 1000,
    seed: SeedLike = None,
    ci_method: str = "percentile",
    cluster: Any = None,
    level: float = 0.95,
) -> StatResult:
    """Intraclass correlation for numeric scores, in the Shrout & Fleiss (1979) / McGraw & Wong (1996) form
    the design calls for.

    Why: for numeric judge scores (e.g. 1-10) the question is whether raters rank AND scale items alike;
    ICC is the share of score variance due to real differences between items. Which share depends on the
    design, so the form is chosen from it (:func:`icc_form`) unless ``form`` is given, and the result says
    which form was used and why (``details["form"]``, ``["mcgraw_wong"]``, ``["model"]``, ``["why"]``).

    With two-way ANOVA mean squares for targets (MSR), raters (MSC), residual (MSE) and within-target (MSW),
    ``n`` targets and ``k`` raters:

    * ``ICC1 = (MSR - MSW) / (MSR + (k-1) MSW)`` — ICC(1): one-way random, each target rated by different raters;
    * ``ICC2 = (MSR - MSE) / (MSR + (k-1) MSE + k (MSC - MSE)/n)`` — ICC(A,1): absolute agreement;
    * ``ICC3 = (MSR - MSE) / (MSR + (k-1) MSE)`` — ICC(C,1): consistency (rater offsets ignored);
    * ``ICC1k, ICC2k, ICC3k`` — ICC(k), ICC(A,k), ICC(C,k): reliability of the MEAN of the k raters.

    ``details`` also hold the F test of H0: ICC = 0 (``F``, ``df1``, ``df2``, ``p_value``; McGraw & Wong 1996
    Table 8). ``ci_method="f"`` gives the exact F-distribution interval under the normal ANOVA model (McGraw &
    Wong 1996 Table 7, as R ``psych::ICC`` and pingouin); ``"percentile"``/``"bca"`` a bootstrap of items.
    Items with any missing score are dropped (``details["n_dropped"]``). Koo & Li (2016): < .5 poor,
    .5-.75 moderate, .75-.9 good, > .9 excellent.

    Examples
    --------
    Shrout & Fleiss (1979) Table 4 (6 targets × 4 judges): ICC(1,1) = .17, ICC(2,1) = .29, ICC(3,1) = .71,
    and (R DescTools::ICC) ICC1k = .443, ICC2k = .620, ICC3k = .909:

    >>> x = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    >>> [round(icc(x, form=f).value, 2) for f in ("ICC1", "ICC2", "ICC3")]
    [0.17, 0.29, 0.71]
    >>> [round(icc(x, form=f).value, 3) for f in ("ICC1k", "ICC2k", "ICC3k")]
    [0.443, 0.62, 0.909]
    >>> r = icc(x, same_raters=True, agreement="absolute", unit="single")
    >>> r.details["mcgraw_wong"], round(r.details["F"], 2), r.details["df2"]
    ('ICC(A,1)', 11.03, 15)
    """
    if form is None:
        choice = icc_form(same_raters=same_raters, agreement=agreement, unit=unit)
    else:
        if form not in _FORMS:
            raise ValueError(f"form must be one of {_FORMS}; got {form!r}.")
        name, model = _NAMES[form]
        choice = IccForm(form=form, name=name, model=model, why="form given by the caller")
    form = choice.form
    if isinstance(ratings, Coded):
        if ratings.values is None:
            raise ValueError("icc needs numeric scores; the coded levels are not numbers.")
        arr = np.where(ratings.codes >= 0, ratings.values[np.clip(ratings.codes, 0, None)], np.nan)
    else:
        arr = _as_2d(ratings)
    if arr.dtype.kind != "f":
        raise ValueError("icc needs numeric scores; got non-numeric labels.")
    if arr.shape[1] < 2:
        raise ValueError(f"icc needs at least 2 raters (columns of the items × raters matrix); got {arr.shape[1]}.")
    keep = ~np.isnan(arr).any(axis=1)
    x_all = arr[keep]
    n, k = x_all.shape
    if n < 2:
        raise ValueError(f"icc needs at least 2 items rated by every rater; got {n}.")
    # items with the same row of scores are resampled together (a multinomial over distinct rows)
    rows, inv, cnt = np.unique(x_all, axis=0, return_inverse=True, return_counts=True)
    inv = inv.ravel()

    def stat(w: FloatArray) -> FloatArray:
        return _icc_value(_mean_squares(rows, w), form, k)

    pat = Patterns(np.arange(rows.shape[0], dtype=np.int64)[:, None], cnt.astype(np.float64), inv)
    with np.errstate(divide="ignore", invalid="ignore"):
        ms1 = {key: float(v[0]) for key, v in _mean_squares(rows, pat.freq[None, :]).items()}
        ms1["icc2"] = float(_icc_value({kk: np.array([vv]) for kk, vv in ms1.items()}, "ICC2", k)[0])
        f, df2, p = _f_test(ms1, form, n, k)
    use_f = ci and ci_method == "f"
    if use_f:
        check_level(level)
    cl = None if cluster is None else np.asarray(cluster, dtype=object)[keep]
    res = finish(
        "icc",
        stat,
        pat,
        undefined_reason="there is no variance between items (all mean squares are zero)",
        ci=ci and not use_f,
        n_boot=n_boot,
        seed=seed,
        ci_method="percentile" if use_f else ci_method,
        cluster=cl,
        level=level,
        form=form,
        mcgraw_wong=choice.name,
        model=choice.model,
        why=choice.why,
        n_raters=k,
        n_dropped=int((~keep).sum()),
        F=f,
        df1=n - 1,
        df2=df2,
        p_value=p,
    )
    if use_f and np.isfinite(res.value):
        with np.errstate(divide="ignore", invalid="ignore"):
            iv = _f_interval(ms1, form, res.value, n, k, level)
        return res.model_copy(update={"interval": iv})
    return res
