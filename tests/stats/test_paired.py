"""pair_kappas: the shared-resample kernel against a naive loop over the same resamples, and its contract."""

import warnings

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from judgekit import stats as js
from judgekit.stats import UndefinedStatisticWarning


def _labels(seed=0, n=300, raters=5, k=3, missing=0.2):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n)
    codes = np.where(rng.random((n, raters)) < 0.7, truth[:, None], rng.integers(0, k, (n, raters)))
    codes[rng.random(codes.shape) < missing] = -1
    return js.Coded.from_codes(codes, [f"l{i}" for i in range(k)])


PAIRS = [(0, 1), (0, 2), (1, 2), (3, 0), (3, 1), (3, 4), (4, 2)]


def _naive(codes, pairs, weights, k):
    out = []
    for i, j in pairs:
        both = (codes[:, i] >= 0) & (codes[:, j] >= 0)
        if both.sum() < 2:
            out.append(np.nan)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            v = js.cohen_kappa(codes[both][:, [i, j]], weights=weights, levels=list(range(k))).value
        out.append(v)
    return np.array(out)


@pytest.mark.parametrize("weights", [None, "quadratic"])
def test_matches_a_naive_loop_over_the_same_resamples(weights):
    coded = _labels()
    rng = np.random.default_rng(5)
    idx = rng.integers(0, coded.n_items, (40, coded.n_items))
    res = js.pair_kappas(coded, PAIRS, weights=weights, indices=idx)
    np.testing.assert_allclose(res.value, _naive(coded.codes, PAIRS, weights, 3), atol=1e-12)
    naive = np.array([_naive(coded.codes[i], PAIRS, weights, 3) for i in idx])
    np.testing.assert_allclose(res.boot, naive, atol=1e-12, equal_nan=True)
    for b in (0, 17):
        both = (coded.codes[idx[b]][:, [0, 3]] >= 0).all(axis=1)
        assert res.boot_n[b, PAIRS.index((3, 0))] == both.sum()


def test_point_values_match_sklearn_and_overlap_is_counted():
    coded = _labels(seed=2)
    res = js.pair_kappas(coded, PAIRS, weights="linear", n_boot=0)
    for q, (i, j) in enumerate(PAIRS):
        both = (coded.codes[:, [i, j]] >= 0).all(axis=1)
        a, b = coded.codes[both, i], coded.codes[both, j]
        assert res.n[q] == both.sum()
        assert res.value[q] == pytest.approx(cohen_kappa_score(a, b, weights="linear", labels=[0, 1, 2]), abs=1e-12)
        assert res.observed[q] == pytest.approx(np.mean(1 - np.abs(a - b) / 2), abs=1e-12)
    assert res.boot.shape == (0, len(PAIRS))


def test_seeded_draws_are_reproducible_and_shared_across_pairs():
    coded = _labels(seed=3, n=2000)
    a = js.pair_kappas(coded, PAIRS, n_boot=300, seed=11)
    b = js.pair_kappas(coded, PAIRS, n_boot=300, seed=11)
    np.testing.assert_array_equal(a.boot, b.boot)
    # (0, 1) twice: the same resample gives the same kappa in both columns
    c = js.pair_kappas(coded, [(0, 1), (1, 0), (0, 2)], n_boot=300, seed=11)
    np.testing.assert_allclose(c.boot[:, 0], c.boot[:, 1], atol=1e-12)
    # item order does not matter (patterns are sorted), so the draws are the same after shuffling items
    perm = np.random.default_rng(0).permutation(coded.n_items)
    d = js.pair_kappas(js.Coded.from_codes(coded.codes[perm], coded.levels), PAIRS, n_boot=300, seed=11)
    np.testing.assert_allclose(d.boot, a.boot, atol=1e-12)


def test_multinomial_draws_have_the_spread_of_item_resampling():
    """The multinomial-over-patterns bootstrap is the item bootstrap: same standard error (within MC error)."""
    coded = _labels(seed=4, n=400)
    fast = js.pair_kappas(coded, PAIRS, n_boot=4000, seed=1)
    idx = np.random.default_rng(2).integers(0, coded.n_items, (4000, coded.n_items))
    slow = js.pair_kappas(coded, PAIRS, indices=idx)
    se_fast, se_slow = np.nanstd(fast.boot, axis=0), np.nanstd(slow.boot, axis=0)
    np.testing.assert_allclose(se_fast, se_slow, rtol=0.08)
    np.testing.assert_allclose(np.nanmean(fast.boot, axis=0), np.nanmean(slow.boot, axis=0), atol=0.01)


def test_string_labels_and_coded_input_agree():
    coded = _labels(seed=6, n=120)
    strings = np.where(coded.codes >= 0, np.array(coded.levels, dtype=object)[coded.codes], None)
    a = js.pair_kappas(strings, PAIRS, levels=list(coded.levels), n_boot=50, seed=0)
    b = js.pair_kappas(coded, PAIRS, n_boot=50, seed=0)
    np.testing.assert_allclose(a.value, b.value, atol=1e-12)
    np.testing.assert_allclose(a.boot, b.boot, atol=1e-12, equal_nan=True)


def test_undefined_pair_is_nan_with_warning_and_bad_pairs_are_refused():
    codes = np.array([[0, 1, -1], [1, 1, -1], [0, 0, 2], [1, 0, -1]])
    with pytest.warns(UndefinedStatisticWarning):
        res = js.pair_kappas(js.Coded.from_codes(codes, [0, 1, 2]), [(0, 1), (0, 2)], n_boot=5, seed=0)
    assert np.isfinite(res.value[0]) and np.isnan(res.value[1]) and res.n.tolist() == [4, 1]
    with pytest.raises(ValueError, match="two different rater columns"):
        js.pair_kappas(codes, [(0, 0)])
    with pytest.raises(ValueError, match="two different rater columns"):
        js.pair_kappas(codes, [(0, 5)])
    with pytest.raises(ValueError, match="indices"):
        js.pair_kappas(codes, [(0, 1)], indices=[[0, 9]])


def test_many_distinct_rows_take_the_sparse_path():
    coded = _labels(seed=7, n=3000, raters=12, k=4, missing=0.5)
    pairs = [(i, j) for i in range(12) for j in range(i + 1, 12)]
    idx = np.random.default_rng(0).integers(0, coded.n_items, (3, coded.n_items))
    res = js.pair_kappas(coded, pairs, indices=idx)
    naive = np.array([_naive(coded.codes[i], pairs, None, 4) for i in idx])
    np.testing.assert_allclose(res.boot, naive, atol=1e-12, equal_nan=True)


def test_coded_input_fast_path_and_validation():
    with pytest.raises(ValueError, match=r"-1 \.\. 1"):
        js.Coded.from_codes([[0, 2]], ["a", "b"])
    with pytest.raises(ValueError, match="integers"):
        js.Coded.from_codes([[0.0, 1.0]], ["a", "b"])
    c = js.Coded.from_codes([[0, 1], [1, 1], [-1, 0]], ["a", "b"])
    assert js.code_labels(c) is c
    with pytest.raises(ValueError, match="already coded"):
        js.cohen_kappa(c, levels=["b", "a"])
    strings = [["a", "b"], ["b", "b"], [None, "a"]]
    assert js.code_labels(strings, levels=["a", "b"]).codes.tolist() == c.codes.tolist()
    assert js.cohen_kappa(c).value == pytest.approx(js.cohen_kappa(strings, levels=["a", "b"]).value)


@pytest.mark.parametrize("levels", [None, [1, 2, 3, 4, 7]])
def test_integer_arrays_code_like_floats(levels):
    rng = np.random.default_rng(0)
    x = rng.choice([1, 2, 4, 7], (50, 3))
    a, b = js.code_labels(x, levels), js.code_labels(x.astype(float), levels)
    assert a.levels == b.levels
    np.testing.assert_array_equal(a.codes, b.codes)
    with pytest.raises(ValueError, match="not one of the declared levels"):
        js.code_labels(x, [1, 2, 3])
