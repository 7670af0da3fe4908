"""Options and helpers shared by the CLI commands."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from judgekit.storage import Project

F = TypeVar("F", bound=Callable[..., Any])


def db_option(f: F) -> F:
    """``--db PATH|URL`` (env ``JUDGEKIT_DB``, default ``./judgekit.db``): a SQLite file or a PostgreSQL URL."""
    return click.option(
        "--db",
        "db",
        type=str,
        metavar="PATH|URL",
        envvar="JUDGEKIT_DB",
        default=None,
        show_envvar=True,
        help="Project database: a SQLite file (default ./judgekit.db) or postgresql://user@host/dbname[?schema=NAME].",
    )(f)


def format_option(f: F) -> F:
    """``--format jsonl|csv`` (default: from the file extension)."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["jsonl", "csv", "tsv"]),
        default=None,
        help="File format (default: from the extension).",
    )(f)


def open_project(db: str | Path | None, *, create: bool = False) -> Project:
    """Open the project database; without ``create`` a missing file is a usage error. A writer that has to wait
    for another one (an import, a judge run) says so on stderr once."""
    return Project(db, create=create, on_lock_wait=_say_waiting)


def _say_waiting(waited: float) -> None:
    click.echo("judgekit: waiting for another process writing to the project (an import or a judge run)...", err=True)


def echo(message: str = "", *, err: bool = False) -> None:
    """Print a line (to stderr with ``err``)."""
    click.echo(message, err=err)


def config_option(f: F) -> F:
    """``--config PATH``: the judgekit.toml / pyproject.toml holding the trust criteria."""
    return click.option(
        "--config",
        "config",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="judgekit.toml or pyproject.toml with [tool.judgekit] (default: found from the current folder).",
    )(f)


def few_shot_options(f: F) -> F:
    """``--few-shot``, ``--k`` and ``--split``: which examples a judge sees, and which items it must never see as
    examples (a calibration split's test items)."""
    f = click.option(
        "--split",
        default=None,
        help="Calibration split (NAME or NAME@VERSION): its test items are never shown as dynamic few-shot examples.",
    )(f)
    f = click.option(
        "--k", "k", type=click.IntRange(0), default=3, show_default=True, help="Examples for dynamic few-shot."
    )(f)
    return click.option(
        "--few-shot", type=click.Choice(["static", "dynamic", "none"]), default="static", show_default=True
    )(f)


class FiniteFloatRange(click.FloatRange):
    """A :class:`click.FloatRange` that also refuses NaN and infinities (click's range lets NaN through: every
    comparison with NaN is false)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        out = super().convert(value, param, ctx)
        if not math.isfinite(out):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return out


SEED = click.IntRange(0, 2**63 - 1)
"""Type of every ``--seed``: a whole number a random generator takes and the database stores (64-bit)."""


def bootstrap_options(f: F) -> F:
    """``--seed`` and ``--n-boot``: reproducibility and precision of every bootstrap interval."""
    f = click.option("--n-boot", "n_boot", type=int, default=None, help="Bootstrap resamples (default 1000).")(f)
    return click.option("--seed", type=SEED, default=None, help="Bootstrap seed (default from the configuration, 0).")(
        f
    )


def reference_option(f: F) -> F:
    """``--reference majority|adjudicated``: what the judge is compared with (default from the configuration:
    the majority of the blind labels)."""
    return click.option(
        "--reference",
        "reference",
        type=click.Choice(["majority", "adjudicated"]),
        default=None,
        help="Reference label: majority of blind labels (ties left out) or adjudicated labels (default: majority).",
    )(f)


def new_name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback for an option that names something new (a run, a split): the identity rules of ids
    (:func:`judgekit.models.ids.normalize_id`), so ``--name ""`` or a name with a line break is a usage error."""
    if value is None:
        return None
    from judgekit.models.ids import normalize_id

    try:
        return normalize_id(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} {exc}") from None


def server_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback for ``--base-url``: an ``http(s)://host[:port][/path]`` URL, refused before any call."""
    if value is None:
        return None
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value.strip())
        port = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError as exc:
        raise click.BadParameter(f"{value!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(f"{value!r}: expected a URL such as http://localhost:11434/v1")
    del port
    return value.strip()


def json_option(what: str) -> Callable[[F], F]:
    """``--json`` (parameter ``as_json``): print ``what`` as JSON instead of text."""

    def decorate(f: F) -> F:
        return click.option("--json", "as_json", is_flag=True, help=f"Print {what} as JSON.")(f)

    return decorate


def criteria_options(f: F) -> F:
    """``--config`` and ``--reference``: the trust criteria a command measures with, and against what."""
    return config_option(reference_option(f))


def split_option(*, required: bool, help: str) -> Callable[[F], F]:
    """``--split NAME[@VERSION]`` (parameter ``split_name``): a calibration split of the project."""

    def decorate(f: F) -> F:
        return click.option("--split", "split_name", required=required, default=None, metavar="NAME", help=help)(f)

    return decorate


def abstention_options(f: F) -> F:
    """``--target`` and ``--delta`` of a Trust or Escalate threshold (Jung et al., ICLR 2025): the agreement the
    judge must reach on the items it keeps, with probability at least 1 - delta; both strictly between 0 and 1."""
    share = FiniteFloatRange(0, 1, min_open=True, max_open=True)
    f = click.option(
        "--delta",
        type=share,
        default=0.1,
        show_default=True,
        help="Trust or Escalate: tolerated chance that the guarantee fails.",
    )(f)
    return click.option(
        "--target",
        type=share,
        default=0.9,
        show_default=True,
        help="Trust or Escalate: agreement required on the items the judge keeps.",
    )(f)


def model_call_options(*, base_url_help: str, max_cost_help: str) -> Callable[[F], F]:
    """``--base-url`` (checked by :func:`server_url`), ``--max-cost`` (finite USD), ``--prices`` and
    ``--concurrency``: where and how a command that calls models sends its requests, and what it may spend."""

    def decorate(f: F) -> F:
        f = click.option(
            "--concurrency", type=click.IntRange(1, 1024), default=8, show_default=True, help="Calls in flight."
        )(f)
        f = click.option(
            "--prices",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            help="Price overrides, JSON or TOML (USD per 1M input/output tokens); env JUDGEKIT_PRICES.",
        )(f)
        f = click.option("--max-cost", type=FiniteFloatRange(0), default=None, help=max_cost_help)(f)
        return click.option("--base-url", default=None, callback=server_url, help=base_url_help)(f)

    return decorate


def quiet_option(f: F) -> F:
    """``--quiet``: no progress display on stderr."""
    return click.option("--quiet", is_flag=True, help="No progress lines.")(f)


class Group(click.Group):
    """A command group whose command list gives each command's whole first sentence, wrapped to the terminal,
    instead of click's cut after about 45-65 characters ("Trust or escalate: a confidence threshold above which
    RUN..."): at 80 columns the list says what every command is for."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit=1000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
