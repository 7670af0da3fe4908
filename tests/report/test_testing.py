"""``judgekit.testing``: the same verdict as ``judgekit check``, as a pytest assertion."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from judgekit.testing import assert_judge_trusted, judge_assessment, trusted_judge_fixture


def test_raises_with_the_criteria_table(demo_db: Path) -> None:
    with pytest.raises(AssertionError) as exc:
        assert_judge_trusted(demo_db, "gpt-3.5-turbo", n_boot=200)
    msg = str(exc.value)
    assert msg.startswith("judge run 'gpt-3.5-turbo' is NOT TRUSTED")
    assert "[FAIL] judge_kappa" in msg and "[PASS] enough_items" in msg


def test_passes_with_relaxed_thresholds(demo_db: Path, low_config: Path) -> None:
    a = assert_judge_trusted(demo_db, "gpt-3.5-turbo", config=low_config)
    assert a.verdict == "TRUSTED"
    b = assert_judge_trusted(
        demo_db, "gpt-3.5-turbo", n_boot=200, min_kappa=0.2, max_gap_to_ceiling=0.7, require_alt_test=False
    )
    assert b.judge.kappa.failures_as_wrong.value == pytest.approx(a.judge.kappa.failures_as_wrong.value)


def test_missing_database_is_not_created(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        judge_assessment(tmp_path / "none.db")
    assert not (tmp_path / "none.db").exists()


def test_fixture_factory_returns_a_pytest_fixture(demo_db: Path) -> None:
    fx = trusted_judge_fixture(demo_db, "gpt-3.5-turbo", n_boot=200)
    assert callable(fx)


def test_importable_without_pytest() -> None:
    code = "import sys; sys.modules['pytest'] = None; import judgekit.testing; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "ok"
