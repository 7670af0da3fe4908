"""The estimands of :mod:`judgekit.agreement`, checked against independent computations (scikit-learn's kappa on
the raw labels) and against the defects of issue 11: a ceiling hostage to the pair with the least overlap,
adjudicated labels mixed with blind ones, corrected labels flattering the judge."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from judgekit.agreement import ESTIMANDS, TrustCriteria, assess_run, describe, load_aligned
from judgekit.agreement.data import reference_by_item
from judgekit.agreement.estimands import figure_name, title_of
from judgekit.demo import build_demo_project
from judgekit.models import HumanLabel, Item, JudgeConfig, JudgeVerdict
from judgekit.storage import Project
from tests.helpers import rubric

FAST = TrustCriteria(n_boot=200)


@pytest.fixture(scope="module")
def demo_with_newcomers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo plus three annotators who each label a handful of items (3, 8 and 14) at random: what happened
    when three people tried the app."""
    path = tmp_path_factory.mktemp("newcomers") / "demo.db"
    build_demo_project(path)
    rng = np.random.default_rng(0)
    with Project(path) as p:
        rb = p.rubric("pandalm-pairwise", 1)
        ids = [it.id for it in p.items()]
        for who, n in (("new1", 3), ("new2", 8), ("new3", 14)):
            for item_id in ids[:n]:
                p.add_label(
                    HumanLabel(
                        item_id=item_id,
                        annotator=who,
                        rubric_id=rb.id,
                        rubric_version=1,
                        label=str(rng.choice(rb.scale.values)),
                    )
                )
    return path


def test_the_ceiling_is_not_hostage_to_the_pair_with_least_overlap(demo_with_newcomers: Path) -> None:
    with Project(demo_with_newcomers) as p:
        default = assess_run(p, "gpt-3.5-turbo", FAST)
        counted_all = assess_run(p, "gpt-3.5-turbo", TrustCriteria(n_boot=200, min_pair_overlap=2))
        data = load_aligned(p, None, p.rubric("pandalm-pairwise", 1))
    pairs = {(x.a, x.b): x for x in default.ceiling.pairs}
    assert len(pairs) == 15  # 6 annotators: every pair reported, with its n
    assert pairs[("annotator1", "annotator2")].kappa.n_items == 999 and pairs[("annotator1", "annotator2")].counted
    small = [x for x in default.ceiling.pairs if "new" in x.a or "new" in x.b]
    assert {x.kappa.n_items for x in small} <= {3, 8, 14} and not any(x.counted for x in small)
    assert default.ceiling.n_pairs_counted == 3
    assert round(default.ceiling.kappa.value, 3) == 0.864  # unchanged by the newcomers
    # counted too (min overlap 2), the tiny pairs weigh by their few items (89 of 3,086): the ceiling moves by
    # their share only, 0.864 -> 0.839 ...
    assert abs(counted_all.ceiling.kappa.value - 0.864) < 0.03
    # ... while the unweighted mean of the same pairs (what the CLI printed before: 0.864 -> 0.228) collapses
    vals = [x.kappa.value for x in counted_all.ceiling.pairs if np.isfinite(x.kappa.value)]
    assert float(np.mean(vals)) < 0.6
    # each pair's kappa is scikit-learn's on the items both labelled (an independent implementation)
    human = data.human
    names = data.annotators
    for x in counted_all.ceiling.pairs:
        i, j = names.index(x.a), names.index(x.b)
        both = (human[:, i] != None) & (human[:, j] != None)  # noqa: E711
        if x.kappa.n_items >= 2 and np.isfinite(x.kappa.value):
            assert x.kappa.value == pytest.approx(cohen_kappa_score(human[both, i], human[both, j]), abs=1e-12)
    weighted = sum(x.kappa.n_items * x.kappa.value for x in counted_all.ceiling.pairs if np.isfinite(x.kappa.value))
    total = sum(x.kappa.n_items for x in counted_all.ceiling.pairs if np.isfinite(x.kappa.value))
    assert counted_all.ceiling.kappa.value == pytest.approx(weighted / total, abs=1e-12)


def _small(tmp_path: Path) -> Project:
    rb = rubric()
    rng = np.random.default_rng(7)
    p = Project(tmp_path / "p.db")
    p.save_rubric(rb)
    n = 120
    truth = rng.choice(["pass", "fail"], size=n)
    flip = {"pass": "fail", "fail": "pass"}
    p.add_items([Item(id=f"i{i}", input="q", output="o") for i in range(n)])
    with p.transaction():
        for a in range(3):
            for i in range(n):
                lab = truth[i] if rng.random() > 0.15 else flip[truth[i]]
                p.add_label(
                    HumanLabel(item_id=f"i{i}", annotator=f"a{a}", rubric_id=rb.id, rubric_version=1, label=lab)
                )
    run = p.create_run("j", JudgeConfig(provider="t", model="j", rubric_id=rb.id, rubric_version=1))
    judge = [str(truth[i] if rng.random() > 0.2 else flip[truth[i]]) for i in range(n)]
    p.add_verdicts(run.id, [JudgeVerdict(item_id=f"i{i}", label=judge[i]) for i in range(n)])
    return p


def test_adjudicated_labels_serve_as_the_reference_only_when_asked(tmp_path: Path) -> None:
    p = _small(tmp_path)
    rb = rubric()
    gold = {f"i{i}": ("pass" if i % 2 else "fail") for i in range(40)}  # the admin resolved 40 items
    for item_id, lab in gold.items():
        p.add_label(
            HumanLabel(
                item_id=item_id,
                annotator="lead",
                rubric_id=rb.id,
                rubric_version=1,
                label=lab,
                provenance="adjudicated",
            )
        )
    blind = assess_run(p, "j", FAST)
    adj = assess_run(p, "j", TrustCriteria(n_boot=200, reference="adjudicated"))
    assert blind.reference.rule == "majority" and blind.reference.n_with_reference == 120
    assert blind.n_annotators == 3, "an adjudication is not one more annotator"
    assert adj.reference.rule == "adjudicated" and adj.reference.provenance == "adjudicated"
    assert (adj.reference.n_with_reference, adj.reference.n_not_adjudicated) == (40, 80)
    k = adj.judge.kappa.failures_as_wrong
    assert k.n_items == 40, "items nobody adjudicated are left out, never filled in with blind labels"
    verdicts = {v.item_id: v.label for v in p.verdicts("j")}
    ids = sorted(gold, key=lambda s: int(s[1:]))
    expected = cohen_kappa_score([gold[i] for i in ids], [verdicts[i] for i in ids])
    assert k.value == pytest.approx(expected, abs=1e-12)
    assert adj.ceiling == blind.ceiling, "the human ceiling stays on blind labels"


def test_the_latest_adjudication_of_an_item_is_its_gold_label(tmp_path: Path) -> None:
    """Several adjudications of one item: the most recently submitted wins, whoever the admin (a plurality would
    keep "pass" on i0 and leave i1 out as a tie)."""
    p = _small(tmp_path)
    rb = rubric()

    def adjudicate(item_id: str, admin: str, label: str) -> None:
        p.add_label(
            HumanLabel(
                item_id=item_id,
                annotator=admin,
                rubric_id=rb.id,
                rubric_version=1,
                label=label,
                provenance="adjudicated",
            )
        )

    adjudicate("i0", "lead", "pass")
    adjudicate("i0", "boss", "pass")
    adjudicate("i0", "deputy", "fail")  # latest of three: fail, against a 2-1 plurality for pass
    adjudicate("i1", "lead", "fail")
    adjudicate("i1", "boss", "pass")  # a second admin supersedes the first
    adjudicate("i2", "lead", "pass")
    adjudicate("i2", "boss", "fail")
    adjudicate("i2", "lead", "pass")  # the first admin revises theirs last: pass
    ref = reference_by_item(p, rb, "adjudicated")
    assert ref.dropna().to_dict() == {"i0": "fail", "i1": "pass", "i2": "pass"}
    adj = assess_run(p, "j", TrustCriteria(n_boot=200, reference="adjudicated"))
    assert (adj.reference.n_with_reference, adj.reference.n_ties, adj.reference.n_not_adjudicated) == (3, 0, 117)
    assert adj.n_annotators == 3, "admins are not annotators"


def test_corrected_labels_are_reported_apart_with_their_effect(tmp_path: Path) -> None:
    p = _small(tmp_path)
    rb = rubric()
    before = assess_run(p, "j", FAST)
    assert before.corrected is None
    judge = {v.item_id: v.label for v in p.verdicts("j")}
    for i in range(60):  # a reviewer "corrects" 60 scores, mostly accepting the judge's
        lab = judge[f"i{i}"] if i % 20 else ("fail" if judge[f"i{i}"] == "pass" else "pass")
        p.add_label(
            HumanLabel(
                item_id=f"i{i}",
                annotator="reviewer",
                rubric_id=rb.id,
                rubric_version=1,
                label=str(lab),
                provenance="corrected",
            )
        )
    after = assess_run(p, "j", FAST)
    assert after.judge == before.judge and after.ceiling == before.ceiling, "human figures use blind labels only"
    c = after.corrected
    assert c is not None and c.n_items == 60
    assert c.judge_accuracy_corrected.value == pytest.approx(57 / 60)
    assert c.shift.value == pytest.approx(c.judge_accuracy_corrected.value - c.judge_accuracy_blind.value)
    assert c.shift.low is not None and c.shift.low > 0, "corrections made seeing the judge flatter it"
    assert c.shift.name == "corrected_shift"


def test_every_figure_is_a_named_estimand_with_its_n(tmp_path: Path) -> None:
    a = assess_run(_small(tmp_path), "j", FAST)
    figures = [a.ceiling.kappa, a.ceiling.alpha, a.judge.failure_rate, a.annotators_per_item, a.items_judged]
    for both in (a.judge.kappa, a.judge.accuracy, a.judge.mean_kappa, a.judge.gap):
        figures += [both.failures_as_wrong, both.ok_only]
    for fig in figures:
        key = fig.name.partition(".")[0]
        assert key in ESTIMANDS, fig.name
        assert title_of(fig.name) != fig.name and f"(n={fig.n_items})" in describe(fig)
    assert (
        title_of(figure_name("judge_kappa", "ok_only")) == "judge vs reference label, Cohen's kappa (ok verdicts only)"
    )
    for c in a.criteria:
        assert c.measured is None or c.measured.name.partition(".")[0] in ESTIMANDS, c.name


def test_a_segment_holding_every_item_is_the_headline(tmp_path: Path) -> None:
    """The report's risk-tier table once showed another interval than the headline for the same 999 items."""
    a = assess_run(_small(tmp_path), "j", FAST)
    (tier,) = a.per_risk
    (segment,) = a.per_segment
    assert tier.key == "unassessed" and segment.key == "(none)"
    assert tier.kappa == a.judge.kappa == segment.kappa and tier.accuracy == a.judge.accuracy
