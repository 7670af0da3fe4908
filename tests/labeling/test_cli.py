"""``judgekit annotators`` and ``judgekit label`` (without starting a server)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from judgekit.cli import main
from judgekit.cli.cmd_label import app_path, streamlit_command
from judgekit.labeling import authenticate, get_policy
from judgekit.storage import Project

from .conftest import BINARY


def test_annotators_add_list_assign(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = db_url
    assert main(["import", "rubric", str(BINARY), "--db", db]) == 0
    assert main(["annotators", "add", "alice", "--db", db]) == 0
    out = capsys.readouterr().out
    code = out.split("access code ")[1].split()[0]
    assert main(["annotators", "add", "lead", "--admin", "--db", db]) == 0
    assert main(["annotators", "add", "alice", "--db", db]) == 2  # duplicate: one readable line
    capsys.readouterr()
    assert main(["annotators", "list", "--db", db]) == 0
    listed = capsys.readouterr().out
    assert listed.splitlines() == ["alice", "lead (admin)"] and code not in listed
    with Project(db, create=False) as project:
        who = authenticate(project, code)
        assert who is not None and who.name == "alice"
    assert (
        main(
            [
                "annotators",
                "assign",
                "--rubric",
                "helpfulness-pass-fail",
                "--per-item",
                "2",
                "--overlap",
                "0.3",
                "--db",
                db,
            ]
        )
        == 0
    )
    assert main(["annotators", "assign", "--rubric", "helpfulness-pass-fail", "--overlap", "3", "--db", db]) == 2
    with Project(db, create=False) as project:
        policy = get_policy(project, "helpfulness-pass-fail")
        assert (policy.annotators_per_item, policy.overlap_fraction) == (2, 0.3)
    assert main(["annotators", "deactivate", "alice", "--db", db]) == 0
    with Project(db, create=False) as project:
        assert authenticate(project, code) is None


def test_label_command_finds_app_and_builds_command(tmp_path: Path) -> None:
    app = app_path()
    assert app.name == "app.py" and app.parent.name == "labeling_app"
    cmd = streamlit_command(app, 8765, "127.0.0.1")
    assert cmd[:4] == [sys.executable, "-m", "streamlit", "run"] and "8765" in cmd
    assert main(["label", "--db", str(tmp_path / "missing.db")]) == 2
    # never Streamlit's interactive mode: its first-run e-mail prompt killed 'judgekit label' without a terminal
    assert cmd[cmd.index("--server.headless") + 1] == "true"
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--server.enableXsrfProtection") + 1] == "true"


def test_label_refuses_a_port_in_use(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    db = db_url
    assert main(["init", "--db", db]) == 0
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["label", "--db", db, "--port", str(port)]) == 2
    assert f"--port {port}" in capsys.readouterr().err


def test_importing_judgekit_does_not_import_streamlit() -> None:
    import subprocess

    code = "import sys, judgekit, judgekit.labeling, judgekit.cli; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
