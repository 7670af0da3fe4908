"""``judgekit db info|copy``: what a project database holds, and moving a project between SQLite and PostgreSQL."""

from __future__ import annotations

import click

from judgekit.cli.common import Group, db_option, echo, open_project
from judgekit.storage import applied_migrations
from judgekit.storage.copy import copy_project, table_counts
from judgekit.storage.database import redact


@click.group("db", cls=Group)
def command() -> None:
    """Project database: its engine and contents, and copying a project between SQLite and PostgreSQL."""


@command.command("info")
@db_option
def info(db: str | None) -> None:
    """Engine, location, schema version and rows per table.

    \b
    Example:
      judgekit db info --db postgresql://judgekit@db.internal/labels
    """
    with open_project(db) as project:
        steps = applied_migrations(project.db)
        echo(f"{project.location} ({project.dialect}), schema migration {steps[-1][0]}: {steps[-1][1]}")
        for table, n in table_counts(project).items():
            echo(f"  {table:<14} {n:>10,}")


@command.command("copy")
@click.argument("src")
@click.argument("dst")
def copy(src: str, dst: str) -> None:
    """Copy a whole project from SRC to DST (each a SQLite file or a postgresql:// URL), losslessly.

    DST must be new or empty. The source is read in one snapshot (it may be in use); the destination is written in
    one transaction, so a failed copy leaves it empty.

    \b
    Example:
      judgekit db copy judgekit.db postgresql://judgekit@db.internal/labels
      judgekit db copy \\
        "postgresql://judgekit@db.internal/labels?schema=team_a" backup.db
    """
    result = copy_project(src, dst, on_table=lambda t, n: echo(f"  {t:<14} {n:>10,} rows"))
    echo(f"copied {result.total:,} rows from {redact(src)} to {redact(dst)}")
