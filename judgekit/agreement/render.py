"""Plain-text rendering of a trust assessment for the terminal (80 columns): every figure with its estimand's
name and its n, both bases side by side."""

from __future__ import annotations

from judgekit.agreement.assess import AgreementOverview, TrustAssessment
from judgekit.agreement.judge_judge import JudgePair
from judgekit.agreement.judge_people import BothBases
from judgekit.stats import StatResult

__all__ = ["figure_cell", "render_overview", "render_pair", "render_text"]

_MARK = {"pass": "PASS", "fail": "FAIL", "inconclusive": "????", "not_applicable": " n/a"}
_LABEL = 25


def figure_cell(fig: StatResult | None, digits: int = 3) -> str:
    """``0.476 [0.430, 0.519] n=999`` (``n/a`` for a missing figure)."""
    if fig is None:
        return "n/a"
    return f"{fig.fmt(digits)} n={fig.n_items}"


def _both(label: str, fig: BothBases) -> str:
    return f"  {label:<{_LABEL}}{figure_cell(fig.failures_as_wrong):<26} {figure_cell(fig.ok_only)}"


def render_text(a: TrustAssessment) -> str:
    """A compact, readable summary: the ceiling beside the judge, every criterion, the verdict and why."""
    ref = a.reference
    ceiling = a.ceiling
    j = a.judge
    lines = [
        f"== judge run '{a.run}' ({a.provider}:{a.model}) on rubric {a.rubric} ({a.scale}) ==",
        f"labelled items {a.n_items_labelled}, {a.n_annotators} annotators, "
        f"{a.annotators_per_item.value:.2f} per item (blind labels)",
        "verdicts: " + ", ".join(f"{k} {v}" for k, v in a.status_counts.items() if v),
        f"reference label: {ref.rule} of {ref.provenance} labels, on {ref.n_with_reference} items"
        + (f" ({ref.n_ties} ties left out)" if ref.n_ties else "")
        + (f" ({ref.n_not_adjudicated} not adjudicated, left out)" if ref.n_not_adjudicated else ""),
        "",
        "human ceiling (people vs people)",
        f"  {'kappa, pairs by overlap':<{_LABEL}}{figure_cell(ceiling.kappa)}",
    ]
    for p in ceiling.pairs:
        note = "" if p.counted else f"  (not counted: < {ceiling.min_pair_overlap} shared)"
        lines.append(f"    {p.a + ' vs ' + p.b:<{_LABEL - 3}} {p.kappa.fmt()} n={p.kappa.n_items}{note}")
    lines += [
        f"  {'Krippendorff alpha':<{_LABEL}}{figure_cell(ceiling.alpha)}",
        f"{'judge vs people':<{_LABEL + 2}}{'failures as wrong':<27}ok verdicts only",
        _both("kappa vs reference", j.kappa),
        _both("accuracy vs reference", j.accuracy),
        _both("kappa vs each annotator", j.mean_kappa),
        _both("gap to human ceiling", j.gap),
        f"  {'failed verdicts':<{_LABEL}}{figure_cell(j.failure_rate)}",
    ]
    if j.alpha_with_judge is not None:
        lines.append(
            f"  alpha with the judge as one more annotator {j.alpha_with_judge.alpha.fmt()} "
            f"(annotators alone {j.alpha_with_judge.alpha_humans:.3f})"
        )
    if a.calibration.available and a.calibration.ece is not None and a.calibration.brier is not None:
        lines.append(
            f"  calibration: ECE {a.calibration.ece.fmt()}, Brier {a.calibration.brier.fmt()} "
            f"(n={a.calibration.n_items})"
        )
    else:
        lines.append(f"  calibration, harmful confidence: not available ({a.calibration.reason})")
    if a.corrected is not None:
        c = a.corrected
        lines.append(
            f"  corrected labels (made seeing the judge), on {c.n_items} items: judge accuracy "
            f"{c.judge_accuracy_corrected.fmt()} vs {c.judge_accuracy_blind.fmt()} with blind labels, "
            f"shift {c.shift.fmt()}"
        )
    weakest = [s for s in a.per_segment if s.n_items >= 10][:3]
    if weakest:
        lines.append("  weakest segments (kappa vs reference, failures as wrong):")
        lines += [f"    {s.key[:40]:<42}{figure_cell(s.kappa.failures_as_wrong, 2)}" for s in weakest]
    lines += ["", "criteria"]
    for cr in a.criteria:
        measured = cr.measured.fmt() if cr.measured else "n/a"
        thr = "" if cr.threshold is None else f" (needs {cr.direction} {cr.threshold:g})"
        lines.append(f"  [{_MARK[cr.outcome]}] {cr.name:<26} {measured}{thr}")
    lines += ["", f"VERDICT: {a.verdict}"]
    lines += [f"  - {r}" for r in a.reasons]
    return "\n".join(lines)


def render_pair(p: JudgePair) -> str:
    """Judge A against judge B on the labelled items (the same figures as ``judgekit compare`` and the report)."""
    lvl = f"{p.level:.0%}"
    mc = p.mcnemar
    lines = [
        f"against people ({p.n_items} items with a reference label, rubric {p.rubric}; {lvl} paired bootstrap):",
        f"  {'':<{_LABEL}}{'failures as wrong':<27}ok verdicts only",
        _both(f"kappa {p.run_a[:15]}", p.kappa_a),
        _both(f"kappa {p.run_b[:15]}", p.kappa_b),
        _both("kappa A - B", p.kappa_difference),
        _both("accuracy A - B", p.accuracy_difference),
        f"  McNemar ({mc.method}): {mc.a_right_b_wrong} items only A right, {mc.a_wrong_b_right} only B right, "
        f"p = {mc.p_value.value:.3g} (n={mc.p_value.n_items})",
    ]
    return "\n".join(lines)


def render_overview(o: AgreementOverview) -> str:
    """The admin page's agreement block: the human ceiling with every pair's n, then every judge run against
    people on both bases (the estimands, names and n of ``judgekit agree``)."""
    ref = o.reference
    lines = [
        f"{o.n_items_labelled} labelled items, {o.n_overlap_items} with >= 2 blind labels; reference label: "
        f"{ref.rule} of {ref.provenance} labels on {ref.n_with_reference} items"
        + (f" ({ref.n_ties} ties left out)" if ref.n_ties else ""),
        "human ceiling (people vs people)",
        f"  {'kappa, pairs by overlap':<{_LABEL}}{figure_cell(o.ceiling.kappa)}",
    ]
    for p in o.ceiling.pairs:
        note = "" if p.counted else f"  (not counted: < {o.ceiling.min_pair_overlap} shared)"
        lines.append(f"    {p.a + ' vs ' + p.b:<{_LABEL - 3}} {p.kappa.fmt()} n={p.kappa.n_items}{note}")
    lines.append(f"  {'Krippendorff alpha':<{_LABEL}}{figure_cell(o.ceiling.alpha)}")
    for j in o.judges:
        lines += [
            f"judge {j.run} vs people{'':<4}{'failures as wrong':<27}ok verdicts only",
            _both("kappa vs reference", j.judge.kappa),
            _both("accuracy vs reference", j.judge.accuracy),
            _both("kappa vs each annotator", j.judge.mean_kappa),
            _both("gap to human ceiling", j.judge.gap),
            f"  {'failed verdicts':<{_LABEL}}{figure_cell(j.judge.failure_rate)}",
        ]
    return "\n".join(lines)
