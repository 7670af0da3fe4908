"""Numeric-score statistics: ICC forms, Pearson, Lin's CCC, MAE, Bland-Altman; published values, then oracles."""

import json
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats as sps
from sklearn.metrics import mean_absolute_error as sk_mae

from judgekit import stats as js

CASES = {c["id"]: c for c in json.loads((Path(__file__).parent / "data" / "numeric_cases.json").read_text())}
PG_NAMES = {
    "ICC1": "ICC(1,1)",
    "ICC2": "ICC(A,1)",
    "ICC3": "ICC(C,1)",
    "ICC1k": "ICC(1,k)",
    "ICC2k": "ICC(A,k)",
    "ICC3k": "ICC(C,k)",
}


def test_icc_all_forms_and_f_tests_match_desctools():
    case = CASES["icc_shrout_fleiss_all_forms_desctools"]
    x, exp = case["data"], case["expected"]
    for form in PG_NAMES:
        r = js.icc(x, form=form)
        assert r.value == pytest.approx(exp[form], abs=case["tolerance"]), form
        f, df1, df2, p = exp["F_one_way"] if form.startswith("ICC1") else exp["F_two_way"]
        assert (round(r.details["F"], 2), r.details["df1"], r.details["df2"]) == (f, df1, df2)
        assert r.details["p_value"] == pytest.approx(p, abs=5e-7)
    iv = js.icc(x, form="ICC2", ci=True, ci_method="f").interval
    assert (round(iv.low, 3), round(iv.high, 2)) == tuple(exp["psych_ICC2_ci95"]) and iv.method == "f"


@pytest.mark.filterwarnings("ignore:The inplace keyword")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_icc_values_f_and_intervals_vs_pingouin(seed, monkeypatch):
    monkeypatch.setitem(pg.options, "round.column.CI95", None)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(40, 3)) + 2 * rng.normal(size=(40, 1)) + np.array([0.0, 0.4, 1.0]) * seed
    long = pd.DataFrame(x).reset_index().melt(id_vars="index", var_name="rater", value_name="score")
    theirs = pg.intraclass_corr(long, targets="index", raters="rater", ratings="score").set_index("Type")
    for form, name in PG_NAMES.items():
        ours = js.icc(x, form=form, ci=True, ci_method="f")
        assert ours.value == pytest.approx(theirs.loc[name, "ICC"], abs=1e-10), form
        assert ours.details["F"] == pytest.approx(theirs.loc[name, "F"], rel=1e-10)
        lo, hi = theirs.loc[name, "CI95"]
        assert (ours.interval.low, ours.interval.high) == pytest.approx((lo, hi), abs=1e-8), form


def test_icc_form_is_chosen_from_the_design_and_said():
    x = CASES["icc_shrout_fleiss_all_forms_desctools"]["data"]
    cases = [
        ({"same_raters": False}, "ICC1", "ICC(1)", "one-way"),
        ({"same_raters": False, "unit": "average"}, "ICC1k", "ICC(k)", "mean of the k raters"),
        ({}, "ICC2", "ICC(A,1)", "absolute agreement"),
        ({"agreement": "consistency"}, "ICC3", "ICC(C,1)", "consistency"),
        ({"agreement": "consistency", "unit": "average"}, "ICC3k", "ICC(C,k)", "mean of the k raters"),
    ]
    for kw, form, name, words in cases:
        r = js.icc(x, **kw)
        assert (r.details["form"], r.details["mcgraw_wong"]) == (form, name)
        assert words in r.details["why"]
        assert r.value == pytest.approx(js.icc(x, form=form).value)
    assert "given by the caller" in js.icc(x, form="ICC3").details["why"]
    with pytest.raises(ValueError, match="agreement"):
        js.icc_form(agreement="exact")


def test_icc_bootstrap_resamples_distinct_rows_and_covers():
    rng = np.random.default_rng(3)
    true = rng.integers(1, 6, 3000)
    x = np.column_stack([true, np.clip(true + rng.integers(-1, 2, 3000), 1, 5)]).astype(float)
    r = js.icc(x, ci=True, n_boot=300, seed=0)
    f = js.icc(x, ci=True, ci_method="f")
    assert r.interval.low < r.value < r.interval.high
    assert abs(r.interval.low - f.interval.low) < 0.02 and abs(r.interval.high - f.interval.high) < 0.02


def test_pearson_vs_scipy_and_pingouin():
    rng = np.random.default_rng(4)
    a = rng.normal(size=60)
    b = 0.7 * a + rng.normal(size=60)
    ours = js.pearson(a, b, ci=True)
    sp = sps.pearsonr(a, b)
    civ = sp.confidence_interval()
    assert ours.value == pytest.approx(sp.statistic, abs=1e-12)
    assert ours.details["p_value"] == pytest.approx(sp.pvalue, rel=1e-8)
    assert (ours.interval.low, ours.interval.high) == pytest.approx((civ.low, civ.high), abs=1e-12)
    pgr = pg.corr(a, b)
    assert ours.value == pytest.approx(float(pgr["r"].iloc[0]), abs=1e-12)
    boot = js.pearson(a, b, ci=True, ci_method="percentile", n_boot=500, seed=0)
    assert boot.interval.method == "percentile" and boot.interval.low < ours.value < boot.interval.high


def test_spearman_and_kendall_vs_pingouin():
    rng = np.random.default_rng(5)
    a = rng.integers(1, 6, 80).astype(float)
    b = np.clip(a + rng.integers(-1, 2, 80), 1, 5)
    assert js.spearman(a, b).value == pytest.approx(float(pg.corr(a, b, method="spearman")["r"].iloc[0]), abs=1e-12)
    assert js.kendall(a, b).value == pytest.approx(float(pg.corr(a, b, method="kendall")["r"].iloc[0]), abs=1e-12)


def test_ccc_docstring_values_and_the_definition():
    case = CASES["ccc_docstring_examples"]
    tm, lc = case["data"]["torchmetrics"], case["data"]["linccc"]
    assert js.concordance_correlation(tm["preds"], tm["target"], unbiased=True).value == pytest.approx(
        case["expected"]["torchmetrics_unbiased"], abs=case["tolerance"]
    )
    assert round(js.concordance_correlation(lc["x"], lc["y"]).value, 3) == case["expected"]["linccc_n"]
    # Lin (1989) eq. 1: 1 - E(X - Y)² / E(X - Y)² under independence, written out over all pairs
    rng = np.random.default_rng(6)
    a = rng.normal(3, 1, 50)
    b = 0.9 * a + rng.normal(0.4, 0.5, 50)
    definition = 1 - np.mean((a - b) ** 2) / np.mean((a[:, None] - b[None, :]) ** 2)
    r = js.concordance_correlation(a, b)
    assert r.value == pytest.approx(definition, abs=1e-12)
    assert r.details["pearson"] * r.details["bias_correction"] == pytest.approx(r.value, abs=1e-12)


def test_ccc_interval_covers_in_simulation_and_agrees_with_the_bootstrap():
    rng = np.random.default_rng(7)
    n, hits, sims = 60, 0, 300
    cov = np.array([[1.0, 0.8], [0.8, 1.2]])
    true = 2 * 0.8 / (1.0 + 1.2 + 0.3**2)
    for _ in range(sims):
        xy = rng.multivariate_normal([0.0, 0.3], cov, size=n)
        iv = js.concordance_correlation(xy[:, 0], xy[:, 1], ci=True).interval
        hits += iv.low <= true <= iv.high
    assert 0.90 <= hits / sims <= 0.99
    xy = rng.multivariate_normal([0.0, 0.3], cov, size=400)
    a = js.concordance_correlation(xy[:, 0], xy[:, 1], ci=True)
    b = js.concordance_correlation(xy[:, 0], xy[:, 1], ci=True, ci_method="percentile", n_boot=800, seed=1)
    assert abs(a.interval.low - b.interval.low) < 0.03 and abs(a.interval.high - b.interval.high) < 0.03


def test_mae_vs_sklearn():
    case = CASES["mae_sklearn_docstring"]
    assert js.mean_absolute_error(case["data"]["y_pred"], case["data"]["y_true"]).value == case["expected"]
    rng = np.random.default_rng(8)
    a, b = rng.integers(1, 11, 500).astype(float), rng.integers(1, 11, 500).astype(float)
    b[::7] = np.nan
    keep = ~np.isnan(b)
    r = js.mean_absolute_error(a, b, ci=True, n_boot=300, seed=0)
    assert r.value == pytest.approx(sk_mae(b[keep], a[keep]), abs=1e-12)
    assert r.details["n_dropped"] == int((~keep).sum()) and r.interval.low < r.value < r.interval.high
    asym = js.mean_absolute_error(a, b, ci=True, ci_method="asymptotic")
    assert asym.interval.method == "asymptotic" and abs(asym.interval.low - r.interval.low) < 0.1


def test_bland_altman_reproduces_the_1986_paper():
    case = CASES["bland_altman_1986_pefr"]
    x, y, exp = case["data"]["wright_first"], case["data"]["mini_first"], case["expected"]
    r = js.bland_altman(x, y, multiplier=2, loa_se="1986")
    assert (round(r.value, 1), round(r.details["sd"], 1), round(r.se, 1)) == (exp["bias"], exp["sd"], exp["se_bias"])
    # t_16 = 2.12 as in the paper
    assert (round(r.interval.low, 1), round(r.interval.high, 1)) == tuple(exp["bias_ci"])
    assert round(r.details["loa_se"], 1) == exp["se_loa_1986"]
    # the paper adds rounded figures: limits and their intervals within 0.25 of ours
    assert (r.details["loa_low"], r.details["loa_high"]) == pytest.approx(tuple(exp["loa"]), abs=0.1)
    assert r.details["loa_high_ci"] == pytest.approx(exp["loa_high_ci"], abs=0.25)
    assert r.details["loa_low_ci"] == pytest.approx(exp["loa_low_ci"], abs=0.25)
    assert round(js.bland_altman(x, y).details["loa_se"], 1) == exp["se_loa_1999_multiplier_1.96"]


def _pingouin_lines(x, y, agreement, confidence):
    """pingouin computes the figures to draw them: read its horizontal lines and shaded bands back."""
    fig, ax = plt.subplots()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pg.plot_blandaltman(x, y, agreement=agreement, confidence=confidence, ax=ax, annotate=False)
    fig.canvas.draw()
    lines = sorted({float(line.get_ydata()[0]) for line in ax.get_lines()} - {0.0})
    to_data = ax.transData.inverted()
    bands = []
    for patch in ax.patches:
        box = patch.get_window_extent()
        (_, y0), (_, y1) = to_data.transform([[0, box.y0], [0, box.y1]])
        bands.append((float(y0), float(y1)))
    plt.close(fig)
    return lines, sorted(bands)


@pytest.mark.parametrize("agreement", [1.96, 2.0])
def test_bland_altman_vs_pingouin_plot(agreement):
    rng = np.random.default_rng(9)
    x = rng.normal(50, 10, 40)
    y = x + rng.normal(1.5, 4, 40)
    ours = js.bland_altman(x, y, multiplier=agreement, loa_se="1986")
    lines, bands = _pingouin_lines(x, y, agreement, 0.95)
    assert lines == pytest.approx(sorted([ours.value, ours.details["loa_low"], ours.details["loa_high"]]), abs=1e-8)
    expected = sorted(
        [tuple(ours.details["loa_low_ci"]), (ours.interval.low, ours.interval.high), tuple(ours.details["loa_high_ci"])]
    )
    for got, want in zip(bands, expected, strict=True):
        assert got == pytest.approx(want, abs=1e-6)


def test_numeric_inputs_are_validated():
    with pytest.raises(ValueError, match="one score per item"):
        js.concordance_correlation([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="infinite"):
        js.mean_absolute_error([1, np.inf], [1, 2])
    with pytest.warns(js.UndefinedStatisticWarning):
        assert np.isnan(js.pearson([1, 1, 1], [1, 2, 3]).value)
    with pytest.raises(ValueError, match="loa_se"):
        js.bland_altman([1, 2, 3], [1, 2, 4], loa_se="2005")
