"""``judgekit ensemble``: combine judge runs into one panel run (strict majority or ordinal mean)."""

from __future__ import annotations

from pathlib import Path

import click

from judgekit.cli.common import db_option, echo, new_name, open_project


@click.command("ensemble")
@click.argument("runs", nargs=-1, required=True)
@click.option("--name", required=True, callback=new_name, help="Name of the new panel run.")
@click.option(
    "--method",
    type=click.Choice(["majority", "mean"]),
    default="majority",
    show_default=True,
    help="majority: more than half of the whole panel; mean: mean score rounded to a level (ordinal rubrics).",
)
@click.option("--tiebreak", default=None, help="Run whose label settles items the panel leaves undecided.")
@db_option
def command(runs: tuple[str, ...], name: str, method: str, tiebreak: str | None, db: Path | None) -> None:
    """Combine two or more judge runs (same rubric version) into a new run, one verdict per item.

    A member without an ok verdict on an item counts against every label (a failed member never shrinks the
    panel) and is listed in the verdict's notes. Items without a decision take the --tiebreak run's label, or get
    no verdict and are listed in the run's 'no_decision' note: never a guessed label.

    \b
    Example:
      judgekit ensemble openai:gpt-4.1-mini#1 anthropic:claude-sonnet-4-5#1 \\
        openai-compatible:llama3.1#1 --name panel
      judgekit ensemble judge-a judge-b judge-c --name panel-mean --method mean \\
        --tiebreak judge-d
      judgekit runs show panel
    """
    from judgekit.judging.ensemble import combine_runs

    with open_project(db, create=False) as project:
        result = combine_runs(project, list(runs), name=name, method=method, tiebreak=tiebreak)  # type: ignore[arg-type]
        echo(result.summary())
        if result.no_decision:
            shown = ", ".join(result.no_decision[:10]) + (" ..." if len(result.no_decision) > 10 else "")
            echo(f"no decision on {len(result.no_decision)} items: {shown}")
