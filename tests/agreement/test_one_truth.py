"""One truth: the demo's figures are identical through every front end.

``judgekit agree --json``, the report's JSON, ``judgekit check`` / :func:`judgekit.testing.assert_judge_trusted`
and the labeling app's admin page (through ``AppTest``) must print the same value, interval and n for each
estimand; the report's risk-tier table holds the headline for the group of every item; ``judgekit compare``, the
report's comparison and ``judgekit runs compare`` show the same judge-vs-judge figures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from judgekit.agreement import agreement_overview, load_criteria, render_text
from judgekit.agreement.render import figure_cell
from judgekit.cli import main
from judgekit.demo import build_demo_project
from judgekit.labeling import add_annotator, wait_for_refresh
from judgekit.stats import StatResult
from judgekit.storage import Project
from judgekit.testing import assert_judge_trusted, judge_assessment

APP = "../../labeling_app/app.py"
RUN = "gpt-3.5-turbo"

FIGURES = [
    ("ceiling", "kappa"),
    ("ceiling", "alpha"),
    ("judge", "kappa", "failures_as_wrong"),
    ("judge", "kappa", "ok_only"),
    ("judge", "accuracy", "failures_as_wrong"),
    ("judge", "accuracy", "ok_only"),
    ("judge", "mean_kappa", "failures_as_wrong"),
    ("judge", "mean_kappa", "ok_only"),
    ("judge", "gap", "failures_as_wrong"),
    ("judge", "gap", "ok_only"),
    ("judge", "failure_rate"),
]


def _get(obj: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    for key in path:
        obj = obj[key]
    return obj


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("truth") / "demo.db"
    build_demo_project(path)
    return path


@pytest.fixture()
def in_empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no judgekit.toml: every front end uses the default criteria
    return tmp_path


def test_every_front_end_prints_the_same_figures(
    demo: Path, in_empty_folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["agree", RUN, "--db", str(demo), "--json"]) == 0
    (cli,) = json.loads(capsys.readouterr().out)
    assert main(["report", RUN, "--db", str(demo), "-o", str(in_empty_folder / "rep")]) == 0
    capsys.readouterr()
    (run,) = json.loads((in_empty_folder / "rep" / "report.json").read_text())["runs"]
    report = run["assessment"]
    assessment = judge_assessment(demo, RUN)
    library = json.loads(assessment.model_dump_json())
    with pytest.raises(AssertionError) as failed:
        assert_judge_trusted(demo, RUN)
    with Project(demo) as p:
        overview = agreement_overview(p, p.rubric("pandalm-pairwise", 1), load_criteria(rubric_id="pandalm-pairwise"))
    (gpt,) = [j for j in overview.judges if j.run == RUN]
    admin_side = json.loads(gpt.model_dump_json()) | {"ceiling": json.loads(overview.ceiling.model_dump_json())}

    for path in FIGURES:
        fig = _get(cli, path)
        assert fig["name"] and fig["n_items"] > 0, path
        assert _get(report, path) == fig, path
        assert _get(library, path) == fig, path
        assert _get(admin_side, path) == fig, path

    # the headline figures as numbers people read: the demo's documented values
    k = assessment.judge.kappa.failures_as_wrong
    assert (round(k.value, 3), k.n_items) == (0.476, 999)
    assert (round(assessment.ceiling.kappa.value, 3), assessment.ceiling.kappa.n_items) == (0.864, 999)
    assert round(assessment.judge.mean_kappa.failures_as_wrong.value, 3) == 0.461
    # assert_judge_trusted's message and check's criteria carry the same formatted figure with its n
    assert f"{k.fmt()} n=999" in str(failed.value)
    # the report's risk-tier table: the demo has no tiers, so one group of every item, the headline itself
    (tier,) = report["per_risk"]
    assert tier["key"] == "unassessed" and tier["kappa"] == cli["judge"]["kappa"]

    # the admin page, through AppTest, shows the library's rendering of these very figures
    with Project(demo) as p:
        code = add_annotator(p, "lead-admin", admin=True)
    monkeypatch.setenv("JUDGEKIT_DB", str(demo))
    monkeypatch.delenv("JUDGEKIT_RUBRIC", raising=False)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.text_input(key="code").input(code)
    at.button[0].click().run()
    at.radio(key="page").set_value("Admin").run()
    assert not at.exception
    with Project(demo) as p:  # the page's figures are computed in a background process: wait for them
        assert wait_for_refresh(p, p.rubric("pandalm-pairwise", 1), timeout=600)
    at.run()
    assert not at.exception
    shown = "\n".join(t.value.to_csv() for t in at.table)
    for path in FIGURES:
        assert figure_cell(StatResult.model_validate(_get(cli, path))) in shown, path
    at.session_state[f"printed_open_{RUN}"] = True  # "as judgekit agree prints it": sent once opened
    at.run()
    assert not at.exception
    assert render_text(assessment) in [c.value for c in at.code]


def test_compare_report_and_runs_compare_show_one_comparison(
    demo: Path, in_empty_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare", "gpt-3.5-turbo", "pandalm-7b", "--db", str(demo), "--json"]) == 0
    (pair,) = json.loads(capsys.readouterr().out)["pairs"]
    out = in_empty_folder / "rep2"
    assert main(["report", "gpt-3.5-turbo", "pandalm-7b", "--db", str(demo), "-o", str(out)]) == 0
    capsys.readouterr()
    (cmp,) = json.loads((out / "report.json").read_text())["comparisons"]
    for key in ("kappa_a", "kappa_b", "accuracy_a", "accuracy_b", "kappa_difference", "accuracy_difference"):
        assert pair[key] == cmp[key], key
    assert pair["mcnemar"] == cmp["mcnemar"] and pair["mcnemar"]["method"] == "exact binomial"
    assert main(["runs", "compare", "gpt-3.5-turbo", "pandalm-7b", "--db", str(demo)]) == 0
    text = capsys.readouterr().out
    kd = StatResult.model_validate(cmp["kappa_difference"]["failures_as_wrong"])
    assert figure_cell(kd) in text and f"p = {cmp['mcnemar']['p_value']['value']:.3g}" in text
    # and the run-to-run agreement is named with its n
    assert "judge A vs judge B, Cohen's kappa on the 974 items both judged ok" in text


def test_mcnemar_is_exact_unless_asked_and_says_which(
    demo: Path, in_empty_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from statsmodels.stats.contingency_tables import mcnemar as sm

    assert main(["compare", "gpt-3.5-turbo", "pandalm-7b", "--db", str(demo)]) == 0
    exact = capsys.readouterr().out
    assert "McNemar (exact binomial): 145 items only gpt-3.5-turbo right, 115 only pandalm-7b right" in exact
    # independent: statsmodels on the published discordant counts
    assert f"p = {sm([[0, 145], [115, 0]], exact=True).pvalue:.3g}" in exact
    assert main(["compare", "gpt-3.5-turbo", "pandalm-7b", "--db", str(demo), "--mcnemar", "chi2"]) == 0
    approx = capsys.readouterr().out
    assert "McNemar (chi-square with continuity correction)" in approx
    assert f"p = {sm([[0, 145], [115, 0]], exact=False, correction=True).pvalue:.3g}" in approx
