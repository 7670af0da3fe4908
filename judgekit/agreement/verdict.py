"""From evidence to verdict: a registry of criteria, each judged on the interval of one figure.

Each criterion ends ``pass`` (the whole interval is on the good side of its threshold), ``fail`` (the whole interval
is on the bad side), ``inconclusive`` (the interval straddles it, or evidence is missing) or ``not_applicable``.
The verdict is NOT TRUSTED if any criterion fails, INSUFFICIENT EVIDENCE if none fails but one is inconclusive,
TRUSTED only when every applicable criterion passes.

A criterion is one function registered with :func:`criterion`: it reads a :class:`ScaleEvidence` and the
:class:`TrustCriteria` and returns a :class:`CriterionResult`. Adding a statistic to the verdict is therefore:
measure it into :class:`~judgekit.agreement.evidence.ScaleEvidence`, give its threshold a field of
:class:`TrustCriteria`, and register one function here (a test can register one from outside the package)::

    @criterion("my_statistic", "what it measures")
    def _mine(e: ScaleEvidence, c: TrustCriteria) -> CriterionResult:
        return judged("my_statistic", "what it measures", e.my_figure, c.min_my_statistic, ">=")
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

from judgekit.agreement.criteria import TrustCriteria
from judgekit.agreement.evidence import ScaleEvidence
from judgekit.stats import StatResult

__all__ = [
    "CRITERIA",
    "CriterionResult",
    "CriterionRule",
    "Outcome",
    "Verdict",
    "criterion",
    "evaluate",
    "judged",
    "outcome_of",
    "verdict_of",
]

Verdict = Literal["TRUSTED", "NOT TRUSTED", "INSUFFICIENT EVIDENCE"]
Outcome = Literal["pass", "fail", "inconclusive", "not_applicable"]
Direction = Literal[">=", "<="]
_CONFIG = ConfigDict(frozen=True, ser_json_inf_nan="constants")


class CriterionResult(BaseModel):
    """One line of the verdict: what was measured (a named figure with its n), against which threshold, with
    what outcome."""

    model_config = _CONFIG
    name: str
    description: str
    measured: StatResult | None
    threshold: float | None
    direction: Direction
    outcome: Outcome
    reason: str


@dataclass(frozen=True)
class CriterionRule:
    """A registered criterion."""

    name: str
    description: str
    evaluate: Callable[[ScaleEvidence, TrustCriteria], CriterionResult]
    applies: Callable[[ScaleEvidence], bool] | None = None
    """When given, the criterion is listed only for the evidence it holds for (numeric ones: interval scales)."""


CRITERIA: list[CriterionRule] = []
"""Every criterion, in the order the verdict lists them."""


def criterion(
    name: str, description: str, *, applies: Callable[[ScaleEvidence], bool] | None = None
) -> Callable[[Callable[[ScaleEvidence, TrustCriteria], CriterionResult]], CriterionRule]:
    """Register a criterion function under ``name`` (replacing one of the same name); ``applies`` limits it to
    the evidence it holds for (e.g. interval scales)."""

    def register(fn: Callable[[ScaleEvidence, TrustCriteria], CriterionResult]) -> CriterionRule:
        rule = CriterionRule(name, description, fn, applies)
        for i, old in enumerate(CRITERIA):
            if old.name == name:
                CRITERIA[i] = rule
                return rule
        CRITERIA.append(rule)
        return rule

    return register


def outcome_of(fig: StatResult | None, threshold: float, direction: Direction) -> Outcome:
    """pass when the whole interval is on the good side of ``threshold``, fail when all of it is on the bad side,
    inconclusive when it straddles the threshold (a figure without an interval counts as a point)."""
    if fig is None or math.isnan(fig.value):
        return "not_applicable"
    low = fig.value if fig.low is None or math.isnan(fig.low) else fig.low
    high = fig.value if fig.high is None or math.isnan(fig.high) else fig.high
    good, bad = (low >= threshold, high < threshold) if direction == ">=" else (high <= threshold, low > threshold)
    return "pass" if good else "fail" if bad else "inconclusive"


def judged(
    name: str,
    description: str,
    fig: StatResult | None,
    threshold: float,
    direction: Direction,
    reason: str,
    *,
    missing: Outcome = "not_applicable",
) -> CriterionResult:
    """A criterion judged on ``fig``'s interval by :func:`outcome_of` (``missing`` when the figure is undefined)."""
    o = outcome_of(fig, threshold, direction)
    return CriterionResult(
        name=name,
        description=description,
        measured=fig,
        threshold=threshold,
        direction=direction,
        outcome=missing if o == "not_applicable" else o,
        reason=reason,
    )


def evaluate(e: ScaleEvidence, c: TrustCriteria) -> list[CriterionResult]:
    """Every registered criterion on ``e``."""
    return [rule.evaluate(e, c) for rule in CRITERIA if rule.applies is None or rule.applies(e)]


def verdict_of(results: list[CriterionResult]) -> tuple[Verdict, list[str]]:
    """The verdict and its reasons (the failing criteria, else the inconclusive ones)."""
    fails = [x for x in results if x.outcome == "fail"]
    unsure = [x for x in results if x.outcome == "inconclusive"]
    if fails:
        return "NOT TRUSTED", [f"{x.name}: {x.reason}" for x in fails]
    if unsure:
        return "INSUFFICIENT EVIDENCE", [f"{x.name}: {x.reason}" for x in unsure]
    return "TRUSTED", ["every applicable criterion passes on its interval"]


# -- the criteria ------------------------------------------------------------------------------------------------


@criterion("enough_items", "labelled items with a judge verdict")
def _enough_items(e: ScaleEvidence, c: TrustCriteria) -> CriterionResult:
    judged_n = int(e.items_judged.value)
    ok = judged_n >= c.min_items
    reason = f"{judged_n} labelled items judged" + (
        "" if ok else f"; label/judge at least {c.min_items - judged_n} more"
    )
    s = e.sample_size
    if s.available and s.more_items_needed:
        reason += (
            f"; kappa interval width {s.current_width:.3f}: about {s.more_items_needed} more labelled items would "
            f"narrow it to {s.target_width}"
        )
    return CriterionResult(
        name="enough_items",
        description="labelled items with a judge verdict",
        measured=e.items_judged,
        threshold=float(c.min_items),
        direction=">=",
        outcome="pass" if ok else "inconclusive",
        reason=reason,
    )


@criterion("human_ceiling_measurable", "mean annotators per item, and an annotator pair with enough shared items")
def _ceiling_measurable(e: ScaleEvidence, c: TrustCriteria) -> CriterionResult:
    per_item = e.annotators_per_item.value
    enough = per_item >= c.min_annotators_per_item
    counted = e.ceiling.n_pairs_counted > 0
    if not enough:
        reason = f"{per_item:.2f} annotators per item: too few to measure human-human agreement"
    elif not counted:
        reason = (
            f"{per_item:.2f} annotators per item, but no annotator pair shares {c.min_pair_overlap} items "
            "(min_pair_overlap): label an overlap set with several people"
        )
    else:
        reason = f"{per_item:.2f} annotators per item; {e.ceiling.n_pairs_counted} annotator pair(s) counted"
    return CriterionResult(
        name="human_ceiling_measurable",
        description="mean annotators per item, and an annotator pair with enough shared items",
        measured=e.annotators_per_item,
        threshold=c.min_annotators_per_item,
        direction=">=",
        outcome="pass" if enough and counted else "inconclusive",
        reason=reason,
    )


@criterion("human_agreement", "Krippendorff's alpha among annotators (the rubric is clear enough to validate against)")
def _human_agreement(e: ScaleEvidence, c: TrustCriteria) -> CriterionResult:
    alpha = e.ceiling.alpha
    o = outcome_of(alpha, c.min_human_agreement, ">=")
    return CriterionResult(
        name="human_agreement",
        description="Krippendorff's alpha among annotators (the rubric is clear enough to validate against)",
        measured=alpha,
        threshold=c.min_human_agreement,
        direction=">=",
        outcome="inconclusive" if o == "fail" else o,  # not the judge's fault: the rubric is unclear
        reason="people disagree too much: clarify the rubric before trusting any judge"
        if o == "fail"
        else f"humans agree at alpha {alpha.fmt()}",
    )


@criterion("judge_kappa", "judge vs reference label, Cohen's kappa, failures counted as wrong")
def _judge_kappa(e: ScaleEvidence, c: TrustCriteria) -> CriterionResult:
    fig = e.judge.kappa.failures_as_wrong
    return judged(
        "judge_kappa",
        "judge vs reference label, Cohen's kappa, failures counted as wrong",
        fig,
        c.min_kappa,
        ">=",
        f"kappa {fig.fmt()} (n={fig.n_items}) vs threshold {c.min_kappa}",
    )


@criterion("gap_to_human_ceiling", "human ceiling minus the judge's kappa vs each annotator (failures as wrong)")
def _gap(e: ScaleEvidence, c: TrustCriteria) -> CriterionResult:
    fig = e.judge.gap.failures_as_wrong
    return judged(
        "gap_to_human_ceiling",
        "human ceiling minus the judge's kappa vs each annotator (failures as wrong)",
        fig,
        c.max_gap_to_ceiling,
        "<=",
        f"the judge is {fig.fmt()} kappa below a typical annotator",
    )


@criterion("failure_rate", "share of parse errors, refusals, API errors and missing verdicts")
def _failure_rate(e: ScaleEvidence, c: TrustCriteria) -> CriterionResult:
    fig = e.judge.failure_rate
    return judged(
        "failure_rate",
        "share of parse errors, refusals, API errors and missing verdicts",
        fig,
        c.max_failure_rate,
        "<=",
        f"{fig.fmt()} of {fig.n_items} verdicts failed",
    )


@criterion("alt_test", "alternative annotator test winning rate (Calderon et al. 2025)")
def _alt_test(e: ScaleEvidence, c: TrustCriteria) -> CriterionResult:
    alt = e.judge.alt_test
    desc = "alternative annotator test winning rate (Calderon et al. 2025)"
    if not alt.available or alt.winning_rate is None:
        return CriterionResult(
            name="alt_test",
            description=desc,
            measured=None,
            threshold=0.5,
            direction=">=",
            outcome="not_applicable",
            reason=alt.reason or "not available",
        )
    fig = alt.winning_rate
    return CriterionResult(
        name="alt_test",
        description=desc,
        measured=fig,
        threshold=0.5,
        direction=">=",
        outcome="pass" if alt.passed else "fail",
        reason=f"the judge beats {fig.value:.0%} of annotators (epsilon {alt.epsilon}); advantage probability "
        f"{alt.advantage_probability:.3f}",
    )


@criterion("calibration_ece", "expected calibration error (top-label)")
def _ece(e: ScaleEvidence, c: TrustCriteria) -> CriterionResult:
    cal = e.calibration
    fig = cal.ece if cal.available else None
    reason = f"ECE {fig.value:.3f} on {fig.n_items} items" if fig is not None else f"not available: {cal.reason}"
    return judged("calibration_ece", "expected calibration error (top-label)", fig, c.max_ece, "<=", reason)


@criterion("harmful_confidence", "wrong with confidence >= the confidence threshold")
def _harmful(e: ScaleEvidence, c: TrustCriteria) -> CriterionResult:
    h = e.harmful
    fig = h.rate if h.available else None
    reason = (
        f"{fig.fmt()} of {fig.n_items} verdicts are confidently wrong"
        if fig is not None
        else f"not available: {h.reason}"
    )
    return judged(
        "harmful_confidence",
        f"wrong with confidence >= {c.confidence_threshold}",
        fig,
        c.max_harmful_rate,
        "<=",
        reason,
    )


# -- numeric scales (interval criteria): judged on the intervals of judgekit.agreement.numeric ------------------


def _numeric_scale(e: ScaleEvidence) -> bool:
    return e.numeric is not None


def _numeric_missing(
    name: str, description: str, threshold: float | None, direction: Direction, why: str
) -> CriterionResult:
    return CriterionResult(
        name=name,
        description=description,
        measured=None,
        threshold=threshold,
        direction=direction,
        outcome="not_applicable",
        reason=why,
    )


@criterion("judge_icc", applies=_numeric_scale, description="judge vs mean human score, ICC(A,1) (interval scales)")
def _judge_icc(e: ScaleEvidence, c: TrustCriteria) -> CriterionResult:
    desc = "judge vs mean human score, ICC(A,1) (interval scales)"
    fig = e.numeric.judge_icc if e.numeric is not None else None
    if fig is None:
        why = "not an interval scale" if e.numeric is None else "fewer than 3 items with both scores"
        return _numeric_missing("judge_icc", desc, c.min_icc, ">=", why)
    ceiling = e.numeric.human_icc if e.numeric is not None else None
    beside = f"; people among themselves {ceiling.fmt()}" if ceiling is not None else ""
    return judged("judge_icc", desc, fig, c.min_icc, ">=", f"ICC {fig.fmt()} (n={fig.n_items}){beside}")


@criterion(
    "judge_mae",
    applies=_numeric_scale,
    description="judge vs mean human score, mean absolute error in score units (interval scales)",
)
def _judge_mae(e: ScaleEvidence, c: TrustCriteria) -> CriterionResult:
    desc = "judge vs mean human score, mean absolute error in score units (interval scales)"
    fig = e.numeric.judge_mae if e.numeric is not None else None
    if fig is None or c.max_mae is None:
        why = "not an interval scale" if e.numeric is None else "no max_mae set" if fig else "too few items"
        return _numeric_missing("judge_mae", desc, c.max_mae, "<=", why)
    return judged("judge_mae", desc, fig, c.max_mae, "<=", f"the judge is {fig.fmt()} points off (n={fig.n_items})")


@criterion(
    "judge_bias",
    applies=_numeric_scale,
    description="judge - people, mean bias in score units, either sign (interval scales)",
)
def _judge_bias(e: ScaleEvidence, c: TrustCriteria) -> CriterionResult:
    desc = "judge - people, mean bias in score units, either sign (interval scales)"
    fig = e.numeric.judge_bias if e.numeric is not None else None
    t = c.max_abs_bias
    if fig is None or t is None or math.isnan(fig.value):
        why = "not an interval scale" if e.numeric is None else "no max_abs_bias set" if fig else "too few items"
        return _numeric_missing("judge_bias", desc, t, "<=", why)
    low = fig.value if fig.low is None else fig.low
    high = fig.value if fig.high is None else fig.high
    # pass: the whole interval within [-t, t]; fail: all of it outside; else inconclusive
    outcome: Outcome = "pass" if -t <= low and high <= t else "fail" if low > t or high < -t else "inconclusive"
    loa = fig.details
    return CriterionResult(
        name="judge_bias",
        description=desc,
        measured=fig,
        threshold=t,
        direction="<=",
        outcome=outcome,
        reason=f"mean bias {fig.fmt()} (n={fig.n_items}), limits of agreement "
        f"{loa.get('loa_low', float('nan')):.2f} to {loa.get('loa_high', float('nan')):.2f}",
    )
