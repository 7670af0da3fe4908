"""Trust or escalate: a confidence threshold with a guaranteed agreement rate, everything below it to people.

The judge keeps the items where its confidence is at least ``lambda`` and abstains on the rest, which are routed to
human annotators. ``lambda`` is chosen on labelled calibration items (the dev part of a split) so that

    P( Pr[judge agrees with people | confidence >= lambda_hat] >= 1 - alpha ) >= 1 - delta

where the outer probability is over the draw of the calibration set, ``1 - alpha`` is the target agreement and
``delta`` the tolerated chance that the guarantee fails (Jung, Brahman & Choi 2025, "Trust or Escalate").

Procedure (fixed-sequence testing, Bauer 1991; Learn-then-Test, Angelopoulos et al. 2021): for thresholds on a grid
fixed in advance, from high to low, test ``H0(lambda): risk(lambda) > alpha``, where ``risk(lambda)`` is the
disagreement rate on items with confidence >= lambda, with the exact binomial p-value

    p(lambda) = Pr[Binomial(n_lambda, alpha) <= k_lambda]

(``n_lambda`` calibration items at or above the threshold, ``k_lambda`` of them where the judge disagrees with the
human majority). ``p(lambda) <= delta`` is the same as the one-sided Clopper-Pearson upper bound
``Beta^{-1}(1 - delta; k + 1, n - k)`` on the risk being at most ``alpha``. The sequence stops at the first threshold
that fails; the lowest threshold that passed is ``lambda_hat`` (largest coverage). No multiplicity correction is
needed because each test is only reached when all earlier ones rejected.

Thresholds at the top of the grid where fewer than ``n_min = ceil(log(delta) / log(1 - alpha))`` calibration items
have that confidence cannot pass even with no error; they are skipped rather than allowed to end the sequence (the
count depends only on the confidences, not on the errors). The guarantee is validated by simulation in
``tests/calibration/test_abstention.py``.

Failed verdicts (parse error, refusal, API error) have no confidence: they are always escalated. Items without a
reference label (:mod:`judgekit.agreement.reference`: a tie among the annotators) do not enter the calibration.

References
----------
Jung, J., Brahman, F., & Choi, Y. (2025). Trust or Escalate: LLM Judges with Provable Guarantees for Human
Agreement. ICLR 2025. arXiv:2407.18370.
Bauer, P. (1991). Multiple testing in clinical trials. Statistics in Medicine 10(6), 871-890.
Angelopoulos, A. N., Bates, S., Candes, E. J., Jordan, M. I., & Lei, L. (2021). Learn then Test: Calibrating
Predictive Algorithms to Achieve Risk Control. arXiv:2110.01052.
Clopper, C. J., & Pearson, E. S. (1934). The use of confidence or fiducial limits illustrated in the case of the
binomial. Biometrika 26(4), 404-413.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict
from scipy import stats as sps

from judgekit.agreement.data import AlignedRatings
from judgekit.calibration._data import aligned_for
from judgekit.calibration.looks import LookSummary, look_summary, record_look
from judgekit.calibration.splits import SplitInfo
from judgekit.errors import UserError
from judgekit.labeling import raise_abstained
from judgekit.models import JudgeRun
from judgekit.storage import Project
from judgekit.storage.project import now_iso

DEFAULT_GRID: NDArray[np.float64] = np.round(np.linspace(1.0, 0.0, 101), 2)
"""Thresholds tested, high to low: 1.00, 0.99, ..., 0.00 (fixed in advance, as fixed-sequence testing requires)."""
_CONFIG = ConfigDict(frozen=True, ser_json_inf_nan="constants")


class ThresholdResult(BaseModel):
    """The calibrated threshold and what it leaves to the judge."""

    model_config = _CONFIG
    target: float
    """Target agreement ``1 - alpha``."""
    delta: float
    """Tolerated probability that the guarantee fails."""
    threshold: float | None
    """``lambda_hat``; ``None`` when no threshold passes (escalate everything)."""
    n_calibration: int
    """Calibration items (with a human majority label), failed verdicts included."""
    n_selected: int
    """Calibration items with confidence >= threshold."""
    coverage: float
    """Share of calibration items the judge keeps."""
    agreement: float
    """Empirical agreement on the kept calibration items."""
    risk_upper_bound: float
    """One-sided (1 - delta) Clopper-Pearson upper bound on the disagreement rate at the threshold."""
    n_min: int
    """Fewest items a threshold needs to be testable."""
    n_tested: int
    """Thresholds tested before the sequence stopped."""


class AbstentionReport(BaseModel):
    """The result of ``judgekit abstain``."""

    model_config = _CONFIG
    run: str
    rubric: str
    split: str | None
    calibration: ThresholdResult
    test_n: int | None = None
    test_coverage: float | None = None
    test_agreement: float | None = None
    escalated: list[str] = []
    n_escalated: int = 0
    queue_updated: int | None = None
    looks: LookSummary | None = None


def min_testable(target: float, delta: float) -> int:
    """Smallest ``n`` for which ``n`` agreements out of ``n`` reject ``risk > 1 - target`` at level ``delta``:
    ``ceil(log(delta) / log(target))``."""
    return max(1, math.ceil(math.log(delta) / math.log(target) - 1e-12))


def _check(target: float, delta: float) -> None:
    if not 0.0 < target < 1.0:
        raise UserError(f"--target must be between 0 and 1 (exclusive), got {target}")
    if not 0.0 < delta < 1.0:
        raise UserError(f"--delta must be between 0 and 1 (exclusive), got {delta}")


def calibrate_threshold(
    confidence: Sequence[float] | NDArray[np.float64],
    correct: Sequence[bool] | NDArray[np.bool_],
    *,
    target: float = 0.9,
    delta: float = 0.1,
    grid: Sequence[float] | NDArray[np.float64] | None = None,
) -> ThresholdResult:
    """Choose the confidence threshold by fixed-sequence testing with exact binomial p-values.

    Parameters
    ----------
    confidence
        Shape (n,): the judge's confidence per calibration item; NaN for failed verdicts (never kept).
    correct
        Shape (n,): whether the judge agreed with the human reference label.
    target
        Target agreement ``1 - alpha`` among kept items, e.g. 0.9.
    delta
        Tolerated failure probability of the guarantee, e.g. 0.1.
    grid
        Thresholds to test, high to low (default :data:`DEFAULT_GRID`). Must not depend on the calibration data.

    Returns
    -------
    ThresholdResult
        ``threshold`` is the smallest grid value reached while every earlier test rejected ``risk > alpha``.

    Notes
    -----
    With ``n(l)`` items at or above ``l`` and ``k(l)`` errors among them, ``p(l) = BinomCDF(k(l); n(l), alpha)``.
    Thresholds with ``n(l) < n_min`` at the top of the grid are skipped (see the module docstring). Vectorised:
    one sort and a ``searchsorted`` give ``n`` and ``k`` for every grid value.

    Examples
    --------
    >>> conf = [0.95] * 60 + [0.6] * 40
    >>> ok = [True] * 59 + [False] + [True] * 20 + [False] * 20
    >>> r = calibrate_threshold(conf, ok, target=0.9, delta=0.1)
    >>> r.threshold, r.n_selected, round(r.coverage, 2)
    (0.61, 60, 0.6)
    """
    _check(target, delta)
    conf = np.asarray(confidence, dtype=float)
    ok = np.asarray(correct, dtype=bool)
    if conf.shape != ok.shape or conf.ndim != 1:
        raise ValueError(f"confidence and correct must be 1-D of the same length; got {conf.shape}, {ok.shape}")
    g = DEFAULT_GRID if grid is None else np.asarray(grid, dtype=float)
    if g.ndim != 1 or g.size == 0 or np.any(np.diff(g) > 0):
        raise ValueError("grid must be a non-empty sequence of thresholds from high to low")
    alpha = 1.0 - target
    n_min = min_testable(target, delta)
    valid = np.isfinite(conf)
    order = np.argsort(-conf[valid], kind="stable")
    c_sorted = conf[valid][order]
    err_cum = np.concatenate([[0], np.cumsum(~ok[valid][order])])
    # n(l): items with confidence >= l (c_sorted is descending: count of values >= l)
    n_at = np.searchsorted(-c_sorted, -g, side="right")
    k_at = err_cum[n_at]
    with np.errstate(invalid="ignore"):
        pvals = np.where(n_at > 0, sps.binom.cdf(k_at, np.maximum(n_at, 1), alpha), 1.0)
    testable = n_at >= n_min
    chosen: int | None = None
    tested = 0
    if testable.any():
        start = int(np.argmax(testable))
        for i in range(start, g.size):
            tested += 1
            if pvals[i] > delta:
                break
            chosen = i
    n_total = int(conf.size)
    if chosen is None:
        return ThresholdResult(
            target=target,
            delta=delta,
            threshold=None,
            n_calibration=n_total,
            n_selected=0,
            coverage=0.0,
            agreement=float("nan"),
            risk_upper_bound=float("nan"),
            n_min=n_min,
            n_tested=tested,
        )
    n_sel, k_sel = int(n_at[chosen]), int(k_at[chosen])
    upper = 1.0 if k_sel >= n_sel else float(sps.beta.ppf(1.0 - delta, k_sel + 1, n_sel - k_sel))
    return ThresholdResult(
        target=target,
        delta=delta,
        threshold=float(g[chosen]),
        n_calibration=n_total,
        n_selected=n_sel,
        coverage=n_sel / n_total if n_total else 0.0,
        agreement=1.0 - k_sel / n_sel,
        risk_upper_bound=upper,
        n_min=n_min,
        n_tested=tested,
    )


def _has_confidence(data: AlignedRatings, run: JudgeRun) -> None:
    if not np.isfinite(data.confidence[data.ok]).any():
        raise UserError(
            f"run {run.name!r} has no confidence on its verdicts, so no threshold can be calibrated; rerun the judge "
            "with --confidence logprobs|verbalized|sampling (e.g. 'judgekit judge --confidence verbalized ...') or "
            "import verdicts with a confidence column"
        )


def _correct(data: AlignedRatings) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    keep = data.has_reference
    conf = np.where(data.ok, data.confidence, np.nan)[keep]
    return conf, data.correct[keep]


def escalated_item_ids(
    project: Project, run: str | JudgeRun, threshold: float | None, *, include_labelled: bool = False
) -> list[str]:
    """Items of ``run`` the judge abstains on: confidence below ``threshold``, no confidence, or a failed verdict.

    ``threshold=None`` (no threshold passed calibration) escalates every verdict. By default items that already have
    a human label for the run's rubric are left out: they need no routing.
    """
    r = run if isinstance(run, JudgeRun) else project.run(run)
    params: list[object] = [r.id]
    if threshold is None:
        cond = "1 = 1"
    else:
        cond = "v.status != 'ok' OR v.confidence IS NULL OR v.confidence < ?"
        params.append(float(threshold))
    sql = f"SELECT v.item_id FROM verdicts v JOIN items i ON i.id = v.item_id WHERE v.run_id = ? AND ({cond})"
    if not include_labelled:
        sql += (
            " AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.item_id = v.item_id AND l.rubric_id = ? AND"
            " l.rubric_version = ?)"
        )
        params += [r.config.rubric_id, project.rubric(r.config.rubric_id, r.config.rubric_version).labels_version]
    return [str(x[0]) for x in project.db.rows(sql + " ORDER BY i.seq", params)]


def escalate(project: Project, run: str | JudgeRun, item_ids: Sequence[str], threshold: float | None) -> int | None:
    """Route abstained items to people: record them and raise their priority in the label queue if there is one.

    Every item is recorded in ``escalations`` (run, threshold, confidence), and the labeling queue raises their
    priority (:func:`judgekit.labeling.raise_abstained`, with the queue's one priority for it). Returns the number
    of queue rows raised, or ``None`` when the run's rubric version has no queue yet (then export the list
    instead, or let the queue pick the escalations up when it is built).

    The raise takes effect at once; the labeling queue also reads ``escalations`` whenever it is rebuilt (after
    items, verdicts or the assignment policy change), so the routing decision survives rebuilds.
    """
    r = run if isinstance(run, JudgeRun) else project.run(run)
    conf = {item_id: c for item_id, _, _, c in project.verdict_rows(r.id)}
    stamp = now_iso()
    with project.transaction() as db:
        db.executemany(
            "INSERT INTO escalations (rubric_id, rubric_version, item_id, run_name, threshold, confidence, created_at)"
            " VALUES (?,?,?,?,?,?,?)",
            [(r.config.rubric_id, r.config.rubric_version, i, r.name, threshold, conf.get(i), stamp) for i in item_ids],
        )
        return raise_abstained(project, r.config.rubric_id, r.config.rubric_version, item_ids)


def abstain(
    project: Project,
    run: str | JudgeRun,
    *,
    target: float = 0.9,
    delta: float = 0.1,
    split: str | SplitInfo | None = None,
    grid: Sequence[float] | None = None,
    escalate_items: bool = False,
    record: bool = True,
) -> AbstentionReport:
    """Calibrate the abstention threshold of ``run`` and list (optionally escalate) the items below it.

    With ``split``, the threshold is calibrated on its dev part only and the realised agreement and coverage are
    reported on its test part (recorded as a look); without one, on every labelled item (then no held-out check).
    """
    _check(target, delta)
    r = run if isinstance(run, JudgeRun) else project.run(run)
    full, _ = aligned_for(project, r)
    if len(full.item_ids) == 0:
        raise UserError(f"no human labels for rubric {full.rubric.key}: label items before calibrating a threshold")
    _has_confidence(full, r)
    dev, info = (full, None) if split is None else aligned_for(project, r, split, "dev")
    conf, correct = _correct(dev)
    if conf.size == 0:
        raise UserError("no calibration items with a human majority label")
    result = calibrate_threshold(conf, correct, target=target, delta=delta, grid=grid)
    report: dict[str, object] = {}
    if info is not None:
        test, _ = aligned_for(project, r, info, "test")
        t_conf, t_ok = _correct(test)
        if t_conf.size:
            kept = np.isfinite(t_conf) & (t_conf >= (result.threshold if result.threshold is not None else np.inf))
            report["test_n"] = int(t_conf.size)
            report["test_coverage"] = float(kept.mean())
            report["test_agreement"] = float(t_ok[kept].mean()) if kept.any() else float("nan")
            if record:
                record_look(project, info, "test", r, purpose="abstain", n_items=len(test.item_ids))
        report["looks"] = look_summary(project, info)
    escalated = escalated_item_ids(project, r, result.threshold)
    queue = escalate(project, r, escalated, result.threshold) if escalate_items else None
    return AbstentionReport(
        run=r.name,
        rubric=full.rubric.key,
        split=None if info is None else info.key,
        calibration=result,
        escalated=escalated,
        n_escalated=len(escalated),
        queue_updated=queue,
        **report,
    )


def render_abstention(rep: AbstentionReport) -> str:
    """Plain-text report of an abstention calibration."""
    c = rep.calibration
    where = "all labelled items" if rep.split is None else f"the dev part of split {rep.split}"
    lines = [f"Abstention for {rep.run} (rubric {rep.rubric}), calibrated on {where}"]
    lines.append(
        f"  target agreement {c.target:g} with probability >= {1 - c.delta:g} (delta {c.delta:g}); "
        f"{c.n_calibration} calibration items"
    )
    if c.threshold is None:
        lines.append(
            f"  NO THRESHOLD reaches the target: even the most confident items do not show agreement >= {c.target:g}"
            f" with {1 - c.delta:.0%} confidence (at least {c.n_min} items per threshold are needed). Escalate every "
            "item to people, or improve the judge."
        )
    else:
        lines.append(
            f"  threshold lambda = {c.threshold:.2f}: the judge keeps {c.n_selected} of {c.n_calibration} items "
            f"(coverage {c.coverage:.1%}), agreement {c.agreement:.3f} on them; disagreement <= "
            f"{c.risk_upper_bound:.3f} at {1 - c.delta:.0%} confidence (Clopper-Pearson)"
        )
    if rep.test_n is not None:
        agr = "n/a" if rep.test_agreement is None or math.isnan(rep.test_agreement) else f"{rep.test_agreement:.3f}"
        lines.append(f"  held-out test part: coverage {rep.test_coverage:.1%}, agreement {agr} on {rep.test_n} items")
    lines.append(
        f"  {rep.n_escalated} unlabelled item(s) under the threshold (or without a verdict/confidence) go to people"
    )
    if rep.queue_updated is not None:
        lines.append(f"  label queue: raised the priority of {rep.queue_updated} item(s)")
    if rep.looks is not None and rep.looks.level != "none":
        lines.append(f"  {rep.looks.message}")
    return "\n".join(lines)
