"""The judge engine through the real openai / anthropic SDKs against the scripted loopback server."""

from __future__ import annotations

import io
import json

import pytest
from fake_llm_server import Action, FakeLLMServer

from conftest import bundled, single_items
from judgekit.errors import ConfigError, MissingKeyError, ProviderError
from judgekit.judging import PriceTable, build_config, pacing, run_judge
from judgekit.judging.pricing import Price
from judgekit.storage import Project

PASS_FAIL = bundled("helpfulness_pass_fail")
QUALITY = bundled("answer_quality_1to5")


def _cfg(provider: str = "openai", confidence: str = "none", **kw: object) -> object:
    model = "gpt-4.1-mini" if provider == "openai" else "claude-haiku-4-5"
    return build_config(provider, model, PASS_FAIL, confidence=confidence, **kw)  # type: ignore[arg-type]


def run(project: Project, cfg: object, **kw: object):  # type: ignore[no-untyped-def]
    kw.setdefault("progress", False)
    kw.setdefault("backoff_base", 0.01)
    return run_judge(project, cfg, rubric=PASS_FAIL, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_run_writes_one_verdict_per_item(project: Project, openai_env: FakeLLMServer, provider: str) -> None:
    s = run(project, _cfg(provider), concurrency=4)
    assert s.stop_reason == "complete" and s.statuses == {"ok": 12}
    assert s.run.status == "complete"
    vs = project.verdicts(s.run.name)
    assert len(vs) == 12 and all(v.label == "pass" and v.cost_usd and v.cost_usd > 0 for v in vs)
    assert openai_env.count == 12
    path = "/v1/chat/completions" if provider == "openai" else "/v1/messages"
    assert all(r.path == path for r in openai_env.requests)


def test_structured_output_requested_natively(project: Project, openai_env: FakeLLMServer) -> None:
    run(project, _cfg("openai"), limit=1)
    run(project, _cfg("anthropic"), limit=1)
    oa, an = (r.body for r in openai_env.requests)
    assert oa["response_format"]["type"] == "json_schema"
    assert oa["response_format"]["json_schema"]["schema"]["properties"]["label"]["enum"] == ["pass", "fail"]
    assert oa["response_format"]["json_schema"]["strict"] is True
    assert an["tool_choice"] == {"type": "tool", "name": "verdict"}
    assert an["tools"][0]["input_schema"]["properties"]["label"]["enum"] == ["pass", "fail"]
    assert "system" in an and all(m["role"] != "system" for m in an["messages"])
    assert oa["max_completion_tokens"] == 300 and an["max_tokens"] == 300


def test_rerun_is_served_from_cache_with_zero_requests(project: Project, openai_env: FakeLLMServer) -> None:
    first = run(project, _cfg(), concurrency=4)
    assert first.requests == 12
    openai_env.reset_counts()
    second = run(project, _cfg(), run_name="again")
    assert openai_env.count == 0 and second.requests == 0 and second.cache_hits == 12
    vs = project.verdicts("again")
    assert all(v.cache_hit and v.cost_usd == 0 for v in vs)
    assert [v.label for v in vs] == [v.label for v in project.verdicts(first.run.name)]


def test_cache_key_ignores_transport_but_not_output_params(project: Project, openai_env: FakeLLMServer) -> None:
    run(project, _cfg(), limit=2, concurrency=1, timeout=30)
    openai_env.reset_counts()
    run(project, _cfg(), limit=2, concurrency=7, rpm=6000, timeout=5, run_name="transport")
    assert openai_env.count == 0
    run(project, _cfg(parameters={"temperature": 0.5}), limit=2, run_name="hotter")
    assert openai_env.count == 2


def test_429_with_retry_after_ms_is_retried(project: Project, openai_env: FakeLLMServer) -> None:
    openai_env.script(
        Action(kind="status", status=429, headers={"retry-after-ms": "50"}),
        Action(kind="status", status=429, headers={"retry-after": "0.05"}),
    )
    s = run(project, _cfg(), limit=1)
    assert s.statuses == {"ok": 1} and s.errors == {"http_429": 2} and openai_env.count == 3
    gaps = [b.t - a.t for a, b in zip(openai_env.requests, openai_env.requests[1:], strict=False)]
    assert all(g >= 0.045 for g in gaps)


@pytest.mark.parametrize("provider,status", [("openai", 500), ("anthropic", 529), ("anthropic", 503)])
def test_server_errors_are_retried(project: Project, openai_env: FakeLLMServer, provider: str, status: int) -> None:
    openai_env.script(Action(kind="status", status=status), Action(kind="status", status=status))
    s = run(project, _cfg(provider), limit=1)
    assert s.statuses == {"ok": 1} and s.errors == {f"http_{status}": 2}


def test_timeout_is_retried(project: Project, openai_env: FakeLLMServer) -> None:
    openai_env.script(Action(kind="hang"))
    s = run(project, _cfg(), limit=1, timeout=0.3)
    assert s.statuses == {"ok": 1} and s.errors == {"timeout": 1}


def test_exhausted_retries_leave_item_missing_and_run_resumable(project: Project, openai_env: FakeLLMServer) -> None:
    openai_env.script(*[Action(kind="status", status=500)] * 3)
    s = run(project, _cfg(), limit=2, concurrency=1, max_retries=2)
    assert s.missing == 1 and s.stop_reason == "failures" and s.run.status == "interrupted"
    r = run_judge(project, resume=s.run.name, progress=False)
    assert r.missing == 0 and r.skipped == 1 and r.run.status == "complete"
    assert len(project.verdicts(s.run.name)) == 2


def test_bad_request_is_an_api_error_verdict_without_retry(project: Project, openai_env: FakeLLMServer) -> None:
    openai_env.script(Action(kind="status", status=400))
    s = run(project, _cfg(), limit=2, concurrency=1)
    assert s.statuses == {"api_error": 1, "ok": 1} and openai_env.count == 2


def test_bad_key_stops_the_run(project: Project, openai_env: FakeLLMServer) -> None:
    openai_env.rules.append(lambda r: Action(kind="status", status=401))
    with pytest.raises(ProviderError, match="401"):
        run(project, _cfg(), concurrency=2)
    assert openai_env.count <= 3


def test_unparseable_reply_becomes_parse_error_with_raw_text(project: Project, openai_env: FakeLLMServer) -> None:
    openai_env.script(*[Action(kind="text", text="I think it is probably fine")] * 3)
    s = run(project, _cfg(), limit=1)
    (v,) = project.verdicts(s.run.name)
    assert v.status == "parse_error" and v.label is None
    assert v.raw_reply is not None and "probably fine" in v.raw_reply
    assert openai_env.count == 3  # one call + 2 bounded repair attempts
    repair = openai_env.requests[1].body["messages"]
    assert repair[-2]["role"] == "assistant" and "could not be read" in repair[-1]["content"]


def test_label_outside_levels_is_never_coerced(project: Project, openai_env: FakeLLMServer) -> None:
    openai_env.script(*[Action(label="PASS!")] * 3)
    s = run(project, _cfg(), limit=1, parse_retries=2)
    (v,) = project.verdicts(s.run.name)
    assert v.status == "parse_error" and v.label is None and "PASS!" in (v.raw_reply or "")


def test_repair_attempt_can_succeed(project: Project, openai_env: FakeLLMServer) -> None:
    openai_env.script(Action(kind="malformed"), Action(kind="text", text="no json here"))
    s = run(project, _cfg(), limit=1)
    (v,) = project.verdicts(s.run.name)
    assert v.status == "ok" and v.extra.get("parse_attempts") == 2
    assert s.errors == {"bad_response": 1}


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.parametrize("body", ['{"id": "x"}', '{"choices": [], "content": "not a list"}', "[1, 2]"])
def test_json_reply_of_the_wrong_shape_is_retried(
    project: Project, openai_env: FakeLLMServer, provider: str, body: str
) -> None:
    openai_env.script(Action(kind="raw", text=body))
    s = run(project, _cfg(provider), limit=1)
    (v,) = project.verdicts(s.run.name)
    assert v.status == "ok" and v.label is not None
    assert s.errors == {"bad_response": 1} and openai_env.count == 2


def test_text_fallback_parses_json_in_prose(project: Project, openai_env: FakeLLMServer) -> None:
    openai_env.rules.append(
        lambda r: Action(kind="text", text='Sure!\n```json\n{"rationale": "ok", "label": "fail"}\n```')
    )
    s = run(project, _cfg(parameters={"structured": False}), limit=2)
    assert {v.label for v in project.verdicts(s.run.name)} == {"fail"}
    assert "response_format" not in openai_env.requests[0].body


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_refusal_is_stored_as_refused(project: Project, openai_env: FakeLLMServer, provider: str) -> None:
    openai_env.script(Action(kind="refusal", text="I won't grade this."))
    s = run(project, _cfg(provider), limit=1)
    (v,) = project.verdicts(s.run.name)
    assert v.status == "refused" and v.label is None and "won't" in (v.raw_reply or "")
    assert openai_env.count == 1  # a refusal is not retried


def test_cost_accounting(project: Project, openai_env: FakeLLMServer) -> None:
    prices = PriceTable({"gpt-4.1-mini": Price(1.0, 2.0)})
    s = run(project, _cfg(), limit=3, prices=prices)
    vs = project.verdicts(s.run.name)
    for v in vs:
        assert v.cost_usd == pytest.approx((v.input_tokens * 1.0 + v.output_tokens * 2.0) / 1e6)
    assert s.cost_usd == pytest.approx(sum(v.cost_usd or 0 for v in vs))
    assert project.run(s.run.name).meta["cost_usd"] == pytest.approx(s.cost_usd)


def test_price_file_override(tmp_path, project: Project, openai_env: FakeLLMServer) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "p.toml"
    f.write_text('["my-model"]\ninput = 1000.0\noutput = 0.0\n')
    table = PriceTable.load(f)
    assert table.cost("my-model", 1000, 5) == pytest.approx(1.0)
    assert table.cost("gpt-4.1-mini-2025-04-14", 1_000_000, 0) == pytest.approx(0.40)
    assert table.cost("unknown-model", 1, 1) is None


def test_max_cost_stops_cleanly(project: Project, openai_env: FakeLLMServer) -> None:
    prices = PriceTable({"gpt-4.1-mini": Price(1000.0, 1000.0)})  # ~0.25-0.6 USD per item
    s = run(project, _cfg(), prices=prices, max_cost=2.0, concurrency=2)
    assert s.stop_reason == "max_cost" and s.run.status == "interrupted"
    assert 0 < s.judged < 12 and s.cost_usd <= 2.0
    assert len(project.verdicts(s.run.name)) == s.judged


def test_max_cost_needs_a_known_price(project: Project, openai_env: FakeLLMServer) -> None:
    cfg = build_config("openai", "mystery-model", PASS_FAIL)
    with pytest.raises(ConfigError, match="price"):
        run(project, cfg, max_cost=1.0)
    assert openai_env.count == 0


@pytest.mark.parametrize("provider,var", [("openai", "OPENAI_API_KEY"), ("anthropic", "ANTHROPIC_API_KEY")])
def test_missing_key_names_the_env_var(project: Project, provider: str, var: str) -> None:
    with pytest.raises(MissingKeyError, match=var):
        run(project, _cfg(provider))
    assert project.runs() == []  # nothing written


def test_logprobs_confidence(project: Project, openai_env: FakeLLMServer) -> None:
    openai_env.rules.append(lambda r: Action(label="fail", probs={"fail": 0.6, "pass": 0.3, "x": 0.1}))
    s = run(project, _cfg(confidence="logprobs"), limit=2)
    body = openai_env.requests[0].body
    assert body["logprobs"] is True and body["top_logprobs"] == 10
    assert next(iter(body["response_format"]["json_schema"]["schema"]["properties"])) == "label"
    v = project.verdicts(s.run.name)[0]
    assert v.confidence_source == "logprobs" and v.confidence == pytest.approx(0.6 / 0.9)
    assert v.extra["label_probs"] == {"pass": pytest.approx(1 / 3), "fail": pytest.approx(2 / 3)}


def test_logprobs_refused_up_front_for_anthropic(project: Project, openai_env: FakeLLMServer) -> None:
    with pytest.raises(ConfigError, match="log-probabilities"):
        run(project, _cfg("anthropic", confidence="logprobs"))
    assert openai_env.count == 0 and project.runs() == []


def test_verbalized_confidence(project: Project, openai_env: FakeLLMServer) -> None:
    openai_env.rules.append(lambda r: Action(confidence=0.7))
    s = run(project, _cfg("anthropic", confidence="verbalized"), limit=1)
    (v,) = project.verdicts(s.run.name)
    assert v.confidence == 0.7 and v.confidence_source == "verbalized"


def test_sampling_confidence_is_agreement_of_samples(project: Project, openai_env: FakeLLMServer) -> None:
    openai_env.script(Action(label="fail"), Action(label="pass"), Action(label="fail"), Action(kind="refusal"))
    s = run(project, _cfg(confidence="sampling", samples=4), limit=1)
    (v,) = project.verdicts(s.run.name)
    assert v.label == "fail" and v.confidence == pytest.approx(2 / 3) and v.confidence_source == "sampling"
    assert v.extra["sample_labels"] == ["fail", "pass", "fail", None] and v.extra["samples_failed"] == 1
    assert all(r.body["temperature"] == 1.0 for r in openai_env.requests)
    openai_env.reset_counts()
    run(project, _cfg(confidence="sampling", samples=4), limit=1, run_name="again")
    assert openai_env.count == 0  # each sample index is its own cache entry


def test_rpm_bucket_paces_requests(
    project: Project, openai_env: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine passes every call through the rpm bucket: recorded grants, on the bucket's own clock, never
    exceed the burst plus the rate over any stretch of the run (a loaded machine only spreads them further). The
    bucket's exact schedule on a fake clock: test_pacing.py."""
    grants: list[tuple[pacing.TokenBucket, float]] = []
    acquire = pacing.TokenBucket.acquire

    async def acquire_and_record(self: pacing.TokenBucket, amount: float = 1.0) -> None:
        await acquire(self, amount)
        grants.append((self, self.updated))  # the refill time at which the token was taken

    monkeypatch.setattr(pacing.TokenBucket, "acquire", acquire_and_record)
    run(project, _cfg(), limit=8, concurrency=8, rpm=600)  # 10/s, burst 10 -> 8 at once
    fast = [t for _, t in grants]
    grants.clear()
    run(project, _cfg(parameters={"temperature": 0.1}), limit=12, concurrency=8, rpm=300, run_name="slow")
    assert len(openai_env.requests) == 8 + 12 and len(fast) == 8
    buckets = {id(b): b for b, _ in grants}
    assert len(buckets) == 1 and len(grants) == 12
    bucket = grants[0][0]
    assert bucket.rate == pytest.approx(5.0) and bucket.capacity == pytest.approx(5.0)  # rpm 300: 5/s, burst 5
    t = sorted(t for _, t in grants)
    for i in range(len(t)):
        for j in range(i, len(t)):
            assert j - i + 1 <= bucket.capacity + bucket.rate * (t[j] - t[i]) + 1e-6, (i, j, t)
    assert t[-1] - t[0] >= (12 - 5) / 5 - 1e-6  # 12 requests: 7 beyond the burst, at 5 per second


def test_adaptive_concurrency_backs_off_on_429(project: Project, openai_env: FakeLLMServer) -> None:
    openai_env.script(*[Action(kind="status", status=429, headers={"retry-after-ms": "20"})] * 6)
    s = run(project, _cfg(), concurrency=8)
    assert s.statuses == {"ok": 12} and s.errors["http_429"] == 6


def test_progress_line(project: Project, openai_env: FakeLLMServer) -> None:
    buf = io.StringIO()
    run(project, _cfg(), limit=3, progress=True, stream=buf)
    line = buf.getvalue().strip().splitlines()[-1]
    assert line.startswith("judged 3/3") and "cost $" in line and "ETA" in line and "errors: none" in line


def test_resume_in_process_skips_done_items(project: Project, openai_env: FakeLLMServer) -> None:
    s = run(project, _cfg(), limit=5, sample=None)
    openai_env.reset_counts()
    r = run_judge(project, resume=s.run.name, progress=False)
    assert r.skipped == 5 and r.judged == 0 and openai_env.count == 0


def test_sample_is_seeded_and_reproducible(project: Project, openai_env: FakeLLMServer) -> None:
    a = run(project, _cfg(), sample=5, seed=3, run_name="a")
    b = run(project, _cfg(), sample=5, seed=3, run_name="b")
    ids = lambda name: [v.item_id for v in project.verdicts(name)]  # noqa: E731
    assert ids("a") == ids("b") and len(ids("a")) == 5 and a.total == 5 and b.cache_hits == 5


def test_ordinal_rubric_and_openai_compatible_base_url(project: Project, server: FakeLLMServer) -> None:
    cfg = build_config("openai-compatible", "llama3", QUALITY, base_url=server.openai_url, confidence="none")
    s = run_judge(project, cfg, rubric=QUALITY, progress=False, items=single_items(3))
    assert s.statuses == {"ok": 3}
    assert {v.label for v in project.verdicts(s.run.name)} == {"1"}


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_one_pooled_client_per_run_sized_to_the_concurrency(
    project: Project, openai_env: FakeLLMServer, provider: str, transport: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from judgekit.judging import make_adapter
    from judgekit.judging.providers.base import pool_limits

    monkeypatch.setenv("JUDGEKIT_HTTP_TRANSPORT", transport)
    adapter = make_adapter(provider, "m", max_connections=256)
    http = adapter.client._client  # type: ignore[attr-defined]
    if transport == "aiohttp":
        assert "AioHttp" in type(http).__name__  # the SDK's DefaultAioHttpClient, not its httpx2 default
        limits = http._transport.limits
        assert (limits.max_connections, limits.max_keepalive_connections) == pool_limits(256) == (1000, 256)
    else:
        pool = http._transport._pool
        assert (pool._max_connections, pool._max_keepalive_connections) == pool_limits(256) == (1000, 256)
    # the whole run goes through that one client: 64 calls over at most 16 connections, none reopened
    built: list[object] = []
    orig = adapter.complete

    async def counting(request):  # type: ignore[no-untyped-def]
        built.append(adapter.client)
        return await orig(request)

    adapter.complete = counting  # type: ignore[method-assign]
    items = single_items(64, prefix="pool")
    project.add_items(items)
    cfg = build_config(provider, "m", bundled("helpfulness_pass_fail"), confidence="none")
    before = openai_env.connections
    run_judge(project, cfg, items=items, adapter=adapter, concurrency=16, progress=False)
    assert len(built) == 64 and len({id(c) for c in built}) == 1
    assert openai_env.connections - before <= 16


def test_http_transport_is_chosen_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from judgekit.errors import ConfigError
    from judgekit.judging.providers.base import http_transport

    monkeypatch.delenv("JUDGEKIT_HTTP_TRANSPORT", raising=False)
    assert http_transport() == "aiohttp"
    monkeypatch.setenv("JUDGEKIT_HTTP_TRANSPORT", "HTTPX")
    assert http_transport() == "httpx"
    monkeypatch.setenv("JUDGEKIT_HTTP_TRANSPORT", "requests")
    with pytest.raises(ConfigError, match="JUDGEKIT_HTTP_TRANSPORT must be 'aiohttp' or 'httpx'"):
        http_transport()


def test_cache_buffers_replies_until_flushed(project: Project) -> None:
    from judgekit.judging import ResponseCache
    from judgekit.judging.providers import ProviderReply

    cache = ResponseCache(project)
    cache.put("k1", "openai", "m", ProviderReply(text='{"label": "pass"}', input_tokens=3), 0.001)
    assert cache.get("k1") is not None and cache.pending == 1 and cache.size() == 0  # seen before it is written
    cache.flush()
    assert cache.pending == 0 and cache.size() == 1
    assert ResponseCache(project).get("k1") == ProviderReply(text='{"label": "pass"}', input_tokens=3)


def test_cache_keyer_gives_the_keys_of_cache_key() -> None:
    from judgekit.judging.cache import CacheKeyer, cache_key
    from judgekit.judging.providers import ProviderRequest
    from judgekit.judging.schema import reply_schema

    template = ProviderRequest(
        messages=(),
        max_tokens=300,
        temperature=0.0,
        schema=reply_schema(PASS_FAIL, verbalized=True),
        seed=7,
        extra={"top_p": 0.5},
    )
    keyer = CacheKeyer("openai", "http://x/v1/", "m", template)
    shared = ({"role": "system", "content": "rubric " * 500}, {"role": "user", "content": "example"})
    cases = [
        (),
        ({"role": "user", "content": 'é "quoted" \x00'},),
        ({"role": "system", "content": "s"},) * 3,
        # a run's requests share their first messages (memoised) and differ in the last; asked twice, in turn
        *[
            (*shared, {"role": "assistant", "content": '{"label": "pass"}'}, {"role": "user", "content": f"item {i}"})
            for i in (1, 2, 1)
        ],
        ({"role": "user", "content": "x", "name": "n"}, {"role": "user", "content": "item"}),
    ]
    for msgs in cases:
        request = ProviderRequest(**{**template.__dict__, "messages": msgs})
        for sample in (0, 3):
            assert keyer.key(msgs, sample) == cache_key("openai", "http://x/v1/", "m", request, sample)
    assert keyer.key(cases[3], 0) != keyer.key(cases[4], 0)


@pytest.mark.parametrize("verbalized", [False, True])
def test_parser_fast_path_agrees_with_the_reply_model(verbalized: bool) -> None:
    from judgekit.judging.parse import ReplyParser
    from judgekit.judging.providers import ProviderReply

    parser = ReplyParser(PASS_FAIL, verbalized=verbalized)
    objects = [
        {"rationale": "r", "label": "pass", "confidence": 0.7},
        {"rationale": "", "label": " fail ", "confidence": 1},
        {"rationale": "r", "label": "maybe", "confidence": 0.5},
        {"rationale": 3, "label": "pass", "confidence": 0.5},
        {"rationale": "r", "label": "pass", "confidence": 1.5},
        {"rationale": "r", "label": "pass", "confidence": "0.5"},
        {"rationale": "r", "label": "pass", "confidence": 0.5, "other": 1},
        {"label": "pass", "confidence": True},
    ]
    for obj in objects:
        fast = parser.parse(ProviderReply(text=json.dumps(obj)))
        # what the parser did before the fast path: drop an unasked confidence, strip the label, validate
        slow = {k: v for k, v in obj.items() if verbalized or k != "confidence"}
        slow = {"rationale": "", **slow, "label": str(obj["label"]).strip()}
        try:
            data = parser.model.model_validate(slow).model_dump()
        except ValueError:
            assert fast.status == "parse_error", obj
            continue
        assert fast.status == "ok" and fast.label == data["label"], obj
        assert fast.rationale == (data["rationale"] or None)
        assert fast.confidence == (float(data["confidence"]) if verbalized else None)
