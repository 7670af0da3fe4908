"""Fixtures for the judging tests: a scripted LLM server, a project with items, and a no-paid-API guard.

The guard is deliberately local as well as suite-wide: whatever the top-level conftest does, no judging test can
send a request with a real key or to a real provider URL.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from batch_server import BatchServer
from fake_llm_server import FakeLLMServer

from judgekit.models import Item, Message, Rubric, load_rubric
from judgekit.storage import Project

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _no_paid_api(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset real API keys and base URLs; tests set fake ones pointing at the loopback server."""
    for var in (
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "OPENAI_BASE_URL",
        "ANTHROPIC_BASE_URL",
        "JUDGEKIT_DB",
        "JUDGEKIT_PRICES",
        "OPENAI_ORG_ID",
        "OPENAI_PROJECT_ID",
    ):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    srv = FakeLLMServer().start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def batch_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[BatchServer]:
    """The scripted server with the batch endpoints, and fake keys and base URLs pointing at it."""
    srv = BatchServer().start()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-fake")
    monkeypatch.setenv("OPENAI_BASE_URL", srv.openai_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-fake")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", srv.anthropic_url)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def openai_env(server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> FakeLLMServer:
    """A fake key and ``OPENAI_BASE_URL`` / ``ANTHROPIC_BASE_URL`` pointing at the fake server."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-fake")
    monkeypatch.setenv("OPENAI_BASE_URL", server.openai_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-fake")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.anthropic_url)
    return server


def bundled(name: str) -> Rubric:
    return load_rubric(ROOT / "rubrics" / f"{name}.yaml")


def single_items(n: int, prefix: str = "q") -> list[Item]:
    return [Item(id=f"{prefix}{i}", input=f"question {i}", output=f"answer {i}") for i in range(n)]


def pair_items(n: int) -> list[Item]:
    return [
        Item(id=f"p{i}", input=f"pair question {i}", output_a=f"first {i}", output_b=f"second {i}") for i in range(n)
    ]


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    """A project with the three bundled rubrics, 12 single items and 6 pairwise items."""
    p = Project(tmp_path / "j.db")
    for name in ("helpfulness_pass_fail", "answer_quality_1to5", "pandalm_pairwise"):
        p.save_rubric(bundled(name))
    p.add_items(single_items(12))
    p.add_items(pair_items(6))
    try:
        yield p
    finally:
        p.close()


def chat_items(n: int) -> list[Item]:
    """Conversations ``c0`` ... : a user asks for the weather in city i, the assistant answers (the judged turn)."""
    return [
        Item(
            id=f"c{i}",
            messages=[
                Message(role="user", content=f"What is the weather in city {i}?"),
                Message(role="assistant", content=f"It is sunny in city {i}."),
            ],
        )
        for i in range(n)
    ]
