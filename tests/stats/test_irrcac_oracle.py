"""Python irrCAC (Gwet's methods ported from R irrCAC) as an oracle for the multi-rater coefficients and SEs.

irrCAC 0.4.4 pins scipy==1.12 and pandas<3, so it is not in the ``dev`` extra: ``make setup`` installs it
with ``--no-deps`` (it runs on our numpy/pandas/scipy). Without it this module is skipped.
"""

import numpy as np
import pandas as pd
import pytest

from judgekit import stats as js

CAC = pytest.importorskip("irrCAC.raw", reason="make setup installs irrcac==0.4.4 (--no-deps)").CAC

pytestmark = pytest.mark.filterwarnings("ignore:Starting with pandas version 4.0")


def _random(seed, n=80, r=4, k=4, missing=0.2):
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, k + 1, n)
    x = np.where(rng.random((n, r)) < 0.6, truth[:, None], rng.integers(1, k + 1, (n, r))).astype(float)
    x[rng.random(x.shape) < missing] = np.nan
    return x[~np.isnan(x).all(axis=1)]


@pytest.mark.parametrize("weights", ["identity", "linear", "quadratic"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_multirater_se_vs_python_irrcac(weights, seed):
    x = _random(seed)
    # irrCAC needs the categories: with pandas >= 3 it otherwise counts NaN as one (see se_cases.json)
    cac = CAC(pd.DataFrame(x), weights=weights, categories=[1.0, 2.0, 3.0, 4.0], digits=12)
    w = None if weights == "identity" else weights
    for theirs, fn in [
        ("conger", js.conger_kappa),
        ("fleiss", js.fleiss_kappa),
        ("gwet", js.gwet_ac),
        ("bp", js.brennan_prediger),
    ]:
        est = getattr(cac, theirs)()["est"]
        ours = fn(x, weights=w, levels=[1, 2, 3, 4], ci=True, ci_method="asymptotic")
        assert ours.value == pytest.approx(est["coefficient_value"], abs=1e-10), theirs
        assert ours.se == pytest.approx(est["se"], abs=1e-10), theirs
        low, high = est["confidence_interval"]
        assert ours.interval.low == pytest.approx(low, abs=1e-10), theirs
        if high < 1:
            assert ours.interval.high == pytest.approx(high, abs=1e-10), theirs


def test_irrcac_counts_nan_as_a_category_without_categories():
    """Why the oracle passes categories: with pandas >= 3, irrCAC 0.4.4 takes NaN for a sixth category."""
    x = _random(7)
    with_nan = CAC(pd.DataFrame(x), digits=12)
    if len(with_nan.categories) == 4:
        pytest.skip("this pandas drops NaN in stack(): irrCAC finds the 4 categories itself")
    assert js.brennan_prediger(x).value != pytest.approx(with_nan.bp()["est"]["coefficient_value"], abs=1e-6)
