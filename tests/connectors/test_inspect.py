"""Inspect AI: a real ``inspect_ai.eval`` run (an agent with a tool, a model-graded scorer) over a scripted model
registered through Inspect's own ``@modelapi``, scores edited with ``edit_score`` as the log viewer does, the
log written with ``write_eval_log`` and imported with Inspect's reader.

Why a scripted model and not ``mockllm``: Inspect's mock model counts tokens with tiktoken, which downloads its
encoding from the network; a test never reaches the internet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from judgekit.cli import main
from judgekit.connectors import import_bundle
from judgekit.connectors.inspect import read_inspect
from judgekit.errors import InputError
from judgekit.storage import Project
from tests.connectors.conftest import pass_fail
from tests.helpers import rubric

pytestmark = pytest.mark.slow
VALUES = {"C": "pass", "I": "fail"}


@pytest.fixture(scope="session")
def eval_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("inspect_ai")
    from inspect_ai import Task
    from inspect_ai import eval as inspect_eval
    from inspect_ai.dataset import Sample
    from inspect_ai.log import ProvenanceData, edit_score, read_eval_log, write_eval_log
    from inspect_ai.model import GenerateConfig, ModelAPI, ModelOutput, modelapi
    from inspect_ai.scorer import ScoreEdit, model_graded_qa
    from inspect_ai.solver import generate, use_tools
    from inspect_ai.tool import tool

    @tool
    def weather() -> Any:
        async def execute(city: str) -> str:
            """Weather in a city.

            Args:
                city: The city.
            """
            return f"sunny in {city}"

        return execute

    @modelapi(name="judgekit-scripted")
    class Scripted(ModelAPI):
        def __init__(
            self,
            model_name: str,
            base_url: str | None = None,
            api_key: str | None = None,
            config: GenerateConfig = GenerateConfig(),  # noqa: B008
            **kw: Any,
        ) -> None:
            super().__init__(model_name, base_url, api_key, [], config)

        async def generate(self, input: list, tools: list, tool_choice: Any, config: GenerateConfig) -> ModelOutput:
            if self.model_name == "grader":  # grades 'C' unless the submission mentions rain
                return ModelOutput.from_content("grader", "GRADE: I" if "rain" in input[-1].text else "GRADE: C")
            if tools and not any(m.role == "tool" for m in input):
                return ModelOutput.for_tool_call("agent", "weather", {"city": "Paris"})
            said = "rain <b>all day</b>" if "tomorrow" in input[0].text else "It is sunny."
            return ModelOutput.from_content("agent", said)

        async def count_text_tokens(self, text: str) -> int:
            return len(text.split())

    task = Task(
        dataset=[
            Sample(id="today", input="Weather in Paris today?", target="sunny"),
            Sample(id="tomorrow", input="Weather in Paris tomorrow?", target="sunny"),
            Sample(id="later", input="Weather in Paris later?", target="sunny"),
        ],
        solver=[use_tools(weather()), generate()],
        scorer=model_graded_qa(model="judgekit-scripted/grader"),
    )
    out = tmp_path_factory.mktemp("inspect")
    (log,) = inspect_eval(task, model="judgekit-scripted/agent", log_dir=str(out), display="none")
    assert log.status == "success", log.error
    log = read_eval_log(log.location)
    edit_score(
        log,
        "tomorrow",
        "model_graded_qa",
        ScoreEdit(value="C", provenance=ProvenanceData(author="alice", reason="rain is fine here")),
    )
    edit_score(log, "later", "model_graded_qa", ScoreEdit(value="I", provenance=ProvenanceData(author="bob")))
    edit_score(log, "later", "model_graded_qa", ScoreEdit(value="C", provenance=ProvenanceData(author="bob")))
    edit_score(log, "today", "human_rating", ScoreEdit(value="I", provenance=ProvenanceData(author="carol")))
    path = out / "edited.eval"
    write_eval_log(log, str(path))
    return path


def test_samples_scores_and_edits(eval_log: Path, project: Project) -> None:
    result = import_bundle(project, read_inspect(eval_log, pass_fail("model_graded_qa", value_map=VALUES)), rubric())
    items = {it.id: it for it in project.items()}
    assert set(items) == {"today", "tomorrow", "later"}
    msgs = items["tomorrow"].messages
    assert msgs is not None and [m.role for m in msgs] == ["user", "assistant", "tool", "assistant"]
    assert msgs[1].tool_calls[0].name == "weather" and msgs[1].tool_calls[0].arguments == {"city": "Paris"}
    assert msgs[2].tool_call_id == msgs[1].tool_calls[0].id and msgs[2].text() == "sunny in Paris"
    assert msgs[3].text() == "rain <b>all day</b>" and items["tomorrow"].reference == "sunny"
    # the scorer's original grades are the judge's verdicts, named after the grader model
    verdicts = {v.item_id: v.label for v in project.verdicts("inspect:model_graded_qa")}
    assert verdicts == {"today": "pass", "tomorrow": "fail", "later": "pass"}
    assert project.run("inspect:model_graded_qa").config.model == "grader"
    # each edit is a label by its author, corrected (the person edited the judge's score); revisions kept
    history = [
        (lab.item_id, lab.annotator, lab.label, lab.revision, lab.provenance)
        for lab in project.labels(history=True, provenance=None)
    ]
    assert sorted(history) == [
        ("later", "bob", "fail", 1, "corrected"),
        ("later", "bob", "pass", 2, "corrected"),
        ("tomorrow", "alice", "pass", 1, "corrected"),
    ]
    assert [lab.critique for lab in project.labels(provenance=None) if lab.annotator == "alice"] == [
        "rain is fine here"
    ]
    assert result.skipped == {"scores with another name": 1}


def test_a_score_a_person_added_is_a_blind_label(eval_log: Path, project: Project) -> None:
    import_bundle(project, read_inspect(eval_log, pass_fail("human_rating", value_map=VALUES)), rubric())
    assert [(lab.item_id, lab.annotator, lab.label, lab.provenance) for lab in project.labels()] == [
        ("today", "carol", "fail", "blind")
    ]
    assert project.runs() == []


def test_not_a_log_and_cli(eval_log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.eval"
    bad.write_text("not a zip")
    with pytest.raises(InputError, match=r"bad\.eval: not an Inspect log"):
        read_inspect(bad, pass_fail("model_graded_qa"))
    args = [
        "import",
        "inspect",
        str(eval_log),
        "--score",
        "model_graded_qa",
        "--value-map",
        "C=pass",
        "--value-map",
        "I=fail",
        "--rubric",
        "rubrics/helpfulness_pass_fail.yaml",
        "--db",
        str(tmp_path / "c.db"),
    ]
    assert main(args) == 0
    assert "(3 corrected)" in capsys.readouterr().out
