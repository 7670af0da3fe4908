"""Corrected labels, reported apart: how much do corrections made while seeing the judge flatter it?

A *corrected* label is a person's correction of a judge's score, made with the score in view (what annotation
platforms record as human feedback on an LLM judge). It is anchored on the judge, so it never enters a human
figure; when a project has both blind and corrected labels this module measures the size of the anchoring on the
items that have both a blind reference label and a corrected label::

    corrected_shift = accuracy(judge vs corrected label) - accuracy(judge vs blind reference label)

with a paired bootstrap interval (one resample for both accuracies; failures counted as wrong), beside both
accuracies and how often the correction equals the blind reference. A clearly positive shift says that
corrections agree with the judge more than independent opinions do: a "human agreement" computed from them would
overstate the judge.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from judgekit.agreement.ceiling import interval_figure
from judgekit.agreement.criteria import TrustCriteria
from judgekit.agreement.data import AlignedRatings, HumanRatings
from judgekit.agreement.estimands import figure_name
from judgekit.agreement.judge_people import wilson
from judgekit.agreement.reference import majority_codes
from judgekit.stats import Coded, StatResult, UndefinedStatisticWarning, pair_kappas

__all__ = ["CorrectedLabels", "corrected_effect"]

_CONFIG = ConfigDict(frozen=True, ser_json_inf_nan="constants")


class CorrectedLabels(BaseModel):
    """The judge against corrected labels beside blind ones, on the items that have both."""

    model_config = _CONFIG
    n_items: int
    """Items with a blind reference label and a corrected label."""
    n_corrected_items: int
    """Items with a corrected label (of the labelled items)."""
    judge_accuracy_blind: StatResult
    judge_accuracy_corrected: StatResult
    shift: StatResult
    """``corrected_shift``: corrected minus blind accuracy, paired bootstrap interval."""
    correction_equals_blind: StatResult
    """Share of those items whose corrected label equals the blind reference label."""


def corrected_effect(data: AlignedRatings, corrected: HumanRatings, c: TrustCriteria) -> CorrectedLabels | None:
    """The anchoring of corrected labels on ``data``'s run, or None when no labelled item has a corrected label."""
    if corrected.n_items == 0 or data.n_items == 0:
        return None
    corr = np.full(data.n_items, -1, dtype=np.int64)
    pos = corrected.index.get_indexer(pd.Index(data.item_ids))
    hit = pos >= 0
    if not hit.any():
        return None
    corr[hit] = majority_codes(corrected.codes, data.k)[pos[hit]]
    both = data.has_reference & (corr >= 0)
    n = int(both.sum())
    ref, cor, judge = data.reference_codes[both], corr[both], data.judge_strict_codes[both]
    level = c.confidence_level
    acc_blind = wilson(figure_name("judge_accuracy", "failures_as_wrong"), int((judge == ref).sum()), n, level)
    acc_corr = wilson(figure_name("judge_accuracy", "failures_as_wrong"), int((judge == cor).sum()), n, level)
    shift_value = acc_corr.value - acc_blind.value if n else float("nan")
    boot = None
    if n >= 2:
        coded = Coded.from_codes(np.column_stack([ref, cor, judge]), data.strict_levels)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedStatisticWarning)
            pk = pair_kappas(coded, [(0, 2), (1, 2)], n_boot=c.n_boot, seed=c.seed)
        boot = pk.boot_observed[:, 1] - pk.boot_observed[:, 0]
    return CorrectedLabels(
        n_items=n,
        n_corrected_items=int(hit.sum()),
        judge_accuracy_blind=acc_blind,
        judge_accuracy_corrected=acc_corr,
        shift=interval_figure(figure_name("corrected_shift"), shift_value, n, boot, c),
        correction_equals_blind=wilson(figure_name("correction_agreement"), int((cor == ref).sum()), n, level),
    )
