"""The verdict on the bundled real data: both PandaLM judges are far below the human ceiling."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from judgekit.agreement import TrustAssessment, TrustCriteria, assess_run
from judgekit.cli import main
from judgekit.demo import build_demo_project
from judgekit.storage import Project


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, TrustAssessment]:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    build_demo_project(path)
    with Project(path) as p:
        return {r: assess_run(p, r, TrustCriteria(n_boot=300)) for r in ("gpt-3.5-turbo", "pandalm-7b")}


def test_human_ceiling_matches_the_published_kappas(demo: dict[str, TrustAssessment]) -> None:
    # PandaLM README: annotator kappas #1-#2 0.85, #1-#3 0.88, #2-#3 0.86 (two decimals)
    published = {"annotator1 vs annotator2": 0.85, "annotator1 vs annotator3": 0.88, "annotator2 vs annotator3": 0.86}
    got = {f"{p.a} vs {p.b}": p for p in demo["pandalm-7b"].ceiling.pairs}
    for pair, value in published.items():
        assert abs(got[pair].kappa.value - value) <= 0.005, (pair, got[pair])
        assert got[pair].kappa.n_items == 999 and got[pair].counted


def test_both_judges_not_trusted_for_the_right_reasons(demo: dict[str, TrustAssessment]) -> None:
    for a in demo.values():
        assert a.verdict == "NOT TRUSTED"
        outcomes = {c.name: c.outcome for c in a.criteria}
        assert outcomes["judge_kappa"] == "fail" and outcomes["gap_to_human_ceiling"] == "fail"
        assert outcomes["calibration_ece"] == "not_applicable", "no confidence in the data: never invented"
        k = a.judge.kappa.failures_as_wrong
        assert k.high is not None and k.high < a.ceiling.kappa.value


def test_gpt35_parse_errors_are_errors_not_ties(demo: dict[str, TrustAssessment]) -> None:
    a = demo["gpt-3.5-turbo"]
    assert a.status_counts["parse_error"] == 25
    assert a.judge.kappa.failures_as_wrong.value < a.judge.kappa.ok_only.value
    assert a.judge.accuracy.failures_as_wrong.value < a.judge.accuracy.ok_only.value
    assert (a.judge.accuracy.failures_as_wrong.n_items, a.judge.accuracy.ok_only.n_items) == (999, 974)


def test_demo_cli_ends_with_both_verdicts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--db", str(tmp_path / "d.db")]) == 0
    out = capsys.readouterr().out
    assert out.count("VERDICT: NOT TRUSTED") == 2
    assert re.search(r"annotator1 vs annotator2 +0\.852 n=999", out)
    assert (tmp_path / "judgekit-report" / "report.html").exists() and "report.html" in out
