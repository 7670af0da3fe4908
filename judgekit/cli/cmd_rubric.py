"""``judgekit rubric validate|schema``."""

from __future__ import annotations

from pathlib import Path

import click

from judgekit.cli.common import Group, echo
from judgekit.errors import ConfigError
from judgekit.judging.prompts import check_template
from judgekit.models import load_rubric, rubric_json_schema_text


@click.group("rubric", cls=Group)
def command() -> None:
    """Check rubric files and print their JSON Schema."""


@command.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    """Validate rubric YAML files; prints one line per file, exits 2 if any is invalid.

    Besides the fields, the judge template is rendered (in the sandbox judge runs use) for sample items of the
    rubric's task and for each static few-shot example, so a syntax error, an unknown variable or a forbidden
    operation fails here, not in a run.

    \b
    Example:
      judgekit rubric validate rubrics/*.yaml
    """
    failures = []
    for p in paths:
        try:
            r = load_rubric(p)
            check_template(r)
        except ConfigError as exc:
            if not str(exc).startswith(str(p)):
                exc = ConfigError(f"{p}: {exc}")
            failures.append(str(exc))
            echo(f"INVALID {exc}")
            continue
        echo(f"ok      {p}: {r.key} ({r.describe()})")
    if failures:
        raise ConfigError(f"{len(failures)} of {len(paths)} rubric file(s) invalid")


@command.command("schema")
def schema() -> None:
    """Print the rubric JSON Schema (the content of rubrics/rubric.schema.json).

    \b
    Example:
      judgekit rubric schema > rubrics/rubric.schema.json
    """
    click.echo(rubric_json_schema_text(), nl=False)
