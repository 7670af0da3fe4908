"""``judgekit estimate``."""

from __future__ import annotations

from pathlib import Path

import click

from judgekit.cli.common import SEED, db_option, echo, open_project


@click.command("estimate")
@click.argument("run")
@db_option
@click.option("--positive", default=None, help="Level counted as positive (default: the rubric's, else its first).")
@click.option("--level", type=float, default=0.95, show_default=True, help="Confidence level of the intervals.")
@click.option(
    "--label-budget",
    type=int,
    default=None,
    help="Use only N randomly drawn human labels (the rest treated as unlabelled): what would N labels give?",
)
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed for --label-budget.")
@click.option("--json", "as_json", is_flag=True, help="Print the estimates as JSON.")
def command(
    run: str,
    db: Path | None,
    positive: str | None,
    level: float,
    label_budget: int | None,
    seed: int,
    as_json: bool,
) -> None:
    """The true pass rate from RUN's verdicts on unlabelled items plus the human-labelled ones, with valid intervals.

    The judge's raw rate is biased by its errors; a random human-labelled sample corrects it: Rogan-Gladen
    (from the judge's TPR/TNR) and prediction-powered inference (PPI, PPI++), beside the interval from the
    human labels alone. Unlabelled: items with a verdict but no human label; labelled: items with both.

    \b
    Example:
      judgekit estimate my-judge --positive pass
      judgekit estimate gpt-3.5-turbo --db judgekit-demo.db --positive A \\
        --label-budget 150
    """
    from judgekit.calibration import estimate_pass_rate, render_estimate
    from judgekit.errors import UserError

    if not 0 < level < 1:
        raise UserError(f"--level must be between 0 and 1, got {level}")
    with open_project(db) as project:
        rep = estimate_pass_rate(project, run, positive=positive, level=level, label_budget=label_budget, seed=seed)
    if as_json:
        click.echo(rep.model_dump_json(indent=2))
        return
    echo(render_estimate(rep))
