"""``judgekit judge --batch`` killed (SIGKILL) at each stage, then ``--resume``: no request is submitted twice, no
result is lost, no item is paid twice. A real subprocess, the real SDKs, the scripted batch server.

Each stage is reached from the outside, by the server holding back one reply and the test killing the process
while it waits for it:

* ``before submit``: OpenAI: the input file was uploaded (the server stored it) but its id never reached the
  process; Anthropic: the create call was sent but never reached the provider (nothing was created).
* ``after submit``: the provider created the batch, but its id never reached the process.
* ``while polling``: the batch is in progress and the process is looking at it.
* ``while fetching``: the batch has ended and the process is downloading its results.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from batch_server import BatchPlan, BatchServer

from conftest import single_items
from judgekit.storage import Project

ROOT = Path(__file__).resolve().parents[2]
JUDGEKIT = Path(sys.executable).parent / "judgekit"
N = 30
MODEL = {"openai": "openai:gpt-4.1-mini", "anthropic": "anthropic:claude-haiku-4-5"}

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")]


def _states(db: Path) -> list[str]:
    with sqlite3.connect(db) as c:
        return [r[0] for r in c.execute("SELECT state FROM judge_batches ORDER BY created_at")]


def _wait(what: str, until: Callable[[], bool], proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before {what}: {proc.stderr.read().decode() if proc.stderr else ''}")
        assert time.monotonic() < deadline, f"never reached: {what}"
        time.sleep(0.02)


@pytest.fixture
def kill_env(tmp_path: Path) -> tuple[Path, BatchServer, dict[str, str]]:
    db = tmp_path / "kill.db"
    with Project(db) as p:
        p.add_items(single_items(N))
    srv = BatchServer().start()
    env = {
        **os.environ,
        "OPENAI_API_KEY": "sk-fake",
        "OPENAI_BASE_URL": srv.openai_url,
        "ANTHROPIC_API_KEY": "sk-ant-fake",
        "ANTHROPIC_BASE_URL": srv.anthropic_url,
        "JUDGEKIT_DB": str(db),
    }
    yield db, srv, env
    srv.stop()


def _start(env: dict[str, str], provider: str) -> subprocess.Popen[bytes]:
    args = [
        str(JUDGEKIT),
        "judge",
        "--rubric",
        str(ROOT / "rubrics" / "helpfulness_pass_fail.yaml"),
        "--model",
        MODEL[provider],
        "--confidence",
        "none",
        "--batch",
        "--batch-poll",
        "0.02",
        "--run-name",
        "killed",
        "--quiet",
    ]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)


def _resume_and_check(db: Path, srv: BatchServer, env: dict[str, str]) -> None:
    done = subprocess.run(
        [str(JUDGEKIT), "judge", "--resume", "killed", "--quiet"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    # no request was submitted in two batches, and none was answered (paid) twice
    assert len(srv.submitted) == N and set(srv.submitted.values()) == {1}
    assert len(srv.paid) == N and set(srv.paid.values()) == {1}
    assert len(srv.creates) == 1
    with Project(db) as p:
        run = p.run("killed")
        vs = p.verdicts(run)
        assert run.status == "complete" and len(vs) == N and {v.status for v in vs} == {"ok"}
        assert {v.item_id for v in vs} == {f"q{i}" for i in range(N)}
        # the batch's cost is in the verdicts exactly once
        (row,) = p.db.rows("SELECT cost_usd FROM judge_batches WHERE state = 'fetched'")
        assert sum(v.cost_usd or 0 for v in vs) == pytest.approx(row[0])


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_kill_before_submit(kill_env: tuple[Path, BatchServer, dict[str, str]], provider: str) -> None:
    db, srv, env = kill_env
    if provider == "openai":
        srv.hang_next_upload = True  # the file is stored at the provider, its id never reaches the process
    else:
        srv.drop_next_create = True  # the create call never reaches the provider
    proc = _start(env, provider)
    _wait("the held-back call", srv.hung.is_set, proc)
    _kill(proc)
    assert srv.creates == []
    assert _states(db) == (["prepared"] if provider == "openai" else ["submitting"])
    _resume_and_check(db, srv, env)
    if provider == "openai":
        assert len(srv.uploads) == 1  # the orphan file was found by its name, not uploaded again


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_kill_after_submit(kill_env: tuple[Path, BatchServer, dict[str, str]], provider: str) -> None:
    db, srv, env = kill_env
    srv.plans.append(BatchPlan(lose_create_reply=True))  # created at the provider, the reply never arrives
    proc = _start(env, provider)
    _wait("the batch's creation", srv.hung.is_set, proc)
    _kill(proc)
    assert len(srv.creates) == 1 and _states(db) == ["submitting"]
    _resume_and_check(db, srv, env)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_kill_while_polling(kill_env: tuple[Path, BatchServer, dict[str, str]], provider: str) -> None:
    db, srv, env = kill_env
    srv.plans.append(BatchPlan(looks=10_000))
    proc = _start(env, provider)
    _wait("three looks at the batch", lambda: bool(srv.creates) and srv.looks[srv.creates[0]] >= 3, proc)
    _kill(proc)
    assert _states(db) == ["submitted"] and srv.paid == {}
    srv.batches[srv.creates[0]].plan.looks = 0  # it ends at the next look
    _resume_and_check(db, srv, env)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_kill_while_fetching(kill_env: tuple[Path, BatchServer, dict[str, str]], provider: str) -> None:
    db, srv, env = kill_env
    srv.plans.append(BatchPlan(looks=2))
    srv.hang_next_results = True  # the results download never completes
    proc = _start(env, provider)
    _wait("the results download", srv.hung.is_set, proc)
    _kill(proc)
    assert _states(db) in (["ended"], ["submitted"]) and len(srv.paid) == N
    with Project(db) as p:
        assert p.verdict_count(p.run("killed").id) == 0
    _resume_and_check(db, srv, env)
    assert sum(srv.downloads.values()) >= 2  # downloaded again: the provider keeps the results
