"""Page logic of the Streamlit app with ``AppTest``: sign-in, the desk's rounds (outbox in, items and answers out),
revise, blindness, item text rendered safely, sessions that end with access, server-side throttling, admin gate.

The desk is a browser component; AppTest cannot run its JavaScript, so these tests play its part: they set the
component's state (the outbox) as the page would and read the data the app sends it. The browser tests
(``test_browser.py``) check the JavaScript itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from judgekit.labeling import display_order, reset_code, set_active
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


def desk(at: AppTest) -> dict[str, Any]:
    """The data the app sent to the desk component in the last run."""
    (el,) = at.get("bidi_component")
    return json.loads(el.proto.json)


def send(at: AppTest, outbox: list[dict[str, Any]] | None = None, **state: Any) -> dict[str, Any]:
    """Play the page: set the desk's state (as desk.js does with setStateValue) and run; returns the new data."""
    nonce = at.session_state["_nonce"] + 1 if "_nonce" in at.session_state else 1
    at.session_state["_nonce"] = nonce
    at.session_state["desk"] = {"desk": {"outbox": outbox or [], "nonce": nonce, **state}}
    at.run()
    assert not at.exception
    return desk(at)


def submit(item_id: str, choice: str | None, rid: str, **kw: Any) -> dict[str, Any]:
    return {"rid": rid, "kind": "submit", "item_id": item_id, "choice": choice, **kw}


def _all_text(at: AppTest) -> str:
    parts = [c.value for c in at.code] + [t.value for t in at.text] + [m.value for m in at.markdown]
    parts += [e.value for e in at.error] + [s.value for s in at.success] + [i.value for i in at.info]
    parts += [w.value for w in at.warning]
    return "\n".join(str(p) for p in parts)


def test_sign_in_required_and_wrong_code(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    build_project(db_url, BINARY)[0].close()
    at = _start(monkeypatch, db_url, None)
    assert desk(at) == {"mode": "idle"}  # loaded, but nothing shown and no item sent before signing in
    at.text_input(key="code").input("abcdef-wrongwrongwr")
    at.button[0].click().run()
    assert "Unknown or inactive access code." in [e.value for e in at.error]
    assert "token" not in at.session_state


def test_submit_from_outbox_critique_rule_and_next_item(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    project, codes = build_project(db_url, BINARY)
    at = _start(monkeypatch, db_url, codes["alice"])
    data = desk(at)
    assert [lv["name"] for lv in data["view"]["levels"]] == ["Pass", "Fail"]
    assert [lv["critique"] for lv in data["view"]["levels"]] == [False, True]
    current, following = (it["item_id"] for it in data["view"]["items"])  # the current item and the next one
    assert data["progress"]["text"] == "0 labelled · 6 left for you · 0 skipped"
    data = send(at, [submit(current, "fail", "rid-app00001")])
    assert data["outcomes"][0]["status"] == "rejected" and "critique is required" in data["outcomes"][0]["message"]
    assert project.label_count() == 0
    action = submit(current, "fail", "rid-app00002", critique="It ignores the question.", seconds=4.5)
    data = send(at, [action])
    assert data["outcomes"] == [
        {
            "rid": "rid-app00002",
            "item_id": current,
            "status": "saved",
            "message": f"Saved label for item {current} (revision 1).",
        }
    ]
    (lab,) = project.labels()
    assert (lab.item_id, lab.label, lab.critique, lab.annotator, lab.time_spent_s) == (
        current,
        "fail",
        "It ignores the question.",
        "alice",
        4.5,
    )
    assert data["view"]["items"][0]["item_id"] == following  # the prefetched one is now current
    assert data["progress"]["text"] == "1 labelled · 5 left for you · 0 skipped"
    # the page sends the outbox again (a lost answer, a reload): nothing is stored twice
    send(at, [action])
    at.run()
    assert project.label_count() == 1
    # a repeat queued before a newer action is answered in the page's order, so its status ends on the newer one
    data = send(at, [action, submit(following, "pass", "rid-app00005")])
    assert [o["item_id"] for o in data["outcomes"]] == [current, following]
    assert data["outcomes"][-1]["message"] == f"Saved label for item {following} (revision 1)."
    assert project.label_count() == 2


def test_ordinal_levels_keys_skip_and_flag(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    project, codes = build_project(db_url, ORDINAL)
    at = _start(monkeypatch, db_url, codes["bob"])
    levels = desk(at)["view"]["levels"]
    assert [(lv["key"], lv["name"]) for lv in levels] == [
        ("1", "Unusable"),
        ("2", "Poor"),
        ("3", "Acceptable"),
        ("4", "Good"),
        ("5", "Excellent"),
    ]
    assert any("Correct on the main point" in lv["definition"] for lv in levels)  # definitions are shown
    first, second = (it["item_id"] for it in desk(at)["view"]["items"])
    skip = {"rid": "rid-app00003", "kind": "skip", "item_id": first, "flagged": True, "critique": "garbled"}
    data = send(at, [skip, submit(second, "4", "rid-app00004")])
    assert [o["message"] for o in data["outcomes"]] == [
        f"Skipped item {first} and flagged it.",
        f"Saved label for item {second} (revision 1).",
    ]
    assert project.db.execute("SELECT item_id, flagged, note FROM skips").fetchall()[0][:] == (first, 1, "garbled")
    assert [lab.label for lab in project.labels()] == ["4"]
    assert data["progress"]["text"].startswith("1 labelled") and data["progress"]["text"].endswith("1 skipped")


def test_revise_from_my_labels_keeps_history(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    project, codes = build_project(db_url, BINARY)
    at = _start(monkeypatch, db_url, codes["alice"])
    item = desk(at)["view"]["items"][0]["item_id"]
    send(at, [submit(item, "pass", "rid-app00005")])
    data = send(at, labels={"offset": 0})
    assert [(r["item_id"], r["level"], r["snippet"]) for r in data["labels"]["rows"]] == [
        (item, "Pass", f"Question number {item.removeprefix('it')}?")
    ]
    data = send(at, open=item)
    assert data["revise"]["item_id"] == item
    assert data["revise"]["revise"] == {
        "choice": "pass",
        "critique": "",
        "flagged": False,
        "revision": 1,
        "answers": {},
    }
    data = send(at, [submit(item, "fail", "rid-app00006", critique="on reflection, wrong")])
    assert data["outcomes"][0]["message"] == f"Revised label for item {item} (revision 2)."
    assert [(lab.label, lab.revision) for lab in project.labels(history=True)] == [("pass", 1), ("fail", 2)]
    data = send(at, open="it-does-not-exist")
    assert data["revise"] is None and "no label on item" in data["outcomes"][-1]["message"]


def test_pairwise_side_by_side_in_display_order(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    project, codes = build_project(db_url, PAIRWISE, n_items=8)
    at = _start(monkeypatch, db_url, codes["alice"])
    item = desk(at)["view"]["items"][0]
    n = item["item_id"].removeprefix("it")
    order = display_order("alice", item["item_id"])
    left, right = (f"left answer {n}", f"right answer {n}")
    assert [p["text"] for p in item["sides"]] == ([left, right] if order == "ab" else [right, left])
    assert [p["title"] for p in item["sides"]] == ["Response A", "Response B"]
    send(at, [submit(item["item_id"], "A", "rid-app00007")])  # "Response A is better": the one on the left
    (lab,) = project.labels()
    assert lab.display_order == order and lab.label == ("A" if order == "ab" else "B")


def test_untrusted_text_is_rendered_inert(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _project, codes = build_project(db_url, BINARY, n_items=1, script_item=True)
    at = _start(monkeypatch, db_url, codes["alice"])
    (item,) = desk(at)["view"]["items"]
    (pane,) = [p for p in item["frame"] if p["key"] == "input"]
    assert pane["text"] == SCRIPT_ITEM  # verbatim for the raw view
    assert "<script" not in pane["html"] and "<img" not in pane["html"]
    assert "&lt;script&gt;" in pane["html"] and "[image: x]" in pane["html"]
    assert item["sides"][0]["html"] == "<p>answer 0 <strong>bold</strong> &lt;b&gt;x&lt;/b&gt;</p>"


def test_annotator_is_blind_and_admin_gated(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    project, codes = build_project(db_url, BINARY)
    rubric = project.rubrics()[0]
    add_judge(project, "secret-judge", {f"it{i}": ("pass", 0.97) for i in range(6)})
    from judgekit.labeling import submit_label

    for i in range(6):
        submit_label(project, "bob", rubric, f"it{i}", "fail", critique=f"BOBS-CRITIQUE-{i}")
    at = _start(monkeypatch, db_url, codes["alice"])
    text = _all_text(at) + json.dumps(desk(at)) + json.dumps(send(at, labels={"offset": 0}))
    assert "secret-judge" not in text and "because pass" not in text and "BOBS-CRITIQUE" not in text
    assert not [r for r in at.radio if r.key == "page"]  # no admin page offered
    at.query_params["page"] = "admin"
    at.run()
    assert "Admins only." in [e.value for e in at.error]
    assert "BOBS-CRITIQUE" not in _all_text(at)


def test_deactivation_and_code_reset_end_the_session(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    project, codes = build_project(db_url, BINARY)
    at = _start(monkeypatch, db_url, codes["alice"])
    item = desk(at)["view"]["items"][0]["item_id"]
    set_active(project, "alice", False)
    at.session_state["desk"] = {"desk": {"outbox": [submit(item, "pass", "rid-app00008")], "nonce": 1}}
    at.run()
    assert project.label_count() == 0  # the submit after deactivation was not stored
    assert "deactivated" in _all_text(at) and desk(at)["mode"] == "idle"
    assert at.text_input(key="code")  # back on the sign-in page
    set_active(project, "alice", True)
    at.text_input(key="code").input(codes["alice"])
    at.button[0].click().run()
    assert desk(at)["mode"] == "desk"
    reset_code(project, "alice")
    at.run()  # a page load checks the session too
    assert "reset" in _all_text(at) and desk(at)["mode"] == "idle"


def test_sign_in_throttle_holds_across_browser_sessions(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _project, codes = build_project(db_url, BINARY)
    tag, secret = codes["alice"].split("-")
    wrong = f"{tag}-{'z' if secret[0] != 'z' else 'y'}{secret[1:]}"
    for _ in range(5):  # each a new browser session (a new tab used to start with a fresh counter)
        at = _start(monkeypatch, db_url, wrong)
        assert "Unknown or inactive access code." in [e.value for e in at.error]
    at = _start(monkeypatch, db_url, codes["alice"])
    assert any("Too many failed attempts" in e.value for e in at.error)
    assert "token" not in at.session_state


def test_db_from_command_line_argument(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _project, codes = build_project(db_url, BINARY)
    monkeypatch.delenv("JUDGEKIT_DB", raising=False)
    monkeypatch.setattr("sys.argv", ["app.py", "--db", str(db_url)])
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.text_input(key="code").input(codes["alice"])
    at.button[0].click().run()
    assert desk(at)["view"]["items"][0]["item_id"] == "it0"
    assert isinstance(at.session_state["_project"], Project)
