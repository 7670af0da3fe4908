"""The admin page of an aligned rubric version (``judgekit align`` writes ``id@2`` derived from ``id@1``): its figures
are its own runs against the root's labels, read through the same lookup as :mod:`judgekit.agreement.data`
(``Rubric.labels_version``); the people, progress and gold labels shown and written are the root's, so a gold label
given on the aligned version's page is the reference of every version of the family."""

from __future__ import annotations

from judgekit.agreement import TrustCriteria, agreement_overview
from judgekit.agreement.data import load_adjudications
from judgekit.labeling import (
    adjudicate,
    compute_snapshot,
    data_stamp,
    item_detail,
    labelled_rubric,
    resolved_since,
    skip_item,
)
from judgekit.models import JudgeConfig, JudgeVerdict, Rubric, RubricLineage
from judgekit.storage import Project

from .conftest import build_disagreements

CRITERIA = TrustCriteria(n_boot=200, min_pair_overlap=4)


def _aligned(project: Project) -> tuple[Rubric, Rubric]:
    """The root (12 items labelled by alice and bob) and a derived version with a decision rule, judged by a run
    that agrees with alice everywhere."""
    root = project.rubrics()[0]
    derived = root.model_copy(
        update={
            "version": 2,
            "decision_rules": ["An answer that is wrong fails, however it is phrased."],
            "lineage": RubricLineage(parent=1, labels_from=1, strategy="rules", changes=["+ rule: ..."]),
        }
    )
    project.save_rubric(derived)
    derived = project.rubric(root.id, 2)
    cfg = JudgeConfig(provider="external", model="aligned", rubric_id=root.id, rubric_version=2)
    run = project.create_run("judge-v2", cfg, source="import")
    project.add_verdicts(
        run.id, [JudgeVerdict(item_id=f"it{i}", label="fail" if i % 3 == 0 else "pass") for i in range(12)]
    )
    return root, derived


def test_the_admin_page_of_an_aligned_version_reads_and_writes_the_roots_labels(db_url: str) -> None:
    project, _ = build_disagreements(db_url)
    root, derived = _aligned(project)
    assert derived.labels_version == 1 and labelled_rubric(project, derived) == root
    assert labelled_rubric(project, root) is root

    snap = compute_snapshot(project, derived, CRITERIA)
    assert [r.run for r in snap.runs] == ["judge-v2"]  # the aligned version's own run
    assert snap.n_items_labelled == 12 and snap.n_overlap_items == 12  # against the root's labels
    (fig,) = snap.runs
    assert fig.assessment.judge.kappa.failures_as_wrong.n_items == 10  # the two ties have no reference label
    live = agreement_overview(project, derived, CRITERIA)  # one truth: the page's figures are agree's
    assert snap.ceiling == live.ceiling and snap.n_items_labelled == live.n_items_labelled
    done = {p.annotator: p.labelled for p in snap.progress}
    assert (done["alice"], done["bob"]) == (12, 12)
    assert snap.disagreements.item_ids == ["it1", "it5"]  # only the ties: the run agrees with both elsewhere

    detail = item_detail(project, derived, "it1")
    assert sorted(p.annotator for p in detail.people) == ["alice", "bob"]

    # a gold label given on the aligned version's page resolves the root's labels: every version reads it
    gold = adjudicate(project, "root", derived, "it1", "pass", "the answer is right")
    assert (gold.rubric_id, gold.rubric_version) == (root.id, 1)
    for rubric in (derived, root):
        assert load_adjudications(project, rubric).item_ids == ["it1"]
        assert item_detail(project, rubric, "it1").gold == "pass"
    assert "it1" in resolved_since(project, derived, snap)
    adj = agreement_overview(project, derived, CRITERIA.model_copy(update={"reference": "adjudicated"}))
    assert adj.reference.n_with_reference == 1

    # work on the desk (of the root, the version people label) moves the aligned page's stamp
    before = data_stamp(project, derived, CRITERIA)
    skip_item(project, "alice", root, "it2")
    assert data_stamp(project, derived, CRITERIA).skips == before.skips + 1
