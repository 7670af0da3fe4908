"""Harmful confidence: how often the judge is wrong while being confident, overall and where it matters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from ._result import to_plain
from ._validate import as_float_vector

__all__ = ["HarmfulConfidenceResult", "harmful_confidence"]

_DEFAULT_RISK = {"low": 1.0, "medium": 2.0, "high": 4.0}


class HarmfulConfidenceResult(BaseModel):
    """Result of :func:`harmful_confidence`. ``available=False`` (with ``reason``) when there is no
    confidence."""

    model_config = ConfigDict(frozen=True, ser_json_inf_nan="constants")

    name: str = "harmful_confidence"
    available: bool
    reason: str | None = None
    value: float = float("nan")
    n_items: int = 0
    n_harmful: int = 0
    threshold: float = 0.8
    risk_weighted_rate: float | None = None
    per_risk: dict[str, dict[str, float]] = Field(default_factory=dict)
    per_segment: dict[str, dict[str, float]] = Field(default_factory=dict)
    worst: list[dict[str, Any]] = Field(default_factory=list)


def _group_rates(keys: np.ndarray, harmful: np.ndarray) -> dict[str, dict[str, float]]:
    codes, uniq = pd.factorize(pd.Series(keys, dtype=object).fillna("(missing)"))
    n = np.bincount(codes, minlength=len(uniq))
    h = np.bincount(codes, weights=harmful, minlength=len(uniq))
    return {
        str(u): {"rate": float(h[i] / n[i]), "n_harmful": int(h[i]), "n_items": int(n[i])} for i, u in enumerate(uniq)
    }


def harmful_confidence(
    correct: Any,
    confidence: Any,
    *,
    threshold: float = 0.8,
    risk: Any = None,
    segment: Any = None,
    risk_weights: Mapping[str, float] | None = None,
    item_ids: Any = None,
    top: int = 10,
) -> HarmfulConfidenceResult:
    """Rate of items where the judge is WRONG and its confidence is ≥ ``threshold``.

    Why: a wrong verdict stated with low confidence can be routed to a human; a wrong verdict stated with high
    confidence slips through. ``rate = #(wrong ∧ confidence ≥ t) / n`` over items with a known confidence.

    Reported per risk tier and per segment; ``risk_weighted_rate = sum_i w(risk_i) [harmful_i] / sum_i
    w(risk_i)`` (default weights low 1, medium 2, high 4), and ``worst``: the harmful items sorted by risk
    weight (highest first), then confidence (highest first).

    If ``confidence`` is None or all-missing the result has ``available=False`` and a ``reason``: no values
    are invented.

    Examples
    --------
    >>> r = harmful_confidence([1, 0, 0, 1], [0.9, 0.95, 0.5, 0.99], threshold=0.8)
    >>> r.value, r.n_harmful
    (0.25, 1)
    """
    if confidence is None:
        return HarmfulConfidenceResult(available=False, reason="The judge reported no confidence.", threshold=threshold)
    conf = as_float_vector(confidence, "confidence")
    corr = as_float_vector(correct, "correct")
    if conf.shape != corr.shape:
        raise ValueError(f"correct and confidence need one value per item; got {corr.size} and {conf.size}.")
    if not 0 <= threshold <= 1:
        raise ValueError(f"threshold must be in [0, 1]; got {threshold}.")
    known = ~np.isnan(conf) & ~np.isnan(corr)
    if not known.any():
        return HarmfulConfidenceResult(
            available=False, reason="Every confidence value is missing (NaN).", threshold=threshold
        )
    if ((conf[known] < 0) | (conf[known] > 1)).any():
        raise ValueError("Confidences must be probabilities in [0, 1].")
    if not np.isin(corr[known], (0.0, 1.0)).all():
        raise ValueError("correct must be 0/1 (or True/False).")
    idx = np.flatnonzero(known)
    c, k = conf[idx], corr[idx]
    harmful = ((k == 0) & (c >= threshold)).astype(np.float64)
    n = idx.size
    ids = np.arange(len(conf)) if item_ids is None else np.asarray(item_ids, dtype=object)
    if len(ids) != len(conf):
        raise ValueError("item_ids needs one id per item.")
    weights_map = dict(_DEFAULT_RISK if risk_weights is None else risk_weights)
    per_risk: dict[str, dict[str, float]] = {}
    rw_rate = None
    rw = np.ones(n)
    rk = None
    if risk is not None:
        rk = np.asarray(risk, dtype=object)[idx]
        bad = {v for v in rk.tolist() if v not in weights_map}
        if bad:
            raise ValueError(f"Risk tier(s) {sorted(map(str, bad))} have no weight in risk_weights {weights_map}.")
        rw = np.array([weights_map[v] for v in rk.tolist()], dtype=np.float64)
        per_risk = _group_rates(rk, harmful)
        rw_rate = float(np.sum(rw * harmful) / np.sum(rw))
    per_segment = {} if segment is None else _group_rates(np.asarray(segment, dtype=object)[idx], harmful)
    hi = np.flatnonzero(harmful)
    order = hi[np.lexsort((-c[hi], -rw[hi]))][: max(top, 0)]
    worst = [
        {
            "item_id": to_plain(ids[idx[j]]),
            "confidence": float(c[j]),
            "risk": None if rk is None else to_plain(rk[j]),
        }
        for j in order
    ]
    return HarmfulConfidenceResult(
        available=True,
        value=float(harmful.mean()),
        n_items=n,
        n_harmful=int(harmful.sum()),
        threshold=threshold,
        risk_weighted_rate=rw_rate,
        per_risk=per_risk,
        per_segment=per_segment,
        worst=worst,
    )
