"""Result objects: frozen pydantic models that JSON-serialise with NaN surviving."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Interval", "StatResult", "to_plain"]

_CONFIG = ConfigDict(frozen=True, ser_json_inf_nan="constants", arbitrary_types_allowed=False)


def to_plain(obj: Any) -> Any:
    """Convert numpy scalars/arrays (recursively, inside dicts/lists) to plain Python values for JSON."""
    if isinstance(obj, dict):
        return {str(k): to_plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_plain(obj.tolist())
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    return obj


class Interval(BaseModel):
    """A confidence interval ``[low, high]`` at confidence ``level`` obtained by ``method``: ``"percentile"`` or
    ``"bca"`` (bootstrap, with ``n_boot`` resamples of which ``n_valid`` were defined) or ``"asymptotic"``
    (``value ± quantile · se`` from a large-sample standard error; the result's ``details["se_method"]`` names
    the formula)."""

    model_config = _CONFIG

    low: float
    high: float
    level: float = 0.95
    method: str = "percentile"
    n_boot: int | None = None
    n_valid: int | None = None

    def contains(self, value: float) -> bool:
        """True when ``low <= value <= high`` (False for nan bounds)."""
        return bool(self.low <= value <= self.high)

    @property
    def width(self) -> float:
        """``high - low``."""
        return self.high - self.low


class StatResult(BaseModel):
    """The value of one statistic, on how many items, with an optional interval and free-form details.

    ``value`` is ``nan`` when the statistic is undefined (see :class:`UndefinedStatisticWarning`).
    ``se`` is the large-sample standard error where the statistic has one (its formula in
    ``details["se_method"]``), else None. Serialise with ``result.model_dump_json()``; NaN is written as the
    JSON constant ``NaN``.
    """

    model_config = _CONFIG

    name: str
    value: float
    n_items: int
    interval: Interval | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    se: float | None = None

    def __float__(self) -> float:
        return float(self.value)

    @property
    def is_defined(self) -> bool:
        """False when ``value`` is nan."""
        return not math.isnan(self.value)

    @property
    def low(self) -> float | None:
        """Lower bound of the interval (None without one)."""
        return None if self.interval is None else self.interval.low

    @property
    def high(self) -> float | None:
        """Upper bound of the interval (None without one)."""
        return None if self.interval is None else self.interval.high

    def fmt(self, digits: int = 3) -> str:
        """The value with its interval, ``0.476 [0.430, 0.519]``; ``n/a`` when undefined; a whole number without
        an interval (a count) without decimals.

        Examples
        --------
        >>> StatResult(name="x", value=0.5, n_items=10, interval=Interval(low=0.25, high=0.75)).fmt()
        '0.500 [0.250, 0.750]'
        """
        if math.isnan(self.value):
            return "n/a"
        lo, hi = self.low, self.high
        if lo is None or hi is None or math.isnan(lo) or math.isnan(hi):
            return f"{self.value:.0f}" if float(self.value).is_integer() else f"{self.value:.{digits}f}"
        return f"{self.value:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def make_result(
    name: str,
    value: float,
    n_items: int,
    interval: Interval | None = None,
    *,
    std_error: float | None = None,
    **details: Any,
) -> StatResult:
    """Build a :class:`StatResult`, converting numpy objects in ``details`` to plain Python."""
    return StatResult(
        name=name,
        value=float(value),
        n_items=int(n_items),
        interval=interval,
        details=to_plain(details),
        se=None if std_error is None else float(std_error),
    )
