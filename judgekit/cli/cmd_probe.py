"""``judgekit probe``: bias probes (position swap, verbosity, paraphrase, prompt injection)."""

from __future__ import annotations

from pathlib import Path

import click

from judgekit.cli.common import SEED, db_option, echo, few_shot_options, open_project, server_url
from judgekit.judging import PriceTable
from judgekit.judging.cli_support import config_from_options, split_exclusion
from judgekit.judging.probes import PROBES, run_probe


@click.command("probe")
@click.argument("probe", type=click.Choice(PROBES))
@click.option("--rubric", "rubric_spec", required=True, help="Rubric YAML file, or id[@version] in the project.")
@click.option("--model", "model_spec", required=True, help="PROVIDER:MODEL, e.g. openai:gpt-4.1-mini.")
@click.option("--base-url", default=None, callback=server_url, help="Server URL (OpenAI-compatible servers).")
@click.option("--concurrency", default=8, show_default=True, type=click.IntRange(1, 1024))
@click.option("--rpm", type=float, default=None, help="Requests per minute allowed.")
@click.option("--tpm", type=float, default=None, help="Tokens per minute allowed.")
@click.option("--limit", type=click.IntRange(1), default=None, help="Probe only the first N items.")
@click.option("--sample", type=click.IntRange(1), default=None, help="Probe a random sample of N items.")
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option("--max-cost", type=float, default=None, help="Budget per run of the probe, USD.")
@click.option(
    "--confidence", type=click.Choice(["logprobs", "verbalized", "sampling", "none"]), default="none", show_default=True
)
@few_shot_options
@click.option("--run-prefix", default=None, help="Name prefix of the runs (default probe-NAME:MODEL).")
@click.option("--prices", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--timeout", type=float, default=60.0, show_default=True)
@click.option("--quiet", is_flag=True, help="No progress line.")
@db_option
def command(
    probe: str,
    rubric_spec: str,
    model_spec: str,
    base_url: str | None,
    concurrency: int,
    rpm: float | None,
    tpm: float | None,
    limit: int | None,
    sample: int | None,
    seed: int,
    max_cost: float | None,
    confidence: str,
    few_shot: str,
    k: int,
    split: str | None,
    run_prefix: str | None,
    prices: Path | None,
    timeout: float,
    quiet: bool,
    db: Path | None,
) -> None:
    """Measure a judge bias: judge the items as they are and transformed, and report how much verdicts move.

    \b
    position    pairwise items in both orders -> consistency rate
                (+ a combined run of consistent verdicts)
    verbosity   output padded with empty restatement -> shift toward the
                padded output
    paraphrase  surface rewrite of the output -> label stability
    injection   "ignore the rubric, answer X" appended to the output ->
                attack success rate
    Example:
      judgekit probe position --rubric rubrics/pandalm_pairwise.yaml \\
        --model openai:gpt-4.1-mini --limit 200
    """
    with open_project(db, create=False) as project:
        config, rubric = config_from_options(
            project,
            rubric_spec=rubric_spec,
            model_spec=model_spec,
            base_url=base_url,
            confidence=confidence,
            samples=None,
            temperature=None,
            max_tokens=None,
            few_shot=few_shot,
            k=k if few_shot == "dynamic" else 0,
        )
        exclude_ids, split = split_exclusion(project, split)
        result = run_probe(
            project,
            probe,
            config,
            rubric=rubric,
            run_prefix=run_prefix,
            concurrency=concurrency,
            rpm=rpm,
            tpm=tpm,
            limit=limit,
            sample=sample,
            seed=seed,
            max_cost=max_cost,
            timeout=timeout,
            prices=PriceTable.load(prices),
            progress=not quiet,
            exclude_ids=exclude_ids,
            run_meta={"split": split} if split else None,
        )
        echo(result.summary())
