"""Calibration and harmful confidence of one run: is the judge's confidence worth anything, and where does it hurt?

Both are measured on the items with a reference label and an ``ok`` verdict that carries a confidence; correctness
is "the verdict equals the reference label". A run whose verdicts carry no confidence gets ``available=False`` with
the reason: nothing is invented.

* ``ece``: expected calibration error of the top-label confidence, 10 equal-width bins (Guo et al. 2017);
  ``brier``: mean squared error of that confidence vs correctness; the reliability diagram and the
  risk-coverage curve (El-Yaniv & Wiener 2010) for the report's figures (the curve thinned to at most
  :data:`CURVE_POINTS` points, so a report of 100,000 items stays small).
* ``harmful_rate``: share of verdicts wrong with confidence >= ``confidence_threshold`` (Wilson interval), per risk
  tier and segment, risk-weighted (low 1, medium 2, high 4; an item without a tier, the default, is tier
  ``unassessed`` weighing 1), and the worst items (highest risk, then highest confidence).
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict

from judgekit.agreement.ceiling import point
from judgekit.agreement.criteria import TrustCriteria
from judgekit.agreement.data import AlignedRatings
from judgekit.agreement.estimands import figure_name
from judgekit.agreement.judge_people import wilson
from judgekit.stats import (
    ReliabilityDiagram,
    RiskCoverageCurve,
    StatResult,
    brier_score,
    expected_calibration_error,
    harmful_confidence,
    reliability_diagram,
    risk_coverage_curve,
)

__all__ = [
    "CURVE_POINTS",
    "RISK_WEIGHTS",
    "UNASSESSED",
    "CalibrationFigures",
    "HarmfulFigures",
    "HarmfulItem",
    "RateGroup",
    "confidence_figures",
]

_CONFIG = ConfigDict(frozen=True, ser_json_inf_nan="constants")
UNASSESSED = "unassessed"
"""The risk tier of an item whose metadata names none: a normal case (the default), not an error."""
RISK_WEIGHTS = {"low": 1.0, "medium": 2.0, "high": 4.0, UNASSESSED: 1.0}
"""Weights of the risk-weighted harmful-confidence rate."""
CURVE_POINTS = 200
"""Most points kept of a risk-coverage curve."""
NO_CONFIDENCE = "the judge's verdicts carry no confidence"


class CalibrationFigures(BaseModel):
    """Calibration of the judge's confidence, or why it is not available."""

    model_config = _CONFIG
    available: bool
    reason: str | None = None
    n_items: int = 0
    ece: StatResult | None = None
    brier: StatResult | None = None
    reliability: ReliabilityDiagram | None = None
    risk_coverage: RiskCoverageCurve | None = None


class RateGroup(BaseModel):
    """The harmful-confidence rate of one risk tier or segment."""

    model_config = _CONFIG
    key: str
    n_items: int
    n_harmful: int
    rate: float


class HarmfulItem(BaseModel):
    """One confidently wrong verdict."""

    model_config = _CONFIG
    item_id: str
    confidence: float
    risk: str


class HarmfulFigures(BaseModel):
    """Harmful confidence, or why it is not available."""

    model_config = _CONFIG
    available: bool
    reason: str | None = None
    threshold: float
    rate: StatResult | None = None
    n_harmful: int = 0
    risk_weighted_rate: float | None = None
    per_risk: list[RateGroup] = []
    per_segment: list[RateGroup] = []
    worst: list[HarmfulItem] = []


def _thin(curve: RiskCoverageCurve) -> RiskCoverageCurve:
    n = len(curve.coverage)
    if n <= CURVE_POINTS:
        return curve
    keep = np.unique(np.linspace(0, n - 1, CURVE_POINTS).round().astype(int))
    return RiskCoverageCurve(
        coverage=[curve.coverage[i] for i in keep],
        risk=[curve.risk[i] for i in keep],
        thresholds=[curve.thresholds[i] for i in keep],
    )


def _groups(per: dict[str, dict[str, float]]) -> list[RateGroup]:
    return [
        RateGroup(key=k, n_items=int(v["n_items"]), n_harmful=int(v["n_harmful"]), rate=float(v["rate"]))
        for k, v in sorted(per.items())
    ]


def confidence_figures(data: AlignedRatings, c: TrustCriteria) -> tuple[CalibrationFigures, HarmfulFigures]:
    """Calibration and harmful-confidence figures of ``data`` (see the module docstring)."""
    scored = data.has_reference & data.ok
    sel = scored & np.isfinite(data.confidence)
    if not sel.any():
        return (
            CalibrationFigures(available=False, reason=NO_CONFIDENCE),
            HarmfulFigures(available=False, reason=NO_CONFIDENCE, threshold=c.confidence_threshold),
        )
    correct = data.correct[sel].astype(float)
    conf = data.confidence[sel]
    n = int(sel.sum())
    ece = expected_calibration_error(conf, correct, n_bins=10, convention="top_label")
    brier = brier_score(correct, conf)
    calibration = CalibrationFigures(
        available=True,
        n_items=n,
        ece=point(figure_name("ece"), ece.value, n),
        brier=point(figure_name("brier"), brier.value, n),
        reliability=reliability_diagram(conf, correct, n_bins=10),
        risk_coverage=_thin(risk_coverage_curve(conf, correct)),
    )
    risk = np.array([UNASSESSED if r is None else str(r) for r in data.risk[scored]], dtype=object)
    hc = harmful_confidence(
        data.correct[scored],
        data.confidence[scored],
        threshold=c.confidence_threshold,
        risk=risk,
        segment=data.segment[scored],
        risk_weights=RISK_WEIGHTS,
        item_ids=np.asarray(data.item_ids, dtype=object)[scored],
    )
    harmful = HarmfulFigures(
        available=hc.available,
        reason=hc.reason,
        threshold=c.confidence_threshold,
        rate=wilson(figure_name("harmful_rate"), hc.n_harmful, hc.n_items, c.confidence_level)
        if hc.available
        else None,
        n_harmful=hc.n_harmful,
        risk_weighted_rate=hc.risk_weighted_rate,
        per_risk=_groups(hc.per_risk),
        per_segment=_groups(hc.per_segment),
        worst=[
            HarmfulItem(item_id=str(w["item_id"]), confidence=float(w["confidence"]), risk=str(w["risk"]))
            for w in hc.worst
        ],
    )
    return calibration, harmful
