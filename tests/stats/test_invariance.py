"""Invariance properties applied to every public metric through a registry (like sklearn's test_common)."""

import inspect
import warnings

import numpy as np
import pandas as pd
import pytest

from judgekit import stats as js

RNG = np.random.default_rng(11)
N = 60
TRUTH = RNG.integers(0, 3, N)
MULTI = np.where(RNG.random((N, 4)) < 0.7, TRUTH[:, None], RNG.integers(0, 3, (N, 4))).astype(float)
MULTI[RNG.random(MULTI.shape) < 0.1] = np.nan
MULTI[:, :2] = np.where(np.isnan(MULTI[:, :2]), 0, MULTI[:, :2])
PAIR = MULTI[:, :2]
CONF = np.round(RNG.uniform(0.3, 1.0, N), 2)
CORRECT = (RNG.random(N) < 0.7).astype(int)
SCORES = RNG.integers(1, 6, (N, 3)).astype(float) + TRUTH[:, None]
NAMES = {0.0: "bad", 1.0: "ok", 2.0: "good"}
LEVELS_INT = [0, 1, 2]
LEVELS_STR = ["bad", "ok", "good"]


def _value(r):
    if isinstance(r, np.ndarray):
        return r
    if hasattr(r, "mean_confidence"):
        return np.array(r.mean_confidence + r.accuracy + r.counts, dtype=float)
    if hasattr(r, "value"):
        # the large-sample standard error must be as invariant as the value
        return r.value if getattr(r, "se", None) is None else np.array([r.value, r.se])
    if hasattr(r, "winning_rate"):
        return (r.winning_rate, r.advantage_probability)
    if hasattr(r, "matrix"):
        return r.matrix
    return r.model_dump_json()


# kind: "ratings" (items x raters, labels), "pair" (two label columns), "scores" (numeric matrix),
# "conf" (confidence, correct), "other" (not a metric over items: covered by dedicated tests)
NUMERIC_PAIR = ("spearman", "kendall", "pearson", "concordance_correlation", "mean_absolute_error", "bland_altman")
REGISTRY = {
    "percent_agreement": ("ratings", {}, True),
    "cohen_kappa": ("pair", {"weights": "quadratic"}, True),
    "scott_pi": ("pair", {}, True),
    "fleiss_kappa": ("ratings", {}, True),
    "conger_kappa": ("ratings", {"weights": "quadratic"}, True),
    "brennan_prediger": ("ratings", {}, True),
    "gwet_ac": ("ratings", {"weights": "linear"}, True),
    "krippendorff_alpha": ("ratings", {"level": "ordinal"}, True),
    "coincidence_matrix": ("ratings", {}, True),
    "icc": ("scores", {"form": "ICC2"}, True),
    "spearman": ("pair", {}, "symmetric"),
    "kendall": ("pair", {}, "symmetric"),
    "pearson": ("pair", {}, "symmetric"),
    "concordance_correlation": ("pair", {}, "symmetric"),
    "mean_absolute_error": ("pair", {}, "symmetric"),
    "bland_altman": ("pair", {}, False),
    "confusion_matrix": ("pair", {}, False),
    "classification_report": ("pair", {}, False),
    "binary_rates": ("binpair", {"positive": 1}, False),
    "brier_score": ("conf", {}, False),
    "expected_calibration_error": ("conf", {}, False),
    "reliability_diagram": ("conf", {}, False),
    "risk_coverage_curve": ("conf", {}, False),
    "aurc": ("conf", {}, False),
    "selective_accuracy": ("conf", {}, False),
    "harmful_confidence": ("harm", {}, False),
    "mcnemar": ("binpair", {}, False),
    "human_ceiling": ("ratings", {}, True),
    "alpha_with_judge": ("judge", {}, True),
    "alt_test": ("judge", {"min_items_per_annotator": 10}, True),
    "paired_bootstrap_difference": ("triple", {"seed": 0, "n_boot": 50}, False),
    "fleiss_kappa_from_counts": ("other", {}, False),
    "bootstrap_ci": ("other", {}, False),
    "sample_size_for_ci_width": ("other", {}, False),
    "kappa_standard_error": ("other", {}, False),
    "icc_form": ("other", {}, False),  # tests/stats/test_numeric.py
    "benjamini_yekutieli": ("other", {}, False),
    "ratings_from_long": ("other", {}, False),
    "ratings_from_contingency_table": ("other", {}, False),
    "code_labels": ("other", {}, False),  # tests/stats/test_paired.py
    "pair_kappas": ("other", {}, False),  # tests/stats/test_paired.py: naive loop, item order, strings
}


def _call(name, perm=None, cols=None, as_type="ndarray", strings=False):
    kind, kw, _ = REGISTRY[name]
    fn = getattr(js, name)
    perm = np.arange(N) if perm is None else perm
    kw = dict(kw)

    def conv(a):
        a = np.asarray(a)[perm]
        if strings:
            a = np.vectorize(lambda v: None if np.isnan(v) else NAMES[v], otypes=[object])(a.astype(float))
        if as_type == "list":
            return a.tolist()
        if as_type == "frame":
            return pd.DataFrame(a) if a.ndim == 2 else pd.Series(a)
        return a

    if kind in ("ratings", "judge", "pair", "triple") and name not in (*NUMERIC_PAIR, "alt_test"):
        kw["levels"] = LEVELS_STR if strings else LEVELS_INT
    if kind == "ratings":
        m = MULTI if cols is None else MULTI[:, cols]
        return fn(conv(m), **kw)
    if kind == "pair":
        m = PAIR if cols is None else PAIR[:, cols]
        if name in NUMERIC_PAIR:
            return fn(conv(m[:, 0]), conv(m[:, 1]), **kw)
        if name in ("confusion_matrix", "classification_report"):
            return fn(conv(m[:, 0]), conv(m[:, 1]), **kw)
        return fn(conv(m), **kw)
    if kind == "binpair":
        b = (PAIR > 0).astype(float)
        if strings:
            return None
        return fn(conv(b[:, 0]), conv(b[:, 1]), **kw)
    if kind == "scores":
        m = SCORES if cols is None else SCORES[:, cols]
        return fn(conv(m), **kw)
    if kind == "conf":
        if strings:
            return None
        if name == "brier_score":
            return fn(conv(CORRECT), conv(CONF), **kw)
        return fn(conv(CONF), conv(CORRECT), **kw)
    if kind == "harm":
        if strings:
            return None
        return fn(conv(CORRECT), conv(CONF), threshold=0.6, **kw)
    if kind == "judge":
        m = MULTI[:, :3] if cols is None else MULTI[:, :3][:, cols]
        return fn(conv(m), conv(MULTI[:, 3]), **kw)
    if kind == "triple":
        return fn(conv(PAIR[:, 0]), conv(PAIR[:, 1]), conv(MULTI[:, 3]), **kw)
    return None


def test_every_public_metric_is_registered():
    public = {n for n in js.__all__ if inspect.isfunction(getattr(js, n))}
    assert public == set(REGISTRY), public ^ set(REGISTRY)


TESTED = [n for n, (k, _, _) in REGISTRY.items() if k != "other"]


def _eq(a, b):
    if isinstance(a, float | int | np.floating) and isinstance(b, float | int | np.floating):
        assert a == pytest.approx(b, abs=1e-10, nan_ok=True)
    elif isinstance(a, np.ndarray):
        np.testing.assert_allclose(a, b, atol=1e-10)
    else:
        assert a == pytest.approx(b, abs=1e-10, nan_ok=True) if isinstance(a, tuple) else a == b


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.mark.parametrize("name", TESTED)
def test_input_types_equal(name):
    base = _value(_call(name))
    for t in ("list", "frame"):
        _eq(_value(_call(name, as_type=t)), base)


@pytest.mark.parametrize("name", TESTED)
def test_string_labels_equal_int_labels(name):
    if REGISTRY[name][0] in ("scores",) or name in (*NUMERIC_PAIR, "alt_test"):
        pytest.skip("numeric scores: labels are values")
    got = _call(name, strings=True)
    if got is None:
        pytest.skip("binary/probability inputs")
    _eq(_value(got), _value(_call(name)))


@pytest.mark.parametrize("name", TESTED)
def test_item_order_invariance(name):
    if name in ("harmful_confidence", "paired_bootstrap_difference", "risk_coverage_curve"):
        pytest.skip("item-ordered output (worst list / random resamples / ties)")
    perm = np.random.default_rng(3).permutation(N)
    _eq(_value(_call(name, perm=perm)), _value(_call(name)))


@pytest.mark.parametrize("name", [n for n in TESTED if REGISTRY[n][2]])
def test_rater_order_invariance(name):
    kind, _, rule = REGISTRY[name]
    if rule == "symmetric":
        fn = getattr(js, name)
        _eq(fn(PAIR[:, 1], PAIR[:, 0]).value, fn(PAIR[:, 0], PAIR[:, 1]).value)
        return
    ncols = {"ratings": 4, "pair": 2, "scores": 3, "judge": 3}[kind]
    cols = list(range(ncols))[::-1]
    a, b = _value(_call(name, cols=cols)), _value(_call(name))
    if name == "human_ceiling":
        a, b = a, b  # value = mean pairwise kappa, permutation-invariant
    if name == "alt_test":
        a, b = a[1], b[1]
    _eq(a, b)
