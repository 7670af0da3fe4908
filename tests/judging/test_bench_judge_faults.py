"""Smoke run of benchmarks/bench_judge_faults.py: it runs end to end through the real command line and its
correctness targets hold at a small size (every item judged under a rate limit with random 429s, one request per
item unthrottled, PandaLM's 200 items in 187 calls). Speed is the benchmark's business, not this test's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bench_judge_faults_smoke() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANTHROPIC_", "JUDGEKIT_"))}
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_judge_faults.py"), "--smoke"],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines[-1] == "PASS"
    assert "187 requests, 13 cache hits" in out.stdout
    (rated,) = [x for x in lines if x.startswith("rate limit 50/s + 12% random 429s: on the server")]
    assert "ms per request" in rated and "load " in rated and "random 429s" in rated
