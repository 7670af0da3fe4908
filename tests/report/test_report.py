"""``judgekit report``: one self-contained HTML page plus the same content as Markdown and JSON."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from judgekit.agreement import TrustCriteria
from judgekit.cli import main
from judgekit.report import Report, build_report, md_escape, render_html, render_markdown, write_report
from judgekit.storage import Project

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


def _report(db: Path, runs: list[str] | None = None) -> Report:
    with Project(db) as p:
        return build_report(p, runs, lambda _rid: TrustCriteria(n_boot=200))


@pytest.fixture(scope="module")
def demo_files(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("report")
    assert main(["report", "--db", str(demo_db), "-o", str(out), "--n-boot", "200"]) == 0
    return {ext: (out / f"report.{ext}").read_text(encoding="utf-8") for ext in ("html", "md", "json")}


@pytest.fixture(scope="module")
def small_report(small_db: Path) -> Report:
    return _report(small_db)


def test_three_files_side_by_side(demo_files: dict[str, str]) -> None:
    assert all(demo_files.values())


def test_html_is_self_contained(demo_files: dict[str, str]) -> None:
    html = demo_files["html"]
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
    assert "<script" not in html.lower()
    assert "<link" not in html.lower() and "@import" not in html
    assert not re.search(r"url\(\s*['\"]?(?!#)", html), "only in-page url(#clip) references"
    assert html.count("<svg") >= 5  # comparison + (confusion, forest) per run


def test_html_holds_verdict_criteria_and_ceiling(demo_files: dict[str, str]) -> None:
    html = demo_files["html"]
    assert html.count("NOT TRUSTED") >= 4  # summary card + section heading per run
    for name in ("enough_items", "judge_kappa", "gap_to_human_ceiling", "failure_rate", "alt_test", "calibration_ece"):
        assert name in html
    assert "0.852" in html  # annotator1 vs annotator2, the published PandaLM kappa
    assert "Judges compared" in html and "McNemar" in html
    assert "not available: the judge&#39;s verdicts carry no confidence" in html


def test_markdown_summary(demo_files: dict[str, str]) -> None:
    md = demo_files["md"]
    assert md.startswith("## judgekit")
    assert "| `gpt-3.5-turbo` | ❌ **NOT TRUSTED**" in md
    assert "❌ FAIL | `judge_kappa` | 0.476 [" in md
    assert "### Judges compared" in md and "report.html" in md


def test_json_matches_the_assessment(demo_files: dict[str, str]) -> None:
    data = json.loads(demo_files["json"])
    assert data["format_version"] == 2
    assert [r["info"]["name"] for r in data["runs"]] == ["gpt-3.5-turbo", "pandalm-7b"]
    a = data["runs"][0]["assessment"]
    assert a["verdict"] == "NOT TRUSTED" and len(a["criteria"]) == 9
    kappa = a["judge"]["kappa"]["failures_as_wrong"]
    assert kappa["name"] == "judge_kappa.failures_as_wrong" and kappa["n_items"] == 999
    (cmp,) = data["comparisons"]
    assert cmp["kappa_a"]["failures_as_wrong"]["value"] == pytest.approx(kappa["value"])
    diff = cmp["kappa_difference"]["failures_as_wrong"]
    assert diff["interval"]["low"] < diff["value"] < diff["interval"]["high"]
    assert cmp["mcnemar"]["method"] == "exact binomial"


def test_item_text_is_escaped_everywhere(small_report: Report) -> None:
    html = render_html(small_report)
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in html
    md = render_markdown(small_report)
    assert "<script" not in md and "&lt;script&gt;" in md
    assert md_escape("a|b<c>") == "a\\|b&lt;c&gt;"


def test_confident_judge_gets_calibration_figures_and_worst_items(small_report: Report) -> None:
    run = next(r for r in small_report.runs if r.info.name == "confident")
    assert run.assessment.calibration.available
    items = run.confidently_wrong
    assert 0 < len(items) <= 10
    order = {"high": 0, "medium": 1, "low": 2}
    keys = [(order[it.risk or "low"], -(it.confidence or 0)) for it in items]
    assert keys == sorted(keys), "worst first: highest risk, then highest confidence"
    assert all(it.judge_label != it.reference_label for it in items)
    html = render_html(small_report)
    assert "Reliability diagram" in html and "Risk vs coverage" in html


def test_probes_and_cost_are_shown(small_report: Report) -> None:
    assert [r.info.name for r in small_report.runs] == ["confident", "second"], "probe runs are not assessed"
    (probe,) = small_report.probes
    assert probe.probe == "position" and probe.results["flip_rate"] == 0.12
    html = render_html(small_report)
    assert "Bias probes" in html and "flip_rate" in html
    assert "$0.4321" in html and "200 requests" in html


def test_output_as_html_file_name(small_db: Path, tmp_path: Path) -> None:
    paths = write_report(_report(small_db, ["second"]), tmp_path / "sub" / "trust.html")
    assert [p.name for p in (paths.html, paths.markdown, paths.json)] == ["trust.html", "trust.md", "trust.json"]
    assert all(p.exists() for p in (paths.html, paths.markdown, paths.json))


def test_unknown_run_is_a_usage_error(demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "nope", "--db", str(demo_db), "-o", str(tmp_path)]) == 2
    assert "no judge run 'nope'" in capsys.readouterr().err


def test_importing_judgekit_does_not_import_matplotlib() -> None:
    code = (
        "import sys, judgekit, judgekit.report, judgekit.report.figures, judgekit.testing, judgekit.cli; "
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_disagreements_with_unanimous_annotators_are_listed_without_confidence(demo_db: Path) -> None:
    """The demo's judges report no confidence, so there is no confidently-wrong list; the items where all three
    annotators agree and the judge does not are listed instead, checked here against the labels themselves."""
    with Project(demo_db) as p:
        report = build_report(p, ["gpt-3.5-turbo"], lambda _rid: TrustCriteria(n_boot=100), max_items=15)
        (run,) = report.runs
        assert not run.confidently_wrong and not run.assessment.calibration.available
        assert len(run.disagreements) == 15
        verdicts = {v.item_id: v for v in p.verdicts("gpt-3.5-turbo")}
        humans: dict[str, set[str]] = {}
        for lab in p.labels():
            humans.setdefault(lab.item_id, set()).add(lab.label)
        for it in run.disagreements:
            assert it.confidence is None and len(it.human_labels) >= 2
            assert set(it.human_labels.values()) == humans[it.item_id] and len(humans[it.item_id]) == 1
            assert verdicts[it.item_id].status == "ok" and verdicts[it.item_id].label == it.judge_label
            assert it.judge_label != it.reference_label
        html = render_html(report)
        assert html.startswith("<!DOCTYPE html>")
        assert "Judge against unanimous annotators" in html and run.disagreements[0].item_id in html
        md = render_markdown(report)
        assert "Judge against unanimous annotators" in md and f"`{run.disagreements[0].item_id}`" in md
