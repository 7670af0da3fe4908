"""Shared fixtures for the connector tests: free ports, a real Phoenix server started once per session."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from judgekit.connectors import ScoreMapping
from judgekit.storage import Project
from tests.helpers import ROOT, rubric


def phoenix_python() -> Path | None:
    """The Python of the Phoenix server's own venv (``make phoenix``; or ``JUDGEKIT_PHOENIX_PYTHON``)."""
    path = Path(os.environ.get("JUDGEKIT_PHOENIX_PYTHON") or ROOT / ".venv-phoenix" / "bin" / "python")
    return path if path.exists() else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path / "p.db")


def pass_fail(score: str, **kw: object) -> ScoreMapping:
    return ScoreMapping(score=score, rubric=rubric(), **kw)  # type: ignore[arg-type]


_PHOENIX: dict[str, object] = {}


def _start_phoenix(work: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "PHOENIX_WORKING_DIR": str(work),
        "PHOENIX_PORT": str(port),
        "PHOENIX_GRPC_PORT": str(free_port()),
        "PHOENIX_HOST": "127.0.0.1",
        "PHOENIX_TELEMETRY_ENABLED": "false",
        "HOME": str(work),
    }
    log = (work / "server.log").open("w")
    python = phoenix_python()
    assert python is not None
    env.pop("VIRTUAL_ENV", None)
    proc = subprocess.Popen(
        [str(python), "-m", "phoenix.server.main", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    _PHOENIX.update(proc=proc, log=log, work=work, url=f"http://127.0.0.1:{port}")


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Start Phoenix as soon as its tests are collected: it boots (tens of seconds of CPU) while other tests run on
    the other core, instead of when its first test asks for it."""
    if _PHOENIX or not any(item.path.name == "test_phoenix.py" for item in items):
        return
    import tempfile

    if phoenix_python() is None:
        return
    _start_phoenix(Path(tempfile.mkdtemp(prefix="judgekit-phoenix-")))


@pytest.fixture(scope="session")
def phoenix_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Phoenix server (``python -m phoenix.server.main serve``) on a free loopback port, SQLite in a temp dir."""
    pytest.importorskip("phoenix.client")
    if phoenix_python() is None:
        pytest.skip("the Phoenix server's venv is missing: run make phoenix (make test does)")
    if not _PHOENIX:
        _start_phoenix(tmp_path_factory.mktemp("phoenix"))
    proc: subprocess.Popen[bytes] = _PHOENIX["proc"]  # type: ignore[assignment]
    work: Path = _PHOENIX["work"]  # type: ignore[assignment]
    url = str(_PHOENIX["url"])
    try:
        deadline = time.monotonic() + 300
        while True:
            if proc.poll() is not None:
                raise RuntimeError("phoenix exited: " + (work / "server.log").read_text()[-2000:])
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("phoenix did not start in 300 s: " + (work / "server.log").read_text()[-2000:])
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        _PHOENIX["log"].close()  # type: ignore[attr-defined]
        _PHOENIX.clear()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop a Phoenix started at collection that no test used (its tests deselected or skipped)."""
    proc = _PHOENIX.get("proc")
    if isinstance(proc, subprocess.Popen) and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
