"""Conger's (1980) kappa: the multi-rater kappa whose chance agreement keeps each rater's own marginals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._asymptotic import GWET_2014, linearized_variance, sqrt_or_nan
from ._bootstrap import SeedLike
from ._multirater import finish, gwet_parts
from ._patterns import code_patterns
from ._result import StatResult
from ._validate import code_ratings
from ._weights import agreement_weights

__all__ = ["conger_kappa"]

FloatArray = NDArray[np.float64]


def conger_kappa(
    ratings: Any,
    *,
    weights: Any = None,
    levels: Sequence[Any] | None = None,
    ci: bool = False,
    n_boot: int = 1000,
    seed: SeedLike = None,
    ci_method: str = "percentile",
    cluster: Any = None,
    level: float = 0.95,
) -> StatResult:
    """Conger's kappa (1980): Cohen's kappa generalised to any number of raters, with missing ratings.

    Why: Fleiss' kappa pools every rater's labels into one chance distribution (Scott-style), which suits
    interchangeable raters; when the raters are fixed people (the same annotators on every item) Conger's
    chance agreement keeps each rater's own category distribution, as Cohen's kappa does for two.
    For two raters without missing ratings it IS Cohen's kappa.

    ``kappa = (p_a - p_e) / (1 - p_e)`` with ``p_a`` the mean pairwise (weighted) agreement per item, as in
    :func:`fleiss_kappa`, and ``p_e`` the mean over the ``r (r - 1)`` ordered rater pairs of Cohen's chance
    agreement ``Σ_kl w_kl p_gk p_hl``, where ``p_gk = n_gk / n_g`` is the share of rater ``g``'s ratings in
    category ``k`` over the items ``g`` rated (Gwet 2014, ch. 5, eq. for Conger's kappa with missing ratings):
    ``p_e = Σ_kl w_kl (p̄_k p̄_l - s²_kl / r)``, ``s²_kl`` the covariance of ``p_gk, p_gl`` across raters.

    Standard error: Gwet's (2014) linearisation (``result.se``; ``ci_method="asymptotic"`` for the interval,
    t with n - 1 df as R ``irrCAC::conger.kappa.raw``). A rater column with no rating at all is left out.

    Parameters
    ----------
    ratings
        items × raters matrix, missing = None/NaN; or a :class:`Coded`.
    weights, levels, ci, n_boot, seed, ci_method, cluster, level
        As for :func:`fleiss_kappa`.

    Notes
    -----
    R ``irrCAC`` (Gwet's own package) prints 0.76282 (se 0.14917, p_e 0.2334252) for ``cac.raw4raters``; the
    shared conformance file noted 0.76207 from the Python port, which we could not reproduce: the port
    (irrCAC 0.4.4, in its own pinned environment and ours) also gives 0.76282, and its unit test asserts
    0.763. 0.76282 follows from the formula above (each rater's shares over the items that rater rated);
    see ``docs/statistics.md``.

    Examples
    --------
    Gwet's ``cac.raw4raters`` (12 units × 4 raters, missing ratings); R irrCAC README: 0.76282, se 0.14917:

    >>> r = [[1, 1, None, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4],
    ...      [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [None, 5, 5, 5], [None, None, 1, 1],
    ...      [None, None, 3, None]]
    >>> res = conger_kappa(r)
    >>> round(res.value, 5), round(res.se, 5), round(res.details["expected_agreement"], 7)
    (0.76282, 0.14917, 0.2334252)
    """
    coded = code_ratings(ratings, levels, min_raters=2)
    k = coded.n_levels
    present = (coded.codes >= 0).any(axis=0)
    codes = coded.codes[:, present]
    r = codes.shape[1]
    if r < 2:
        raise ValueError(f"conger_kappa needs at least 2 raters with ratings; got {r}.")
    pat = code_patterns(codes, k, need_inverse=cluster is not None)
    wmat = agreement_weights(weights, k)
    rows = pat.rows
    onehot = (rows[:, :, None] == np.arange(k)[None, None, :]).astype(np.float64)  # (P, r, k)
    rated = (rows >= 0).astype(np.float64)  # (P, r)
    counts = onehot.sum(axis=1)  # (P, k) category counts per pattern
    parts = gwet_parts(counts.astype(np.int64), wmat)

    def chance(w: FloatArray) -> FloatArray:
        n_gk = np.einsum("bp,pgk->bgk", w, onehot)
        share = n_gk / n_gk.sum(axis=2, keepdims=True)  # p_gk
        tot = share.sum(axis=1)  # Σ_g p_gk
        all_pairs = np.einsum("bk,kl,bl->b", tot, wmat, tot)
        same = np.einsum("bgk,kl,bgl->b", share, wmat, share)
        return (all_pairs - same) / (r * (r - 1))

    def stat(w: FloatArray) -> FloatArray:
        pa = (w @ parts["pa_item"]) / (w @ parts["two"])
        pe = chance(w)
        return (pa - pe) / (1.0 - pe)

    def se(value: float) -> tuple[float, str, float | None]:
        f = pat.freq
        any_rated = parts["one"]
        n = float(f @ any_rated)
        n_gk = np.einsum("p,pgk->gk", f, onehot)
        n_g = n_gk.sum(axis=1)
        share = n_gk / n_g[:, None]
        pe = float(chance(f[None, :])[0])
        # Gwet (2014): lambda_ig = Σ_k (n / n_g) Σ_l w_kl (δ_igl - (ε_ig - n_g / n) p_gl) · Σ_{h≠g} p_hk
        a = onehot @ wmat.T - (rated - n_g[None, :] / n)[:, :, None] * (share @ wmat.T)[None, :, :]
        lam = ((n / n_g)[None, :, None] * a * (share.sum(axis=0)[None, None, :] - share[None, :, :])).sum(axis=2)
        pe_item = lam.sum(axis=1) / (r * (r - 1))
        var = linearized_variance(f, any_rated, parts["pa_item"], parts["two"], pe, pe_item, value)
        return sqrt_or_nan(var), GWET_2014, n - 1.0

    with np.errstate(divide="ignore", invalid="ignore"):
        pe0 = float(chance(pat.freq[None, :])[0])
        pa0 = float((pat.freq @ parts["pa_item"]) / (pat.freq @ parts["two"]))
    return finish(
        "conger_kappa",
        stat,
        pat,
        undefined_reason="chance agreement is 1 or no item has two ratings",
        ci=ci,
        n_boot=n_boot,
        seed=seed,
        ci_method=ci_method,
        cluster=cluster,
        level=level,
        se=se,
        levels=list(coded.levels),
        n_raters=r,
        weights=weights if isinstance(weights, str) or weights is None else "custom",
        observed_agreement=pa0,
        expected_agreement=pe0,
    )
