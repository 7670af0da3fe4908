"""Judge vs reference label per segment and per risk tier: where does the judge fail?

Each group's figures are :func:`~judgekit.agreement.judge_people.reference_figures` on the group's items (and, on an
interval scale, :func:`~judgekit.agreement.numeric.group_numeric`: ICC, MAE, bias), the very computation of the
headline (same bootstrap size and seed), so a group that holds every item shows the headline's
numbers to the last digit. Items without a segment form the group ``(none)``, items without a risk tier
``unassessed``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict

from judgekit.agreement.confidence import UNASSESSED
from judgekit.agreement.criteria import TrustCriteria
from judgekit.agreement.data import AlignedRatings
from judgekit.agreement.estimands import figure_name
from judgekit.agreement.judge_people import BothBases, reference_figures, wilson
from judgekit.agreement.numeric import GroupNumeric, group_numeric
from judgekit.stats import StatResult

__all__ = ["NO_SEGMENT", "GroupResult", "breakdown"]

NO_SEGMENT = "(none)"
"""The segment of an item whose metadata names none."""
_CONFIG = ConfigDict(frozen=True, ser_json_inf_nan="constants")


class GroupResult(BaseModel):
    """Judge-vs-reference figures on one segment or risk tier."""

    model_config = _CONFIG
    key: str
    n_items: int
    """Labelled items in the group (with or without a reference label)."""
    kappa: BothBases
    accuracy: BothBases
    failure_rate: StatResult
    numeric: GroupNumeric | None = None
    """Interval scales: the people's ICC and MAE, the judge's ICC, MAE and bias on the group
    (:func:`judgekit.agreement.numeric.group_numeric`); None otherwise."""


def breakdown(data: AlignedRatings, keys: NDArray[np.object_], c: TrustCriteria, missing: str) -> list[GroupResult]:
    """One :class:`GroupResult` per distinct key (``None`` keys as ``missing``), weakest kappa first."""
    labels = np.array([missing if k is None else str(k) for k in keys], dtype=object)
    codes, uniques = pd.factorize(labels, sort=True)
    out: list[GroupResult] = []
    for g, key in enumerate(uniques):
        sel = codes == g
        judge = data.judge_codes[sel]
        kappa, accuracy = reference_figures(data.reference_codes[sel], judge, data.rubric, c)
        n = int(sel.sum())
        out.append(
            GroupResult(
                key=str(key),
                n_items=n,
                kappa=kappa,
                accuracy=accuracy,
                failure_rate=wilson(figure_name("failure_rate"), int((judge < 0).sum()), n, c.confidence_level),
                numeric=group_numeric(data, sel, c),
            )
        )
    out.sort(key=lambda g: (math.isnan(g.kappa.failures_as_wrong.value), g.kappa.failures_as_wrong.value))
    return out


def per_segment(data: AlignedRatings, c: TrustCriteria) -> list[GroupResult]:
    """:func:`breakdown` by segment."""
    return breakdown(data, data.segment, c, NO_SEGMENT)


def per_risk(data: AlignedRatings, c: TrustCriteria) -> list[GroupResult]:
    """:func:`breakdown` by risk tier."""
    return breakdown(data, data.risk, c, UNASSESSED)
