"""Large-sample standard errors and asymptotic intervals: published values, then independent implementations."""

import json
from pathlib import Path

import numpy as np
import pytest
from statsmodels.stats import inter_rater as smir

from judgekit import stats as js

DATA = Path(__file__).parent / "data"
SE = {c["id"]: c for c in json.loads((DATA / "se_cases.json").read_text())}
BASE = {c["id"]: c for c in json.loads((DATA / "agreement_cases.json").read_text())}


@pytest.mark.parametrize(
    ("cid", "weights"), [("cohen_se_sas_table10_unweighted", None), ("cohen_se_sas_table10_linear", "linear")]
)
def test_cohen_se_matches_sas(cid, weights):
    case = SE[cid]
    exp, tol = case["expected"], case["tolerance"]
    r = js.cohen_kappa(
        js.ratings_from_contingency_table(case["data"]), weights=weights, ci=True, ci_method="asymptotic"
    )
    assert r.value == pytest.approx(exp["kappa"], abs=tol)
    assert r.se == pytest.approx(exp["se"], abs=tol)
    assert r.details["se0"] == pytest.approx(exp["se0"], abs=tol)
    assert r.details["z"] == pytest.approx(exp["z"], abs=tol)
    assert (r.interval.low, r.interval.high) == pytest.approx(tuple(exp["ci95"]), abs=tol)
    assert r.interval.method == "asymptotic" and "Fleiss, Cohen & Everitt" in r.details["se_method"]


def test_cohen_se_matches_irrcac_readme():
    case = SE["cohen_se_irrcac_cont3x3abstractors"]
    r = js.cohen_kappa(js.ratings_from_contingency_table(case["data"]))
    assert r.value == pytest.approx(case["expected"]["kappa"], abs=case["tolerance"])
    assert r.se == pytest.approx(case["expected"]["se"], abs=case["tolerance"])


@pytest.mark.parametrize("variant", ["unweighted", "linear", "quadratic"])
def test_cohen_z_matches_r_irr(variant):
    case = SE["cohen_z_irr_anxiety_r2r3"]
    a, b = case["data"]["rater_a"], case["data"]["rater_b"]
    exp = case["expected"][variant]
    r = js.cohen_kappa(a, b, weights=None if variant == "unweighted" else variant, levels=[1, 2, 3, 4, 6])
    assert r.value == pytest.approx(exp["kappa"], abs=case["tolerance"])
    assert r.details["z"] == pytest.approx(exp["z"], abs=case["tolerance"])
    assert r.details["p_value"] == pytest.approx(exp["p"], abs=case["tolerance"])


def test_fleiss_h0_se_matches_r_irr():
    case = SE["fleiss_se0_irr_diagnoses"]
    r = js.fleiss_kappa(BASE[case["data"]]["data"])
    assert r.value == pytest.approx(case["expected"]["kappa"], abs=1e-7)
    assert r.details["z"] == pytest.approx(case["expected"]["z"], abs=case["tolerance"])
    assert "Nee & Landis" in r.details["se0_method"]


def test_multirater_se_match_irrcac_readme_raw4raters():
    case = SE["gwet_se_raw4raters"]
    data, exp, tol = BASE[case["data"]]["data"], case["expected"], case["tolerance"]
    for name, fn in [
        ("gwet_ac1", js.gwet_ac),
        ("fleiss_kappa", js.fleiss_kappa),
        ("conger_kappa", js.conger_kappa),
        ("brennan_prediger", js.brennan_prediger),
        ("percent_agreement", js.percent_agreement),
    ]:
        r = fn(data)
        assert (round(r.value, 5), round(r.se, 5)) == pytest.approx(tuple(exp[name]), abs=tol), name
        assert "Gwet" in r.details["se_method"] and r.details["se_df"] == 11
    assert js.conger_kappa(data).details["expected_agreement"] == pytest.approx(exp["conger_pe"], abs=5e-8)
    ac1 = js.gwet_ac(data, ci=True, ci_method="asymptotic")
    assert round(ac1.interval.low, 3) == exp["gwet_ac1_ci95"][0]  # irrCAC caps the upper bound at 1; we do not
    ac2 = js.gwet_ac(data, weights="quadratic", ci=True, ci_method="asymptotic")
    q = SE["gwet_ac2_se_raw4raters_quadratic"]["expected"]
    assert (round(ac2.value, 3), round(ac2.se, 3), round(ac2.interval.low, 3)) == (
        q["gwet_ac2"],
        q["se"],
        q["ci95_low"],
    )


def test_multirater_se_match_irrcac_readme_distrib6raters():
    case = SE["gwet_se_distrib6raters"]
    counts, exp, tol = case["data"], case["expected"], case["tolerance"]
    raw = np.array([np.repeat(np.arange(5), row) for row in counts])  # 6 ratings per patient
    ac1 = js.gwet_ac(raw, levels=[0, 1, 2, 3, 4])
    assert (ac1.value, ac1.se) == pytest.approx(tuple(exp["gwet_ac1"]), abs=tol)
    assert ac1.details["expected_agreement"] == pytest.approx(exp["gwet_ac1_pe"], abs=tol)
    for fk in (js.fleiss_kappa(raw, levels=[0, 1, 2, 3, 4]), js.fleiss_kappa_from_counts(counts)):
        assert (fk.value, fk.se) == pytest.approx(tuple(exp["fleiss_kappa"]), abs=tol)
        assert fk.details["expected_agreement"] == pytest.approx(exp["fleiss_pe"], abs=tol)
    bp = js.brennan_prediger(raw, levels=[0, 1, 2, 3, 4])
    assert (bp.value, bp.se) == pytest.approx(tuple(exp["brennan_prediger"]), abs=tol)


def _random(seed, n=150, r=2, k=4, missing=0.0):
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, k + 1, n)
    x = np.where(rng.random((n, r)) < 0.6, truth[:, None], rng.integers(1, k + 1, (n, r))).astype(float)
    x[rng.random(x.shape) < missing] = np.nan
    return x[~np.isnan(x).all(axis=1)]


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cohen_se_vs_statsmodels(weights, seed):
    x = _random(seed).astype(int)
    levels = [1, 2, 3, 4]
    ours = js.cohen_kappa(x, weights=weights, levels=levels)
    table = js.confusion_matrix(x[:, 0], x[:, 1], levels=levels).as_array()
    sm = smir.cohens_kappa(table, wt=weights) if weights else smir.cohens_kappa(table)
    assert ours.se == pytest.approx(sm.std_kappa, rel=1e-10)
    assert ours.details["se0"] == pytest.approx(sm.std_kappa0, rel=1e-10)


def test_conger_is_cohen_for_two_complete_raters():
    x = _random(4)
    assert js.conger_kappa(x).value == pytest.approx(js.cohen_kappa(x).value, abs=1e-12)


def test_asymptotic_interval_is_an_option_beside_the_bootstrap():
    x = _random(5, n=400)
    boot = js.cohen_kappa(x, ci=True, n_boot=500, seed=0)
    asym = js.cohen_kappa(x, ci=True, ci_method="asymptotic")
    assert boot.interval.method == "percentile" and asym.interval.method == "asymptotic"
    assert boot.se == asym.se and boot.details["se_method"] == asym.details["se_method"]
    assert asym.interval.high - asym.interval.low == pytest.approx(2 * 1.959964 * asym.se, rel=1e-6)
    # the two intervals agree roughly at n = 400
    assert abs(boot.interval.low - asym.interval.low) < 0.03 and abs(boot.interval.high - asym.interval.high) < 0.03
    with pytest.raises(ValueError, match="no large-sample standard error"):
        js.scott_pi(x, ci=True, ci_method="asymptotic")


def test_fleiss_h0_se_needs_equal_numbers_of_raters():
    x = _random(6, n=100, r=4, missing=0.2)
    r = js.fleiss_kappa(x)
    assert np.isfinite(r.se) and np.isnan(r.details["se0"]) and "same number of raters" in r.details["se0_method"]
