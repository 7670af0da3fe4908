"""The annotator's desk without a browser: prefetched reservations, the outbox applied once, a busy database that
keeps labels, sessions checked on every submit, "My labels" with snippets, an end screen that agrees with the
progress line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from judgekit.labeling import (
    AssignmentPolicy,
    DeskAction,
    apply_actions,
    desk_view,
    get_annotator,
    my_labels_page,
    next_item,
    next_items,
    open_revision,
    open_session,
    parse_actions,
    progress,
    progress_line,
    reset_code,
    set_active,
    set_policy,
    submit_label,
)
from judgekit.storage import Project

from .conftest import BINARY, PAIRWISE, build_project


def _token(p: Project, name: str) -> str:
    who = get_annotator(p, name)
    assert who is not None
    return open_session(p, who)


def _submit(item_id: str, choice: str | None = "pass", rid: str = "rid-00000001", **kw: object) -> DeskAction:
    return DeskAction(rid=rid, kind="submit", item_id=item_id, choice=choice, **kw)  # type: ignore[arg-type]


def test_next_items_reserves_current_and_next_in_a_stable_order(db_url: str) -> None:
    p, _ = build_project(db_url, BINARY, n_items=5)
    set_policy(p, "helpfulness-pass-fail", AssignmentPolicy(overlap_fraction=0.0))
    rubric = p.rubrics()[0]
    first = [it.id for it in next_items(p, "alice", rubric, 2)]
    assert first == ["it0", "it1"]
    assert [it.id for it in next_items(p, "alice", rubric, 2)] == first  # asking again: the same reservations
    assert [it.id for it in next_items(p, "bob", rubric, 2)] == ["it2", "it3"]  # held for alice
    submit_label(p, "alice", rubric, "it0", "pass")
    assert [it.id for it in next_items(p, "alice", rubric, 2)] == ["it1", "it4"]  # it1 stays current
    assert next_item(p, "alice", rubric).id == "it1"  # type: ignore[union-attr]  # one item: the other released
    assert p.db.execute("SELECT COUNT(*) FROM label_claims WHERE annotator = 'alice'").fetchone()[0] == 1
    p.close()


def test_outbox_applied_once_however_often_it_is_sent(db_url: str) -> None:
    p, _ = build_project(db_url, BINARY, n_items=3)
    rubric = p.rubrics()[0]
    token = _token(p, "alice")
    outbox = [
        _submit("it0", rid="rid-aaaaaaa1", seconds=3),
        DeskAction(rid="rid-aaaaaaa2", kind="skip", item_id="it1", flagged=True, critique="garbled"),
    ]
    for _ in range(3):  # a reload, a lost answer, a retry: the same outbox again
        out = apply_actions(p, token, rubric, outbox)
        assert [(o.status, o.message) for o in out] == [
            ("saved", "Saved label for item it0 (revision 1)."),
            ("skipped", "Skipped item it1 and flagged it."),
        ]
    assert [(lab.item_id, lab.revision, lab.time_spent_s) for lab in p.labels(history=True)] == [("it0", 1, 3.0)]
    assert p.db.execute("SELECT item_id, flagged, note FROM skips").fetchall()[0][:] == ("it1", 1, "garbled")
    revised = apply_actions(p, token, rubric, [_submit("it0", "fail", rid="rid-aaaaaaa3", critique="no")])
    assert revised[0].message == "Revised label for item it0 (revision 2)."
    bad = apply_actions(p, token, rubric, [_submit("it2", "fail", rid="rid-aaaaaaa4")])
    assert bad[0].status == "rejected" and "critique is required" in bad[0].message
    assert apply_actions(p, token, rubric, [_submit("it2", None, rid="rid-aaaaaaa5")])[0].status == "rejected"
    p.close()


def test_busy_database_keeps_the_label_and_a_retry_stores_it_once(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    build_project(db, BINARY, n_items=3)[0].close()
    p = Project(db, create=False, lock_timeout=0.3)  # the app waits briefly; the lock below is held longer
    rubric = p.rubrics()[0]
    token = _token(p, "alice")
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    outbox = [_submit("it0", rid="rid-bbbbbbb1"), _submit("it1", rid="rid-bbbbbbb2")]
    out = apply_actions(p, token, rubric, outbox)
    assert [o.status for o in out] == ["busy", "busy"] and "kept" in out[0].message
    blocker.execute("ROLLBACK")
    blocker.close()
    assert p.label_count() == 0
    assert [o.status for o in apply_actions(p, token, rubric, outbox)] == ["saved", "saved"]
    assert [o.status for o in apply_actions(p, token, rubric, outbox)] == ["saved", "saved"]
    assert sorted(lab.item_id for lab in p.labels(history=True)) == ["it0", "it1"]
    p.close()


def test_every_submit_checks_the_session(db_url: str) -> None:
    p, _ = build_project(db_url, BINARY, n_items=3)
    rubric = p.rubrics()[0]
    token = _token(p, "alice")
    set_active(p, "alice", False)
    (ended,) = apply_actions(p, token, rubric, [_submit("it0", rid="rid-ccccccc1")])
    assert ended.status == "ended" and "deactivated" in ended.message
    set_active(p, "alice", True)
    reset_code(p, "alice")
    (ended,) = apply_actions(p, token, rubric, [_submit("it0", rid="rid-ccccccc2")])
    assert ended.status == "ended" and "reset" in ended.message
    assert p.label_count() == 0
    p.close()


def test_malformed_actions_are_refused_not_retried() -> None:
    good, bad = parse_actions(
        [
            {"rid": "rid-ddddddd1", "kind": "submit", "item_id": "it0", "choice": "pass", "seconds": 2},
            {"rid": "rid-ddddddd2", "kind": "delete", "item_id": "it0"},
            {"rid": "x", "kind": "submit", "item_id": "it0"},
            {"kind": "submit"},
            "nonsense",
        ]
    )
    assert [a.rid for a in good] == ["rid-ddddddd1"] and good[0].seconds == 2.0
    assert [o.rid for o in bad] == ["rid-ddddddd2", "x"] and all(o.status == "rejected" for o in bad)
    assert parse_actions(None) == ([], [])


def test_end_screen_agrees_with_the_progress_line(db_url: str) -> None:
    p, _ = build_project(db_url, BINARY, n_items=2)
    set_policy(p, "helpfulness-pass-fail", AssignmentPolicy(overlap_fraction=0.0))
    rubric = p.rubrics()[0]
    assert [it.id for it in next_items(p, "bob", rubric, 1)] == ["it0"]  # bob holds it0
    submit_label(p, "alice", rubric, "it1", "pass")
    view = desk_view(p, "alice", rubric)
    mine = progress(p, "alice", rubric)
    assert view.items == [] and mine.remaining == 1
    assert view.empty_message is not None and "1 more item is being labelled by someone else" in view.empty_message
    line = progress_line(mine, nothing_left=True)
    assert line == "1 labelled · 0 left for you now (1 held by others) · 0 skipped"
    assert "1 left for you" not in line  # the old screen said "1 left for you" beside "Nothing left"
    p.close()


def test_my_labels_pages_with_snippets_and_revision(db_url: str) -> None:
    p, _ = build_project(db_url, PAIRWISE, n_items=60)
    rubric = p.rubrics()[0]
    for i in range(55):
        submit_label(p, "alice", rubric, f"it{i}", "A", as_shown=True)
    submit_label(p, "alice", rubric, "it3", "tie", critique="on reflection")
    page = my_labels_page(p, "alice", rubric)
    assert page.total == 55 and len(page.rows) == 50
    assert page.rows[0].item_id == "it3" and page.rows[0].level == "Similar quality" and page.rows[0].revision == 2
    assert page.rows[1].item_id == "it54" and page.rows[1].snippet == "Question number 54?"
    assert page.rows[1].level == "Response A is better"  # in the annotator's terms, whatever the display order
    rest = my_labels_page(p, "alice", rubric, offset=50)
    assert [r.item_id for r in rest.rows] == ["it5", "it4", "it2", "it1", "it0"] and rest.offset == 50
    again = open_revision(p, "alice", rubric, "it3")
    assert again.revise is not None and (again.revise.choice, again.revise.critique) == ("tie", "on reflection")
    with pytest.raises(Exception, match="no label on item"):
        open_revision(p, "bob", rubric, "it3")
    p.close()
