"""``judgekit alignments``: the alignment records of the project."""

from __future__ import annotations

from pathlib import Path

import click

from judgekit.cli.common import db_option, echo, json_option, open_project


@click.command("alignments")
@click.argument("name", required=False)
@db_option
@click.option("--diff", "show_diff", is_flag=True, help="With NAME: print each candidate's rubric diff.")
@json_option("the record(s)")
def command(name: str | None, db: Path | None, show_diff: bool, as_json: bool) -> None:
    """List the alignments (judgekit align) of the project, or show one: every candidate with its dev figures
    and cost, the selection rule, the choice and the one look at the test split.

    \b
    Example:
      judgekit alignments --db judgekit-demo.db
      judgekit alignments align-1 --diff
    """
    import json

    from judgekit.align import render_record, render_records, store

    with open_project(db) as project:
        records = [store.load(project, name)] if name else store.records(project)
    if as_json:
        click.echo(json.dumps([json.loads(r.model_dump_json()) for r in records], indent=2))
        return
    if not name:
        echo(render_records(records))
        return
    echo(render_record(records[0]))
    if show_diff:
        for c in records[0].candidates:
            if c.diff:
                echo(f"\n--- {c.name} ---\n{c.diff}")
