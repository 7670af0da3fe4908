"""``judgekit compare``."""

from __future__ import annotations

from pathlib import Path

import click

from judgekit.cli.common import bootstrap_options, config_option, db_option, echo, open_project, reference_option


@click.command("compare")
@click.argument("runs", nargs=-1, required=True)
@db_option
@click.option("--split", "split_name", default=None, help="Compare on one part of this split (name or name@version).")
@click.option("--on", "part", type=click.Choice(["dev", "test"]), default="test", show_default=True)
@click.option(
    "--pairs",
    type=click.Choice(["all", "first"]),
    default="all",
    show_default=True,
    help="With 3+ runs: all pairs, or each run against the first (baseline).",
)
@click.option("--alpha", type=float, default=0.05, show_default=True, help="Family-wise error rate.")
@click.option(
    "--mcnemar",
    "mcnemar_method",
    type=click.Choice(["exact", "chi2"]),
    default="exact",
    show_default=True,
    help="McNemar's test: exact binomial, or the chi-square approximation with continuity correction.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
@config_option
@reference_option
@bootstrap_options
def command(
    runs: tuple[str, ...],
    db: Path | None,
    split_name: str | None,
    part: str,
    pairs: str,
    alpha: float,
    mcnemar_method: str,
    as_json: bool,
    config: Path | None,
    reference: str | None,
    seed: int | None,
    n_boot: int | None,
) -> None:
    """Is one judge version really better than another? Paired comparison on the same labelled items.

    For each pair: the difference in accuracy and kappa against the human majority with a paired bootstrap
    interval, McNemar's test on per-item right/wrong (exact binomial unless --mcnemar chi2; the output says
    which), and (3+ runs) Holm-adjusted p-values with Bonferroni-level intervals. It says plainly when a
    difference is within noise. Bootstrap size and seed come from the configuration, as in the report, so both
    show the same numbers. On a test split, every run compared is recorded as a look at it.

    \b
    Example:
      judgekit compare gpt-3.5-turbo pandalm-7b --db judgekit-demo.db
      judgekit compare prompt-v1 prompt-v2 prompt-v3 --split main --on test \\
        --pairs first --json
    """
    from judgekit.agreement import load_criteria
    from judgekit.calibration import compare_runs, render_comparison
    from judgekit.errors import UserError

    if len(runs) < 2:
        raise UserError("compare needs at least two runs: judgekit compare RUN_A RUN_B [RUN_C ...]")
    if not 0 < alpha < 1:
        raise UserError(f"--alpha must be between 0 and 1, got {alpha}")
    with open_project(db) as project:
        first = project.run(runs[0])
        criteria = load_criteria(
            config,
            rubric_id=first.config.rubric_id,
            overrides={"seed": seed, "n_boot": n_boot, "reference": reference},
        )
        report = compare_runs(
            project,
            list(runs),
            split=split_name,
            part=part,  # type: ignore[arg-type]
            pairs=pairs,  # type: ignore[arg-type]
            alpha=alpha,
            criteria=criteria,
            mcnemar_method=mcnemar_method,  # type: ignore[arg-type]
        )
    if as_json:
        click.echo(report.model_dump_json(indent=2))
        return
    echo(render_comparison(report))
