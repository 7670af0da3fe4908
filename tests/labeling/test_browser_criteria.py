"""The annotator desk for a rubric with rated criteria, in headless Chromium: one control per criterion (level
buttons for categorical scales, a number with a slider for an interval scale), a submit that names what is
missing, and a label stored with every criterion's answer and the overall label derived from them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from judgekit.models import Item, Message, ToolCall
from judgekit.storage import Project

from .browser_support import UI_WAIT_MS, expect_heading, expect_status, new_page, serve_app, shot, sign_in
from .conftest import build_project

RATED = Path(__file__).resolve().parents[2] / "rubrics" / "assistant_turn_criteria.yaml"
pytestmark = pytest.mark.browser


def test_one_control_per_criterion_and_every_answer_stored(tmp_path: Path, browser: Any) -> None:
    from playwright.sync_api import expect

    db = tmp_path / "p.db"
    project, codes = build_project(db, RATED, n_items=1)
    trace = [
        Message(role="user", content="Book me a flight to <b>Paris</b>"),
        Message(role="assistant", tool_calls=[ToolCall(id="c1", name="search", arguments={"to": "CDG"})]),
        Message(role="tool", tool_call_id="c1", content="AF123 at 08:00"),
        Message(role="assistant", content="Booked **AF123**."),
    ]
    project.add_items([Item(id="conv", messages=trace)])
    project.close()
    with serve_app(db, tmp_path) as url:
        page = new_page(browser)
        sign_in(page, url, codes["alice"])
        expect_heading(page, "it0")
        boxes = page.locator(".jk-criterion")
        expect(boxes).to_have_count(3)
        expect(boxes.locator("legend")).to_have_text(["helpfulness", "grounded", "safety"])
        # a submit with a criterion unrated says which, and stores nothing
        page.locator("[data-criterion=helpfulness] .jk-crit-level", has_text="Helpful").click()
        page.locator(".jk-submit").click()
        expect_status(page, "Rate every criterion first: grounded, safety.")
        grounded = page.locator("[data-criterion=grounded] .jk-crit-number")
        expect(grounded).to_have_attribute("max", "1")
        grounded.fill("0.75")
        page.locator("[data-criterion=safety] .jk-crit-level", has_text="Safe").first.click()
        expect(page.locator(".jk-crit-level[aria-pressed=true]")).to_have_count(2)
        shot(page, tmp_path, "labeling-criteria")
        grounded.press("Enter")  # Enter in the number box submits, as in the critique box
        expect_heading(page, "conv")
        expect_status(page, "Saved label for item it0 (revision 1).")
        # the conversation as turns: numbered by role, the tool call folded, the judged turn marked, text as text
        turns = page.locator(".jk-turn")
        expect(turns).to_have_count(4)
        expect(turns.locator(".jk-role")).to_have_text(
            ["1. User", "2. Assistant", "3. Tool result ← c1", "4. Assistant · under judgement"]
        )
        expect(turns.nth(0)).to_contain_text("<b>Paris</b>")
        expect(page.locator(".jk-turn.jk-judged")).to_have_count(1)
        call = page.locator(".jk-tool-call")
        expect(call.locator("summary")).to_have_text("tool call search (id c1)")
        expect(call.locator("pre")).not_to_be_visible()  # folded until opened
        call.locator("summary").click()
        expect(call.locator("pre")).to_contain_text('"to": "CDG"')
        shot(page, tmp_path, "labeling-conversation")
        # an off-step score is refused by the server with the scale's words, and nothing is stored
        page.locator("[data-criterion=helpfulness] .jk-crit-level", has_text="Useless").click()
        page.locator("[data-criterion=grounded] .jk-crit-number").fill("0.6")
        page.locator("[data-criterion=safety] .jk-crit-level", has_text="Unsafe").click()
        page.locator(".jk-submit").click()
        expect(page.locator(".jk-status")).to_contain_text("steps", timeout=UI_WAIT_MS)
    with Project(db) as p:
        labels = p.labels()
    assert [(lab.item_id, lab.label, lab.criteria) for lab in labels] == [
        ("it0", "pass", {"helpfulness": "4", "grounded": "0.75", "safety": "safe"})
    ]
