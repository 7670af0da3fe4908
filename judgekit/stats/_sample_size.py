"""How many more items to label to reach a target confidence-interval width."""

from __future__ import annotations

import math

from scipy.special import ndtri

from ._result import StatResult, make_result

__all__ = ["kappa_standard_error", "sample_size_for_ci_width"]


def kappa_standard_error(kappa: float, p_o: float, p_e: float, n: int) -> float:
    """Approximate large-sample SE of Cohen's kappa, ``sqrt(p_o (1 - p_o) / (n (1 - p_e)²))``.

    This is the simple delta-method form (Cohen 1960), for planning from two proportions; with the data at
    hand use ``cohen_kappa(...).se``, the Fleiss, Cohen & Everitt (1969) large-sample standard error from the
    full table. ``kappa`` is accepted for API symmetry.

    Examples
    --------
    Cohen (1960) p. 45: p_o = .70, p_e = .41, N = 200 gives sigma_kappa = .0549 (published .055).

    >>> round(kappa_standard_error(0.492, 0.70, 0.41, 200), 3)
    0.055
    """
    if n < 1:
        raise ValueError(f"n must be at least 1; got {n}.")
    return math.sqrt(p_o * (1 - p_o) / (n * (1 - p_e) ** 2))


def sample_size_for_ci_width(
    stat: str = "kappa",
    *,
    target_width: float = 0.1,
    current_n: int,
    current_width: float | None = None,
    current_value: float | None = None,
    p_o: float | None = None,
    p_e: float | None = None,
    level: float = 0.95,
) -> StatResult:
    """Number of ADDITIONAL items to label so that the CI of ``stat`` is about ``target_width`` wide.

    CI width shrinks like ``1/sqrt(n)``, so from a current interval of width ``w`` on ``n`` items:
    ``n_needed = ceil(n (w / target)²)``. For ``stat="kappa"`` without ``current_width`` but with ``p_o`` and
    ``p_e``, the width is predicted from the large-sample SE (:func:`kappa_standard_error`):
    ``w = 2 z SE``. ``value`` = ``max(0, n_needed - current_n)``. This is a planning estimate, not a promise.

    Examples
    --------
    >>> sample_size_for_ci_width("alpha", target_width=0.1, current_n=100, current_width=0.2).value
    300.0
    """
    if stat not in ("kappa", "alpha", "other"):
        raise ValueError(f"stat must be 'kappa', 'alpha' or 'other'; got {stat!r}.")
    if target_width <= 0:
        raise ValueError(f"target_width must be positive; got {target_width}.")
    if current_n < 1:
        raise ValueError(f"current_n must be at least 1; got {current_n}.")
    method = "width scaling 1/sqrt(n)"
    if current_width is None:
        if stat == "kappa" and p_o is not None and p_e is not None:
            z = float(ndtri(0.5 + level / 2))
            current_width = 2 * z * kappa_standard_error(current_value or 0.0, p_o, p_e, current_n)
            method = "large-sample kappa SE (Cohen 1960)"
        else:
            raise ValueError("Give current_width (e.g. from a bootstrap interval), or p_o and p_e for kappa.")
    if current_width <= 0:
        raise ValueError(f"current_width must be positive; got {current_width}.")
    n_needed = math.ceil(current_n * (current_width / target_width) ** 2)
    return make_result(
        "additional_items",
        max(0, n_needed - current_n),
        current_n,
        None,
        n_needed=n_needed,
        current_width=current_width,
        target_width=target_width,
        method=method,
        stat=stat,
        current_value=current_value,
    )
