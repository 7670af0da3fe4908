"""Serving the labeling app and driving Debian's Chromium, shared by the browser tests and the browser benchmark.

Why one place: the tests and ``benchmarks/bench_labeling_browser.py`` must start the app the same way (free port,
temp HOME, health check) and judge "usable" by the same probe, or the benchmark would measure something the tests
do not check.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from judgekit.cli.cmd_label import streamlit_command

REPO = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ["JUDGEKIT_SCREENSHOTS"]) if os.environ.get("JUDGEKIT_SCREENSHOTS") else None
"""Where the browser tests keep their screenshots (``JUDGEKIT_SCREENSHOTS``; by default the test's temp folder)."""
UI_WAIT_MS = 20_000
"""How long a check waits for the page to show something. Correctness is asserted in the tests, speed in
``benchmarks/bench_labeling_browser.py`` and ``bench_admin_browser.py``: on a shared CI machine at load 8 a save
confirmation can take seconds."""
APP = REPO / "labeling_app" / "app.py"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# "Usable" as a person means it: the heading "Item X" of an item other than ``prev`` is shown, the item's text is
# there, and the first level's button and Submit are present, enabled and not part of a stale (still re-running)
# part of the page. Works for the old Streamlit-widget form and the desk component alike, so before/after compare.
# Also installs a capturing key listener that stamps the time of the last Enter/Escape/digit key press.
PROBE_JS = r"""
(() => {
  if (window.__jk) return;
  const stale = (el) => !!el.closest('[data-stale="true"]');
  const jk = {
    t0: null,
    usable(prev) {
      const heads = [...document.querySelectorAll('h3, [data-jk-heading]')]
        .filter((h) => /^Item \S+/.test(h.textContent.trim()) && !stale(h));
      const head = heads[heads.length - 1];
      if (!head) return null;
      const id = head.textContent.trim().slice(5).split(/\s/)[0];
      if (id === prev) return null;
      const texts = [...document.querySelectorAll('code, [data-jk-pane]')].filter((c) => !stale(c));
      if (!texts.length) return null;
      const buttons = [...document.querySelectorAll('button')];
      const level = buttons.find((b) => b.textContent.trim().replace(/^\d\s*/, '').startsWith(jk.firstLevel));
      const submit = buttons.find((b) => b.textContent.trim().startsWith('Submit'));
      for (const b of [level, submit]) {
        if (!b || b.disabled || stale(b) || b.getBoundingClientRect().height === 0) return null;
      }
      return id;
    },
    firstLevel: 'Pass',
    arm(prev) {
      jk.result = null;
      const tick = () => {
        const id = jk.usable(prev);
        if (id !== null && jk.t0 !== null) { jk.result = {id, ms: performance.now() - jk.t0}; return; }
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    },
    firstUsable: null,
  };
  window.__jk = jk;
  window.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === 'Escape' || /^[0-9]$/.test(e.key)) jk.t0 = performance.now();
  }, true);
  // from document start: when an item first became usable (for reloads, measured from navigation start)
  const first = () => {
    if (document.body && jk.usable(null) !== null) { jk.firstUsable = performance.now(); return; }
    requestAnimationFrame(first);
  };
  requestAnimationFrame(first);
})();
"""


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (several suites run at once on the development machines)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def streamlit_args(app: Path, port: int) -> list[str]:
    """``judgekit label``'s own command line (127.0.0.1, headless, XSRF on), without the file watcher."""
    return [*streamlit_command(app, port, "127.0.0.1"), "--server.fileWatcherType", "none"]


@contextmanager
def serve_app(
    db: Path, workdir: Path, *, app: Path = APP, env: dict[str, str] | None = None, port: int | None = None
) -> Iterator[str]:
    """Run the app with ``streamlit run`` on a free port until the block ends; yields its URL.

    HOME and XDG_CACHE_HOME point into ``workdir`` so neither Streamlit nor Chromium writes to the real home.
    """
    home = workdir / "home"
    home.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    full_env = dict(os.environ, JUDGEKIT_DB=str(db), HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"))
    full_env.update(env or {})
    log = (workdir / f"streamlit-{port}.log").open("wb")
    proc = subprocess.Popen(streamlit_args(app, port), env=full_env, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, workdir / f"streamlit-{port}.log")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"streamlit did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.2)


def launch(playwright: Any) -> Any:
    """Debian's Chromium through Playwright (never a downloaded browser)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def require_chromium() -> None:
    """Fail (or skip, with ``JUDGEKIT_SKIP_BROWSER=1``) when Debian's Chromium is missing."""
    if not CHROMIUM.exists():
        if os.environ.get("JUDGEKIT_SKIP_BROWSER") == "1":
            pytest.skip("JUDGEKIT_SKIP_BROWSER=1 and /usr/bin/chromium is missing")
        pytest.fail("/usr/bin/chromium is missing: install chromium or set JUDGEKIT_SKIP_BROWSER=1")


def new_page(browser: Any, height: int = 900, width: int = 1280) -> Any:
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(UI_WAIT_MS)
    return page


def shot(page: Any, tmp_path: Path, name: str, *, full_page: bool = False) -> None:
    """A screenshot ``name.png`` in ``JUDGEKIT_SCREENSHOTS`` (or ``tmp_path``), to look at."""
    shots = SHOTS or tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"{name}.png"), full_page=full_page)


def sign_in(page: Any, url: str, code: str) -> None:
    """Open the app, sign in with ``code`` and wait for the desk's first item."""
    page.goto(url)
    page.get_by_label("Access code").fill(code)
    page.get_by_label("Access code").press("Enter")
    page.locator("[data-jk-heading]").wait_for()


def expect_heading(page: Any, item: str) -> None:
    """The desk shows item ``item``."""
    from playwright.sync_api import expect

    expect(page.locator("[data-jk-heading]")).to_have_text(f"Item {item}", timeout=UI_WAIT_MS)


def expect_status(page: Any, text: str) -> None:
    """The desk's status line says ``text``."""
    from playwright.sync_api import expect

    expect(page.locator(".jk-status")).to_have_text(text, timeout=UI_WAIT_MS)
