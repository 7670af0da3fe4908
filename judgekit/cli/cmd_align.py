"""``judgekit align``: candidates on dev, a selection rule stated up front, one look at the locked test split."""

from __future__ import annotations

from pathlib import Path

import click

from judgekit.cli.common import (
    SEED,
    FiniteFloatRange,
    abstention_options,
    criteria_options,
    db_option,
    echo,
    json_option,
    model_call_options,
    open_project,
    quiet_option,
    split_option,
)


@click.command("align")
@click.argument("run")
@db_option
@split_option(required=True, help="The locked split (NAME or NAME@VERSION): dev to tune on.")
@click.option(
    "--strategies",
    default=None,
    help="Comma-separated: rules, fewshot, dynamic, no-fewshot, model, ensemble, abstain (default: all).",
)
@click.option(
    "--model", "proposer", default=None, help="PROVIDER:MODEL writing definitions and rules (strategy rules)."
)
@click.option("--judge-model", default=None, help="PROVIDER:MODEL judging the candidates (default: the run's model).")
@click.option("--candidate-model", "candidate_models", multiple=True, help="Another model to try (repeatable).")
@model_call_options(
    base_url_help="Server of the judge and proposer (default from OPENAI_BASE_URL / ANTHROPIC_BASE_URL).",
    max_cost_help="USD for the proposer, the candidates and the test look together.",
)
@click.option(
    "--select-fraction",
    type=FiniteFloatRange(0, 1, min_open=True, max_open=True),
    default=0.5,
    show_default=True,
    help="Share of dev to choose on.",
)
@click.option("--k", "k", type=click.IntRange(1, 32), default=4, show_default=True, help="Few-shot examples.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of the fit/select division of dev.")
@abstention_options
@click.option(
    "-o", "--out", default=None, help="The new rubric file (default rubrics/ID.yaml), written when test confirms."
)
@click.option("--new", is_flag=True, help="Start a new alignment even if the same one was run before.")
@quiet_option
@json_option("the alignment record")
@criteria_options
def command(
    run: str,
    db: Path | None,
    split_name: str,
    strategies: str | None,
    proposer: str | None,
    judge_model: str | None,
    candidate_models: tuple[str, ...],
    base_url: str | None,
    max_cost: float | None,
    prices: Path | None,
    select_fraction: float,
    k: int,
    seed: int,
    target: float,
    delta: float,
    concurrency: int,
    out: str | None,
    new: bool,
    quiet: bool,
    as_json: bool,
    config: Path | None,
    reference: str | None,
) -> None:
    """Improve RUN against people: propose candidate judges, choose on dev, look at the locked test split once.

    Dev is divided into a fit half (candidates are built from it: the proposer's examples, the few-shot examples
    and pool, the abstention threshold) and a select half (the selection rule compares candidates on it, and
    nothing else). Every candidate is an ordinary judge run (cached, resumable, within --max-cost). The winner
    alone is judged on the test split and compared with RUN there, once; the look is recorded. A dev-only winner
    is reported as such and no rubric file is written. Run the same command again to resume an interrupted
    alignment, paying for nothing twice. Exit codes: 0 done, 4 stopped by --max-cost, 2 usage or input error.

    \b
    Example (scripted servers, no key needed):
      judgekit dev-server --db judgekit-demo.db     # in another terminal
      judgekit align gpt-3.5-turbo --split main --judge-model openai:gpt-4o-mini \\
        --model openai:gpt-4.1 --candidate-model openai:gpt-4.1 \\
        --base-url http://127.0.0.1:8787/v1 --max-cost 2
    """
    from judgekit.agreement import load_criteria
    from judgekit.align import AlignSettings, align, render_record
    from judgekit.align.record import DEFAULT_STRATEGIES
    from judgekit.calibration import get_split
    from judgekit.errors import UserError
    from judgekit.judging import PriceTable

    chosen: tuple[str, ...] = DEFAULT_STRATEGIES
    if strategies:
        chosen = tuple(s.strip() for s in strategies.split(",") if s.strip())
        if not chosen:
            raise UserError("--strategies names no strategy")
    if not 0.0 < select_fraction < 1.0:
        raise UserError(f"--select-fraction must be between 0 and 1 (exclusive), got {select_fraction}")
    with open_project(db) as project:
        r = project.run(run)
        criteria = load_criteria(config, rubric_id=r.config.rubric_id, overrides={"reference": reference})
        settings = AlignSettings(
            run=r.name,
            split=get_split(project, split_name).key,
            strategies=chosen,
            proposer=proposer,
            judge_model=judge_model,
            candidate_models=candidate_models,
            base_url=base_url,
            max_cost=max_cost,
            select_fraction=select_fraction,
            seed=seed,
            k=k,
            target=target,
            delta=delta,
            concurrency=concurrency,
            out=out,
        )
        record = align(
            project,
            settings,
            criteria=criteria,
            prices=PriceTable.load(prices),
            echo=(lambda _msg: None) if quiet else (lambda msg: click.echo(msg, err=True)),
            progress=not quiet,
            new=new,
        )
    if as_json:
        click.echo(record.model_dump_json(indent=2))
    else:
        echo(render_record(record))
    if record.status == "stopped_budget":
        raise click.exceptions.Exit(4)
