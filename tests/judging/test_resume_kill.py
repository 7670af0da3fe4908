"""Resume after the judging process is killed (SIGKILL) mid-run: nothing is paid for twice, nothing is lost."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fake_llm_server import FakeLLMServer

from conftest import single_items
from judgekit.storage import Project

ROOT = Path(__file__).resolve().parents[2]
JUDGEKIT = Path(sys.executable).parent / "judgekit"
HANG_GUARD_S = 180.0
"""Seconds a wait on a condition may take before the test calls it a hang."""


def _verdict_count(db: Path) -> int:
    with sqlite3.connect(db) as c:
        return int(c.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0])


def _children(pid: int) -> list[int]:
    """Child processes of ``pid`` (Linux); empty where /proc does not list them."""
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _descendants(pid: int) -> list[int]:
    """Children, grandchildren ... of ``pid``: the worker processes are children of the fork server, a child."""
    out = []
    for c in _children(pid):
        out += [c, *_descendants(c)]
    return out


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.parametrize("workers", [1, 2])
def test_sigkill_then_resume_pays_for_no_item_twice(tmp_path: Path, server: FakeLLMServer, workers: int) -> None:
    db = tmp_path / "kill.db"
    with Project(db) as p:
        p.add_items(single_items(30))
    env = {**os.environ, "OPENAI_API_KEY": "sk-fake", "OPENAI_BASE_URL": server.openai_url, "JUDGEKIT_DB": str(db)}
    args = [
        str(JUDGEKIT),
        "judge",
        "--rubric",
        str(ROOT / "rubrics" / "helpfulness_pass_fail.yaml"),
        "--model",
        "openai:gpt-4.1-mini",
        "--concurrency",
        "4",
        "--workers",
        str(workers),
        "--quiet",
    ]
    server.hang_after = 10  # the 11th and later requests never get an answer: the process is "mid-run"
    proc = subprocess.Popen([*args, "--run-name", "killed"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # deadlines only guard against a hang: under load, starting the CLI and the fork server takes long
        deadline = time.monotonic() + HANG_GUARD_S
        while _verdict_count(db) < 10 if db.exists() else True:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "the run never reached 10 verdicts"
            time.sleep(0.05)
        while server.count <= 10:  # requests are in flight (and hang) when it dies
            assert time.monotonic() < deadline, "no request in flight after 10 replies"
            time.sleep(0.05)
        if workers > 1:  # wait for the worker process (forked by the fork server once it has imported the SDK)
            deadline = time.monotonic() + HANG_GUARD_S
            while len(_descendants(proc.pid)) == len(_children(proc.pid)):
                assert time.monotonic() < deadline, "the worker process never started"
                time.sleep(0.05)
        children = _descendants(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        # worker processes notice that the judging process is gone, save what they have and exit
        deadline = time.monotonic() + HANG_GUARD_S
        while any(_alive(c) for c in children) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(c) for c in children)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    answered_first = {k for k, n in server.answered.items() if n}
    assert len(answered_first) == 10
    with Project(db) as p:
        assert p.run("killed").status == "running"  # killed: never marked complete
    server.hang_after = None
    server.received.clear()
    done = subprocess.run(
        [str(JUDGEKIT), "judge", "--resume", "killed", "--workers", str(workers), "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )
    assert done.returncode == 0, done.stderr
    assert "already present" in done.stdout
    # no item answered before the kill was requested again, and no item was answered (paid) twice
    assert not answered_first & set(server.received)
    assert all(n == 1 for n in server.answered.values()) and len(server.answered) == 30
    with Project(db) as p:
        vs = p.verdicts("killed")
        assert len(vs) == 30 and {v.item_id for v in vs} == {f"q{i}" for i in range(30)}
        assert p.run("killed").status == "complete"
