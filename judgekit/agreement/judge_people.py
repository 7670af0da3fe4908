"""Judge vs people: how well one judge run agrees with the human labels, on both bases, beside the ceiling.

Estimands (see :mod:`judgekit.agreement.estimands`), each on two bases: ``failures_as_wrong`` (a parse error,
refusal, API error or missing verdict is a stand-in label :data:`~judgekit.agreement.data.NO_VERDICT` that
agrees with nobody, so a judge that skips hard items does not look better) and ``ok_only`` (the items with an
``ok`` verdict):

* ``judge_kappa``: Cohen's kappa against the reference label (:mod:`~judgekit.agreement.reference`), quadratic
  weights on ordinal scales, a failed verdict earning no credit against any level;
* ``judge_accuracy``: the share of reference-labelled items where the verdict equals the reference (Wilson 1927
  interval, sound near 0 and 1);
* ``judge_mean_kappa``: Cohen's kappa against each annotator on the items they labelled, averaged with the
  weights of the human ceiling (shared items, the same minimum overlap), so that ``gap_to_ceiling`` =
  ``human_ceiling - judge_mean_kappa`` compares like with like; the gap's interval comes from ONE paired bootstrap
  of every human pair and every judge-annotator pair (:func:`judgekit.stats.pair_kappas`);
* ``failure_rate``, ``alpha_with_judge`` (Krippendorff's alpha with the judge as one more rater) and the
  alternative annotator test (Calderon et al., ACL 2025).

:func:`judge_vs_reference` is the one computation of the judge's kappa and accuracy against the reference label;
the headline, every segment and risk tier, the admin page and the comparison of judges all call it, so a group
holding every item shows exactly the headline figures.
"""

from __future__ import annotations

import math
import warnings
from itertools import combinations

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict
from scipy import stats as sps

from judgekit.agreement.ceiling import HumanCeiling, alpha_level, alpha_levels, interval_figure, overlap_mean, point
from judgekit.agreement.criteria import TrustCriteria
from judgekit.agreement.data import NO_VERDICT, AlignedRatings, strict_weights
from judgekit.agreement.estimands import Basis, figure_name
from judgekit.models import Rubric
from judgekit.stats import (
    Coded,
    Interval,
    StatResult,
    UndefinedStatisticWarning,
    alt_test,
    krippendorff_alpha,
    pair_kappas,
)

__all__ = [
    "AlphaWithJudge",
    "AltTestAnnotator",
    "AltTestFigures",
    "AnnotatorAgreement",
    "BothBases",
    "JudgeVsPeople",
    "judge_mean_kappa_value",
    "judge_vs_people",
    "judge_vs_reference",
    "reference_figures",
    "wilson",
]

_CONFIG = ConfigDict(frozen=True, ser_json_inf_nan="constants")
FloatArray = NDArray[np.float64]


class BothBases(BaseModel):
    """One estimand on both bases: failed verdicts counted as wrong, and ok verdicts only."""

    model_config = _CONFIG
    failures_as_wrong: StatResult
    ok_only: StatResult

    def on(self, basis: Basis) -> StatResult:
        """The figure on ``basis``."""
        return self.failures_as_wrong if basis == "failures_as_wrong" else self.ok_only


class AnnotatorAgreement(BaseModel):
    """The judge against one annotator (points; the interval is on the weighted mean)."""

    model_config = _CONFIG
    annotator: str
    kappa: BothBases
    counted: bool
    """Shares at least ``min_pair_overlap`` items with the judge (failures-as-wrong basis)."""


class AlphaWithJudge(BaseModel):
    """Krippendorff's alpha with the judge as one more annotator, beside alpha of the annotators alone."""

    model_config = _CONFIG
    alpha: StatResult
    alpha_humans: float
    delta: float
    """``alpha - alpha_humans``: about 0 for a judge that behaves like one more careful annotator."""


class AltTestAnnotator(BaseModel):
    """The alternative annotator test against one annotator (Calderon et al. 2025)."""

    model_config = _CONFIG
    annotator: str
    n_items: int
    rho_judge: float
    rho_human: float
    p_value: float
    judge_wins: bool


class AltTestFigures(BaseModel):
    """The alternative annotator test, or why it could not run."""

    model_config = _CONFIG
    available: bool
    reason: str | None = None
    winning_rate: StatResult | None = None
    passed: bool | None = None
    advantage_probability: float | None = None
    epsilon: float
    per_annotator: list[AltTestAnnotator] = []
    skipped_annotators: list[str] = []


class JudgeVsPeople(BaseModel):
    """Every judge-vs-people figure of one run on one scale."""

    model_config = _CONFIG
    kappa: BothBases
    accuracy: BothBases
    mean_kappa: BothBases
    per_annotator: list[AnnotatorAgreement]
    gap: BothBases
    failure_rate: StatResult
    alpha_with_judge: AlphaWithJudge | None
    alt_test: AltTestFigures


def wilson(name: str, k: int, n: int, level: float) -> StatResult:
    """Share ``k/n`` with the Wilson score interval (Wilson 1927), sound near 0 and 1 where the normal one fails:
    ``(p + z²/2n ± z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)``."""
    if n == 0:
        return point(name, float("nan"), 0)
    z = float(sps.norm.ppf(0.5 + level / 2))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    iv = Interval(low=max(0.0, centre - half), high=min(1.0, centre + half), level=level, method="wilson")
    return StatResult(name=name, value=p, n_items=n, interval=iv)


def judge_vs_reference(data: AlignedRatings, c: TrustCriteria) -> tuple[BothBases, BothBases]:
    """The judge's Cohen's kappa and accuracy against the reference label, on both bases (see
    :func:`reference_figures`)."""
    return reference_figures(data.reference_codes, data.judge_codes, data.rubric, c)


def reference_figures(
    reference_codes: NDArray[np.int64], judge_codes: NDArray[np.int64], rubric: Rubric, c: TrustCriteria
) -> tuple[BothBases, BothBases]:
    """Kappa and accuracy of judge codes (``-1``: no ok verdict) against reference codes (``-1``: none).

    Kappa: one paired bootstrap (``c.n_boot`` resamples, seed ``c.seed``) of the pairs (reference, strict judge)
    and (reference, ok-only judge) over the items with a reference label; accuracy: Wilson intervals. The one
    computation behind the headline, every segment and risk tier, the admin page and the comparison of judges.
    """
    k = len(rubric.scale.values)
    has_ref = reference_codes >= 0
    ok = judge_codes >= 0
    n_ref = int(has_ref.sum())
    n_ok = int((has_ref & ok).sum())
    correct = int((has_ref & (judge_codes == reference_codes)).sum())
    names = {b: figure_name("judge_kappa", b) for b in ("failures_as_wrong", "ok_only")}
    kap = {b: point(nm, float("nan"), n_ref if b == "failures_as_wrong" else n_ok) for b, nm in names.items()}
    if n_ref >= 2:
        strict = np.where(ok, judge_codes, k)
        cols = np.column_stack([reference_codes, strict, judge_codes])[has_ref]
        coded = Coded.from_codes(cols, [*rubric.scale.values, NO_VERDICT])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedStatisticWarning)
            pk = pair_kappas(coded, [(0, 1), (0, 2)], weights=strict_weights(rubric), n_boot=c.n_boot, seed=c.seed)
        for q, b in enumerate(("failures_as_wrong", "ok_only")):
            kap[b] = interval_figure(names[b], float(pk.value[q]), int(pk.n[q]), pk.boot[:, q], c)
    acc_s = wilson(figure_name("judge_accuracy", "failures_as_wrong"), correct, n_ref, c.confidence_level)
    acc_o = wilson(figure_name("judge_accuracy", "ok_only"), correct, n_ok, c.confidence_level)
    return (
        BothBases(failures_as_wrong=kap["failures_as_wrong"], ok_only=kap["ok_only"]),
        BothBases(failures_as_wrong=acc_s, ok_only=acc_o),
    )


def _mean_and_gap(
    data: AlignedRatings, ceiling: HumanCeiling, c: TrustCriteria
) -> tuple[BothBases, BothBases, list[AnnotatorAgreement]]:
    """The judge's overlap-weighted mean kappa vs each annotator and the gap to the ceiling, on both bases, from
    one paired bootstrap of every human pair and every (annotator, judge) pair."""
    m = len(data.annotators)
    n_multi = ceiling.kappa.n_items
    human_pairs = list(combinations(range(m), 2))
    judge_pairs = [(a, m) for a in range(m)] + [(a, m + 1) for a in range(m)]
    nan = float("nan")
    mean = {b: point(figure_name("judge_mean_kappa", b), nan, 0) for b in ("failures_as_wrong", "ok_only")}
    gap = {b: point(figure_name("gap_to_ceiling", b), nan, 0) for b in ("failures_as_wrong", "ok_only")}
    per: list[AnnotatorAgreement] = []
    if m == 0 or data.n_items < 2:
        return BothBases(**mean), BothBases(**gap), per
    cols = np.column_stack([data.human_codes, data.judge_strict_codes, data.judge_codes])
    coded = Coded.from_codes(cols, data.strict_levels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedStatisticWarning)
        pk = pair_kappas(
            coded, human_pairs + judge_pairs, weights=strict_weights(data.rubric), n_boot=c.n_boot, seed=c.seed
        )
    h = slice(0, len(human_pairs))
    h_counted = (pk.n[h] >= c.min_pair_overlap) & np.isfinite(pk.value[h])
    ceil_boot = overlap_mean(pk.boot[:, h], pk.boot_n[:, h], h_counted) if human_pairs else None
    bases: tuple[Basis, ...] = ("failures_as_wrong", "ok_only")
    for q, b in enumerate(bases):
        j = slice(len(human_pairs) + q * m, len(human_pairs) + (q + 1) * m)
        counted = (pk.n[j] >= c.min_pair_overlap) & np.isfinite(pk.value[j])
        value = float(overlap_mean(pk.value[j], pk.n[j].astype(float), counted))
        n_b = data.n_items if b == "failures_as_wrong" else int(data.ok.sum())
        boot = overlap_mean(pk.boot[:, j], pk.boot_n[:, j], counted)
        mean[b] = interval_figure(figure_name("judge_mean_kappa", b), value, n_b, boot, c)
        if ceil_boot is not None:
            gap[b] = interval_figure(
                figure_name("gap_to_ceiling", b), ceiling.kappa.value - value, min(n_multi, n_b), ceil_boot - boot, c
            )
        if b == "failures_as_wrong":
            strict_counted, strict_v, strict_n = counted, pk.value[j], pk.n[j]
        else:
            ok_v, ok_n = pk.value[j], pk.n[j]
    per = [
        AnnotatorAgreement(
            annotator=name,
            kappa=BothBases(
                failures_as_wrong=point(figure_name("annotator_kappa", "failures_as_wrong"), strict_v[a], strict_n[a]),
                ok_only=point(figure_name("annotator_kappa", "ok_only"), ok_v[a], ok_n[a]),
            ),
            counted=bool(strict_counted[a]),
        )
        for a, name in enumerate(data.annotators)
    ]
    return BothBases(**mean), BothBases(**gap), per


def judge_mean_kappa_value(data: AlignedRatings, c: TrustCriteria) -> float:
    """The value of ``judge_mean_kappa`` (failures counted as wrong) alone: the overlap-weighted mean of the judge's
    kappa against each annotator, as :func:`judge_vs_people` reports it, without the bootstrap of its interval.

    Why: ``judgekit explain`` measures the gap again for every failure mode with the judge's verdicts on the
    group's items fixed (``gap_share``); those counterfactuals need point values only, and a bootstrap per group
    would make explaining (and the report) cost B times more. NaN when there is no annotator or fewer than 2 items.
    """
    m = len(data.annotators)
    if m == 0 or data.n_items < 2:
        return float("nan")
    coded = Coded.from_codes(np.column_stack([data.human_codes, data.judge_strict_codes]), data.strict_levels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedStatisticWarning)
        pk = pair_kappas(coded, [(a, m) for a in range(m)], weights=strict_weights(data.rubric), n_boot=0)
    counted = (pk.n >= c.min_pair_overlap) & np.isfinite(pk.value)
    return float(overlap_mean(pk.value, pk.n.astype(float), counted))


def _alpha_with_judge(data: AlignedRatings, ceiling: HumanCeiling) -> AlphaWithJudge | None:
    if len(data.annotators) < 2 or ceiling.alpha.n_items < 2:
        return None
    level = alpha_level(data.rubric)
    if level == "interval":  # a failed verdict has no number: the judge's ok scores only (on the grid)
        coded = Coded.from_codes(
            np.column_stack([data.human_codes, data.judge_codes]), alpha_levels(data.rubric, data.levels)
        )
    else:
        coded = Coded.from_codes(np.column_stack([data.human_codes, data.judge_strict_codes]), data.strict_levels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedStatisticWarning)
        res = krippendorff_alpha(coded, level=level)
    return AlphaWithJudge(
        alpha=point(figure_name("alpha_with_judge"), res.value, data.n_items),
        alpha_humans=ceiling.alpha.value,
        delta=res.value - ceiling.alpha.value,
    )


def _alt_test(data: AlignedRatings, c: TrustCriteria) -> AltTestFigures:
    m = len(data.annotators)
    if not c.require_alt_test:
        return AltTestFigures(available=False, reason="disabled in the configuration", epsilon=c.alt_test_epsilon)
    if m < 3 or data.n_items < 30:
        return AltTestFigures(
            available=False, reason="needs at least 3 annotators and 30 items", epsilon=c.alt_test_epsilon
        )
    human = np.where(data.human_codes >= 0, data.human_codes, np.nan).astype(float)
    ordinal = data.rubric.scale.kind == "ordinal"
    try:
        res = alt_test(
            human,
            data.judge_strict_codes.astype(float),
            epsilon=c.alt_test_epsilon,
            metric="neg_rmse" if ordinal else "accuracy",
        )
    except ValueError as exc:
        return AltTestFigures(available=False, reason=str(exc), epsilon=c.alt_test_epsilon)
    rows = [
        AltTestAnnotator(
            annotator=data.annotators[int(r["annotator"])],
            n_items=int(r["n_items"]),
            rho_judge=float(r["rho_judge"]),
            rho_human=float(r["rho_human"]),
            p_value=float(r["p_value"]),
            judge_wins=bool(r["judge_wins"]),
        )
        for r in res.per_annotator
    ]
    return AltTestFigures(
        available=True,
        winning_rate=point(figure_name("alt_test_winning_rate"), res.winning_rate, res.n_items),
        passed=res.passed,
        advantage_probability=res.advantage_probability,
        epsilon=res.epsilon,
        per_annotator=rows,
        skipped_annotators=[data.annotators[int(j)] for j in res.skipped_annotators],
    )


def judge_vs_people(data: AlignedRatings, ceiling: HumanCeiling, c: TrustCriteria) -> JudgeVsPeople:
    """Every judge-vs-people figure of ``data`` (one run, one scale), ``ceiling`` being the human ceiling of the
    same labels (see the module docstring)."""
    kappa, accuracy = judge_vs_reference(data, c)
    mean, gap, per = _mean_and_gap(data, ceiling, c)
    failures = int(data.n_items - data.ok.sum())
    return JudgeVsPeople(
        kappa=kappa,
        accuracy=accuracy,
        mean_kappa=mean,
        per_annotator=per,
        gap=gap,
        failure_rate=wilson(figure_name("failure_rate"), failures, data.n_items, c.confidence_level),
        alpha_with_judge=_alpha_with_judge(data, ceiling),
        alt_test=_alt_test(data, c),
    )
