"""The bundled HANNA data (six criteria rated 1-5 by three people, two LLM judges): imported exactly, and its
per-criterion figures equal independent computations from the bundled CSV (scipy, numpy)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps

from judgekit.agreement import TrustCriteria, assess_run
from judgekit.datasets.hanna import CRITERIA, FOLDER
from judgekit.demo import build_demo_project
from judgekit.storage import Project


def _csv() -> list[dict[str, str]]:
    with (FOLDER / "hanna_ratings.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_hanna_demo_has_every_rating_and_a_row_per_criterion(tmp_path: Path) -> None:
    demo = build_demo_project(tmp_path / "hanna.db", "hanna")
    assert (demo.n_items, demo.n_labels) == (1056, 3168)
    rows = _csv()
    with Project(demo.path) as p:
        mistral = p.verdicts("mistral-7b")
        bad = sum(a.status == "parse_error" for v in mistral for a in v.criteria.values())
        assert bad == sum(not 1 <= float(r[f"Mistral-7B_{c}"]) <= 5 for r in rows for c in CRITERIA.values()) == 253
        a = assess_run(p, "chatgpt", TrustCriteria(n_boot=100))
        m = assess_run(p, "mistral-7b", TrustCriteria(n_boot=100))
    # README: the people's MAE is the mean over the three annotator pairs (all share every story); Mistral-7B is
    # closer to each person than people are to each other on every criterion (the gap's whole interval below 0)
    for part, code in zip(m.parts, CRITERIA.values(), strict=True):
        people_c = np.array([[float(r[f"human{h}_{code}"]) for h in (1, 2, 3)] for r in rows])
        pairs = [np.abs(people_c[:, i] - people_c[:, j]).mean() for i, j in ((0, 1), (0, 2), (1, 2))]
        n = part.numeric
        assert n is not None and n.human_mae is not None and n.human_mae.value == pytest.approx(np.mean(pairs))
        assert n.mae_gap is not None and n.mae_gap.high is not None and n.mae_gap.high < 0
    assert [x.scope for x in a.parts] == list(CRITERIA)
    assert all(x.scale == "interval" for x in a.parts)
    coherence = next(x for x in a.parts if x.scope == "coherence").numeric
    assert coherence is not None and coherence.judge_pearson is not None and coherence.judge_mae is not None
    people = np.array([[float(r[f"human{h}_CH"]) for h in (1, 2, 3)] for r in rows])
    judge = np.array([float(r["ChatGPT_CH"]) for r in rows])
    assert coherence.judge_pearson.n_items == 1056
    assert coherence.judge_pearson.value == pytest.approx(sps.pearsonr(judge, people.mean(axis=1)).statistic)
    assert coherence.judge_mae.value == pytest.approx(np.abs(judge - people.mean(axis=1)).mean())
    assert a.verdict == "NOT TRUSTED"  # ChatGPT scores coherence 1.7 points below people on average


def test_hanna_report_has_a_row_per_criterion(tmp_path: Path) -> None:
    from judgekit.report import build_report, write_report

    demo = build_demo_project(tmp_path / "hanna.db", "hanna")
    with Project(demo.path) as p:
        report = build_report(p, ["chatgpt"], lambda _rid: TrustCriteria(n_boot=100))
    paths = write_report(report, tmp_path / "report")
    md = paths.markdown.read_text()
    html = paths.html.read_text()
    for name in CRITERIA:
        assert f"| `{name}` | interval | ICC |" in md
        assert f'<strong class="mono">{name}</strong>' in html
    a = report.runs[0].assessment
    assert '"parts"' in paths.json.read_text() and len(a.parts) == 6


def test_hanna_numeric_figures_per_segment_and_risk_tier(tmp_path: Path) -> None:
    """Per segment (HANNA: the story's system), the numeric figures of the segment's items, computed as the
    headline is: MAE and bias against the mean human score and the people's pairwise MAE equal numpy on the CSV's
    rows of that system; the one risk tier (none assessed) holds every story, so it shows the headline itself."""
    from judgekit.agreement.render import numeric_group_rows
    from judgekit.report import build_report, write_report

    demo = build_demo_project(tmp_path / "hanna.db", "hanna")
    with Project(demo.path) as p:
        a = assess_run(p, "chatgpt", TrustCriteria(n_boot=100))
    rows = _csv()
    coherence = next(x for x in a.parts if x.scope == "coherence")
    segments = {g.key: g for g in coherence.per_segment}
    assert len(segments) == 11 and all(g.numeric is not None for g in segments.values())
    for system, g in segments.items():
        mine = [r for r in rows if r["system"] == system and 1 <= float(r["ChatGPT_CH"]) <= 5]
        people = np.array([[float(r[f"human{h}_CH"]) for h in (1, 2, 3)] for r in mine])
        judge = np.array([float(r["ChatGPT_CH"]) for r in mine])
        n = g.numeric
        assert n is not None and n.judge_mae is not None and n.judge_bias is not None and n.human_mae is not None
        assert n.judge_mae.n_items == len(mine)
        assert n.judge_mae.value == pytest.approx(np.abs(judge - people.mean(axis=1)).mean())
        assert n.judge_bias.value == pytest.approx((judge - people.mean(axis=1)).mean())
        every = [r for r in rows if r["system"] == system]
        allp = np.array([[float(r[f"human{h}_CH"]) for h in (1, 2, 3)] for r in every])
        pairs = [np.abs(allp[:, i] - allp[:, j]).mean() for i, j in ((0, 1), (0, 2), (1, 2))]
        assert n.human_mae.value == pytest.approx(np.mean(pairs))
    (tier,) = coherence.per_risk
    assert tier.numeric is not None and coherence.numeric is not None
    for name in ("human_icc", "human_mae", "judge_icc", "judge_mae", "judge_bias"):
        assert getattr(tier.numeric, name) == getattr(coherence.numeric, name), name
    groups = numeric_group_rows(a)
    assert len(groups) == 6 * (11 + 1)  # six criteria, 11 systems and the one risk tier each
    with Project(demo.path) as p:
        report = build_report(p, ["chatgpt"], lambda _rid: TrustCriteria(n_boot=100))
    md = write_report(report, tmp_path / "report").markdown.read_text()
    assert "| people ICC | people MAE | judge ICC | judge MAE | judge bias |" in md
    assert f"| `coherence` | segment {next(iter(segments))} |" in md
