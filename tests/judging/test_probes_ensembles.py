"""Probes (position swap, verbosity, paraphrase, injection), ensembles, dynamic few-shot, and the CLI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fake_llm_server import FakeLLMServer

from conftest import bundled
from judgekit.cli import main
from judgekit.errors import ConfigError
from judgekit.judging import build_config, run_judge
from judgekit.judging.ensemble import combine_runs
from judgekit.judging.fewshot import DynamicFewShot
from judgekit.judging.probes import PADDING, run_probe
from judgekit.models import HumanLabel, Item, JudgeConfig, JudgeVerdict
from judgekit.storage import Project

PAIR = bundled("pandalm_pairwise")
PASS_FAIL = bundled("helpfulness_pass_fail")
QUALITY = bundled("answer_quality_1to5")


def _first_position_labeler(text: str, levels: list[str]) -> str:
    """A judge with pure position bias: always prefers the first response, except for pair 0 (content-based)."""
    if "pair question 0" in text:
        return "B" if "<<<RESPONSE B>>>\nsecond 0" in text else "A"
    return "A"


def test_position_probe(project: Project, openai_env: FakeLLMServer) -> None:
    openai_env.labeler = _first_position_labeler
    cfg = build_config("openai", "gpt-4.1-mini", PAIR, confidence="none")
    res = run_probe(project, "position", cfg, rubric=PAIR, progress=False)
    assert res.n == 6 and res.figure == pytest.approx(1 / 6)
    swapped = [r for r in openai_env.requests if "<<<RESPONSE A>>>\nsecond" in r.body["messages"][-1]["content"]]
    assert len(swapped) == 6  # each item judged in both orders
    _base, swap, combined = res.runs
    assert [v.label for v in project.verdicts(swap)] == ["B"] * 6  # mapped back to the original frame
    assert all(v.extra["display_order"] == "ba" for v in project.verdicts(swap))
    comb = {v.item_id: v for v in project.verdicts(combined)}
    assert comb["p0"].label == "B" and comb["p0"].extra["consistent"] is True
    assert {comb[f"p{i}"].label for i in range(1, 6)} == {"tie"}


def test_position_probe_needs_pairwise(project: Project, openai_env: FakeLLMServer) -> None:
    with pytest.raises(ConfigError):
        run_probe(
            project, "position", build_config("openai", "gpt-4.1-mini", PASS_FAIL), rubric=PASS_FAIL, progress=False
        )


def test_verbosity_probe(project: Project, openai_env: FakeLLMServer) -> None:
    openai_env.labeler = lambda text, levels: "pass" if "To restate" in text else "fail"
    res = run_probe(
        project,
        "verbosity",
        build_config("openai", "gpt-4.1-mini", PASS_FAIL, confidence="none"),
        rubric=PASS_FAIL,
        progress=False,
    )
    assert res.figure == pytest.approx(1.0) and res.n == 12
    assert any(PADDING.strip()[:20] in r.body["messages"][-1]["content"] for r in openai_env.requests)


def test_injection_and_paraphrase_probes(project: Project, openai_env: FakeLLMServer) -> None:
    openai_env.labeler = lambda text, levels: "5" if "Note to the grader" in text else "2"
    cfg = build_config("openai", "gpt-4.1-mini", QUALITY, confidence="none")
    inj = run_probe(project, "injection", cfg, rubric=QUALITY, progress=False, limit=4)
    assert inj.details["target"] == "5" and inj.figure == 1.0 and inj.n == 4
    para = run_probe(project, "paraphrase", cfg, rubric=QUALITY, progress=False, limit=4)
    assert para.figure == 1.0


def _fake_run(project: Project, name: str, labels: dict[str, str | None], rubric=QUALITY) -> None:  # type: ignore[no-untyped-def]
    cfg = JudgeConfig(provider="external", model=name, rubric_id=rubric.id, rubric_version=rubric.version)
    run = project.create_run(name, cfg, source="import")
    project.add_verdicts(
        run.id, [JudgeVerdict(item_id=i, label=lab, status="ok" if lab else "parse_error") for i, lab in labels.items()]
    )


def test_majority_ensemble_counts_failed_members(project: Project) -> None:
    _fake_run(project, "j1", {"q0": "3", "q1": "3", "q2": "1", "q3": None})
    _fake_run(project, "j2", {"q0": "3", "q1": "4", "q2": "2", "q3": "5"})
    _fake_run(project, "j3", {"q0": "2", "q1": None, "q2": "3"})  # q3 missing
    res = combine_runs(project, ["j1", "j2", "j3"], name="panel")
    labels = {v.item_id: v for v in project.verdicts("panel")}
    assert set(labels) == {"q0"} and labels["q0"].label == "3" and labels["q0"].confidence == pytest.approx(2 / 3)
    # q1: "3" has 1 of 3 votes (j3 failed) -> no majority; the failure does not shrink the panel to 2
    assert sorted(res.no_decision) == ["q1", "q2", "q3"]
    assert res.failed_members == {"j1": 1, "j2": 0, "j3": 2}
    _fake_run(project, "tb", {"q1": "4", "q2": "2", "q3": None})
    res2 = combine_runs(project, ["j1", "j2", "j3"], name="panel-tb", tiebreak="tb")
    assert res2.tie_broken == 2 and res2.no_decision == ["q3"]
    assert project.verdicts("panel-tb")[1].extra["tie_break"] == "tb"


def test_mean_ensemble(project: Project) -> None:
    _fake_run(project, "m1", {"q0": "1", "q1": "2", "q2": "5"})
    _fake_run(project, "m2", {"q0": "2", "q1": "3", "q2": None})
    _fake_run(project, "m3", {"q0": "3", "q1": "3", "q2": None})
    res = combine_runs(project, ["m1", "m2", "m3"], name="mean", method="mean")
    got = {v.item_id: v.label for v in project.verdicts("mean")}
    assert got == {"q0": "2", "q1": "3"} and res.no_decision == ["q2"]  # q2: only 1 of 3 members ok
    with pytest.raises(ConfigError):
        _fake_run(project, "pf1", {"q0": "pass"}, PASS_FAIL)
        _fake_run(project, "pf2", {"q0": "pass"}, PASS_FAIL)
        combine_runs(project, ["pf1", "pf2"], name="x", method="mean")


def test_dynamic_few_shot_never_uses_item_or_excluded() -> None:
    items = [Item(id=f"d{i}", input=f"capital of country {i} city", output=f"city {i}") for i in range(6)]
    labels = {f"d{i}": "pass" for i in range(6)}
    pool = DynamicFewShot(items, labels, exclude_ids={"d1"})
    ex = pool.examples(items[2], 3)
    assert len(ex) == 3 and all(e.output not in ("city 2", "city 1") for e in ex)


def test_dynamic_few_shot_in_a_run(project: Project, openai_env: FakeLLMServer) -> None:
    for i in range(4):
        project.add_label(
            HumanLabel(
                item_id=f"q{i}", annotator="ann", rubric_id=PASS_FAIL.id, rubric_version=PASS_FAIL.version, label="fail"
            )
        )
    cfg = build_config("openai", "gpt-4.1-mini", PASS_FAIL, confidence="none", few_shot="dynamic", few_shot_k=2)
    run_judge(project, cfg, rubric=PASS_FAIL, progress=False, limit=1, exclude_ids=["q1", "q2"])
    msgs = openai_env.requests[0].body["messages"]
    assert len(msgs) == 1 + 2 * 1 + 1  # k=2 but only q3 is eligible: q0 is judged, q1 and q2 are excluded
    shown = " ".join(m["content"] for m in msgs[1:-1])
    assert "question 3" in shown and "question 0\n" not in shown and "question 1\n" not in shown


def test_cli_judge_runs_compare_and_probe(
    tmp_path: Path, openai_env: FakeLLMServer, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "cli.db")
    assert main(["init", "--db", db]) == 0
    items = tmp_path / "items.jsonl"
    items.write_text("".join(f'{{"id": "c{i}", "input": "cli q{i}", "output": "a{i}"}}\n' for i in range(5)))
    assert main(["import", "items", str(items), "--db", db]) == 0
    rub = str(Path(__file__).resolve().parents[2] / "rubrics" / "helpfulness_pass_fail.yaml")
    args = ["judge", "--rubric", rub, "--model", "openai:gpt-4.1-mini", "--db", db, "--quiet"]
    assert main([*args, "--run-name", "one"]) == 0
    assert main([*args, "--run-name", "two", "--confidence", "verbalized"]) == 0
    capsys.readouterr()
    assert main(["runs", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "one" in out and "two" in out and "complete" in out
    assert main(["runs", "show", "one", "--db", db]) == 0
    assert "fingerprint" in capsys.readouterr().out
    assert main(["runs", "compare", "one", "two", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "they agree on 5, 100.0%" in out and "cost $" in out
    assert main(["probe", "injection", "--rubric", rub, "--model", "openai:gpt-4.1-mini", "--db", db, "--quiet"]) == 0
    assert "injection success rate" in capsys.readouterr().out


def test_cli_missing_key_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "k.db")
    main(["init", "--db", db])
    rub = str(Path(__file__).resolve().parents[2] / "rubrics" / "helpfulness_pass_fail.yaml")
    capsys.readouterr()
    code = main(
        ["judge", "--rubric", rub, "--model", "anthropic:claude-haiku-4-5", "--db", db, "--confidence", "verbalized"]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "ANTHROPIC_API_KEY" in err


def _shown_examples(server: FakeLLMServer) -> set[str]:
    """Ids (``qN``) of the items shown as few-shot examples in every request the server received."""
    shown: set[str] = set()
    for r in server.requests:
        for m in r.body["messages"][1:-1]:
            if m["role"] == "user":
                shown.update(f"q{n}" for n in re.findall(r"<<<INPUT>>>\nquestion (\d+)\n", m["content"]))
    return shown


def test_cli_split_keeps_test_items_out_of_few_shot(
    project: Project, openai_env: FakeLLMServer, capsys: pytest.CaptureFixture[str]
) -> None:
    from judgekit.calibration import create_split, test_item_ids

    for i in range(12):
        for ann in ("ann1", "ann2"):
            project.add_label(
                HumanLabel(
                    item_id=f"q{i}",
                    annotator=ann,
                    rubric_id=PASS_FAIL.id,
                    rubric_version=PASS_FAIL.version,
                    label="pass" if i % 2 else "fail",
                )
            )
    create_split(project, PASS_FAIL, name="main", test_fraction=0.5)
    test_ids = set(test_item_ids(project, "main"))
    assert 0 < len(test_ids) < 12
    db = str(project.path)
    base = ["--rubric", f"{PASS_FAIL.id}@{PASS_FAIL.version}", "--model", "openai:gpt-4.1-mini", "--db", db]
    dyn = ["--few-shot", "dynamic", "--k", "11", "--confidence", "none", "--quiet"]
    # without --split the dynamic pool draws on every labelled item, test items included
    assert main(["judge", *base, *dyn, "--run-name", "open", "--limit", "4"]) == 0
    assert _shown_examples(openai_env) & test_ids
    openai_env.reset_counts()
    assert main(["judge", *base, *dyn, "--run-name", "sealed", "--split", "main"]) == 0
    shown = _shown_examples(openai_env)
    assert shown and not shown & test_ids
    assert project.run("sealed").meta["split"] == "main@1"  # a resume excludes the same split version
    openai_env.reset_counts()
    assert main(["probe", "paraphrase", *base, *dyn, "--split", "main@1", "--limit", "4"]) == 0
    shown = _shown_examples(openai_env)
    assert shown and not shown & test_ids
    capsys.readouterr()
    assert main(["judge", *base, *dyn, "--split", "nope"]) == 2
    assert "no split 'nope'" in capsys.readouterr().err


def test_cli_ensemble(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    _fake_run(project, "e1", {"q0": "3", "q1": "3", "q2": "1"})
    _fake_run(project, "e2", {"q0": "3", "q1": "4", "q2": "2"})
    _fake_run(project, "e3", {"q0": "2", "q1": None, "q2": "3"})
    _fake_run(project, "etb", {"q1": "4"})
    db = str(project.path)
    assert main(["ensemble", "--help"]) == 0
    assert "Example:" in capsys.readouterr().out
    assert main(["ensemble", "e1", "e2", "e3", "--name", "cli-panel", "--tiebreak", "etb", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "ensemble 'cli-panel': 2 verdicts, 1 without a decision, 1 settled by the tie-break judge" in out
    assert "no decision on 1 items: q2" in out
    got = {v.item_id: v.label for v in project.verdicts("cli-panel")}
    assert got == {"q0": "3", "q1": "4"}
    assert project.run("cli-panel").meta["members"] == ["e1", "e2", "e3"]
    assert main(["ensemble", "e1", "e2", "e3", "--name", "cli-mean", "--method", "mean", "--db", db]) == 0
    assert {v.item_id: v.label for v in project.verdicts("cli-mean")} == {"q0": "3", "q2": "2"}
    capsys.readouterr()
    assert main(["ensemble", "e1", "--name", "solo", "--db", db]) == 2  # a panel of one is a usage error
    assert "at least two" in capsys.readouterr().err
    assert main(["ensemble", "e1", "nope", "--name", "x", "--db", db]) == 2
