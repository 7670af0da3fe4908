from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from judgekit.calibration import (
    classical_estimate,
    estimate_pass_rate,
    ppi_estimate,
    render_estimate,
    rogan_gladen_estimate,
)
from judgekit.errors import UserError
from judgekit.stats import UndefinedStatisticWarning
from judgekit.storage import Project
from tests.calibration.synthetic import add_run


def _draw(
    rng: np.random.Generator, p: float, tpr: float, tnr: float, n: int, big_n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Labelled (y, f) and unlabelled (f) samples of a judge with the given TPR/TNR on a population with rate p."""
    y = (rng.random(n + big_n) < p).astype(float)
    f = np.where(y == 1, rng.random(n + big_n) < tpr, rng.random(n + big_n) >= tnr).astype(float)
    return y[:n], f[:n], f[n:], y[n:]


# Simulation settings: (true rate, TPR, TNR, n labelled, N unlabelled)
SETTINGS = [(0.3, 0.9, 0.85, 200, 2000), (0.6, 0.8, 0.7, 150, 1500), (0.15, 0.95, 0.9, 300, 3000)]


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: f"p{s[0]}-tpr{s[1]}-tnr{s[2]}-n{s[3]}")
@pytest.mark.parametrize("level", [0.9, 0.95])
def test_intervals_cover_the_true_rate_by_simulation(
    setting: tuple[float, float, float, int, int], level: float
) -> None:
    p, tpr, tnr, n, big_n = setting
    reps = 1000
    rng = np.random.default_rng(hash((setting, level)) % 2**32)
    hits = {"classical": 0, "ppi": 0, "ppi++": 0, "rogan_gladen": 0}
    values = {k: [] for k in hits}  # type: dict[str, list[float]]
    widths = {k: [] for k in hits}  # type: dict[str, list[float]]
    for _ in range(reps):
        y, fl, fu, _ = _draw(rng, p, tpr, tnr, n, big_n)
        for est in (
            classical_estimate(y, level=level),
            ppi_estimate(y, fl, fu, level=level, tuned=False),
            ppi_estimate(y, fl, fu, level=level, tuned=True),
            rogan_gladen_estimate(y, fl, fu, level=level),
        ):
            hits[est.method] += est.low <= p <= est.high
            values[est.method].append(est.value)
            widths[est.method].append(est.width)
    mc = 3 * math.sqrt(level * (1 - level) / reps)  # 3 Monte-Carlo standard errors
    for method, h in hits.items():
        assert h / reps >= level - mc - 0.01, (method, h / reps)
        assert h / reps <= level + mc + 0.02, (method, h / reps)
    # PPI is unbiased; Rogan-Gladen nearly so at these sizes
    assert abs(np.mean(values["ppi"]) - p) < 0.005
    assert abs(np.mean(values["rogan_gladen"]) - p) < 0.01
    # a good judge on many unlabelled items narrows the interval
    assert np.mean(widths["ppi++"]) < 0.9 * np.mean(widths["classical"])
    assert np.mean(widths["ppi++"]) <= np.mean(widths["ppi"]) + 1e-3


def test_ppi_plus_falls_back_to_classical_with_a_useless_judge() -> None:
    rng = np.random.default_rng(3)
    y = (rng.random(300) < 0.4).astype(float)
    fl, fu = (rng.random(300) < 0.5).astype(float), (rng.random(3000) < 0.5).astype(float)
    plus, classical = ppi_estimate(y, fl, fu), classical_estimate(y)
    assert plus.lam is not None and plus.lam < 0.2
    assert plus.width < 1.05 * classical.width


def test_rogan_gladen_known_value_and_undefined_judge() -> None:
    y = [1] * 40 + [0] * 60
    f = [1] * 36 + [0] * 4 + [1] * 6 + [0] * 54
    r = rogan_gladen_estimate(y, f, [1] * 420 + [0] * 580)
    # q = 0.42, TPR = TNR = 0.9: p = (0.42 + 0.9 - 1) / 0.8 = 0.4
    assert r.value == pytest.approx(0.4) and r.low < 0.4 < r.high
    coin = [1, 0] * 50
    with pytest.warns(UndefinedStatisticWarning, match="no better than chance"):
        bad = rogan_gladen_estimate(y, coin, [1, 0] * 100)
    assert math.isnan(bad.value)


def test_ppi_exact_formula() -> None:
    y = np.array([1, 0, 1, 1, 0, 0, 1, 0, 0, 0], dtype=float)
    f = np.array([1, 0, 1, 1, 0, 1, 1, 0, 0, 0], dtype=float)
    fu = np.array([1, 0, 0, 1] * 50, dtype=float)
    r = ppi_estimate(y, f, fu, tuned=False, level=0.95)
    assert r.value == pytest.approx(fu.mean() + (y - f).mean())
    se = math.sqrt(fu.var(ddof=1) / fu.size + (y - f).var(ddof=1) / y.size)
    assert r.se == pytest.approx(se) and r.high == pytest.approx(r.value + 1.959964 * se, abs=1e-6)


def test_input_validation() -> None:
    with pytest.raises(ValueError, match="0/1"):
        classical_estimate([0, 2, 1])
    with pytest.raises(ValueError, match="one prediction per labelled item"):
        ppi_estimate([0, 1, 1], [0, 1], [1, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedStatisticWarning)
        assert math.isnan(classical_estimate([1]).value)


def test_estimate_on_a_project(synthetic) -> None:  # type: ignore[no-untyped-def]
    s = synthetic(n_labelled=200, n_unlabelled=800, prevalence=0.3)
    add_run(s.project, "j", s.truth, accuracy=0.85)
    rep = estimate_pass_rate(s.project, "j")
    assert rep.positive == "pass" and not rep.one_vs_rest
    assert (rep.n_labelled, rep.n_unlabelled) == (200, 800)
    truth_rate = np.mean([s.truth[i] == "pass" for i in s.unlabelled])
    assert rep.ppi_plus.low <= truth_rate + 0.05 and truth_rate - 0.05 <= rep.ppi_plus.high
    text = render_estimate(rep)
    assert "Rogan-Gladen" in text and "PPI++" in text and "human labels only" in text
    fail = estimate_pass_rate(s.project, "j", positive="fail")
    assert fail.ppi.value == pytest.approx(1 - rep.ppi.value)


def test_estimate_needs_unlabelled_items_or_a_budget(synthetic) -> None:  # type: ignore[no-untyped-def]
    s = synthetic(n_labelled=100, n_unlabelled=0)
    add_run(s.project, "j", s.truth, accuracy=0.85)
    with pytest.raises(UserError, match="--label-budget"):
        estimate_pass_rate(s.project, "j")
    rep = estimate_pass_rate(s.project, "j", label_budget=30)
    assert (rep.n_labelled, rep.n_unlabelled, rep.label_budget) == (30, 70, 30)
    assert rep.full_label_rate == pytest.approx(np.mean([s.truth[i] == "pass" for i in s.labelled]))
    with pytest.raises(UserError, match="not a level"):
        estimate_pass_rate(s.project, "j", positive="maybe")


def test_demo_estimate_with_a_label_budget(demo_db) -> None:  # type: ignore[no-untyped-def]
    with Project(demo_db) as p:
        rep = estimate_pass_rate(p, "gpt-3.5-turbo", label_budget=150, seed=0)
    assert rep.positive == "A" and rep.one_vs_rest
    assert rep.full_label_rate is not None
    assert rep.ppi_plus.low <= rep.full_label_rate <= rep.ppi_plus.high
    assert rep.ppi_plus.width < rep.classical.width
