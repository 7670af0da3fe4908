"""The trust verdict: is this judge good enough to drive optimisation, and if not, why?

For one judge run and the human labels of its rubric this computes the human ceiling, the judge's agreement
with people (with bootstrap intervals), failure rates, calibration and harmful confidence where confidence
exists, breakdowns per segment and risk tier, the alternative annotator test, and how many more labels would
make the evidence precise. Each criterion of :class:`~judgekit.agreement.criteria.TrustCriteria` ends in
``pass`` (the whole interval is on the good side of the threshold), ``fail`` (the whole interval is on the bad
side), ``inconclusive`` (the interval straddles it) or ``not_applicable``. The verdict is NOT TRUSTED if any
criterion fails, INSUFFICIENT EVIDENCE if none fails but one is inconclusive or evidence is missing, and
TRUSTED only when every applicable criterion passes.
"""

from __future__ import annotations

import math
import warnings
from itertools import combinations
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field
from scipy import stats as sps

from judgekit.agreement.criteria import TrustCriteria
from judgekit.agreement.data import NO_VERDICT, AlignedRatings, load_aligned
from judgekit.models import JudgeRun, Rubric
from judgekit.stats import (
    UndefinedStatisticWarning,
    alpha_with_judge,
    alt_test,
    brier_score,
    cohen_kappa,
    confusion_matrix,
    expected_calibration_error,
    harmful_confidence,
    krippendorff_alpha,
    reliability_diagram,
    risk_coverage_curve,
    sample_size_for_ci_width,
)
from judgekit.storage import Project

Verdict = Literal["TRUSTED", "NOT TRUSTED", "INSUFFICIENT EVIDENCE"]
Outcome = Literal["pass", "fail", "inconclusive", "not_applicable"]
_CONFIG = ConfigDict(frozen=True, ser_json_inf_nan="constants")
UNASSESSED = "unassessed"
"""The risk tier of an item whose metadata names none: a normal case (the default), not an error."""
RISK_WEIGHTS = {"low": 1.0, "medium": 2.0, "high": 4.0, UNASSESSED: 1.0}
"""Weights of the risk-weighted harmful-confidence rate; an item without a tier weighs as a low-risk one."""


class Figure(BaseModel):
    """A measured value with its confidence interval (``low``/``high`` are None when not computed)."""

    model_config = _CONFIG
    value: float
    low: float | None = None
    high: float | None = None
    n: int = 0

    def fmt(self, digits: int = 3) -> str:
        """``0.512 [0.471, 0.556]``."""
        if math.isnan(self.value):
            return "n/a"
        if self.low is None or self.high is None:
            return f"{self.value:.0f}" if float(self.value).is_integer() else f"{self.value:.{digits}f}"
        return f"{self.value:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"


class CriterionResult(BaseModel):
    """One line of the verdict: what was measured, against which threshold, with what outcome."""

    model_config = _CONFIG
    name: str
    description: str
    measured: Figure | None
    threshold: float | None
    direction: Literal[">=", "<="]
    outcome: Outcome
    reason: str


class SegmentResult(BaseModel):
    """Judge-human agreement on one segment or risk tier."""

    model_config = _CONFIG
    key: str
    n_items: int
    accuracy: float
    kappa: Figure
    failure_rate: float


class TrustAssessment(BaseModel):
    """Everything behind the verdict for one judge run; ``model_dump_json()`` is the ``--json`` output."""

    model_config = _CONFIG
    run: str
    model: str
    provider: str
    rubric: str
    scale: str
    verdict: Verdict
    reasons: list[str]
    criteria: list[CriterionResult]
    n_items_labelled: int
    n_items_with_majority: int
    n_annotators: int
    mean_annotators_per_item: float
    status_counts: dict[str, int]
    human_alpha: Figure
    human_mean_kappa: Figure
    human_pairwise_kappa: dict[str, float]
    judge_kappa: Figure
    judge_kappa_ok_only: Figure
    judge_accuracy: Figure
    judge_mean_kappa_vs_humans: Figure
    judge_kappa_vs_each_human: dict[str, float]
    gap_to_ceiling: Figure
    alpha_with_judge: dict[str, float]
    alt_test: dict[str, Any] | None
    confusion: dict[str, Any]
    per_segment: list[SegmentResult]
    per_risk: list[SegmentResult]
    calibration: dict[str, Any]
    harmful: dict[str, Any]
    sample_size: dict[str, Any]
    criteria_config: dict[str, Any] = Field(default_factory=dict)


def _weights(rubric: Rubric) -> str | None:
    return "quadratic" if rubric.scale.kind == "ordinal" else None


def strict_weights(rubric: Rubric) -> NDArray[np.float64]:
    """Agreement weights over the levels plus :data:`NO_VERDICT`, which earns no credit against any level."""
    k = len(rubric.scale.values)
    w = np.zeros((k + 1, k + 1))
    if rubric.scale.kind == "ordinal":
        idx = np.arange(k, dtype=float)
        w[:k, :k] = 1.0 - (idx[:, None] - idx[None, :]) ** 2 / max(k - 1, 1) ** 2
    else:
        w[:k, :k] = np.eye(k)
    w[k, k] = 1.0
    return w


def _figure(result: Any) -> Figure:
    iv = result.interval
    return Figure(
        value=result.value, low=None if iv is None else iv.low, high=None if iv is None else iv.high, n=result.n_items
    )


def _wilson(k: int, n: int, level: float) -> Figure:
    """Share ``k/n`` with the Wilson score interval (Wilson 1927), sound near 0 and 1 where the normal one fails."""
    if n == 0:
        return Figure(value=float("nan"), n=0)
    z = float(sps.norm.ppf(0.5 + level / 2))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Figure(value=p, low=max(0.0, centre - half), high=min(1.0, centre + half), n=n)


def _outcome(fig: Figure | None, threshold: float, direction: Literal[">=", "<="]) -> Outcome:
    """pass when the whole interval is on the good side of ``threshold``, fail when all of it is on the bad side,
    inconclusive when it straddles the threshold (a figure without an interval counts as a point)."""
    if fig is None or math.isnan(fig.value):
        return "not_applicable"
    low = fig.value if fig.low is None else fig.low
    high = fig.value if fig.high is None else fig.high
    good, bad = (low >= threshold, high < threshold) if direction == ">=" else (high <= threshold, low > threshold)
    return "pass" if good else "fail" if bad else "inconclusive"


def _mean_pairwise_kappa(human: NDArray[np.object_], levels: list[str], weights: Any) -> tuple[float, dict[str, float]]:
    pairs: dict[str, float] = {}
    for i, j in combinations(range(human.shape[1]), 2):
        both = (human[:, i] != None) & (human[:, j] != None)  # noqa: E711 - elementwise on object arrays
        if both.sum() < 2:
            continue
        pairs[f"{i}-{j}"] = cohen_kappa(human[both][:, [i, j]], weights=weights, levels=levels).value
    vals = [v for v in pairs.values() if not math.isnan(v)]
    return (float(np.mean(vals)) if vals else float("nan")), pairs


def _mean_judge_kappa(
    human: NDArray[np.object_], judge: NDArray[np.object_], levels: list[str], weights: Any
) -> tuple[float, dict[str, float]]:
    per: dict[str, float] = {}
    for i in range(human.shape[1]):
        has = human[:, i] != None  # noqa: E711
        if has.sum() < 2:
            continue
        per[str(i)] = cohen_kappa(np.column_stack([human[has, i], judge[has]]), weights=weights, levels=levels).value
    vals = [v for v in per.values() if not math.isnan(v)]
    return (float(np.mean(vals)) if vals else float("nan")), per


def assess(data: AlignedRatings, run: JudgeRun, criteria: TrustCriteria | None = None) -> TrustAssessment:
    """Compute the trust assessment of ``run`` from aligned ratings (see the module docstring)."""
    c = criteria or TrustCriteria()
    rubric = data.rubric
    levels = data.levels
    strict_levels = [*levels, NO_VERDICT]
    weights = _weights(rubric)
    sw = strict_weights(rubric)
    boot: dict[str, Any] = {"ci": True, "n_boot": c.n_boot, "seed": c.seed}
    n = len(data.item_ids)
    m = len(data.annotators)
    per_item = (data.human != None).sum(axis=1) if n else np.zeros(0)  # noqa: E711
    mean_per_item = float(per_item.mean()) if n else 0.0
    status_counts = {s: int((data.status == s).sum()) for s in ("ok", "parse_error", "refused", "api_error", "missing")}
    has_major = data.has_majority
    maj = data.majority[has_major]
    jstrict = data.judge_strict[has_major]
    ok_mask = data.status[has_major] == "ok"

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedStatisticWarning)
        multi = m >= 2 and n >= 2 and (per_item >= 2).sum() >= 2
        if multi:
            human_alpha = _figure(
                krippendorff_alpha(
                    data.human,
                    level=rubric.scale.stats_level,
                    levels=levels,
                    ci=True,
                    n_boot=c.n_boot,
                    seed=c.seed,
                    ci_level=c.confidence_level,
                )
            )
        else:
            human_alpha = Figure(value=float("nan"), n=n)
        enough = len(maj) >= 2
        if enough:
            jk = _figure(
                cohen_kappa(
                    np.column_stack([maj, jstrict]), weights=sw, levels=strict_levels, level=c.confidence_level, **boot
                )
            )
            acc_k = int((maj == jstrict).sum())
            judge_acc = _wilson(acc_k, len(maj), c.confidence_level)
            if ok_mask.sum() >= 2:
                jk_ok = _figure(
                    cohen_kappa(
                        np.column_stack([maj[ok_mask], jstrict[ok_mask]]),
                        weights=weights,
                        levels=levels,
                        level=c.confidence_level,
                        **boot,
                    )
                )
            else:
                jk_ok = Figure(value=float("nan"))
        else:
            jk = jk_ok = judge_acc = Figure(value=float("nan"), n=len(maj))

        ceiling_mean, pairwise = _mean_pairwise_kappa(data.human, levels, weights)
        judge_mean, per_human = _mean_judge_kappa(data.human, data.judge_strict, strict_levels, sw)
        if multi and n >= 10:
            human_mean_fig, judge_mean_fig, gap = _ceiling_intervals(data, levels, weights, sw, c)
        else:
            human_mean_fig = Figure(value=ceiling_mean, n=n)
            judge_mean_fig = Figure(value=judge_mean, n=n)
            gap = Figure(value=ceiling_mean - judge_mean, n=n)

        awj: dict[str, float] = {}
        if multi:
            awj = {
                k: float(v)
                for k, v in alpha_with_judge(
                    data.human, data.judge_strict, level=rubric.scale.stats_level, levels=strict_levels
                ).details.items()
            }
        alt: dict[str, Any] | None = None
        if m >= 3 and n >= 30:
            try:
                res = alt_test(
                    data.human,
                    data.judge_strict,
                    epsilon=c.alt_test_epsilon,
                    metric="neg_rmse" if rubric.scale.kind == "ordinal" else "accuracy",
                )
                alt = res.model_dump(mode="json")
            except ValueError as exc:
                alt = {"error": str(exc)}

    cm = confusion_matrix(maj, jstrict, levels=strict_levels) if enough else None
    confusion = {
        "levels": strict_levels,
        "matrix": list(cm.matrix) if cm is not None else [],
        "rows": "human majority",
        "columns": "judge",
    }
    per_segment = _breakdown(data, data.segment, c, sw, strict_levels)
    per_risk = _breakdown(data, data.risk, c, sw, strict_levels, missing=UNASSESSED)
    calibration, harmful = _confidence_figures(data, c)
    failures = n - status_counts["ok"]
    failure = _wilson(failures, n, c.confidence_level)
    sample = _sample_size(jk, c)

    crit = _criteria(c, data, n, mean_per_item, human_alpha, jk, gap, failure, alt, calibration, harmful, sample)
    verdict, reasons = _verdict(crit)
    return TrustAssessment(
        run=run.name,
        model=run.config.model,
        provider=run.config.provider,
        rubric=rubric.key,
        scale=rubric.scale.kind,
        verdict=verdict,
        reasons=reasons,
        criteria=crit,
        n_items_labelled=n,
        n_items_with_majority=int(has_major.sum()),
        n_annotators=m,
        mean_annotators_per_item=mean_per_item,
        status_counts=status_counts,
        human_alpha=human_alpha,
        human_mean_kappa=human_mean_fig,
        human_pairwise_kappa={_pair_name(data, k): v for k, v in pairwise.items()},
        judge_kappa=jk,
        judge_kappa_ok_only=jk_ok,
        judge_accuracy=judge_acc,
        judge_mean_kappa_vs_humans=judge_mean_fig,
        judge_kappa_vs_each_human={data.annotators[int(k)]: v for k, v in per_human.items()},
        gap_to_ceiling=gap,
        alpha_with_judge=awj,
        alt_test=alt,
        confusion=confusion,
        per_segment=per_segment,
        per_risk=per_risk,
        calibration=calibration,
        harmful=harmful,
        sample_size=sample,
        criteria_config=c.model_dump(),
    )


def _pair_name(data: AlignedRatings, key: str) -> str:
    i, j = (int(x) for x in key.split("-"))
    return f"{data.annotators[i]} vs {data.annotators[j]}"


def _ceiling_intervals(
    data: AlignedRatings, levels: list[str], weights: Any, sw: NDArray[np.float64], c: TrustCriteria
) -> tuple[Figure, Figure, Figure]:
    """Paired percentile bootstrap (items resampled, one draw for all three) of the mean human-human kappa,
    the mean judge-human kappa and their gap, so the comparison with the ceiling carries its uncertainty."""
    strict_levels = [*levels, NO_VERDICT]
    n = len(data.item_ids)

    def both(rows: NDArray[np.int64] | slice) -> tuple[float, float]:
        h = data.human[rows]
        hm, _ = _mean_pairwise_kappa(h, levels, weights)
        jm, _ = _mean_judge_kappa(h, data.judge_strict[rows], strict_levels, sw)
        return hm, jm

    rng = np.random.default_rng(c.seed)
    n_boot = max(200, c.n_boot // 4)
    draws = np.array([both(rng.integers(0, n, n)) for _ in range(n_boot)])
    hm, jm = both(slice(None))
    q = [(1 - c.confidence_level) / 2 * 100, (1 + c.confidence_level) / 2 * 100]

    def fig(value: float, samples: NDArray[np.float64]) -> Figure:
        s = samples[np.isfinite(samples)]
        if len(s) < 2:
            return Figure(value=value, n=n)
        low, high = np.percentile(s, q)
        return Figure(value=value, low=float(low), high=float(high), n=n)

    return fig(hm, draws[:, 0]), fig(jm, draws[:, 1]), fig(hm - jm, draws[:, 0] - draws[:, 1])


def _breakdown(
    data: AlignedRatings,
    keys: NDArray[np.object_],
    c: TrustCriteria,
    sw: NDArray[np.float64],
    strict_levels: list[str],
    missing: str = "(none)",
) -> list[SegmentResult]:
    mask_major = data.has_majority
    out: list[SegmentResult] = []
    labels = np.array([missing if k is None else str(k) for k in keys], dtype=object)
    for key in sorted(set(labels.tolist())):
        sel = (labels == key) & mask_major
        n = int(sel.sum())
        if n == 0:
            continue
        maj = data.majority[sel]
        js = data.judge_strict[sel]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedStatisticWarning)
            if n >= 10:
                kap = _figure(
                    cohen_kappa(
                        np.column_stack([maj, js]),
                        weights=sw,
                        levels=strict_levels,
                        ci=True,
                        n_boot=min(c.n_boot, 500),
                        seed=c.seed,
                        level=c.confidence_level,
                    )
                )
            elif n >= 2:
                kap = Figure(value=cohen_kappa(np.column_stack([maj, js]), weights=sw, levels=strict_levels).value, n=n)
            else:
                kap = Figure(value=float("nan"), n=n)
        out.append(
            SegmentResult(
                key=key,
                n_items=n,
                accuracy=float((maj == js).mean()),
                kappa=kap,
                failure_rate=float((data.status[sel] != "ok").mean()),
            )
        )
    out.sort(key=lambda s: (math.isnan(s.kappa.value), s.kappa.value))
    return out


def _confidence_figures(data: AlignedRatings, c: TrustCriteria) -> tuple[dict[str, Any], dict[str, Any]]:
    sel = data.has_majority & (data.status == "ok") & ~np.isnan(data.confidence)
    if not sel.any():
        reason = "the judge's verdicts carry no confidence"
        return (
            {"available": False, "reason": reason},
            harmful_confidence(np.ones(0, dtype=bool), None).model_dump(mode="json") | {"reason": reason},
        )
    correct = (data.majority[sel] == data.judge[sel]).astype(float)
    conf = data.confidence[sel]
    ece = expected_calibration_error(conf, correct, n_bins=10, convention="top_label")
    brier = brier_score(correct, conf)
    rel = reliability_diagram(conf, correct, n_bins=10)
    rc = risk_coverage_curve(conf, correct)
    calibration = {
        "available": True,
        "n_items": int(sel.sum()),
        "ece": ece.value,
        "ece_convention": "top-label confidence vs correctness against the human majority, 10 bins",
        "brier": brier.value,
        "brier_form": "mean squared error of the top-label confidence vs correctness (0 best)",
        "reliability": rel.model_dump(mode="json"),
        "risk_coverage": rc.model_dump(mode="json"),
    }
    all_sel = data.has_majority & (data.status == "ok")
    hc = harmful_confidence(
        (data.majority[all_sel] == data.judge[all_sel]),
        data.confidence[all_sel],
        threshold=c.confidence_threshold,
        risk=np.array([UNASSESSED if r is None else r for r in data.risk[all_sel]], dtype=object),
        segment=data.segment[all_sel],
        risk_weights=RISK_WEIGHTS,
        item_ids=np.asarray(data.item_ids, dtype=object)[all_sel],
    )
    harmful = hc.model_dump(mode="json")
    if hc.available:
        harmful["interval"] = _wilson(hc.n_harmful, hc.n_items, c.confidence_level).model_dump()
    return calibration, harmful


def _sample_size(jk: Figure, c: TrustCriteria) -> dict[str, Any]:
    if jk.low is None or jk.high is None or math.isnan(jk.value) or jk.n < 2:
        return {"available": False}
    width = jk.high - jk.low
    if width <= c.target_ci_width:
        return {
            "available": True,
            "current_width": width,
            "target_width": c.target_ci_width,
            "current_n": jk.n,
            "more_items_needed": 0,
        }
    res = sample_size_for_ci_width("kappa", target_width=c.target_ci_width, current_n=jk.n, current_width=width)
    more = int(res.value) if not math.isnan(res.value) else None
    return {
        "available": True,
        "current_width": width,
        "target_width": c.target_ci_width,
        "current_n": jk.n,
        "more_items_needed": more,
    }


def _criteria(
    c: TrustCriteria,
    data: AlignedRatings,
    n: int,
    mean_per_item: float,
    human_alpha: Figure,
    jk: Figure,
    gap: Figure,
    failure: Figure,
    alt: dict[str, Any] | None,
    calibration: dict[str, Any],
    harmful: dict[str, Any],
    sample: dict[str, Any],
) -> list[CriterionResult]:
    out: list[CriterionResult] = []

    def add(
        name: str,
        desc: str,
        fig: Figure | None,
        thr: float | None,
        direction: Literal[">=", "<="],
        outcome: Outcome,
        reason: str,
    ) -> None:
        out.append(
            CriterionResult(
                name=name,
                description=desc,
                measured=fig,
                threshold=thr,
                direction=direction,
                outcome=outcome,
                reason=reason,
            )
        )

    judged = int(sum(1 for s in data.status if s != "missing"))
    items_fig = Figure(value=float(judged), n=n)
    add(
        "enough_items",
        "labelled items with a judge verdict",
        items_fig,
        float(c.min_items),
        ">=",
        "pass" if judged >= c.min_items else "inconclusive",
        f"{judged} labelled items judged"
        + ("" if judged >= c.min_items else f"; label/judge at least {c.min_items - judged} more"),
    )
    ann_fig = Figure(value=mean_per_item, n=n)
    add(
        "human_ceiling_measurable",
        "mean annotators per item",
        ann_fig,
        c.min_annotators_per_item,
        ">=",
        "pass" if mean_per_item >= c.min_annotators_per_item else "inconclusive",
        f"{mean_per_item:.2f} annotators per item"
        + ("" if mean_per_item >= c.min_annotators_per_item else ": too few to measure human-human agreement"),
    )
    o = _outcome(human_alpha, c.min_human_agreement, ">=")
    add(
        "human_agreement",
        "Krippendorff's alpha among annotators (the rubric is clear enough to validate against)",
        human_alpha,
        c.min_human_agreement,
        ">=",
        "inconclusive" if o == "fail" else o,
        "people disagree too much: clarify the rubric before trusting any judge"
        if o == "fail"
        else f"humans agree at alpha {human_alpha.fmt()}",
    )
    o = _outcome(jk, c.min_kappa, ">=")
    add(
        "judge_kappa",
        "judge vs human majority kappa, failures counted as wrong",
        jk,
        c.min_kappa,
        ">=",
        o,
        f"kappa {jk.fmt()} vs threshold {c.min_kappa}",
    )
    o = _outcome(gap, c.max_gap_to_ceiling, "<=")
    add(
        "gap_to_human_ceiling",
        "mean human-human kappa minus mean judge-human kappa",
        gap,
        c.max_gap_to_ceiling,
        "<=",
        o,
        f"the judge is {gap.fmt()} kappa below a typical annotator",
    )
    o = _outcome(failure, c.max_failure_rate, "<=")
    add(
        "failure_rate",
        "share of parse errors, refusals, API errors and missing verdicts",
        failure,
        c.max_failure_rate,
        "<=",
        o,
        f"{failure.fmt()} of verdicts failed",
    )
    if not c.require_alt_test:
        add(
            "alt_test",
            "alternative annotator test winning rate",
            None,
            0.5,
            ">=",
            "not_applicable",
            "disabled in the configuration",
        )
    elif alt is None or "error" in alt:
        add(
            "alt_test",
            "alternative annotator test winning rate",
            None,
            0.5,
            ">=",
            "not_applicable",
            (alt or {}).get("error", "needs at least 3 annotators and 30 items"),
        )
    else:
        fig = Figure(value=float(alt["winning_rate"]), n=int(alt["n_items"]))
        add(
            "alt_test",
            "alternative annotator test winning rate (Calderon et al. 2025)",
            fig,
            0.5,
            ">=",
            "pass" if alt["passed"] else "fail",
            f"the judge beats {fig.value:.0%} of annotators (epsilon {c.alt_test_epsilon}); advantage "
            f"probability {float(alt['advantage_probability']):.3f}",
        )
    if calibration.get("available"):
        ece = Figure(value=float(calibration["ece"]), n=int(calibration["n_items"]))
        add(
            "calibration_ece",
            "expected calibration error (top-label)",
            ece,
            c.max_ece,
            "<=",
            "pass" if ece.value <= c.max_ece else "fail",
            f"ECE {ece.value:.3f}",
        )
        hi = harmful.get("interval") or {}
        hf = Figure(value=float(harmful["value"]), low=hi.get("low"), high=hi.get("high"), n=int(harmful["n_items"]))
        add(
            "harmful_confidence",
            f"wrong with confidence >= {c.confidence_threshold}",
            hf,
            c.max_harmful_rate,
            "<=",
            _outcome(hf, c.max_harmful_rate, "<="),
            f"{hf.fmt()} of verdicts are confidently wrong",
        )
    else:
        reason = str(calibration.get("reason", "no confidence"))
        add(
            "calibration_ece",
            "expected calibration error (top-label)",
            None,
            c.max_ece,
            "<=",
            "not_applicable",
            f"not available: {reason}",
        )
        add(
            "harmful_confidence",
            f"wrong with confidence >= {c.confidence_threshold}",
            None,
            c.max_harmful_rate,
            "<=",
            "not_applicable",
            f"not available: {reason}",
        )
    if sample.get("available") and sample.get("more_items_needed"):
        out[0] = out[0].model_copy(
            update={
                "reason": out[0].reason + f"; kappa interval width "
                f"{sample['current_width']:.3f}: about {sample['more_items_needed']} more "
                f"labelled items would narrow it to {sample['target_width']}"
            }
        )
    return out


def _verdict(crit: list[CriterionResult]) -> tuple[Verdict, list[str]]:
    fails = [x for x in crit if x.outcome == "fail"]
    unsure = [x for x in crit if x.outcome == "inconclusive"]
    if fails:
        return "NOT TRUSTED", [f"{x.name}: {x.reason}" for x in fails]
    if unsure:
        return "INSUFFICIENT EVIDENCE", [f"{x.name}: {x.reason}" for x in unsure]
    return "TRUSTED", ["every applicable criterion passes on its interval"]


def assess_run(project: Project, run: str | int | JudgeRun, criteria: TrustCriteria | None = None) -> TrustAssessment:
    """Assess one judge run of the project against the human labels of its rubric."""
    r = run if isinstance(run, JudgeRun) else project.run(run)
    rubric = project.rubric(r.config.rubric_id, r.config.rubric_version)
    return assess(load_aligned(project, r, rubric), r, criteria)


def assess_project(project: Project, runs: list[str] | None = None, criteria_for: Any = None) -> list[TrustAssessment]:
    """Assess the named runs, or every run of the project. ``criteria_for(rubric_id)`` supplies criteria."""
    chosen = [project.run(r) for r in runs] if runs else project.runs()
    out = []
    for r in chosen:
        crit = criteria_for(r.config.rubric_id) if criteria_for else None
        out.append(assess_run(project, r, crit))
    return out
