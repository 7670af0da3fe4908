"""Judge vs judge: is one judge run really better than another on the same labelled items, and how often do two
judges agree with each other?

Two judge versions graded on the same items are correlated (most items are easy for both), so their difference is
measured with a **paired** bootstrap: every resample of items scores both judges (:func:`judgekit.stats.pair_kappas`
on the columns reference, judge A, judge B). For a pair of runs on the items with a reference label:

* ``kappa_difference`` and ``accuracy_difference`` (A - B against the reference label) with paired bootstrap
  intervals, on both bases (``failures_as_wrong``: every item with a reference label; ``ok_only``: the items both
  judges answered ``ok``), and each judge's ``judge_kappa`` / ``judge_accuracy`` on those items;
* McNemar's test (McNemar 1947) on per-item right/wrong (failures as wrong): only the items where exactly one judge
  is right carry information. **Exact** binomial test by default (statsmodels ``mcnemar(exact=True)``, the p papers
  publish); the chi-square approximation with continuity correction on request; ``method`` says which;
* ``judges_kappa``: Cohen's kappa between the two judges on the items both answered ``ok``.

This is the one judge-vs-judge comparison: ``judgekit compare``, the report's "judges compared" table and
``judgekit runs compare`` all call :func:`compare_pair`, so they show the same numbers.

References: McNemar, Q. (1947) Psychometrika 12(2) 153-157; Dietterich, T. G. (1998) Neural Computation 10(7)
1895-1923; Efron & Tibshirani (1993) *An Introduction to the Bootstrap*, ch. 6.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict

from judgekit.agreement.ceiling import interval_figure, point, scale_weights
from judgekit.agreement.criteria import TrustCriteria
from judgekit.agreement.data import AlignedRatings, strict_weights, verdict_rows
from judgekit.agreement.estimands import Basis, figure_name
from judgekit.agreement.judge_people import BothBases, wilson
from judgekit.errors import UserError
from judgekit.models import JudgeRun
from judgekit.stats import Coded, StatResult, UndefinedStatisticWarning, mcnemar, pair_kappas
from judgekit.storage import Project

__all__ = [
    "JudgePair",
    "JudgesAgreement",
    "McNemarMethod",
    "McNemarTest",
    "compare_pair",
    "judges_agreement",
    "judges_kappa",
]

_CONFIG = ConfigDict(frozen=True, ser_json_inf_nan="constants")
McNemarMethod = Literal["exact", "chi2"]
METHOD_TITLE = {"exact": "exact binomial", "chi2": "chi-square with continuity correction"}


class McNemarTest(BaseModel):
    """McNemar's test of equal accuracy on the same items (failures counted as wrong)."""

    model_config = _CONFIG
    p_value: StatResult
    method: str
    """``exact binomial`` or ``chi-square with continuity correction``."""
    statistic: float
    a_right_b_wrong: int
    a_wrong_b_right: int


class JudgePair(BaseModel):
    """Judge A against judge B on the same items with a reference label."""

    model_config = _CONFIG
    run_a: str
    run_b: str
    rubric: str
    n_items: int
    level: float
    kappa_a: BothBases
    kappa_b: BothBases
    accuracy_a: BothBases
    accuracy_b: BothBases
    kappa_difference: BothBases
    accuracy_difference: BothBases
    bootstrap_p: float
    """Two-sided bootstrap p-value of the kappa difference (failures as wrong): 2 min(P(d <= 0), P(d >= 0))."""
    mcnemar: McNemarTest
    judges_kappa: StatResult


def _paired(
    ref: NDArray[np.int64],
    a: NDArray[np.int64],
    b: NDArray[np.int64],
    data: AlignedRatings,
    c: TrustCriteria,
    level: float,
    basis: Basis,
) -> tuple[StatResult, StatResult, StatResult, StatResult, StatResult, StatResult, float]:
    """Kappa and accuracy of A and B against ``ref`` and their paired-bootstrap differences, on the given rows."""
    n = len(ref)
    lc = c.model_copy(update={"confidence_level": level})
    names = {key: figure_name(key, basis) for key in ("judge_kappa", "judge_accuracy")}
    if n < 2:
        nan = float("nan")
        return (
            point(names["judge_kappa"], nan, n),
            point(names["judge_kappa"], nan, n),
            point(names["judge_accuracy"], nan, n),
            point(names["judge_accuracy"], nan, n),
            point(figure_name("kappa_difference", basis), nan, n),
            point(figure_name("accuracy_difference", basis), nan, n),
            nan,
        )
    coded = Coded.from_codes(np.column_stack([ref, a, b]), data.strict_levels)
    pairs = [(0, 1), (0, 2)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedStatisticWarning)
        kap = pair_kappas(coded, pairs, weights=strict_weights(data.rubric), n_boot=c.n_boot, seed=c.seed)
        acc = pair_kappas(coded, pairs, n_boot=c.n_boot, seed=c.seed)  # identity weights, the same resamples
    dk = kap.boot[:, 0] - kap.boot[:, 1]
    valid = dk[np.isfinite(dk)]
    p = min(1.0, 2.0 * float(min(np.mean(valid <= 0), np.mean(valid >= 0)))) if valid.size else float("nan")
    right_a, right_b = int((a == ref).sum()), int((b == ref).sum())
    return (
        point(names["judge_kappa"], float(kap.value[0]), n),
        point(names["judge_kappa"], float(kap.value[1]), n),
        wilson(names["judge_accuracy"], right_a, n, level),
        wilson(names["judge_accuracy"], right_b, n, level),
        interval_figure(figure_name("kappa_difference", basis), float(kap.value[0] - kap.value[1]), n, dk, lc),
        interval_figure(
            figure_name("accuracy_difference", basis),
            (right_a - right_b) / n,
            n,
            acc.boot_observed[:, 0] - acc.boot_observed[:, 1],
            lc,
        ),
        p,
    )


def judges_kappa(a: NDArray[np.int64], b: NDArray[np.int64], levels: list[str], weights: str | None) -> StatResult:
    """Cohen's kappa between two judges' codes on the items both answered (codes >= 0): no human labels needed."""
    both = (a >= 0) & (b >= 0)
    n = int(both.sum())
    name = figure_name("judges_kappa")
    if n < 2:
        return point(name, float("nan"), n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedStatisticWarning)
        pk = pair_kappas(
            Coded.from_codes(np.column_stack([a[both], b[both]]), levels), [(0, 1)], weights=weights, n_boot=0
        )
    return point(name, float(pk.value[0]), n)


def compare_pair(
    a: AlignedRatings,
    b: AlignedRatings,
    c: TrustCriteria,
    *,
    level: float | None = None,
    mcnemar_method: McNemarMethod = "exact",
) -> JudgePair:
    """Judge ``a`` against judge ``b`` (aligned ratings of two runs of the same rubric version and labels) under
    criteria ``c`` (bootstrap size and seed); intervals at ``level`` (default ``c.confidence_level``)."""
    if (
        a.rubric.labels_key != b.rubric.labels_key
        or not a.rubric.scale.same_answers(b.rubric.scale)
        or a.item_ids != b.item_ids
    ):
        raise UserError(
            "runs to compare must be measured against the same labels (one rubric version, or versions derived from "
            "it with the same scale) and be aligned on the same labelled items"
        )
    lvl = c.confidence_level if level is None else level
    keep = a.has_reference
    ref = a.reference_codes[keep]
    sa, sb = a.judge_strict_codes[keep], b.judge_strict_codes[keep]
    strict = _paired(ref, sa, sb, a, c, lvl, "failures_as_wrong")
    both_ok = (a.judge_codes[keep] >= 0) & (b.judge_codes[keep] >= 0)
    ok = _paired(ref[both_ok], sa[both_ok], sb[both_ok], a, c, lvl, "ok_only")
    right_a, right_b = (sa == ref), (sb == ref)
    n = int(keep.sum())
    if n:
        mc = mcnemar(right_a, right_b, method=mcnemar_method)
        stat, b_, c_, p_value = (
            float(mc.details["statistic"]),
            int(mc.details["a_right_b_wrong"]),
            int(mc.details["a_wrong_b_right"]),
            mc.value,
        )
    else:
        stat, b_, c_, p_value = float("nan"), 0, 0, float("nan")
    return JudgePair(
        run_a=a.run_name or "A",
        run_b=b.run_name or "B",
        rubric=a.rubric.key,
        n_items=n,
        level=lvl,
        kappa_a=BothBases(failures_as_wrong=strict[0], ok_only=ok[0]),
        kappa_b=BothBases(failures_as_wrong=strict[1], ok_only=ok[1]),
        accuracy_a=BothBases(failures_as_wrong=strict[2], ok_only=ok[2]),
        accuracy_b=BothBases(failures_as_wrong=strict[3], ok_only=ok[3]),
        kappa_difference=BothBases(failures_as_wrong=strict[4], ok_only=ok[4]),
        accuracy_difference=BothBases(failures_as_wrong=strict[5], ok_only=ok[5]),
        bootstrap_p=strict[6],
        mcnemar=McNemarTest(
            p_value=point(figure_name("mcnemar_p"), p_value, n),
            method=METHOD_TITLE[mcnemar_method],
            statistic=stat,
            a_right_b_wrong=b_,
            a_wrong_b_right=c_,
        ),
        judges_kappa=judges_kappa(
            a.judge_codes, b.judge_codes, a.levels, "quadratic" if a.rubric.scale.kind == "ordinal" else None
        ),
    )


class JudgesAgreement(BaseModel):
    """Two runs' verdicts against each other on every item both answered ``ok`` (labelled or not)."""

    model_config = _CONFIG
    run_a: str
    run_b: str
    kappa: StatResult
    """``judges_kappa`` on those items (n of them)."""
    agree: int
    only_a: int
    """Items with an ok verdict of A but none (or a failed one) of B."""
    only_b: int
    confusion: list[tuple[str, str, int]]
    """``(label of A, label of B, items)`` for every pair of labels that occurs."""


def judges_agreement(project: Project, run_a: JudgeRun, run_b: JudgeRun) -> JudgesAgreement:
    """How often two runs agree with each other, on every item both answered ``ok``: no human labels needed (the
    one place this is computed; ``judgekit runs compare`` prints it beside :func:`compare_pair`)."""
    va, vb = verdict_rows(project, run_a), verdict_rows(project, run_b)
    la = va[va["status"] == "ok"].set_index("item_id")["label"]
    lb = vb[vb["status"] == "ok"].set_index("item_id")["label"]
    both = la.index.intersection(lb.index)
    a, b = la.loc[both].astype(str).to_numpy(), lb.loc[both].astype(str).to_numpy()
    rubric = project.rubric(run_a.config.rubric_id, run_a.config.rubric_version)
    other = project.rubric(run_b.config.rubric_id, run_b.config.rubric_version)
    same = rubric.labels_key == other.labels_key and rubric.scale.same_answers(other.scale)
    levels = rubric.scale.values if same else sorted(set(a) | set(b))
    index = pd.Index(levels)
    ca, cb = index.get_indexer(pd.Index(a)), index.get_indexer(pd.Index(b))
    weights = scale_weights(rubric) if same else None
    counts: dict[tuple[str, str], int] = {}
    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        counts[(x, y)] = counts.get((x, y), 0) + 1
    return JudgesAgreement(
        run_a=run_a.name,
        run_b=run_b.name,
        kappa=judges_kappa(ca, cb, levels, weights),
        agree=int((a == b).sum()),
        only_a=len(la.index.difference(lb.index)),
        only_b=len(lb.index.difference(la.index)),
        confusion=sorted((x, y, n) for (x, y), n in counts.items()),
    )
