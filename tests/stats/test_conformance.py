"""Every case of the shared conformance file, against judgekit.stats."""

import json
from pathlib import Path

import numpy as np
import pytest

from judgekit import stats as js

CASES = json.loads((Path(__file__).parent / "data" / "agreement_cases.json").read_text())


def _ratings(case):
    if case["data_layout"] == "raters_x_units":
        return js.RatingMatrix.from_raters_x_items(case["data"])
    return case["data"]


def check(case):
    cid, exp, data = case["id"], case["expected"], case["data"]
    if case["metric"] == "krippendorff_alpha":
        return [(js.krippendorff_alpha(_ratings(case), level=case["variant"]).value, exp)]
    if cid == "fleiss_1971_diagnoses":
        r = js.fleiss_kappa(data)
        ex = case["extra_expected"]
        return [
            (r.value, exp),
            (r.value, ex["R_irr_value"]),
            (round(r.details["observed_agreement"], 4), ex["observed_agreement"]),
            (round(r.details["expected_agreement"], 4), ex["expected_agreement"]),
        ]
    if cid == "fleiss_wikipedia_14raters":
        return [(js.fleiss_kappa_from_counts(data).value, exp)]
    if cid == "cohen_1960_p45":
        return [(js.cohen_kappa(js.ratings_from_contingency_table(data)).value, exp)]
    if cid == "artstein_poesio_2008_ex1":
        r = js.ratings_from_contingency_table(data)
        return [
            (js.percent_agreement(r).value, exp["percent_agreement"]),
            (js.brennan_prediger(r).value, exp["bennett_S"]),
            (js.scott_pi(r).value, exp["scott_pi"]),
            (js.cohen_kappa(r).value, exp["cohen_kappa"]),
        ]
    if cid.startswith("cohen_irr_anxiety"):
        w = {"unweighted": None, "linear": "linear", "quadratic": "quadratic"}[case["variant"]]
        a, b = data["rater_a"], data["rater_b"]
        observed = sorted(set(a) | set(b))  # irr weights by the OBSERVED levels: declare only those
        out = [(js.cohen_kappa(a, b, weights=w, levels=observed).value, exp)]
        declared = js.cohen_kappa(a, b, weights=w, levels=[1, 2, 3, 4, 5, 6]).value
        out.append((declared, case["library_results"]["sklearn_with_labels_1..6(value-spaced)"]))
        return out
    if cid == "gwet_raw4raters_unweighted":
        ac1 = js.gwet_ac(data)
        return [
            (js.percent_agreement(data).value, exp["percent_agreement"]),
            (ac1.value, exp["gwet_ac1"]),
            (ac1.details["expected_agreement"], exp["gwet_ac1_pe"]),
            (js.fleiss_kappa(data).value, exp["fleiss_kappa"]),
            (js.fleiss_kappa(data).details["expected_agreement"], exp["fleiss_pe"]),
            (js.krippendorff_alpha(data).value, exp["krippendorff_alpha"]),
            (js.brennan_prediger(data).value, exp["brennan_prediger"]),
            # R irrCAC's 0.76282, not the 0.76207 noted for the Python port (see se_cases.json, gwet_se_raw4raters)
            (js.conger_kappa(data).value, exp["conger_kappa"]),
        ]
    if cid == "gwet_ac2_raw4raters_quadratic":
        return [(js.gwet_ac(data, weights="quadratic").value, exp)]
    if cid == "fleiss_weighted_raw4raters_quadratic":
        return [(js.fleiss_kappa(data, weights="quadratic").value, exp)]
    if case["metric"] == "icc":
        form = case["variant"].split("/")[-1].strip().replace("psych ", "")
        return [(js.icc(data, form=form).value, exp)]
    if cid == "brier_sklearn_binary":
        yt, yp = data["y_true"], data["y_prob"]
        two = np.column_stack([1 - np.asarray(yp), yp])
        return [
            (js.brier_score(yt, yp).value, exp),
            (js.brier_score(yt, two).value, case["extra_expected"]["scale_by_half_False"]),
        ]
    if cid == "ece_torchmetrics_binary":
        p, y, nb = data["preds"], data["target"], data["n_bins"]
        out = [
            (js.expected_calibration_error(p, y, n_bins=nb, convention="positive", norm=n).value, exp[n])
            for n in ("l1", "l2", "max")
        ]
        pp = np.asarray(p)
        conf, correct = np.maximum(pp, 1 - pp), ((pp >= 0.5).astype(int) == np.asarray(y)).astype(int)
        top = case["library_results"]["harness top-label (max(p,1-p), correct=pred==target)"]
        out += [(js.expected_calibration_error(conf, correct, n_bins=nb, norm=n).value, top[n]) for n in top]
        return out
    raise AssertionError(f"conformance case {cid} is not handled")


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_conformance_case(case):
    for got, want in check(case):
        assert got == pytest.approx(want, abs=max(case["tolerance"], 1e-9)), case["id"]


def test_icc_psych_intervals_bracket_published(cases):
    # psych's F-based CIs are not reproduced (we bootstrap); check ICC2's published 95% CI overlaps ours
    data = cases["icc_shrout_fleiss_ICC2"]["data"]
    r = js.icc(data, form="ICC2", ci=True, seed=1, n_boot=500)
    lo, hi = cases["icc_shrout_fleiss_ICC2"]["extra_expected"]["psych_95CI"]
    assert r.interval.low < hi and r.interval.high > lo


def test_declaring_unused_level_changes_weighted_kappa(cases):
    d = cases["cohen_irr_anxiety_r2r3_squared"]["data"]
    a, b = d["rater_a"], d["rater_b"]
    observed = js.cohen_kappa(a, b, weights="quadratic", levels=[1, 2, 3, 4, 6]).value
    declared = js.cohen_kappa(a, b, weights="quadratic", levels=[1, 2, 3, 4, 5, 6]).value
    assert observed != pytest.approx(declared, abs=1e-3)
    # unweighted kappa does not depend on an unused level
    assert js.cohen_kappa(a, b, levels=[1, 2, 3, 4, 5, 6]).value == pytest.approx(js.cohen_kappa(a, b).value)


def test_orientation_matters(cases):
    data = cases["kalpha_k2011_nominal"]["data"]
    right = js.krippendorff_alpha(js.RatingMatrix.from_raters_x_items(data)).value
    wrong = js.krippendorff_alpha(np.array(data, dtype=object)).value  # raters x items passed as items
    assert right == pytest.approx(0.743, abs=5e-4)
    assert wrong != pytest.approx(right, abs=1e-3)


def test_fleiss_per_category_close_to_paper(cases):
    r = js.fleiss_kappa(cases["fleiss_1971_diagnoses"]["data"])
    # Fleiss (1971) prints per-category kappas that differ from the exact formula by up to 0.0035
    assert set(r.details["per_category"]) == {"1", "2", "3", "4", "5"}
    assert all(-1 <= v <= 1 for v in r.details["per_category"].values())
