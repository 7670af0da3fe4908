"""``judgekit init``."""

from __future__ import annotations

import click

from judgekit.cli.common import db_option, echo, open_project
from judgekit.storage import applied_migrations


@click.command("init")
@db_option
def command(db: str | None) -> None:
    """Create a project database (or bring an existing one up to the current schema).

    \b
    Example:
      judgekit init --db myproject.db
    """
    with open_project(db, create=True) as project:
        steps = applied_migrations(project.db)
        engine = f"journal {project.journal_mode()}" if project.dialect == "sqlite" else "PostgreSQL"
        echo(f"project database {project.location} ready (schema migration {steps[-1][0]}: {steps[-1][1]}, {engine})")
