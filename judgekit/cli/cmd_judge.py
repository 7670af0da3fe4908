"""``judgekit judge``: run an LLM judge over the project's items."""

from __future__ import annotations

from pathlib import Path

import click

from judgekit.cli.common import db_option, echo, few_shot_options, open_project, server_url
from judgekit.judging import PriceTable, run_judge
from judgekit.judging.cli_support import batch_options, config_from_options, split_exclusion


@click.command("judge")
@click.option("--rubric", "rubric_spec", default=None, help="Rubric YAML file, or id[@version] in the project.")
@click.option(
    "--model",
    "model_spec",
    default=None,
    help="PROVIDER:MODEL, e.g. openai:gpt-4.1-mini, anthropic:claude-sonnet-4-5, openai-compatible:llama3.",
)
@click.option(
    "--base-url",
    default=None,
    callback=server_url,
    help="Server URL (OpenAI-compatible servers; default from OPENAI_BASE_URL / ANTHROPIC_BASE_URL).",
)
@click.option(
    "--concurrency",
    default=8,
    show_default=True,
    type=click.IntRange(1, 1024),
    help="Calls in flight at most (reduced automatically while 429s keep coming).",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Processes judging in parallel (one core each); --concurrency, --rpm, --tpm and --max-cost are divided "
    "among them.",
)
@click.option("--rpm", type=float, default=None, help="Requests per minute allowed.")
@click.option("--tpm", type=float, default=None, help="Tokens per minute allowed.")
@click.option("--limit", type=click.IntRange(1), default=None, help="Judge only the first N items.")
@click.option("--sample", type=click.IntRange(1), default=None, help="Judge a random sample of N items.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of --sample.")
@click.option("--max-cost", type=float, default=None, help="Stop cleanly before spending more than USD.")
@click.option("--resume", default=None, help="Complete an interrupted run (judges only what is missing).")
@click.option("--run-name", default=None, help="Name of the new run (default PROVIDER:MODEL#N).")
@click.option(
    "--confidence",
    type=click.Choice(["logprobs", "verbalized", "sampling", "none"]),
    default=None,
    help="How confidence is obtained (default: the rubric's).",
)
@click.option("--samples", type=click.IntRange(2, 50), default=None, help="Samples per item for sampling.")
@click.option("--temperature", type=float, default=None, help="Sampling temperature (default 0; 1 for sampling).")
@click.option("--max-tokens", type=click.IntRange(16), default=None, help="Reply token cap (default 300).")
@few_shot_options
@click.option("--text-output", is_flag=True, help="No structured output: ask for JSON in text (old servers).")
@click.option(
    "--prices",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Price overrides, JSON or TOML (USD per 1M input/output tokens); env JUDGEKIT_PRICES.",
)
@click.option("--timeout", type=float, default=60.0, show_default=True, help="Seconds per HTTP request.")
@click.option("--no-cache", is_flag=True, help="Do not read or write the response cache.")
@click.option(
    "--batch",
    is_flag=True,
    help="Use the provider's batch API (OpenAI Batch API, Anthropic Message Batches): half price, results within "
    "24 h; safe to interrupt and --resume at any moment.",
)
@click.option(
    "--wait/--no-wait",
    "wait",
    default=None,
    help="With --batch: wait for the results (default), or submit the batches and return (collect them later "
    "with --resume).",
)
@click.option("--batch-size", type=click.IntRange(1), default=None, help="Requests per batch at most.")
@click.option("--batch-poll", type=click.FloatRange(min=0.01), default=None, help="Seconds before the first look (10).")
@click.option(
    "--batch-rounds",
    type=click.IntRange(1, 10),
    default=None,
    help="Batches a request may be in before it is sent interactively (3).",
)
@click.option(
    "--batch-fallback",
    type=click.Choice(["interactive", "none"]),
    default=None,
    help="Requests still without a reply after their rounds: sent interactively, or left for --resume.",
)
@click.option("--quiet", is_flag=True, help="No progress line.")
@db_option
def command(
    rubric_spec: str | None,
    model_spec: str | None,
    base_url: str | None,
    concurrency: int,
    workers: int,
    rpm: float | None,
    tpm: float | None,
    limit: int | None,
    sample: int | None,
    seed: int,
    max_cost: float | None,
    resume: str | None,
    run_name: str | None,
    confidence: str | None,
    samples: int | None,
    temperature: float | None,
    max_tokens: int | None,
    few_shot: str,
    k: int,
    split: str | None,
    text_output: bool,
    prices: Path | None,
    timeout: float,
    no_cache: bool,
    batch: bool,
    wait: bool | None,
    batch_size: int | None,
    batch_poll: float | None,
    batch_rounds: int | None,
    batch_fallback: str | None,
    quiet: bool,
    db: Path | None,
) -> None:
    """Judge the project's items with an LLM and store the verdicts as a run.

    Every verdict is committed as it arrives; an interrupted run is completed with --resume, which pays for no
    call twice (replies are cached in the project). Progress (done/total, rate, errors, cost, ETA) goes to stderr.

    \b
    Example:
      export OPENAI_API_KEY=sk-...
      judgekit judge --rubric rubrics/pandalm_pairwise.yaml --model openai:gpt-4.1-mini --limit 100 --max-cost 1
      judgekit judge --rubric rubrics/helpfulness_pass_fail.yaml --model openai:gpt-4.1-mini \\
        --few-shot dynamic --k 3 --split main
      judgekit judge --resume openai:gpt-4.1-mini#1
      judgekit judge --rubric rubrics/pandalm_pairwise.yaml --model anthropic:claude-haiku-4-5 --batch --no-wait
      judgekit judge --rubric rubrics/pandalm_pairwise.yaml --model openai:gpt-4.1-mini --concurrency 128 --workers 2
    """
    with open_project(db, create=False) as project:
        config = rubric = None
        if resume is None:
            config, rubric = config_from_options(
                project,
                rubric_spec=rubric_spec,
                model_spec=model_spec,
                base_url=base_url,
                confidence=confidence,
                samples=samples,
                temperature=temperature,
                max_tokens=max_tokens,
                few_shot=few_shot,
                k=k,
                structured=not text_output,
            )
        exclude_ids, split = split_exclusion(project, split, resume)
        batch_opts = batch_options(
            project,
            resume,
            batch,
            wait=wait,
            max_requests=batch_size,
            poll=batch_poll,
            rounds=batch_rounds,
            fallback=batch_fallback,
        )
        summary = run_judge(
            project,
            config,
            rubric=rubric,
            run_name=run_name,
            concurrency=concurrency,
            workers=workers,
            rpm=rpm,
            tpm=tpm,
            limit=limit,
            sample=sample,
            seed=seed,
            max_cost=max_cost,
            resume=resume,
            timeout=timeout,
            use_cache=not no_cache,
            prices=PriceTable.load(prices),
            progress=not quiet,
            exclude_ids=exclude_ids,
            run_meta={"split": split} if split else None,
            batch=batch_opts,
        )
        echo(summary.summary())
        if summary.stop_reason == "batch_pending":
            echo("batches are running at the provider (results within 24 h)", err=True)
        elif summary.stop_reason == "cancelled":
            echo("the run's batches were cancelled (judgekit runs cancel)", err=True)
        if summary.stop_reason != "complete":
            echo(f"resume with: judgekit judge --resume '{summary.run.name}'", err=True)
