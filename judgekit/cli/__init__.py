"""The ``judgekit`` command line: a thin layer over the public API, one module per verb.

Exit codes: 0 ok, 1 a check failed (the judge is not trusted), 2 a usage or input error (or an internal error: a
bug is never reported as "not trusted"; ``JUDGEKIT_DEBUG=1`` shows its traceback). Every option can also
be set through an environment variable with the ``JUDGEKIT_`` prefix (``--db`` is ``JUDGEKIT_DB``). Command
modules are the ``cmd_*.py`` files of this package, each exposing ``command`` (a click command or group).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence

import click

from judgekit import __version__
from judgekit.cli.common import Group
from judgekit.errors import CheckFailed, JudgekitError, UserError

CONTEXT_SETTINGS = {
    "help_option_names": ["-h", "--help"],
    "auto_envvar_prefix": "JUDGEKIT",
    "max_content_width": 110,
}


@click.group(cls=Group, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="judgekit")
def cli() -> None:
    """judgekit: can your LLM judge be trusted?

    It compares an LLM judge's verdicts with human labels, beside the agreement people reach among themselves,
    with bootstrap intervals, and ends in a verdict: TRUSTED, NOT TRUSTED or INSUFFICIENT EVIDENCE.

    \b
    Start with the bundled real data:
      judgekit demo
    Exit codes: 0 ok, 1 check failed, 2 usage or input error.
    """


def _register() -> None:
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if mod.name.startswith("cmd_"):
            module = importlib.import_module(f"{__name__}.{mod.name}")
            cli.add_command(module.command)


_register()


def main(args: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (testable in-process: ``main(["demo", "--db", path])``)."""
    try:
        # a command's ctx.exit(code) comes back as the return value when standalone_mode is off
        code = cli.main(args=list(args) if args is not None else None, prog_name="judgekit", standalone_mode=False)
        if type(code) is int and code:
            return code
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return 2
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except CheckFailed as exc:
        click.echo(f"judgekit: {exc}", err=True)
        return 1
    except UserError as exc:
        click.echo(f"judgekit: error: {exc}", err=True)
        return 2
    except JudgekitError as exc:
        click.echo(f"judgekit: error: {exc}", err=True)
        return 2
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    except Exception as exc:  # a bug, not the user's mistake: never exit 1, which CI reads as "not trusted"
        if os.environ.get("JUDGEKIT_DEBUG"):
            raise
        click.echo(
            f"judgekit: internal error: {type(exc).__name__}: {exc} (a bug in judgekit {__version__}; "
            "set JUDGEKIT_DEBUG=1 to see the traceback and please report it)",
            err=True,
        )
        return 2
    return 0


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
