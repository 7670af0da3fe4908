"""``judgekit check``: exit 0 trusted, 1 not trusted or insufficient evidence, 2 usage or input error."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from judgekit.cli import main


def test_passes_under_thresholds_the_judge_clears(
    demo_db: Path, low_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "gpt-3.5-turbo", "--db", str(demo_db), "--config", str(low_config)]) == 0
    out = capsys.readouterr().out
    assert "TRUSTED" in out and "[PASS] judge_kappa" in out
    assert len([ln for ln in out.splitlines() if ln.startswith("  [")]) == 9, "one line per criterion"


def test_fails_above_what_the_judge_reaches(
    demo_db: Path, low_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["check", "gpt-3.5-turbo", "--db", str(demo_db), "--config", str(low_config), "--min-kappa", "0.7"]
    assert main(args) == 1
    cap = capsys.readouterr()
    assert "[FAIL] judge_kappa" in cap.out
    err = cap.err.strip().splitlines()  # the verdict, then one line per reason (80 columns)
    assert err[0] == "judgekit: judge run 'gpt-3.5-turbo' is NOT TRUSTED:"
    assert len(err) == 2 and err[1].startswith("  - judge_kappa: kappa 0.476")


def test_defaults_fail_a_judge_far_below_the_ceiling(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no configuration file anywhere up: the documented defaults apply
    assert main(["check", "--db", str(demo_db), "--n-boot", "200"]) == 1
    cap = capsys.readouterr()
    assert "judge run 'pandalm-7b'" in cap.out, "the newest run by default"
    assert "gap_to_human_ceiling" in cap.err


def test_bad_config_and_unknown_run_exit_2(demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "judgekit.toml"
    bad.write_text("min_kappa = 7\n")
    assert main(["check", "--db", str(demo_db), "--config", str(bad)]) == 2
    assert "min_kappa" in capsys.readouterr().err
    bad.write_text("min_kappa = [\n")
    assert main(["check", "--db", str(demo_db), "--config", str(bad)]) == 2
    assert main(["check", "nope", "--db", str(demo_db)]) == 2
    assert main(["check", "--db", str(tmp_path / "missing.db")]) == 2


def test_junit_xml_and_summary(
    demo_db: Path, low_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit, summary = tmp_path / "out" / "judge.xml", tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    args = ["check", "pandalm-7b", "--db", str(demo_db), "--config", str(low_config), "--min-kappa", "0.45"]
    assert main([*args, "--junit-xml", str(junit), "--summary", str(summary)]) == 1
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert len(cases) == 9 and suite.get("tests") == "9"
    failure = cases["judge_kappa"].find("failure")
    assert failure is not None and failure.get("type") == "inconclusive", "0.45 lies inside the interval"
    assert cases["enough_items"].find("failure") is None and cases["enough_items"].find("skipped") is None
    assert cases["calibration_ece"].find("skipped") is not None
    assert cases["alt_test"].find("skipped") is not None, "disabled in the config"
    md = summary.read_text()
    assert md.startswith("earlier step\n"), "the summary is appended, as $GITHUB_STEP_SUMMARY expects"
    assert "INSUFFICIENT EVIDENCE" in md and "`judge_kappa`" in md
