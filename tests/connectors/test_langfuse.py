"""Langfuse: traces and scores in the public API's JSON (documented format, checked against langfuse's own models).

Source of the format: Langfuse public API (``GET /api/public/traces``, ``GET /api/public/v2/scores``), the
``Score`` union of the ``langfuse`` SDK (``langfuse.api.Score``: NUMERIC / CATEGORICAL / BOOLEAN / CORRECTION / TEXT,
``source`` ANNOTATION / API / EVAL). Langfuse's server needs PostgreSQL, ClickHouse and Redis, so the test uses the
documented format instead of a live server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from judgekit.cli import main
from judgekit.connectors import import_bundle
from judgekit.connectors.langfuse import read_langfuse
from judgekit.errors import InputError, UserError
from judgekit.storage import Project
from tests.connectors.conftest import pass_fail
from tests.helpers import rubric

T0 = "2026-11-02T10:00:00.000Z"
TRACES = [
    {
        "id": "tr-1",
        "name": "support-bot",
        "timestamp": T0,
        "sessionId": "s-9",
        "input": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Where is my order 42?"}],
        "output": {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": '{"order": 42}'}}
            ],
        },
        "metadata": {},
        "observations": [
            {
                "id": "obs-1",
                "type": "GENERATION",
                "name": "answer",
                "startTime": T0,
                "input": "order 42?",
                "output": "It ships <b>today</b>.",
            }
        ],
    },
    {"id": "tr-2", "name": "support-bot", "timestamp": T0, "input": "Refund?", "output": "No.", "metadata": {}},
]


def _score(sid: str, trace: str, source: str, value: float, *, at: str, author: str | None = None, **kw: Any) -> dict:
    return {
        "id": sid,
        "traceId": trace,
        "name": kw.pop("name", "helpful"),
        "source": source,
        "dataType": kw.pop("dataType", "BOOLEAN"),
        "value": value,
        "stringValue": kw.pop("stringValue", "True" if value else "False"),
        "timestamp": at,
        "createdAt": at,
        "updatedAt": at,
        "authorUserId": author,
        "comment": kw.pop("comment", None),
        "metadata": kw.pop("metadata", {}),
        "environment": "default",
        **kw,
    }


SCORES = [
    _score("s1", "tr-1", "EVAL", 1, at="2026-11-02T10:01:00Z", comment="calls the right tool", configId="cfg-judge"),
    _score("s2", "tr-1", "ANNOTATION", 0, at="2026-11-02T11:00:00Z", author="alice", comment="should answer"),
    _score("s3", "tr-1", "ANNOTATION", 1, at="2026-11-02T11:05:00Z", author="bob"),
    _score("s4", "tr-2", "EVAL", 0, at="2026-11-02T10:01:00Z", configId="cfg-judge"),
    _score("s5", "tr-2", "ANNOTATION", 1, at="2026-11-02T12:00:00Z", author="alice", metadata={"overrides": "s4"}),
    _score("s6", "tr-2", "API", 1, at="2026-11-02T12:00:00Z"),
    _score("s7", "tr-1", "ANNOTATION", 0, at="2026-11-02T12:00:00Z", author="carol", observationId="obs-1"),
    _score(
        "s8",
        "tr-1",
        "ANNOTATION",
        0,
        at="2026-11-02T12:00:00Z",
        author="alice",
        dataType="CORRECTION",
        stringValue="It ships tomorrow.",
    ),
    _score("s9", "tr-2", "ANNOTATION", 4, at="2026-11-02T12:00:00Z", author="bob", name="tone", dataType="NUMERIC"),
]
VALUES = {"true": "pass", "false": "fail"}


def test_fixture_follows_langfuse_own_score_model() -> None:
    langfuse_api = pytest.importorskip("langfuse.api")
    from langfuse.api.core.pydantic_utilities import parse_obj_as

    for s in SCORES:
        parsed = parse_obj_as(langfuse_api.Score, s)  # the SDK's own reader of API responses
        assert parsed.source == s["source"] and parsed.data_type == s["dataType"]


def _files(tmp_path: Path) -> tuple[Path, Path]:
    traces = tmp_path / "traces.json"
    traces.write_text(json.dumps({"data": TRACES, "meta": {"page": 1}}))
    scores = tmp_path / "scores.jsonl"
    scores.write_text("".join(json.dumps(s) + "\n" for s in SCORES))
    return traces, scores


def test_annotations_are_labels_evals_are_verdicts_with_provenance(tmp_path: Path, project: Project) -> None:
    traces, scores = _files(tmp_path)
    result = import_bundle(project, read_langfuse(traces, scores, pass_fail("helpful", value_map=VALUES)), rubric())
    items = {it.id: it for it in project.items()}
    assert set(items) == {"tr-1", "obs-1", "tr-2"}
    conv = items["tr-1"]
    assert conv.messages is not None and [m.role for m in conv.messages] == ["system", "user", "assistant"]
    assert conv.messages[2].tool_calls[0].arguments == {"order": 42}  # JSON text arguments parsed
    assert items["obs-1"].output == "It ships <b>today</b>." and items["obs-1"].metadata.extra == {
        "langfuse_trace_id": "tr-1",
        "langfuse_observation_id": "obs-1",
        "langfuse_session_id": "s-9",
    }
    labels = {(lab.item_id, lab.annotator): lab for lab in project.labels()}
    assert {k: (v.label, v.provenance) for k, v in labels.items()} == {
        ("tr-1", "alice"): ("fail", "blind"),
        ("tr-1", "bob"): ("pass", "blind"),
        ("obs-1", "carol"): ("fail", "blind"),  # an observation's score labels the observation
        ("tr-2", "alice"): ("pass", "corrected"),  # its metadata says it overrides the evaluator's score
    }
    assert labels[("tr-1", "alice")].critique == "should answer"
    verdicts = {v.item_id: v for v in project.verdicts("langfuse:helpful")}
    assert {k: v.label for k, v in verdicts.items()} == {"tr-1": "pass", "tr-2": "fail"}
    assert verdicts["tr-1"].rationale == "calls the right tool"
    assert result.provenance == {"blind": 3, "corrected": 1}
    assert result.skipped["scores of unknown authorship (see this command's --help)"] == 2
    assert result.skipped["scores with another name"] == 1
    # the same export again adds nothing
    again = import_bundle(project, read_langfuse(traces, scores, pass_fail("helpful", value_map=VALUES)), rubric())
    assert (again.items.added, again.labels.added, again.verdicts["langfuse:helpful"].added) == (0, 0, 0)


def test_assume_judge_seen_and_api_scores_option(tmp_path: Path, project: Project) -> None:
    traces, scores = _files(tmp_path)
    bundle = read_langfuse(
        traces, scores, pass_fail("helpful", value_map=VALUES, assume_judge_seen=True), api_scores="judge"
    )
    import_bundle(project, bundle, rubric())
    prov = {(lab.item_id, lab.annotator): lab.provenance for lab in project.labels(provenance=None)}
    assert prov[("tr-1", "alice")] == "corrected" and prov[("tr-1", "bob")] == "corrected"
    assert prov[("obs-1", "carol")] == "blind"  # no judge score on the observation
    # API scores as a judge: tr-2 now has two judge scores; the latest per item is kept
    assert {v.item_id: v.label for v in project.verdicts("langfuse:helpful:cfg-judge")} == {
        "tr-1": "pass",
        "tr-2": "fail",
    }


def test_unmapped_values_and_bad_records_are_located(tmp_path: Path, project: Project) -> None:
    traces, scores = _files(tmp_path)
    with pytest.raises(InputError) as err:
        read_langfuse(traces, scores, pass_fail("helpful"))
    assert str(err.value) == (
        f"{scores}:1: field 'value': value 'true' of score 'helpful' is not a level of rubric "
        "helpfulness-pass-fail@1 (pass, fail); map it with --value-map true=LEVEL"
    )
    with pytest.raises(UserError, match=r"no score named 'helpfull'.*scores found: helpful, tone"):
        read_langfuse(traces, scores, pass_fail("helpfull"))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([TRACES[1], {"name": "no id"}]))
    with pytest.raises(InputError, match=r"bad.json:2: field 'id': missing"):
        read_langfuse(bad, scores, pass_fail("helpful", value_map=VALUES))
    assert project.item_count() == 0


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    traces, scores = _files(tmp_path)
    db = tmp_path / "cli.db"
    args = [
        "import",
        "langfuse",
        str(traces),
        "--scores",
        str(scores),
        "--score",
        "helpful",
        "--db",
        str(db),
        "--rubric",
        "rubrics/helpfulness_pass_fail.yaml",
        "--value-map",
        "true=pass",
        "--value-map",
        "false=fail",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "langfuse: labels: 4 read, 4 added, 0 already present (3 blind, 1 corrected)" in out
    assert "langfuse: run langfuse:helpful: verdicts: 2 read, 2 added" in out
    assert main([*args[:-4]]) == 2
    assert "map it with --value-map true=LEVEL" in capsys.readouterr().err
