"""``judgekit judge``: run an LLM judge over the project's items."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from judgekit.cli.common import SEED, FiniteFloatRange, db_option, echo, few_shot_options, open_project, server_url
from judgekit.judging import PriceTable, run_judge
from judgekit.judging.cli_support import batch_options, config_from_options, split_exclusion
from judgekit.judging.options import DEFAULT_CONCURRENCY, RunOptions
from judgekit.judging.run import RunInterrupted, RunSummary

_DEFAULTS = RunOptions()


class WorkersType(click.ParamType):
    """``auto`` or a whole number from 1 to 64."""

    name = "auto|N"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int | str:
        if isinstance(value, int) or str(value).strip().lower() == "auto":
            return value if isinstance(value, int) else "auto"
        try:
            n = int(str(value))
        except ValueError:
            self.fail(f"{value!r} is not 'auto' or a whole number", param, ctx)
        if not 1 <= n <= 64:
            self.fail(f"{n} is not in the range 1 to 64", param, ctx)
        return n


#: command-line option -> RunOptions field, for the options a resumed run takes from its stored settings
_RUN_OPTIONS = ("concurrency", "workers", "rpm", "tpm", "max_cost", "timeout", "max_retries")


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
    default=DEFAULT_CONCURRENCY,
    show_default=True,
    type=click.IntRange(1, 1024),
    help="Calls in flight at most (lowered while the provider answers 429).",
)
@click.option(
    "--workers",
    default="auto",
    show_default=True,
    type=WorkersType(),
    help="Processes judging in parallel (one core each); auto: one per 32 calls in flight, at most one per core. "
    "--concurrency, --rpm and --tpm are divided among them; --max-cost is shared.",
)
@click.option("--rpm", type=float, default=None, help="Requests per minute allowed.")
@click.option("--tpm", type=float, default=None, help="Tokens per minute allowed.")
@click.option("--limit", type=click.IntRange(1), default=None, help="Judge only the first N items.")
@click.option("--sample", type=click.IntRange(1), default=None, help="Judge a random sample of N items.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of --sample (not of the model).")
@click.option(
    "--model-seed",
    type=int,
    default=None,
    help="Sampling seed sent to the model, where the provider accepts one (openai, openai-compatible); part of "
    "the judge's config.",
)
@click.option(
    "--max-cost",
    type=click.FloatRange(0),
    default=None,
    help="Budget of the whole run in USD (resumes included); stops cleanly before passing it.",
)
@click.option(
    "--resume",
    default=None,
    help="Complete an interrupted run with the options it was started with (judges only what is missing).",
)
@click.option("--run-name", default=None, help="Name of the new run (default PROVIDER:MODEL#N).")
@click.option(
    "--confidence",
    type=click.Choice(["logprobs", "verbalized", "sampling", "none"]),
    default=None,
    help="How confidence is obtained (default: the rubric's).",
)
@click.option("--samples", type=click.IntRange(2, 50), default=None, help="Samples per item for sampling.")
@click.option(
    "--temperature",
    type=FiniteFloatRange(0, 2),
    default=None,
    help="Sampling temperature, 0-2 (default 0; 1 for sampling).",
)
@click.option("--max-tokens", type=click.IntRange(16), default=None, help="Reply token cap (default 300).")
@few_shot_options
@click.option("--text-output", is_flag=True, help="No structured output: ask for JSON in text (old servers).")
@click.option(
    "--prices",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Price overrides, JSON or TOML (USD per 1M input/output tokens); env JUDGEKIT_PRICES.",
)
@click.option(
    "--timeout", type=click.FloatRange(0.1), default=_DEFAULTS.timeout, show_default=True, help="Seconds per request."
)
@click.option(
    "--max-retries",
    type=click.IntRange(0, 50),
    default=_DEFAULTS.max_retries,
    show_default=True,
    help="Retries of a call that failed transiently (5xx, timeouts, resets); 429s get four times as many.",
)
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
@click.option("--quiet", is_flag=True, help="No progress display.")
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON on stdout (for scripts).")
@db_option
@click.pass_context
def command(
    ctx: click.Context,
    rubric_spec: str | None,
    model_spec: str | None,
    base_url: str | None,
    concurrency: int,
    workers: int | str,
    rpm: float | None,
    tpm: float | None,
    limit: int | None,
    sample: int | None,
    seed: int,
    model_seed: int | None,
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
    max_retries: int,
    no_cache: bool,
    batch: bool,
    wait: bool | None,
    batch_size: int | None,
    batch_poll: float | None,
    batch_rounds: int | None,
    batch_fallback: str | None,
    quiet: bool,
    as_json: bool,
    db: Path | None,
) -> None:
    """Judge the project's items with an LLM and store the verdicts as a run.

    Every verdict is committed as it arrives; an interrupted run is completed with --resume RUN, which pays for no
    call twice (replies are cached in the project) and continues with the options the run was started with
    (options given with --resume replace them). Progress (done/total, rate, errors, cost, cache hits, ETA) goes to
    stderr. Exit codes: 0 complete, 3 items left without a verdict, 4 stopped at --max-cost, 5 stopped because
    every call failed the same way, 130 interrupted (Ctrl-C); 2 a usage error.

    \b
    Example:
      export OPENAI_API_KEY=sk-...
      judgekit judge --rubric rubrics/pandalm_pairwise.yaml \\
        --model openai:gpt-4.1-mini --limit 100 --max-cost 1
      judgekit judge --rubric rubrics/helpfulness_pass_fail.yaml \\
        --model openai:gpt-4.1-mini --few-shot dynamic --k 3 --split main
      judgekit judge --resume openai:gpt-4.1-mini#1
      judgekit judge --rubric rubrics/pandalm_pairwise.yaml \\
        --model anthropic:claude-haiku-4-5 --batch --no-wait
      judgekit judge --rubric rubrics/pandalm_pairwise.yaml \\
        --model openai:gpt-4.1-mini --concurrency 128
    """

    def given(name: str) -> bool:
        return ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP, None)

    run_options: dict[str, Any] = {
        name: value
        for name, value in zip(
            _RUN_OPTIONS, (concurrency, workers, rpm, tpm, max_cost, timeout, max_retries), strict=True
        )
        if given(name)
    }
    if given("no_cache"):
        run_options["use_cache"] = not no_cache
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
                model_seed=model_seed,
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
        try:
            summary = run_judge(
                project,
                config,
                rubric=rubric,
                run_name=run_name,
                limit=limit,
                sample=sample,
                seed=seed,
                resume=resume,
                prices=PriceTable.load(prices) if prices is not None or given("prices") else None,
                progress=not quiet,
                exclude_ids=exclude_ids,
                run_meta={"split": split} if split else None,
                batch=batch_opts,
                **run_options,
            )
        except RunInterrupted as stopped:
            _interrupted(stopped.summary)
            ctx.exit(130)
        _report(summary, as_json=as_json)
        if summary.exit_code:
            ctx.exit(summary.exit_code)


def _report(summary: RunSummary, *, as_json: bool) -> None:
    """The summary line, why the run stopped, and what to do next (``--json``: the summary as JSON on stdout and
    the words on stderr)."""
    echo(summary.summary(), err=as_json)
    if summary.stop_reason == "batch_pending":
        echo("batches are running at the provider (results within 24 h)", err=True)
    elif summary.stop_reason == "cancelled":
        echo("the run's batches were cancelled (judgekit runs cancel)", err=True)
    if summary.stop_detail:
        echo(f"stopped: {summary.stop_detail}", err=True)
    for step in summary.next_steps():
        echo(f"next: {step}", err=as_json or summary.stop_reason != "complete")
    if as_json:
        click.echo(summary.to_json())


def _interrupted(summary: RunSummary | None) -> None:
    if summary is None:
        echo("Interrupted before the run started: nothing was stored.", err=True)
        return
    echo(
        f"Interrupted: run {summary.run.name!r} keeps its {summary.total - summary.missing} verdicts "
        f"({summary.judged} from this call, ${summary.cost_usd:.4f}); {summary.missing} items left.",
        err=True,
    )
    echo(f"next: resume with: {summary.resume_command()}", err=True)
