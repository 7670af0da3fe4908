"""``judge_calls: per_criterion`` through the engine, the real SDKs and the scripted server: one call per rated
criterion, each stating only its criterion and scale, merged into one verdict; a failed call fails that criterion
only; an interrupted or failed run's resume pays only for the criteria that had no reply."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from typing import Any

import pytest
from fake_llm_server import Action, FakeLLMServer, Received

from conftest import bundled, chat_items
from judgekit.errors import ConfigError
from judgekit.judging import arun_judge, build_config, run_judge
from judgekit.judging.options import BatchOptions
from judgekit.storage import Project

PER = bundled("assistant_turn_criteria").model_copy(update={"judge_calls": "per_criterion"})
NAMES = ["helpfulness", "grounded", "safety"]
_CRITERION = re.compile(r'Criterion "([a-z]+)"')


@pytest.fixture
def chats(db_url: str) -> Project:
    p = Project(db_url)
    p.save_rubric(PER)
    p.add_items(chat_items(4))
    yield p
    p.close()


def _prompt(rec: Received) -> str:
    return str(rec.body["messages"][-1]["content"])


def _criterion(prompt: str) -> str:
    (name,) = _CRITERION.findall(prompt)  # exactly one criterion per call
    return name


def _label(prompt: str, levels: list[str]) -> str:
    """helpfulness 5 for even cities else 4; unsafe for city 3 (a one-reply prompt: criteria_labeler answers)."""
    if len(_CRITERION.findall(prompt)) != 1:
        return "unused"
    if _criterion(prompt) == "helpfulness":
        return "5" if any(f"city {i}?" in prompt for i in (0, 2)) else "4"
    return "unsafe" if "city 3?" in prompt else "safe"


@pytest.fixture
def llm(openai_env: FakeLLMServer) -> FakeLLMServer:
    openai_env.labeler = _label
    # the interval criterion (grounded) in a per-criterion call; every criterion in one structured reply
    openai_env.criteria_labeler = lambda prompt, name, schema: 0.75 if "enum" not in schema else schema["enum"][-1]
    return openai_env


def _config(provider: str = "openai") -> Any:
    model = "gpt-4.1-mini" if provider == "openai" else "claude-haiku-4-5"
    return build_config(provider, model, PER, confidence="verbalized")


def _run(project: Project, provider: str = "openai", **kw: Any) -> Any:
    kw.setdefault("progress", False)
    kw.setdefault("backoff_base", 0.01)
    return run_judge(project, _config(provider), rubric=PER, **kw)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_one_call_per_criterion_states_only_that_criterion(chats: Project, llm: FakeLLMServer, provider: str) -> None:
    s = _run(chats, provider, concurrency=3)
    assert s.stop_reason == "complete" and s.statuses == {"ok": 4} and s.missing == 0
    assert llm.count == 4 * 3 and s.requests == 12  # N calls per item
    seen: dict[str, int] = {}
    for rec in llm.requests:
        prompt = _prompt(rec) if isinstance(rec.body["messages"][-1]["content"], str) else json.dumps(rec.body)
        name = _criterion(prompt)
        seen[name] = seen.get(name, 0) + 1
        schema = (
            rec.body["response_format"]["json_schema"]["schema"]
            if provider == "openai"
            else rec.body["tools"][0]["input_schema"]
        )
        assert set(schema["properties"]) == {"rationale", "label", "confidence"}  # one answer, not one per criterion
        levels = PER.criterion(name).scale.values  # type: ignore[union-attr]
        if name == "grounded":
            assert schema["properties"]["label"]["type"] == "number"
        else:
            assert schema["properties"]["label"]["enum"] == levels
        system = rec.body["messages"][0]["content"] if provider == "openai" else json.dumps(rec.body["system"])
        assert "one field per criterion" not in system
        other = [n for n in NAMES if n != name]
        assert not any(f'"{n}"' in prompt for n in other)
    assert seen == dict.fromkeys(NAMES, 4)
    got = {v.item_id: v for v in chats.verdicts(s.run.name)}
    assert got["c0"].label == "pass" and got["c3"].label == "fail"  # unsafe: all_pass fails
    assert got["c0"].criteria["helpfulness"].label == "5" and got["c1"].criteria["helpfulness"].label == "4"
    g = got["c1"].criteria["grounded"]
    assert (g.label, g.confidence, g.confidence_source) == ("0.75", 0.8, "verbalized")
    calls = got["c1"].extra["criteria_calls"]
    assert sorted(calls) == sorted(NAMES) and all(c["calls"] == 1 and c["cache_hits"] == 0 for c in calls.values())
    assert got["c1"].cost_usd == pytest.approx(sum(c["cost_usd"] for c in calls.values()))
    assert got["c1"].input_tokens == sum(c["input_tokens"] for c in calls.values())
    assert s.cost_usd == pytest.approx(sum(v.cost_usd or 0 for v in got.values()))
    rows = chats.verdict_rows(s.run.id, criterion="safety")
    assert [label for _, _, label, _ in rows] == ["safe", "safe", "safe", "unsafe"]
    # a rerun is all cache hits, per criterion
    llm.reset_counts()
    again = _run(chats, provider, run_name="again")
    assert llm.count == 0 and again.cache_hits == 12
    assert [v.criteria for v in chats.verdicts("again")] == [v.criteria for v in got.values()]


def test_a_500_on_one_criterion_fails_it_alone_and_the_resume_asks_only_it(chats: Project, llm: FakeLLMServer) -> None:
    def fault(rec: Received) -> Action | None:
        prompt = _prompt(rec)
        if "city 2?" in prompt and _criterion(prompt) == "grounded":
            return Action(kind="status", status=500)
        if "city 1?" in prompt and _criterion(prompt) == "safety":
            return Action(kind="status", status=400)  # refused for good: that criterion is api_error, kept
        return None

    llm.rules.append(fault)
    s = _run(chats, max_retries=1)
    assert s.stop_reason == "failures" and s.exit_code == 3 and s.missing == 1
    assert s.errors == {"http_500": 2, "http_400": 1}
    v = {x.item_id: x for x in chats.verdicts(s.run.name)}
    c2 = v["c2"]
    assert c2.status == "api_error" and c2.label is None and c2.extra["unanswered"] == ["grounded"]
    assert c2.criteria["grounded"].status == "api_error" and "500" in c2.extra["criteria_failed"]["grounded"]
    assert (c2.criteria["helpfulness"].label, c2.criteria["safety"].label) == ("5", "safe")  # the others kept
    assert v["c1"].criteria["safety"].status == "api_error" and "unanswered" not in v["c1"].extra
    assert v["c1"].criteria["helpfulness"].label == "4"
    # the answered criteria count per criterion (agree reads these rows)
    helpful = {i: (st, lab) for i, st, lab, _ in chats.verdict_rows(s.run.id, criterion="helpfulness")}
    assert helpful["c2"] == ("ok", "5")
    assert s.next_steps()[0].startswith("resume") and "--resume" in s.next_steps()[0]

    llm.rules.clear()
    llm.reset_counts()
    r = run_judge(chats, resume=s.run.name, progress=False)
    assert r.stop_reason == "complete" and r.missing == 0 and r.judged == 1
    asked = _prompt(llm.requests[0])
    assert llm.count == 1 and _criterion(asked) == "grounded" and "city 2?" in asked
    assert r.cache_hits == 2  # helpfulness and safety of c2: paid in the first run, not again
    c2 = next(x for x in chats.verdicts(s.run.name) if x.item_id == "c2")
    assert c2.status == "ok" and c2.label == "pass" and c2.criteria["grounded"].label == "0.75"
    assert "unanswered" not in c2.extra and len(chats.verdicts(s.run.name)) == 4
    assert chats.verdicts(s.run.name, item_ids=["c1"])[0].criteria["safety"].status == "api_error"  # not asked again


def test_an_interrupted_run_resumes_paying_for_no_criterion_twice(chats: Project, llm: FakeLLMServer) -> None:
    """Ctrl-C (the run's task cancelled) after the first 5 of 12 calls were answered: one item has some of its
    criteria answered, none of its own verdict. The resume sends exactly the 7 other calls."""
    answered_first = 5
    released = threading.Event()
    arrived = {"n": 0}

    def hold(rec: Received) -> Any:
        arrived["n"] += 1
        return None if arrived["n"] <= answered_first else released.is_set

    llm.hold = hold
    cached = "SELECT COUNT(*) FROM llm_cache"

    async def interrupted() -> None:
        run = arun_judge(chats, _config(), rubric=PER, run_name="cut", concurrency=2, progress=False)
        task = asyncio.ensure_future(run)
        while chats.db.scalar(cached) < answered_first:  # replies stored (the engine flushes every 50 ms)
            assert not task.done()
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(interrupted())
    released.set()
    first = [json.dumps(rec.body, sort_keys=True) for rec in llm.requests[:answered_first]]
    done = chats.verdict_item_ids(chats.run("cut").id)
    assert len(done) < 2  # at most one item had all three answers: the other answered calls wait in the cache
    llm.hold = None
    llm.reset_counts()
    r = run_judge(chats, resume="cut", progress=False)
    assert r.stop_reason == "complete" and len(chats.verdicts("cut")) == 4
    again = [json.dumps(rec.body, sort_keys=True) for rec in llm.requests]
    assert len(again) == 12 - answered_first and not set(again) & set(first)  # nothing paid twice
    assert r.cache_hits == answered_first - 3 * len(done)


def test_batch_with_per_criterion_is_refused_before_anything_is_sent(chats: Project, llm: FakeLLMServer) -> None:
    with pytest.raises(ConfigError, match=r"per_criterion.*--batch"):
        run_judge(chats, _config(), rubric=PER, progress=False, batch=BatchOptions())
    assert llm.count == 0 and not chats.runs()


def test_per_criterion_costs_n_calls_and_more_prompt_tokens(chats: Project, llm: FakeLLMServer) -> None:
    """The README's cost figure on the shipped rubric (3 criteria): 3 calls per item instead of one, and about 1.6
    times the prompt tokens of one structured reply (each call carries the material again, but states one
    criterion); the scripted server counts a token per 4 characters of the messages."""
    one = PER.model_copy(update={"judge_calls": "one", "version": 2})
    chats.save_rubric(one)
    a = run_judge(
        chats, build_config("openai", "gpt-4.1-mini", one, confidence="verbalized"), rubric=one, progress=False
    )
    b = _run(chats)
    prompt = {s.run.name: sum(v.input_tokens for v in chats.verdicts(s.run.name)) for s in (a, b)}
    assert (a.requests, b.requests) == (4, 12)
    assert 1.5 <= prompt[b.run.name] / prompt[a.run.name] <= 1.8, prompt
