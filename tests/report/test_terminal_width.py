"""Terminal output at 80 columns: every line ``judgekit check`` and ``judgekit agree`` print fits (the brief's
standard), on the bundled data whose names and figures are longest (HANNA: six criteria named UNIT.NAME, interval
scales, negative intervals, n=1056; DICES: a long judge name, 780 annotator pairs), and the two-basis table falls
back to one block per basis when two columns would not fit."""

from __future__ import annotations

from pathlib import Path

import pytest

from judgekit.agreement.judge_people import BothBases
from judgekit.agreement.render import WIDTH, both_bases, fit
from judgekit.cli import main
from judgekit.demo import build_demo_project
from judgekit.stats import Interval, StatResult


def _printed(args: list[str], capsys: pytest.CaptureFixture[str]) -> list[str]:
    main(args)
    cap = capsys.readouterr()
    return (cap.out + cap.err).splitlines()


def _too_wide(lines: list[str]) -> list[str]:
    return [line for line in lines if len(line) > WIDTH]


@pytest.mark.parametrize("dataset", ["hanna", "dices"])
def test_check_and_agree_fit_80_columns(
    dataset: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    db = str(build_demo_project(tmp_path / f"{dataset}.db", dataset).path)
    check = _printed(["check", "--db", db, "--n-boot", "100"], capsys)
    assert any("NOT TRUSTED" in line for line in check)
    assert _too_wide(check) == []
    if dataset == "dices":  # agree on HANNA prints the same rows as check (its parts), at twice the cost
        agree = _printed(["agree", "--db", db, "--n-boot", "100"], capsys)
        assert "VERDICT: NOT TRUSTED" in agree
        assert _too_wide(agree) == []
    else:  # per-criterion names under their criterion: 'relevance.*' then '[FAIL] judge_icc'
        assert "  relevance.*" in check and any(line.startswith("    [FAIL] judge_icc") for line in check)


def _fig(value: float, n: int) -> StatResult:
    return StatResult(name="kappa", value=value, n_items=n, interval=Interval(low=value - 0.05, high=value + 0.05))


def test_both_bases_is_two_columns_one_column_or_two_blocks() -> None:
    narrow = [("kappa vs reference", BothBases(failures_as_wrong=_fig(0.5, 999), ok_only=_fig(0.52, 974)))]
    assert len(both_bases("judge vs people", narrow)) == 2  # header + one row, two columns
    same = [("kappa vs reference", BothBases(failures_as_wrong=_fig(0.5, 99), ok_only=_fig(0.5, 99)))]
    assert both_bases("judge vs people", same)[0].startswith("judge vs people (the same on both bases")
    wide = [("kappa vs each annotator", BothBases(failures_as_wrong=_fig(-0.015, 10560), ok_only=_fig(-0.02, 10498)))]
    lines = both_bases("judge vs people", wide)
    assert lines[0] == "judge vs people, failures as wrong" and lines[2] == "judge vs people, ok verdicts only"
    assert _too_wide(lines) == []
    assert fit("a " * 100, "  ") == [line for line in fit("a " * 100, "  ") if len(line) <= WIDTH]
