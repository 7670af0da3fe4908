"""Gwet's AC1 / AC2 agreement coefficients (Gwet 2008, 2014)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._bootstrap import SeedLike
from ._kappa import _multi
from ._result import StatResult

__all__ = ["gwet_ac"]


def gwet_ac(
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
    """Gwet's AC1 (unweighted) or AC2 (``weights`` given), multi-rater with missing ratings (Gwet 2014).

    Why: kappa collapses when one category is very prevalent (the "kappa paradox": high agreement, low
    kappa); AC1 models chance as agreement on hard-to-classify items and stays stable, which matters for
    judges whose verdicts are mostly "pass".

    ``AC = (p_a - p_e) / (1 - p_e)``, ``p_a`` as in :func:`percent_agreement` (weighted with ``weights``) and
    ``p_e = sum(w) / (q (q - 1)) · sum_k π_k (1 - π_k)``, ``π_k`` the mean over items of ``r_ik / r_i``,
    ``q`` the number of DECLARED levels (Gwet 2014, ch. 5 / R ``irrCAC::gwet.ac1.raw``).

    Examples
    --------
    Gwet's ``cac.raw4raters`` (12 units × 4 raters with missing), irrCAC AC1 = 0.77544:

    >>> r = [[1, 1, None, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4],
    ...      [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [None, 5, 5, 5], [None, None, 1, 1],
    ...      [None, None, 3, None]]
    >>> res = gwet_ac(r)
    >>> round(res.value, 5), round(res.se, 5)
    (0.77544, 0.14295)

    ``result.se`` is Gwet's (2008, 2014) linearisation variance (irrCAC's coeff.se 0.14295 above);
    ``ci_method="asymptotic"`` gives ``value ± t_{n-1} · se`` as irrCAC (which also caps the upper bound at 1).
    """
    name = "gwet_ac1" if weights is None else "gwet_ac2"
    return _multi(name, ratings, levels, weights, "gwet", ci, n_boot, seed, ci_method, cluster, level)
