"""The vocabulary: every figure judgekit prints is one of these estimands, named and counted the same everywhere.

Why a registry: "the judge's kappa" was 0.476 in one screen, 0.461 in another and 0.478 in a third, because each
front end computed its own thing and none said which. Each estimand here has one definition and one home (the
module named in ``home``); the CLI, the JSON, the report, the admin page, the notebook and
:mod:`judgekit.testing` print the value a home computed, under the title given here, with its ``n``.

A figure is a :class:`judgekit.stats.StatResult` whose ``name`` is ``KEY`` or ``KEY.BASIS``: the basis says how
failed verdicts (parse errors, refusals, API errors, missing) enter a judge figure, ``failures_as_wrong`` (a
failed verdict is a stand-in label that agrees with nobody: the judge that skips hard items must not look better
for it) or ``ok_only`` (only the items with an ``ok`` verdict, as papers also report).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from judgekit.stats import StatResult

__all__ = [
    "BASES",
    "BASIS_TITLE",
    "ESTIMANDS",
    "Basis",
    "Estimand",
    "describe",
    "figure_name",
    "title_of",
]

Basis = Literal["failures_as_wrong", "ok_only"]
"""How failed verdicts enter a judge figure (see the module docstring)."""
BASES: tuple[Basis, ...] = ("failures_as_wrong", "ok_only")
BASIS_TITLE: dict[Basis, str] = {"failures_as_wrong": "failures counted as wrong", "ok_only": "ok verdicts only"}


@dataclass(frozen=True)
class Estimand:
    """One named quantity: its key (the ``name`` of its figures), a short title, its definition and its home."""

    key: str
    title: str
    definition: str
    home: str


_ALL = (
    Estimand(
        "reference_label",
        "reference label",
        "per item, the label the judge is compared with: the plurality of the annotators' blind labels (an item "
        "whose top labels tie has none and is left out, counted), or the adjudicated label when so configured",
        "judgekit.agreement.reference",
    ),
    Estimand(
        "human_alpha",
        "human ceiling, Krippendorff's alpha among annotators",
        "Krippendorff's alpha (2011) over every annotator's blind label, missing labels allowed (the interval "
        "metric on interval scales)",
        "judgekit.agreement.ceiling",
    ),
    Estimand(
        "human_ceiling",
        "human ceiling, Cohen's kappa between annotators (pairs weighted by shared items)",
        "sum over annotator pairs of n_ab * kappa_ab / sum of n_ab, n_ab the items both labelled; pairs sharing "
        "fewer than min_pair_overlap items are reported but not counted",
        "judgekit.agreement.ceiling",
    ),
    Estimand(
        "pair_kappa",
        "Cohen's kappa of one annotator pair",
        "Cohen's kappa (1960; quadratic weights for ordinal scales) on the items both annotators labelled",
        "judgekit.agreement.ceiling",
    ),
    Estimand(
        "judge_kappa",
        "judge vs reference label, Cohen's kappa",
        "Cohen's kappa between the judge's verdict and the reference label, on the items with a reference label",
        "judgekit.agreement.judge_people",
    ),
    Estimand(
        "judge_accuracy",
        "judge vs reference label, accuracy",
        "share of the items with a reference label where the judge's verdict equals it (Wilson interval)",
        "judgekit.agreement.judge_people",
    ),
    Estimand(
        "judge_mean_kappa",
        "judge vs each annotator, Cohen's kappa (annotators weighted by shared items)",
        "sum over annotators a of n_a * kappa(judge, a) / sum of n_a, with the same weights and minimum overlap as "
        "the human ceiling, so the two are comparable",
        "judgekit.agreement.judge_people",
    ),
    Estimand(
        "annotator_kappa",
        "judge vs one annotator, Cohen's kappa",
        "Cohen's kappa between the judge and one annotator on the items that annotator labelled",
        "judgekit.agreement.judge_people",
    ),
    Estimand(
        "gap_to_ceiling",
        "gap to the human ceiling",
        "human_ceiling minus judge_mean_kappa, with a paired bootstrap interval (one resample for both)",
        "judgekit.agreement.judge_people",
    ),
    Estimand(
        "alpha_with_judge",
        "Krippendorff's alpha with the judge as one more annotator",
        "alpha over the annotators' labels plus the judge's verdicts (failures as a level of their own)",
        "judgekit.agreement.judge_people",
    ),
    Estimand(
        "alt_test_winning_rate",
        "alternative annotator test, winning rate",
        "share of annotators the judge can replace (Calderon et al. 2025, epsilon from the criteria)",
        "judgekit.agreement.judge_people",
    ),
    Estimand(
        "failure_rate",
        "failed verdicts",
        "share of the labelled items whose verdict is a parse error, refusal, API error or missing (Wilson interval)",
        "judgekit.agreement.judge_people",
    ),
    Estimand(
        "items_judged",
        "labelled items with a verdict",
        "items with at least one blind human label and a verdict of the run (any status)",
        "judgekit.agreement.assess",
    ),
    Estimand(
        "annotators_per_item",
        "annotators per item",
        "mean number of annotators with a blind label per labelled item",
        "judgekit.agreement.assess",
    ),
    Estimand(
        "ece",
        "expected calibration error",
        "top-label confidence vs correctness against the reference label, 10 equal-width bins",
        "judgekit.agreement.confidence",
    ),
    Estimand(
        "brier",
        "Brier score",
        "mean squared error of the top-label confidence vs correctness against the reference label (0 best)",
        "judgekit.agreement.confidence",
    ),
    Estimand(
        "harmful_rate",
        "confidently wrong verdicts",
        "share of ok verdicts with a confidence where the judge is wrong with confidence >= confidence_threshold "
        "(Wilson interval)",
        "judgekit.agreement.confidence",
    ),
    Estimand(
        "kappa_difference",
        "judge A minus judge B, Cohen's kappa vs reference label",
        "kappa(A) - kappa(B) on the same items with a paired bootstrap interval (items resampled jointly)",
        "judgekit.agreement.judge_judge",
    ),
    Estimand(
        "accuracy_difference",
        "judge A minus judge B, accuracy vs reference label",
        "accuracy(A) - accuracy(B) on the same items with a paired bootstrap interval",
        "judgekit.agreement.judge_judge",
    ),
    Estimand(
        "mcnemar_p",
        "McNemar's test, p-value",
        "exact binomial test on the items exactly one judge got right (McNemar 1947); the chi-square "
        "approximation with continuity correction on request",
        "judgekit.agreement.judge_judge",
    ),
    Estimand(
        "judges_kappa",
        "judge A vs judge B, Cohen's kappa",
        "Cohen's kappa between two judges' verdicts on the items both judged ok (no human labels needed)",
        "judgekit.agreement.judge_judge",
    ),
    Estimand(
        "corrected_shift",
        "corrected minus blind labels, judge accuracy",
        "judge accuracy against corrected labels minus against blind reference labels, on the items that have both "
        "(corrections are made seeing the judge, so they flatter it)",
        "judgekit.agreement.corrected",
    ),
    Estimand(
        "correction_agreement",
        "corrected labels vs blind reference label, agreement",
        "share of the items with both whose corrected label equals the blind reference label (Wilson interval)",
        "judgekit.agreement.corrected",
    ),
    Estimand(
        "human_icc",
        "human ceiling on a numeric scale, ICC among annotators",
        "intraclass correlation of the annotators' blind scores (Shrout & Fleiss 1979; McGraw & Wong 1996), in the "
        "form the design calls for: ICC(A,1) when every item scored twice or more holds the most common set of "
        "annotators, else one-way ICC(1) over the first k scores of the items with at least k (k = the most common "
        "number of scores per item); exact F interval; the form and why are printed with it",
        "judgekit.agreement.numeric",
    ),
    Estimand(
        "human_mae",
        "human ceiling on a numeric scale, mean absolute difference between annotators (pairs weighted by shared "
        "items)",
        "sum over annotator pairs of n_ab * MAE_ab / sum of n_ab, MAE_ab the mean |score_a - score_b| on the n_ab "
        "items both scored, in score units; pairs sharing fewer than min_pair_overlap items are reported but not "
        "counted; delta-method interval (a ratio estimator, items as clusters)",
        "judgekit.agreement.numeric",
    ),
    Estimand(
        "pair_mae",
        "mean absolute difference of one annotator pair",
        "mean |score_a - score_b| on the items both annotators scored",
        "judgekit.agreement.numeric",
    ),
    Estimand(
        "reference_score",
        "reference score (interval scales)",
        "per item, the score the judge is compared with on an interval scale: the mean of the annotators' blind "
        "scores (every item with at least one), or the adjudicated score when reference = adjudicated",
        "judgekit.agreement.numeric",
    ),
    Estimand(
        "judge_icc",
        "judge vs mean human score, ICC(A,1)",
        "two-way absolute-agreement single-rater ICC (McGraw & Wong 1996 ICC(A,1)) of the judge's score and the "
        "mean of the blind human scores, on items with both (a judge that adds a point everywhere loses here); "
        "exact F interval",
        "judgekit.agreement.numeric",
    ),
    Estimand(
        "judge_pearson",
        "judge vs mean human score, Pearson's r",
        "Pearson's product-moment correlation of the judge's score and the mean human score (Fisher z interval)",
        "judgekit.agreement.numeric",
    ),
    Estimand(
        "judge_spearman",
        "judge vs mean human score, Spearman's rho",
        "Spearman's rank correlation of the judge's score and the mean human score (Fisher z interval, Bonett & "
        "Wright 2000 variance (1 + r^2/2) / (n - 3))",
        "judgekit.agreement.numeric",
    ),
    Estimand(
        "judge_kendall",
        "judge vs mean human score, Kendall's tau-b",
        "Kendall's tau-b of the judge's score and the mean human score (Fisher z interval, Fieller et al. 1957 "
        "variance 0.437 / (n - 4))",
        "judgekit.agreement.numeric",
    ),
    Estimand(
        "judge_ccc",
        "judge vs mean human score, Lin's concordance",
        "Lin's (1989) concordance correlation coefficient of the judge's score and the mean human score (z-transform "
        "interval)",
        "judgekit.agreement.numeric",
    ),
    Estimand(
        "judge_mae",
        "judge vs mean human score, mean absolute error",
        "mean |judge score - mean human score| over items with both, in score units (t interval, sd(|d|) / sqrt(n))",
        "judgekit.agreement.numeric",
    ),
    Estimand(
        "judge_bias",
        "judge vs mean human score, mean bias (Bland-Altman)",
        "mean of judge score - mean human score (t interval), with Bland & Altman (1986) 95% limits of agreement "
        "mean +- 1.96 sd (their intervals as in Bland & Altman 1999)",
        "judgekit.agreement.numeric",
    ),
    Estimand(
        "judge_mean_mae",
        "judge vs each annotator, mean absolute error (annotators weighted by shared items)",
        "sum over annotators a of n_a * MAE(judge, a) / sum of n_a, with the weights and minimum overlap of "
        "human_mae, so the two are comparable; delta-method interval (a ratio estimator, items as clusters)",
        "judgekit.agreement.numeric",
    ),
    Estimand(
        "annotator_mae",
        "judge vs one annotator, mean absolute error",
        "mean |judge - annotator| on the items that annotator scored",
        "judgekit.agreement.numeric",
    ),
    Estimand(
        "mae_gap_to_ceiling",
        "judge's MAE vs each annotator minus the annotators' pairwise MAE",
        "judge_mean_mae minus human_mae, with a paired delta-method interval (the same items in both): how much "
        "further the judge is from a person than people are from each other",
        "judgekit.agreement.numeric",
    ),
)
_ALIGN = (
    Estimand(
        "gap_share",
        "share of the gap to the ceiling",
        "(gap_to_ceiling - gap_to_ceiling if the judge agreed with the reference label on a failure mode's items) / "
        "gap_to_ceiling, failures counted as wrong: how much of the gap those items explain (modes overlap; a share "
        "above 1 means fixing them alone would put the judge above a typical annotator)",
        "judgekit.align.explain",
    ),
)
ESTIMANDS: dict[str, Estimand] = {e.key: e for e in (*_ALL, *_ALIGN)}
"""Every estimand by key."""


def figure_name(key: str, basis: Basis | None = None) -> str:
    """The ``name`` of a figure of estimand ``key`` on ``basis``: ``judge_kappa.failures_as_wrong``."""
    if key not in ESTIMANDS:
        raise KeyError(f"unknown estimand {key!r}; add it to judgekit.agreement.estimands.ESTIMANDS")
    return key if basis is None else f"{key}.{basis}"


def title_of(name: str) -> str:
    """The printed title of a figure name: ``judge vs reference label, Cohen's kappa (failures counted as
    wrong)``; an unknown name is returned as it is."""
    key, _, basis = name.partition(".")
    est = ESTIMANDS.get(key)
    if est is None:
        return name
    suffix = next((f" ({title})" for b, title in BASIS_TITLE.items() if b == basis), "")
    return est.title + suffix


def describe(result: StatResult, digits: int = 3) -> str:
    """One line naming the estimand, the value with its interval, and n: what every front end prints."""
    return f"{title_of(result.name)}: {result.fmt(digits)} (n={result.n_items})"
