"""LangSmith: runs and feedback as the SDK's own ``langsmith.schemas.Run`` / ``Feedback`` objects serialise them.

LangSmith has no server that runs locally, so the export is made with the SDK's schema classes (the objects
``Client.list_runs`` / ``Client.list_feedback`` return) and their JSON serialisation.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from judgekit.cli import main
from judgekit.connectors import import_bundle
from judgekit.connectors.langsmith import read_langsmith
from judgekit.storage import Project
from tests.connectors.conftest import pass_fail
from tests.helpers import rubric

schemas = pytest.importorskip("langsmith.schemas")
T0 = datetime(2026, 11, 2, 10, tzinfo=UTC)
RUN_IDS = [uuid.UUID(int=i) for i in (1, 2)]


def _run(i: int, inputs: dict, outputs: dict) -> dict[str, Any]:
    run = schemas.Run(
        id=RUN_IDS[i], name="qa-bot", run_type="llm", start_time=T0, inputs=inputs, outputs=outputs, trace_id=RUN_IDS[i]
    )
    return run.model_dump(mode="json")


def _fb(n: int, run: int, score: float, source: dict[str, Any], **kw: Any) -> dict[str, Any]:
    fb = schemas.Feedback(
        id=uuid.UUID(int=100 + n),
        created_at=T0 + timedelta(minutes=n),
        modified_at=T0 + timedelta(minutes=n + 30),
        run_id=RUN_IDS[run],
        trace_id=RUN_IDS[run],
        key=kw.pop("key", "correct"),
        score=score,
        feedback_source=schemas.FeedbackSourceBase(**source),
        **kw,
    )
    return fb.model_dump(mode="json")


JUDGE = {"type": "model", "metadata": {"ls_model_name": "gpt-4o-mini", "__run": {"name": "correctness-evaluator"}}}
RUNS = [
    _run(
        0,
        {"messages": [[{"role": "user", "content": "2+2?"}]]},
        {"generations": [[{"text": "4", "message": {"kwargs": {"content": "4", "tool_calls": []}}}]]},
    ),
    _run(1, {"question": "Capital of France?"}, {"answer": "Lyon"}),
]
FEEDBACK = [
    _fb(1, 0, 1, JUDGE, comment="right"),
    _fb(2, 1, 1, JUDGE, correction={"score": 0}),  # a person corrected the evaluator: Lyon is wrong
    _fb(3, 0, 1, {"type": "app", "user_name": "alice"}),
    _fb(4, 1, 0, {"type": "app", "user_name": "bob"}, comment="Paris"),
    _fb(5, 1, 0, {"type": "api"}),
]


def test_app_feedback_is_labels_model_feedback_verdicts_corrections_corrected(tmp_path: Path, project: Project) -> None:
    runs, feedback = tmp_path / "runs.jsonl", tmp_path / "feedback.json"
    runs.write_text("".join(json.dumps(r) + "\n" for r in RUNS))
    feedback.write_text(json.dumps(FEEDBACK))
    m = pass_fail("correct", value_map={"1": "pass", "0": "fail"})
    result = import_bundle(project, read_langsmith(runs, feedback, m), rubric())
    items = {it.id: it for it in project.items()}
    first, second = items[str(RUN_IDS[0])], items[str(RUN_IDS[1])]
    assert first.messages is not None and [m.text() for m in first.messages] == ["2+2?", "4"]
    assert (second.input, second.output) == ("Capital of France?", "Lyon")
    labels = sorted((lab.item_id == second.id, lab.annotator, lab.label, lab.provenance) for lab in project.labels())
    assert labels == [
        (False, "alice", "pass", "blind"),
        (True, "bob", "fail", "blind"),
        (True, "langsmith:corrector", "fail", "corrected"),
    ]
    assert {v.item_id == second.id: v.label for v in project.verdicts("langsmith:correct")} == {
        False: "pass",
        True: "pass",
    }
    assert project.run("langsmith:correct").config.model == "gpt-4o-mini"
    assert sum(result.skipped.values()) == 1  # the api feedback: authorship unknown


def test_one_file_and_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    both = tmp_path / "export.jsonl"
    both.write_text("".join(json.dumps(r) + "\n" for r in RUNS + FEEDBACK))
    args = [
        "import",
        "langsmith",
        str(both),
        "--score",
        "correct",
        "--value-map",
        "1=pass",
        "--value-map",
        "0=fail",
        "--rubric",
        "rubrics/helpfulness_pass_fail.yaml",
        "--api-feedback",
        "human",
        "--db",
        str(tmp_path / "c.db"),
    ]
    assert main(args) == 0
    assert "labels: 4 read, 4 added, 0 already present (3 blind, 1 corrected)" in capsys.readouterr().out
