"""Batch mode benchmark: 10,000 items submitted, completed and fetched through each provider's batch API, with 0
requests repeated, the client's CPU per item, and a kill -9 + resume at that scale.

Run: ``.venv/bin/python benchmarks/bench_batch.py [--items 10000] [--repeat 3] [--providers openai,anthropic]``

The scripted batch server (tests/judging/batch_server.py: files, batches and message-batches endpoints) runs in its
own process, so its CPU does not count against the client; the client is this process (``time.process_time``).
The benchmark prints, in order, each line with the load average and a speed probe beside it:

1. the baselines, measured in the same run on the same items: the interactive engine (one process,
   ``workers=1``, concurrency 64, the server answering at once) and a rerun served entirely from the response cache
   (the work every path does for an item: render, key, parse, validate, write);
2. for each provider, ``--batch`` over the items (best of ``--repeat``, a fresh run each time, no cache): wall time,
   client CPU per item and its ratio to both baselines, batches, requests submitted, distinct requests, requests
   repeated (target 0), results paid twice (target 0), verdicts (target: all items);
3. for each provider, a ``judgekit judge --batch`` subprocess killed with SIGKILL while it polls a batch of all the
   items and another while it downloads the results, each resumed with ``--resume``: requests repeated and results
   paid twice (target 0 and 0), verdicts (all items).

The run passes (exit 0) when every target is met.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from bench_judge import _load, _speed  # noqa: E402

from judgekit.judging import build_config, run_judge  # noqa: E402
from judgekit.judging.options import BatchOptions  # noqa: E402
from judgekit.models import Item, load_rubric  # noqa: E402
from judgekit.storage import Project  # noqa: E402

MODEL = {"openai": "gpt-4.1-mini", "anthropic": "claude-haiku-4-5"}
RUBRIC = load_rubric(ROOT / "rubrics" / "helpfulness_pass_fail.yaml")
FAST = BatchOptions(poll=0.05, poll_max=0.2)


def _items(n: int) -> list[Item]:
    return [
        Item(
            id=f"b{i}",
            input=f"Question {i}: how do I keep a sourdough starter alive over a two-week holiday? " * 2,
            output=f"Answer {i}: feed it, refrigerate it, and give it two feedings at room temperature after. " * 3,
        )
        for i in range(n)
    ]


def _server_call(url: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method="POST" if data is not None else "GET")
    with urllib.request.urlopen(req, timeout=30) as r:
        return dict(json.loads(r.read()))


def _state() -> str:
    return f"[{_load()}, speed probe {_speed():.0f} ms]"


def _project(tmp: Path, name: str, items: list[Item]) -> Project:
    p = Project(tmp / f"{name}.db")
    p.save_rubric(RUBRIC)
    p.add_items(items)
    return p


def _judge(project: Project, provider: str, name: str, **kw: Any) -> tuple[Any, float, float]:
    cfg = build_config(provider, MODEL[provider], RUBRIC, confidence="none")
    cpu, wall = time.process_time(), time.perf_counter()
    s = run_judge(project, cfg, rubric=RUBRIC, run_name=name, progress=False, **kw)
    return s, time.process_time() - cpu, time.perf_counter() - wall


def _kill_phase(tmp: Path, base: str, provider: str, n: int, stage: str, env: dict[str, str]) -> dict[str, Any]:
    """A ``judgekit judge --batch`` subprocess killed while polling or downloading, then resumed."""
    db = tmp / f"kill-{provider}-{stage}.db"
    _project(tmp, db.stem, _items(n)).close()
    _server_call(base, "/_control", {"reset": True})
    if stage == "polling":
        _server_call(base, "/_control", {"plan": {"looks": 1_000_000}})
    else:
        _server_call(base, "/_control", {"plan": {"looks": 2}, "hang_next_results": True})
    judge = [str(Path(sys.executable).parent / "judgekit"), "judge", "--db", str(db), "--quiet"]
    args = [
        "--rubric",
        str(ROOT / "rubrics" / "helpfulness_pass_fail.yaml"),
        "--model",
        f"{provider}:{MODEL[provider]}",
    ]
    args += ["--confidence", "none", "--batch", "--batch-poll", "0.05", "--run-name", "k"]
    proc = subprocess.Popen([*judge, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 600
    while True:
        st = _server_call(base, "/_batch_stats")
        if (stage == "polling" and st["looks"] >= 3) or (stage == "fetching" and st["hung"]):
            break
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"kill phase {provider}/{stage}: the run ended early: {proc.stderr.read().decode()}")
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    if stage == "polling":
        _server_call(base, "/_control", {"release": True})
    done = subprocess.run([*judge, "--resume", "k"], env=env, capture_output=True, text=True, timeout=1200)
    if done.returncode != 0:
        raise SystemExit(f"resume {provider}/{stage} failed: {done.stderr}")
    st = _server_call(base, "/_batch_stats")
    with Project(db) as p:
        st["verdicts"] = p.verdict_count(p.run("k").id)
    return st


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--providers", default="openai,anthropic")
    ap.add_argument("--no-kill", action="store_true", help="skip the kill -9 + resume phases")
    args = ap.parse_args()
    n = args.items
    providers = [p for p in args.providers.split(",") if p]
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "judging" / "batch_server.py")],
        stdout=subprocess.PIPE,
        text=True,
    )
    ok = True
    try:
        assert server.stdout is not None
        openai_url = server.stdout.readline().strip()
        base = openai_url.removesuffix("/v1")
        env = {
            **os.environ,
            "OPENAI_API_KEY": "sk-bench",
            "OPENAI_BASE_URL": openai_url,
            "ANTHROPIC_API_KEY": "sk-ant-bench",
            "ANTHROPIC_BASE_URL": base,
        }
        os.environ.update(
            {k: env[k] for k in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL")}
        )
        items = _items(n)
        import anthropic  # noqa: F401 - imported before any timing: a run's CPU is not the SDK's import
        import openai  # noqa: F401

        print(f"batch mode, {n:,} items, server {base} (own process), client = this process {_state()}")
        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d)
            # 1. baselines on the same items
            base_p = _project(tmp, "baseline", items)
            s, cpu_i, wall_i = _judge(base_p, "openai", "interactive", concurrency=64, workers=1)
            print(
                f"baseline interactive (openai, concurrency 64): {s.judged:,} verdicts in {wall_i:.1f} s, "
                f"client CPU {cpu_i / n * 1000:.2f} ms/item {_state()}"
            )
            s, cpu_c, wall_c = _judge(base_p, "openai", "cached", concurrency=64, workers=1)
            print(
                f"baseline cached rerun: {s.cache_hits:,} hits, {s.requests} requests, {wall_c:.1f} s, "
                f"client CPU {cpu_c / n * 1000:.2f} ms/item {_state()}"
            )
            base_p.close()
            # 2. batch mode
            for provider in providers:
                best: tuple[float, float, Any, dict[str, Any]] | None = None
                runs = []
                for r in range(args.repeat):
                    _server_call(base, "/_control", {"reset": True})
                    p = _project(tmp, f"batch-{provider}-{r}", items)
                    s, cpu, wall = _judge(p, provider, "batch", batch=FAST)
                    st = _server_call(base, "/_batch_stats")
                    st["verdicts"] = p.verdict_count(s.run.id)
                    p.close()
                    runs.append(cpu / n * 1000)
                    if best is None or cpu < best[0]:
                        best = (cpu, wall, s, st)
                assert best is not None
                cpu, wall, s, st = best
                good = st["repeated"] == 0 and st["paid_twice"] == 0 and st["verdicts"] == n
                ok = ok and good
                print(
                    f"{provider} --batch: {st['verdicts']:,}/{n:,} verdicts, {st['creates']} batch(es), "
                    f"{st['submitted']:,} requests submitted ({st['distinct']:,} distinct), repeated "
                    f"{st['repeated']} (target 0), paid twice {st['paid_twice']} (target 0); {wall:.1f} s wall; "
                    f"client CPU {cpu / n * 1000:.2f} ms/item (best of {args.repeat}: "
                    f"{', '.join(f'{x:.2f}' for x in runs)}) = {cpu / cpu_i:.2f}x interactive, "
                    f"{cpu / cpu_c:.2f}x cached rerun; cost ${s.cost_usd:.4f} at batch prices {_state()}"
                    + ("" if good else "  <-- FAILED")
                )
            # 3. kill -9 at scale, then resume
            if not args.no_kill:
                for provider in providers:
                    for stage in ("polling", "fetching"):
                        st = _kill_phase(tmp, base, provider, n, stage, env)
                        good = (
                            st["repeated"] == 0 and st["paid_twice"] == 0 and st["verdicts"] == n and st["creates"] == 1
                        )
                        ok = ok and good
                        print(
                            f"{provider} killed (SIGKILL) while {stage}, resumed: {st['verdicts']:,}/{n:,} verdicts, "
                            f"{st['creates']} batch, {st['submitted']:,} requests submitted, repeated "
                            f"{st['repeated']} (target 0), paid twice {st['paid_twice']} (target 0), results "
                            f"downloaded {st['downloads']}x {_state()}" + ("" if good else "  <-- FAILED")
                        )
    finally:
        server.terminate()
        server.wait(10)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
