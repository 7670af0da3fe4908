"""``judgekit annotators add|list|reset-code|deactivate|activate|assign``."""

from __future__ import annotations

from pathlib import Path

import click
from pydantic import ValidationError

from judgekit.cli.common import Group, db_option, echo, open_project
from judgekit.errors import UserError


@click.group("annotators", cls=Group)
def command() -> None:
    """Manage who may label: access codes, admins, and how many people label each item.

    Nobody labels anonymously: each annotator signs in to the labeling app with a personal access code,
    printed once when they are added (only a salted hash is stored).
    """


@command.command("add")
@click.argument("name")
@click.option("--admin", is_flag=True, help="May open the admin page (progress, agreement, export).")
@db_option
def add(name: str, admin: bool, db: Path | None) -> None:
    """Add an annotator and print their access code (shown only this once).

    \b
    Example:
      judgekit annotators add alice
      judgekit annotators add lead --admin
    """
    from judgekit.labeling import add_annotator

    with open_project(db, create=False) as project:
        code = add_annotator(project, name, admin=admin)
    echo(f"{name}{' (admin)' if admin else ''}: access code {code}")
    echo("Give it to them now: it is not stored and cannot be shown again (use reset-code for a new one).")


@command.command("list")
@db_option
def list_(db: Path | None) -> None:
    """List annotators (codes are never shown).

    \b
    Example:
      judgekit annotators list
    """
    from judgekit.labeling import list_annotators

    with open_project(db, create=False) as project:
        people = list_annotators(project)
    if not people:
        echo("No annotators yet: add one with 'judgekit annotators add NAME'.")
    for a in people:
        flags = [x for x, on in (("admin", a.is_admin), ("inactive", not a.active)) if on]
        echo(f"{a.name}{' (' + ', '.join(flags) + ')' if flags else ''}")


@command.command("reset-code")
@click.argument("name")
@db_option
def reset(name: str, db: Path | None) -> None:
    """Give an annotator a new access code (the old one stops working).

    \b
    Example:
      judgekit annotators reset-code alice
    """
    from judgekit.labeling import reset_code

    with open_project(db, create=False) as project:
        echo(f"{name}: new access code {reset_code(project, name)}")


@command.command("deactivate")
@click.argument("name")
@db_option
def deactivate(name: str, db: Path | None) -> None:
    """Stop an annotator from signing in; their labels are kept.

    \b
    Example:
      judgekit annotators deactivate alice
    """
    from judgekit.labeling import set_active

    with open_project(db, create=False) as project:
        set_active(project, name, False)
    echo(f"{name}: deactivated")


@command.command("activate")
@click.argument("name")
@db_option
def activate(name: str, db: Path | None) -> None:
    """Let a deactivated annotator sign in again.

    \b
    Example:
      judgekit annotators activate alice
    """
    from judgekit.labeling import set_active

    with open_project(db, create=False) as project:
        set_active(project, name, True)
    echo(f"{name}: active")


@command.command("assign")
@click.option("--rubric", "rubric_id", required=True, help="Rubric id.")
@click.option("--per-item", type=int, default=None, help="Annotators per item outside the overlap set.")
@click.option("--overlap", type=float, default=None, help="Share of items (0-1) in the overlap set.")
@click.option("--overlap-annotators", type=int, default=None, help="Annotators per overlap item (>= 2).")
@db_option
def assign(
    rubric_id: str, per_item: int | None, overlap: float | None, overlap_annotators: int | None, db: Path | None
) -> None:
    """Show or set how many people label each item of a rubric.

    Without options it prints the current policy. The overlap set (chosen by a hash of the item id) is labelled
    by several people, so human-human agreement can be measured.

    \b
    Example:
      judgekit annotators assign --rubric helpfulness-pass-fail --per-item 1 \\
        --overlap 0.2 --overlap-annotators 3
    """
    from judgekit.labeling import AssignmentPolicy, get_policy, set_policy

    with open_project(db, create=False) as project:
        policy = get_policy(project, rubric_id)
        changes = {
            k: v
            for k, v in (
                ("annotators_per_item", per_item),
                ("overlap_fraction", overlap),
                ("overlap_annotators", overlap_annotators),
            )
            if v is not None
        }
        if changes:
            try:
                policy = AssignmentPolicy.model_validate({**policy.model_dump(), **changes})
            except ValidationError as exc:
                err = exc.errors()[0]
                raise UserError(f"{err['loc'][0]}: {err['msg']}") from None
            set_policy(project, rubric_id, policy)
    echo(
        f"{rubric_id}: {policy.annotators_per_item} annotator(s) per item; {policy.overlap_fraction:.0%} of items "
        f"labelled by {policy.overlap_annotators} (overlap set)"
    )
