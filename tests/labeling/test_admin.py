"""The admin page and adjudication: the snapshot of figures (stale when labels arrive, recomputed), the disagreement
browser (one entry per item, every judge beside the labels), gold labels with a note stored as ``adjudicated``
labels that never count as blind ones, and the page through ``AppTest`` (its component played as in
``test_app.py``; ``test_browser.py`` runs its JavaScript in Chromium).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from judgekit.agreement import TrustCriteria, agreement_overview
from judgekit.agreement.render import figure_cell
from judgekit.errors import UserError
from judgekit.labeling import (
    Annotator,
    add_annotator,
    adjudicate,
    apply_admin_actions,
    compute_snapshot,
    data_stamp,
    disagreements,
    get_annotator,
    item_detail,
    load_snapshot,
    my_labels,
    open_session,
    parse_admin_actions,
    progress,
    request_refresh,
    snapshot_state,
    submit_label,
    wait_for_refresh,
)
from judgekit.models import Rubric
from judgekit.storage import Project

from .conftest import add_judge, build_disagreements

APP = "../../labeling_app/app.py"
TIMEOUT = 60
CRITERIA = TrustCriteria(n_boot=200, min_pair_overlap=4)


def _labelled(db_url: str) -> tuple[Project, Rubric, dict[str, str]]:
    project, codes = build_disagreements(db_url)
    return project, project.rubrics()[0], codes


def test_snapshot_goes_stale_when_labels_arrive_and_is_recomputed(db_url: str) -> None:
    project, rubric, _ = _labelled(db_url)
    assert snapshot_state(project, rubric, CRITERIA).snapshot is None
    assert request_refresh(project, rubric, CRITERIA, mode="inline")
    state = snapshot_state(project, rubric, CRITERIA)
    assert state.fresh and state.snapshot is not None and "Up to date." in state.describe()
    assert not request_refresh(project, rubric, CRITERIA, mode="inline")  # fresh: nothing to do
    first = state.snapshot
    (run,) = first.runs
    assert run.assessment.judge.kappa.failures_as_wrong.n_items == 10  # the two ties have no reference label
    assert set(run.plots) >= {"confusion", "forest", "reliability"} and run.plots["confusion"].startswith("<svg")
    assert first.disagreements.item_ids == ["it0", "it1", "it3", "it5", "it6", "it9"]

    # a new label (of any kind) makes the snapshot stale; the page says how many are not in the figures yet
    submit_label(project, "root", rubric, "it1", "pass")  # breaks the tie of it1
    state = snapshot_state(project, rubric, CRITERIA)
    assert not state.fresh and state.new_labels == 1
    assert "1 label stored since are not in them yet." in state.describe()
    assert load_snapshot(project, rubric) == first  # still shown (and said to be stale) until recomputed
    # a refresh that just ended is not repeated at once unless forced (at most half a core on average)
    assert not request_refresh(project, rubric, CRITERIA, state=state, mode="inline")
    assert request_refresh(project, rubric, CRITERIA, force=True, mode="inline")
    again = snapshot_state(project, rubric, CRITERIA)
    assert again.fresh and again.snapshot is not None and again.snapshot.stamp != first.stamp
    assert again.snapshot.n_items_labelled == 12 and "it1" not in again.snapshot.disagreements.item_ids

    # other data moves the stamp too: a new judge run, other criteria
    stamp = data_stamp(project, rubric, CRITERIA)
    assert data_stamp(project, rubric, TrustCriteria(n_boot=300, min_pair_overlap=4)) != stamp
    add_judge(project, "judge-y", {"it0": ("fail", None)})
    assert data_stamp(project, rubric, CRITERIA) != stamp


def test_snapshot_refresh_in_a_background_process(db_url: str) -> None:
    project, rubric, _ = _labelled(db_url)
    assert request_refresh(project, rubric, CRITERIA, mode="background")
    assert not request_refresh(project, rubric, CRITERIA, mode="background")  # one refresh at a time
    assert wait_for_refresh(project, rubric, timeout=300)
    state = snapshot_state(project, rubric, CRITERIA)
    assert state.error is None and state.fresh and state.snapshot is not None
    # the figures are the library's, computed in another process: the same numbers as computed here
    here = compute_snapshot(project, rubric, CRITERIA)
    assert state.snapshot.runs[0].assessment.judge == here.runs[0].assessment.judge


def test_browser_one_entry_per_item_every_judge_and_orders(db_url: str) -> None:
    project, rubric, _ = _labelled(db_url)
    add_judge(project, "judge-y", {f"it{i}": ("fail", None) for i in range(12)})
    rows = disagreements(project, rubric, kind="all")
    ids = [r.item_id for r in rows]
    assert len(ids) == len(set(ids))  # one entry per item, however many judges disagree on it
    assert all([j.run for j in r.judges] == ["judge-x", "judge-y"] for r in rows)
    # judge-y says fail everywhere: against the people on every pass item; judge-x against them on the fail items
    judge_rows = disagreements(project, rubric, limit=100)
    assert {r.item_id for r in judge_rows} == {f"it{i}" for i in range(12)} - {"it1", "it5"}
    assert [r.item_id for r in judge_rows[:4]] == ["it9", "it6", "it3", "it0"]  # confident judge-x first
    only_y = disagreements(project, rubric, run="judge-y")
    assert {r.item_id for r in only_y} == {"it2", "it4", "it7", "it8", "it10", "it11"}
    assert all(r.confidence is None and r.strength > 0 for r in only_y)
    assert all(r.snippet.startswith("Question number") for r in rows)
    ties = disagreements(project, rubric, kind="tie")
    assert [r.item_id for r in ties] == ["it1", "it5"] and all(r.majority is None for r in ties)


def test_adjudication_is_stored_apart_from_blind_labels(db_url: str) -> None:
    project, rubric, _ = _labelled(db_url)
    with pytest.raises(UserError, match="only an active admin"):
        adjudicate(project, "alice", rubric, "it9", "fail", "because")
    with pytest.raises(UserError, match="a note is required"):
        adjudicate(project, "root", rubric, "it9", "fail", "  ")
    with pytest.raises(UserError):
        adjudicate(project, "root", rubric, "it9", "maybe", "not a level")
    before = agreement_overview(project, rubric, CRITERIA)
    gold = adjudicate(project, "root", rubric, "it9", "fail", "both people are right: the answer is wrong")
    assert (gold.provenance, gold.annotator, gold.critique) == (
        "adjudicated",
        "root",
        "both people are right: the answer is wrong",
    )
    adjudicate(project, "root", rubric, "it1", "pass", "tie broken")
    # never one more blind label: the ceiling, the admin's progress and My labels are unchanged
    after = agreement_overview(project, rubric, CRITERIA)
    assert after.ceiling == before.ceiling and after.n_items_labelled == before.n_items_labelled
    assert progress(project, "root", rubric).labelled == 0 and my_labels(project, "root", rubric) == []
    assert [(lab.item_id, lab.annotator) for lab in project.labels(rubric.id, rubric.version, provenance="blind")][
        :2
    ] == [("it0", "alice"), ("it0", "bob")]
    detail = item_detail(project, rubric, "it9")
    assert detail.gold == "fail" and [a.note for a in detail.adjudications] == [gold.critique]
    add_annotator(project, "lead", admin=True)  # a second admin's later resolution supersedes the first
    adjudicate(project, "lead", rubric, "it9", "pass", "rereading: it is fine")
    detail = item_detail(project, rubric, "it9")
    assert detail.gold == "pass" and [a.admin for a in detail.adjudications] == ["lead", "root"]
    adjudicate(project, "lead", rubric, "it9", "fail", "no, root was right")
    assert item_detail(project, rubric, "it9").gold == "fail"
    # the gold labels serve as the reference only when asked for, and say so
    adj = agreement_overview(project, rubric, CRITERIA.model_copy(update={"reference": "adjudicated"}))
    (j,) = adj.judges
    assert j.judge.accuracy.failures_as_wrong.n_items == 2 and j.judge.accuracy.failures_as_wrong.value == 0.5
    assert adj.reference.rule == "adjudicated" and adj.reference.n_with_reference == 2


def _who(project: Project, name: str) -> Annotator:
    found = get_annotator(project, name)
    assert found is not None
    return found


def test_admin_actions_need_an_admin_session_and_are_idempotent(db_url: str) -> None:
    project, rubric, _ = _labelled(db_url)
    raw = [
        {"rid": "r1234567", "kind": "adjudicate", "item_id": "it9", "label": "fail", "note": "clear"},
        {"rid": "r7654321", "kind": "adjudicate", "item_id": "it9", "label": 3},
        {"kind": "nonsense"},
    ]
    good, bad = parse_admin_actions(raw)
    assert [a.rid for a in good] == ["r1234567"] and [(o.rid, o.status) for o in bad] == [("r7654321", "rejected")]
    alice = open_session(project, _who(project, "alice"))
    (refused,) = apply_admin_actions(project, alice, rubric, good)
    assert refused.status == "rejected" and refused.message == "Admins only."
    root = open_session(project, _who(project, "root"))
    for _ in range(2):  # the page resends until acknowledged: stored once
        (saved,) = apply_admin_actions(project, root, rubric, good)
        assert saved.status == "saved" and "Gold label for item it9: Fail" in saved.message
    assert len(project.labels(rubric.id, rubric.version, provenance="adjudicated", history=True)) == 1
    (empty,) = apply_admin_actions(project, root, rubric, parse_admin_actions([{**raw[0], "rid": "r0000000"}])[0])
    assert empty.status == "saved"
    (no_note,) = apply_admin_actions(
        project, root, rubric, parse_admin_actions([{**raw[0], "rid": "r1111111", "note": ""}])[0]
    )
    assert no_note.status == "rejected" and "a note is required" in no_note.message


# -- the page through AppTest -----------------------------------------------------------------------------------


def _browsers(at: AppTest) -> list[Any]:
    """The disagreement browser components on the page (the page also holds its session-cookie keeper)."""
    return [el for el in at.get("bidi_component") if el.proto.component_name.endswith("judgekit_admin")]


def _component(at: AppTest) -> dict[str, Any]:
    (el,) = _browsers(at)
    return json.loads(el.proto.json)


def _play(at: AppTest, **state: Any) -> dict[str, Any]:
    """Set the browser component's state as admin.js does, run, and return the data the page sent it."""
    nonce = at.session_state["_adj_nonce"] + 1 if "_adj_nonce" in at.session_state else 1
    at.session_state["_adj_nonce"] = nonce
    at.session_state["adjudication"] = {"adj": {"nonce": nonce, **state}}
    at.run()
    assert not at.exception
    return _component(at)


def _tables(at: AppTest) -> str:
    return "\n".join(t.value.to_csv() for t in at.table)


def test_admin_page_figures_browser_and_gold_label(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    project, rubric, codes = _labelled(db_url)
    monkeypatch.chdir(tmp_path)  # no judgekit.toml: the page judges under the default criteria
    monkeypatch.setenv("JUDGEKIT_DB", db_url)
    monkeypatch.delenv("JUDGEKIT_RUBRIC", raising=False)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.text_input(key="code").input(codes["root"])
    at.button[0].click().run()
    at.radio(key="page").set_value("Admin").run()
    assert not at.exception
    # the first figures are computed in the background: the page says so, then shows them
    assert wait_for_refresh(project, rubric, timeout=300)
    at.run()
    assert not at.exception
    overview = agreement_overview(project, rubric, TrustCriteria())
    (judge,) = overview.judges
    shown = _tables(at)
    for fig in (overview.ceiling.kappa, judge.judge.kappa.failures_as_wrong, judge.judge.accuracy.ok_only):
        assert figure_cell(fig) in shown
    assert "Up to date." in "\n".join(c.value for c in at.caption)
    assert any("labels given" in str(p.proto.text) for p in at.get("progress"))

    assert not _browsers(at)
    at.session_state["section"] = "Disagreements"  # only the open section is sent: the browser comes with its tab
    at.run()
    assert not at.exception
    assert not at.table  # the figures' tables are not sent with another section
    data = _component(at)
    assert [r["item_id"] for r in data["page"]["rows"]] == ["it9", "it6", "it3", "it0"]
    assert data["details"]["it9"]["people"][0]["critique"] == "c"
    gold = {"rid": "gold-0001", "kind": "adjudicate", "item_id": "it9", "label": "fail", "note": "agreed"}
    data = _play(at, query=data["query"], outbox=[gold])
    assert [(o["rid"], o["status"]) for o in data["outcomes"]] == [("gold-0001", "saved")]
    assert [r["item_id"] for r in data["page"]["rows"]] == ["it6", "it3", "it0"]  # open ones only, at once
    (stored,) = project.labels(rubric.id, rubric.version, provenance="adjudicated")
    assert (stored.item_id, stored.annotator, stored.label, stored.critique) == ("it9", "root", "fail", "agreed")
    resolved = _play(at, query={**data["query"], "status": "resolved"}, want=["it9"])
    assert [(r["item_id"], r["gold"]) for r in resolved["page"]["rows"]] == [("it9", "fail")]
    assert resolved["details"]["it9"]["adjudications"][0]["note"] == "agreed"
    # the figures now say a label arrived since they were computed
    assert not snapshot_state(project, rubric, TrustCriteria()).fresh


def test_admin_page_is_for_admins_only(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    project, rubric, codes = _labelled(db_url)
    monkeypatch.setenv("JUDGEKIT_DB", db_url)
    monkeypatch.delenv("JUDGEKIT_RUBRIC", raising=False)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["page"] = "admin"
    at.run()
    at.text_input(key="code").input(codes["alice"])
    at.button[0].click().run()
    assert "Admins only." in [e.value for e in at.error]
    assert load_snapshot(project, rubric) is None  # nothing computed for someone who may not see it
