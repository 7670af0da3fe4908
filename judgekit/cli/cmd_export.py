"""``judgekit export items|labels|verdicts``."""

from __future__ import annotations

from pathlib import Path

import click

from judgekit.cli.common import Group, db_option, echo, format_option, open_project
from judgekit.io import detect_format, export_items, export_labels, export_verdicts, write_export
from judgekit.io.files import check_writable_target
from judgekit.io.rows import Format
from judgekit.models import PROVENANCES, Provenance, parse_key

_out = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Output file (default: standard output).",
)


@click.group("export", cls=Group)
def command() -> None:
    """Export items, labels or a judge run's verdicts to JSONL or CSV (deterministic, re-importable)."""


def _emit(text: str, output: Path | None, fmt: str | None, what: str) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    write_export(text, output, fmt)
    echo(f"wrote {what} to {output}", err=True)


@command.command("items")
@db_option
@format_option
@_out
def items(db: Path | None, fmt: str | None, output: Path | None) -> None:
    """Export every item.

    \b
    Example:
      judgekit export items -o items.jsonl
    """
    with open_project(db) as project:
        kind = write_export("", None, fmt) if output is None else _fmt(output, fmt)
        _emit(export_items(project, kind), output, fmt, "items")


@command.command("labels")
@click.option("--rubric", "rubric_spec", default=None, help="Only this rubric id[@version].")
@click.option("--history", is_flag=True, help="Every revision, not only the latest label.")
@click.option(
    "--provenance",
    "provenances",
    type=click.Choice(PROVENANCES),
    multiple=True,
    help="Only labels of this provenance (repeatable; default every provenance).",
)
@db_option
@format_option
@_out
def labels(
    rubric_spec: str | None,
    history: bool,
    provenances: tuple[Provenance, ...],
    db: Path | None,
    fmt: str | None,
    output: Path | None,
) -> None:
    """Export human labels (latest revision of each, or the full history).

    \b
    Example:
      judgekit export labels --rubric pandalm-pairwise -o labels.csv
    """
    rid, ver = None, None
    if rubric_spec:
        rid, ver = parse_key(rubric_spec, "rubric")
    with open_project(db) as project:
        kind = write_export("", None, fmt) if output is None else _fmt(output, fmt)
        _emit(
            export_labels(
                project, kind, rubric_id=rid, rubric_version=ver, history=history, provenance=provenances or None
            ),
            output,
            fmt,
            "labels",
        )


@command.command("verdicts")
@click.option("--run", "run_name", required=True, help="Judge run name or id.")
@db_option
@format_option
@_out
def verdicts(run_name: str, db: Path | None, fmt: str | None, output: Path | None) -> None:
    """Export the verdicts of one judge run.

    \b
    Example:
      judgekit export verdicts --run gpt-3.5-turbo -o gpt35.jsonl
    """
    with open_project(db) as project:
        kind = write_export("", None, fmt) if output is None else _fmt(output, fmt)
        _emit(export_verdicts(project, run_name, kind), output, fmt, "verdicts")


def _fmt(output: Path, fmt: str | None) -> Format:
    check_writable_target(output, "the export")  # before the export is built: a typo costs nothing
    return detect_format(output, fmt)


def _add_platform_exports() -> None:
    from judgekit.cli._export_platforms import PLATFORM_EXPORTS

    for cmd in PLATFORM_EXPORTS:
        command.add_command(cmd)


_add_platform_exports()
