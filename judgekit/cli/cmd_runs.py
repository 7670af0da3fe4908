"""``judgekit runs``: list judge runs, show one, compare two."""

from __future__ import annotations

import asyncio
import shlex
from pathlib import Path

import click

from judgekit.cli.common import Group, db_option, echo, open_project
from judgekit.judging.batch import batch_lines, cancel_batches
from judgekit.judging.compare import run_stats


def _cost(amount: float, known: bool) -> str:
    return f"${amount:.4f}" + ("" if known else "+?")


@click.group("runs", cls=Group, invoke_without_command=True)
@db_option
@click.pass_context
def command(ctx: click.Context, db: Path | None) -> None:
    """List judge runs (name, status, model, verdicts, cost); 'show' and 'compare' go deeper, 'cancel' stops a
    run's provider batches.

    \b
    Example:
      judgekit runs
      judgekit runs show openai:gpt-4.1-mini#1
      judgekit runs compare gpt-3.5-turbo openai:gpt-4.1-mini#1
    """
    ctx.ensure_object(dict)
    ctx.obj["db"] = db
    if ctx.invoked_subcommand is not None:
        return
    with open_project(db, create=False) as project:
        runs = project.runs()
        if not runs:
            echo("no judge runs yet: judgekit judge --rubric ... --model ...")
            return
        echo(f"{'name':32} {'status':11} {'source':6} {'model':28} {'rubric':24} {'verdicts':>8} {'cost':>10}")
        for run in runs:
            s = run_stats(project, run)
            model = f"{run.config.provider}:{run.config.model}"
            echo(
                f"{run.name[:32]:32} {run.status:11} {run.source:6} {model[:28]:28} "
                f"{run.config.rubric_id + '@' + str(run.config.rubric_version):24} {s.verdicts:>8} "
                f"{_cost(s.cost_usd, s.cost_known):>10}"
            )


@command.command("show")
@click.argument("run_name")
@db_option
@click.pass_context
def show(ctx: click.Context, run_name: str, db: Path | None) -> None:
    """Details of one run: config, status counts, cost, notes.

    \b
    Example:
      judgekit runs show openai:gpt-4.1-mini#1
    """
    with open_project(db or ctx.obj.get("db"), create=False) as project:
        run = project.run(run_name)
        s = run_stats(project, run)
        c = run.config
        echo(
            f"run {run.name} (id {run.id}), {run.status}, source {run.source}, created {run.created_at:%Y-%m-%d %H:%M}"
        )
        echo(
            f"judge: {c.provider}:{c.model}"
            + (f" at {c.base_url}" if c.base_url else "")
            + f", rubric {c.rubric_id}@{c.rubric_version}, confidence {c.confidence}"
            + (f" ({c.samples} samples)" if c.confidence == "sampling" else "")
            + f", few-shot {c.few_shot}"
            + (f", variant {c.prompt_variant}" if c.prompt_variant else "")
            + f", fingerprint {run.fingerprint}"
        )
        echo(
            f"verdicts: {s.verdicts} ({', '.join(f'{k}={v}' for k, v in sorted(s.statuses.items())) or 'none'}); "
            f"cache hits {s.cache_hits}; cost {_cost(s.cost_usd, s.cost_known)}"
        )
        for line in batch_lines(project, run):
            echo(line)
        for k, v in sorted(run.meta.items()):
            if k not in ("selection",):
                echo(f"  {k}: {v}")


@command.command("cancel")
@click.argument("run_name")
@db_option
@click.pass_context
def cancel(ctx: click.Context, run_name: str, db: Path | None) -> None:
    """Cancel a run's provider batches (judge --batch). Requests a batch finished before the cancel keep their
    results (they are billed): 'judgekit judge --resume RUN' collects them and carries on with the rest.

    \b
    Example:
      judgekit runs cancel openai:gpt-4.1-mini#1
    """
    with open_project(db or ctx.obj.get("db"), create=False) as project:
        run = project.run(run_name)
        report = asyncio.run(cancel_batches(project, run))
        echo(
            f"run {run.name}: {len(report.cancelled)} batch(es) cancelled at the provider"
            + (f", {report.unsent} never sent" if report.unsent else "")
        )
        for rid in report.cancelled:
            echo(f"  {rid}")
        for msg in report.failed:
            echo(f"could not cancel {msg}", err=True)
        where = ["--db", str(db or ctx.obj.get("db"))] if (db or ctx.obj.get("db")) else []
        echo("collect what they finished: " + shlex.join(["judgekit", "judge", "--resume", run.name, *where]))


@command.command("compare")
@click.argument("run_a")
@click.argument("run_b")
@db_option
@click.pass_context
def compare(ctx: click.Context, run_a: str, run_b: str, db: Path | None) -> None:
    """Two runs side by side: what each cost, how often they agree with each other, and (on the labelled items)
    which agrees with people more: the same comparison as 'judgekit compare' and the report.

    \b
    Example:
      judgekit runs compare gpt-3.5-turbo openai:gpt-4.1-mini#1
    """
    from judgekit.agreement import ProjectEvidence, load_criteria
    from judgekit.agreement.judge_judge import compare_pair, judges_agreement
    from judgekit.agreement.render import render_pair

    with open_project(db or ctx.obj.get("db"), create=False) as project:
        ra, rb = project.run(run_a), project.run(run_b)
        sa, sb = run_stats(project, ra), run_stats(project, rb)
        agreement = judges_agreement(project, ra, rb)
        pair = None
        rub_a = project.rubric(ra.config.rubric_id, ra.config.rubric_version)
        rub_b = project.rubric(rb.config.rubric_id, rb.config.rubric_version)
        if rub_a.labels_key == rub_b.labels_key and rub_a.scale.same_answers(rub_b.scale):
            criteria = load_criteria(None, rubric_id=ra.config.rubric_id)
            shared = ProjectEvidence(project)
            da, db_ = shared.aligned(ra, criteria), shared.aligned(rb, criteria)
            if int(da.has_reference.sum()) >= 2:
                pair = compare_pair(da, db_, criteria)
    echo(f"A = {ra.name}: {sa.verdicts} verdicts, cost {_cost(sa.cost_usd, sa.cost_known)}")
    echo(f"B = {rb.name}: {sb.verdicts} verdicts, cost {_cost(sb.cost_usd, sb.cost_known)}")
    k = agreement.kappa
    share = agreement.agree / k.n_items if k.n_items else float("nan")
    echo(
        f"judge A vs judge B, Cohen's kappa on the {k.n_items} items both judged ok: {k.fmt()} (they agree on "
        f"{agreement.agree}, {share:.1%}); ok only in A: {agreement.only_a}, only in B: {agreement.only_b}"
    )
    if agreement.confusion:
        echo("A label -> B label: " + ", ".join(f"{x}->{y}: {n}" for x, y, n in agreement.confusion))
    if pair is None:
        echo("against people: no shared labelled items with a reference label (or different rubric versions)")
    else:
        echo(render_pair(pair))
