"""Benchmark: the labeling app as an annotator waits for it, in a real headless Chromium (Debian's, via Playwright).

On a project with 100,000 items and 1,000,000 labels (built like ``bench_labeling.py``; 50 annotators with about
20,000 labels each, the heaviest case for the queue), for the app of this checkout and, in the same run, the app as
it was before the rework (``labeling_app/app.py`` at ``--baseline-rev``, served against the same library):

* **next item**: after ``--think-ms`` on an item (1 s: a person reads at least that long; 0 labels back to back),
  from the Enter key press that submits it to the next item's heading, text and buttons being usable (not stale,
  enabled), measured inside the page (``performance.now()`` at keydown to the first animation
  frame at which the probe of ``tests/labeling/browser_support.py`` passes); budget 300 ms at p95;
* **sign-in**: from the Enter key press in the access-code field to the first item usable; budget 1 s at p95;
* **reload**: from navigation start of a reload to the item usable again (the old app signs out on reload, so it
  has no figure); budget 1 s at p95.

Each figure is taken in ``--rounds`` rounds; a round reports n, median, p95 and max, and the load average
(``os.getloadavg``) at its end. The summary gives the best round's p95 (best-of-N), the spread of p95 across rounds,
and p95/budget. The machine is shared: the load average is printed beside every figure, never hidden.

    .venv/bin/python benchmarks/bench_labeling_browser.py [--db PATH] [--items 100000] [--labels 1000000]
        [--rounds 3] [--per-round 30] [--think-ms 1000] [--apps desk,baseline] [--baseline-rev b0cc0cd]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from browser_rounds import APP, PROBE_JS, Series, access_code, bench_db, data_options, launch, load1, pct, serve_app  # noqa: E402

from judgekit.storage import Project  # noqa: E402

BUDGETS_MS = {"next item": 300.0, "sign-in": 1000.0, "reload": 1000.0}
BASELINE_REV = "b0cc0cd"  # main before the desk: Streamlit widgets, keys by st.button(shortcut=...)


def baseline_app(rev: str, folder: Path) -> Path:
    """The app file as it was at ``rev`` (it runs against this checkout's library)."""
    folder.mkdir(parents=True, exist_ok=True)
    text = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{rev}:labeling_app/app.py"], capture_output=True, text=True, check=True
    ).stdout
    path = folder / "app.py"
    path.write_text(text)
    return path


def sign_in(page: object, url: str, code: str) -> float:
    """Open the app, type the code, press Enter; ms from that key press to the first item usable."""
    page.goto(url)  # type: ignore[attr-defined]
    box = page.get_by_label("Access code")  # type: ignore[attr-defined]
    box.wait_for()
    box.fill(code)
    page.evaluate("window.__jk.arm(null)")  # type: ignore[attr-defined]
    box.press("Enter")
    page.wait_for_function("window.__jk.result !== null", timeout=60_000)  # type: ignore[attr-defined]
    return float(page.evaluate("window.__jk.result.ms"))  # type: ignore[attr-defined]


def label_one(page: object, think_ms: int) -> float:
    """Read for ``think_ms``, pick the first level with '1', submit with Enter; ms from the Enter key press to the
    next item usable."""
    current = page.evaluate("window.__jk.usable(null)")  # type: ignore[attr-defined]
    if think_ms:
        page.wait_for_timeout(think_ms)  # type: ignore[attr-defined]
    page.evaluate("document.activeElement && document.activeElement.blur()")  # type: ignore[attr-defined]
    page.keyboard.press("1")  # type: ignore[attr-defined]
    # the choice must be shown before Enter (the old form reruns on every click; a key during a rerun is lost)
    page.wait_for_function(  # type: ignore[attr-defined]
        """() => [...document.querySelectorAll('button')].some((b) =>
             b.textContent.trim().replace(/^\\d\\s*/, '').startsWith(window.__jk.firstLevel)
             && (b.getAttribute('kind') === 'primary' || b.getAttribute('aria-pressed') === 'true')
             && !b.closest('[data-stale="true"]'))""",
        timeout=60_000,
    )
    page.evaluate("(prev) => window.__jk.arm(prev)", current)  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    page.wait_for_function("window.__jk.result !== null", timeout=60_000)  # type: ignore[attr-defined]
    return float(page.evaluate("window.__jk.result.ms"))  # type: ignore[attr-defined]


def reload_ms(page: object) -> float:
    page.reload()  # type: ignore[attr-defined]
    page.wait_for_function("window.__jk && window.__jk.firstUsable !== null", timeout=60_000)  # type: ignore[attr-defined]
    return float(page.evaluate("window.__jk.firstUsable"))  # type: ignore[attr-defined]


def measure_app(label: str, app: Path, db: Path, work: Path, args: argparse.Namespace) -> list[Series]:
    from playwright.sync_api import sync_playwright

    nxt, sgn, rld = (Series(name, BUDGETS_MS[name]) for name in ("next item", "sign-in", "reload"))
    code = access_code(db, "a00")  # the heaviest kind of annotator: ~20,000 labels already
    with serve_app(db, work, app=app) as url, sync_playwright() as p:
        browser = launch(p)
        try:
            # warm-up: the first session of a fresh server imports the library (not what a person waits for daily)
            ctx = browser.new_context(viewport={"width": 1280, "height": 900})
            ctx.add_init_script(PROBE_JS)
            page = ctx.new_page()
            sign_in(page, url, code)
            ctx.close()
            for _ in range(args.rounds):
                times = []
                for _ in range(args.sign_ins):
                    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
                    ctx.add_init_script(PROBE_JS)
                    page = ctx.new_page()
                    times.append(sign_in(page, url, code))
                    ctx.close()
                sgn.add(times)
                print(sgn.round_line(f"{label:<8} "), flush=True)
                ctx = browser.new_context(viewport={"width": 1280, "height": 900})
                ctx.add_init_script(PROBE_JS)
                page = ctx.new_page()
                sign_in(page, url, code)
                nxt.add([label_one(page, args.think_ms) for _ in range(args.per_round)])
                print(nxt.round_line(f"{label:<8} "), flush=True)
                if label != "baseline":  # the old app signs out on a reload: nothing to time
                    rld.add([reload_ms(page) for _ in range(args.reloads)])
                    print(rld.round_line(f"{label:<8} "), flush=True)
                ctx.close()
        finally:
            browser.close()
    return [nxt, sgn, rld]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data_options(ap)
    ap.add_argument("--per-round", type=int, default=30, help="items labelled per round")
    ap.add_argument("--sign-ins", type=int, default=8, help="sign-ins per round")
    ap.add_argument(
        "--think-ms",
        type=int,
        default=1000,
        help="time on each item before '1' + Enter (a person reads at least this long; 0: back to back)",
    )
    ap.add_argument("--reloads", type=int, default=8, help="reloads per round")
    ap.add_argument("--apps", default="desk,baseline", help="which apps: desk (this checkout), baseline")
    ap.add_argument("--baseline-rev", default=BASELINE_REV, help="git revision of the baseline app")
    args = ap.parse_args()
    work, db = bench_db(args, "jk-bench-browser-")
    with Project(db, create=False) as project:  # migrations and the queue, once, before anything is timed
        from judgekit.labeling import ensure_queue

        ensure_queue(project, project.rubrics()[0])
        print(f"items {project.item_count():,}  labels {project.label_count():,}  load {load1():.2f}")
    results: dict[str, list[Series]] = {}
    for name in [a.strip() for a in args.apps.split(",") if a.strip()]:
        app = APP if name == "desk" else baseline_app(args.baseline_rev, work / "baseline")
        print(f"{name}: {app}", flush=True)
        results[name] = measure_app(name, app, db, work / name, args)
    print("\nsummary (p95 against budget; best-of-N rounds, spread across rounds, load average 1 min)")
    for name, series in results.items():
        for s in series:
            if s.rounds:
                print(s.summary_line(f"{name:<8} "))
    if "desk" in results and "baseline" in results:
        for a, b in zip(results["desk"], results["baseline"], strict=True):
            if a.rounds and b.rounds:
                ra, rb = min(pct(r, 0.95) for r in a.rounds), min(pct(r, 0.95) for r in b.rounds)
                print(f"ratio desk/baseline, {a.name} p95: {ra / rb:.3f}")


if __name__ == "__main__":
    main()
