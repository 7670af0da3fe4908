import math

import numpy as np
import pytest

from judgekit import stats as js


def test_harmful_not_available():
    r = js.harmful_confidence([1, 0], None)
    assert not r.available and r.reason and math.isnan(r.value)
    r = js.harmful_confidence([1, 0], [np.nan, np.nan])
    assert not r.available and "missing" in r.reason


def test_harmful_tiers_segments_and_worst_order():
    correct = [0, 0, 0, 1, 0, 0]
    conf = [0.95, 0.85, 0.99, 0.99, 0.5, 0.9]
    risk = ["low", "high", "medium", "high", "high", "high"]
    seg = ["a", "a", "b", "b", "a", "b"]
    r = js.harmful_confidence(correct, conf, threshold=0.8, risk=risk, segment=seg, item_ids=list("uvwxyz"))
    assert r.n_harmful == 4 and r.value == pytest.approx(4 / 6)
    assert r.per_risk["high"]["rate"] == pytest.approx(2 / 4)
    assert r.per_segment["a"]["n_harmful"] == 2
    # high risk first, most confident first within a tier
    assert [w["item_id"] for w in r.worst] == ["z", "v", "w", "u"]
    assert r.risk_weighted_rate == pytest.approx((1 + 4 + 2 + 4) / (1 + 4 + 2 + 4 + 4 + 4))


def test_alt_test_majority_copy_passes_random_fails():
    rng = np.random.default_rng(0)
    n, m = 120, 5
    truth = rng.integers(0, 3, n)
    humans = np.where(rng.random((n, m)) < 0.75, truth[:, None], rng.integers(0, 3, (n, m)))
    majority = np.array([np.bincount(row, minlength=3).argmax() for row in humans])
    good = js.alt_test(humans, majority, epsilon=0.1)
    assert good.passed and good.winning_rate >= 0.5
    bad = js.alt_test(humans, rng.integers(0, 3, n), epsilon=0.1)
    assert not bad.passed
    assert bad.advantage_probability < good.advantage_probability


def test_alt_test_neg_rmse_and_by():
    rng = np.random.default_rng(1)
    truth = rng.normal(size=80)
    humans = truth[:, None] + rng.normal(scale=0.5, size=(80, 4))
    assert js.alt_test(humans, truth, metric="neg_rmse", epsilon=0.15).passed
    assert js.benjamini_yekutieli([0.2, 0.001, 0.01], q=0.05).tolist() == [False, True, True]


def test_paired_difference_and_ceiling():
    rng = np.random.default_rng(2)
    ref = rng.integers(0, 2, 300)
    good = np.where(rng.random(300) < 0.9, ref, 1 - ref)
    bad = np.where(rng.random(300) < 0.6, ref, 1 - ref)
    r = js.paired_bootstrap_difference(ref, good, bad, seed=0, n_boot=1000)
    assert r.interval.low > 0
    assert r.value == pytest.approx(js.cohen_kappa(ref, good).value - js.cohen_kappa(ref, bad).value)
    r2 = js.paired_bootstrap_difference(ref, good, bad, seed=0, n_boot=1000)
    assert r2.interval == r.interval
    rc = js.paired_bootstrap_difference(ref, good, bad, metric=lambda a, b: float(np.mean(a == b)), seed=0, n_boot=200)
    assert rc.value == pytest.approx(np.mean(ref == good) - np.mean(ref == bad))
    humans = np.c_[ref, good, bad]
    hc = js.human_ceiling(humans, judge=good)
    assert set(hc.details["pairwise_kappa"]) == {"0-1", "0-2", "1-2"}
    assert hc.details["judge_vs_human_kappa"]["1"] == pytest.approx(1.0)
    aj = js.alpha_with_judge(humans, good)
    assert aj.details["delta"] > 0
