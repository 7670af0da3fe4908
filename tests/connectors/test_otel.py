"""OpenTelemetry GenAI: OTLP JSON spans and ``gen_ai.evaluation.result`` events (documented format), and export.

Sources of the format: OpenTelemetry semantic conventions for generative AI (``model/gen-ai/events.yaml``:
``gen_ai.evaluation.result`` with ``gen_ai.evaluation.name``, ``.score.label``, ``.score.value``,
``.explanation``, ``gen_ai.response.id``; the GenAI span attributes ``gen_ai.input.messages`` /
``gen_ai.output.messages`` / ``gen_ai.system_instructions`` with typed ``parts``) and the OTLP/JSON encoding
(hex trace/span ids, ``intValue`` as a string, camelCase field names) as the Collector's file exporter writes it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from judgekit.cli import main
from judgekit.connectors import import_bundle
from judgekit.connectors.otel import any_value, attributes, export_otel, read_otel
from judgekit.storage import Project
from tests.connectors.conftest import pass_fail
from tests.helpers import rubric

TRACE = "5b8efff798038103d269b633813fc60c"


def kv(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def chat_span(span_id: str, question: str, answer_parts: list[dict[str, Any]], events: list | None = None) -> dict:
    return {
        "traceId": TRACE,
        "spanId": span_id,
        "name": "chat gpt-4o",
        "kind": 3,
        "startTimeUnixNano": "1764756000000000000",
        "endTimeUnixNano": "1764756001000000000",
        "attributes": [
            kv("gen_ai.operation.name", "chat"),
            kv("gen_ai.response.id", f"chatcmpl-{span_id}"),
            kv("gen_ai.system_instructions", json.dumps([{"type": "text", "content": "Answer briefly."}])),
            kv(
                "gen_ai.input.messages",
                json.dumps([{"role": "user", "parts": [{"type": "text", "content": question}]}]),
            ),
            kv(
                "gen_ai.output.messages",
                json.dumps([{"role": "assistant", "parts": answer_parts, "finish_reason": "stop"}]),
            ),
            kv("gen_ai.usage.input_tokens", 12),
        ],
        "events": events or [],
    }


def evaluation(label: str, *, span: str | None, explanation: str = "", extra: dict | None = None) -> dict[str, Any]:
    attrs = [
        kv("gen_ai.evaluation.name", "relevance"),
        kv("gen_ai.evaluation.score.label", label),
        kv("gen_ai.evaluation.score.value", 1.0 if label == "relevant" else 0.0),
    ]
    if explanation:
        attrs.append(kv("gen_ai.evaluation.explanation", explanation))
    attrs += [kv(k, v) for k, v in (extra or {}).items()]
    rec: dict[str, Any] = {
        "timeUnixNano": "1764756100000000000",
        "eventName": "gen_ai.evaluation.result",
        "attributes": attrs,
    }
    if span:
        rec["traceId"], rec["spanId"] = TRACE, span
    return rec


def documents(tmp_path: Path) -> tuple[Path, Path]:
    spans = {
        "resourceSpans": [
            {
                "resource": {"attributes": [kv("service.name", "support-bot")]},
                "scopeSpans": [
                    {
                        "scope": {"name": "opentelemetry.instrumentation.openai_v2"},
                        "spans": [
                            chat_span("00f067aa0ba902b7", "Capital of France?", [{"type": "text", "content": "Paris"}]),
                            chat_span(
                                "00f067aa0ba902b8",
                                "Weather in Rome?",
                                [
                                    {
                                        "type": "tool_call",
                                        "id": "call_1",
                                        "name": "weather",
                                        "arguments": {"city": "Rome"},
                                    }
                                ],
                                events=[
                                    {
                                        "name": "gen_ai.evaluation.result",
                                        "timeUnixNano": "1764756200000000000",
                                        "attributes": [
                                            kv("gen_ai.evaluation.name", "relevance"),
                                            kv("gen_ai.evaluation.score.label", "relevant"),
                                        ],
                                    }
                                ],
                            ),
                            {"traceId": TRACE, "spanId": "00f067aa0ba902b9", "name": "db query", "attributes": []},
                        ],
                    }
                ],
            }
        ]
    }
    logs = {
        "resourceLogs": [
            {
                "resource": {"attributes": [kv("service.name", "evaluators")]},
                "scopeLogs": [
                    {
                        "scope": {"name": "deepeval"},
                        "logRecords": [
                            evaluation("relevant", span="00f067aa0ba902b7", explanation="names the capital"),
                        ],
                    },
                    {
                        "scope": {"name": "review-ui"},
                        "logRecords": [
                            evaluation(
                                "relevant",
                                span="00f067aa0ba902b7",
                                extra={"evaluator.kind": "human", "user.id": "alice"},
                            ),
                            evaluation(
                                "not_relevant",
                                span=None,
                                extra={
                                    "evaluator.kind": "human",
                                    "user.id": "bob",
                                    "gen_ai.response.id": "chatcmpl-00f067aa0ba902b8",
                                },
                            ),
                            {
                                "timeUnixNano": "1",
                                "eventName": "gen_ai.client.inference.operation.details",
                                "attributes": [],
                            },
                        ],
                    },
                ],
            }
        ]
    }
    a, b = tmp_path / "traces.json", tmp_path / "logs.jsonl"
    a.write_text(json.dumps(spans))
    b.write_text(json.dumps(logs) + "\n")  # the file exporter writes one document per line
    return a, b


VALUES = {"relevant": "pass", "not_relevant": "fail"}


def test_any_values_decode() -> None:
    assert attributes(
        [
            kv("a", 3),
            kv("b", "x"),
            {"key": "c", "value": {"arrayValue": {"values": [{"boolValue": True}]}}},
            {"key": "d", "value": {"kvlistValue": {"values": [kv("e", 1.5)]}}},
        ]
    ) == {"a": 3, "b": "x", "c": [True], "d": {"e": 1.5}}
    assert any_value({"intValue": "12"}) == 12


def test_events_become_labels_and_verdicts_by_explicit_rule(tmp_path: Path, project: Project) -> None:
    traces, logs = documents(tmp_path)
    bundle = read_otel(
        [traces, logs],
        pass_fail("relevance", value_map=VALUES),
        human_when={"evaluator.kind": "human"},
        others="judge",
        author_attribute="user.id",
    )
    result = import_bundle(project, bundle, rubric())
    items = {it.id: it for it in project.items()}
    assert set(items) == {"00f067aa0ba902b7", "00f067aa0ba902b8"}  # the db span has no GenAI output
    first = items["00f067aa0ba902b7"]
    assert first.messages is not None and [(m.role, m.text()) for m in first.messages] == [
        ("system", "Answer briefly."),
        ("user", "Capital of France?"),
        ("assistant", "Paris"),
    ]
    second = items["00f067aa0ba902b8"].messages
    assert second is not None and second[-1].tool_calls[0].arguments == {"city": "Rome"}
    assert first.metadata.extra == {
        "otel_trace_id": TRACE,
        "otel_span_id": "00f067aa0ba902b7",
        "gen_ai_response_id": "chatcmpl-00f067aa0ba902b7",
    }
    labels = {(lab.item_id, lab.annotator): lab.label for lab in project.labels()}
    # bob's event names the response id instead of a parent span: it is matched to the span
    assert labels == {("00f067aa0ba902b7", "alice"): "pass", ("00f067aa0ba902b8", "bob"): "fail"}
    runs = {r.name: {v.item_id: v.label for v in project.verdicts(r)} for r in project.runs()}
    # one run per evaluator (its instrumentation scope); the span event is a verdict of its own scope
    assert runs == {
        "otel:relevance:deepeval": {"00f067aa0ba902b7": "pass"},
        "otel:relevance:opentelemetry.instrumentation.openai_v2": {"00f067aa0ba902b8": "pass"},
    }
    assert project.verdicts("otel:relevance:deepeval")[0].rationale == "names the capital"
    assert result.labels.added == 2


def test_without_an_authorship_rule_nothing_is_guessed(tmp_path: Path, project: Project) -> None:
    traces, logs = documents(tmp_path)
    bundle = read_otel([traces, logs], pass_fail("relevance", value_map=VALUES))
    assert bundle.labels == [] and bundle.verdicts == {}
    assert sum(bundle.skipped.values()) == 4


def test_export_is_one_event_per_verdict_and_imports_back(tmp_path: Path, project: Project) -> None:
    traces, logs = documents(tmp_path)
    m = pass_fail("relevance", value_map=VALUES, run="evals")
    import_bundle(project, read_otel([traces, logs], m, judge_when={"otel.scope.name": "deepeval"}), rubric())
    text = export_otel(project, "evals", verdict="NOT TRUSTED")
    assert export_otel(project, "evals", verdict="NOT TRUSTED") == text  # deterministic
    doc = json.loads(text)
    records = doc["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
    assert len(records) == len(project.verdicts("evals")) == 1
    first = attributes(records[0]["attributes"])
    assert records[0]["eventName"] == "gen_ai.evaluation.result" and records[0]["spanId"] == "00f067aa0ba902b7"
    assert first["gen_ai.evaluation.name"] == "helpfulness-pass-fail"
    assert first["gen_ai.evaluation.score.label"] == "pass" and first["gen_ai.evaluation.score.value"] == 1.0
    assert first["judgekit.judge.fingerprint"] == project.run("evals").fingerprint
    assert first["judgekit.trust.verdict"] == "NOT TRUSTED"
    # the exported events read back as the same verdicts on the same spans
    out = tmp_path / "exported.json"
    out.write_text(text)
    again = read_otel([traces, out], pass_fail("helpfulness-pass-fail", run="back"), others="judge")
    fresh = Project(tmp_path / "fresh.db")
    import_bundle(fresh, again, rubric())
    assert [(v.item_id, v.label) for v in fresh.verdicts("back")] == [
        (v.item_id, v.label) for v in project.verdicts("evals")
    ]


def test_cli_import_and_exports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    traces, logs = documents(tmp_path)
    db = str(tmp_path / "c.db")
    assert (
        main(
            [
                "import",
                "otel",
                str(traces),
                str(logs),
                "--score",
                "relevance",
                "--value-map",
                "relevant=pass",
                "--value-map",
                "not_relevant=fail",
                "--rubric",
                "rubrics/helpfulness_pass_fail.yaml",
                "--human-when",
                "evaluator.kind=human",
                "--author-attribute",
                "user.id",
                "--judge-when",
                "otel.scope.name=deepeval",
                "--db",
                db,
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "otel: run otel:relevance: verdicts: 1 read, 1 added" in out and "left out 1" in out
    assert (
        main(
            ["export", "otel", "--run", "otel:relevance", "--db", db, "--with-verdict", "-o", str(tmp_path / "ev.json")]
        )
        == 0
    )
    rec = json.loads((tmp_path / "ev.json").read_text())["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
    assert attributes(rec["attributes"])["judgekit.trust.verdict"] in ("NOT TRUSTED", "INSUFFICIENT EVIDENCE")
    assert main(["export", "trust-summary", "--db", db]) == 0
    summary = json.loads(capsys.readouterr().out)
    ((fingerprint, entry),) = summary.items()
    assert len(fingerprint) == 16 and entry["runs"][0]["run"] == "otel:relevance"
    from judgekit.agreement import assess_run

    assert entry["runs"][0]["verdict"] == assess_run(Project(db), "otel:relevance").verdict  # the one home's verdict
    assert entry["runs"][0]["verdict"] != "TRUSTED" and entry["runs"][0]["criteria"]
    assert (
        main(
            [
                "import",
                "otel",
                str(traces),
                "--score",
                "relevance",
                "--rubric",
                "rubrics/helpfulness_pass_fail.yaml",
                "--human-when",
                "novalue",
                "--db",
                db,
            ]
        )
        == 2
    )
