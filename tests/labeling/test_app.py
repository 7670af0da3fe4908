"""Page logic of the Streamlit app with ``AppTest``: sign-in, forms per scale, submit/skip/revise, admin gate,
blindness, item text rendered as text."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from judgekit.labeling import display_order
from judgekit.storage import Project

from .conftest import BINARY, ORDINAL, PAIRWISE, SCRIPT_ITEM, add_judge, build_project

APP = "../../labeling_app/app.py"  # relative to this file, as AppTest.from_file expects
TIMEOUT = 30


def _start(monkeypatch: pytest.MonkeyPatch, db: str | Path, code: str | None) -> AppTest:
    monkeypatch.setenv("JUDGEKIT_DB", str(db))
    monkeypatch.delenv("JUDGEKIT_RUBRIC", raising=False)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    if code is not None:
        at.text_input(key="code").input(code)
        at.button[0].click().run()
        assert not at.exception
    return at


def _all_text(at: AppTest) -> str:
    parts = [c.value for c in at.code] + [t.value for t in at.text] + [m.value for m in at.markdown]
    parts += [e.value for e in at.error] + [s.value for s in at.success] + [i.value for i in at.info]
    return "\n".join(str(p) for p in parts)


def test_sign_in_required_and_wrong_code(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build_project(db_url, BINARY)[0].close()
    at = _start(monkeypatch, db_url, None)
    assert not [b for b in at.button if b.key == "submit"]  # no form before signing in
    at.text_input(key="code").input("abcdef-wrongwrongwr")
    at.button[0].click().run()
    assert "Unknown or inactive access code." in [e.value for e in at.error]
    assert "annotator" not in at.session_state


def test_binary_submit_requires_critique_then_next_item(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, codes = build_project(db_url, BINARY)
    at = _start(monkeypatch, db_url, codes["alice"])
    assert [b.label for b in at.button if b.key and b.key.startswith("level_")] == ["Pass", "Fail"]
    first = at.session_state["task"]["item_id"]
    at.button(key="submit").click().run()
    assert any("Pick a level" in e.value for e in at.error)
    at.button(key="level_1").click().run()
    at.button(key="submit").click().run()
    assert any("critique is required" in e.value for e in at.error)
    assert project.label_count() == 0
    critique = next(t for t in at.text_area if t.key and t.key.startswith("critique_"))
    critique.input("It ignores the question.").run()
    at.button(key="submit").click().run()
    assert any("Saved label" in s.value for s in at.success)
    (lab,) = project.labels()
    assert (lab.item_id, lab.label, lab.critique, lab.annotator) == (first, "fail", "It ignores the question.", "alice")
    assert lab.time_spent_s is not None and lab.time_spent_s >= 0
    assert at.session_state["task"]["item_id"] not in (None, first)
    # the same request cannot be stored twice: a rerun after submit writes nothing more
    at.run()
    assert project.label_count() == 1


def test_ordinal_levels_skip_and_flag(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project, codes = build_project(db_url, ORDINAL)
    at = _start(monkeypatch, db_url, codes["bob"])
    labels = [b.label for b in at.button if b.key and b.key.startswith("level_")]
    assert labels == ["Unusable", "Poor", "Acceptable", "Good", "Excellent"]
    assert any("Correct on the main point" in t.value for t in at.text)  # definitions are shown
    skipped = at.session_state["task"]["item_id"]
    next(c for c in at.checkbox if c.key and c.key.startswith("flag_")).check().run()
    at.button(key="skip").click().run()
    assert project.db.execute("SELECT item_id, flagged FROM skips").fetchall()[0][:2] == (skipped, 1)
    assert at.session_state["task"]["item_id"] != skipped
    at.button(key="level_3").click().run()
    at.button(key="submit").click().run()
    assert [lab.label for lab in project.labels()] == ["4"]
    assert "1 labelled" in at.get("progress")[0].proto.text


def test_revise_keeps_history(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project, codes = build_project(db_url, BINARY)
    at = _start(monkeypatch, db_url, codes["alice"])
    item = at.session_state["task"]["item_id"]
    at.button(key="level_0").click().run()
    at.button(key="submit").click().run()
    at.button(key=f"revise_{item}").click().run()
    assert at.session_state["task"] == at.session_state["task"] | {"item_id": item, "mode": "revise"}
    assert at.button(key="level_0").proto.type == "primary"  # the earlier choice is preselected
    at.button(key="level_1").click().run()
    next(t for t in at.text_area if t.key and t.key.startswith("critique_")).input("on reflection, wrong").run()
    at.button(key="submit").click().run()
    assert any("Revised" in s.value for s in at.success)
    history = project.labels(history=True)
    assert [(lab.label, lab.revision) for lab in history] == [("pass", 1), ("fail", 2)]


def test_pairwise_side_by_side_in_display_order(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project, codes = build_project(db_url, PAIRWISE, n_items=8)
    at = _start(monkeypatch, db_url, codes["alice"])
    item_id = at.session_state["task"]["item_id"]
    n = item_id.removeprefix("it")
    order = display_order("alice", item_id)
    shown = [c.value for c in at.code]
    left, right = (f"left answer {n}", f"right answer {n}")
    assert shown[1:3] == ([left, right] if order == "ab" else [right, left])
    at.button(key="level_0").click().run()  # "Response A is better": the one shown on the left
    at.button(key="submit").click().run()
    (lab,) = project.labels()
    assert lab.display_order == order and lab.label == ("A" if order == "ab" else "B")


def test_untrusted_text_is_shown_verbatim(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _project, codes = build_project(db_url, BINARY, n_items=1, script_item=True)
    at = _start(monkeypatch, db_url, codes["alice"])
    assert SCRIPT_ITEM in [c.value for c in at.code]
    assert "answer 0 **bold** <b>x</b>" in [c.value for c in at.code]
    assert not any("<script>" in m.value for m in at.markdown)  # never passed to markdown


def test_annotator_is_blind_and_admin_gated(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project, codes = build_project(db_url, BINARY)
    rubric = project.rubrics()[0]
    add_judge(project, "secret-judge", {f"it{i}": ("pass", 0.97) for i in range(6)})
    from judgekit.labeling import submit_label

    for i in range(6):
        submit_label(project, "bob", rubric, f"it{i}", "fail", critique=f"BOBS-CRITIQUE-{i}")
    at = _start(monkeypatch, db_url, codes["alice"])
    text = _all_text(at)
    assert "secret-judge" not in text and "because pass" not in text and "BOBS-CRITIQUE" not in text
    assert not [r for r in at.radio if r.key == "page"]  # no admin page offered
    at.query_params["page"] = "admin"
    at.run()
    assert "Admins only." in [e.value for e in at.error]
    assert "BOBS-CRITIQUE" not in _all_text(at)


def test_admin_page_shows_progress_agreement_disagreements(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, codes = build_project(db_url, BINARY)
    rubric = project.rubrics()[0]
    from judgekit.labeling import submit_label

    for who in ("alice", "bob"):
        for i in range(6):
            value = "fail" if (i == 2 or (who == "bob" and i == 3)) else "pass"
            submit_label(project, who, rubric, f"it{i}", value, critique="why" if value == "fail" else None)
    add_judge(project, "judge-x", {f"it{i}": ("pass", 0.9) for i in range(6)})
    at = _start(monkeypatch, db_url, codes["root"])
    at.radio(key="page").set_value("Admin").run()
    assert not at.exception
    text = _all_text(at)
    assert "human ceiling (people vs people)" in text and "judge judge-x vs people" in text
    assert "kappa vs reference" in text and "n=6" in text
    assert "[" in text  # an interval is shown
    assert any("judge judge-x said pass" in e.label for e in at.expander)
    assert at.get("download_button")


def test_db_from_command_line_argument(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _project, codes = build_project(db_url, BINARY)
    monkeypatch.delenv("JUDGEKIT_DB", raising=False)
    monkeypatch.setattr("sys.argv", ["app.py", "--db", db_url])
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.text_input(key="code").input(codes["alice"])
    at.button[0].click().run()
    assert at.session_state["task"]["item_id"] == "it0"
    assert isinstance(at.session_state["_project"], Project)
