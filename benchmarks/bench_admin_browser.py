"""Benchmark: the labeling app's admin page as an admin waits for it, in a real headless Chromium (Debian's, via
Playwright), at 100,000 items / 1,000,000 labels / 50 annotators (built like ``bench_labeling.py``; a second rubric
is added so that switching rubrics can be timed).

Figures, each measured inside the page (``performance.now()`` from navigation start, the pointer press or the key
press, to the first animation frame at which the page shows what was asked for, not stale):

* **load figures**: a reload of the admin page on its Agreement section, to the judge's verdict, its tables and
  every plot shown; **load browser**: a reload on the Disagreements section, to its entries and the first entry's
  item shown. Budget 2 s each.
* Every interaction, budget 500 ms: **tab** (Agreement -> Disagreements -> Agreement, to the section's content),
  **rubric** (the sidebar's rubric, to the other rubric's figures), **run** (the browser's judge filter),
  **filter** (the browser's "Show" filter), **order** (the browser's order), **page** ("Next page", to the next 50
  entries), **next entry** (``j``, to the next entry's item, labels and verdicts), **gold label** (``1``, a note,
  Ctrl+Enter, to the server's "Gold label ... saved").

With ``--apps new,baseline`` the same figures are taken, in the same run and on the same data, for the app as it was
at ``--baseline-rev`` (its ``labeling_app/`` folder, served against this checkout's library): there every section
is sent on every run, so a tab switch does not reach the server and "load browser" is the load of the whole page.

Each figure is taken in ``--rounds`` rounds; a round prints n, median, p95 and max and the load average at its end.
The summary gives, per figure, the best round's median and p95 (best-of-N), the spread across rounds and each as a
ratio to its budget. Gold labels make the figures stale, so after the first round a background refresh (a niced
process, about 45 s of CPU at this size) may be running while later rounds are measured, as when labels keep
arriving: said beside the round. The machine is shared: the load average is printed beside every figure.

    nice .venv/bin/python benchmarks/bench_admin_browser.py [--db PATH] [--items 100000] [--labels 1000000]
        [--rounds 3] [--per-round 10] [--loads 5] [--apps new,baseline] [--baseline-rev REV]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from browser_rounds import APP, Series, access_code, bench_db, data_options, launch, load1, serve_app  # noqa: E402

from judgekit.agreement import load_criteria  # noqa: E402
from judgekit.labeling import ensure_queue, request_refresh, snapshot_state  # noqa: E402
from judgekit.models import load_rubric  # noqa: E402
from judgekit.storage import Project  # noqa: E402

BUDGETS_MS = {
    "load figures": 2000.0,
    "load browser": 2000.0,
    "tab": 500.0,
    "rubric": 500.0,
    "run": 500.0,
    "filter": 500.0,
    "order": 500.0,
    "page": 500.0,
    "next entry": 500.0,
    "gold label": 500.0,
}
ADMIN = "boss"
SECOND_RUBRIC = REPO / "rubrics" / "answer_quality_1to5.yaml"
BASELINE_REV = "eefb2c2"  # main before the admin page rendered only its open section

# In-page probe. ``arm(cond, now)`` starts a measurement: t0 is now (``now``) or the next pointer or key press
# (captured before the page sees it); the result is the ms from t0 to the first animation frame at which ``cond``
# (the name of one of the conditions below, with its argument) holds. ``firstShown`` records, from navigation start,
# when the condition named by ``window.__admFirst`` (set by an init script) first held.
PROBE_JS = r"""
(() => {
  if (window.__adm) return;
  const fresh = (el) => !!el && !el.closest('[data-stale="true"]');
  const main = () => document.querySelector('[data-testid="stMain"]') || document.body;
  const adm = {
    t0: null,
    armed: false,
    result: null,
    firstShown: null,
    title(key) {
      return [...document.querySelectorAll('h1')].some((h) => fresh(h) && h.textContent.includes(key));
    },
    figures(key) {
      if (!adm.title(key)) return false;
      const m = main();
      const judge = [...m.querySelectorAll('h3')].some((h) => fresh(h) && h.textContent.trim().startsWith('Judge '));
      const none = [...m.querySelectorAll('[data-testid="stText"]')]
        .some((t) => fresh(t) && t.textContent.startsWith('No judge run of this rubric version yet'));
      const tables = [...m.querySelectorAll('[data-testid="stTable"]')].filter(fresh);
      const imgs = [...m.querySelectorAll('[data-testid="stImage"] img')];
      const drawn = imgs.every((i) => fresh(i) && i.complete && i.naturalWidth > 0);
      return tables.length > 0 && drawn && (none || (judge && imgs.length > 0));
    },
    browser(key) {
      if (!adm.title(key)) return false;
      const root = document.querySelector('.jk-adj');
      if (!fresh(root) || root.classList.contains('jk-loading')) return false;
      return !!root.querySelector('.jk-adj-row') && !!root.querySelector('[data-jk-adj-heading]');
    },
    answered(want) {
      const root = document.querySelector('.jk-adj');
      if (!root || root.classList.contains('jk-loading') || !root.dataset.answered) return false;
      const q = JSON.parse(root.dataset.answered);
      return Object.entries(want).every(([k, v]) => q[k] === v) && root.querySelectorAll('.jk-adj-row').length > 0;
    },
    entry(prev) {
      const d = document.querySelector('.jk-adj-detail');
      const h = d && d.querySelector('[data-jk-adj-heading]');
      return !!h && !!d.dataset.item && d.dataset.item !== prev && !!d.querySelector('[data-jk-pane]');
    },
    saved() {
      const s = document.querySelector('.jk-adj .jk-status');
      return !!s && s.textContent.startsWith('Gold label for item');
    },
    arm(name, arg, now) {
      adm.result = null;
      adm.t0 = now ? performance.now() : null;
      adm.armed = !now;
      const tick = () => {
        if (adm.t0 !== null && adm[name](arg)) { adm.result = performance.now() - adm.t0; return; }
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    },
  };
  window.__adm = adm;
  const press = () => { if (adm.armed) { adm.armed = false; adm.t0 = performance.now(); } };
  window.addEventListener('pointerdown', press, true);
  window.addEventListener('keydown', press, true);
  const first = () => {
    const f = window.__admFirst;
    if (document.body && f && adm[f.name](f.arg)) { adm.firstShown = performance.now(); return; }
    requestAnimationFrame(first);
  };
  requestAnimationFrame(first);
})();
"""


def _result(page: Any) -> float:
    page.wait_for_function("window.__adm.result !== null", timeout=120_000)
    return float(page.evaluate("window.__adm.result"))


def _arm(page: Any, name: str, arg: object = None, *, now: bool = False) -> None:
    page.evaluate("([n, a, now]) => window.__adm.arm(n, a, now)", [name, arg, now])


def _answered(page: Any) -> dict[str, Any]:
    return dict(page.evaluate("JSON.parse(document.querySelector('.jk-adj').dataset.answered)"))


class Admin:
    """The admin page of one app in one browser page, and the ways an admin uses it."""

    def __init__(self, page: Any, url: str, keys: list[str], baseline: bool) -> None:
        self.page = page
        self.url = url
        self.keys = keys  # the rubrics' keys, the first one's figures have a judge run
        self.key = keys[0]
        self.baseline = baseline

    def start(self) -> None:
        """After signing in: on the rubric with the judge run (the sidebar offers the first rubric by name first)."""
        self.page.locator("h1", has_text="Admin ·").first.wait_for(timeout=300_000)
        shown = self.page.locator("h1", has_text="Admin ·").first.inner_text()
        if self.keys[0] not in shown:
            self.key = next(k for k in self.keys if k in shown)
            self.rubric_ms(self.keys[0])
        self._wait("figures")

    def open(self, section: str) -> None:
        """Open the admin page on ``section`` (the new app takes it from the URL; the old one shows every section
        at once) without timing it."""
        self.page.goto(self._at(section))
        if self.baseline and section != "Agreement":  # the old page always opens on its first tab
            self.page.get_by_role("tab", name=section, exact=True).click()
        self._wait("figures" if section == "Agreement" else "browser")

    def _at(self, section: str) -> str:
        """The admin page's address on ``section`` of the rubric shown (both in the URL, as the page keeps them)."""
        return f"{self.url}/?page=admin&rubric={self.key.split('@')[0]}&section={section}"

    def _wait(self, name: str) -> None:
        self.page.wait_for_function("([n, a]) => window.__adm[n](a)", arg=[name, self.key], timeout=300_000)

    def reload_ms(self, section: str) -> float:
        name = "figures" if section == "Agreement" else "browser"
        self.page.evaluate(
            "(f) => sessionStorage.setItem('admFirst', JSON.stringify(f))", {"name": name, "arg": self.key}
        )
        self.page.goto(self._at(section))
        self.page.wait_for_function("window.__adm && window.__adm.firstShown !== null", timeout=120_000)
        return float(self.page.evaluate("window.__adm.firstShown"))

    def tab_ms(self, section: str) -> float:
        _arm(self.page, "figures" if section == "Agreement" else "browser", self.key)
        self.page.get_by_role("tab", name=section, exact=True).click()
        return _result(self.page)

    def rubric_ms(self, key: str) -> float:
        self.page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").click()
        option = self.page.get_by_role("option", name=key.split("@")[0], exact=True)
        option.wait_for()
        _arm(self.page, "figures", key)
        option.click()
        self.key = key
        return _result(self.page)

    def choose_ms(self, testid: str, value: str, field: str) -> float:
        """Choose ``value`` in the browser's ``testid`` select; ms until the server's answer for it is shown."""
        _arm(self.page, "answered", {field: value or None} if field == "run" else {field: value}, now=True)
        self.page.evaluate(
            """([testid, value]) => {
                 const s = document.querySelector(`[data-testid="${testid}"]`);
                 s.value = value;
                 s.dispatchEvent(new Event('change'));
               }""",
            [testid, value],
        )
        return _result(self.page)

    def next_page_ms(self) -> float:
        offset = int(_answered(self.page)["offset"])
        _arm(self.page, "answered", {"offset": offset + 50})
        self.page.locator(".jk-adj-next").click()
        return _result(self.page)

    def first_page(self) -> None:
        if int(_answered(self.page)["offset"]):
            _arm(self.page, "answered", {"offset": 0})
            self.page.locator(".jk-adj-prev").click()
            _result(self.page)

    def next_entry_ms(self) -> float:
        """``j`` with the detail focused: ms from the key press to the next entry's detail shown."""
        prev = self.page.evaluate("document.querySelector('.jk-adj-detail').dataset.item")
        self.page.locator(".jk-adj-detail").focus()
        _arm(self.page, "entry", prev)
        self.page.keyboard.press("j")
        return _result(self.page)

    def gold_ms(self, n: int) -> float:
        """``1``, a note, Ctrl+Enter: ms from the Ctrl+Enter key press to the server's acknowledgement."""
        self.page.locator(".jk-adj-detail").focus()
        self.page.keyboard.press("1")
        self.page.locator(".jk-adj-note").fill(f"benchmark gold label {n}")
        self.page.locator(".jk-adj-detail").focus()
        _arm(self.page, "saved")
        self.page.keyboard.press("Control+Enter")
        return _result(self.page)


# ``firstShown``'s condition survives the reload it measures (sessionStorage), read before the page's scripts run.
FIRST_JS = "window.__admFirst = JSON.parse(sessionStorage.getItem('admFirst') || 'null');"


def prepare(db: Path, *, second_rubric: bool = True) -> list[str]:
    """The second rubric (no labels), the queue, and both rubrics' figures computed, before anything is timed.
    Returns the rubrics' keys, the one with the judge run first."""
    with Project(db, create=False) as project:
        if second_rubric and len({r.id for r in project.rubrics()}) < 2:
            project.save_rubric(load_rubric(SECOND_RUBRIC))
        rubrics = {r.id: r for r in project.rubrics()}.values()  # the latest version of each
        ordered = sorted(rubrics, key=lambda r: not project.runs() or r.id != project.runs()[0].config.rubric_id)
        print(f"items {project.item_count():,}  labels {project.label_count():,}  load {load1():.2f}", flush=True)
        for rubric in ordered:
            ensure_queue(project, rubric)
            criteria = load_criteria(rubric_id=rubric.id)
            t0 = time.perf_counter()
            if not snapshot_state(project, rubric, criteria).fresh:
                request_refresh(project, rubric, criteria, force=True, mode="inline")
            snap = snapshot_state(project, rubric, criteria).snapshot
            assert snap is not None
            print(
                f"{rubric.key}: figures ready in {time.perf_counter() - t0:.1f} s (computed once per state of the "
                f"data, in a background process: last took {snap.seconds:.1f} s); {snap.disagreements.n:,} "
                f"disagreement entries; load {load1():.2f}",
                flush=True,
            )
        return [r.key for r in ordered]


def refreshing(db: Path) -> bool:
    with Project(db, create=False) as project:
        return any(
            snapshot_state(project, r, load_criteria(rubric_id=r.id)).refreshing_since is not None
            for r in project.rubrics()
        )


def baseline_app(rev: str, folder: Path) -> Path:
    """The ``labeling_app/`` folder as it was at ``rev`` (it runs against this checkout's library)."""
    folder.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "labeling_app"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder / "labeling_app" / "app.py"


def measure(label: str, app: Path, db: Path, work: Path, keys: list[str], args: argparse.Namespace) -> list[Series]:
    from playwright.sync_api import sync_playwright

    series = {name: Series(name, budget) for name, budget in BUDGETS_MS.items()}
    code = access_code(db, ADMIN, admin=True)
    n_gold = 0
    with serve_app(db, work, app=app) as url, sync_playwright() as p:
        browser = launch(p)
        try:
            ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
            ctx.add_init_script(FIRST_JS)
            ctx.add_init_script(PROBE_JS)
            page = ctx.new_page()
            page.set_default_timeout(120_000)
            page.goto(f"{url}/?page=admin")
            page.get_by_label("Access code").fill(code)
            page.get_by_label("Access code").press("Enter")
            adm = Admin(page, url, keys, baseline=label == "baseline")
            adm.start()  # warm-up: imports, the first parse of the figures
            for _ in range(args.rounds):
                note = "a background refresh was running" if refreshing(db) else ""

                def take(name: str, samples: list[float], note: str = note) -> None:
                    series[name].add(samples, note)
                    print(series[name].round_line(f"{label:<8} "), flush=True)

                take("load figures", [adm.reload_ms("Agreement") for _ in range(args.loads)])
                take("load browser", [adm.reload_ms("Disagreements") for _ in range(args.loads)])
                adm.open("Agreement")
                tabs = []
                for _ in range(max(1, args.per_round // 2)):
                    tabs += [adm.tab_ms("Disagreements"), adm.tab_ms("Agreement")]
                take("tab", tabs)
                if len(keys) > 1:
                    take("rubric", [adm.rubric_ms(keys[(i + 1) % 2]) for i in range(2 * max(1, args.per_round // 2))])
                adm.open("Disagreements")
                runs = ["", *sorted({str(r) for r in page.evaluate(RUNS_JS)})]
                kinds = ["tie", "all", "judge"]
                orders = ["confident", "united", "split", "order", "auto"]
                samples: dict[str, list[float]] = {name: [] for name in ("run", "filter", "order", "page")}
                for i in range(args.per_round):
                    samples["run"].append(adm.choose_ms("jk-adj-run", runs[(i + 1) % len(runs)], "run"))
                    samples["filter"].append(adm.choose_ms("jk-adj-kind", kinds[i % len(kinds)], "kind"))
                    samples["order"].append(adm.choose_ms("jk-adj-sort", orders[i % len(orders)], "sort"))
                    samples["page"].append(adm.next_page_ms())
                for name, ms in samples.items():
                    take(name, ms)
                adm.choose_ms("jk-adj-run", "", "run")
                adm.choose_ms("jk-adj-kind", "judge", "kind")
                adm.first_page()
                take("next entry", [adm.next_entry_ms() for _ in range(args.per_round)])
                gold = []
                for _ in range(args.per_round):
                    n_gold += 1
                    gold.append(adm.gold_ms(n_gold))
                take("gold label", gold)
        finally:
            browser.close()
    return list(series.values())


RUNS_JS = "[...document.querySelectorAll('[data-testid=jk-adj-run] option')].map((o) => o.value).filter(Boolean)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data_options(ap)
    ap.add_argument("--per-round", type=int, default=10, help="samples of each interaction per round")
    ap.add_argument("--loads", type=int, default=5, help="page loads of each section per round")
    ap.add_argument("--apps", default="new", help="which apps: new (this checkout), baseline (--baseline-rev)")
    ap.add_argument("--baseline-rev", default=BASELINE_REV, help="git revision of the baseline app")
    ap.add_argument(
        "--one-rubric",
        action="store_true",
        help="do not add the second rubric (no 'rubric' figure; the baseline app forgets the rubric on a reload)",
    )
    args = ap.parse_args()
    work, db = bench_db(args, "jk-bench-admin-")
    keys = prepare(db, second_rubric=not args.one_rubric)
    results: dict[str, list[Series]] = {}
    for name in [a.strip() for a in args.apps.split(",") if a.strip()]:
        app = APP if name == "new" else baseline_app(args.baseline_rev, work / "baseline")
        print(f"{name}: {app}", flush=True)
        results[name] = measure(name, app, db, work / name, keys, args)
    print("\nsummary (best-of-N rounds: median and p95, spread across rounds, ratio to budget, load average 1 min)")
    for name, series in results.items():
        for s in series:
            if s.rounds:
                print(s.summary_line(f"{name:<8} "))


if __name__ == "__main__":
    main()
