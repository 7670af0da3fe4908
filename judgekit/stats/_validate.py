"""Input validation and label coding shared by every statistic.

Orientation convention (read this): a ratings matrix is **items × raters** — one row per rated item, one
column per rater. Passing raters × items silently gives a different number for most coefficients, so use
:meth:`RatingMatrix.from_raters_x_items` when your data is the other way round.
"""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = ["Coded", "RatingMatrix", "code_labels", "code_ratings", "ratings_from_long"]

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool | np.bool_)


@dataclass(frozen=True)
class RatingMatrix:
    """Ratings with named axes: ``data`` is items × raters (rows = items, columns = raters).

    Build it with :meth:`from_items_x_raters`, :meth:`from_raters_x_items` (transposes) or :meth:`from_long`.
    Every statistic accepts a ``RatingMatrix`` wherever it accepts a ratings array.
    """

    data: NDArray[Any]
    item_ids: tuple[Any, ...] | None = None
    rater_ids: tuple[Any, ...] | None = None

    @classmethod
    def from_items_x_raters(cls, data: Any) -> RatingMatrix:
        """Wrap a matrix whose rows are items and columns are raters."""
        if isinstance(data, pd.DataFrame):
            return cls(_as_2d(data), tuple(data.index), tuple(data.columns))
        return cls(_as_2d(data))

    @classmethod
    def from_raters_x_items(cls, data: Any) -> RatingMatrix:
        """Wrap a matrix whose rows are raters and columns are items (it is transposed to items × raters).

        Examples
        --------
        >>> RatingMatrix.from_raters_x_items([[1, 2, 3], [1, 2, 2]]).data.shape
        (3, 2)
        """
        if isinstance(data, pd.DataFrame):
            return cls(_as_2d(data).T, tuple(data.columns), tuple(data.index))
        return cls(_as_2d(data).T)

    @classmethod
    def from_long(
        cls, df: pd.DataFrame, item: str = "item", rater: str = "rater", label: str = "label"
    ) -> RatingMatrix:
        """Pivot a long table (one row per item, rater, label) to items × raters. See
        :func:`ratings_from_long`."""
        return ratings_from_long(df, item=item, rater=rater, label=label)

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_items, n_raters)``."""
        return (int(self.data.shape[0]), int(self.data.shape[1]))


def ratings_from_long(df: pd.DataFrame, item: str = "item", rater: str = "rater", label: str = "label") -> RatingMatrix:
    """Pivot a long-format table with one row per (item, rater, label) into an items × raters matrix.

    Missing (item, rater) pairs become missing ratings. A duplicated (item, rater) pair raises ``ValueError``.

    Examples
    --------
    >>> df = pd.DataFrame({"item": [1, 1, 2], "rater": ["a", "b", "a"], "label": ["x", "y", "x"]})
    >>> ratings_from_long(df).shape
    (2, 2)
    """
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"ratings_from_long expects a pandas DataFrame, got {type(df).__name__}.")
    missing = [c for c in (item, rater, label) if c not in df.columns]
    if missing:
        raise ValueError(f"The long-format table has no column(s) {missing}; columns are {list(df.columns)}.")
    dup = df.duplicated(subset=[item, rater])
    if bool(dup.any()):
        row = df.loc[dup].iloc[0]
        raise ValueError(
            f"Item {row[item]!r} has more than one rating from rater {row[rater]!r}; "
            "each (item, rater) pair must appear once."
        )
    wide = df.pivot(index=item, columns=rater, values=label)
    return RatingMatrix(_as_2d(wide), tuple(wide.index), tuple(wide.columns))


def _looks_long(df: pd.DataFrame) -> bool:
    return {"item", "rater", "label"} <= {str(c) for c in df.columns} and df.shape[1] == 3


def _as_2d(ratings: Any) -> NDArray[Any]:
    """Return a 2-D float array (NaN = missing) when possible, else a 2-D object array."""
    if isinstance(ratings, RatingMatrix):
        return ratings.data
    if isinstance(ratings, pd.DataFrame):
        if _looks_long(ratings):
            return ratings_from_long(ratings).data
        try:
            arr = ratings.to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError):
            arr = ratings.to_numpy(dtype=object)
    elif isinstance(ratings, np.ndarray):
        arr = ratings if ratings.dtype.kind in "fiub" else ratings.astype(object)
        if arr.dtype.kind in "iub":
            arr = arr.astype(float)
    else:
        try:
            arr = np.asarray(ratings, dtype=float)
        except (TypeError, ValueError):
            arr = np.asarray(ratings, dtype=object)
    if arr.dtype == object:
        with contextlib.suppress(TypeError, ValueError):
            arr = arr.astype(float)
    if arr.ndim != 2:
        raise ValueError(
            f"Ratings must be a 2-D items × raters matrix (rows = items, columns = raters); got {arr.ndim} "
            f"dimension(s) with shape {arr.shape}."
        )
    return arr


@dataclass(frozen=True)
class Coded:
    """Labels coded as integers: ``codes[i, r]`` is the position of rater ``r``'s label for item ``i`` in
    ``levels`` (``0..k-1``), ``-1`` a missing rating.

    Build it once with :func:`code_labels` (validates and codes any input) or :meth:`from_codes` (wraps codes
    you already hold, checking only their range) and pass it to any statistic in place of the ratings: coded
    input skips validation and coding, which is most of the cost of a kappa at a million items.
    ``values`` holds the numeric value of each level when every level is a number (for interval metrics),
    ``declared`` says whether ``levels`` was declared by the caller or observed in the data.
    """

    codes: IntArray
    levels: tuple[Any, ...]
    values: FloatArray | None
    declared: bool

    @classmethod
    def from_codes(cls, codes: Any, levels: Sequence[Any]) -> Coded:
        """Wrap an items × raters array of integer codes (``-1`` = missing) for the declared ``levels``.

        Only the range is checked (every code in ``-1 .. len(levels) - 1``): one pass over the array.

        Examples
        --------
        >>> c = Coded.from_codes([[0, 1], [1, 1], [-1, 0]], ["fail", "pass"])
        >>> c.n_items, c.n_raters, c.n_levels
        (3, 2, 2)
        """
        arr = np.asarray(codes)
        if arr.dtype.kind not in "iu":
            raise ValueError(f"Codes must be integers (-1 = missing); got dtype {arr.dtype}. Use code_labels.")
        if arr.ndim != 2:
            raise ValueError(f"Codes must be a 2-D items × raters array; got shape {arr.shape}.")
        lv = _check_levels(levels)
        if arr.size:
            lo, hi = int(arr.min()), int(arr.max())
            if lo < -1 or hi >= len(lv):
                raise ValueError(
                    f"Codes must lie in -1 .. {len(lv) - 1} (-1 = missing, else a position in levels); "
                    f"got {lo if lo < -1 else hi}."
                )
        return cls(arr.astype(np.int64, copy=False), lv, _numeric_values(lv), True)

    @property
    def n_items(self) -> int:
        return int(self.codes.shape[0])

    @property
    def n_raters(self) -> int:
        return int(self.codes.shape[1])

    @property
    def n_levels(self) -> int:
        return len(self.levels)

    def columns(self, cols: Sequence[int]) -> Coded:
        """The same coding restricted to raters ``cols`` (in that order)."""
        return Coded(self.codes[:, list(cols)], self.levels, self.values, self.declared)


def _numeric_values(levels: Sequence[Any]) -> FloatArray | None:
    if len(levels) and all(_is_number(v) for v in levels):
        return np.asarray([float(v) for v in levels], dtype=np.float64)
    return None


def _check_levels(levels: Sequence[Any]) -> tuple[Any, ...]:
    lv = tuple(levels.tolist() if isinstance(levels, np.ndarray) else levels)
    if len(lv) == 0:
        raise ValueError("levels must declare at least one category.")
    if len(set(lv)) != len(lv):
        raise ValueError(f"levels must not contain duplicates; got {list(lv)}.")
    return lv


def _bad_value(value: Any, levels: tuple[Any, ...]) -> ValueError:
    return ValueError(
        f"Rating {value!r} is not one of the declared levels {list(levels)}; fix the data or declare the level."
    )


def _check_shape(shape: tuple[int, ...], min_raters: int) -> None:
    if shape[0] == 0:
        raise ValueError("Ratings have no items (zero rows); at least one item is needed.")
    if shape[1] < min_raters:
        raise ValueError(
            f"This statistic needs at least {min_raters} raters (columns of the items × raters matrix); "
            f"got {shape[1]}. If your matrix is raters × items, use RatingMatrix.from_raters_x_items."
        )


def _reuse_coded(coded: Coded, levels: Sequence[Any] | None, min_raters: int) -> Coded:
    _check_shape(coded.codes.shape, min_raters)
    if levels is not None and tuple(levels) != coded.levels:
        raise ValueError(
            f"The ratings are already coded for levels {list(coded.levels)}; got levels={list(levels)}. "
            "Code them again with code_labels(ratings, levels) to change the scale."
        )
    return coded


_SMALL_SPAN = 1 << 20  # label values spanning fewer integers are coded through a lookup table, not a sort


def _code_small(u: IntArray, span: int, lo: int, levels: Sequence[Any] | None, shape: tuple[int, ...]) -> Coded | None:
    """Code integer labels given as ``u = value - lo + 1`` (``0`` = missing) with one lookup table.

    Returns None when declared ``levels`` are not all whole numbers (the caller takes the general path).
    """
    if levels is None:
        present = np.bincount(u, minlength=span + 1)[1:] > 0
        lut = np.empty(span + 1, dtype=np.int64)
        lut[0] = -1
        lut[1:] = np.cumsum(present) - 1
        lv: tuple[Any, ...] = tuple(int(v) for v in np.flatnonzero(present) + lo)
        return Coded(lut[u].reshape(shape), lv, np.asarray(lv, dtype=np.float64), False)
    lv = _check_levels(levels)
    num = _numeric_values(lv)
    if num is None or not np.array_equal(num, np.round(num)):
        return None
    lut = np.full(span + 1, -2, dtype=np.int64)
    lut[0] = -1
    inside = (num >= lo) & (num <= lo + span - 1)
    lut[num[inside].astype(np.int64) - lo + 1] = np.flatnonzero(inside)
    codes = lut[u]
    bad = codes == -2
    if bad.any():
        value = int(u[np.argmax(bad)]) + lo - 1
        raise _bad_value(value, lv)
    return Coded(codes.reshape(shape), lv, num, True)


def _code_integers(arr: NDArray[np.integer[Any]], levels: Sequence[Any] | None) -> Coded:
    """Integer labels (no missing value is possible): a lookup table over ``min .. max``, no sort."""
    lo, hi = int(arr.min()), int(arr.max())
    span = hi - lo + 1
    if span <= max(_SMALL_SPAN, 4 * arr.size):
        res = _code_small((arr.ravel() - (lo - 1)).astype(np.int64, copy=False), span, lo, levels, arr.shape)
        if res is not None:
            return res
    if levels is None:
        uniq, inv = np.unique(arr, return_inverse=True)
        codes = inv.reshape(arr.shape).astype(np.int64)
        return Coded(codes, tuple(int(v) for v in uniq), uniq.astype(float), False)
    return code_ratings(arr.astype(float), levels)


def _code_whole_floats(arr: FloatArray, levels: Sequence[Any] | None) -> Coded | None:
    """Float labels that are whole numbers in a small range (NaN = missing): the lookup-table path, else None."""
    flat = arr.ravel()
    lo, hi = float(np.fmin.reduce(flat)), float(np.fmax.reduce(flat))
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi - lo >= _SMALL_SPAN or lo != np.floor(lo):
        return None
    shifted = flat - (lo - 1.0)
    np.copyto(shifted, 0.0, where=np.isnan(shifted))  # 0 = missing (no inf here: lo and hi are finite)
    u = shifted.astype(np.int64)
    if not np.array_equal(u, shifted):
        return None
    return _code_small(u, int(hi - lo) + 1, int(lo), levels, arr.shape)


def code_labels(ratings: Any, levels: Sequence[Any] | None = None, *, min_raters: int = 1) -> Coded:
    """Validate labels and code them as integers once: the one coding step every statistic uses.

    Why: coding labels (strings, numbers, None/NaN) is most of the cost of a kappa on a large table; code
    them once with this function and pass the :class:`Coded` result to as many statistics as you like.

    Parameters
    ----------
    ratings
        items × raters matrix (array, nested list, DataFrame, :class:`RatingMatrix`, or a long DataFrame
        with item / rater / label columns); missing = None/NaN. A :class:`Coded` is returned as is.
    levels
        The declared categories, in order: code ``i`` is ``levels[i]``. A label outside them raises
        ``ValueError`` naming it. Without ``levels``, the sorted observed labels are used.
    min_raters
        Fewest columns accepted.

    Returns
    -------
    Coded
        ``codes`` (n_items, n_raters) int64 with ``-1`` for a missing rating, and the ``levels``.

    Examples
    --------
    >>> c = code_labels([["pass", "fail"], ["pass", None]], levels=["fail", "pass"])
    >>> c.codes.tolist()
    [[1, 0], [1, -1]]
    """
    return code_ratings(ratings, levels, min_raters=min_raters)


def code_ratings(ratings: Any, levels: Sequence[Any] | None = None, *, min_raters: int = 1) -> Coded:
    """Validate an items × raters matrix and code its labels as integers (implementation of
    :func:`code_labels`).

    With ``levels`` declared, those categories (in that order) define the scale and a rating outside them
    raises ``ValueError`` naming the value. Without ``levels``, the sorted observed labels are used.
    Fast paths: a :class:`Coded` is reused as is; an integer array is coded with a lookup table.
    """
    if isinstance(ratings, Coded):
        return _reuse_coded(ratings, levels, min_raters)
    if isinstance(ratings, np.ndarray) and ratings.dtype.kind in "iu" and ratings.ndim == 2:
        _check_shape(ratings.shape, min_raters)
        return _code_integers(ratings, levels)
    arr = _as_2d(ratings)
    _check_shape(arr.shape, min_raters)
    if arr.dtype.kind == "f":
        fast = _code_whole_floats(arr, levels)
        if fast is not None:
            return fast
    codes = np.full(arr.shape, -1, dtype=np.int64)
    if arr.dtype.kind == "f":
        mask = ~np.isnan(arr)
        vals = arr[mask]
        if np.isinf(vals).any():
            raise ValueError("Ratings contain an infinite value; use NaN or None for a missing rating.")
        if levels is None:
            lo, hi = (float(vals.min()), float(vals.max())) if vals.size else (0.0, 0.0)
            if vals.size and hi - lo < 1e6 and np.array_equal(vals, np.floor(vals)):
                shifted = (vals - lo).astype(np.int64)
                present = np.bincount(shifted, minlength=int(hi - lo) + 1) > 0
                lut = np.cumsum(present) - 1
                codes[mask] = lut[shifted]
                obs = np.flatnonzero(present) + lo
                lv: tuple[Any, ...] = tuple(int(v) if v == int(v) else float(v) for v in obs)
            else:
                uniq, inv = np.unique(vals, return_inverse=True)
                codes[mask] = inv
                lv = tuple(float(v) for v in uniq)
            return Coded(codes, lv, np.asarray(lv, dtype=np.float64), False)
        lv = _check_levels(levels)
        num = _numeric_values(lv)
        if num is None:
            bad = vals[0] if vals.size else None
            raise _bad_value(bad, lv)
        order = np.argsort(num, kind="stable")
        srt = num[order]
        pos = np.clip(np.searchsorted(srt, vals), 0, len(srt) - 1)
        ok = srt[pos] == vals
        if not ok.all():
            raise _bad_value(vals[~ok][0], lv)
        codes[mask] = order[pos]
        return Coded(codes, lv, num, True)
    # object path (strings, mixed): one hashing pass (pd.factorize, None/NaN -> -1), then a lookup table
    fc, uniq_arr = pd.factorize(arr.ravel(), use_na_sentinel=True)
    uniq_o = list(uniq_arr)
    if levels is None:
        with contextlib.suppress(TypeError):
            uniq_o = sorted(uniq_o)
        lv = tuple(uniq_o)
        declared = False
    else:
        lv = _check_levels(levels)
        declared = True
    pos = pd.Index(list(lv), dtype=object).get_indexer(pd.Index(list(uniq_arr), dtype=object))
    if (pos < 0).any():
        raise _bad_value(uniq_arr[int(np.flatnonzero(pos < 0)[0])], lv)
    lut = np.append(pos.astype(np.int64), -1)  # fc == -1 (missing) picks the last entry
    return Coded(lut[fc].reshape(arr.shape), lv, _numeric_values(lv), declared)


def code_vectors(*vectors: Any, levels: Sequence[Any] | None = None, names: Sequence[str] = ()) -> Coded:
    """Code several equal-length 1-D label vectors jointly (same level map); columns follow argument order."""
    arrs = [np.asarray(v.to_numpy() if isinstance(v, pd.Series) else v, dtype=object) for v in vectors]
    for i, a in enumerate(arrs):
        if a.ndim != 1:
            nm = names[i] if i < len(names) else f"argument {i}"
            raise ValueError(f"{nm} must be 1-D (one label per item); got shape {a.shape}.")
    n = {a.shape[0] for a in arrs}
    if len(n) != 1:
        raise ValueError(f"All label vectors must have one entry per item; got lengths {[a.shape[0] for a in arrs]}.")
    return code_ratings(np.column_stack(arrs), levels)


def as_float_vector(x: Any, name: str) -> FloatArray:
    """1-D float vector (None → NaN) with a full-sentence error otherwise."""
    try:
        arr = np.asarray(x.to_numpy() if isinstance(x, pd.Series) else x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must contain numbers (or None/NaN for missing).") from exc
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one value per item); got shape {arr.shape}.")
    return arr


def check_level(level: float) -> None:
    """Confidence level must be in (0, 1)."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"The confidence level must be between 0 and 1 (exclusive); got {level}.")
