"""``judgekit label``: start the labeling app (Streamlit) on a project."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click

from judgekit.cli.common import db_option, echo, open_project
from judgekit.errors import UserError
from judgekit.models import parse_key


def app_path() -> Path:
    """The labeling app script: its copy inside an installed wheel, ``labeling_app/app.py`` beside the ``judgekit``
    package (source checkout or editable install), or ``$JUDGEKIT_LABELING_APP`` when it lives elsewhere."""
    override = os.environ.get("JUDGEKIT_LABELING_APP")
    candidates = [Path(override)] if override else []
    here = Path(__file__).resolve()
    candidates += [
        here.parents[1] / "_labeling_app" / "app.py",  # inside an installed wheel (force-included)
        here.parents[2] / "labeling_app" / "app.py",
        Path.cwd() / "labeling_app" / "app.py",
    ]
    for c in candidates:
        if c.is_file():
            return c
    raise UserError("cannot find labeling_app/app.py: run from a judgekit checkout or set JUDGEKIT_LABELING_APP")


def streamlit_command(app: Path, port: int, address: str, headless: bool) -> list[str]:
    """The ``streamlit run`` command line (separate so it can be tested without starting a server)."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true" if headless else "false",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
    ]


@click.command("label")
@db_option
@click.option("--port", type=int, default=8501, show_default=True, help="Port of the web app.")
@click.option(
    "--address",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on (0.0.0.0 to let others on the network in).",
)
@click.option("--rubric", "rubric", default=None, help="Rubric id[@version] to label (default: ask in the app).")
@click.option("--headless/--open-browser", default=False, help="Do not open a browser tab.")
def command(db: Path | None, port: int, address: str, rubric: str | None, headless: bool) -> None:
    """Start the labeling web app: annotators sign in with their code and label blind.

    Runs 'streamlit run labeling_app/app.py' with the project passed through JUDGEKIT_DB. Add people first with
    'judgekit annotators add NAME' (an --admin sees progress, agreement and the export).

    \b
    Example:
      judgekit annotators add alice
      judgekit label --db judgekit.db --rubric helpfulness-pass-fail --port 8501
    """
    with open_project(db, create=False) as project:
        path = project.path.resolve()
        if rubric:
            project.rubric(*parse_key(rubric, "rubric"))
        if project.conn.execute("SELECT COUNT(*) FROM annotators").fetchone()[0] == 0:
            echo(
                "No annotators yet: nobody can sign in. Add one with 'judgekit annotators add NAME --admin'.", err=True
            )
    env = dict(os.environ, JUDGEKIT_DB=str(path))
    if rubric:
        env["JUDGEKIT_RUBRIC"] = rubric
    cmd = streamlit_command(app_path(), port, address, headless)
    echo(f"Labeling app for {path} on http://{address}:{port} (Ctrl+C to stop)")
    try:
        code = subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        code = 0
    if code:
        raise UserError(f"streamlit exited with code {code}")
