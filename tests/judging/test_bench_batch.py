"""Smoke run of benchmarks/bench_batch.py: it runs end to end and its targets (0 requests repeated, 0 results paid
twice, every item judged) hold at a small size. Speed is the benchmark's business, not this test's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bench_batch_smoke() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANTHROPIC_"))}
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_batch.py"), "--items", "60", "--repeat", "1", "--no-kill"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines[-1] == "PASS"
    for provider in ("openai", "anthropic"):
        (line,) = [x for x in lines if x.startswith(f"{provider} --batch:")]
        assert "60/60 verdicts" in line and "repeated 0 (target 0)" in line and "paid twice 0" in line
        assert "ms/item" in line and "load average" in line
