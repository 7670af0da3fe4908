"""Plain-text views of the failure modes and of an alignment record, at 80 columns (the CLI prints these; the
report renders the same records in HTML and Markdown)."""

from __future__ import annotations

import math
import textwrap

from judgekit.align.explain import FACETS, DisagreementReport, ExampleItem, FailureMode
from judgekit.align.record import AlignmentRecord, CandidateRecord
from judgekit.stats import StatResult

WIDTH = 80


def pct(x: float) -> str:
    """A share as a percentage (``n/a`` when undefined)."""
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.0%}"


def fmt(fig: StatResult | None, digits: int = 3) -> str:
    """A figure with its interval, or ``n/a``."""
    if fig is None or not math.isfinite(fig.value):
        return "n/a"
    return fig.fmt(digits)


def signed(fig: StatResult | None) -> str:
    """A difference with its interval and signs: ``+0.120 [+0.050, +0.190]``."""
    if fig is None or not math.isfinite(fig.value):
        return "n/a"
    if fig.low is None or fig.high is None:
        return f"{fig.value:+.3f}"
    return f"{fig.value:+.3f} [{fig.low:+.3f}, {fig.high:+.3f}]"


def _one_line(text: str | None, width: int, indent: str = "") -> str:
    """``indent`` + the text on one line, clipped to ``width`` columns in all."""
    flat = " ".join((text or "").split())
    room = width - len(indent)
    return indent + (flat if len(flat) <= room else flat[: room - 1].rstrip() + "…")


def _example_lines(e: ExampleItem, indent: str) -> list[str]:
    people = ", ".join(f"{v}" for v in e.human.values())
    where = ", ".join(x for x in (e.segment, e.risk and f"risk {e.risk}") if x)
    head = f"{e.item_id}" + (f" ({where})" if where else "")
    lines = [_one_line(f"{head}: people {people} -> judge {e.judge}", WIDTH, indent)]
    room = WIDTH - len(indent) - 12
    lines.append(f"{indent}  input:    {_one_line(e.input, room)}")
    if e.output is not None:
        lines.append(f"{indent}  output:   {_one_line(e.output, room)}")
    if e.output_a is not None or e.output_b is not None:
        lines.append(f"{indent}  A:        {_one_line(e.output_a, room)}")
        lines.append(f"{indent}  B:        {_one_line(e.output_b, room)}")
    if e.rationale:
        lines.append(f"{indent}  judge:    {_one_line(e.rationale, room)}")
    for c in e.critiques[:2]:
        lines.append(f"{indent}  critique: {_one_line(c, room)}")
    return lines


def _mode_row(m: FailureMode, key_width: int = 34) -> str:
    key = _one_line(m.key, key_width)
    return f"  {key:<{key_width}} {m.n_disagreements:>5} of {m.n_items:<5} {pct(m.gap_share.value):>5} of the gap"


def render_explanation(r: DisagreementReport, *, per_facet: int = 6) -> str:
    """The failure modes as text: the headline, the largest modes with examples, then each facet's groups."""
    lines = textwrap.wrap(
        f"Where {r.run} disagrees with people: {r.where}, {r.n_items} labelled items ({r.n_reference} with a "
        f"reference label), rubric {r.rubric}",
        WIDTH,
    )
    lines.append(
        _one_line(
            f"{r.n_disagreements} disagreements; gap to the human ceiling {fmt(r.gap)} n={r.gap.n_items}", WIDTH, "  "
        )
    )
    lines.append(f"  (ceiling {fmt(r.ceiling)}, judge vs each annotator {fmt(r.judge_mean_kappa)})")
    lines += textwrap.wrap(r.note, WIDTH, initial_indent="  ", subsequent_indent="  ")
    if not r.largest:
        lines.append("  no disagreements: nothing to explain")
        return "\n".join(lines)
    lines += ["", "Largest failure modes"]
    for n, m in enumerate(r.largest, 1):
        share = pct(m.gap_share.value)
        lines.append(_one_line(f"{n}. {m.title}: {m.n_disagreements} items, {share} of the gap", WIDTH, "  "))
        for e in m.examples:
            lines += _example_lines(e, "     ")
    for facet, title in FACETS.items():
        groups = r.by_facet(facet)
        lines += ["", f"By {title}"]
        if facet == "critique" and not r.critiques_available:
            lines.append("  not available: the disagreement items carry no critiques")
            continue
        if not groups:
            lines.append(f"  no groups to compare (one holds every item, or none has {r.min_items} disagreements)")
            continue
        for m in groups[:per_facet]:
            lines.append(_mode_row(m))
        if len(groups) > per_facet:
            lines.append(f"  ... {len(groups) - per_facet} more (judgekit explain --json)")
    return "\n".join(lines)


def _cand_line(c: CandidateRecord, chosen: str | None) -> list[str]:
    mark = "*" if c.name == chosen else " "
    if c.status == "skipped":
        return [
            *textwrap.wrap(
                f"{mark} {c.name}: skipped, {c.reason}", WIDTH, initial_indent="  ", subsequent_indent="      "
            )
        ]
    per = "" if c.cost_per_item is None else f", ${c.cost_per_item * 1000:.3f} per 1k items"
    lines = [_one_line(f"{mark} {c.name} [{c.rubric}] cost ${c.cost_usd:.4f}{per}", WIDTH, "  ")]
    lines += textwrap.wrap(c.description, WIDTH, initial_indent="      ", subsequent_indent="      ")
    if c.select is not None:
        s = c.select
        lines.append(
            _one_line(
                f"select: kappa {fmt(s.kappa)} vs {fmt(s.kappa_start)}, gain {signed(s.kappa_gain)}", WIDTH, "      "
            )
        )
    if c.fit is not None:
        lines.append(_one_line(f"fit:    gain {signed(c.fit.kappa_gain)} (n={c.fit.n_items})", WIDTH, "      "))
    lines += textwrap.wrap(c.verdict or c.status, WIDTH, initial_indent="      ", subsequent_indent="        ")
    if c.status == "incomplete" and c.reason:
        lines += textwrap.wrap(c.reason, WIDTH, initial_indent="      ", subsequent_indent="      ")
    return lines


def render_record(rec: AlignmentRecord, *, diffs: bool = True) -> str:
    """An alignment record as text: the rule, every candidate, the choice, the test look, the cost."""
    s = rec.settings
    lines = textwrap.wrap(
        f"{rec.name}: aligning {s.run} (rubric {rec.rubric}) on split {s.split} [{rec.status}]", WIDTH
    )
    lines.append(
        f"  dev {rec.n_dev} items: {len(rec.fit_ids)} to build candidates from, {len(rec.select_ids)} to choose on;"
        f" test {rec.n_test}"
    )
    lines += textwrap.wrap("Rule: " + rec.selection_rule, WIDTH, initial_indent="  ", subsequent_indent="    ")
    if rec.explanation is not None and rec.explanation.largest:
        lines.append(_one_line(f"Largest failure modes on the fit half (gap {fmt(rec.explanation.gap)}):", WIDTH, "  "))
        for m in rec.explanation.largest[:3]:
            lines.append(
                _one_line(f"- {m.title}: {m.n_disagreements} items, {pct(m.gap_share.value)} of the gap", WIDTH, "    ")
            )
    lines += ["", "Candidates (* = chosen)"]
    for c in rec.candidates:
        lines += _cand_line(c, rec.chosen)
        if diffs and c.changes and c.status != "skipped":
            for ch in c.changes[:6]:
                lines.append(_one_line(ch, WIDTH, "        "))
            if len(c.changes) > 6:
                lines.append(f"        ... {len(c.changes) - 6} more changes")
    lines += ["", *textwrap.wrap("Choice: " + (rec.choice or "not made yet"), WIDTH, subsequent_indent="  ")]
    t = rec.test
    if t is not None:
        lines.append("")
        lines.append(f"The one look at test ({t.n_items} items, {t.conclusion}):")
        lines.append(
            _one_line(f"kappa {fmt(t.kappa_before)} -> {fmt(t.kappa_after)}, gain {signed(t.kappa_gain)}", WIDTH, "  ")
        )
        lines.append(
            _one_line(f"verdict {t.verdict_before} -> {t.verdict_after}; McNemar p = {t.mcnemar_p:.3g}", WIDTH, "  ")
        )
        lines += textwrap.wrap(t.looks.message, WIDTH, initial_indent="  ", subsequent_indent="  ")
    money = rec.cost
    budget = "no budget" if money.budget is None else f"budget ${money.budget:g}"
    lines += [
        "",
        *textwrap.wrap(
            f"Cost: proposer ${money.proposer:.4f} + candidates on dev ${money.candidates:.4f} + test look "
            f"${money.test_look:.4f} = ${money.total:.4f} ({budget})",
            WIDTH,
            subsequent_indent="  ",
        ),
    ]
    lines += ["", *textwrap.wrap(rec.outcome or rec.status, WIDTH)]
    if rec.rubric_file:
        lines.append(f"new rubric file: {rec.rubric_file}")
    return "\n".join(lines)


def render_records(records: list[AlignmentRecord]) -> str:
    """One line per alignment."""
    if not records:
        return "no alignments in the project: run 'judgekit align RUN --split NAME'"
    out = []
    for r in records:
        gain = signed(r.test.kappa_gain) if r.test is not None else "no test look"
        out.append(_one_line(f"{r.name}  {r.settings.run}  {r.status}  chosen: {r.chosen or '-'}  test: {gain}", WIDTH))
    return "\n".join(out)
