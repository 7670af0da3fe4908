"""Calibrating judge prompts without fooling yourself: splits, locked test looks, paired comparisons, abstention
with a guarantee and corrected pass-rate estimates.

* :mod:`~judgekit.calibration.splits` - dev/test splits stored and versioned in the project; tuning draws from dev
  (:func:`dev_item_ids`), the final evaluation from test (:func:`test_item_ids`).
* :mod:`~judgekit.calibration.looks` - every evaluation on a test split is recorded; the number of judge versions
  evaluated on it is reported with a warning that grows with it.
* :mod:`~judgekit.calibration.compare` - is B better than A, or within noise? Paired bootstrap, McNemar, Holm.
* :mod:`~judgekit.calibration.abstention` - a confidence threshold with a guaranteed agreement rate (Jung et al.
  2025); the items below it go to people.
* :mod:`~judgekit.calibration.estimates` - the true pass rate from judge verdicts plus a few human labels
  (Rogan-Gladen, prediction-powered inference).

User documentation: ``docs/calibration.md``.
"""

from judgekit.calibration.abstention import (
    AbstentionReport,
    ThresholdResult,
    abstain,
    calibrate_threshold,
    escalate,
    escalated_item_ids,
    min_testable,
    render_abstention,
)
from judgekit.calibration.compare import (
    ComparisonReport,
    JudgeFigures,
    PairComparison,
    compare_aligned,
    compare_runs,
    holm_adjust,
    render_comparison,
)
from judgekit.calibration.estimates import (
    Estimate,
    PassRateReport,
    classical_estimate,
    estimate_pass_rate,
    ppi_estimate,
    render_estimate,
    rogan_gladen_estimate,
)
from judgekit.calibration.looks import (
    Look,
    LookSummary,
    assess_on_split,
    look_summary,
    look_warning,
    looks,
    record_look,
)
from judgekit.calibration.splits import (
    DEFAULT_SPLIT,
    SPLIT_METHODS,
    SplitInfo,
    balance,
    create_split,
    dev_item_ids,
    get_split,
    list_splits,
    split_item_ids,
    test_item_ids,
)

__all__ = [
    "DEFAULT_SPLIT",
    "SPLIT_METHODS",
    "AbstentionReport",
    "ComparisonReport",
    "Estimate",
    "JudgeFigures",
    "Look",
    "LookSummary",
    "PairComparison",
    "PassRateReport",
    "SplitInfo",
    "ThresholdResult",
    "abstain",
    "assess_on_split",
    "balance",
    "calibrate_threshold",
    "classical_estimate",
    "compare_aligned",
    "compare_runs",
    "create_split",
    "dev_item_ids",
    "escalate",
    "escalated_item_ids",
    "estimate_pass_rate",
    "get_split",
    "holm_adjust",
    "list_splits",
    "look_summary",
    "look_warning",
    "looks",
    "min_testable",
    "ppi_estimate",
    "record_look",
    "render_abstention",
    "render_comparison",
    "render_estimate",
    "rogan_gladen_estimate",
    "split_item_ids",
    "test_item_ids",
]
