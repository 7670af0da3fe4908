"""Small formatting helpers shared by the HTML, Markdown and plain-text renderings."""

from __future__ import annotations

import math

from judgekit.agreement import CriterionResult, TrustAssessment
from judgekit.agreement.render import WIDTH, criterion_rows, fit, numeric_lines, unit_lines
from judgekit.stats import StatResult

OUTCOME_LABEL = {"pass": "pass", "fail": "FAIL", "inconclusive": "inconclusive", "not_applicable": "n/a"}
OUTCOME_MARK = {"pass": "PASS", "fail": "FAIL", "inconclusive": "????", "not_applicable": " n/a"}
OUTCOME_EMOJI = {"pass": "✅", "fail": "❌", "inconclusive": "⚠️", "not_applicable": "➖"}
VERDICT_EMOJI = {"TRUSTED": "✅", "NOT TRUSTED": "❌", "INSUFFICIENT EVIDENCE": "⚠️"}
VERDICT_CLASS = {"TRUSTED": "pass", "NOT TRUSTED": "fail", "INSUFFICIENT EVIDENCE": "inconclusive"}


def fmt_value(x: float | None, digits: int = 3) -> str:
    """A number, or ``n/a`` for None/NaN."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:.{digits}f}"


def fmt_figure(f: StatResult | None, digits: int = 3) -> str:
    """``0.476 [0.426, 0.524]``; counts (no interval, integral) without decimals; ``n/a`` when missing."""
    if f is None:
        return "n/a"
    return f.fmt(digits)


def fmt_figure_n(f: StatResult | None, digits: int = 3) -> str:
    """:func:`fmt_figure` followed by the figure's n: ``0.476 [0.426, 0.524] (n=999)``."""
    return "n/a" if f is None else f"{f.fmt(digits)} (n={f.n_items})"


def fmt_threshold(c: CriterionResult) -> str:
    """``≥ 0.6`` / ``≤ 0.1``; empty without a threshold."""
    if c.threshold is None:
        return ""
    return f"{'≥' if c.direction == '>=' else '≤'} {c.threshold:g}"


def fmt_pct(x: float | None, digits: int = 1) -> str:
    """``12.5%`` or ``n/a``."""
    if x is None or math.isnan(x):
        return "n/a"
    return f"{x:.{digits}%}"


def fmt_p(p: float | None) -> str:
    """A p-value the way people read them: ``< 0.001`` below that."""
    if p is None or math.isnan(p):
        return "n/a"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def headline(a: TrustAssessment) -> str:
    """One sentence: the judge beside the human ceiling."""
    k = a.judge.kappa.failures_as_wrong
    return (
        f"judge kappa vs reference {k.fmt()} (n={k.n_items}) vs human ceiling {a.ceiling.kappa.fmt()} "
        f"(n={a.ceiling.kappa.n_items}); gap {a.judge.gap.failures_as_wrong.fmt()}"
    )


def _measured(c: CriterionResult) -> str:
    return "n/a" if c.measured is None else f"{fmt_figure(c.measured)} n={c.measured.n_items}"


def criteria_table(a: TrustAssessment) -> str:
    """Plain-text table of every criterion (for the terminal, ``judgekit check`` and assertion messages); a rubric
    with rated criteria first gets a row per criterion (and the overall rule) with its own verdict."""
    lines = fit(f"judge run '{a.run}' on rubric {a.rubric}: {a.verdict}")
    if a.parts:
        lines += unit_lines(a)
    elif a.numeric is not None:
        lines += numeric_lines(a.numeric)
    for row in criterion_rows(a.criteria):
        c, indent = row.result, row.indent
        lines += [row.heading] if row.heading else []
        needs = f"needs {fmt_threshold(c)}" if c.threshold is not None else ""
        mark = f"{indent}[{OUTCOME_MARK[c.outcome]}] "
        head = f"{mark}{row.name:<{row.width}}  {_measured(c):<30} {needs}".rstrip()
        if len(head) > WIDTH:  # a long name: the figure on the next line
            lines.append(f"{mark}{row.name}")
            head = f"{indent}{'':7}{_measured(c):<30} {needs}".rstrip()
        lines.append(head)
        lines += fit(c.reason, indent + " " * 7, indent + " " * 7)
    return "\n".join(lines)


def failure_summary(a: TrustAssessment) -> str:
    """Why the run is not trusted (for ``CheckFailed`` and assertion headlines): the verdict on the first line,
    then one wrapped entry per reason (80 columns)."""
    lines = [f"judge run '{a.run}' is {a.verdict}:"]
    for r in a.reasons:
        lines += fit(f"- {r}", "  ", "    ")
    return "\n".join(lines)
