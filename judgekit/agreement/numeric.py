"""Numeric-scale estimands: the human ceiling and the judge against people on an interval scale (a 1-5 score).

Why apart from kappa: on a score, the questions are whether the judge ranks and scales items like people (ICC,
correlations) and how far off it is in the scale's own units (MAE, mean bias with Bland-Altman limits). Kappa on
the scale's grid is still measured (:mod:`judgekit.agreement.data` codes an interval scale on its steps), these are
measured beside it, from the raw scores kept beside the codes (``human_scores``, ``judge_scores``), each by one
function of :mod:`judgekit.stats`.

**Human ceiling** (blind scores, people vs people):

* ``human_icc``: the intraclass correlation among annotators, in the form the design calls for
  (:func:`judgekit.stats.icc_form`, McGraw & Wong 1996): when every item scored at least twice holds the most
  common set of annotators, two-way absolute agreement ICC(A,1) = Shrout & Fleiss ICC(2,1) over that set (a
  person who scores one point higher than another disagrees with them); otherwise (annotators assigned items at
  random, as on crowd platforms: rater effects cannot be separated from error) the one-way ICC(1), on the first
  k scores of every item with at least k (k the most common number of scores per item). Exact F interval
  (McGraw & Wong 1996, Table 7). The form, model and reason are in ``icc_design`` and the figure's details.
* ``human_mae``: the mean absolute difference of every annotator pair on the items both scored, averaged with
  weights ``n_ab`` (the pair's shared items) over the pairs sharing at least ``min_pair_overlap`` items, exactly
  as the categorical ceiling (:mod:`judgekit.agreement.ceiling`): ``sum n_ab MAE_ab / sum n_ab``; every pair is
  reported with its n (``pair_mae``). The weighted mean is a ratio estimator (all absolute differences over all
  scored pairs), so its interval is the delta method's with items as clusters (Cochran 1977).
* Krippendorff's alpha among annotators (``human_alpha``, the ceiling's alpha) uses the interval metric here.

**Judge vs people** (ok verdicts only: a failed verdict has no number; failures are the ``failure_rate``):

* against the reference score, the **mean** of the blind human scores of an item (``reference_score``; a mean,
  not a majority: on a number the average of k people is their consensus): ``judge_icc`` ICC(A,1) of the pair
  (two-way: both score every item; absolute: a judge that adds a point everywhere loses; single: one judge score
  is what gets used), ``judge_ccc`` Lin's concordance (1989), ``judge_pearson``, ``judge_spearman``,
  ``judge_kendall``, ``judge_mae``, and ``judge_bias`` the mean of judge - reference with Bland-Altman (1986)
  95% limits of agreement (their intervals as in Bland & Altman 1999);
* against each annotator: ``judge_mean_mae``, the judge's MAE against each annotator averaged with the ceiling's
  weights (shared items, the same minimum overlap), so that ``mae_gap_to_ceiling = judge_mean_mae - human_mae``
  compares like with like (how much further the judge is from a person than people are from each other), the
  gap's interval from both ratios' item influences together (paired: the same items in both).

Intervals (none needs a bootstrap, so 100,000 items cost little): ICC exact F; Lin z-transform;
Pearson Fisher z; Spearman Fisher z with the Bonett & Wright (2000) variance ``(1 + r²/2) / (n - 3)``; Kendall
Fisher z with Fieller, Hartley & Pearson's (1957) ``0.437 / (n - 4)``; MAE ``t`` with ``sd(|d|)/sqrt(n)``; bias
``t`` with ``s/sqrt(n)``. Conventions (those of :mod:`judgekit.stats`): x = judge, y = people. The verdict judges
``min_icc``, ``max_mae`` and ``max_abs_bias`` on these intervals.
"""

from __future__ import annotations

import math
import warnings
from itertools import combinations

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict
from scipy import stats as sps

from judgekit.agreement.ceiling import point
from judgekit.agreement.criteria import TrustCriteria
from judgekit.agreement.data import AlignedRatings
from judgekit.agreement.estimands import figure_name
from judgekit.stats import (
    Interval,
    StatResult,
    UndefinedStatisticWarning,
    bland_altman,
    concordance_correlation,
    icc,
    kendall,
    mean_absolute_error,
    pearson,
    spearman,
)

__all__ = [
    "REFERENCE_ADJUDICATED",
    "REFERENCE_MEAN",
    "AnnotatorError",
    "NumericFigures",
    "PairError",
    "human_numeric_ceiling",
    "numeric_figures",
    "reference_scores",
]

FloatArray = NDArray[np.float64]
_CONFIG = ConfigDict(frozen=True, ser_json_inf_nan="constants")
REFERENCE_MEAN = "mean of the blind human scores of each item"
REFERENCE_ADJUDICATED = "adjudicated score of each item (items nobody adjudicated are left out)"


class PairError(BaseModel):
    """One annotator pair: the mean absolute difference of their scores on the items both scored (``mae.n_items``
    of them), and whether it counts towards ``human_mae``."""

    model_config = _CONFIG
    a: str
    b: str
    mae: StatResult
    counted: bool


class AnnotatorError(BaseModel):
    """The judge against one annotator (a point; the interval is on the weighted mean)."""

    model_config = _CONFIG
    annotator: str
    mae: StatResult
    counted: bool


class NumericFigures(BaseModel):
    """The numeric-scale figures of one judge run on one interval scale (see the module docstring)."""

    model_config = ConfigDict(frozen=True, ser_json_inf_nan="constants")
    scale: str
    """The scale, ``interval: 1 to 5 in steps of 1``."""
    reference: str
    """What the judge is compared with."""
    icc_design: str
    """The ICC form of the human ceiling and why (McGraw & Wong names)."""
    human_icc: StatResult | None
    human_mae: StatResult | None
    """Pairwise mean absolute difference among annotators, pairs weighted by shared items."""
    pairs: list[PairError] = []
    """Every annotator pair with its MAE and n."""
    min_pair_overlap: int = 0
    n_pairs_counted: int = 0
    judge_icc: StatResult | None
    judge_pearson: StatResult | None
    judge_spearman: StatResult | None
    judge_kendall: StatResult | None
    judge_ccc: StatResult | None
    judge_mae: StatResult | None
    judge_bias: StatResult | None
    """Mean bias judge - people; ``details`` hold ``loa_low`` and ``loa_high`` (Bland-Altman limits) and their
    intervals ``loa_low_ci``, ``loa_high_ci``."""
    judge_mean_mae: StatResult | None = None
    """The judge's MAE against each annotator, annotators weighted by shared items (comparable to ``human_mae``)."""
    per_annotator: list[AnnotatorError] = []
    mae_gap: StatResult | None = None
    """``judge_mean_mae - human_mae``, its interval paired (the delta method on both ratios' item influences)."""


def _named(key: str, r: StatResult | None) -> StatResult | None:
    return None if r is None else r.model_copy(update={"name": figure_name(key)})


def _pair_parts(rows: FloatArray, pairs: list[tuple[int, int]]) -> tuple[FloatArray, FloatArray]:
    """(R, P) absolute differences (0 where not both scored) and masks of ``pairs`` of columns of ``rows``."""
    if not pairs:
        return np.zeros((rows.shape[0], 0)), np.zeros((rows.shape[0], 0))
    a = rows[:, [i for i, _ in pairs]]
    b = rows[:, [j for _, j in pairs]]
    both = ~(np.isnan(a) | np.isnan(b))
    return np.where(both, np.abs(a - b), 0.0), both.astype(np.float64)


def _ratio(diff: FloatArray, mask: FloatArray, counted: NDArray[np.bool_]) -> tuple[float, FloatArray, int]:
    """The overlap-weighted mean of the ``counted`` pairs' MAEs, ``sum_ab n_ab MAE_ab / sum_ab n_ab``, which is
    the ratio ``sum_i u_i / sum_i v_i`` of per-item sums (``u_i`` absolute differences, ``v_i`` pairs scored), and
    each item's linearised influence ``(u_i - R v_i) / sum v`` on it (the delta method, items as clusters), and
    how many items enter it."""
    u = diff[:, counted].sum(axis=1)
    v = mask[:, counted].sum(axis=1)
    total = float(v.sum())
    if total == 0:
        return float("nan"), np.zeros(diff.shape[0]), 0
    r = float(u.sum()) / total
    return r, (u - r * v) / total, int((v > 0).sum())


def _ratio_figure(name: str, value: float, influence: FloatArray, m: int, n: int, level: float) -> StatResult:
    """``value`` with the normal interval of its delta-method standard error ``sqrt(m/(m-1) sum e_i²)`` over the
    ``m`` items that enter it (Cochran 1977, ratio estimator; items as clusters, as an item bootstrap)."""
    if not math.isfinite(value) or m < 2:
        return point(name, value, n)
    se = math.sqrt(m / (m - 1) * float((influence**2).sum()))
    h = float(sps.norm.ppf(0.5 + level / 2)) * se
    iv = Interval(low=value - h, high=value + h, level=level, method="asymptotic")
    return StatResult(
        name=name, value=value, n_items=n, interval=iv, se=se, details={"se_method": "delta method, ratio estimator"}
    )


def _fisher(res: StatResult, var_n: tuple[float, int], level: float) -> StatResult:
    """A rank correlation with a Fisher z interval ``tanh(atanh(r) ± z sqrt(c / (n - d)))``."""
    r, n = res.value, res.n_items
    c, d = var_n
    out = res.model_copy(update={"details": {**res.details, "ci_formula": f"Fisher z, variance {c:.3g} / (n - {d})"}})
    if not math.isfinite(r) or n <= d or abs(r) >= 1:
        return out
    h = float(sps.norm.ppf(0.5 + level / 2)) * math.sqrt(c / (n - d))
    z = math.atanh(r)
    iv = Interval(low=math.tanh(z - h), high=math.tanh(z + h), level=level, method="asymptotic")
    return out.model_copy(update={"interval": iv})


# -- the human ceiling -------------------------------------------------------------------------------------------


def _ceiling_icc(scores: FloatArray, c: TrustCriteria) -> tuple[StatResult | None, str]:
    """ICC among annotators in the form of the design, and the design's description (see the module docstring)."""
    present = ~np.isnan(scores)
    count = present.sum(axis=1)
    multi = count >= 2
    if scores.shape[1] < 2 or multi.sum() < 2:
        return None, "fewer than 2 items scored by at least 2 annotators"
    patterns, freq = np.unique(present[multi], axis=0, return_counts=True)
    common = patterns[int(np.argmax(freq))]
    level = c.confidence_level
    if common.sum() >= 2 and present[multi][:, common].all():
        x = scores[multi][:, np.flatnonzero(common)]
        res = icc(x, same_raters=True, agreement="absolute", unit="single", ci=True, ci_method="f", level=level)
        where = (
            f"the same {x.shape[1]} annotators scored each of {x.shape[0]} items, and one scoring higher than "
            "another disagrees with them"
        )
    else:
        counts, cnt_freq = np.unique(count[multi], return_counts=True)
        k = int(counts[int(np.argmax(cnt_freq))])
        take = count >= k
        # the first k scores of each item, by annotator order (the one-way model ignores who gave them)
        order = np.argsort(~present[take], axis=1, kind="stable")[:, :k]
        x = np.take_along_axis(scores[take], order, axis=1)
        res = icc(x, same_raters=False, unit="single", ci=True, ci_method="f", level=level)
        where = (
            f"each item scored by its own people, so rater effects cannot be separated from error; the first {k} "
            f"scores of each of {x.shape[0]} items with at least {k}"
        )
    d = res.details
    design = f"{d.get('mcgraw_wong', '')}, {d.get('model', '')}: {where}"
    return res.model_copy(update={"name": figure_name("human_icc"), "details": {**d, "design": design}}), design


def human_numeric_ceiling(
    scores: FloatArray, annotators: list[str], c: TrustCriteria
) -> tuple[StatResult | None, str, StatResult | None, list[PairError]]:
    """``human_icc`` (with its design) and ``human_mae`` (with every pair) of items × annotators ``scores``
    (``nan`` missing) under ``c`` (``min_pair_overlap``, ``n_boot``, ``seed``, ``confidence_level``)."""
    n, m = scores.shape if scores.ndim == 2 else (0, 0)
    multi = int(((~np.isnan(scores)).sum(axis=1) >= 2).sum()) if n else 0
    pairs_idx = list(combinations(range(m), 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedStatisticWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        icc_fig, design = _ceiling_icc(scores, c)
        if not pairs_idx or not n:
            return icc_fig, design, None, []
        diff, mask = _pair_parts(scores, pairs_idx)
        counts = mask.sum(axis=0)
        values = np.where(counts > 0, diff.sum(axis=0) / np.maximum(counts, 1), np.nan)
        counted = (counts >= c.min_pair_overlap) & np.isfinite(values)
        value, influence, m_items = _ratio(diff, mask, counted)
    mae = _ratio_figure(figure_name("human_mae"), value, influence, m_items, multi, c.confidence_level)
    pairs = [
        PairError(
            a=annotators[i],
            b=annotators[j],
            mae=point(figure_name("pair_mae"), float(values[q]), int(counts[q])),
            counted=bool(counted[q]),
        )
        for q, (i, j) in enumerate(pairs_idx)
    ]
    return icc_fig, design, mae if math.isfinite(value) else None, pairs


# -- judge vs people ---------------------------------------------------------------------------------------------


def reference_scores(data: AlignedRatings) -> FloatArray:
    """The reference score of every item of an interval scale's ``data`` (``nan``: none): under the ``majority``
    rule the mean of the annotators' blind scores; under ``adjudicated`` the adjudicated score (its point on the
    scale's grid), items without one left out."""
    assert data.human_scores is not None
    if data.reference.rule == "adjudicated":
        grid = np.asarray([float(v) for v in data.levels], dtype=float)
        return np.where(data.has_reference, grid[np.clip(data.reference_codes, 0, None)], np.nan)
    h = data.human_scores
    present = ~np.isnan(h)
    count = present.sum(axis=1)
    total = np.where(present, h, 0.0).sum(axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _versus_reference(x: FloatArray, y: FloatArray, c: TrustCriteria) -> dict[str, StatResult | None]:
    """The judge's figures against the reference score (``x``, ``y``: the items with both)."""
    n = x.size
    level = c.confidence_level
    figs: dict[str, StatResult | None] = dict.fromkeys(
        ("judge_icc", "judge_pearson", "judge_spearman", "judge_kendall", "judge_ccc", "judge_mae", "judge_bias")
    )
    if n >= 1:
        figs["judge_mae"] = mean_absolute_error(x, y, ci=True, ci_method="asymptotic", level=level)
    if n >= 3:
        res = icc(np.column_stack([x, y]), same_raters=True, ci=True, ci_method="f", level=level)
        why = f"{res.details.get('why', '')}; the judge's score against the mean human score on {n} items"
        figs["judge_icc"] = res.model_copy(update={"details": {**res.details, "why": why}})
        figs["judge_pearson"] = pearson(x, y, ci=True, level=level)
        rho = spearman(x, y)
        figs["judge_spearman"] = _fisher(rho, (1.0 + rho.value**2 / 2.0, 3), level)
        figs["judge_kendall"] = _fisher(kendall(x, y), (0.437, 4), level)
        figs["judge_ccc"] = concordance_correlation(x, y, ci=True, level=level)
        figs["judge_bias"] = bland_altman(x, y, level=level)
    return {k: _named(k, v) for k, v in figs.items()}


def _versus_annotators(
    human: FloatArray, judge: FloatArray, annotators: list[str], human_mae: StatResult | None, c: TrustCriteria
) -> tuple[StatResult | None, StatResult | None, list[AnnotatorError]]:
    """The judge's overlap-weighted MAE against each annotator and its gap to the ceiling's pairwise MAE, from one
    pass over every human pair and every (annotator, judge) pair."""
    m = len(annotators)
    n_ok = int((~np.isnan(judge)).sum())
    if m == 0 or n_ok == 0:
        return None, None, []
    human_pairs = list(combinations(range(m), 2))
    diff, mask = _pair_parts(np.column_stack([human, judge]), human_pairs + [(a, m) for a in range(m)])
    counts = mask.sum(axis=0)
    values = np.where(counts > 0, diff.sum(axis=0) / np.maximum(counts, 1), np.nan)
    n_h = len(human_pairs)
    is_judge = np.arange(counts.size) >= n_h
    ok = (counts >= c.min_pair_overlap) & np.isfinite(values)
    h_counted, j_counted = ok & ~is_judge, ok & is_judge
    mean = gap = None
    level = c.confidence_level
    if j_counted.any():
        value, e_j, m_j = _ratio(diff, mask, j_counted)
        mean = _ratio_figure(figure_name("judge_mean_mae"), value, e_j, m_j, n_ok, level)
        if h_counted.any() and human_mae is not None:
            ceil, e_h, m_h = _ratio(diff, mask, h_counted)  # human_mae itself, with each item's influence
            n_gap = min(n_ok, human_mae.n_items)
            gap = _ratio_figure(figure_name("mae_gap_to_ceiling"), value - ceil, e_j - e_h, max(m_j, m_h), n_gap, level)
    j = slice(n_h, n_h + m)
    per = [
        AnnotatorError(
            annotator=name,
            mae=point(figure_name("annotator_mae"), float(values[j][a]), int(counts[j][a])),
            counted=bool(j_counted[j][a]),
        )
        for a, name in enumerate(annotators)
    ]
    return mean, gap, per


def numeric_figures(data: AlignedRatings, c: TrustCriteria) -> NumericFigures | None:
    """Every numeric figure of ``data`` (None unless its scale is an interval scale)."""
    scale = data.rubric.interval_scale
    if scale is None or data.human_scores is None or data.judge_scores is None:
        return None
    hs = data.human_scores
    human_icc, design, human_mae, pairs = human_numeric_ceiling(hs, data.annotators, c)
    ref = reference_scores(data)
    x = data.judge_scores
    both = ~np.isnan(x) & ~np.isnan(ref)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedStatisticWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        figs = _versus_reference(x[both], ref[both], c)
        mean, gap, per = _versus_annotators(hs, x, data.annotators, human_mae, c)
    return NumericFigures(
        scale=scale.describe(),
        reference=REFERENCE_ADJUDICATED if data.reference.rule == "adjudicated" else REFERENCE_MEAN,
        icc_design=design,
        human_icc=human_icc,
        human_mae=human_mae,
        pairs=pairs,
        min_pair_overlap=c.min_pair_overlap,
        n_pairs_counted=sum(p.counted for p in pairs),
        judge_mean_mae=mean,
        per_annotator=per,
        mae_gap=gap,
        **figs,
    )


# -- per segment and risk tier -----------------------------------------------------------------------------------


class GroupNumeric(BaseModel):
    """The headline numeric figures of an interval scale on one segment or risk tier: the people's ICC (in the
    group's design's form) and pairwise MAE among themselves, the judge's ICC(A,1), MAE and mean bias against the
    reference score, each computed on the group's items exactly as :func:`numeric_figures` computes them on all."""

    model_config = _CONFIG
    human_icc: StatResult | None
    human_mae: StatResult | None
    judge_icc: StatResult | None
    judge_mae: StatResult | None
    judge_bias: StatResult | None


def group_numeric(data: AlignedRatings, sel: NDArray[np.bool_], c: TrustCriteria) -> GroupNumeric | None:
    """:class:`GroupNumeric` of the items ``sel`` of ``data`` (None unless its scale is an interval scale)."""
    if data.rubric.interval_scale is None or data.human_scores is None or data.judge_scores is None:
        return None
    human_icc, _, human_mae, _ = human_numeric_ceiling(data.human_scores[sel], data.annotators, c)
    ref = reference_scores(data)[sel]
    x = data.judge_scores[sel]
    both = ~np.isnan(x) & ~np.isnan(ref)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedStatisticWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        figs = _versus_reference(x[both], ref[both], c)
    return GroupNumeric(
        human_icc=human_icc,
        human_mae=human_mae,
        judge_icc=figs["judge_icc"],
        judge_mae=figs["judge_mae"],
        judge_bias=figs["judge_bias"],
    )
