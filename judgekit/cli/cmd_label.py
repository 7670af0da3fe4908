"""``judgekit label``: start the labeling app (Streamlit) on a project."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import webbrowser
from pathlib import Path

import click

from judgekit.cli.common import db_option, echo, open_project
from judgekit.errors import UserError
from judgekit.labeling import list_annotators
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


def streamlit_command(app: Path, port: int, address: str) -> list[str]:
    """The ``streamlit run`` command line (separate so it can be tested without starting a server).

    Streamlit always runs headless: outside headless mode it asks for an e-mail address on first use and, without
    an interactive stdin, dies at that prompt (exit 255). Opening a browser tab is done by :func:`command` instead.
    """
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
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
        # Streamlit's defaults, stated so a config file cannot switch them off behind a team's back: cross-site
        # request forgery protection and the same-origin check of the browser connection (README, "Deploying for
        # a team").
        "--server.enableXsrfProtection",
        "true",
        "--server.enableCORS",
        "true",
    ]


def has_display() -> bool:
    """Whether a browser tab can be shown: a desktop session (macOS, Windows, or X11/Wayland on Linux)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def check_port_free(address: str, port: int) -> None:
    """Refuse a port another program listens on, before Streamlit fails on it less clearly."""
    with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will: only a listener blocks it
        try:
            sock.bind((address, port))
        except socket.gaierror as exc:
            raise UserError(
                f"--address {address!r} is not an address of this machine ({exc.strerror}): use 127.0.0.1 (this "
                "machine only) or 0.0.0.0 (every interface)"
            ) from None
        except OSError as exc:
            raise UserError(
                f"--port {port} on {address} is not available ({exc.strerror}): pass another --port"
            ) from None


def _open_when_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Open ``url`` in a browser tab once the app answers its health check (background thread)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(OSError), urllib.request.urlopen(url + "/_stcore/health", timeout=2) as resp:
            if resp.status == 200:
                webbrowser.open(url)
                return
        time.sleep(0.3)


@click.command("label")
@db_option
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True, help="Port of the web app.")
@click.option(
    "--address",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on (0.0.0.0 to let others on the network in).",
)
@click.option("--rubric", "rubric", default=None, help="Rubric id[@version] to label (default: ask in the app).")
@click.option(
    "--headless/--open-browser",
    default=None,
    help="Do not open a browser tab / open one (default: open one only when a desktop display is available).",
)
def command(db: Path | None, port: int, address: str, rubric: str | None, headless: bool | None) -> None:
    """Start the labeling web app: annotators sign in with their code and label blind.

    Runs 'streamlit run labeling_app/app.py' with the project passed through JUDGEKIT_DB. Add people first with
    'judgekit annotators add NAME' (an --admin sees progress, agreement and the export).

    \b
    Example:
      judgekit annotators add alice
      judgekit label --db judgekit.db --rubric helpfulness-pass-fail --port 8501
    """
    with open_project(db, create=False) as project:
        path = project.url
        if rubric:
            project.rubric(*parse_key(rubric, "rubric"))
        if not list_annotators(project):
            echo(
                "No annotators yet: nobody can sign in. Add one with 'judgekit annotators add NAME --admin'.", err=True
            )
    env = dict(os.environ, JUDGEKIT_DB=str(path))
    if rubric:
        env["JUDGEKIT_RUBRIC"] = rubric
    check_port_free(address, port)
    cmd = streamlit_command(app_path(), port, address)
    url = f"http://[{address}]:{port}" if ":" in address else f"http://{address}:{port}"
    echo(f"Labeling app for {project.location} on {url} (Ctrl+C to stop)")
    # stdin is not the terminal's: Streamlit can never stop at a prompt, whatever its configuration says
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL)
    # SIGTERM / SIGHUP (a service manager, a closed terminal, a test) stop Streamlit too instead of orphaning it
    stops = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    previous = {sig: signal.signal(sig, lambda *_: proc.terminate()) for sig in stops}
    if headless is False or (headless is None and has_display()):
        threading.Thread(target=_open_when_ready, args=(url, proc), daemon=True).start()
    try:
        code = proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait()
        code = 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if code and code not in (-signal.SIGTERM, -signal.SIGINT):
        raise UserError(f"streamlit exited with code {code}")
