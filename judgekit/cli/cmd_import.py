"""``judgekit import items|labels|verdicts|rubric``."""

from __future__ import annotations

from pathlib import Path

import click

from judgekit.cli.common import Group, db_option, echo, format_option, new_name, open_project
from judgekit.errors import ConfigError
from judgekit.io import import_items_file, import_labels_file, import_verdicts_file, resolve_rubric
from judgekit.judging.prompts import check_template
from judgekit.models import PROVENANCES, Provenance, load_rubric


@click.group("import", cls=Group)
def command() -> None:
    """Import items, human labels, rubrics, or another tool's judge verdicts.

    Each import is one transaction: a malformed row stops it with file, line and field, and nothing is kept.
    Importing the same file again adds nothing.
    """


@command.command("items")
@click.argument("path", type=click.Path(path_type=Path))
@db_option
@format_option
def items(path: Path, db: Path | None, fmt: str | None) -> None:
    """Import items from JSONL or CSV.

    \b
    Columns: id, input, output | output_a + output_b, reference, context,
             segment, source, created_at, risk (low|medium|high),
             extra (JSON) or extra.<name>
    Example:
      judgekit import items data/items.jsonl
    """
    with open_project(db, create=True) as project:
        echo(import_items_file(project, path, fmt).summary())


@command.command("labels")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--rubric", "rubric_spec", required=True, help="Rubric YAML file, or id[@version] in the project.")
@click.option(
    "--provenance",
    type=click.Choice(PROVENANCES),
    default="blind",
    show_default=True,
    help="For rows without a provenance column: blind labels, corrections of a judge's score, or adjudicated gold.",
)
@click.option(
    "--require-critique",
    is_flag=True,
    help="Refuse labels without the critique the rubric requires for their level, as the labeling app does.",
)
@db_option
@format_option
def labels(
    path: Path,
    rubric_spec: str,
    provenance: Provenance,
    require_critique: bool,
    db: Path | None,
    fmt: str | None,
) -> None:
    """Import human labels for one rubric from JSONL or CSV.

    Labels are checked as the labeling app checks a submit (a level of the rubric). The app also requires a
    critique for the levels in the rubric's critique_required_for; imported labels without one are counted and
    reported, or refused with --require-critique.

    \b
    Columns: item_id, annotator, label, critique, time_spent_s, created_at,
             flagged, display_order, provenance (blind|corrected|adjudicated)
    Example:
      judgekit import labels data/labels.csv \\
        --rubric rubrics/helpfulness_pass_fail.yaml
    """
    with open_project(db, create=False) as project:
        rubric = resolve_rubric(project, rubric_spec)
        result = import_labels_file(
            project, path, rubric, fmt, provenance=provenance, require_critique=require_critique
        )
        echo(result.summary())


@command.command("verdicts")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--rubric", "rubric_spec", required=True, help="Rubric YAML file, or id[@version] in the project.")
@click.option(
    "--run", "run_name", required=True, callback=new_name, help="Name of the judge run to create (or complete)."
)
@click.option("--model", default=None, help="Model name of the external judge (default: the run name).")
@db_option
@format_option
def verdicts(path: Path, rubric_spec: str, run_name: str, model: str | None, db: Path | None, fmt: str | None) -> None:
    """Import verdicts produced by another eval tool as a named judge run.

    \b
    Columns: item_id, label, confidence (0-1), rationale,
             status (ok|parse_error|refused|api_error), raw_reply
    Example:
      judgekit import verdicts evals/judge_out.jsonl --rubric pandalm-pairwise \\
        --run prod-judge-v3
    """
    with open_project(db, create=False) as project:
        rubric = resolve_rubric(project, rubric_spec)
        echo(import_verdicts_file(project, path, rubric, run_name=run_name, model=model, fmt=fmt).summary())


@command.command("rubric")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@db_option
def rubric(paths: tuple[Path, ...], db: Path | None) -> None:
    """Store rubric versions in the project (every version is kept).

    \b
    Example:
      judgekit import rubric rubrics/helpfulness_pass_fail.yaml
    """
    with open_project(db, create=True) as project:
        for p in paths:
            r = load_rubric(p)
            try:
                check_template(r)
            except ConfigError as exc:
                raise ConfigError(f"{p}: {exc}") from None
            echo(f"{r.key}: {'stored' if project.save_rubric(r) else 'already stored'}")


def _add_platform_commands() -> None:
    from judgekit.cli._import_platforms import PLATFORM_COMMANDS

    for cmd in PLATFORM_COMMANDS:
        command.add_command(cmd)


_add_platform_commands()
