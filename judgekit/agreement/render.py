"""Plain-text rendering of a trust assessment for the terminal (80 columns): every figure with its estimand's
name and its n, both bases side by side."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Literal

import numpy as np

from judgekit.agreement.assess import AgreementOverview, TrustAssessment
from judgekit.agreement.judge_judge import JudgePair
from judgekit.agreement.judge_people import BothBases, JudgeVsPeople
from judgekit.agreement.numeric import GroupNumeric, NumericFigures
from judgekit.agreement.verdict import CriterionResult
from judgekit.stats import StatResult

__all__ = [
    "WIDTH",
    "CriterionRow",
    "both_bases",
    "criterion_rows",
    "figure_cell",
    "fit",
    "numeric_group_rows",
    "numeric_lines",
    "numeric_rows",
    "pair_lines",
    "render_overview",
    "render_pair",
    "render_text",
    "unit_figures",
    "unit_lines",
]

_MARK = {"pass": "PASS", "fail": "FAIL", "inconclusive": "????", "not_applicable": " n/a"}
_LABEL = 25


def figure_cell(fig: StatResult | None, digits: int = 3) -> str:
    """``0.476 [0.430, 0.519] n=999`` (``n/a`` for a missing figure)."""
    if fig is None:
        return "n/a"
    return f"{fig.fmt(digits)} n={fig.n_items}"


WIDTH = 80
"""Every line of the terminal output fits this many columns (``judgekit agree``, ``check``, ``demo``)."""


def fit(text: str, indent: str = "", more: str | None = None, width: int = WIDTH) -> list[str]:
    """``text`` as lines of at most ``width`` columns: the first line starts with ``indent``, the next ones with
    ``more`` (default: ``indent`` and two spaces); words are never split, a word longer than a line stays whole."""
    more = indent + "  " if more is None else more
    return textwrap.wrap(
        text, width, initial_indent=indent, subsequent_indent=more, break_long_words=False, break_on_hyphens=False
    ) or [indent.rstrip()]


def both_bases(title: str, rows: list[tuple[str, BothBases]], width: int = WIDTH) -> list[str]:
    """Figures on both bases (failures counted as wrong, ok verdicts only) in two columns under ``title``; one
    column when the bases agree on every row (no failed verdict), or one block per basis when two columns would not
    fit ``width``."""
    cells = [(label, figure_cell(f.failures_as_wrong), figure_cell(f.ok_only)) for label, f in rows]
    wide = max([len(c[1]) for c in cells] + [len("failures as wrong")]) + 1
    if all(a == b for _, a, b in cells):
        same = "the same on both bases: failures as wrong, ok verdicts only"
        return [f"{title} ({same})" if title else same] + [f"  {lb:<{_LABEL}}{a}" for lb, a, _ in cells]
    two = [f"{title:<{_LABEL + 2}}{'failures as wrong':<{wide}}ok verdicts only"] + [
        f"  {lb:<{_LABEL}}{a:<{wide}}{b}" for lb, a, b in cells
    ]
    if max(len(line) for line in two) <= width:
        return two
    head = f"{title}, " if title else ""
    return (
        [f"{head}failures as wrong"]
        + [f"  {lb:<{_LABEL}}{a}" for lb, a, _ in cells]
        + [f"{head}ok verdicts only"]
        + [f"  {lb:<{_LABEL}}{b}" for lb, _, b in cells]
    )


def unit_figures(a: TrustAssessment) -> tuple[str, StatResult | None, StatResult | None]:
    """The headline of one unit: (estimand, the human ceiling, the judge's figure). On an interval scale the ICC
    (people among themselves, the judge vs the mean score), else kappa (pairs by overlap, judge vs reference,
    failures as wrong)."""
    if a.numeric is not None:
        return "ICC", a.numeric.human_icc, a.numeric.judge_icc
    return "kappa", a.ceiling.kappa, a.judge.kappa.failures_as_wrong


_SHORT = {"TRUSTED": "TRUSTED", "NOT TRUSTED": "NOT TRUSTED", "INSUFFICIENT EVIDENCE": "INSUFFICIENT"}


def unit_lines(a: TrustAssessment) -> list[str]:
    """One row per rated criterion (and the overall rule): its scale, the ceiling beside the judge, its verdict
    (80 columns: ``INSUFFICIENT`` stands for INSUFFICIENT EVIDENCE); then each interval scale's numeric figures."""
    lines = [
        "  people among themselves, the judge against them: ICC (interval), else kappa",
        f"  {'criterion':<13}{'scale':<9}{'people':<21}{'judge':<21}verdict",
    ]
    for p in a.parts:
        _, ceil, judge = unit_figures(p)
        lines.append(f"  {(p.scope or '')[:12]:<13}{p.scale[:8]:<9}{_f(ceil):<21}{_f(judge):<21}{_SHORT[p.verdict]}")
    for p in a.parts:
        if p.numeric is not None:
            lines += numeric_lines(p.numeric, p.scope)
    return lines


def numeric_rows(
    a: TrustAssessment, who: Literal["all", "people", "judge"] = "all"
) -> list[tuple[str, str, StatResult | None]]:
    """``(criterion, figure, value)`` for every numeric figure of the assessment's interval scales (its units', or
    its own on a rubric with one scale): what the report's numeric table and the admin page show, in this order.
    ``who``: every figure, only the people's among themselves (the ceiling: ICC, pairwise MAE), or only the
    judge's."""
    units = [(p.scope or "", p.numeric) for p in a.parts] if a.parts else [(a.scope or "", a.numeric)]
    rows: list[tuple[str, str, StatResult | None]] = []
    for scope, n in units:
        if n is None:
            continue
        loa = "" if n.judge_bias is None else _limits(n.judge_bias)
        people = [
            (scope, f"people: {n.icc_design.split(':')[0]} among annotators", n.human_icc),
            (scope, "people: MAE between annotators, pairs by shared items", n.human_mae),
        ]
        rows += people if who != "judge" else []
        if who == "people":
            continue
        rows += [
            (scope, f"judge vs the {n.reference}: ICC(A,1)", n.judge_icc),
            (scope, "judge: Lin's concordance", n.judge_ccc),
            (scope, "judge: Pearson's r", n.judge_pearson),
            (scope, "judge: Spearman's rho", n.judge_spearman),
            (scope, "judge: Kendall's tau-b", n.judge_kendall),
            (scope, "judge: MAE", n.judge_mae),
            (
                scope,
                "judge: mean bias (judge - people)" + (f"; {loa}" if loa else ""),
                n.judge_bias,
            ),
            (scope, "judge vs each annotator: MAE", n.judge_mean_mae),
            (scope, "judge vs each annotator minus MAE between people", n.mae_gap),
        ]
    return rows


def numeric_group_rows(a: TrustAssessment) -> list[tuple[str, str, str, int, GroupNumeric]]:
    """``(criterion, "segment" | "risk tier", group, n items, figures)`` for every segment and risk tier of the
    assessment's interval scales (its units', or its own), each in the breakdown's order (weakest kappa first): the
    report's numeric table per segment and risk tier."""
    units = [(p.scope or "", p) for p in a.parts] if a.parts else [(a.scope or "", a)]
    rows: list[tuple[str, str, str, int, GroupNumeric]] = []
    for scope, unit in units:
        for kind, groups in (("segment", unit.per_segment), ("risk tier", unit.per_risk)):
            rows += [(scope, kind, g.key, g.n_items, g.numeric) for g in groups if g.numeric is not None]
    return rows


def numeric_lines(n: NumericFigures, scope: str | None = None) -> list[str]:
    """The numeric figures of one interval scale (80 columns): the ceiling among people (ICC in its design's form,
    pairwise MAE with every pair's n), the judge against the mean score and against each annotator."""
    bias = n.judge_bias
    loa = "" if bias is None else _limits(bias)
    lines = [
        f"  {scope + ', ' if scope else ''}{n.scale}",
        f"    people: ICC {_f(n.human_icc)}" + ("" if n.human_icc is None else f" n={n.human_icc.n_items}"),
        *[f"      {part}" for part in _wrap(n.icc_design, 72)],
        f"      MAE between people {_f(n.human_mae)}"
        + ("" if n.human_mae is None else f" n={n.human_mae.n_items}, pairs by overlap"),
    ]
    lines += pair_lines([(q.a, q.b, q.mae, q.counted) for q in n.pairs], n.min_pair_overlap, "MAE", "        ", 2)
    n_ref = n.judge_mae.n_items if n.judge_mae is not None else 0
    lines += [
        f"    judge vs the {n.reference} (n={n_ref}):",
        f"      ICC(A,1) {_f(n.judge_icc)}, Lin's CCC {_f(n.judge_ccc)}",
        f"      Pearson {_f(n.judge_pearson)}, Spearman {_f(n.judge_spearman)}",
        f"      Kendall {_f(n.judge_kendall)}",
        f"      MAE {_f(n.judge_mae)}, mean bias {_f(bias)}",
        f"      Bland-Altman {loa or 'limits of agreement: n/a'}",
        f"    judge vs each annotator: MAE {_f(n.judge_mean_mae)}",
        f"      minus the MAE between people {_f(n.mae_gap)}",
    ]
    return lines


MAX_PAIRS_LISTED = 10
"""Annotator pairs listed one per line; more (DICES: 40 raters, 780 pairs) are summarised in three lines."""


def pair_lines(
    pairs: list[tuple[str, str, StatResult, bool]],
    min_overlap: int,
    name: str,
    indent: str = "    ",
    digits: int = 3,
) -> list[str]:
    """Every annotator pair ``(a, b, figure, counted)`` with its n, or, beyond :data:`MAX_PAIRS_LISTED` pairs, how
    many pairs there are and count, the median and range of the counted pairs' figures and the two extreme pairs
    (80 columns). The full list is in ``--json`` and the report."""
    if len(pairs) <= MAX_PAIRS_LISTED:
        out = []
        for a, b, fig, is_counted in pairs:
            note = "" if is_counted else f"  (not counted: < {min_overlap} shared)"
            if digits == 3:
                out.append(f"{indent}{a + ' vs ' + b:<{_LABEL - 3}} {fig.fmt()} n={fig.n_items}{note}")
            else:
                out.append(f"{indent}{a[:15]} vs {b[:15]}: {fig.fmt(digits)} n={fig.n_items}{note}")
        return out
    counted = sorted((p for p in pairs if p[3]), key=lambda p: p[2].value)
    lines = [f"{indent}{len(pairs)} pairs, {len(counted)} counted (>= {min_overlap} shared items)"]
    if counted:
        values = [p[2].value for p in counted]
        median = float(np.median(values))
        lines[0] += f": {name} median {median:.{digits}f}"
        for what, (a, b, fig, _) in (("lowest", counted[0]), ("highest", counted[-1])):
            lines.append(f"{indent}  {what:<8}{a[:20]} vs {b[:20]} {fig.value:.{digits}f} n={fig.n_items}")
    return lines


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width) or [""]


def _limits(bias: StatResult) -> str:
    low, high = bias.details.get("loa_low"), bias.details.get("loa_high")
    return "" if low is None or high is None else f"limits of agreement {low:.2f} to {high:.2f}"


def _f(fig: StatResult | None) -> str:
    return "n/a" if fig is None else fig.fmt(2)


def render_text(a: TrustAssessment) -> str:
    """A compact, readable summary: the ceiling beside the judge, every criterion, the verdict and why. A rubric
    with rated criteria: a row per criterion (and the overall rule), then every criterion's criteria."""
    if a.parts:
        lines = [
            *fit(f"== judge run '{a.run}' ({a.provider}:{a.model}) on rubric {a.rubric}, {len(a.parts)} criteria =="),
            f"labelled items {a.n_items_labelled}, {a.n_annotators} annotators, "
            f"{a.annotators_per_item.value:.2f} per item (blind labels)",
            "",
            "per criterion",
            *unit_lines(a),
        ]
        return "\n".join([*lines, *_criteria_lines(a)])
    ref = a.reference
    ceiling = a.ceiling
    j = a.judge
    lines = [
        *fit(f"== judge run '{a.run}' ({a.provider}:{a.model}) on rubric {a.rubric} ({a.scale}) =="),
        f"labelled items {a.n_items_labelled}, {a.n_annotators} annotators, "
        f"{a.annotators_per_item.value:.2f} per item (blind labels)",
        "verdicts: " + ", ".join(f"{k} {v}" for k, v in a.status_counts.items() if v),
        *fit(
            f"reference label: {ref.rule} of {ref.provenance} labels, on {ref.n_with_reference} items"
            + (f" ({ref.n_ties} ties left out)" if ref.n_ties else "")
            + (f" ({ref.n_not_adjudicated} not adjudicated, left out)" if ref.n_not_adjudicated else "")
        ),
        "",
        "human ceiling (people vs people)",
        f"  {'kappa, pairs by overlap':<{_LABEL}}{figure_cell(ceiling.kappa)}",
    ]
    lines += pair_lines([(p.a, p.b, p.kappa, p.counted) for p in ceiling.pairs], ceiling.min_pair_overlap, "kappa")
    lines += [
        f"  {'Krippendorff alpha':<{_LABEL}}{figure_cell(ceiling.alpha)}",
        *both_bases("judge vs people", _judge_rows(j)),
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
        lines += fit(f"calibration, harmful confidence: not available ({a.calibration.reason})", "  ")
    if a.corrected is not None:
        c = a.corrected
        lines += fit(
            f"corrected labels (made seeing the judge), on {c.n_items} items: judge accuracy "
            f"{c.judge_accuracy_corrected.fmt()} vs {c.judge_accuracy_blind.fmt()} with blind labels, "
            f"shift {c.shift.fmt()}",
            "  ",
        )
    if a.numeric is not None:
        lines += ["", "numeric scores (interval scale)", *numeric_lines(a.numeric)]
    weakest = [s for s in a.per_segment if s.n_items >= 10][:3]
    if weakest and not (len(a.per_segment) == 1 and a.per_segment[0].key == "(none)"):
        lines.append("  weakest segments (kappa vs reference, failures as wrong):")
        lines += [f"    {s.key[:40]:<42}{figure_cell(s.kappa.failures_as_wrong, 2)}" for s in weakest]
    return "\n".join([*lines, *_criteria_lines(a)])


@dataclass(frozen=True)
class CriterionRow:
    """One criterion as a row of a plain-text table: ``UNIT.NAME`` is shown as ``name`` under a ``UNIT.*``
    heading (``heading`` is set on the first row of each unit), so rows stay within 80 columns."""

    heading: str | None
    indent: str
    name: str
    width: int
    """Width of the name column: the longest name of the unit."""
    result: CriterionResult


def criterion_rows(criteria: list[CriterionResult]) -> list[CriterionRow]:
    """The criteria in order, each under the rubric criterion (unit) it belongs to; names without a unit are
    listed as they are, at the left."""
    groups: list[tuple[str | None, list[tuple[str, CriterionResult]]]] = []
    for cr in criteria:
        unit, dot, short = cr.name.rpartition(".")
        key = unit if dot else None
        if not groups or groups[-1][0] != key:
            groups.append((key, []))
        groups[-1][1].append((short if dot else cr.name, cr))
    rows = []
    for group, members in groups:
        width = max(len(name) for name, _ in members)
        for i, (name, cr) in enumerate(members):
            heading = f"  {group}.*" if group is not None and i == 0 else None
            rows.append(CriterionRow(heading, "  " if group is None else "    ", name, width, cr))
    return rows


def _criteria_lines(a: TrustAssessment) -> list[str]:
    lines = ["", "criteria"]
    for row in criterion_rows(a.criteria):
        cr = row.result
        lines += [row.heading] if row.heading else []
        measured = cr.measured.fmt() if cr.measured else "n/a"
        thr = "" if cr.threshold is None else f" (needs {cr.direction} {cr.threshold:g})"
        text = f"[{_MARK[cr.outcome]}] {row.name:<{max(row.width, 24)}} {measured}{thr}"
        lines += fit(text, row.indent, row.indent + " " * 7)
    lines += ["", f"VERDICT: {a.verdict}"]
    for r in a.reasons:
        lines += fit(f"- {r}", "  ", "    ")
    return lines


def _judge_rows(j: JudgeVsPeople) -> list[tuple[str, BothBases]]:
    return [
        ("kappa vs reference", j.kappa),
        ("accuracy vs reference", j.accuracy),
        ("kappa vs each annotator", j.mean_kappa),
        ("gap to human ceiling", j.gap),
    ]


def render_pair(p: JudgePair) -> str:
    """Judge A against judge B on the labelled items (the same figures as ``judgekit compare`` and the report)."""
    lvl = f"{p.level:.0%}"
    mc = p.mcnemar
    lines = [
        f"against people ({p.n_items} items with a reference label, rubric {p.rubric}; {lvl} paired bootstrap):",
        *both_bases(
            "",
            [
                (f"kappa {p.run_a[:15]}", p.kappa_a),
                (f"kappa {p.run_b[:15]}", p.kappa_b),
                ("kappa A - B", p.kappa_difference),
                ("accuracy A - B", p.accuracy_difference),
            ],
        ),
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
    c = o.ceiling
    lines += pair_lines([(p.a, p.b, p.kappa, p.counted) for p in c.pairs], c.min_pair_overlap, "kappa")
    lines.append(f"  {'Krippendorff alpha':<{_LABEL}}{figure_cell(o.ceiling.alpha)}")
    for j in o.judges:
        lines += [
            *both_bases(f"judge {j.run} vs people", _judge_rows(j.judge)),
            f"  {'failed verdicts':<{_LABEL}}{figure_cell(j.judge.failure_rate)}",
        ]
    return "\n".join(lines)
