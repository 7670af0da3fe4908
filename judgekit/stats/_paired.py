"""Cohen's kappa for many rater pairs under ONE shared (paired) bootstrap, at the cost of the distinct label rows.

The human ceiling (every annotator pair), the judge against each annotator and the judge against the majority
label are all kappas of column pairs of one items × raters code matrix. Resampling the items once and
computing every pair's kappa on the same resample keeps the figures paired (their differences, e.g. the gap
to the ceiling, get honest intervals). Items with the same row of codes (the same label from each rater,
``-1`` missing) contribute identically to every pair, so the matrix compresses to its distinct rows
("patterns", :func:`~judgekit.stats._patterns.code_patterns`) and a resample of N items is a multinomial
draw of pattern counts (Efron & Tibshirani 1993, ch. 6: the counts of each distinct row in a bootstrap
resample are Multinomial(N, frequency / N)). Each pair's resampled confusion matrices are then one matrix
product, ``(B, P) @ (P, n_pairs · k²)``: the cost depends on the number of distinct rows P (at most
``(k + 1) ** n_raters``), not on N.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from ._bootstrap import SeedLike, _rng
from ._patterns import Patterns, code_patterns
from ._validate import Coded, code_ratings
from ._warnings import warn_undefined
from ._weights import agreement_weights

__all__ = ["PairKappas", "pair_kappas"]

FloatArray = NDArray[np.float64]
_CELLS_PER_CHUNK = 4_000_000  # B_chunk × P floats held at once (32 MB)


@dataclass(frozen=True)
class PairKappas:
    """Cohen's kappa of each rater pair, on the full data and under shared bootstrap resamples.

    Attributes
    ----------
    pairs
        The ``(i, j)`` column pairs, in the order of every array's last axis.
    value
        (n_pairs,) kappa on the full data (``nan`` where undefined: fewer than 2 shared items, or chance
        agreement 1).
    n
        (n_pairs,) items both raters of the pair labelled (the pair's overlap).
    observed
        (n_pairs,) weighted observed agreement ``p_o`` (the accuracy for identity weights).
    boot
        (B, n_pairs) kappa in each bootstrap resample; row ``b`` of every pair comes from the SAME resample
        of items.
    boot_n, boot_observed
        (B, n_pairs) overlap and observed agreement in each resample (e.g. to weight pairs by overlap).
    levels, weights
        The coding's levels and the (k, k) agreement weights used.
    """

    pairs: tuple[tuple[int, int], ...]
    value: FloatArray
    n: NDArray[np.int64]
    observed: FloatArray
    boot: FloatArray
    boot_n: FloatArray
    boot_observed: FloatArray
    levels: tuple[Any, ...]
    weights: FloatArray


def _check_pairs(pairs: Sequence[tuple[int, int]], n_raters: int) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for p in pairs:
        i, j = (int(v) for v in p)
        if not (0 <= i < n_raters and 0 <= j < n_raters) or i == j:
            raise ValueError(f"Each pair must name two different rater columns in 0..{n_raters - 1}; got {tuple(p)}.")
        out.append((i, j))
    if not out:
        raise ValueError("pairs is empty: give at least one (i, j) pair of rater columns.")
    return tuple(out)


def _cell_matrix(pat: Patterns, cols: NDArray[np.int64], pairs: tuple[tuple[int, int], ...], k: int) -> Any:
    """(P, n_pairs · k²) indicator: pattern p puts its items in cell (a, b) of pair q's confusion matrix.

    Dense when small (one BLAS product per chunk of resamples), a scipy CSR matrix when the rows are many.
    """
    rows = pat.rows
    n_p = rows.shape[0]
    r_idx, c_idx = [], []
    for q, (i, j) in enumerate(pairs):
        a, b = rows[:, cols[i]], rows[:, cols[j]]
        ok = np.flatnonzero((a >= 0) & (b >= 0))
        r_idx.append(ok)
        c_idx.append(q * k * k + a[ok] * k + b[ok])
    shape = (n_p, len(pairs) * k * k)
    rr, cc = np.concatenate(r_idx), np.concatenate(c_idx)
    if shape[0] * shape[1] <= _CELLS_PER_CHUNK:
        m = np.zeros(shape)
        m[rr, cc] = 1.0
        return m
    return sparse.csr_matrix((np.ones(rr.size), (rr, cc)), shape=shape)


def _product(wts: FloatArray, cells: Any) -> FloatArray:
    """``wts @ cells`` for a dense or sparse ``cells``, as a dense array."""
    if isinstance(cells, np.ndarray):
        return wts @ cells
    return np.asarray((cells.T @ wts.T).T)


def _kappas(tables: FloatArray, w: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Kappa, overlap n and p_o from (..., k, k) confusion-count tables (Cohen 1960, 1968)."""
    n = tables.sum(axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        po = np.einsum("...ab,ab->...", tables, w) / n
        rows = tables.sum(axis=-1) / n[..., None]
        cols = tables.sum(axis=-2) / n[..., None]
        pe = np.einsum("...a,ab,...b->...", rows, w, cols)
        kappa = (po - pe) / (1.0 - pe)
    kappa = np.where((n >= 2) & np.isfinite(kappa), kappa, np.nan)
    return kappa, n, po


def _pattern_weights(pat: Patterns, indices: NDArray[np.int64]) -> FloatArray:
    """(B, P) count of each pattern in each resample given as item indices (B, N)."""
    assert pat.inverse is not None
    b, _ = indices.shape
    p = pat.freq.size
    flat = (np.arange(b, dtype=np.int64)[:, None] * p + pat.inverse[indices]).ravel()
    return np.bincount(flat, minlength=b * p).reshape(b, p).astype(np.float64)


def pair_kappas(
    ratings: Any,
    pairs: Sequence[tuple[int, int]],
    *,
    weights: Any = None,
    levels: Sequence[Any] | None = None,
    n_boot: int = 1000,
    seed: SeedLike = None,
    indices: Any = None,
) -> PairKappas:
    """Cohen's (weighted) kappa of many rater pairs with one paired bootstrap shared by all pairs.

    Why: the human ceiling and the judge-vs-people figures are kappas of column pairs of the same items; one
    draw of resampled items for every pair keeps them paired, and compressing items to their distinct label
    rows makes B resamples cost a matrix product over those rows, whatever the number of items.

    For pair ``(i, j)`` on the items both labelled, ``kappa = (p_o - p_e) / (1 - p_e)`` with
    ``p_o = sum_ab w_ab p_ab``, ``p_e = sum_ab w_ab p_a. p_.b`` (Cohen 1960; weighted, Cohen 1968): the same
    number as :func:`cohen_kappa` on those two columns with the same ``weights`` and ``levels``.

    Parameters
    ----------
    ratings
        items × raters labels, best a :class:`Coded` from :func:`code_labels` (codes, ``-1`` missing): coded
        input is used as is. Anything :func:`code_labels` accepts works too.
    pairs
        ``(i, j)`` column pairs; order within a pair does not change kappa.
    weights
        ``None``, ``"linear"``, ``"quadratic"`` or a (k, k) agreement-weight array over the levels (one matrix
        for every pair; a level a rater never uses, such as a judge's "no verdict", simply has no mass).
    levels
        Declared levels (when ``ratings`` is not already coded).
    n_boot
        Number of bootstrap resamples B (0 for point values only).
    seed
        Seed or ``numpy.random.Generator`` for the multinomial draws of pattern counts.
    indices
        Optional (B, N) item indices of each resample (e.g. ``rng.integers(0, N, (B, N))``), used instead of
        drawing: gives exactly the resamples of a loop over ``ratings[indices[b]]`` (for tests, or to share
        draws with another computation). Costs O(B · N).

    Returns
    -------
    PairKappas
        ``value``, ``n``, ``observed`` (n_pairs,), and ``boot``, ``boot_n``, ``boot_observed`` (B, n_pairs).
        A resample where a pair is undefined holds ``nan``; drop it when taking quantiles.

    Examples
    --------
    Cohen (1960, p. 45) table as raters 0 and 1, plus a rater 2 who copies rater 0: kappa .492 and 1.

    >>> from judgekit.stats import ratings_from_contingency_table
    >>> r = ratings_from_contingency_table([[88, 14, 18], [10, 40, 10], [2, 6, 12]])
    >>> three = np.column_stack([r, r[:, 0]])
    >>> res = pair_kappas(three, [(0, 1), (0, 2)], n_boot=200, seed=0)
    >>> [round(float(v), 3) for v in res.value], res.n.tolist(), res.boot.shape
    ([0.492, 1.0], [200, 200], (200, 2))
    """
    coded: Coded = code_ratings(ratings, levels, min_raters=2)
    prs = _check_pairs(pairs, coded.n_raters)
    k = coded.n_levels
    w = agreement_weights(weights, k)
    used = np.unique(np.asarray(prs).ravel())
    cols = np.full(coded.n_raters, -1, dtype=np.int64)
    cols[used] = np.arange(used.size)
    idx = None if indices is None else np.asarray(indices, dtype=np.int64)
    if idx is not None and (idx.ndim != 2 or (idx.size and (idx.min() < 0 or idx.max() >= coded.n_items))):
        raise ValueError(f"indices must be (B, N) item positions in 0..{coded.n_items - 1}; got shape {idx.shape}.")
    pat = code_patterns(coded.codes[:, used], k, need_inverse=idx is not None)
    cells = _cell_matrix(pat, cols, prs, k)
    shape = (len(prs), k, k)
    value, n, po = _kappas(_product(pat.freq[None, :], cells).reshape(shape), w)
    if np.isnan(value).any():
        bad = [prs[q] for q in np.flatnonzero(np.isnan(value))]
        warn_undefined(f"kappa of pair(s) {bad}", "fewer than 2 shared items or chance agreement 1")
    b_total = int(n_boot) if idx is None else int(idx.shape[0])
    if b_total < 0:
        raise ValueError(f"n_boot must be 0 or more; got {n_boot}.")
    boot = np.empty((b_total, len(prs)))
    boot_n = np.empty((b_total, len(prs)))
    boot_po = np.empty((b_total, len(prs)))
    rng = _rng(seed)
    n_items = pat.n_items
    p = pat.freq / n_items if n_items else pat.freq
    chunk = max(1, min(b_total, _CELLS_PER_CHUNK // max(pat.freq.size, 1)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for start in range(0, b_total, chunk):
            stop = min(b_total, start + chunk)
            if idx is None:
                wts = rng.multinomial(n_items, p, size=stop - start).astype(np.float64)
            else:
                wts = _pattern_weights(pat, idx[start:stop])
            kb, nb, pb = _kappas(_product(wts, cells).reshape(stop - start, *shape), w)
            boot[start:stop], boot_n[start:stop], boot_po[start:stop] = kb, nb, pb
    return PairKappas(
        pairs=prs,
        value=value,
        n=n.astype(np.int64),
        observed=po,
        boot=boot,
        boot_n=boot_n,
        boot_observed=boot_po,
        levels=coded.levels,
        weights=w,
    )
