"""Is the new judge prompt really better? Paired comparison of judge runs on the same labelled items.

Two judge versions graded on the same items are correlated: most items are easy for both. Comparing their two
separate confidence intervals wastes that pairing and overstates the noise; comparing two point estimates ignores
the noise altogether. For each pair of runs this reports, on the items with a human majority label:

* the difference in Cohen's kappa and in accuracy against the human majority, with a **paired** bootstrap interval
  (items resampled jointly; :func:`judgekit.stats.paired_bootstrap_difference`);
* McNemar's test on per-item correct / incorrect (:func:`judgekit.stats.mcnemar`): only the items where exactly
  one judge is right carry information; the exact binomial test by default, the chi-square approximation with
  continuity correction on request (the output says which);
* with more than one pair, Holm's step-down correction of the McNemar p-values (Holm 1979) and intervals at the
  Bonferroni level ``1 - a / m``, so that all ``m`` statements hold together.

A failed verdict (parse error, refusal, API error, missing) counts as wrong, as in the trust assessment; the
figures on ok verdicts only are reported beside. Each pair is :func:`judgekit.agreement.judge_judge.compare_pair`,
the one judge-vs-judge comparison (the report's table and ``judgekit runs compare`` show the same numbers).

References
----------
McNemar, Q. (1947). Note on the sampling error of the difference between correlated proportions or percentages.
Psychometrika 12(2), 153-157.
Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scand. J. Statist. 6(2), 65-70.
Dietterich, T. G. (1998). Approximate statistical tests for comparing supervised classification learning
algorithms. Neural Computation 10(7), 1895-1923.
"""

from __future__ import annotations

import math
from itertools import combinations
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict

from judgekit.agreement import AlignedRatings, TrustCriteria, judge_vs_reference, load_human_ratings
from judgekit.agreement.judge_judge import JudgePair, McNemarMethod, compare_pair
from judgekit.agreement.judge_people import BothBases
from judgekit.calibration._data import aligned_for
from judgekit.calibration.looks import LookSummary, look_summary, record_look
from judgekit.calibration.splits import SplitInfo, SplitPart
from judgekit.errors import UserError
from judgekit.models import JudgeRun
from judgekit.stats import StatResult
from judgekit.storage import Project

PairMode = Literal["all", "first"]
Conclusion = Literal["a_better", "b_better", "within_noise", "inconclusive"]
_CONFIG = ConfigDict(frozen=True, ser_json_inf_nan="constants")


class PairComparison(JudgePair):
    """Run A against run B on the same items (:class:`~judgekit.agreement.judge_judge.JudgePair`), with the
    multiplicity-adjusted McNemar p-value and the plain conclusion."""

    model_config = _CONFIG
    mcnemar_p_adjusted: float
    conclusion: Conclusion
    summary: str


class JudgeFigures(BaseModel):
    """One run's kappa and accuracy against the reference label on the compared items (both bases)."""

    model_config = _CONFIG
    run: str
    kappa: BothBases
    accuracy: BothBases


class ComparisonReport(BaseModel):
    """Every pairwise comparison of a set of runs, with the correction for multiplicity."""

    model_config = _CONFIG
    runs: list[str]
    rubric: str
    split: str | None
    part: SplitPart | None
    n_items: int
    n_items_dropped: int
    """Labelled items without a reference label (left out for every run alike)."""
    alpha: float
    correction: str
    interval_level: float
    mcnemar_method: str
    judges: list[JudgeFigures]
    pairs: list[PairComparison]
    looks: LookSummary | None = None

    def judge(self, run: str) -> JudgeFigures:
        """The figures of one run."""
        return next(j for j in self.judges if j.run == run)


def holm_adjust(p_values: list[float] | NDArray[np.float64]) -> NDArray[np.float64]:
    """Holm's step-down adjusted p-values (Holm 1979), via statsmodels' ``multipletests``.

    Sorted ascending, ``p~_(i) = max_{j <= i} min(1, (m - j + 1) p_(j))``; rejecting ``p~ <= a`` controls the
    family-wise error rate at ``a`` under any dependence. NaN p-values are passed through and not counted.
    """
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="holm")[1]
    return out


def _excludes_zero(d: StatResult) -> bool:
    return d.low is not None and d.high is not None and (d.low > 0 or d.high < 0)


def _conclude(acc: StatResult, kap: StatResult, p_adj: float, alpha: float) -> tuple[Conclusion, str]:
    excl_acc, excl_kap = _excludes_zero(acc), _excludes_zero(kap)
    sig = math.isfinite(p_adj) and p_adj < alpha
    if sig and excl_acc and excl_kap and (acc.value > 0) == (kap.value > 0):
        return ("a_better" if acc.value > 0 else "b_better"), "real difference"
    if not sig and not excl_acc and not excl_kap:
        return "within_noise", "within noise"
    return "inconclusive", "inconclusive (the tests disagree)"


def _signed(d: StatResult) -> str:
    if d.low is None or d.high is None:
        return f"{d.value:+.3f}"
    return f"{d.value:+.3f} [{d.low:+.3f}, {d.high:+.3f}]"


def _summary(p: JudgePair, p_adj: float, m: int, conclusion: Conclusion, words: str) -> str:
    a, b, n = p.run_a, p.run_b, p.n_items
    if conclusion == "within_noise":
        head = (
            f"{a} vs {b}: WITHIN NOISE - the difference is not distinguishable from chance on these {n} items; "
            "do not call it an improvement."
        )
    elif conclusion == "inconclusive":
        head = f"{a} vs {b}: INCONCLUSIVE - the tests disagree; label more items before deciding."
    else:
        win, lose = (a, b) if conclusion == "a_better" else (b, a)
        head = f"{a} vs {b}: REAL DIFFERENCE - {win} agrees with people more than {lose}."
    pct = f"{p.level:.1%}".replace(".0%", "%")
    mc = p.mcnemar
    detail = (
        f"accuracy {_signed(p.accuracy_difference.failures_as_wrong)}, kappa "
        f"{_signed(p.kappa_difference.failures_as_wrong)} ({pct} paired bootstrap, failures counted as wrong); "
        f"McNemar ({mc.method}): {mc.a_right_b_wrong} items only {a} right, {mc.a_wrong_b_right} only {b} right, "
        f"p = {mc.p_value.value:.3g}" + (f", Holm-adjusted p = {p_adj:.3g}" if m > 1 else "")
    )
    return f"{head} {detail} ({words})."


def compare_aligned(
    data: dict[str, AlignedRatings],
    criteria: TrustCriteria,
    *,
    pairs: PairMode = "all",
    alpha: float = 0.05,
    mcnemar_method: McNemarMethod = "exact",
) -> tuple[list[PairComparison], list[JudgeFigures], int, int]:
    """Pairwise comparison of runs given their aligned ratings (same rubric, same labelled items).

    Returns the pair comparisons, each run's figures, and the numbers of items used and dropped (items without a
    reference label are dropped, for every run alike).
    """
    names = list(data)
    if len(names) < 2:
        raise UserError("compare needs at least two runs")
    first = data[names[0]]
    n = int(first.has_reference.sum())
    if n < 10:
        raise UserError(f"only {n} items have a reference label here; a comparison needs at least 10")
    index = list(combinations(range(len(names)), 2)) if pairs == "all" else [(0, j) for j in range(1, len(names))]
    m = len(index)
    level = 1.0 - alpha / m if m > 1 else 1.0 - alpha
    raw = [
        compare_pair(data[names[i]], data[names[j]], criteria, level=level, mcnemar_method=mcnemar_method)
        for i, j in index
    ]
    p_values = [r.mcnemar.p_value.value for r in raw]
    adjusted = holm_adjust(p_values) if m > 1 else np.array(p_values)
    out: list[PairComparison] = []
    for r, p_adj in zip(raw, adjusted, strict=True):
        conclusion, words = _conclude(
            r.accuracy_difference.failures_as_wrong, r.kappa_difference.failures_as_wrong, float(p_adj), alpha
        )
        out.append(
            PairComparison(
                **dict(r),
                mcnemar_p_adjusted=float(p_adj),
                conclusion=conclusion,
                summary=_summary(r, float(p_adj), m, conclusion, words),
            )
        )
    judges = []
    for nm in names:
        kappa, accuracy = judge_vs_reference(data[nm], criteria)
        judges.append(JudgeFigures(run=nm, kappa=kappa, accuracy=accuracy))
    return out, judges, n, first.n_items - n


def compare_runs(
    project: Project,
    runs: list[str | JudgeRun],
    *,
    split: str | SplitInfo | None = None,
    part: SplitPart = "test",
    pairs: PairMode = "all",
    alpha: float = 0.05,
    criteria: TrustCriteria | None = None,
    n_boot: int | None = None,
    seed: int | None = None,
    mcnemar_method: McNemarMethod = "exact",
    record: bool = True,
) -> ComparisonReport:
    """Compare judge runs pairwise on the labelled items (of ``part`` of ``split`` when given).

    Parameters
    ----------
    project
        The project database.
    runs
        Two or more runs of the same rubric version.
    split, part
        Restrict to one part of a stored split. Evaluating on ``test`` records a look per run.
    pairs
        ``all`` pairs, or ``first``: each run against the first (the baseline), ``m = k - 1`` comparisons.
    alpha
        Family-wise error rate; with ``m > 1`` comparisons McNemar p-values are Holm-adjusted and intervals are at
        level ``1 - alpha / m`` (Bonferroni).
    criteria
        Bootstrap size and seed and the reference rule (default :class:`TrustCriteria`, as the report uses), so
        that a comparison here shows the report's numbers; ``n_boot`` / ``seed`` override them.
    mcnemar_method
        ``exact`` (binomial, default) or ``chi2`` (chi-square with continuity correction).
    record
        Record looks at a test split (default); ``False`` only for read-only previews.
    """
    if len(runs) < 2:
        raise UserError("compare needs at least two runs, e.g. 'judgekit compare RUN_A RUN_B'")
    resolved = [r if isinstance(r, JudgeRun) else project.run(r) for r in runs]
    names = [r.name for r in resolved]
    if len(set(names)) != len(names):
        raise UserError(f"each run may be named once; got {', '.join(names)}")
    rubrics = {r.name: project.rubric(r.config.rubric_id, r.config.rubric_version) for r in resolved}
    if len({rb.labels_key for rb in rubrics.values()}) > 1:
        raise UserError(
            "runs to compare must be measured against the same labels (one rubric version, or versions derived from "
            "it with the same scale); got " + ", ".join(f"{name} ({rb.key})" for name, rb in rubrics.items())
        )
    c = criteria or TrustCriteria()
    c = c.model_copy(update={k: v for k, v in (("n_boot", n_boot), ("seed", seed)) if v is not None})
    data: dict[str, AlignedRatings] = {}
    info: SplitInfo | None = None
    humans = load_human_ratings(project, next(iter(rubrics.values())))
    for r in resolved:
        data[r.name], info = aligned_for(project, r, split, part, reference=c.reference, humans=humans)
    comps, judges, n, dropped = compare_aligned(data, c, pairs=pairs, alpha=alpha, mcnemar_method=mcnemar_method)
    summary = None
    if info is not None and part == "test":
        if record:
            for r in resolved:
                record_look(project, info, "test", r, purpose="compare", n_items=data[r.name].n_items)
        summary = look_summary(project, info, alpha=alpha)
    m = len(comps)
    first = next(iter(data.values()))
    return ComparisonReport(
        runs=names,
        rubric=first.rubric.key,
        split=None if info is None else info.key,
        part=None if info is None else part,
        n_items=n,
        n_items_dropped=dropped,
        alpha=alpha,
        correction="none" if m == 1 else "holm (McNemar p-values), bonferroni (intervals)",
        interval_level=1.0 - alpha / m if m > 1 else 1.0 - alpha,
        mcnemar_method=comps[0].mcnemar.method,
        judges=judges,
        pairs=comps,
        looks=summary,
    )


def render_comparison(report: ComparisonReport) -> str:
    """Plain-text report of a comparison: every figure with its estimand and n."""
    where = "all labelled items" if report.split is None else f"the {report.part} part of split {report.split}"
    lines = [
        f"Comparing {', '.join(report.runs)} on {where} (rubric {report.rubric})",
        f"  {report.n_items} items with a reference label"
        + (f" ({report.n_items_dropped} without one left out)" if report.n_items_dropped else ""),
        "  vs reference label (failures counted as wrong):",
    ]
    width = max(len(r) for r in report.runs)
    for j in report.judges:
        k, a = j.kappa.failures_as_wrong, j.accuracy.failures_as_wrong
        lines.append(f"    {j.run:<{width}}  kappa {k.fmt()}  accuracy {a.fmt()}  n={k.n_items}")
    if len(report.pairs) > 1:
        lines.append(
            f"  {len(report.pairs)} comparisons: McNemar p-values Holm-adjusted, intervals at "
            f"{report.interval_level:.2%} (Bonferroni) for a family-wise a = {report.alpha:g}"
        )
    lines.append("")
    lines.extend(p.summary for p in report.pairs)
    if report.looks is not None:
        lines.append("")
        lines.append(f"Test split {report.looks.split}: {report.looks.message}")
    return "\n".join(lines)
