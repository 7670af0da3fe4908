"""Independent implementations (test-only dependencies) as oracles on random data."""

import krippendorff
import numpy as np
import pandas as pd
import pingouin
import pytest
from scipy import stats as sps
from sklearn import metrics as skm
from statsmodels.stats import inter_rater as smir

from judgekit import stats as js


def _random_ratings(seed, n=200, r=5, k=4, missing=0.15):
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, k + 1, n)
    x = np.where(rng.random((n, r)) < 0.6, truth[:, None], rng.integers(1, k + 1, (n, r))).astype(float)
    x[rng.random(x.shape) < missing] = np.nan
    return x


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_alpha_vs_krippendorff_package(level, seed):
    x = _random_ratings(seed)
    ours = js.krippendorff_alpha(x, level=level).value
    theirs = krippendorff.alpha(reliability_data=x.T, level_of_measurement=level)
    assert ours == pytest.approx(theirs, abs=1e-12)


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
@pytest.mark.parametrize("seed", [0, 1])
def test_cohen_vs_sklearn_and_statsmodels(weights, seed):
    x = _random_ratings(seed, r=2, missing=0.0).astype(int)
    levels = [1, 2, 3, 4]
    ours = js.cohen_kappa(x, weights=weights, levels=levels).value
    assert ours == pytest.approx(skm.cohen_kappa_score(x[:, 0], x[:, 1], weights=weights, labels=levels), abs=1e-12)
    table = js.confusion_matrix(x[:, 0], x[:, 1], levels=levels).as_array()
    wt = {None: None, "linear": "linear", "quadratic": "quadratic"}[weights]
    sm = smir.cohens_kappa(table, wt=wt).kappa if wt else smir.cohens_kappa(table).kappa
    assert ours == pytest.approx(sm, abs=1e-12)


def test_fleiss_vs_statsmodels():
    x = _random_ratings(3, missing=0.0)
    counts, _ = smir.aggregate_raters(x.astype(int))
    assert js.fleiss_kappa(x).value == pytest.approx(smir.fleiss_kappa(counts), abs=1e-12)
    assert js.fleiss_kappa_from_counts(counts).value == pytest.approx(smir.fleiss_kappa(counts), abs=1e-12)
    assert js.brennan_prediger(x).value == pytest.approx(smir.fleiss_kappa(counts, method="randolph"), abs=1e-12)


PG = {
    "ICC1": "ICC(1,1)",
    "ICC2": "ICC(A,1)",
    "ICC3": "ICC(C,1)",
    "ICC1k": "ICC(1,k)",
    "ICC2k": "ICC(A,k)",
    "ICC3k": "ICC(C,k)",
}


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("form", list(PG))
def test_icc_vs_pingouin(form):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(40, 1)) + rng.normal(scale=0.7, size=(40, 4)) + np.array([0, 0.3, -0.2, 0.5])
    long = pd.DataFrame(x).reset_index().melt(id_vars="index", var_name="rater", value_name="score")
    pg = pingouin.intraclass_corr(long, targets="index", raters="rater", ratings="score").set_index("Type")
    assert js.icc(x, form=form).value == pytest.approx(pg.loc[PG[form], "ICC"], abs=1e-10)


def test_correlations_vs_scipy():
    rng = np.random.default_rng(6)
    a = rng.integers(1, 6, 80)
    b = np.clip(a + rng.integers(-1, 2, 80), 1, 5)
    assert js.spearman(a, b).value == pytest.approx(sps.spearmanr(a, b).statistic)
    assert js.kendall(a, b).value == pytest.approx(sps.kendalltau(a, b).statistic)


def test_classification_vs_sklearn():
    rng = np.random.default_rng(7)
    y = rng.integers(0, 3, 300)
    p = np.where(rng.random(300) < 0.7, y, rng.integers(0, 3, 300))
    assert js.confusion_matrix(y, p).matrix == skm.confusion_matrix(y, p).tolist()
    pr, rc, f1, sup = skm.precision_recall_fscore_support(y, p)
    rep = js.classification_report(y, p)
    for i in range(3):
        c = rep.details["per_class"][str(i)]
        assert (c["precision"], c["recall"], c["f1"], c["support"]) == pytest.approx((pr[i], rc[i], f1[i], sup[i]))
    yb, pb = y == 1, p == 1
    rates = js.binary_rates(yb, pb, positive=True)
    assert rates.details["tpr"] == pytest.approx(skm.recall_score(yb, pb))
    assert rates.details["tnr"] == pytest.approx(skm.recall_score(~yb, ~pb))


def test_brier_vs_sklearn():
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, 100)
    p = rng.random(100)
    assert js.brier_score(y, p).value == pytest.approx(skm.brier_score_loss(y, p))
    assert js.brier_score(y, np.c_[1 - p, p]).value == pytest.approx(2 * skm.brier_score_loss(y, p))


def test_mcnemar_vs_statsmodels():
    from statsmodels.stats.contingency_tables import mcnemar

    rng = np.random.default_rng(9)
    a = rng.random(300) < 0.8
    b = rng.random(300) < 0.7
    t = [[np.sum(a & b), np.sum(a & ~b)], [np.sum(~a & b), np.sum(~a & ~b)]]
    for exact in (True, False):
        assert js.mcnemar(a, b, exact=exact).value == pytest.approx(mcnemar(t, exact=exact).pvalue)
    assert js.mcnemar(a, b).value == pytest.approx(mcnemar(t, exact=True).pvalue)
    chi = js.mcnemar(a, b, method="chi2")
    assert chi.value == pytest.approx(mcnemar(t, exact=False, correction=True).pvalue)
    assert chi.details["method"] == "chi2" and "continuity" in chi.details["test"]
    raw = js.mcnemar(a, b, method="chi2", correction=False)
    assert raw.value == pytest.approx(mcnemar(t, exact=False, correction=False).pvalue)


@pytest.mark.parametrize("seed", [0, 1])
def test_alpha_with_a_user_distance_vs_krippendorff_package(seed):
    """A user-supplied metric: the krippendorff package takes it as a callable level_of_measurement."""
    x = _random_ratings(seed)

    def bounded(a, b):  # a saturating difference: 1 - exp(-|a - b|), squared
        return (1.0 - np.exp(-np.abs(a - b))) ** 2

    def theirs_metric(v1, v2, i1, i2, n_v, dtype=np.float64):
        return bounded(v1, v2).astype(dtype)

    ours = js.krippendorff_alpha(x, distance=bounded)
    theirs = krippendorff.alpha(reliability_data=x.T, level_of_measurement=theirs_metric)
    assert ours.value == pytest.approx(theirs, abs=1e-12)
    assert ours.details["measurement_level"] == "custom"
    # the interval metric written as a distance is interval alpha; a per-pair (non-vectorised) function works too
    sq = js.krippendorff_alpha(x, distance=lambda a, b: float((a - b) ** 2) if a != b else 0.0).value
    assert sq == pytest.approx(js.krippendorff_alpha(x, level="interval").value, abs=1e-12)


def test_alpha_distance_on_string_labels_and_bad_distances():
    h = [["low", "mid"], ["mid", "mid"], ["high", "low"], ["high", "high"], ["low", "low"]]
    rank = {"low": 0, "mid": 1, "high": 2}
    r = js.krippendorff_alpha(h, distance=lambda a, b: (rank[a] - rank[b]) ** 2, levels=["low", "mid", "high"])
    num = js.krippendorff_alpha([[rank[a] for a in row] for row in h], level="interval")
    assert r.value == pytest.approx(num.value, abs=1e-12)
    with pytest.raises(ValueError, match="itself must be 0"):
        js.krippendorff_alpha(h, distance=lambda a, b: 1.0)
    with pytest.raises(ValueError, match="symmetric"):
        js.krippendorff_alpha(h, distance=lambda a, b: float(rank[a] > rank[b]), levels=["low", "mid", "high"])
    with pytest.raises(ValueError, match="not both"):
        js.krippendorff_alpha(h, level="ordinal", distance=lambda a, b: 0.0)
