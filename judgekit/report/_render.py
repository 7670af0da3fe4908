"""Rendering a :class:`~judgekit.report._model.Report` as self-contained HTML, Markdown and JSON.

Why three formats of one model: the HTML is for reading (figures inline, works offline, safe to attach to a
ticket), the Markdown goes into a pull-request comment or a CI job summary, and the JSON is for machines. The
HTML uses Jinja2 with autoescaping on, so item text such as ``<script>`` is shown, never run.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from judgekit.agreement import BothBases, CriterionResult, TrustAssessment
from judgekit.agreement.render import numeric_group_rows, numeric_rows, unit_figures
from judgekit.align.explain import DisagreementReport, FailureMode
from judgekit.align.record import AlignmentRecord, DevFigures
from judgekit.align.render import signed
from judgekit.io.files import make_folder, write_text_atomic
from judgekit.report._format import (
    OUTCOME_EMOJI,
    OUTCOME_LABEL,
    VERDICT_CLASS,
    VERDICT_EMOJI,
    fmt_figure,
    fmt_figure_n,
    fmt_p,
    fmt_pct,
    fmt_threshold,
    fmt_value,
)
from judgekit.report._model import ItemExample, Report
from judgekit.stats import StatResult


@dataclass(frozen=True)
class ReportPaths:
    """Where :func:`write_report` put the three files."""

    html: Path
    markdown: Path
    json: Path


def _outcome_counts(a: TrustAssessment) -> dict[str, int]:
    counts = Counter(c.outcome for c in a.criteria)
    return {o: counts[o] for o in ("fail", "inconclusive", "pass", "not_applicable") if counts[o]}


def _compact(v: Any) -> str:
    if isinstance(v, float):
        return fmt_value(v)
    if isinstance(v, str | int | bool) or v is None:
        return str(v)
    return json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)[:400]


def _figures(report: Report) -> tuple[list[dict[str, str]], list[str]]:
    """Every figure as inline SVG text (matplotlib imported here, only when a report is rendered)."""
    from judgekit.report import figures as F

    per_run = [{k: F.svg_text(v) for k, v in F.assessment_figures(r.assessment).items()} for r in report.runs]
    comparison = []
    if report.comparisons:
        by_rubric: dict[str, list[TrustAssessment]] = {}
        names = {c.run_a for c in report.comparisons} | {c.run_b for c in report.comparisons}
        for r in report.runs:
            if r.info.name in names:
                by_rubric.setdefault(r.info.rubric, []).append(r.assessment)
        for group in by_rubric.values():
            title = "Judges side by side" + (f" on {group[0].rubric}" if len(by_rubric) > 1 else "")
            comparison.append(F.svg_text(F.comparison_figure(group, title=title)))
    return per_run, comparison


def _level_pct(report: Report) -> str:
    levels = {r.assessment.criteria_config.confidence_level for r in report.runs}
    return f"{next(iter(levels)):.0%}" if len(levels) == 1 else "bootstrap"


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page: inline CSS and SVG figures, no scripts, no external loads."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("judgekit.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["figure"] = lambda f: fmt_figure(f)
    env.filters["figure_n"] = lambda f: fmt_figure_n(f)
    env.filters["num"] = lambda x, digits=3: fmt_value(None if x is None else float(x), digits)
    env.filters["pct"] = lambda x, digits=1: fmt_pct(None if x is None else float(x), digits)
    env.filters["pval"] = fmt_p
    env.filters["p_is"] = p_is
    env.filters["signed"] = signed
    env.filters["gain"] = _gain
    env.filters["threshold"] = fmt_threshold
    env.filters["compact"] = _compact
    run_figures, comparison_figures = _figures(report)
    for figs in run_figures:
        figs.setdefault("reliability", "")
        figs.setdefault("risk_coverage", "")
    return env.get_template("report.html.j2").render(
        report=report,
        run_figures=run_figures,
        comparison_figures=comparison_figures,
        verdict_class=VERDICT_CLASS,
        outcome_label=OUTCOME_LABEL,
        outcome_counts=_outcome_counts,
        unit_figures=unit_figures,
        numeric_rows=numeric_rows,
        numeric_group_rows=numeric_group_rows,
        level_pct=_level_pct(report),
    )


# -- Markdown ---------------------------------------------------------------------------------------------------


def md_escape(text: object) -> str:
    """Text safe inside a Markdown table cell: HTML special characters escaped (GitHub renders inline HTML),
    pipes and backticks neutralised, newlines folded."""
    s = str(text)
    for a, b in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|"), ("`", "'"), ("*", "\\*"), ("_", "\\_")):
        s = s.replace(a, b)
    return " ".join(s.split())


def _md_units(a: TrustAssessment) -> list[str]:
    """A row per rated criterion (and the overall rule) with its own verdict; nothing for a rubric with one scale.
    The figures are the units' own (:func:`judgekit.agreement.render.unit_figures`)."""
    if not a.parts:
        return []
    lines = [
        "| criterion | scale | figure | people among themselves | judge against people | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for p in a.parts:
        what, ceil, judge = unit_figures(p)
        lines.append(
            f"| `{md_escape(p.scope or '')}` | {p.scale} | {what} | {_fig(ceil)} | {_fig(judge)} | "
            f"{VERDICT_EMOJI[p.verdict]} {p.verdict} |"
        )
    return [*lines, ""]


def _md_numeric(a: TrustAssessment) -> list[str]:
    """The numeric figures of interval scales (:func:`judgekit.agreement.render.numeric_rows`); nothing otherwise."""
    rows = numeric_rows(a)
    if not rows:
        return []
    lines = ["| criterion | numeric figure | value [95% CI] (n) |", "|---|---|---|"]
    lines += [f"| `{md_escape(scope)}` | {md_escape(what)} | {_fig(fig)} |" for scope, what, fig in rows]
    groups = numeric_group_rows(a)
    if groups:
        lines += [
            "",
            "Numeric figures per segment and risk tier (people among themselves; the judge vs the reference score):",
            "",
            "| criterion | group | items | people ICC | people MAE | judge ICC | judge MAE | judge bias |",
            "|---|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| `{md_escape(scope)}` | {kind} {md_escape(key)} | {n} | {_fig(g.human_icc)} | {_fig(g.human_mae)} | "
            f"{_fig(g.judge_icc)} | {_fig(g.judge_mae)} | {_fig(g.judge_bias)} |"
            for scope, kind, key, n, g in groups
        ]
    return [*lines, ""]


def _md_criteria(criteria: list[CriterionResult]) -> list[str]:
    out = ["| | criterion | measured [95% CI] (n) | threshold | why |", "|---|---|---|---|---|"]
    for c in criteria:
        out.append(
            f"| {OUTCOME_EMOJI[c.outcome]} {OUTCOME_LABEL[c.outcome]} | `{c.name}` | {fmt_figure_n(c.measured)} "
            f"| {fmt_threshold(c)} | {md_escape(c.reason)} |"
        )
    return out


def _fig(f: StatResult | None) -> str:
    return fmt_figure_n(f)


def _both(label: str, f: BothBases) -> str:
    return f"| {label} | {_fig(f.failures_as_wrong)} | {_fig(f.ok_only)} |"


def _md_item(it: ItemExample) -> list[str]:
    def cell(s: str | None, n: int = 160) -> str:
        if s is None:
            return ""
        s = " ".join(s.split())
        return md_escape(s if len(s) <= n else s[:n] + " …")

    text = cell(it.output) if it.output is not None else f"A: {cell(it.output_a, 80)} / B: {cell(it.output_b, 80)}"
    return [
        f"| `{md_escape(it.item_id)}` | {md_escape(it.risk or '')} | {fmt_pct(it.confidence, 0)} "
        f"| {md_escape(it.judge_label)} | {md_escape(it.reference_label)} | {cell(it.input, 120)} | {text} |"
    ]


def _md_items(title: str, items: list[ItemExample]) -> list[str]:
    """A folded table of example items (nothing when there are none)."""
    if not items:
        return []
    lines = [
        f"<details><summary>{title}</summary>",
        "",
        "| item | risk | confidence | judge | people | input | output |",
        "|---|---|---|---|---|---|---|",
    ]
    for it in items:
        lines += _md_item(it)
    return [*lines, "", "</details>", ""]


def _share(m: FailureMode) -> str:
    return f"{fmt_pct(m.gap_share.value, 0)} (n={m.gap_share.n_items})"


def _md_failure_modes(d: DisagreementReport | None) -> list[str]:
    if d is None or not d.largest:
        return []
    lines = [
        f"Largest failure modes ({md_escape(d.where)}; {d.n_disagreements} disagreements; gap to the ceiling "
        f"{_fig(d.gap)}; `judgekit explain` for every group):",
        "",
        "| failure mode | disagreements | share of the gap to the ceiling (n) | example items |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {md_escape(m.title)} | {m.n_disagreements} of {m.n_items} | {_share(m)} "
        f"| {md_escape(', '.join(e.item_id for e in m.examples))} |"
        for m in d.largest
    ]
    return [*lines, ""]


def p_is(p: float | None) -> str:
    """``p = 0.072`` or ``p < 0.001``."""
    text = fmt_p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _gain(d: DevFigures | None) -> str:
    """A candidate's kappa gain on one half of dev, signed, with its n (``n/a`` when not evaluated there)."""
    return "n/a" if d is None else f"{signed(d.kappa_gain)} (n={d.kappa_gain.n_items})"


def _md_alignments(records: list[AlignmentRecord]) -> list[str]:
    """Every alignment record: each candidate's dev figures and cost, the choice, the one test look and the plain
    outcome (``DID NOT CARRY OVER ...`` when the dev winner did not hold on test)."""
    lines = ["### Alignments (judgekit align)", ""]
    for rec in records:
        lines += [
            f"`{md_escape(rec.name)}` ({rec.status}): `{md_escape(rec.settings.run)}` on rubric "
            f"`{md_escape(rec.rubric)}`, split `{md_escape(rec.settings.split)}`: dev {rec.n_dev} items "
            f"({len(rec.fit_ids)} to build candidates from, {len(rec.select_ids)} to choose on), test {rec.n_test}.",
            "",
            f"Rule (stated before any candidate was judged): {md_escape(rec.selection_rule)}",
            "",
            "| candidate | rubric | kappa, select half | kappa gain, select half (n) | kappa gain, fit half (n) "
            "| cost | verdict |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in rec.candidates:
            name = f"**{md_escape(c.name)}** (chosen)" if c.name == rec.chosen else md_escape(c.name)
            lines.append(
                f"| {name} | `{md_escape(c.rubric)}` | {fmt_figure(c.select.kappa) if c.select else 'n/a'} "
                f"| {_gain(c.select)} | {_gain(c.fit)} "
                f"| ${c.cost_usd:.4f} | {md_escape(c.verdict or c.reason or c.status)} |"
            )
        lines += ["", f"Choice: {md_escape(rec.choice or 'not made yet')}", ""]
        if rec.test is not None:
            t = rec.test
            carried = "carried over" if t.carried_over else "did not carry over"
            lines += [
                f"The one look at test, `{md_escape(t.candidate)}` against `{md_escape(t.start_run)}` ({t.n_items} "
                f"items, {t.conclusion}, McNemar {p_is(t.mcnemar_p)}): kappa {fmt_figure(t.kappa_before)} -> "
                f"{fmt_figure(t.kappa_after)}, gain {signed(t.kappa_gain)}; verdict {t.verdict_before} -> "
                f"{t.verdict_after}: **{carried}**. {md_escape(t.looks.message)}",
                "",
            ]
        else:
            lines += ["The test split was not looked at.", ""]
        money = rec.cost
        budget = "" if money.budget is None else f" (budget ${money.budget:g})"
        lines += [
            f"Cost: proposer ${money.proposer:.4f} + candidates on dev ${money.candidates:.4f} + test look "
            f"${money.test_look:.4f} = ${money.total:.4f}{budget}.",
            "",
            f"**{md_escape(rec.outcome or rec.status)}**",
            "",
        ]
    return lines


def render_markdown(report: Report, *, html_name: str | None = "report.html", summary_only: bool = False) -> str:
    """The report as GitHub-flavoured Markdown (a PR comment or ``$GITHUB_STEP_SUMMARY``).

    ``summary_only`` keeps the verdicts and criteria and drops the breakdowns (what ``judgekit check
    --summary`` writes). Item text is escaped: Markdown renderers pass inline HTML through.
    """
    lines = ["## judgekit: can this LLM judge be trusted?", ""]
    if not report.runs:
        lines.append("No judge runs in the project.")
    lines += [
        "| judge run | verdict | judge kappa vs reference (n) | human ceiling (n) | gap to the ceiling (n) |",
        "|---|---|---|---|---|",
    ]
    for r in report.runs:
        a = r.assessment
        lines.append(
            f"| `{md_escape(a.run)}` | {VERDICT_EMOJI[a.verdict]} **{a.verdict}** | "
            f"{_fig(a.judge.kappa.failures_as_wrong)} | {_fig(a.ceiling.kappa)} "
            f"| {_fig(a.judge.gap.failures_as_wrong)} |"
        )
    lines.append("")
    for r in report.runs:
        a = r.assessment
        lines += [
            f"### {VERDICT_EMOJI[a.verdict]} `{md_escape(a.run)}`: {a.verdict}",
            "",
            f"{md_escape(r.info.provider)}:{md_escape(r.info.model)} on rubric `{md_escape(a.rubric)}`; "
            f"{a.n_items_labelled} labelled items, {a.n_annotators} annotators"
            + (f"; cost ${r.info.cost_usd:.4f}" if r.info.cost_usd is not None else ""),
            "",
        ]
        lines += [f"- {md_escape(reason)}" for reason in a.reasons]
        lines += ["", *_md_units(a), *_md_numeric(a), *_md_criteria(a.criteria), ""]
        if summary_only:
            continue
        lines += [
            f"Human ceiling (blind labels): Cohen's kappa between annotators, pairs weighted by shared items "
            f"{_fig(a.ceiling.kappa)}; Krippendorff's alpha {_fig(a.ceiling.alpha)}. Reference label: "
            f"{md_escape(a.reference.description)} ({a.reference.n_with_reference} items).",
            "",
            "| judge vs people | failures counted as wrong (n) | ok verdicts only (n) |",
            "|---|---|---|",
            _both("Cohen's kappa vs reference label", a.judge.kappa),
            _both("accuracy vs reference label", a.judge.accuracy),
            _both("Cohen's kappa vs each annotator (weighted)", a.judge.mean_kappa),
            _both("gap to the human ceiling", a.judge.gap),
            "",
        ]
        weak = [s for s in a.per_segment if s.n_items >= 10][:5]
        if weak:
            lines += ["Weakest segments (10+ items, failures counted as wrong):", ""]
            lines += ["| segment | kappa vs reference [95% CI] (n) | accuracy (n) |", "|---|---|---|"]
            lines += [
                f"| {md_escape(s.key)} | {_fig(s.kappa.failures_as_wrong)} | {_fig(s.accuracy.failures_as_wrong)} |"
                for s in weak
            ]
            lines.append("")
        if a.calibration.available:
            rate = a.harmful.rate
            lines += [
                f"Calibration: ECE {_fig(a.calibration.ece)}, Brier {_fig(a.calibration.brier)}; "
                f"confidently wrong {fmt_pct(None if rate is None else rate.value)} ({a.harmful.n_harmful} of "
                f"{0 if rate is None else rate.n_items} items).",
                "",
            ]
        else:
            lines += [f"Calibration and harmful confidence: not available ({md_escape(a.calibration.reason)}).", ""]
        if a.corrected is not None:
            cl = a.corrected
            lines += [
                f"Corrected labels (made seeing the judge), reported apart: on {cl.n_items} items the judge's accuracy "
                f"is {_fig(cl.judge_accuracy_corrected)} against them vs {_fig(cl.judge_accuracy_blind)} against blind "
                f"labels (shift {_fig(cl.shift)}).",
                "",
            ]
        lines += _md_failure_modes(r.failure_modes)
        lines += _md_items("Confidently wrong items, worst first", r.confidently_wrong)
        lines += _md_items("Judge against unanimous annotators, highest risk first", r.disagreements)
        s = a.sample_size
        if s.available and s.more_items_needed:
            lines += [
                f"About {s.more_items_needed} more labelled items would narrow the kappa interval to {s.target_width}.",
                "",
            ]
    if report.comparisons and not summary_only:
        lines += [
            "### Judges compared",
            "",
            "Against the reference label on the same items, failures counted as wrong; A − B with a paired bootstrap.",
            "",
            "| A | B | items | kappa A | kappa B | kappa A − B [95% CI] | accuracy A − B [95% CI] | McNemar p |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for c in report.comparisons:
            lines.append(
                f"| `{md_escape(c.run_a)}` | `{md_escape(c.run_b)}` | {c.n_items} "
                f"| {fmt_value(c.kappa_a.failures_as_wrong.value)} | {fmt_value(c.kappa_b.failures_as_wrong.value)} "
                f"| {fmt_figure(c.kappa_difference.failures_as_wrong)} "
                f"| {fmt_figure(c.accuracy_difference.failures_as_wrong)} "
                f"| {fmt_p(c.mcnemar.p_value.value)} ({c.mcnemar.method}) |"
            )
        lines.append("")
    if report.alignments and not summary_only:
        lines += _md_alignments(report.alignments)
    if report.probes and not summary_only:
        lines += ["### Bias probes", "", "| probe | run | results |", "|---|---|---|"]
        for p in report.probes:
            res = "; ".join(f"{k}: {_compact(v)}" for k, v in p.results.items())
            lines.append(f"| {md_escape(p.probe)} | `{md_escape(p.run)}` | {md_escape(res)} |")
        lines.append("")
    foot = f"judgekit {report.judgekit_version}, {report.generated_at}; intervals are 95% bootstrap intervals."
    if html_name:
        foot += f" Full report with figures: `{html_name}`."
    lines.append(f"<sub>{md_escape(foot)}</sub>")
    return "\n".join(lines) + "\n"


# -- JSON and files ---------------------------------------------------------------------------------------------


def render_json(report: Report) -> str:
    """The report as JSON (NaN written as the constant ``NaN``, as in ``judgekit agree --json``)."""
    return json.dumps(json.loads(report.model_dump_json()), indent=2, ensure_ascii=False, allow_nan=True) + "\n"


def write_report(report: Report, path: str | Path = "judgekit-report") -> ReportPaths:
    """Write ``report.html``, ``report.md`` and ``report.json`` side by side.

    ``path`` is a folder (created if needed), or a file name ending in ``.html`` whose stem names the three
    files (``out/trust.html`` → ``out/trust.html``, ``out/trust.md``, ``out/trust.json``).
    """
    p = Path(path)
    if p.suffix.lower() in (".html", ".htm"):
        folder, stem = p.parent, p.stem
    else:
        folder, stem = p, "report"
    make_folder(folder, "the report folder")
    paths = ReportPaths(folder / f"{stem}.html", folder / f"{stem}.md", folder / f"{stem}.json")
    # each file is renamed into place whole (judgekit.io.files): a failure never leaves a truncated report
    write_text_atomic(paths.html, render_html(report), "the report")
    write_text_atomic(paths.markdown, render_markdown(report, html_name=paths.html.name), "the report")
    write_text_atomic(paths.json, render_json(report), "the report")
    return paths
