"""Compress items to patterns of per-item category counts.

Most agreement coefficients are functions of sums over items of a per-item contribution that depends only
on the item's vector of category counts (how many raters chose each category). Items sharing a count vector
("pattern") contribute identically, so a coefficient is a function of the pattern frequencies. A bootstrap
resample of items is then a multinomial draw of pattern counts, and every resampled coefficient is a small
matrix product — this is what makes 1,000 bootstrap resamples at 1M items cost about one point estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Patterns", "category_counts", "code_patterns", "count_patterns", "pair_patterns", "pair_table"]


@dataclass(frozen=True)
class Patterns:
    """``rows`` (P, d) distinct per-item rows; ``freq`` (P,) how many items share each; ``inverse``
    item→row."""

    rows: NDArray[np.int64]
    freq: NDArray[np.float64]
    inverse: NDArray[np.int64] | None

    @property
    def n_items(self) -> int:
        return int(self.freq.sum())


def category_counts(codes: NDArray[np.int64], k: int) -> NDArray[np.int64]:
    """(n_items, k) counts of each category per item from items × raters codes (-1 = missing)."""
    n, _ = codes.shape
    mask = codes >= 0
    flat = (np.arange(n, dtype=np.int64)[:, None] * k + codes)[mask]
    return np.bincount(flat, minlength=n * k).reshape(n, k)


def _bincount_limit(n: int) -> int:
    """Largest key space counted with ``np.bincount`` (a table of that size) instead of sorting keys."""
    return max(1 << 22, 8 * n)


def unique_keys(
    keys: NDArray[np.int64], space: int, need_inverse: bool
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64] | None]:
    """Distinct non-negative integer ``keys`` (all ``< space``), their counts and, optionally, item → index.

    Counting sort: one ``np.bincount`` over the key space when it is small enough (no ``O(N log N)`` sort),
    ``np.unique`` otherwise. Distinct keys come out in increasing order either way.
    """
    if space <= _bincount_limit(keys.size):
        cnt_full = np.bincount(keys, minlength=space)
        uk = np.flatnonzero(cnt_full)
        cnt = cnt_full[uk]
        inv = None
        if need_inverse:
            lut = np.zeros(space, dtype=np.int64)
            lut[uk] = np.arange(uk.size, dtype=np.int64)
            inv = lut[keys]
        return uk.astype(np.int64), cnt.astype(np.int64), inv
    if need_inverse:
        uk, inv, cnt = np.unique(keys, return_inverse=True, return_counts=True)
        return uk.astype(np.int64), cnt.astype(np.int64), inv.ravel().astype(np.int64)
    uk, cnt = np.unique(keys, return_counts=True)
    return uk.astype(np.int64), cnt.astype(np.int64), None


def _unique_rows(rows: NDArray[np.int64], base: int, need_inverse: bool) -> Patterns:
    """Distinct rows of non-negative integers ``< base`` with their frequencies."""
    n, d = rows.shape
    if n == 0:
        return Patterns(rows, np.zeros(0), np.zeros(0, dtype=np.int64) if need_inverse else None)
    if d * np.log2(max(base, 2)) < 62:
        powers = base ** np.arange(d, dtype=np.int64)
        keys = rows @ powers
        uk, cnt, inv = unique_keys(keys, int(base) ** d, need_inverse)
        urows = (uk[:, None] // powers[None, :]) % base
        return Patterns(urows.astype(np.int64), cnt.astype(np.float64), inv)
    urows, inv, cnt = np.unique(rows, axis=0, return_inverse=True, return_counts=True)
    return Patterns(urows.astype(np.int64), cnt.astype(np.float64), inv.ravel() if need_inverse else None)


def count_patterns(codes: NDArray[np.int64], k: int, need_inverse: bool = False) -> Patterns:
    """Distinct per-item category-count vectors of an items × raters code matrix, with frequencies."""
    r = codes.shape[1]
    base = r + 1
    if k * np.log2(base) < 62:
        # key = sum over ratings of base**code, i.e. the count vector in base (r+1), without building counts
        powers = base ** np.arange(k, dtype=np.int64)
        keys = np.where(codes >= 0, powers[np.clip(codes, 0, None)], 0).sum(axis=1)
        uk, cnt, inv = unique_keys(keys, int(base) ** k, need_inverse)
        urows = (uk[:, None] // powers[None, :]) % base
        return Patterns(urows.astype(np.int64), cnt.astype(np.float64), inv)
    return _unique_rows(category_counts(codes, k), base, need_inverse)


def code_patterns(codes: NDArray[np.int64], k: int, need_inverse: bool = False) -> Patterns:
    """Distinct rows of an items × raters code matrix (``-1`` = missing kept), with frequencies.

    Unlike :func:`count_patterns` the rows keep WHO gave which label, so any statistic of any subset of the
    raters (a pair's kappa, a majority label) is a function of the pattern; rows are codes, ``-1`` missing.
    """
    p = _unique_rows(codes + 1, k + 1, need_inverse)
    return Patterns(p.rows - 1, p.freq, p.inverse)


def pair_table(a: NDArray[np.int64], b: NDArray[np.int64], k: int) -> NDArray[np.int64]:
    """(k, k) table of counts of (a, b) code pairs over items where both are present (``-1`` = missing).

    One ``np.bincount`` of ``(a + 1)(k + 1) + (b + 1)``; the row and column of "missing" are then dropped.
    """
    key = a * (k + 1) + (b + (k + 2))
    return np.bincount(key, minlength=(k + 1) ** 2).reshape(k + 1, k + 1)[1:, 1:]


def pair_patterns(a: NDArray[np.int64], b: NDArray[np.int64], k: int, need_inverse: bool = False) -> Patterns:
    """Distinct (a, b) code pairs (one per item) with frequencies; rows are ``[a, b]``."""
    uk, cnt, inv = unique_keys(a * k + b, k * k, need_inverse)
    rows = np.column_stack([uk // k, uk % k]).astype(np.int64)
    return Patterns(rows, cnt.astype(np.float64), inv)
