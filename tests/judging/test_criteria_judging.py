"""A rubric with rated criteria through the judge engine, the real SDKs and the scripted server: one structured
reply with a field per criterion (each on its own scale), read and stored per criterion, cached, repaired."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fake_llm_server import Action, FakeLLMServer

from conftest import bundled, chat_items
from judgekit.judging import build_config, run_judge
from judgekit.storage import Project

RATED = bundled("assistant_turn_criteria")


@pytest.fixture
def chats(db_url: str) -> Project:
    p = Project(db_url)
    p.save_rubric(RATED)
    p.add_items(chat_items(6))
    yield p
    p.close()


def _answers(prompt: str, name: str, label: dict[str, Any]) -> Any:
    """Helpfulness 4 (5 for even cities), grounded 0.8, unsafe for city 3."""
    if name == "helpfulness":
        return "5" if any(f"city {i}?" in prompt for i in (0, 2, 4)) else "4"
    if name == "grounded":
        return 0.8
    return "unsafe" if "city 3?" in prompt else "safe"


def _run(project: Project, provider: str = "openai", **kw: object):  # type: ignore[no-untyped-def]
    model = "gpt-4.1-mini" if provider == "openai" else "claude-haiku-4-5"
    cfg = build_config(provider, model, RATED, confidence=str(kw.pop("confidence", "verbalized")))  # type: ignore[arg-type]
    kw.setdefault("progress", False)
    kw.setdefault("backoff_base", 0.01)
    return run_judge(project, cfg, rubric=RATED, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_one_structured_reply_answers_every_criterion(chats: Project, openai_env: FakeLLMServer, provider: str) -> None:
    openai_env.criteria_labeler = _answers
    s = _run(chats, provider, concurrency=3)
    assert s.stop_reason == "complete" and s.statuses == {"ok": 6} and openai_env.count == 6
    body = openai_env.requests[0].body
    schema = (
        body["response_format"]["json_schema"]["schema"] if provider == "openai" else body["tools"][0]["input_schema"]
    )
    assert list(schema["properties"]) == ["helpfulness", "grounded", "safety"]
    assert schema["properties"]["grounded"]["properties"]["label"]["type"] == "number"
    assert schema["properties"]["safety"]["properties"]["label"]["enum"] == ["safe", "unsafe"]
    system = body["messages"][0]["content"] if provider == "openai" else body["system"]
    system = system if isinstance(system, str) else json.dumps(system)
    assert "one field per criterion" in system and "a number from 0 to 1 in steps of 0.25" in system
    got = {v.item_id: v for v in chats.verdicts(s.run.name)}
    assert got["c0"].label == "pass" and got["c3"].label == "fail"  # unsafe: all_pass fails
    assert got["c1"].criteria["helpfulness"].label == "4" and got["c0"].criteria["helpfulness"].label == "5"
    g = got["c1"].criteria["grounded"]
    assert (g.label, g.confidence, g.confidence_source) == ("0.8", 0.8, "verbalized")  # between steps: a score
    assert got["c1"].rationale is not None and got["c1"].rationale.startswith("helpfulness: ")
    rows = chats.verdict_rows(s.run.id, criterion="safety")
    assert [label for _, _, label, _ in rows] == ["safe", "safe", "safe", "unsafe", "safe", "safe"]


def test_rerun_is_served_from_the_cache(chats: Project, openai_env: FakeLLMServer) -> None:
    openai_env.criteria_labeler = _answers
    first = _run(chats)
    openai_env.reset_counts()
    again = _run(chats, run_name="again")
    assert openai_env.count == 0 and again.cache_hits == 6
    assert [v.criteria for v in chats.verdicts("again")] == [v.criteria for v in chats.verdicts(first.run.name)]


def test_an_unreadable_criterion_is_repaired_then_kept_apart(chats: Project, openai_env: FakeLLMServer) -> None:
    bad = json.dumps({"helpfulness": {"rationale": "r", "label": "9"}, "grounded": {"rationale": "r", "label": 0.5},
                      "safety": {"rationale": "r", "label": "safe"}})  # fmt: skip
    # the first reply names a level that does not exist: sent back with the reason, the repair is read
    openai_env.script(Action(kind="text", text=bad))
    s = _run(chats, limit=1, confidence="none", parse_retries=1)
    assert s.statuses == {"ok": 1}
    repair = openai_env.requests[-1].body["messages"][-1]["content"]
    assert "helpfulness" in repair and "could not be read" in repair
    # out of repairs: that criterion is a parse error, the others keep their answers, the verdict fails with it
    openai_env.script(Action(kind="text", text=bad))
    s2 = _run(chats, items=chats.items(["c1"]), confidence="none", parse_retries=0, run_name="strict", use_cache=False)
    v = chats.verdicts(s2.run.name)[0]
    assert v.status == "parse_error" and v.label is None
    assert v.criteria["helpfulness"].status == "parse_error" and v.criteria["safety"].label == "safe"


def test_a_refusal_fails_every_criterion(chats: Project, openai_env: FakeLLMServer) -> None:
    openai_env.script(Action(kind="refusal"))
    s = _run(chats, limit=1)
    v = chats.verdicts(s.run.name)[0]
    assert v.status == "refused" and {a.status for a in v.criteria.values()} == {"refused"}
