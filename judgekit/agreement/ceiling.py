"""The human ceiling: how well people agree with each other, the yardstick a judge is measured against.

Why: a judge-human kappa of 0.6 is excellent when people agree with each other at 0.55 and poor when they agree at
0.9. Two estimands, both on blind labels:

* ``human_ceiling``: Cohen's kappa of every annotator pair on the items both labelled, and their mean **weighted by
  the pair's shared items** ``n_ab``::

      ceiling = sum_ab n_ab kappa_ab / sum_ab n_ab      over pairs with n_ab >= min_pair_overlap

  An unweighted mean would be hostage to the pair with the least overlap (three annotators adding a handful of
  labels in the app took the demo's mean from 0.864 to 0.228). Every pair is reported with its ``n``; pairs
  sharing fewer than ``min_pair_overlap`` items are reported but not counted. For complete data (everyone labels
  everything) the weights are equal and this is the usual mean pairwise kappa (PandaLM: 0.852 / 0.879 / 0.862).
* ``human_alpha``: Krippendorff's alpha over all annotators (missing labels allowed), which weights by pairable
  values by construction.

Intervals are percentile bootstraps over items: every pair's kappa is recomputed on the same resample
(:func:`judgekit.stats.pair_kappas`, a multinomial over distinct label rows), so the weighted mean's interval
respects the pairs' correlation. Ordinal scales use quadratic weights (Cohen 1968).
"""

from __future__ import annotations

import warnings
from itertools import combinations

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict

from judgekit.agreement.criteria import TrustCriteria
from judgekit.agreement.estimands import figure_name
from judgekit.models import Rubric
from judgekit.stats import Coded, StatResult, UndefinedStatisticWarning, krippendorff_alpha, pair_kappas
from judgekit.stats._bootstrap import interval_from_samples

__all__ = [
    "HumanCeiling",
    "PairAgreement",
    "alpha_level",
    "alpha_levels",
    "human_ceiling",
    "overlap_mean",
    "point",
    "scale_weights",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
_CONFIG = ConfigDict(frozen=True, ser_json_inf_nan="constants")


def alpha_level(rubric: Rubric) -> str:
    """Krippendorff's alpha metric of the rubric's scale: ``interval`` on an interval scale (also when coded on its
    grid as an ordinal stand-in), else the scale's own level (binary counts as nominal)."""
    return "interval" if rubric.interval_scale is not None else rubric.scale.stats_level


def alpha_levels(rubric: Rubric, levels: list[str]) -> list[str] | list[float]:
    """The levels alpha is computed over: the scores as numbers on an interval scale (its interval metric needs
    them), else the levels as they are."""
    return [float(v) for v in levels] if rubric.interval_scale is not None else levels


def scale_weights(rubric: Rubric) -> str | None:
    """Agreement weights of the rubric's scale: quadratic for ordinal scales, none (identity) otherwise."""
    return "quadratic" if rubric.scale.kind == "ordinal" else None


def point(name: str, value: float, n: int) -> StatResult:
    """A figure without an interval (a count, or a value too thin for one)."""
    return StatResult(name=name, value=float(value), n_items=int(n))


class PairAgreement(BaseModel):
    """One annotator pair: its kappa on the items both labelled (``kappa.n_items`` of them), and whether it
    counts towards the ceiling."""

    model_config = _CONFIG
    a: str
    b: str
    kappa: StatResult
    counted: bool


class HumanCeiling(BaseModel):
    """The human ceiling of one scale: the overlap-weighted pairwise kappa, alpha, and every pair."""

    model_config = _CONFIG
    kappa: StatResult
    """``human_ceiling``: pairwise Cohen's kappa, mean weighted by shared items."""
    alpha: StatResult
    """``human_alpha``: Krippendorff's alpha among annotators."""
    pairs: list[PairAgreement]
    min_pair_overlap: int
    n_pairs_counted: int
    weights: str
    """``identity`` or ``quadratic``."""


def overlap_mean(values: FloatArray, n: FloatArray, counted: NDArray[np.bool_]) -> FloatArray:
    """Mean of ``values`` weighted by ``n`` over the ``counted`` columns, row by row (``nan`` values and zero
    weights drop out): ``sum n v / sum n``. ``values``/``n`` are (P,) or (B, P); ``counted`` is (P,)."""
    v = np.where(counted & np.isfinite(values), values, 0.0)
    w = np.where(counted & np.isfinite(values), n, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.sum(v * w, axis=-1) / np.sum(w, axis=-1), dtype=np.float64)


def interval_figure(name: str, value: float, n: int, boot: FloatArray | None, c: TrustCriteria) -> StatResult:
    """A figure with the percentile interval of its bootstrap replicates (none when fewer than two are finite)."""
    if boot is None or not np.isfinite(value) or np.isfinite(boot).sum() < 2:
        return point(name, value, n)
    iv = interval_from_samples(boot, value, "percentile", c.confidence_level)
    return StatResult(name=name, value=float(value), n_items=int(n), interval=iv)


def human_ceiling(codes: IntArray, annotators: list[str], rubric: Rubric, c: TrustCriteria) -> HumanCeiling:
    """The human ceiling of items × annotators ``codes`` (``-1`` missing) for ``rubric`` under criteria ``c``
    (``min_pair_overlap``, ``n_boot``, ``seed``, ``confidence_level``). See the module docstring."""
    levels = rubric.scale.values
    weights = scale_weights(rubric)
    n_items, m = codes.shape if codes.ndim == 2 else (0, 0)
    multi = int(((codes >= 0).sum(axis=1) >= 2).sum()) if n_items else 0
    pairs_idx = list(combinations(range(m), 2))
    ceiling = point(figure_name("human_ceiling"), float("nan"), 0)
    pairs: list[PairAgreement] = []
    alpha = point(figure_name("human_alpha"), float("nan"), multi)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedStatisticWarning)
        if pairs_idx and n_items:
            coded = Coded.from_codes(codes, levels)
            pk = pair_kappas(coded, pairs_idx, weights=weights, n_boot=c.n_boot, seed=c.seed)
            counted = (pk.n >= c.min_pair_overlap) & np.isfinite(pk.value)
            value = float(overlap_mean(pk.value, pk.n.astype(float), counted))
            ceiling = interval_figure(
                figure_name("human_ceiling"), value, multi, overlap_mean(pk.boot, pk.boot_n, counted), c
            )
            pairs = [
                PairAgreement(
                    a=annotators[i],
                    b=annotators[j],
                    kappa=point(figure_name("pair_kappa"), float(pk.value[q]), int(pk.n[q])),
                    counted=bool(counted[q]),
                )
                for q, (i, j) in enumerate(pairs_idx)
            ]
        if m >= 2 and multi >= 2:
            alpha_res = krippendorff_alpha(
                Coded.from_codes(codes, alpha_levels(rubric, levels)),
                level=alpha_level(rubric),
                ci=True,
                n_boot=c.n_boot,
                seed=c.seed,
                ci_level=c.confidence_level,
            )
            alpha = StatResult(
                name=figure_name("human_alpha"), value=alpha_res.value, n_items=multi, interval=alpha_res.interval
            )
    return HumanCeiling(
        kappa=ceiling,
        alpha=alpha,
        pairs=pairs,
        min_pair_overlap=c.min_pair_overlap,
        n_pairs_counted=sum(p.counted for p in pairs),
        weights=weights or "identity",
    )
