"""Large-sample (asymptotic) standard errors of the agreement coefficients, and the intervals they give.

Two families:

* **Cohen's kappa, weighted or not** (two raters, one contingency table): Fleiss, Cohen & Everitt (1969),
  "Large sample standard errors of kappa and weighted kappa", *Psychological Bulletin* 72(5):323-327. The
  variance both at the estimate (for intervals) and under H0: kappa = 0 (for the z test).
* **Multi-rater coefficients with missing ratings** (Fleiss' kappa, Conger's kappa, Gwet's AC1/AC2,
  Brennan-Prediger, percent agreement): Gwet (2008) "Computing inter-rater reliability and its variance in the
  presence of high agreement", *BJMSP* 61:29-48, and Gwet (2014) *Handbook of Inter-Rater Reliability*, 4th ed.,
  ch. 5: a linearisation of the coefficient into per-item terms, whose sample variance gives the variance
  (the method of R ``irrCAC``). And, for Fleiss' kappa under H0 with the same number of raters per item,
  Fleiss, Nee & Landis (1979), *Psychological Bulletin* 86(5):974-977 (R ``irr::kappam.fleiss``).

Asymptotic intervals are symmetric, ``value ± z · se`` (normal, Fleiss-Cohen-Everitt) or ``value ± t · se``
with ``n - 1`` degrees of freedom (Gwet's linearisation, as irrCAC). They are cheap and standard, but can
leave [-1, 1] and are poor for small n or kappa near 1: the bootstrap intervals remain the default.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy import stats as sps

from ._result import Interval

__all__ = ["asymptotic_interval", "cohen_variance", "fleiss_h0_variance", "linearized_variance"]

FloatArray = NDArray[np.float64]

FCE_1969 = "Fleiss, Cohen & Everitt (1969) large-sample variance"
GWET_2014 = "Gwet (2008, 2014) linearisation (as R irrCAC)"
FNL_1979 = "Fleiss, Nee & Landis (1979) variance under H0"


def cohen_variance(table: FloatArray, w: FloatArray) -> tuple[float, float]:
    """Large-sample variances of (weighted) kappa from a k × k table of counts: (at the estimate, under H0).

    With ``p_ij`` the cell shares, ``p_i.``/``p_.j`` the margins, ``w̄_i. = Σ_j p_.j w_ij``,
    ``w̄_.j = Σ_i p_i. w_ij`` (Fleiss, Cohen & Everitt 1969, eqs. 11 and 9):

    ``var(κ) = [Σ_ij p_ij (w_ij - (w̄_i. + w̄_.j)(1 - κ))² - (κ - p_e (1 - κ))²] / (n (1 - p_e)²)``

    ``var_0(κ) = [Σ_ij p_i. p_.j (w_ij - (w̄_i. + w̄_.j))² - p_e²] / (n (1 - p_e)²)``
    """
    n = float(table.sum())
    if n <= 0:
        return float("nan"), float("nan")
    p = table / n
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    po = float((w * p).sum())
    pe = float(rows @ w @ cols)
    if pe >= 1.0:
        return float("nan"), float("nan")
    kappa = (po - pe) / (1.0 - pe)
    wi = w @ cols  # w̄_i.
    wj = rows @ w  # w̄_.j
    s = wi[:, None] + wj[None, :]
    var = ((p * (w - s * (1.0 - kappa)) ** 2).sum() - (kappa - pe * (1.0 - kappa)) ** 2) / (n * (1.0 - pe) ** 2)
    var0 = ((np.outer(rows, cols) * (w - s) ** 2).sum() - pe**2) / (n * (1.0 - pe) ** 2)
    return float(max(var, 0.0)), float(max(var0, 0.0))


def linearized_variance(
    freq: FloatArray,
    rated: FloatArray,
    pa_item: FloatArray,
    two: FloatArray,
    pe: float,
    pe_item: FloatArray | None,
    value: float,
) -> float:
    """Gwet's (2014) linearisation variance of a multi-rater coefficient ``(p_a - p_e) / (1 - p_e)``.

    Per item (here: per pattern, weighted by ``freq``) with ``n`` items rated at least once and ``n2`` rated at
    least twice: ``κ_i = (n / n2) (p_a,i - p_e [r_i ≥ 2]) / (1 - p_e)``,
    ``κ*_i = κ_i - 2 (1 - κ) (p_e,i - p_e) / (1 - p_e)`` (no second term when ``p_e`` is fixed, as for
    Brennan-Prediger), and ``var = Σ_i (κ*_i - κ)² / (n (n - 1))`` (no finite-population correction).

    ``rated`` marks items with at least one rating (the others are not items of the study), ``pa_item`` is the
    item's weighted pairwise agreement, ``two`` marks items with at least two ratings, ``pe_item`` the item's
    chance-agreement term (None for a fixed ``p_e``).
    """
    f = freq * rated
    n = float(f.sum())
    n2 = float((f * two).sum())
    if n < 2 or n2 < 1 or not np.isfinite(value) or pe >= 1.0:
        return float("nan")
    k_i = (n / n2) * (pa_item - pe * two) / (1.0 - pe)
    if pe_item is not None:
        k_i = k_i - 2.0 * (1.0 - value) * (pe_item - pe) / (1.0 - pe)
    return float((f * (k_i - value) ** 2).sum() / (n * (n - 1.0)))


def fleiss_h0_variance(pj: FloatArray, n_items: int, m: int) -> float:
    """Fleiss, Nee & Landis (1979) variance of Fleiss' kappa under H0 (no agreement beyond chance), for
    ``n_items`` items each rated by the same ``m`` raters, ``p_j`` the category shares (``q_j = 1 - p_j``):

    ``var_0 = 2 / (n m (m - 1) (Σ p_j q_j)²) · [(Σ p_j q_j)² - Σ p_j q_j (q_j - p_j)]``
    """
    pq = pj * (1.0 - pj)
    s = float(pq.sum())
    if s <= 0 or m < 2 or n_items < 1:
        return float("nan")
    return 2.0 / (n_items * m * (m - 1) * s**2) * (s**2 - float((pq * (1.0 - 2.0 * pj)).sum()))


def asymptotic_interval(value: float, se: float, level: float, df: float | None = None) -> Interval:
    """``value ± q · se`` with ``q`` the normal quantile, or Student's t with ``df`` degrees of freedom."""
    if not (np.isfinite(value) and np.isfinite(se)):
        return Interval(low=float("nan"), high=float("nan"), level=level, method="asymptotic")
    q = float(sps.norm.ppf(0.5 + level / 2)) if df is None else float(sps.t.ppf(0.5 + level / 2, df))
    return Interval(low=value - q * se, high=value + q * se, level=level, method="asymptotic")


def z_test(value: float, se0: float) -> tuple[float, float]:
    """(z, two-sided p) of H0: coefficient = 0 with its standard error under H0."""
    if not (np.isfinite(value) and np.isfinite(se0)) or se0 <= 0:
        return float("nan"), float("nan")
    z = value / se0
    return z, float(2.0 * sps.norm.sf(abs(z)))


def sqrt_or_nan(v: float) -> float:
    return math.sqrt(v) if np.isfinite(v) and v >= 0 else float("nan")
