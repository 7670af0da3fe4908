"""``judgekit report``."""

from __future__ import annotations

from pathlib import Path

import click

from judgekit.cli.common import bootstrap_options, config_option, db_option, echo, open_project, reference_option
from judgekit.errors import UserError


@click.command("report")
@click.argument("runs", nargs=-1)
@db_option
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(),  # text, so that an empty value is seen (as a Path it would be '.', the current folder)
    default="judgekit-report",
    show_default=True,
    help="Folder for report.html/.md/.json, or a NAME.html path (NAME.md and NAME.json go beside it).",
)
@config_option
@reference_option
@bootstrap_options
@click.option("--max-items", type=int, default=10, show_default=True, help="Confidently wrong items shown per run.")
def command(
    runs: tuple[str, ...],
    db: Path | None,
    output: str,
    config: Path | None,
    reference: str | None,
    seed: int | None,
    n_boot: int | None,
    max_items: int,
) -> None:
    """Write the trust report: one self-contained HTML page, plus the same content as Markdown and JSON.

    With no RUNS, every judge run except bias probes is reported; runs on the same rubric are compared with a
    paired bootstrap and McNemar's test. The HTML works offline (inline CSS and SVG figures, no scripts), so
    it can be attached to a ticket or uploaded as a CI artifact; the Markdown suits a PR comment.

    \b
    Example:
      judgekit report --db judgekit-demo.db
      judgekit report gpt-3.5-turbo -o reports/gpt35.html
    """
    from judgekit.agreement import load_criteria
    from judgekit.report import build_report, write_report

    if not output.strip():
        raise UserError(
            "-o/--output: an empty path was given (an unset environment variable?): expected a folder or "
            "a NAME.html file"
        )

    overrides = {"seed": seed, "n_boot": n_boot, "reference": reference}
    with open_project(db) as project:
        report = build_report(
            project,
            list(runs) or None,
            lambda rid: load_criteria(config, rubric_id=rid, overrides=overrides),
            max_items=max_items,
        )
    paths = write_report(report, output)
    for r in report.runs:
        echo(f"{r.assessment.verdict:<22} {r.info.name}")
    if not report.runs:
        echo("no judge runs in the project: run 'judgekit judge' or 'judgekit import verdicts' first")
    echo(f"report: {paths.html}\n        {paths.markdown}\n        {paths.json}")
