"""``judgekit split``: dev/test splits of the labelled items, and the looks spent on a test split."""

from __future__ import annotations

import json
from pathlib import Path

import click

from judgekit.cli.common import SEED, Group, db_option, echo, new_name, open_project
from judgekit.errors import UserError
from judgekit.models import Rubric, parse_key
from judgekit.storage import Project


def _rubric(project: Project, spec: str | None) -> Rubric:
    """The rubric named by ``id`` or ``id@version``; without one, the only rubric version with human labels."""
    if spec is not None:
        return project.rubric(*parse_key(spec, "rubric"))
    keys = project.labelled_rubric_keys()
    if not keys:
        raise UserError("the project has no human labels yet: label items (judgekit label) before splitting them")
    if len(keys) > 1:
        names = ", ".join(f"{k[0]}@{k[1]}" for k in keys)
        raise UserError(f"several rubric versions have labels ({names}); choose one with --rubric")
    return project.rubric(str(keys[0][0]), int(keys[0][1]))


@click.group("split", cls=Group, invoke_without_command=True)
@db_option
@click.option(
    "--name",
    default="main",
    show_default=True,
    callback=new_name,
    help="Split name; an existing name gets a new version.",
)
@click.option("--test-fraction", type=float, default=0.3, show_default=True, help="Share of items kept for test.")
@click.option(
    "--by",
    "method",
    type=click.Choice(["stratified", "time", "source"]),
    default="stratified",
    show_default=True,
    help="stratified: by label x segment x risk; time: newest to test; source: whole sources to test.",
)
@click.option("--seed", type=SEED, default=0, show_default=True, help="Random seed.")
@click.option("--rubric", "rubric_spec", default=None, help="Rubric id or id@version (default: the labelled one).")
@click.pass_context
def command(
    ctx: click.Context,
    db: Path | None,
    name: str,
    test_fraction: float,
    method: str,
    seed: int,
    rubric_spec: str | None,
) -> None:
    """Split the labelled items into dev (tuning) and test (final evaluation); 'show' reports the looks spent.

    Dev is what prompt iteration, dynamic few-shot examples and abstention thresholds may use; test is locked:
    every evaluation on it is recorded, and the number of judge versions evaluated on it is reported.

    \b
    Example:
      judgekit split --db judgekit-demo.db --test-fraction 0.3
      judgekit split --name by-source --by source
      judgekit split show main
    """
    ctx.ensure_object(dict)
    ctx.obj["db"] = db
    if ctx.invoked_subcommand is not None:
        return
    from judgekit.calibration import balance, create_split

    with open_project(db) as project:
        rubric = _rubric(project, rubric_spec)
        info = create_split(project, rubric, name=name, test_fraction=test_fraction, method=method, seed=seed)  # type: ignore[arg-type]
        table = balance(project, info)
    echo(
        f"split {info.key} ({info.method}, rubric {info.rubric_key}): {info.n_dev} dev items, {info.n_test} test items"
    )
    if info.method == "source":
        echo(f"  test sources: {', '.join(map(str, info.params.get('test_sources', [])))}")  # type: ignore[call-overload]
    echo(
        "  human majority label share (dev / test): "
        + ", ".join(f"{lab} {row['dev']:.2f}/{row['test']:.2f}" for lab, row in table.iterrows())
    )
    echo(f"  tune on dev only; evaluate on test with e.g. 'judgekit compare RUN_A RUN_B --split {info.name}'")


def _db(ctx: click.Context, db: Path | None) -> Path | None:
    return db if db is not None else (ctx.obj or {}).get("db")


@command.command("show")
@click.argument("name", default="main")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def show(ctx: click.Context, name: str, db: Path | None, as_json: bool) -> None:
    """A split: sizes, label balance, and every look at its test part with the warning for their number.

    \b
    Example:
      judgekit split show main
      judgekit split show main@1 --json
    """
    from judgekit.calibration import balance, get_split, look_summary, looks

    with open_project(_db(ctx, db)) as project:
        info = get_split(project, name)
        table = balance(project, info)
        seen = looks(project, info)
        summary = look_summary(project, info)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "split": info.model_dump(mode="json"),
                    "balance": {str(k): dict(v) for k, v in table.iterrows()},
                    "looks": [lk.model_dump(mode="json") for lk in seen],
                    "summary": summary.model_dump(mode="json"),
                },
                indent=2,
            )
        )
        return
    echo(
        f"split {info.key}: {info.method}, rubric {info.rubric_key}, test fraction {info.test_fraction:g}, "
        f"seed {info.seed}, created {info.created_at}"
    )
    echo(f"  {info.n_dev} dev items, {info.n_test} test items")
    for lab, row in table.iterrows():
        echo(f"  {lab!s:<16} dev {row['dev']:.3f}  test {row['test']:.3f}")
    echo(f"  looks at test: {summary.n_looks} evaluation(s) of {summary.n_judge_versions} distinct judge version(s)")
    for lk in seen:
        echo(f"    {lk.created_at}  {lk.purpose:<8} {lk.run} (judge {lk.fingerprint}, {lk.n_items} items)")
    echo(f"  {summary.message}")


@command.command("list")
@db_option
@click.pass_context
def list_cmd(ctx: click.Context, db: Path | None) -> None:
    """Every stored split version.

    \b
    Example:
      judgekit split list
    """
    from judgekit.calibration import list_splits, look_summary

    with open_project(_db(ctx, db)) as project:
        rows = [(s, look_summary(project, s)) for s in list_splits(project)]
    if not rows:
        echo("no splits yet: create one with 'judgekit split'")
    for s, summ in rows:
        echo(
            f"{s.key:<20} {s.method:<10} {s.rubric_key:<24} dev {s.n_dev:>6}  test {s.n_test:>6}  "
            f"judge versions seen on test {summ.n_judge_versions}"
        )


@command.command("ids")
@click.argument("name", default="main")
@click.option("--part", type=click.Choice(["dev", "test"]), default="test", show_default=True)
@db_option
@click.pass_context
def ids(ctx: click.Context, name: str, part: str, db: Path | None) -> None:
    """Print the item ids of one part of a split, one per line (e.g. to exclude test from few-shot pools).

    \b
    Example:
      judgekit split ids main --part test > test_ids.txt
    """
    from judgekit.calibration import split_item_ids

    with open_project(_db(ctx, db)) as project:
        for i in split_item_ids(project, name, part):  # type: ignore[arg-type]
            click.echo(i)


@command.command("assess")
@click.argument("run")
@click.option("--name", "split_name", default="main", show_default=True, help="Split name (or name@version).")
@click.option("--on", "part", type=click.Choice(["dev", "test"]), default="test", show_default=True)
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print the assessment as JSON.")
@click.option("--seed", type=SEED, default=None, help="Bootstrap seed.")
@click.option("--n-boot", type=int, default=None, help="Bootstrap resamples.")
@click.pass_context
def assess_cmd(
    ctx: click.Context,
    run: str,
    split_name: str,
    part: str,
    db: Path | None,
    as_json: bool,
    seed: int | None,
    n_boot: int | None,
) -> None:
    """The trust assessment of RUN on one part of a split; on test the look is recorded and counted.

    \b
    Example:
      judgekit split assess gpt-3.5-turbo --name main --on test
    """
    from judgekit.agreement import load_criteria, render_text
    from judgekit.calibration import assess_on_split

    with open_project(_db(ctx, db)) as project:
        r = project.run(run)
        crit = load_criteria(None, rubric_id=r.config.rubric_id, overrides={"seed": seed, "n_boot": n_boot})
        result, summary = assess_on_split(project, r, split_name, part, crit)  # type: ignore[arg-type]
    if as_json:
        out = json.loads(result.model_dump_json())
        out["looks"] = None if summary is None else summary.model_dump(mode="json")
        click.echo(json.dumps(out, indent=2))
        return
    echo(f"[{part} part of split {split_name}]")
    echo(render_text(result))
    if summary is not None:
        echo("")
        echo(f"Test split {summary.split}: {summary.message}")
