"""``judgekit agree``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from judgekit.cli.common import bootstrap_options, config_option, db_option, echo, open_project, reference_option


@click.command("agree")
@click.argument("runs", nargs=-1)
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print the full assessment as JSON.")
@config_option
@reference_option
@bootstrap_options
def command(
    runs: tuple[str, ...],
    db: Path | None,
    as_json: bool,
    config: Path | None,
    reference: str | None,
    seed: int | None,
    n_boot: int | None,
) -> None:
    """Agreement of judge runs with the human labels, and the trust verdict for each.

    With no RUNS, every judge run in the project is assessed. Criteria and thresholds come from [tool.judgekit]
    in pyproject.toml or judgekit.toml (see the README); intervals are 95% bootstrap intervals. Every figure is
    named (estimand, basis: failures counted as wrong / ok verdicts only) and carries its n.

    \b
    Example:
      judgekit agree --db judgekit-demo.db
      judgekit agree gpt-3.5-turbo --json > gpt35.json
      judgekit agree --reference adjudicated
    """
    from judgekit.agreement import assess_project, load_criteria, render_text

    overrides = {"seed": seed, "n_boot": n_boot, "reference": reference}
    with open_project(db) as project:
        results = assess_project(
            project, list(runs) or None, lambda rid: load_criteria(config, rubric_id=rid, overrides=overrides)
        )
    if not results:
        echo("no judge runs in the project: run 'judgekit judge' or 'judgekit import verdicts' first")
        return
    if as_json:
        click.echo(json.dumps([json.loads(r.model_dump_json()) for r in results], indent=2))
        return
    echo("\n\n".join(render_text(r) for r in results))
