"""MLflow: traces and assessments written by MLflow's own tracing and assessment APIs (SQLite store), imported."""

from __future__ import annotations

from pathlib import Path

import pytest

from judgekit.cli import main
from judgekit.connectors import import_bundle
from judgekit.connectors.mlflow import read_mlflow
from judgekit.storage import Project
from tests.connectors.conftest import pass_fail
from tests.helpers import rubric

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    mlflow = pytest.importorskip("mlflow")
    from mlflow.entities import AssessmentSource, AssessmentSourceType

    mp = pytest.MonkeyPatch()
    mp.setenv("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "false")  # write each trace before log_feedback refers to it
    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("support-bot")

    @mlflow.trace
    def chat(messages: list[dict]) -> dict:
        return {"role": "assistant", "content": "Your order ships " + messages[-1]["content"][-5:]}

    @mlflow.trace
    def answer(question: str) -> str:
        return "42" if "life" in question else "no idea"

    judge = AssessmentSource(source_type=AssessmentSourceType.LLM_JUDGE, source_id="gpt-4o-judge")
    ids = []
    chat([{"role": "system", "content": "Be kind."}, {"role": "user", "content": "When does order 7 ship? today"}])
    ids.append(mlflow.get_last_active_trace_id())
    answer("meaning of life")
    ids.append(mlflow.get_last_active_trace_id())
    answer("weather?")
    ids.append(mlflow.get_last_active_trace_id())
    human = {who: AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id=who) for who in ("alice", "bob")}
    fb = [
        mlflow.log_feedback(trace_id=t, name="helpful", value=v, source=judge, rationale=f"judge on {t[:6]}")
        for t, v in zip(ids, ["pass", "pass", "pass"], strict=True)
    ]
    mlflow.log_feedback(trace_id=ids[0], name="helpful", value="pass", source=human["alice"])
    mlflow.log_feedback(trace_id=ids[0], name="helpful", value="fail", source=human["bob"], rationale="too vague")
    mlflow.log_feedback(trace_id=ids[1], name="helpful", value="pass", source=human["alice"])
    # bob corrects the judge on the third trace through MLflow's override API
    mlflow.override_feedback(
        trace_id=ids[2],
        assessment_id=fb[2].assessment_id,
        value="fail",
        source=human["bob"],
        rationale="it does not answer",
    )
    mlflow.log_feedback(
        trace_id=ids[1],
        name="safety",
        value=True,
        source=AssessmentSource(source_type=AssessmentSourceType.CODE, source_id="regex"),
    )
    mlflow.log_expectation(trace_id=ids[1], name="expected", value="42", source=human["alice"])
    mp.undo()
    return uri


def test_traces_and_assessments(tracking_uri: str, project: Project) -> None:
    result = import_bundle(
        project, read_mlflow(pass_fail("helpful"), tracking_uri=tracking_uri, experiment="support-bot"), rubric()
    )
    items = project.items()
    assert len(items) == 3
    chat = items[0]
    assert chat.messages is not None and [m.role for m in chat.messages] == ["system", "user", "assistant"]
    assert chat.messages[2].text() == "Your order ships today" and chat.judged is not None
    assert (items[1].input, items[1].output) == ("meaning of life", "42")
    labels = sorted(
        (it_index(items, lab.item_id), lab.annotator, lab.label, lab.provenance) for lab in project.labels()
    )
    assert labels == [
        (0, "alice", "pass", "blind"),
        (0, "bob", "fail", "blind"),
        (1, "alice", "pass", "blind"),
        (2, "bob", "fail", "corrected"),  # MLflow says it overrides the judge's assessment
    ]
    verdicts = project.verdicts("mlflow:helpful")
    assert [v.label for v in verdicts] == ["pass", "pass", "pass"]  # the overridden judge verdict is still its verdict
    assert project.run("mlflow:helpful").config.model == "gpt-4o-judge"
    assert result.skipped["expectations (ground truth, not a rating of the output)"] == 1
    assert result.skipped["scores with another name"] == 1


def it_index(items: list, item_id: str) -> int:
    return [it.id for it in items].index(item_id)


def test_cli_and_unknown_experiment(tracking_uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = [
        "import",
        "mlflow",
        "--tracking-uri",
        tracking_uri,
        "--score",
        "helpful",
        "--db",
        str(tmp_path / "c.db"),
        "--rubric",
        "rubrics/helpfulness_pass_fail.yaml",
    ]
    assert main([*base, "--experiment", "support-bot"]) == 0
    assert "(3 blind, 1 corrected)" in capsys.readouterr().out
    assert main([*base, "--experiment", "nope"]) == 2
    assert "no experiment named 'nope'" in capsys.readouterr().err
