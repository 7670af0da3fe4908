"""One call paid for at most once: single-flight for identical requests in flight, and a cache look-up before each
retry (issue 12: "a repeated request inside a run is a hit")."""

from __future__ import annotations

import json
import threading

import pytest
from fake_llm_server import Action, FakeLLMServer, Received

from conftest import bundled, single_items
from judgekit.datasets.pandalm import load_pandalm
from judgekit.judging import build_config, run_judge
from judgekit.storage import Project

PASS_FAIL = bundled("helpfulness_pass_fail")


@pytest.mark.parametrize("workers", [1, 2])
def test_pandalm_duplicates_are_paid_once(project: Project, openai_env: FakeLLMServer, workers: int) -> None:
    """The first 200 PandaLM items hold 187 distinct prompts, some duplicates a few rows apart: at concurrency 64
    they are in flight together, and the duplicates share the first call."""
    data = load_pandalm()
    items = data.items[:200]
    project.save_rubric(data.rubric)
    project.add_items(items)
    distinct = {(it.input, it.output_a, it.output_b) for it in items}
    assert len(distinct) == 187
    openai_env.latency = 0.05
    cfg = build_config("openai", "gpt-4.1-mini", data.rubric, confidence="none")
    s = run_judge(
        project, cfg, rubric=data.rubric, items=items, concurrency=64, workers=workers, progress=False, run_name="p"
    )
    assert s.statuses == {"ok": 200} and len(s.workers) == workers
    assert openai_env.count == 187 and s.requests == 187 and s.cache_hits == 13
    verdicts = project.verdicts("p")
    assert sum(v.cache_hit for v in verdicts) == 13 and sum(v.cost_usd == 0 for v in verdicts) == 13
    assert len({json.dumps(r.body["messages"]) for r in openai_env.requests}) == 187  # no request sent twice


def test_a_retry_looks_in_the_cache_first(tmp_path, openai_env: FakeLLMServer) -> None:  # type: ignore[no-untyped-def]
    """Two runs of the same judge at once (two processes, here two threads): the first copy of the request is
    rate-limited and waits; meanwhile the other run's identical request is answered and cached. The retry finds the
    reply in the cache and is not sent."""
    db = tmp_path / "two.db"
    with Project(db) as p:
        p.save_rubric(PASS_FAIL)
        p.add_items(single_items(1))
    seen: list[str] = []

    def first_is_limited(r: Received) -> Action | None:
        seen.append(r.item or "")
        return Action(kind="status", status=429, headers={"retry-after-ms": "400"}) if len(seen) == 1 else None

    openai_env.rules.append(first_is_limited)
    cfg = build_config("openai", "gpt-4.1-mini", PASS_FAIL, confidence="none")
    results: dict[str, object] = {}

    def judge(name: str) -> None:
        with Project(db) as p:
            results[name] = run_judge(p, cfg, rubric=PASS_FAIL, progress=False, run_name=name)

    threads = [threading.Thread(target=judge, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert set(results) == {"a", "b"}
    assert openai_env.count == 2  # the 429 and one answer: the retry was served from the cache
    assert openai_env.answered["question 0"] == 1
    statuses = [r.statuses for r in results.values()]  # type: ignore[attr-defined]
    assert statuses == [{"ok": 1}, {"ok": 1}]
