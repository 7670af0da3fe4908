"""``judgekit explain``'s figures: each failure mode's share of the gap to the ceiling is the full gap measured
again with the group's verdicts fixed, and the point-only mean kappa it uses is the one ``judge_vs_people``
reports (checked against a hand-written Cohen's kappa)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from judgekit.agreement import TrustCriteria, human_ceiling, load_aligned
from judgekit.agreement.judge_people import judge_mean_kappa_value, judge_vs_people
from judgekit.align.explain import _fixed, explain_run
from judgekit.models import HumanLabel, Item, ItemMetadata, JudgeConfig, JudgeVerdict
from judgekit.storage import Project
from tests.helpers import rubric

RUBRIC = rubric()  # pass / fail


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """150 items, 3 annotators around a hidden truth (one skips a third of the items), a judge wrong on 25% and
    failing on 10 items, critiques on some of its mistakes."""
    rng = np.random.default_rng(3)
    n = 150
    truth = rng.choice(["pass", "fail"], size=n)
    flip = {"pass": "fail", "fail": "pass"}
    p = Project(tmp_path / "explain.db", create=True)
    p.save_rubric(RUBRIC)
    p.add_items(
        [Item(id=f"i{i}", input=f"q{i}", output="o", metadata=ItemMetadata(segment=f"s{i % 3}")) for i in range(n)]
    )
    wrong = rng.random(n) < 0.25
    labels = []
    for a in range(3):
        for i in range(n):
            if a == 2 and i % 3 == 0:
                continue
            lab = str(truth[i]) if rng.random() > 0.08 else flip[str(truth[i])]
            note = "the answer hedges" if wrong[i] and i % 2 == 0 else None
            labels.append(
                HumanLabel(
                    item_id=f"i{i}", annotator=f"a{a}", rubric_id=RUBRIC.id, rubric_version=1, label=lab, critique=note
                )
            )
    p.add_labels(labels)
    run = p.create_run("j", JudgeConfig(provider="t", model="j", rubric_id=RUBRIC.id, rubric_version=1))
    verdicts = [
        JudgeVerdict(item_id=f"i{i}", status="parse_error", raw_reply="??")
        if i < 10
        else JudgeVerdict(item_id=f"i{i}", label=flip[str(truth[i])] if wrong[i] else str(truth[i]))
        for i in range(n)
    ]
    p.add_verdicts(run.id, verdicts)
    yield p
    p.close()


def _cohen(a: list[str], b: list[str]) -> tuple[float, int]:
    """Cohen's kappa of two label lists (written out: observed vs chance agreement of the marginals)."""
    cats = sorted(set(a) | set(b))
    x, y = np.array(a), np.array(b)
    p_o = float(np.mean(x == y))
    p_e = sum(float(np.mean(x == c)) * float(np.mean(y == c)) for c in cats)
    return (p_o - p_e) / (1 - p_e), len(a)


def test_the_point_mean_kappa_is_judge_vs_peoples_and_a_hand_computed_one(project: Project) -> None:
    c = TrustCriteria(n_boot=200)
    data = load_aligned(project, project.run("j"), RUBRIC)
    ceiling = human_ceiling(data.human_codes, data.annotators, data.rubric, c)
    full = judge_vs_people(data, ceiling, c).mean_kappa.failures_as_wrong
    assert judge_mean_kappa_value(data, c) == full.value
    # independent: each annotator vs the judge (a failed verdict is its own category), mean weighted by shared items
    judge = {iid: ("no verdict" if j is None else str(j)) for iid, j in zip(data.item_ids, data.judge, strict=True)}
    kappas = []
    for a in data.annotators:
        mine = {lab.item_id: lab.label for lab in project.labels(RUBRIC.id, 1, annotator=a)}
        kappas.append(_cohen([mine[i] for i in mine], [judge[i] for i in mine]))
    expected = sum(k * n for k, n in kappas) / sum(n for _, n in kappas)
    assert judge_mean_kappa_value(data, c) == pytest.approx(expected, abs=1e-12)


def test_each_share_of_the_gap_is_the_gap_closed_by_fixing_the_groups_verdicts(project: Project) -> None:
    c = TrustCriteria(n_boot=200)
    report = explain_run(project, "j", criteria=c)
    data = load_aligned(project, project.run("j"), RUBRIC)
    ceiling = human_ceiling(data.human_codes, data.annotators, data.rubric, c)
    gap = judge_vs_people(data, ceiling, c).gap.failures_as_wrong.value
    assert report.gap.value == pytest.approx(gap, abs=1e-12)
    facets = {m.facet for m in report.modes}
    assert {"label_pair", "segment", "critique"} <= facets  # "no verdict" pairs, segments, the critiques' words
    assert any(m.key.endswith("-> no verdict") for m in report.modes)
    for m in report.modes:
        rows = np.isin(np.asarray(data.item_ids, dtype=object), m.item_ids)
        fixed = judge_vs_people(_fixed(data, rows), ceiling, c).gap.failures_as_wrong.value
        assert m.gap_share.value == pytest.approx((gap - fixed) / gap, abs=1e-12), m.key
        assert m.gap_share.n_items == m.n_disagreements == len(m.item_ids)
