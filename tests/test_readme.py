"""The README's examples and commands stay true.

``test_readme_commands_run_in_order_on_a_fresh_copy`` runs every ```bash command of the README, in order, in one
shell, on a fresh copy of the project.

Why: a newcomer pastes the README's commands as they are. A command that fails (a missing ``--db``, a missing
activation step, a prompt that kills a server without a terminal) must be a failing test, not a bug report.

How the test stands in for the reader's world, and nothing more:

- **A fresh copy**: the files git tracks (plus new, not yet ignored ones) are copied to a temporary folder; the
  current ``.venv`` is linked in and its ``make setup`` stamp kept newer than ``pyproject.toml``, so ``make demo``
  runs as typed without reinstalling. ``PATH`` holds no virtualenv: ``judgekit`` is found only after the README's
  own ``source .venv/bin/activate``.
- **Skipped**: ``make test`` (it is what runs this test: it would recurse). Nothing else.
- **Providers**: a scripted LLM server (``tests/judging/batch_server.py``, with the batch endpoints) on 127.0.0.1;
  the shell's ``OPENAI_BASE_URL`` / ``ANTHROPIC_BASE_URL`` point at it, and ``export OPENAI_API_KEY=sk-...`` is run
  as typed. The README starts the packaged scripted judge and proposer itself (``judgekit dev-server``, for
  ``judgekit align``); the test only moves it from port 8787 to a free one.
  A local OpenAI-compatible server named in the README (``http://localhost:11434/v1``, Ollama's address) is
  replaced by the scripted server's address (:data:`STAND_INS`).
- **Long-running commands** (:data:`SERVERS`, ``judgekit label``) start in the background with stdin closed; the
  test waits for the URL they print and for the app's health check, then sends SIGTERM and checks that the port is
  closed again (Streamlit stopped with it). ``judgekit label``'s port comes from ``JUDGEKIT_LABEL_PORT`` (a free
  port), as any option can come from the environment.
- **Exit codes**: 0 for every command except those in :data:`EXPECTED_EXIT` (``judgekit check`` on the demo exits 1:
  the README says both bundled judges are NOT TRUSTED).
"""

from __future__ import annotations

import doctest
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_python_examples_run() -> None:
    result = doctest.testfile(
        str(ROOT / "README.md"), module_relative=False, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    )
    assert result.attempted > 0 and result.failed == 0


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in README and "make demo" in README
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M), ".ci/run must call the README's test command"


def test_every_cli_command_is_in_the_readme() -> None:
    from judgekit.cli import cli

    for name in cli.commands:
        assert f"judgekit {name}" in README, f"'judgekit {name}' is not documented in the README"


sys.path.insert(0, str(ROOT / "tests" / "judging"))

from batch_server import BatchServer  # noqa: E402
from fake_llm_server import FakeLLMServer  # noqa: E402

SKIP = {"make test": "runs this test itself (it would recurse)"}
STAND_INS = {
    "http://localhost:11434/v1": "{openai_url}",
    "--port 8787": "--port {dev_port}",  # judgekit dev-server: a free port, several suites run at once
    "127.0.0.1:8787": "127.0.0.1:{dev_port}",
}
SERVERS = ("judgekit label",)
EXPECTED_EXIT = {"judgekit check gpt-3.5-turbo --db judgekit-demo.db": 1}


@dataclass(frozen=True)
class Command:
    """One command line of a README bash block (continuation lines joined), with where it is."""

    text: str
    line: int

    @property
    def code(self) -> str:
        """The command without its trailing comment (for matching; the shell drops comments itself)."""
        return re.sub(r"\s+#.*$", "", self.text).strip()


def readme_commands(readme: str) -> list[Command]:
    """The commands of every ```bash block, in order (comments and blank lines left out)."""
    out: list[Command] = []
    for m in re.finditer(r"^```bash\n(.*?)^```", readme, re.S | re.M):
        first = readme.count("\n", 0, m.start(1)) + 1
        pending: list[str] = []
        start = 0
        for offset, raw in enumerate(m.group(1).splitlines()):
            line = raw.strip()
            if not pending and (not line or line.startswith("#")):
                continue
            if not pending:
                start = first + offset
            pending.append(line.removesuffix("\\").strip())
            if not line.endswith("\\"):
                out.append(Command(" ".join(pending), start))
                pending = []
    return out


def fresh_copy(dest: Path) -> Path:
    """The project's files as a fresh clone would have them, with the current virtualenv linked in."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.decode()
        files = [f for f in listed.split("\0") if f]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: everything but caches and venvs
        skip = {".git", ".venv", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", "judgekit-report"}
        files = [
            str(p.relative_to(ROOT))
            for p in ROOT.rglob("*")
            if p.is_file() and not skip & set(p.relative_to(ROOT).parts) and not p.name.endswith((".db", ".pyc"))
        ]
    for rel in files:
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    venv = Path(sys.prefix)
    stamp = venv / ".installed"
    if not stamp.exists():
        pytest.skip(f"{venv} was not made by 'make setup' (no {stamp.name} stamp): 'make demo' would reinstall")
    (dest / ".venv").symlink_to(venv, target_is_directory=True)
    # make must see the environment as up to date: a reinstall would repoint the shared venv at this copy
    t = stamp.stat().st_mtime - 60
    os.utime(dest / "pyproject.toml", (t, t))
    return dest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SERVE = r"""
readme_serve() {  # start a long-running README command, wait for its URL and health check, stop it
    "$@" > "$READMETMP/serve.log" 2>&1 < /dev/null &
    local pid=$! url="" i
    for i in $(seq 1 600); do
        url=$(grep -o 'http://[^ ]*' "$READMETMP/serve.log" | head -n 1)
        if [ -n "$url" ] && python -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
            "$url/_stcore/health" 2>/dev/null; then
            break
        fi
        kill -0 "$pid" 2>/dev/null || break
        url=""
        sleep 0.3
    done
    cat "$READMETMP/serve.log"
    if [ -z "$url" ]; then
        echo "@@serve not-ready"
        kill -TERM "$pid" 2>/dev/null; wait "$pid"; return 1
    fi
    echo "@@serve ready $url"
    kill -TERM "$pid"; wait "$pid"; local rc=$?
    for i in $(seq 1 100); do
        python -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "$url/_stcore/health" \
            2>/dev/null || { echo "@@serve stopped"; return $rc; }
        sleep 0.2
    done
    echo "@@serve still-running"; return 1
}
"""


def shell_script(commands: list[Command], server: FakeLLMServer, dev_port: int = 8787) -> str:
    parts = ["exec 2>&1", SERVE]
    for n, cmd in enumerate(commands):
        text = cmd.text
        for needle, stand_in in STAND_INS.items():
            text = text.replace(needle, stand_in.format(openai_url=server.openai_url, dev_port=dev_port))
        if cmd.code in SKIP:
            parts.append(f"echo '@@readme {n} skipped'")
            continue
        if cmd.code.startswith(SERVERS):
            text = "readme_serve " + text
        start = f"echo '@@readme {n} start'; readme_t0=$(date +%s.%N)"
        parts += [start, text, f'echo "@@readme {n} rc=$? t0=$readme_t0 t1=$(date +%s.%N)"']
    return "\n".join(parts) + "\n"


def clean_path() -> str:
    """``PATH`` without any virtualenv's ``bin``: the README must put ``judgekit`` on it itself."""
    venvs = {str(Path(sys.prefix) / "bin"), os.path.join(os.environ.get("VIRTUAL_ENV", "/nonexistent"), "bin")}
    keep = [d for d in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep) if d and d not in venvs]
    return os.pathsep.join(d for d in keep if not (Path(d) / "activate").exists() or not (Path(d) / "python").exists())


def test_readme_commands_parse() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = readme_commands(readme)
    codes = [c.code for c in commands]
    assert codes[:2] == ["make demo", "make test"]
    assert "source .venv/bin/activate" in codes, "after 'make demo' the README must put judgekit on PATH"
    for needle in [*SKIP, *EXPECTED_EXIT]:
        assert any(c.startswith(needle) for c in codes), f"{needle!r} is no longer in the README: update this test"
    assert any(c.startswith(SERVERS) for c in codes)
    for needle in STAND_INS:
        assert needle in readme


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_readme_commands_run_in_order_on_a_fresh_copy(tmp_path: Path) -> None:
    commands = readme_commands((ROOT / "README.md").read_text())
    project = fresh_copy(tmp_path / "judgekit")
    home = tmp_path / "home"
    home.mkdir()
    with BatchServer() as server:  # the scripted LLM server with the batch endpoints (judge --batch)
        env = {
            "PATH": clean_path(),
            "HOME": str(home),  # Streamlit's and Chromium's per-user files stay in the test's folder
            "LANG": os.environ.get("LANG", "C.UTF-8"),
            "TERM": "dumb",
            "READMETMP": str(tmp_path),
            "OPENAI_BASE_URL": server.openai_url,
            "ANTHROPIC_BASE_URL": server.anthropic_url,
            "JUDGEKIT_LABEL_PORT": str(free_port()),
        }
        for var in ("PYTHONDONTWRITEBYTECODE", "TMPDIR"):
            if var in os.environ:
                env[var] = os.environ[var]
        script = tmp_path / "readme.sh"
        script.write_text(shell_script(commands, server, free_port()))
        proc = subprocess.Popen(
            ["bash", "--noprofile", "--norc", str(script)],
            cwd=project,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            out, _ = proc.communicate(timeout=840)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            pytest.fail("the README's commands did not finish in 14 minutes:\n" + out[-5000:])
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    sections = re.split(r"^@@readme (\d+) start$", out, flags=re.M)
    outputs = {int(sections[i]): sections[i + 1] for i in range(1, len(sections), 2)}
    timings: list[tuple[float, str]] = []
    for n, cmd in enumerate(commands):
        if cmd.code in SKIP:
            assert f"@@readme {n} skipped" in out
            continue
        text = outputs.get(n)
        assert text is not None, f"README.md:{cmd.line}: `{cmd.text}` never ran:\n{out[-3000:]}"
        m = re.search(rf"^@@readme {n} rc=(\d+) t0=([\d.]+) t1=([\d.]+)$", text, re.M)
        assert m, f"README.md:{cmd.line}: `{cmd.text}` did not finish:\n{text[-3000:]}"
        expected = next((rc for prefix, rc in EXPECTED_EXIT.items() if cmd.code.startswith(prefix)), 0)
        assert int(m.group(1)) == expected, (
            f"README.md:{cmd.line}: `{cmd.text}` exited {m.group(1)}, expected {expected}:\n{text[-3000:]}"
        )
        timings.append((float(m.group(3)) - float(m.group(2)), cmd.code))
        for bug in ("Traceback (most recent call last)", "judgekit: internal error"):
            assert bug not in text, f"README.md:{cmd.line}: `{cmd.text}`:\n{text}"
        if cmd.code.startswith(SERVERS):
            assert "@@serve ready http://" in text and "@@serve stopped" in text, text
            assert "Email" not in text, "Streamlit asked for an e-mail address"
    print("seconds per README command, slowest first:", *(f"{t:6.1f}  {c}" for t, c in sorted(timings)[::-1]), sep="\n")
    assert server.count > 0, "no judging command reached the scripted LLM server"
    assert (project / "judgekit-report" / "report.html").exists()
    assert (project / "labels.jsonl").read_text().count("\n") == 20  # the example labels, exported
