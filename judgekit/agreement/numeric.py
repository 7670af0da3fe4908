"""Numeric-scale estimands: the human ceiling and the judge against people on an interval scale (a 1-5 score).

Why apart from kappa: on a score, the questions are whether the judge ranks and scales items like people (ICC,
correlations) and how far off it is in the scale's own units (MAE, mean bias with Bland-Altman limits). Kappa on
the scale's grid is still measured (:mod:`judgekit.agreement.data` codes an interval scale on its steps), these are
measured beside it, each by one function of :mod:`judgekit.stats`:

* the ceiling among people, ``human_icc``: ICC(A,1) (two-way, absolute agreement) when the same annotators scored
  every item, else the one-way ICC(1) (each item scored by its own set of people, as on crowd platforms: rater
  effects cannot be separated from error) over the first ``m`` scores of the items with at least ``m``;
  ``human_mae``: the mean absolute difference between two annotators' scores of one item;
* the judge against the reference score, the **mean** of the blind human scores of an item: ``judge_icc``
  (ICC(A,1) of the pair: a judge that adds a point everywhere loses), Pearson, Spearman, Kendall's tau-b, Lin's
  concordance, MAE, and the mean bias (judge - people) with Bland-Altman limits of agreement.

Conventions (those of :mod:`judgekit.stats`): x = judge, y = people. The ICC form used and why is in
``NumericFigures.icc_design``; the verdict judges ``min_icc``, ``max_mae`` and ``max_abs_bias`` on these intervals.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict

from judgekit.agreement.criteria import TrustCriteria
from judgekit.agreement.data import AlignedRatings
from judgekit.agreement.estimands import figure_name
from judgekit.stats import (
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

__all__ = ["NumericFigures", "numeric_figures"]

FloatArray = NDArray[np.float64]


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
    judge_icc: StatResult | None
    judge_pearson: StatResult | None
    judge_spearman: StatResult | None
    judge_kendall: StatResult | None
    judge_ccc: StatResult | None
    judge_mae: StatResult | None
    judge_bias: StatResult | None
    """Mean bias judge - people; ``details`` hold ``loa_low`` and ``loa_high`` (Bland-Altman limits)."""


def _named(key: str, r: StatResult | None) -> StatResult | None:
    return None if r is None else r.model_copy(update={"name": figure_name(key)})


def _slots(scores: FloatArray) -> tuple[FloatArray, str]:
    """The items × raters matrix an ICC of the people runs on, and the design's description."""
    present = ~np.isnan(scores)
    if scores.shape[1] >= 2 and present.all():
        return scores, "two-way absolute agreement: same people on every item"
    counts = present.sum(axis=1)
    multi = counts >= 2
    if not multi.any():
        return np.empty((0, 2)), "no item has two scores"
    m = int(counts[multi].min())
    rows = scores[counts >= m]
    out = np.empty((rows.shape[0], m))
    for i, row in enumerate(rows):  # the first m scores of each item (annotators in name order)
        out[i] = row[~np.isnan(row)][:m]
    return out, f"one-way: each item its own people, first {m} scores"


def numeric_figures(data: AlignedRatings, c: TrustCriteria) -> NumericFigures | None:
    """Every numeric figure of ``data`` (None unless its scale is an interval scale)."""
    scale = data.rubric.interval_scale
    if scale is None or data.human_scores is None or data.judge_scores is None:
        return None
    hs = data.human_scores
    boot = {"ci": True, "n_boot": c.n_boot, "seed": c.seed, "level": c.confidence_level}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedStatisticWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        slots, design = _slots(hs)
        human_icc = human_mae = None
        if slots.shape[0] >= 2:
            same = design.startswith("two-way")
            human_icc = icc(slots, same_raters=same, ci=True, ci_method="f", level=c.confidence_level)
            design = f"{human_icc.details.get('mcgraw_wong', '')}, {design}"
            human_mae = mean_absolute_error(slots[:, 0], slots[:, 1], **boot)  # type: ignore[arg-type]
        counted = ~np.isnan(hs).all(axis=1) if hs.size else np.zeros(0, dtype=bool)
        ref = np.full(len(data.item_ids), np.nan)
        if counted.any():
            ref[counted] = np.nanmean(hs[counted], axis=1)
        x, y = data.judge_scores, ref
        both = ~np.isnan(x) & ~np.isnan(y)
        figs: dict[str, StatResult | None] = dict.fromkeys(
            ("judge_icc", "judge_pearson", "judge_spearman", "judge_kendall", "judge_ccc", "judge_mae", "judge_bias")
        )
        if both.sum() >= 3:
            xb, yb = x[both], y[both]
            figs["judge_icc"] = icc(
                np.column_stack([xb, yb]), same_raters=True, ci=True, ci_method="f", level=c.confidence_level
            )
            figs["judge_pearson"] = pearson(xb, yb, ci=True, level=c.confidence_level)
            figs["judge_spearman"] = spearman(xb, yb, **boot)  # type: ignore[arg-type]
            figs["judge_kendall"] = kendall(xb, yb, **boot)  # type: ignore[arg-type]
            figs["judge_ccc"] = concordance_correlation(xb, yb, ci=True, level=c.confidence_level)
            figs["judge_mae"] = mean_absolute_error(xb, yb, **boot)  # type: ignore[arg-type]
            figs["judge_bias"] = bland_altman(xb, yb, level=c.confidence_level)
    return NumericFigures(
        scale=scale.describe(),
        reference="mean of the blind human scores of each item",
        icc_design=design,
        human_icc=_named("human_icc", human_icc),
        human_mae=_named("human_mae", human_mae),
        **{k: _named(k, v) for k, v in figs.items()},
    )
