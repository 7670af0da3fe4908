"""The admin page in a real headless Chromium (Debian's, through Playwright): the figures arrive from the
background refresh, the disagreement browser lists one entry per item with the judge beside the people's labels,
is driven by the keyboard, keeps item text inert, and a gold label with a note is stored as an ``adjudicated``
label (and the item leaves the open list at once).

Needs /usr/bin/chromium; set JUDGEKIT_SKIP_BROWSER=1 to skip on machines without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from judgekit.labeling import submit_label
from judgekit.storage import Project

from .browser_support import serve_app, shot
from .conftest import BINARY, add_judge, build_disagreements, build_project

FIGURES_TIMEOUT_MS = 300_000  # the first figures come from a separate process (imports + bootstrap, under load)

pytestmark = pytest.mark.browser


def test_adjudicate_by_keyboard_in_the_browser(tmp_path: Path, browser: Any) -> None:
    from playwright.sync_api import expect

    db = tmp_path / "p.db"
    project, codes = build_disagreements(db, script_item=True)
    project.close()
    with serve_app(db, tmp_path) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(20_000)
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(f"{url}/?page=admin")
        page.get_by_label("Access code").fill(codes["root"])
        page.get_by_label("Access code").press("Enter")
        expect(page.get_by_text("Up to date.", exact=False)).to_be_visible(timeout=FIGURES_TIMEOUT_MS)
        expect(page.get_by_text("Judge judge-x (external:judge-x)")).to_be_visible()
        expect(page.get_by_text("of the wanted labels given", exact=False)).to_be_visible()
        shot(page, tmp_path, "admin-agreement", full_page=True)

        assert page.locator(".jk-adj").count() == 0  # only the open section is sent: the browser comes with its tab
        page.get_by_role("tab", name="Disagreements").click()
        rows = page.locator(".jk-adj-row")
        expect(rows).to_have_count(4)
        expect(rows.nth(0)).to_contain_text("it9")
        expect(rows.nth(0)).to_contain_text("people: Fail ×2")
        expect(rows.nth(0)).to_contain_text("judge-x: Pass (0.80)")
        expect(rows.nth(3)).to_contain_text("it0")
        heading = page.locator("[data-jk-adj-heading]")
        expect(heading).to_have_text("Item it9")  # the first entry is open, its detail sent ahead
        expect(page.locator(".jk-adj-detail")).to_contain_text("because pass")  # the judge's rationale

        # keys with nothing focused: j/k move through the list
        page.evaluate("document.activeElement && document.activeElement.blur()")
        page.keyboard.press("j")
        expect(heading).to_have_text("Item it6")
        page.keyboard.press("k")
        expect(heading).to_have_text("Item it9")
        # the item with a <script> in its text: shown as text, nothing runs or loads
        rows.nth(3).click()
        expect(heading).to_have_text("Item it0")
        expect(page.locator(".jk-adj-detail [data-jk-pane=input]")).to_contain_text("<script>document.title")
        assert page.evaluate("window.__pwned") is None and page.title() != "PWNED"
        assert not any(":9/" in r for r in requests)
        rows.nth(0).click()
        expect(heading).to_have_text("Item it9")

        # 2 picks Fail; a gold label needs a note; n goes to the note; Ctrl+Enter saves and moves on
        page.locator(".jk-adj-detail").focus()
        page.keyboard.press("2")
        expect(page.locator(".jk-adj .jk-level[aria-pressed=true]")).to_contain_text("Fail")
        page.keyboard.press("Control+Enter")
        expect(page.locator(".jk-adj .jk-status")).to_contain_text("A note is required with a gold label")
        page.keyboard.press("Escape")
        page.keyboard.press("n")
        page.keyboard.type("Both people are right: the answer is wrong.")
        page.keyboard.press("Control+Enter")
        expect(page.locator(".jk-adj .jk-status")).to_have_text(
            "Gold label for item it9: Fail (adjudication revision 1)."
        )
        expect(heading).to_have_text("Item it6")  # the next open entry
        expect(rows).to_have_count(3)  # it9 is no longer open
        shot(page, tmp_path, "admin-disagreements", full_page=True)

        page.locator("[data-testid=jk-adj-status-filter]").select_option("resolved")
        expect(rows).to_have_count(1)
        expect(rows.nth(0)).to_contain_text("gold: Fail")

        # a reload stays signed in, on the admin page and on its section (in the URL); the figures say a label
        # arrived since
        assert "section=Disagreements" in page.url
        page.reload()
        expect(page.get_by_text("Figures computed from the data as of", exact=False)).to_be_visible()
        expect(page.get_by_label("Access code")).to_have_count(0)
        expect(page.locator(".jk-adj-row").first).to_be_visible()
        expect(page.get_by_text("Judge judge-x (external:judge-x)")).to_have_count(0)

    with Project(db, create=False) as p:
        (gold,) = p.labels(provenance="adjudicated", history=True)
        assert (gold.item_id, gold.annotator, gold.label, gold.critique) == (
            "it9",
            "root",
            "fail",
            "Both people are right: the answer is wrong.",
        )
        assert len(p.labels(provenance="blind")) == 24  # the people's labels, untouched


def test_pages_of_a_block_turn_without_a_server_round(tmp_path: Path, browser: Any) -> None:
    """130 entries: the server sends them as one block (admin_page.BLOCK), the browser shows 50 at a time, and
    "Next page" within the block is answered in the page (the component's server round does not move)."""
    from playwright.sync_api import expect

    db = tmp_path / "p.db"
    project, codes = build_project(db, BINARY, n_items=130)
    rubric = project.rubrics()[0]
    for who in ("alice", "bob"):
        for i in range(130):
            submit_label(project, who, rubric, f"it{i}", "fail", critique="c")
    add_judge(project, "judge-x", {f"it{i}": ("pass", 0.9) for i in range(130)})
    project.close()
    with serve_app(db, tmp_path) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/?page=admin&section=Disagreements")
        page.get_by_label("Access code").fill(codes["root"])
        page.get_by_label("Access code").press("Enter")
        expect(page.locator(".jk-adj-count")).to_have_text("1-50 of 130 items", timeout=FIGURES_TIMEOUT_MS)
        # within the block a page turn is drawn in the same task as the click: no server round was awaited
        turn = """(cls) => { document.querySelector(cls).click();
                   return [document.querySelector('.jk-adj-count').textContent,
                           document.querySelector('.jk-adj-row .jk-adj-rank').textContent]; }"""
        assert page.evaluate(turn, ".jk-adj-next") == ["51-100 of 130 items", "51."]
        assert page.evaluate(turn, ".jk-adj-next") == ["101-130 of 130 items", "101."]
        expect(page.locator(".jk-adj-row")).to_have_count(30)
        expect(page.locator(".jk-adj-next")).to_be_disabled()
        assert page.evaluate(turn, ".jk-adj-prev") == ["51-100 of 130 items", "51."]
        page.locator(".jk-adj-detail").focus()
        page.keyboard.press("j")  # the shown page's entries are the ones moved through
        expect(page.locator("[data-jk-adj-heading]")).to_have_text(
            "Item " + page.locator(".jk-adj-row").nth(1).locator(".jk-list-id").inner_text(), timeout=20_000
        )
