"""The align commands end to end through ``judgekit.cli.main`` on the scripted world: explain (no LLM), align with
its exit codes, alignments, and the scripted server's documented rules."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request

import pytest

from judgekit.cli import main
from judgekit.judging.prompts import build_messages
from judgekit.models import Item
from judgekit.testing.scripted_llm import ScriptedLLMServer
from tests.align.world import HEDGE, World


def test_explain_names_the_hedges_on_dev_only(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    w = world
    w.project.close()
    assert main(["explain", "start", "--db", str(w.path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["where"] == f"the dev part of split {w.split.key}" and report["n_items"] == w.split.n_dev
    top = report["largest"][0]
    assert top["key"] == "fail -> pass" and top["gap_share"]["value"] > 0.5
    assert all(w.classes[i] == "hedge" for i in top["item_ids"][:10])
    assert main(["explain", "start", "--db", str(w.path)]) == 0
    out = capsys.readouterr().out
    assert "people say fail, the judge says pass" in out and max(len(x) for x in out.splitlines()) <= 80
    assert requests_made(w) == 0  # no LLM


def requests_made(w: World) -> int:
    return len(w.server.requests)


def test_align_cli_exit_codes_and_the_record(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    w = world
    w.project.close()
    base = ["align", "start", "--db", str(w.path), "--split", w.split.key, "--judge-model", "openai:gpt-4o-mini"]
    base += ["--base-url", w.server.openai_url, "--model", "openai:gpt-4o-mini", "--strategies", "rules", "--quiet"]
    assert main([*base, "--max-cost", "0.001"]) == 4  # stopped by the budget
    assert main(base) == 0
    out = capsys.readouterr().out
    assert "CONFIRMED ON TEST" in out and "helpfulness-pass-fail@2" in out
    assert main(["alignments", "--db", str(w.path)]) == 0
    assert "align-1" in capsys.readouterr().out
    assert main(["alignments", "align-1", "--db", str(w.path), "--diff"]) == 0
    assert "--- rules ---" in capsys.readouterr().out
    assert main(["alignments", "align-9", "--db", str(w.path)]) == 2
    assert main(["align", "start", "--db", str(w.path), "--split", "nope"]) == 2


def test_the_scripted_judge_decides_a_class_only_when_a_rule_or_example_teaches_it(world: World) -> None:
    w = world
    hedge = w.project.items(["q003"])[0]
    assert w.classes[hedge.id] == "hedge"
    schema = {
        "type": "json_schema",
        "json_schema": {"name": "verdict", "schema": {"properties": {"label": {"enum": ["pass", "fail"]}}}},
    }

    def answer(rules: list[str], examples: list[Item] = ()) -> str:  # type: ignore[assignment]
        r = w.rubric.model_copy(update={"decision_rules": rules})
        messages = build_messages(r, hedge)
        for ex in examples:  # an earlier user turn holding a hedge plays a few-shot example
            messages.insert(1, build_messages(r, ex)[-1])
        status, reply = w.server.handle(
            "/v1/chat/completions", {"model": "gpt-4o-mini", "messages": messages, "response_format": schema}
        )
        assert status == 200
        return str(json.loads(reply["choices"][0]["message"]["content"])["label"])

    assert answer([]) == "pass"  # the mistake
    assert answer(["Answer carefully."]) == "pass"  # a rule about something else does not help
    assert answer([HEDGE.rule]) == "fail"
    assert answer([], [w.project.items(["q006"])[0]]) == "fail"
    assert answer([], [w.project.items(["q001"])[0]]) == "pass"  # an ordinary example does not teach hedges


def test_dev_server_on_a_taken_port_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["dev-server", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot serve on 127.0.0.1:{port}" in err and "--port" in err and "Traceback" not in err


def test_the_scripted_server_over_http_health_requests_and_bad_bodies() -> None:
    with ScriptedLLMServer() as server:
        assert _get(f"{server.url}/health") == (200, {"ok": True})
        assert _get(f"{server.url}/nowhere")[0] == 404
        req = urllib.request.Request(f"{server.openai_url}/chat/completions", data=b"[1, 2", method="POST")
        with pytest.raises(urllib.error.HTTPError) as bad:
            urllib.request.urlopen(req, timeout=30)
        assert bad.value.code == 400
        assert _get(f"{server.url}/_requests") == (200, {"requests": []})


def _get(url: str) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(url, timeout=30) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())
