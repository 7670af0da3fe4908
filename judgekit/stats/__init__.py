"""judgekit.stats — the statistical core: pure functions, no storage, no I/O.

Ratings are **items × raters** (rows = items, columns = raters); use
:meth:`RatingMatrix.from_raters_x_items` for the other orientation. Undefined values are ``nan`` with an
:class:`UndefinedStatisticWarning`. Reference: ``docs/statistics.md``.
"""

from ._alpha import coincidence_matrix, krippendorff_alpha
from ._alt_test import AltTestResult, alt_test, benjamini_yekutieli
from ._bootstrap import bootstrap_ci
from ._calibration import (
    ReliabilityDiagram,
    RiskCoverageCurve,
    aurc,
    brier_score,
    expected_calibration_error,
    reliability_diagram,
    risk_coverage_curve,
    selective_accuracy,
)
from ._classification import ConfusionMatrix, binary_rates, classification_report, confusion_matrix
from ._compare import alpha_with_judge, human_ceiling, mcnemar, paired_bootstrap_difference
from ._conger import conger_kappa
from ._correlation import kendall, spearman
from ._gwet import gwet_ac
from ._harmful import HarmfulConfidenceResult, harmful_confidence
from ._icc import IccForm, icc, icc_form
from ._kappa import (
    brennan_prediger,
    cohen_kappa,
    fleiss_kappa,
    fleiss_kappa_from_counts,
    percent_agreement,
    ratings_from_contingency_table,
    scott_pi,
)
from ._numeric import bland_altman, concordance_correlation, mean_absolute_error, pearson
from ._paired import PairKappas, pair_kappas
from ._result import Interval, StatResult
from ._sample_size import kappa_standard_error, sample_size_for_ci_width
from ._validate import Coded, RatingMatrix, code_labels, ratings_from_long
from ._warnings import UndefinedStatisticWarning

__all__ = [
    "AltTestResult",
    "Coded",
    "ConfusionMatrix",
    "HarmfulConfidenceResult",
    "IccForm",
    "Interval",
    "PairKappas",
    "RatingMatrix",
    "ReliabilityDiagram",
    "RiskCoverageCurve",
    "StatResult",
    "UndefinedStatisticWarning",
    "alpha_with_judge",
    "alt_test",
    "aurc",
    "benjamini_yekutieli",
    "binary_rates",
    "bland_altman",
    "bootstrap_ci",
    "brennan_prediger",
    "brier_score",
    "classification_report",
    "code_labels",
    "cohen_kappa",
    "coincidence_matrix",
    "concordance_correlation",
    "confusion_matrix",
    "conger_kappa",
    "expected_calibration_error",
    "fleiss_kappa",
    "fleiss_kappa_from_counts",
    "gwet_ac",
    "harmful_confidence",
    "human_ceiling",
    "icc",
    "icc_form",
    "kappa_standard_error",
    "kendall",
    "krippendorff_alpha",
    "mcnemar",
    "mean_absolute_error",
    "pair_kappas",
    "paired_bootstrap_difference",
    "pearson",
    "percent_agreement",
    "ratings_from_contingency_table",
    "ratings_from_long",
    "reliability_diagram",
    "risk_coverage_curve",
    "sample_size_for_ci_width",
    "scott_pi",
    "selective_accuracy",
    "spearman",
]
