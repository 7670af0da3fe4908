"""``judgekit check``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from judgekit.cli.common import bootstrap_options, config_option, db_option, echo, open_project, reference_option
from judgekit.io.files import append_text, write_text_atomic

_THRESHOLDS: list[tuple[str, str, type, str]] = [
    ("--min-kappa", "min_kappa", float, "Lower bound of the judge's kappa vs the human majority."),
    ("--max-gap", "max_gap_to_ceiling", float, "Largest allowed gap below the human ceiling (kappa)."),
    ("--max-failure-rate", "max_failure_rate", float, "Largest share of failed verdicts (upper bound)."),
    ("--max-harmful-rate", "max_harmful_rate", float, "Largest confidently-wrong rate (with confidence)."),
    ("--max-ece", "max_ece", float, "Largest expected calibration error (with confidence)."),
    ("--min-items", "min_items", int, "Labelled, judged items needed for a verdict."),
    ("--min-human-agreement", "min_human_agreement", float, "Lower bound of alpha among annotators."),
    ("--min-icc", "min_icc", float, "Interval scales: lower bound of the judge's ICC(A,1) vs the mean score."),
    ("--max-mae", "max_mae", float, "Interval scales: largest MAE vs the mean score (scale units)."),
    ("--max-abs-bias", "max_abs_bias", float, "Interval scales: largest mean bias either way (scale units)."),
]


def _threshold_options(f: Any) -> Any:
    for flag, dest, kind, help_text in reversed(_THRESHOLDS):
        f = click.option(flag, dest, type=kind, default=None, help=help_text)(f)
    return f


@click.command("check")
@click.argument("run", required=False)
@db_option
@config_option
@click.option(
    "--junit-xml",
    "junit",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write JUnit XML: one test case per criterion.",
)
@click.option(
    "--summary",
    "summary",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help='Append the Markdown summary to this file (e.g. --summary "$GITHUB_STEP_SUMMARY").',
)
@click.option(
    "--alt-test/--no-alt-test",
    "alt_test",
    default=None,
    help="Require the alternative annotator test (default from the configuration: required).",
)
@_threshold_options
@reference_option
@bootstrap_options
def command(
    run: str | None,
    db: Path | None,
    config: Path | None,
    junit: Path | None,
    summary: Path | None,
    alt_test: bool | None,
    **thresholds: Any,
) -> None:
    """Fail the build unless the judge is TRUSTED: exit 0 trusted, 1 not trusted or insufficient evidence, 2 error.

    Assesses RUN (default: the newest judge run that is not a bias probe) under the thresholds of
    [tool.judgekit] in pyproject.toml or judgekit.toml (per rubric), overridden by the options below, and
    prints one line per criterion. Without configuration the documented defaults apply.

    \b
    Example:
      judgekit check --db judgekit.db
      judgekit check gpt-4.1-mini --junit-xml judge.xml \\
        --summary "$GITHUB_STEP_SUMMARY"
      judgekit check --min-kappa 0.5 --no-alt-test
    """
    from judgekit.errors import CheckFailed
    from judgekit.report import Report, RunReport, check_run, criteria_table, failure_summary, junit_xml, run_info
    from judgekit.report._render import render_markdown

    overrides: dict[str, Any] = dict(thresholds)
    overrides["require_alt_test"] = alt_test
    with open_project(db) as project:
        a = check_run(project, run, config, overrides)
        info = run_info(project.run(a.run))
        project_name = project.name
    echo(criteria_table(a))
    if junit is not None:
        write_text_atomic(junit, junit_xml(a), "the JUnit XML file (--junit-xml)", create_folder=True)
    if summary is not None:
        from datetime import UTC, datetime

        from judgekit import __version__

        report = Report(
            judgekit_version=__version__,
            generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
            project=project_name,
            runs=[RunReport(info=info, assessment=a, confidently_wrong=[])],
            comparisons=[],
            probes=[],
        )
        text = render_markdown(report, html_name=None, summary_only=True)
        # append: $GITHUB_STEP_SUMMARY may hold other steps
        append_text(summary, text, "the summary file (--summary)", create_folder=True)
    if a.verdict != "TRUSTED":
        raise CheckFailed(failure_summary(a))
    echo(f"judge run '{a.run}' is TRUSTED")
