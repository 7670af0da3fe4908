from __future__ import annotations

import json

import numpy as np
import pytest

from judgekit.calibration import compare_runs, holm_adjust, render_comparison
from judgekit.errors import UserError
from judgekit.storage import Project
from tests.calibration.synthetic import RUBRIC, add_run


def test_holm_matches_the_step_down_definition() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.2])
    # sorted 0.01, 0.03, 0.04, 0.2 -> 4*0.01, max(.., 3*0.03), max(.., 2*0.04), max(.., 0.2)
    expected = np.array([0.04, 0.09, 0.09, 0.2])
    np.testing.assert_allclose(holm_adjust(p), expected)
    assert np.isnan(holm_adjust([0.01, float("nan")])[1])


def test_identical_quality_is_within_noise(synthetic) -> None:  # type: ignore[no-untyped-def]
    s = synthetic(n_labelled=300, n_unlabelled=0)
    add_run(s.project, "v1", s.truth, accuracy=0.8, seed=1)
    add_run(s.project, "v2", s.truth, accuracy=0.8, seed=2)
    rep = compare_runs(s.project, ["v1", "v2"], n_boot=500)
    (pair,) = rep.pairs
    assert pair.conclusion == "within_noise"
    assert "WITHIN NOISE" in pair.summary and "do not call it an improvement" in pair.summary
    acc = pair.accuracy_difference.failures_as_wrong
    assert acc.low is not None and acc.high is not None and acc.low < 0 < acc.high
    assert pair.mcnemar.p_value.value == pair.mcnemar_p_adjusted  # one comparison: no correction
    assert pair.mcnemar.method == "exact binomial"
    assert rep.interval_level == 0.95


def test_a_clear_improvement_is_called_real(synthetic) -> None:  # type: ignore[no-untyped-def]
    s = synthetic(n_labelled=300, n_unlabelled=0)
    add_run(s.project, "old", s.truth, accuracy=0.65, seed=1)
    add_run(s.project, "new", s.truth, accuracy=0.92, seed=2)
    rep = compare_runs(s.project, ["old", "new"], n_boot=500)
    (pair,) = rep.pairs
    assert pair.conclusion == "b_better"
    acc, kap = pair.accuracy_difference.failures_as_wrong, pair.kappa_difference.failures_as_wrong
    assert acc.high is not None and kap.high is not None and acc.high < 0 and kap.high < 0
    assert pair.mcnemar.p_value.value < 1e-6
    assert "REAL DIFFERENCE - new agrees with people more than old" in pair.summary
    assert pair.accuracy_a.failures_as_wrong.value == pytest.approx(rep.judge("old").accuracy.failures_as_wrong.value)


def test_three_runs_are_corrected_for_multiplicity(synthetic) -> None:  # type: ignore[no-untyped-def]
    s = synthetic(n_labelled=200, n_unlabelled=0)
    for k, acc in enumerate([0.75, 0.8, 0.78]):
        add_run(s.project, f"v{k}", s.truth, accuracy=acc, seed=k)
    rep = compare_runs(s.project, ["v0", "v1", "v2"], n_boot=300)
    assert [(p.run_a, p.run_b) for p in rep.pairs] == [("v0", "v1"), ("v0", "v2"), ("v1", "v2")]
    assert rep.interval_level == pytest.approx(1 - 0.05 / 3)
    raw = [p.mcnemar.p_value.value for p in rep.pairs]
    assert all(p.mcnemar_p_adjusted >= r for p, r in zip(rep.pairs, raw, strict=True))
    np.testing.assert_allclose([p.mcnemar_p_adjusted for p in rep.pairs], holm_adjust(raw))
    first = compare_runs(s.project, ["v0", "v1", "v2"], n_boot=300, pairs="first")
    assert [(p.run_a, p.run_b) for p in first.pairs] == [("v0", "v1"), ("v0", "v2")]
    assert "Holm-adjusted" in render_comparison(rep)
    json.loads(rep.model_dump_json())


def test_failed_verdicts_count_as_wrong(synthetic) -> None:  # type: ignore[no-untyped-def]
    s = synthetic(n_labelled=100, n_unlabelled=0)
    add_run(s.project, "a", s.truth, accuracy=1.0)
    from judgekit.models import JudgeConfig, JudgeVerdict

    run = s.project.create_run(
        "b", JudgeConfig(provider="external", model="b", rubric_id=RUBRIC.id, rubric_version=1), source="import"
    )
    s.project.add_verdicts(
        run.id,
        [JudgeVerdict(item_id=i, label=s.truth[i]) for i in s.labelled[:50]]
        + [JudgeVerdict(item_id=i, status="parse_error") for i in s.labelled[50:]],
    )
    rep = compare_runs(s.project, ["a", "b"], n_boot=200)
    assert {j.run: j.accuracy.failures_as_wrong.value for j in rep.judges} == {"a": 1.0, "b": 0.5}
    assert rep.judge("b").accuracy.ok_only.value == 1.0 and rep.judge("b").accuracy.ok_only.n_items == 50
    assert rep.pairs[0].mcnemar.a_right_b_wrong == 50


def test_usage_errors(synthetic, tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = synthetic(n_labelled=50, n_unlabelled=0)
    add_run(s.project, "a", s.truth)
    with pytest.raises(UserError, match="at least two"):
        compare_runs(s.project, ["a"])
    with pytest.raises(UserError, match="once"):
        compare_runs(s.project, ["a", "a"])


def test_demo_judges_are_compared(demo_db) -> None:  # type: ignore[no-untyped-def]
    with Project(demo_db) as p:
        rep = compare_runs(p, ["gpt-3.5-turbo", "pandalm-7b"], n_boot=1000)
    (pair,) = rep.pairs
    assert rep.n_items == 999
    assert pair.accuracy_difference.failures_as_wrong.value == pytest.approx(0.03, abs=0.001)
    assert pair.conclusion == "within_noise"  # McNemar p ~ 0.07: not a demonstrated difference
    # exact binomial on 145 vs 115 discordant items (statsmodels exact=True); the approximation says 0.0721
    assert pair.mcnemar.p_value.value == pytest.approx(0.0719, abs=5e-5)
