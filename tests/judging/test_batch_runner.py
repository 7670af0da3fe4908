"""Batch mode (``judge --batch``) through the real openai / anthropic SDKs' batch calls, against the scripted
server's files, batches and message-batches endpoints (:mod:`batch_server`)."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from typing import Any

import pytest
from batch_server import BatchPlan, BatchServer
from fake_llm_server import Action, FakeLLMServer

from conftest import bundled, single_items
from judgekit.cli import main
from judgekit.errors import ConfigError, ProviderError
from judgekit.judging import PriceTable, build_config, run_judge
from judgekit.judging.batch import batch_lines, cancel_batches, run_batches
from judgekit.judging.batch.openai_batches import OpenAIBatchApi
from judgekit.judging.options import BatchOptions
from judgekit.judging.pricing import Price
from judgekit.models import Item
from judgekit.storage import Project

PASS_FAIL = bundled("helpfulness_pass_fail")
PROVIDERS = ["openai", "anthropic"]
MODEL = {"openai": "gpt-4.1-mini", "anthropic": "claude-haiku-4-5"}
FAST = BatchOptions(poll=0.01, poll_max=0.02)


def cfg(provider: str, confidence: str = "none", **kw: Any) -> Any:
    return build_config(provider, MODEL[provider], PASS_FAIL, confidence=confidence, **kw)


def judge(project: Project, provider: str, batch: BatchOptions | None = FAST, **kw: Any) -> Any:
    kw.setdefault("progress", False)
    kw.setdefault("backoff_base", 0.01)
    return run_judge(project, kw.pop("config", None) or cfg(provider), rubric=PASS_FAIL, batch=batch, **kw)


def lines_of(server: BatchServer, provider: str) -> list[dict[str, Any]]:
    """Every request line of every batch the server received."""
    return [line for b in server.batches.values() if b.api == provider for line in b.lines]


def body_of(line: dict[str, Any]) -> dict[str, Any]:
    return line["body"] if "body" in line else line["params"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_batch_requests_are_the_interactive_requests(
    project: Project, batch_server: BatchServer, provider: str
) -> None:
    s = judge(project, provider)
    assert s.stop_reason == "complete" and s.statuses == {"ok": 12} and s.run.status == "complete"
    assert len(batch_server.creates) == 1 and batch_server.count == 0  # no interactive call at all
    lines = lines_of(batch_server, provider)
    assert len(lines) == 12 and all(len(line["custom_id"]) == 64 for line in lines)
    if provider == "openai":
        assert all(line["url"] == "/v1/chat/completions" and line["method"] == "POST" for line in lines)
    # the same items judged interactively into another project send exactly these bodies
    other = Project(project.path.with_name("other.db"))
    other.save_rubric(PASS_FAIL)
    other.add_items(single_items(12))
    run_judge(other, cfg(provider), rubric=PASS_FAIL, progress=False, concurrency=1)
    interactive = sorted(json.dumps(r.body, sort_keys=True) for r in batch_server.requests)
    assert sorted(json.dumps(body_of(line), sort_keys=True) for line in lines) == interactive
    # ... under the same cache keys: a rerun of the batch project's config interactively is all cache hits
    batch_server.reset_counts()
    again = run_judge(project, cfg(provider), rubric=PASS_FAIL, progress=False)
    assert again.requests == 0 and again.cache_hits == 12 and batch_server.count == 0
    assert {v.label for v in project.verdicts(s.run.name)} == {"pass"}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_partial_failures_go_into_a_follow_up_batch(project: Project, batch_server: BatchServer, provider: str) -> None:
    ids = {}

    def rule(custom_id: str, body: dict[str, Any], attempt: int) -> Action | None:
        text = json.dumps(body)
        if "question 3" in text and attempt == 1:
            return Action(kind="status", status=500)  # a transient failure: retried in a follow-up batch
        if "question 7" in text:
            ids["refused"] = custom_id
            return Action(kind="status", status=400)  # refused: an api_error verdict, never retried
        return None

    batch_server.request_rule = rule
    s = judge(project, provider)
    assert s.stop_reason == "complete" and s.statuses == {"ok": 11, "api_error": 1}
    assert len(batch_server.creates) == 2
    second = batch_server.batches[batch_server.creates[1]].lines
    assert len(second) == 1 and "question 3" in json.dumps(body_of(second[0]))
    assert batch_server.submitted[ids["refused"]] == 1
    assert all(n == 1 for n in batch_server.paid.values()) and len(batch_server.paid) == 11
    bad = next(v for v in project.verdicts(s.run.name) if v.status == "api_error")
    assert bad.item_id == "q7" and "refused" in (bad.raw_reply or "")
    rows = run_batches(project, s.run.id)
    assert [r.round for r in rows] == [1, 2] and [r.n_retry for r in rows] == [1, 0]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_expired_batch_sends_its_unfinished_requests_again(
    project: Project, batch_server: BatchServer, provider: str
) -> None:
    batch_server.plans.append(BatchPlan(looks=2, outcome="expired", finished=0.5))
    s = judge(project, provider)
    assert s.stop_reason == "complete" and s.statuses == {"ok": 12}
    first, second = (batch_server.batches[b] for b in batch_server.creates)
    assert len(first.lines) == 12 and len(second.lines) == 6
    assert all(n == 1 for n in batch_server.paid.values()) and len(batch_server.paid) == 12
    rows = run_batches(project, s.run.id)
    assert rows[0].remote_status in ("expired", "ended") and rows[0].n_ok == 6 and rows[0].n_retry == 6


@pytest.mark.parametrize("provider", PROVIDERS)
def test_slow_batches_are_polled_until_they_end(project: Project, batch_server: BatchServer, provider: str) -> None:
    batch_server.plans.append(BatchPlan(looks=6))
    s = judge(project, provider)
    assert s.stop_reason == "complete"
    (bid,) = batch_server.creates
    assert batch_server.looks[bid] >= 6  # in_progress five times, then ended


def test_rounds_are_bounded_then_the_interactive_path_takes_over(project: Project, batch_server: BatchServer) -> None:
    batch_server.request_rule = lambda cid, body, n: (
        Action(kind="status", status=503) if "question 5" in json.dumps(body) else None
    )
    s = judge(project, "openai", batch=FAST.model_copy(update={"rounds": 2}))
    assert s.stop_reason == "complete" and s.statuses == {"ok": 12}
    assert len(batch_server.creates) == 2  # the first batch and one follow-up with the failing request
    assert batch_server.count == 1 and batch_server.requests[0].item == "question 5"  # then once interactively


def test_without_fallback_the_rest_waits_for_a_resume(project: Project, batch_server: BatchServer) -> None:
    batch_server.request_rule = lambda cid, body, n: (
        Action(kind="status", status=503) if "question 5" in json.dumps(body) else None
    )
    s = judge(project, "openai", batch=FAST.model_copy(update={"rounds": 1, "fallback": "none"}))
    assert s.stop_reason == "failures" and s.missing == 1 and batch_server.count == 0
    assert s.run.status == "interrupted"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_unreadable_replies_are_repaired_interactively(
    project: Project, batch_server: BatchServer, provider: str
) -> None:
    batch_server.request_rule = lambda cid, body, n: (
        Action(kind="text", text="I think it passes?") if "question 2" in json.dumps(body) else None
    )
    s = judge(project, provider)
    assert s.stop_reason == "complete" and s.statuses == {"ok": 12}
    assert batch_server.count == 1  # one interactive repair call, the batch reply sent back with the reason
    repair = batch_server.requests[0].body["messages"]
    assert repair[-2]["role"] == "assistant" and repair[-2]["content"] == "I think it passes?"
    assert "could not be read" in repair[-1]["content"]
    v = next(v for v in project.verdicts(s.run.name) if v.item_id == "q2")
    assert v.extra["parse_attempts"] == 2


def test_identical_requests_are_sent_once_and_paid_once(project: Project, batch_server: BatchServer) -> None:
    project.add_items([Item(id="dup", input="question 4", output="answer 4")])  # the same text as q4
    prices = PriceTable({"gpt-4.1-mini": Price(1.0, 2.0)})
    s = judge(project, "openai", prices=prices)
    assert s.statuses == {"ok": 13} and len(lines_of(batch_server, "openai")) == 12
    vs = {v.item_id: v for v in project.verdicts(s.run.name)}
    assert vs["dup"].label == vs["q4"].label
    assert sorted([vs["dup"].cost_usd, vs["q4"].cost_usd])[0] == 0.0  # one of them carries the cost
    (row,) = run_batches(project, s.run.id)
    assert sum(v.cost_usd or 0 for v in vs.values()) == pytest.approx(row.cost_usd)


def test_cost_is_counted_at_batch_prices(project: Project, batch_server: BatchServer) -> None:
    prices = PriceTable({"gpt-4.1-mini": Price(1.0, 2.0)})
    s = judge(project, "openai", prices=prices)
    vs = project.verdicts(s.run.name)
    tokens_in, tokens_out = sum(v.input_tokens or 0 for v in vs), sum(v.output_tokens or 0 for v in vs)
    list_price = (tokens_in * 1.0 + tokens_out * 2.0) / 1e6
    assert s.cost_usd == pytest.approx(list_price / 2) and s.run.meta["cost_usd"] == pytest.approx(list_price / 2)
    assert sum(v.cost_usd or 0 for v in vs) == pytest.approx(list_price / 2)
    assert all(not v.cache_hit for v in vs)
    custom = PriceTable({"gpt-4.1-mini": Price(1.0, 2.0, batch_input=0.2, batch_output=0.4)})
    other = judge(project, "openai", prices=custom, run_name="custom", use_cache=False)
    assert other.cost_usd == pytest.approx((tokens_in * 0.2 + tokens_out * 0.4) / 1e6)


def test_batches_stay_within_the_request_and_size_limits(
    project: Project, batch_server: BatchServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = judge(project, "openai", batch=FAST.model_copy(update={"max_requests": 5}))
    assert s.statuses == {"ok": 12}
    assert [len(batch_server.batches[b].lines) for b in batch_server.creates] == [5, 5, 2]
    longest = max(len(x) + 1 for fid, c in batch_server._contents.items() for x in c.splitlines())
    limit = int(4 * longest / 0.95) + 1  # room for four lines at most
    monkeypatch.setattr(OpenAIBatchApi, "max_bytes", limit)
    s = judge(project, "openai", run_name="small", use_cache=False)
    sizes = [len(batch_server.batches[b].lines) for b in batch_server.creates[3:]]
    assert sum(sizes) == 12 and max(sizes) == 4
    assert all(f["bytes"] <= limit for f in list(batch_server.files.values())[3:] if f["purpose"] == "batch")


def test_max_cost_holds_the_estimate_of_running_batches(project: Project, batch_server: BatchServer) -> None:
    prices = PriceTable({"gpt-4.1-mini": Price(1000.0, 1000.0)})  # a request's estimate is about $0.3
    s = judge(project, "openai", prices=prices, max_cost=1.5)
    assert s.stop_reason == "max_cost" and 1 <= s.judged < 12
    assert s.cost_usd <= 1.5
    assert len(lines_of(batch_server, "openai")) == s.judged


@pytest.mark.parametrize("provider", PROVIDERS)
def test_no_wait_returns_and_resume_collects(project: Project, batch_server: BatchServer, provider: str) -> None:
    batch_server.plans.append(BatchPlan(looks=3))
    s = judge(project, provider, batch=FAST.model_copy(update={"wait": False}))
    assert s.stop_reason == "batch_pending" and s.judged == 0 and s.run.status == "interrupted"
    assert [r.state for r in run_batches(project, s.run.id)] == ["submitted"]
    assert "submitted" in "\n".join(batch_lines(project, s.run))
    done = run_judge(project, resume=s.run.name, progress=False)  # waits: --no-wait is not kept with the run
    assert done.stop_reason == "complete" and done.judged == 12 and done.run.status == "complete"
    assert len(batch_server.creates) == 1 and sum(batch_server.submitted.values()) == 12


@pytest.mark.parametrize("provider", PROVIDERS)
def test_cancelling_a_run_cancels_its_batches(project: Project, batch_server: BatchServer, provider: str) -> None:
    batch_server.plans.append(BatchPlan(looks=50, finished=0.5))
    s = judge(project, provider, batch=FAST.model_copy(update={"wait": False}))
    report = asyncio.run(cancel_batches(project, project.run(s.run.name)))
    assert report.cancelled == batch_server.creates and batch_server.cancels == batch_server.creates
    run = project.run(s.run.name)
    assert run.status == "interrupted" and run.meta["stop_reason"] == "cancelled"
    assert "cancel requested" in "\n".join(batch_lines(project, run))
    # the resume collects what the cancelled batch finished (billed), then sends the rest in a new batch
    done = run_judge(project, resume=s.run.name, progress=False, batch=FAST)
    assert done.stop_reason == "complete" and done.judged == 12
    first, second = (batch_server.batches[b] for b in batch_server.creates)
    assert len(first.lines) == 12 and len(second.lines) == 6
    assert all(n == 1 for n in batch_server.paid.values()) and len(batch_server.paid) == 12


def test_a_failed_batch_stops_the_run_with_its_reason(project: Project, batch_server: BatchServer) -> None:
    batch_server.plans.append(BatchPlan(outcome="failed"))
    with pytest.raises(ProviderError, match="failed at the provider: scripted failure"):
        judge(project, "openai", run_name="f")
    assert project.run("f").status == "interrupted"
    done = run_judge(project, resume="f", progress=False, batch=FAST)
    assert done.stop_reason == "complete" and done.judged == 12 and len(batch_server.creates) == 2


@pytest.mark.parametrize("provider", PROVIDERS)
def test_runs_show_and_runs_cancel_on_the_command_line(
    project: Project, batch_server: BatchServer, provider: str, capsys: pytest.CaptureFixture[str]
) -> None:
    batch_server.plans.append(BatchPlan(looks=50))
    rubric = "rubrics/helpfulness_pass_fail.yaml"
    base = ["--db", str(project.path)]
    model = f"{provider}:{MODEL[provider]}"
    args = ["judge", "--rubric", rubric, "--model", model, "--confidence", "none", "--batch", "--no-wait"]
    assert main([*args, "--run-name", "b", "--quiet", *base]) == 0
    out = capsys.readouterr()
    assert "batches are running at the provider" in out.err and "judgekit judge --resume b --db" in out.err
    assert main(["runs", "show", "b", *base]) == 0
    shown = capsys.readouterr().out
    assert "batches: 1 (submitted 1); 12 requests" in shown and batch_server.creates[0] in shown
    lines = shown.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("batches:"))
    assert lines[first + 2].startswith("  jkb-") and lines[first + 3].startswith("    provider batch ")
    assert all(len(line) <= 80 for line in lines[first : first + 4])  # fits an 80-column terminal
    assert main(["runs", "cancel", "b", *base]) == 0
    out = capsys.readouterr().out
    assert "1 batch(es) cancelled at the provider" in out and f"judgekit judge --resume b --db {project.path}" in out
    assert batch_server.cancels == batch_server.creates


def test_servers_without_batch_endpoints_get_a_clear_message(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    without = BatchServer(batch_endpoints=False).start()  # answers 404, as vLLM or Ollama do
    plain = FakeLLMServer().start()  # answers every path with a chat completion
    silent = FakeLLMServer().start()
    silent.rules.append(lambda rec: Action(kind="hang"))  # never answers
    try:
        for srv, timeout in ((without, None), (plain, None), (silent, 1.0)):
            config = build_config(
                "openai-compatible", "llama3.1", PASS_FAIL, base_url=srv.openai_url, confidence="none"
            )
            error, match = (ConfigError, "has no batch API") if timeout is None else (ProviderError, "did not answer")
            with pytest.raises(error, match=rf"{match}.*run without --batch"):
                judge(project, "openai", config=config, timeout=timeout)
        assert project.runs() == []  # refused before anything was written
        code = main(
            [
                "judge",
                "--rubric",
                "rubrics/helpfulness_pass_fail.yaml",
                "--model",
                "openai-compatible:llama3.1",
                "--base-url",
                without.openai_url,
                "--batch",
                "--confidence",
                "none",
                "--db",
                str(project.path),
            ]
        )
        err = capsys.readouterr().err
        assert code == 2 and "has no batch API" in err and "Traceback" not in err and len(err.splitlines()) == 1
    finally:
        for srv in (without, plain, silent):
            srv.stop()


@pytest.mark.parametrize("provider", ["bedrock", "vertex", "gemini"])
def test_providers_without_a_batch_api_are_refused_up_front(
    project: Project, provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "x")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("CLOUD_ML_REGION", "us-east5")
    monkeypatch.setenv("ANTHROPIC_VERTEX_PROJECT_ID", "p")
    monkeypatch.setenv("GOOGLE_OAUTH_ACCESS_TOKEN", "t")
    monkeypatch.setenv("GEMINI_API_KEY", "k")
    config = build_config(provider, "m", PASS_FAIL, confidence="none")
    with pytest.raises(ConfigError, match=f"{provider} has no batch API"):
        judge(project, provider, config=config)
    assert project.runs() == []


def test_no_cache_still_keeps_the_batch_results(project: Project, batch_server: BatchServer) -> None:
    s = judge(project, "openai", use_cache=False)
    assert s.statuses == {"ok": 12}
    again = judge(project, "openai", use_cache=False, run_name="again")
    assert again.statuses == {"ok": 12} and len(batch_server.creates) == 2  # --no-cache: asked again
    assert Counter(batch_server.submitted.values()) == Counter({2: 12})


def test_a_run_waiting_on_its_batches_stops_when_cancelled(project: Project, batch_server: BatchServer) -> None:
    """``judgekit runs cancel`` from another process while ``judge --batch`` waits: the waiting run collects what
    the cancelled batch finished, submits nothing more and stops with ``cancelled``."""
    import threading

    batch_server.plans.append(BatchPlan(looks=10_000, finished=0.5))
    done: dict[str, Any] = {}

    def canceller() -> None:
        while not batch_server.looks:  # the waiting run has submitted and is polling
            time.sleep(0.01)
        with Project(project.path) as other:  # another connection, as another process would have
            done["report"] = asyncio.run(cancel_batches(other, other.run("w")))

    t = threading.Thread(target=canceller)
    t.start()
    s = judge(project, "openai", run_name="w")
    t.join(30)
    assert done["report"].cancelled == batch_server.creates and len(batch_server.creates) == 1
    assert s.stop_reason == "cancelled" and s.judged == 6 and s.run.status == "interrupted"
    assert batch_server.count == 0  # nothing sent interactively either


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_create_whose_reply_is_lost_is_found_not_repeated(
    project: Project, batch_server: BatchServer, provider: str
) -> None:
    """The create call times out although the provider made the batch: the run looks for it (OpenAI: by its input
    file; Anthropic: among unknown batches of the same size, adopted only once its results carry our custom ids, so
    a foreign batch of the same size made meanwhile is not taken for ours) instead of creating a second one."""
    if provider == "anthropic":  # someone else's batch of the same size, made just before ours
        import anthropic

        client = anthropic.Anthropic()
        foreign = [
            {"custom_id": f"other-{i}", "params": {"model": "m", "max_tokens": 5, "messages": []}} for i in range(12)
        ]
        client.messages.batches.create(requests=foreign)  # type: ignore[arg-type]
    batch_server.plans.append(BatchPlan(looks=3, lose_create_reply=True))
    s = judge(project, provider, timeout=1.0)
    assert s.stop_reason == "complete" and s.statuses == {"ok": 12}
    ours = [b for b in batch_server.creates if not batch_server.batches[b].lines[0]["custom_id"].startswith("other")]
    assert len(ours) == 1 and set(batch_server.submitted.values()) == {1}
    (row,) = run_batches(project, s.run.id)
    assert row.remote_id == ours[0] and row.state == "fetched"


def test_a_crash_while_writing_verdicts_loses_nothing_and_counts_no_cost_twice(
    project: Project, batch_server: BatchServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from judgekit.judging.batch import runner

    project.add_items([Item(id=f"dup{i}", input=f"question {i}", output=f"answer {i}") for i in range(12)])
    monkeypatch.setattr(runner, "WRITE_CHUNK", 5)
    real, calls = runner.BatchRunner._append, []

    def crashing(self: Any, verdicts: list[Any]) -> None:
        calls.append(len(verdicts))
        if len(calls) == 2:
            raise RuntimeError("killed between two verdict transactions")
        real(self, verdicts)

    monkeypatch.setattr(runner.BatchRunner, "_append", crashing)
    prices = PriceTable({"gpt-4.1-mini": Price(1.0, 2.0)})
    with pytest.raises(RuntimeError):
        judge(project, "openai", prices=prices, run_name="c")
    assert 0 < project.verdict_count(project.run("c").id) < 24
    monkeypatch.setattr(runner.BatchRunner, "_append", real)
    done = run_judge(project, resume="c", progress=False)
    assert done.stop_reason == "complete" and len(project.verdicts("c")) == 24
    assert set(batch_server.submitted.values()) == {1} and len(batch_server.creates) == 1  # 12 distinct requests
    (row,) = run_batches(project, done.run.id)
    assert sum(v.cost_usd or 0 for v in project.verdicts("c")) == pytest.approx(row.cost_usd)
    assert all(n % 2 == 0 for n in calls[:1])  # an item and its duplicate are written together
