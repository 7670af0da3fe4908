"""The report shows each run's largest failure modes (on dev) and every alignment record, with the same figures as
``judgekit explain --json`` and ``judgekit alignments --json`` (one truth, in JSON, Markdown and HTML); align's
candidate runs are shown in their record, not assessed as runs unless named."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from judgekit.align import AlignmentRecord, AlignSettings, align
from judgekit.align.render import signed
from judgekit.cli import main
from judgekit.report import build_report
from judgekit.report._format import fmt_pct
from judgekit.storage import Project
from tests.align.world import World


def _align(w: World) -> AlignmentRecord:
    s = AlignSettings(
        run="start",
        split=w.split.key,
        strategies=("rules",),
        proposer="openai:gpt-4o-mini",
        judge_model="openai:gpt-4o-mini",
        base_url=w.server.openai_url,
    )
    return align(w.project, s, echo=lambda _m: None, progress=False, stream=io.StringIO())


def _cli_json(capsys: pytest.CaptureFixture[str], args: list[str]) -> Any:
    capsys.readouterr()
    assert main(args) == 0
    return json.loads(capsys.readouterr().out)


def _report(capsys: pytest.CaptureFixture[str], w: World, out: Path) -> tuple[dict[str, Any], str, str]:
    assert main(["report", "--db", str(w.path), "-o", str(out)]) == 0
    capsys.readouterr()
    data = json.loads((out / "report.json").read_text())
    return data, (out / "report.md").read_text(), (out / "report.html").read_text()


def test_the_report_shows_the_failure_modes_and_the_alignment_record_as_explain_and_alignments_do(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    w = world
    rec = _align(w)
    w.project.close()
    data, md, html = _report(capsys, w, tmp_path / "rep")
    assert [r["info"]["name"] for r in data["runs"]] == ["start"]  # the candidate is in the record, not a run
    explained = _cli_json(capsys, ["explain", "start", "--db", str(w.path), "--json"])
    modes = data["runs"][0]["failure_modes"]
    assert modes["where"] == f"the dev part of split {w.split.key}" and modes["n_items"] == w.split.n_dev
    # one truth: every figure of the report's failure modes is explain's (the report details its 3 largest)
    assert {k: v for k, v in modes.items() if k != "largest"} == {k: v for k, v in explained.items() if k != "largest"}
    assert modes["largest"] == explained["largest"][: len(modes["largest"])] and len(modes["largest"]) == 3
    top = modes["largest"][0]
    assert top["key"] == "fail -> pass" and top["examples"]
    share = f"{fmt_pct(top['gap_share']['value'], 0)} (n={top['gap_share']['n_items']})"
    for text in (md, html):
        assert "Largest failure modes" in text and "people say fail, the judge says pass" in text
        assert share in text and top["examples"][0]["item_id"] in text
    assert top["examples"][0]["input"].split(":")[0] in html  # the example items' text, in HTML
    # the alignment record: the same as judgekit alignments --json, figures included
    (listed,) = _cli_json(capsys, ["alignments", "--db", str(w.path), "--json"])
    assert data["alignments"] == [listed] and listed["name"] == rec.name
    assert rec.test is not None and rec.test.carried_over
    gain = signed(rec.test.kappa_gain)  # as judgekit align and judgekit alignments print it
    select_gain = signed(rec.candidates[0].select.kappa_gain) if rec.candidates[0].select else "?"
    cost = f"${rec.cost.total:.4f}"
    assert "### Alignments (judgekit align)" in md and "**rules** (chosen)" in md
    assert 'id="alignments"' in html and "<strong>rules</strong> (chosen)" in html
    for text in (md, html):
        assert "CONFIRMED ON TEST" in text and "carried over" in text and "did not carry over" not in text
        assert gain in text and select_gain in text and cost in text
    # named, a candidate is assessed like any run (same labels: it is compared with the start)
    with Project(w.path) as project:
        named = build_report(project, runs=["start", rec.candidates[0].run or ""])
    assert len(named.runs) == 2 and len(named.comparisons) == 1


def test_the_report_says_plainly_that_a_dev_only_winner_did_not_carry_over(
    dev_only_world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    w = dev_only_world
    rec = _align(w)
    assert rec.test is not None and not rec.test.carried_over
    w.project.close()
    data, md, html = _report(capsys, w, tmp_path / "rep")
    assert data["alignments"][0]["test"]["carried_over"] is False
    for text in (md, html):
        assert "did not carry over" in text and "DID NOT CARRY OVER" in text and "not an improvement" in text
        assert "CONFIRMED ON TEST" not in text
