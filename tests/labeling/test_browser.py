"""The real thing: the app served by Streamlit, driven by headless Chromium through Playwright.

Signs in, labels several items with the keyboard only, revises one, checks the database, checks that an
annotator cannot open the admin page, that an item with a ``<script>`` tag shows it as text without running
it, and saves a screenshot. Needs /usr/bin/chromium; set JUDGEKIT_SKIP_BROWSER=1 to skip on machines without it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from judgekit.storage import Project

from .conftest import BINARY, REPO, SCRIPT_ITEM, build_project

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(os.environ.get("JUDGEKIT_SCREENSHOTS", "")) if os.environ.get("JUDGEKIT_SCREENSHOTS") else None

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path, dict[str, str]]]:
    if not CHROMIUM.exists():
        if os.environ.get("JUDGEKIT_SKIP_BROWSER") == "1":
            pytest.skip("JUDGEKIT_SKIP_BROWSER=1 and /usr/bin/chromium is missing")
        pytest.fail("/usr/bin/chromium is missing: install chromium or set JUDGEKIT_SKIP_BROWSER=1")
    db = tmp_path / "p.db"
    project, codes = build_project(db, BINARY, n_items=6, script_item=True)
    project.close()
    home = tmp_path / "home"
    home.mkdir()
    port = _free_port()
    env = dict(os.environ, JUDGEKIT_DB=str(db), HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(REPO / "labeling_app" / "app.py"),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
            "--client.toolbarMode",
            "minimal",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read().decode() if proc.stdout else ""  # type: ignore[union-attr]
                pytest.fail(f"streamlit did not start:\n{out}")
            time.sleep(0.2)
        yield url, db, codes
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_label_with_keyboard_revise_blind_and_safe(served: tuple[str, Path, dict[str, str]], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, db, codes = served
    shots = SHOTS or tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.set_default_timeout(20_000)
        page.goto(url)
        page.get_by_label("Access code").fill(codes["alice"])
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text("Item it0", exact=True)).to_be_visible()

        # the <script> item is shown as text and nothing ran or loaded
        expect(page.locator("code").filter(has_text="<script>document.title")).to_be_visible()
        assert page.evaluate("window.__pwned") is None and page.title() != "PWNED"
        assert not any(":9/" in r for r in requests) and not dialogs
        page.screenshot(path=str(shots / "labeling-item.png"), full_page=True)

        # keyboard only: 1 = pass, Enter submits, next item appears without a page reload
        page.evaluate("window.__same_page = 1")
        for expected in ("it0", "it1", "it2"):
            expect(page.get_by_text(f"Item {expected}", exact=True)).to_be_visible()
            expect(page.locator(".st-key-level_0 button")).to_have_count(1)  # the previous form is gone
            page.evaluate("document.activeElement && document.activeElement.blur()")
            page.keyboard.press("1")
            expect(page.locator(".st-key-level_0 button[kind='primary']")).to_have_count(1)
            page.keyboard.press("Enter")
            expect(page.get_by_text(f"Saved label for item {expected} (revision 1).")).to_be_visible()
        assert page.evaluate("window.__same_page") == 1  # no full reload
        # S skips
        expect(page.get_by_text("Item it3", exact=True)).to_be_visible()
        page.keyboard.press("s")
        expect(page.get_by_text("Skipped item it3.")).to_be_visible()

        # revise it1 to fail: critique required, typed, Tab to Submit, Enter
        page.get_by_text("My labels (revise an earlier one)").click()
        page.locator(".st-key-revise_it1 button").click()
        expect(page.get_by_text("Revising your label on item it1")).to_be_visible()
        page.evaluate("document.activeElement && document.activeElement.blur()")
        page.keyboard.press("2")
        expect(page.get_by_text("Critique (required for this level)")).to_be_visible()
        area = page.get_by_label("Critique (required for this level)")
        area.click()
        page.keyboard.type("Misses the point.")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        expect(page.get_by_text("Revised label for item it1 (revision 2).")).to_be_visible()
        page.screenshot(path=str(shots / "labeling-after-revise.png"), full_page=True)

        # an annotator cannot open the admin page
        expect(page.get_by_text("Page", exact=True)).to_have_count(0)
        page.goto(f"{url}/?page=admin")
        page.get_by_label("Access code").fill(codes["alice"])
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text("Admins only.")).to_be_visible()
        expect(page.get_by_text("human ceiling (people vs people)", exact=False)).to_have_count(0)
        page.screenshot(path=str(shots / "labeling-admin-denied.png"), full_page=True)

        # the admin sees the admin page
        admin = browser.new_page(viewport={"width": 1280, "height": 1400})
        admin.set_default_timeout(20_000)
        admin.goto(url)
        admin.get_by_label("Access code").fill(codes["root"])
        admin.get_by_role("button", name="Sign in").click()
        admin.get_by_text("Admin", exact=True).click()
        expect(admin.get_by_text("human ceiling (people vs people)", exact=False)).to_be_visible()
        expect(admin.get_by_role("button", name="Download labels")).to_be_visible()
        expect(admin.locator("[data-testid='stDataFrame'] canvas").first).to_be_attached()
        admin.wait_for_timeout(1000)  # let the data grids paint before the screenshot
        admin.screenshot(path=str(shots / "labeling-admin.png"), full_page=True)
        browser.close()

    with Project(db, create=False) as project:
        history = [(lab.item_id, lab.label, lab.revision, lab.critique) for lab in project.labels(history=True)]
        assert history == [
            ("it0", "pass", 1, None),
            ("it1", "pass", 1, None),
            ("it1", "fail", 2, "Misses the point."),
            ("it2", "pass", 1, None),
        ]
        assert project.db.execute("SELECT item_id FROM skips").fetchall()[0][0] == "it3"
    assert SCRIPT_ITEM.startswith("Say hi <script>")
