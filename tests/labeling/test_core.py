"""The labeling library without any front end: codes, queue, submit/skip/revise, admin figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from judgekit.agreement import TrustCriteria
from judgekit.errors import UserError
from judgekit.labeling import (
    AssignmentPolicy,
    LevelCount,
    add_annotator,
    agreement_summary,
    authenticate,
    disagreements,
    display_order,
    flags,
    in_overlap,
    item_detail,
    label_history,
    label_matrix,
    list_annotators,
    my_labels,
    next_item,
    progress,
    progress_all,
    queue_entries,
    rebuild_queue,
    reset_code,
    set_active,
    set_policy,
    shown_label,
    skip_item,
    submit_label,
)
from judgekit.storage import Project

from .conftest import BINARY, ORDINAL, PAIRWISE, add_judge, build_project


def test_codes_are_hashed_and_authenticate(db_url: str, tmp_path: Path) -> None:
    project, codes = build_project(db_url, BINARY)
    stored = [r[0] for r in project.db.execute("SELECT code_hash FROM annotators")]
    for code in codes.values():
        assert all(code not in h and code.split("-")[1] not in h for h in stored)
    who = authenticate(project, codes["alice"])
    assert who is not None and who.name == "alice" and not who.is_admin
    assert authenticate(project, "  " + codes["root"].upper() + " ").is_admin  # type: ignore[union-attr]
    wrong_last = "x" if codes["alice"][-1] != "x" else "y"  # a different last character, whatever the code drew
    assert authenticate(project, codes["alice"][:-1] + wrong_last) is None
    assert authenticate(project, "") is None and authenticate(project, "nonsense") is None
    with pytest.raises(UserError, match="already exists"):
        add_annotator(project, "alice")
    with pytest.raises(UserError, match="invalid annotator name"):
        add_annotator(project, "bad name")
    set_active(project, "bob", False)
    assert authenticate(project, codes["bob"]) is None
    new = reset_code(project, "alice")
    assert authenticate(project, codes["alice"]) is None and authenticate(project, new) is not None
    assert [a.name for a in list_annotators(project)] == ["alice", "bob", "root"]


def test_queue_order_risk_then_judge_signals(db_url: str, tmp_path: Path) -> None:
    project, _ = build_project(db_url, BINARY, n_items=6, risky=(4,))
    set_policy(project, "helpfulness-pass-fail", AssignmentPolicy(overlap_fraction=0.0))
    rubric = project.rubrics()[0]
    add_judge(project, "j1", {"it1": ("pass", 0.99), "it2": ("pass", 0.9), "it3": ("pass", 0.55)})
    add_judge(project, "j2", {"it1": ("pass", 0.99), "it2": ("fail", 0.9), "it3": ("pass", 0.95)})
    # it1: a person says fail, the judges confidently say pass -> confidently wrong
    submit_label(project, "carol", rubric, "it1", "fail", critique="wrong")
    rebuild_queue(project, rubric)
    order = [e.item_id for e in queue_entries(project, rubric, limit=10, open_only=False)]
    assert order[:4] == ["it4", "it1", "it2", "it3"]
    reasons = {e.item_id: e.reasons for e in queue_entries(project, rubric, open_only=False)}
    assert "high risk" in reasons["it4"] and "judge confidently wrong" in reasons["it1"]
    assert "judges disagree" in reasons["it2"] and "judge unsure" in reasons["it3"]
    # it1 is done (1 annotator per item) so alice starts with the risky one, then it2
    first = next_item(project, "alice", rubric)
    assert first is not None and first.id == "it4"


def test_assignment_targets_overlap_and_never_twice(db_url: str, tmp_path: Path) -> None:
    project, _ = build_project(db_url, ORDINAL, n_items=40)
    set_policy(
        project,
        "answer-quality-1to5",
        AssignmentPolicy(annotators_per_item=1, overlap_fraction=0.25, overlap_annotators=3),
    )
    rubric = project.rubrics()[0]
    overlap = {f"it{i}" for i in range(40) if in_overlap(rubric.id, f"it{i}", 0.25)}
    assert 3 <= len(overlap) <= 20
    seen: dict[str, list[str]] = {}
    for who in ("a1", "a2", "a3", "a4"):
        while (item := next_item(project, who, rubric)) is not None:
            assert item.id not in seen.get(who, [])
            seen.setdefault(who, []).append(item.id)
            submit_label(project, who, rubric, item.id, "3")
    per_item: dict[str, int] = {}
    for lab in project.labels(rubric.id, rubric.version):
        per_item[lab.item_id] = per_item.get(lab.item_id, 0) + 1
    assert all(per_item[i] == (3 if i in overlap else 1) for i in per_item)
    assert len(per_item) == 40
    assert progress(project, "a4", rubric).remaining == 0


def test_claims_keep_item_stable_and_spread_concurrent_annotators(db_url: str, tmp_path: Path) -> None:
    project, _ = build_project(db_url, BINARY, n_items=3)
    set_policy(project, "helpfulness-pass-fail", AssignmentPolicy(overlap_fraction=0.0))
    rubric = project.rubrics()[0]
    a = next_item(project, "alice", rubric)
    assert a is not None and next_item(project, "alice", rubric).id == a.id  # type: ignore[union-attr]
    b = next_item(project, "bob", rubric)
    assert b is not None and b.id != a.id  # alice's reservation holds
    skip_item(project, "alice", rubric, a.id, flagged=True, note="garbled")
    nxt = next_item(project, "alice", rubric)
    assert nxt is not None and nxt.id not in {a.id, b.id}
    assert [f.kind for f in flags(project, rubric)] == ["skip"]


def test_submit_rules_idempotency_and_revision(binary_project: tuple[Project, dict[str, str]]) -> None:
    project, _ = binary_project
    rubric = project.rubrics()[0]
    with pytest.raises(UserError, match="critique is required"):
        submit_label(project, "alice", rubric, "it0", "fail", critique="   ")
    with pytest.raises(UserError, match="not a level"):
        submit_label(project, "alice", rubric, "it0", "maybe")
    with pytest.raises(UserError, match="unknown item"):
        submit_label(project, "alice", rubric, "nope", "pass")
    first = submit_label(project, "alice", rubric, "it0", "pass", request_id="r1", time_spent_s=3.5)
    again = submit_label(project, "alice", rubric, "it0", "pass", request_id="r1")
    assert first.revision == again.revision == 1 and project.label_count() == 1
    revised = submit_label(
        project, "alice", rubric, "it0", "fail", critique="missed the question", flagged=True, request_id="r2"
    )
    assert revised.revision == 2
    assert [lab.label for lab in label_history(project, "alice", rubric, "it0")] == ["pass", "fail"]
    assert [lab.label for lab in my_labels(project, "alice", rubric)] == ["fail"]
    assert my_labels(project, "bob", rubric) == []
    p = progress(project, "alice", rubric)
    assert (p.labelled, p.revisions, p.flagged) == (1, 1, 1)
    # the queue counts people, not revisions
    assert project.db.execute("SELECT n_labelled FROM label_queue WHERE item_id = 'it0'").fetchone()[0] == 1


def test_pairwise_display_order_is_recorded_and_mapped(db_url: str, tmp_path: Path) -> None:
    project, _ = build_project(db_url, PAIRWISE, n_items=30)
    rubric = project.rubrics()[0]
    orders = {display_order("alice", f"it{i}") for i in range(30)}
    assert orders == {"ab", "ba"}
    assert display_order("alice", "it3") == display_order("alice", "it3")
    ba = next(f"it{i}" for i in range(30) if display_order("alice", f"it{i}") == "ba")
    ab = next(f"it{i}" for i in range(30) if display_order("alice", f"it{i}") == "ab")
    # alice clicks "Response A is better" (left) on both: on the swapped item the left one is output_b
    lab_ba = submit_label(project, "alice", rubric, ba, "A", as_shown=True)
    lab_ab = submit_label(project, "alice", rubric, ab, "A", as_shown=True)
    assert (lab_ba.label, lab_ba.display_order) == ("B", "ba")
    assert (lab_ab.label, lab_ab.display_order) == ("A", "ab")
    assert shown_label(rubric, "tie", "ba") == "tie"
    assert shown_label(rubric, shown_label(rubric, "A", "ba"), "ba") == "A"


def test_admin_agreement_disagreements_and_progress(db_url: str, tmp_path: Path) -> None:
    project, _ = build_project(db_url, BINARY, n_items=12)
    rubric = project.rubrics()[0]
    truth = ["pass" if i % 3 else "fail" for i in range(12)]
    for who in ("alice", "bob"):
        for i, lab in enumerate(truth):
            flip = who == "bob" and i in (1, 5)
            value = ("fail" if lab == "pass" else "pass") if flip else lab
            submit_label(project, who, rubric, f"it{i}", value, critique="c" if value == "fail" else None)
    add_judge(project, "judge", {f"it{i}": ("pass", 0.5 + i / 30) for i in range(12)})
    summary = agreement_summary(project, rubric, TrustCriteria(n_boot=200, min_pair_overlap=10))
    assert summary.n_overlap_items == 12
    assert summary.ceiling.alpha.interval is not None
    assert 0.3 < summary.ceiling.kappa.value < 1 and summary.ceiling.kappa.n_items == 12
    (j,) = summary.judges
    assert j.judge.mean_kappa.failures_as_wrong.value < summary.ceiling.kappa.value
    # one entry per item where the judge says something else than both people, most confident judge first
    found = disagreements(project, rubric)
    assert [d.item_id for d in found] == ["it9", "it6", "it3", "it0"]
    assert all(d.majority == "fail" and d.kind == "judge" for d in found)
    assert all([(j.run, j.label, j.against) for j in d.judges] == [("judge", "pass", True)] for d in found)
    confs = [d.confidence for d in found]
    assert confs == sorted(confs, reverse=True) and confs[0] == pytest.approx(0.5 + 9 / 30)
    assert all(d.snippet and d.people == [LevelCount(level="fail", n=2)] for d in found)
    # where the two people disagree there is no majority: those are the ties, not judge disagreements
    assert sorted(d.item_id for d in disagreements(project, rubric, kind="tie")) == ["it1", "it5"]
    detail = item_detail(project, rubric, "it9")
    assert [(p.annotator, p.label, p.critique) for p in detail.people] == [("alice", "fail", "c"), ("bob", "fail", "c")]
    assert [(j.run, j.label) for j in detail.judges] == [("judge", "pass")] and detail.gold is None
    m = label_matrix(project, rubric)
    assert m.values.shape == (12, 2)
    names = [p.annotator for p in progress_all(project, rubric)]
    assert names == ["alice", "bob", "root"]


def test_labels_survive_reopen(db_url: str, tmp_path: Path) -> None:
    project, _ = build_project(db_url, BINARY)
    rubric = project.rubrics()[0]
    submit_label(project, "alice", rubric, "it2", "pass")
    project.close()
    again = Project(db_url, create=False)
    assert [lab.item_id for lab in again.labels()] == ["it2"]
    again.close()
