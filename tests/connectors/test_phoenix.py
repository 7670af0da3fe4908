"""Phoenix: a real Phoenix server, spans and span annotations written through Phoenix's own client, then imported."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from judgekit.cli import main
from judgekit.connectors import import_bundle
from judgekit.connectors.phoenix import read_phoenix
from judgekit.storage import Project
from tests.connectors.conftest import pass_fail
from tests.helpers import rubric

pytestmark = pytest.mark.slow
VALUES = {"correct": "pass", "incorrect": "fail"}


def _span(i: int, attrs: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "agent-turn",
        "context": {"trace_id": f"{i:032x}", "span_id": f"{i:016x}"},
        "span_kind": "LLM",
        "start_time": f"2026-11-02T10:00:0{i}+00:00",
        "end_time": f"2026-11-02T10:00:0{i}+00:00",
        "status_code": "OK",
        "attributes": attrs,
    }


SPANS = [
    _span(
        1,
        {
            "openinference.span.kind": "LLM",
            "llm.input_messages": [
                {"message.role": "system", "message.content": "You are a travel agent."},
                {"message.role": "user", "message.content": "Fly me to <script>alert(1)</script> Paris"},
            ],
            "llm.output_messages": [
                {
                    "message.role": "assistant",
                    "message.tool_calls": [
                        {
                            "tool_call.id": "call_7",
                            "tool_call.function.name": "search_flights",
                            "tool_call.function.arguments": '{"to": "CDG"}',
                        }
                    ],
                }
            ],
        },
    ),
    _span(2, {"openinference.span.kind": "CHAIN", "input.value": "2+2?", "output.value": "5"}),
]


@pytest.fixture(scope="module")
def seeded(phoenix_url: str) -> str:
    from phoenix.client import Client

    client = Client(base_url=phoenix_url)
    client.spans.log_spans(project_identifier="agents", spans=SPANS)
    deadline = time.monotonic() + 60
    while True:  # spans are queued: wait until the project exists and holds them
        try:
            if len(client.spans.get_spans(project_identifier="agents")) == len(SPANS):
                break
        except httpx.HTTPStatusError as exc:
            assert exc.response.status_code == 404
        assert time.monotonic() < deadline, "phoenix did not store the spans"
        time.sleep(0.3)

    def ann(span: int, kind: str, label: str, who: str = "", **meta: Any) -> dict[str, Any]:
        return {
            "name": "correctness",
            "span_id": f"{span:016x}",
            "annotator_kind": kind,
            "identifier": who,
            "result": {"label": label, "score": 1.0 if label == "correct" else 0.0, "explanation": f"{who or kind}"},
            "metadata": meta,
        }

    client.spans.log_span_annotations(
        span_annotations=[
            ann(1, "LLM", "correct", model="gpt-4o-mini"),
            ann(2, "LLM", "correct"),
            ann(1, "HUMAN", "correct", "alice"),
            ann(1, "HUMAN", "incorrect", "bob"),
            ann(2, "HUMAN", "incorrect", "alice", corrects="the LLM said correct"),
            ann(2, "CODE", "incorrect", "regex"),
        ],
        sync=True,
    )
    return phoenix_url


def test_human_annotations_are_labels_llm_ones_verdicts(seeded: str, project: Project) -> None:
    result = import_bundle(
        project, read_phoenix(pass_fail("correctness", value_map=VALUES), url=seeded, project="agents"), rubric()
    )
    items = {it.id: it for it in project.items()}
    first, second = items[f"{1:016x}"], items[f"{2:016x}"]
    assert first.messages is not None and [m.role for m in first.messages] == ["system", "user", "assistant"]
    assert first.messages[2].tool_calls[0].name == "search_flights"
    assert first.messages[2].tool_calls[0].arguments == {"to": "CDG"}
    assert first.judged is not None and first.judged.turn == 2
    assert first.metadata.extra["otel_trace_id"] == f"{1:032x}"
    assert (second.input, second.output) == ("2+2?", "5")
    labels = {(lab.item_id, lab.annotator): (lab.label, lab.provenance) for lab in project.labels()}
    assert labels == {
        (first.id, "alice"): ("pass", "blind"),
        (first.id, "bob"): ("fail", "blind"),
        (second.id, "alice"): ("fail", "corrected"),
    }
    assert {v.item_id: v.label for v in project.verdicts("phoenix:correctness")} == {
        first.id: "pass",
        second.id: "pass",
    }
    assert result.skipped == {"scores of unknown authorship (see this command's --help)": 1}


def test_code_annotations_as_judge_and_score_values(seeded: str, project: Project) -> None:
    bundle = read_phoenix(
        pass_fail("correctness", value_map={"1": "pass", "0": "fail"}),
        url=seeded,
        project="agents",
        code_annotations="judge",
        value_from="score",
    )
    import_bundle(project, bundle, rubric())
    runs = {r.name for r in project.runs()}
    assert runs == {"phoenix:correctness:llm", "phoenix:correctness:regex"}  # one run per judge
    assert [v.label for v in project.verdicts("phoenix:correctness:regex")] == ["fail"]


def test_rest_json_files_import_like_the_live_server(seeded: str, tmp_path: Path) -> None:
    from phoenix.client import Client

    client = Client(base_url=seeded)
    spans = client.spans.get_spans(project_identifier="agents")
    (tmp_path / "spans.json").write_text(json.dumps({"data": spans}))
    anns = client.spans.get_span_annotations(spans=spans, project_identifier="agents")
    (tmp_path / "annotations.json").write_text(json.dumps({"data": anns}))
    live, files = Project(tmp_path / "live.db"), Project(tmp_path / "files.db")
    m = pass_fail("correctness", value_map=VALUES)
    import_bundle(live, read_phoenix(m, url=seeded, project="agents"), rubric())
    import_bundle(
        files,
        read_phoenix(m, spans_file=tmp_path / "spans.json", annotations_file=tmp_path / "annotations.json"),
        rubric(),
    )
    assert files.items() == live.items()
    assert [(lab.item_id, lab.annotator, lab.label, lab.provenance) for lab in files.labels()] == [
        (lab.item_id, lab.annotator, lab.label, lab.provenance) for lab in live.labels()
    ]


def test_cli_and_unreachable_server(seeded: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = [
        "import",
        "phoenix",
        "--score",
        "correctness",
        "--rubric",
        "rubrics/helpfulness_pass_fail.yaml",
        "--value-map",
        "correct=pass",
        "--value-map",
        "incorrect=fail",
        "--db",
        str(tmp_path / "c.db"),
    ]
    assert main([*base, "--url", seeded, "--project", "agents"]) == 0
    assert "(2 blind, 1 corrected)" in capsys.readouterr().out
    assert main([*base, "--url", "http://127.0.0.1:9", "--project", "agents"]) == 2
    assert "phoenix: cannot reach http://127.0.0.1:9" in capsys.readouterr().err
