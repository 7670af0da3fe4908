"""Text a database cannot store (NUL, lone surrogates) is refused where a person can fix it and replaced where a
model wrote it, on every path and on both engines (judgekit.models.text).

Before: on PostgreSQL an item, a critique or a skip note holding U+0000 reached the driver, which refused the
whole write ("PostgreSQL text fields cannot contain NUL (0x00) bytes"): an import failed with an internal error and
an annotator's label was lost with a driver's message; a judge reply with U+0000 failed the run's verdict write.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from judgekit.cli import main
from judgekit.errors import UserError
from judgekit.labeling import DeskAction, apply_actions, get_annotator, open_session, skip_item, submit_label
from judgekit.models import HumanLabel, Item, JudgeConfig, JudgeVerdict, load_rubric
from judgekit.models.text import replace_unstorable, text_problem
from judgekit.storage import Project

from ..labeling.conftest import BINARY, build_project

BAD = ["a\x00b", "\x00", "q\ud800", "\udfff tail"]


@pytest.mark.parametrize("text", BAD)
@pytest.mark.parametrize("field", ["input", "output", "reference", "context"])
def test_item_text_refused_by_the_model(field: str, text: str) -> None:
    with pytest.raises(ValidationError, match=r"NUL character|lone surrogate"):
        Item(id="x", **{"input": "q", field: text})  # type: ignore[arg-type]


@pytest.mark.parametrize("text", BAD)
def test_message_text_and_label_critique_refused(text: str) -> None:
    with pytest.raises(ValidationError, match=r"NUL character|lone surrogate"):
        Item(id="x", messages=[{"role": "user", "content": text}])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match=r"NUL character|lone surrogate"):
        Item(id="x", messages=[{"role": "user", "content": [{"type": "text", "text": text}]}])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match=r"NUL character|lone surrogate"):
        HumanLabel(item_id="a", annotator="x", rubric_id="r", rubric_version=1, label="pass", critique=text)


def test_the_app_refuses_a_critique_or_note_it_cannot_store_and_keeps_nothing(db_url: str) -> None:
    p, _ = build_project(db_url, BINARY, n_items=3)
    rubric = p.rubrics()[0]
    for text in BAD:
        with pytest.raises(UserError, match=r"the critique holds a (NUL character|lone surrogate)"):
            submit_label(p, "alice", rubric, "it0", "fail", critique=text)
        with pytest.raises(UserError, match=r"the note holds a (NUL character|lone surrogate)"):
            skip_item(p, "alice", rubric, "it1", flagged=True, note=text)
    who = get_annotator(p, "alice")
    assert who is not None
    token = open_session(p, who)
    action = DeskAction(rid="rid-nul00001", kind="submit", item_id="it0", choice="fail", critique="x\x00")
    out = apply_actions(p, token, rubric, [action])
    assert out[0].status == "rejected" and "NUL character" in out[0].message
    assert p.labels() == []
    assert p.db.execute("SELECT COUNT(*) FROM skips").fetchone()[0] == 0
    submit_label(p, "alice", rubric, "it0", "fail", critique="fine now")  # the same label, fixed, is stored
    assert [lab.critique for lab in p.labels()] == ["fine now"]
    p.close()


def test_a_judge_reply_is_stored_with_replacement_characters(db_url: str) -> None:
    with Project(db_url) as p:
        p.save_rubric(load_rubric(BINARY))
        p.add_items([Item(id="a", input="q", output="o")])
        cfg = JudgeConfig(provider="openai", model="m", rubric_id="helpfulness-pass-fail", rubric_version=1)
        run = p.create_run("r", cfg)
        v = JudgeVerdict(item_id="a", label="pass", rationale="ok\x00then\ud800", raw_reply='{"x": "\x00"}')
        p.add_verdicts(run.id, [v])
        (back,) = p.verdicts("r")
        assert back.rationale == "ok\ufffdthen\ufffd"
        assert back.raw_reply == '{"x": "\ufffd"}'


def test_import_of_escaped_nul_names_line_and_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``\\u0000`` written as a JSON escape passes the file's byte check: the field check names it."""
    db = str(tmp_path / "p.db")
    path = tmp_path / "i.jsonl"
    path.write_text(
        json.dumps({"id": "a", "input": "q", "output": "o"}) + "\n" + json.dumps({"id": "b", "input": "q\x00"}) + "\n"
    )
    assert main(["import", "items", str(path), "--db", db]) == 2
    err = capsys.readouterr().err
    assert f"{path}:2: field 'input': holds a NUL character" in err and "internal error" not in err
    msgs = tmp_path / "m.jsonl"
    msgs.write_text(json.dumps({"id": "c", "messages": [{"role": "user", "content": "hi\x00"}]}) + "\n")
    assert main(["import", "items", str(msgs), "--db", db]) == 2
    err = capsys.readouterr().err
    assert f"{msgs}:1: " in err and "NUL character" in err and "internal error" not in err
    with Project(db) as p:
        assert p.items() == []


@given(st.text(max_size=30))
def test_the_rule_and_the_replacement_agree(text: str) -> None:
    fixed = replace_unstorable(text)
    assert isinstance(fixed, str) and text_problem(fixed) is None
    assert (fixed == text) == (text_problem(text) is None)
    assert len(fixed) == len(text)
