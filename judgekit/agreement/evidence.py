"""The evidence of one scale: every estimand measured on one scale's aligned ratings, typed end to end.

Why its own step: the verdict (:mod:`judgekit.agreement.verdict`) reads :class:`ScaleEvidence` and computes
nothing, and every front end reads the same record, so a number printed anywhere is a field here. A rubric with
several rated criteria measures one :class:`ScaleEvidence` per criterion's scale (and one for its overall rule)
and judges each (:func:`judgekit.agreement.assess.assess_units`).

To add a statistic to the evidence: compute it in the module of its estimand (or a new one, registered in
:mod:`judgekit.agreement.estimands`), add a typed field below and fill it in :func:`measure`.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from pydantic import BaseModel, ConfigDict

from judgekit.agreement.breakdown import GroupResult, per_risk, per_segment
from judgekit.agreement.ceiling import HumanCeiling, human_ceiling, point
from judgekit.agreement.confidence import CalibrationFigures, HarmfulFigures, confidence_figures
from judgekit.agreement.corrected import CorrectedLabels, corrected_effect
from judgekit.agreement.criteria import TrustCriteria
from judgekit.agreement.data import AlignedRatings, HumanRatings, verdict_statuses
from judgekit.agreement.estimands import figure_name
from judgekit.agreement.judge_people import JudgeVsPeople, judge_vs_people
from judgekit.agreement.numeric import NumericFigures, numeric_figures
from judgekit.agreement.reference import ReferenceSummary
from judgekit.stats import StatResult, UndefinedStatisticWarning, sample_size_for_ci_width

__all__ = ["Confusion", "SampleSize", "ScaleEvidence", "measure"]

_CONFIG = ConfigDict(frozen=True, ser_json_inf_nan="constants")


class Confusion(BaseModel):
    """Counts of reference label (rows: the levels) by judge verdict (columns: the levels, then
    :data:`~judgekit.agreement.data.NO_VERDICT` for failed verdicts), on the items with a reference label."""

    model_config = _CONFIG
    rows: list[str]
    columns: list[str]
    matrix: list[list[int]]


class SampleSize(BaseModel):
    """How many more labelled items would make the judge's kappa interval ``target_width`` wide."""

    model_config = _CONFIG
    available: bool
    current_width: float | None = None
    target_width: float | None = None
    current_n: int | None = None
    more_items_needed: int | None = None


class ScaleEvidence(BaseModel):
    """Everything measured for one judge run on one scale (see the module docstring)."""

    model_config = _CONFIG
    n_items_labelled: int
    n_annotators: int
    annotators_per_item: StatResult
    items_judged: StatResult
    status_counts: dict[str, int]
    reference: ReferenceSummary
    ceiling: HumanCeiling
    judge: JudgeVsPeople
    confusion: Confusion
    per_segment: list[GroupResult]
    per_risk: list[GroupResult]
    calibration: CalibrationFigures
    harmful: HarmfulFigures
    sample_size: SampleSize
    corrected: CorrectedLabels | None = None
    numeric: NumericFigures | None = None
    """Interval scales: ICC, correlations, MAE and bias (:mod:`judgekit.agreement.numeric`); None otherwise."""


def _confusion(data: AlignedRatings) -> Confusion:
    k1 = data.k + 1
    sel = data.has_reference
    cells = data.reference_codes[sel] * k1 + data.judge_strict_codes[sel]
    table = np.bincount(cells, minlength=k1 * k1).reshape(k1, k1)[: data.k]
    return Confusion(rows=data.levels, columns=data.strict_levels, matrix=table.tolist())


def _sample_size(kappa: StatResult, c: TrustCriteria) -> SampleSize:
    if kappa.low is None or kappa.high is None or math.isnan(kappa.value) or kappa.n_items < 2:
        return SampleSize(available=False)
    width = kappa.high - kappa.low
    more: int | None = 0
    if width > c.target_ci_width:
        res = sample_size_for_ci_width(
            "kappa", target_width=c.target_ci_width, current_n=kappa.n_items, current_width=width
        )
        more = int(res.value) if not math.isnan(res.value) else None
    return SampleSize(
        available=True,
        current_width=width,
        target_width=c.target_ci_width,
        current_n=kappa.n_items,
        more_items_needed=more,
    )


def measure(
    data: AlignedRatings,
    c: TrustCriteria,
    *,
    ceiling: HumanCeiling | None = None,
    corrected: HumanRatings | None = None,
) -> ScaleEvidence:
    """Every estimand of ``data`` under criteria ``c``. ``ceiling`` (from :func:`human_ceiling` of the same labels)
    may be passed to share it between runs; ``corrected`` (the corrected labels) adds their effect."""
    n = data.n_items
    per_item = data.labels_per_item
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedStatisticWarning)
        ceil = ceiling if ceiling is not None else human_ceiling(data.human_codes, data.annotators, data.rubric, c)
        judge = judge_vs_people(data, ceil, c)
        calibration, harmful = confidence_figures(data, c)
        effect = corrected_effect(data, corrected, c) if corrected is not None else None
        segments = per_segment(data, c)
        risks = per_risk(data, c)
    numeric = numeric_figures(data, c)
    judged = int((data.status != "missing").sum())
    return ScaleEvidence(
        n_items_labelled=n,
        n_annotators=len(data.annotators),
        annotators_per_item=point(figure_name("annotators_per_item"), float(per_item.mean()) if n else 0.0, n),
        items_judged=point(figure_name("items_judged"), judged, n),
        status_counts={s: int((data.status == s).sum()) for s in verdict_statuses},
        reference=data.reference,
        ceiling=ceil,
        judge=judge,
        confusion=_confusion(data),
        per_segment=segments,
        per_risk=risks,
        calibration=calibration,
        harmful=harmful,
        sample_size=_sample_size(judge.kappa.failures_as_wrong, c),
        corrected=effect,
        numeric=numeric,
    )
