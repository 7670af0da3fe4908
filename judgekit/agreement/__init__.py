"""The trust verdict: judge-human agreement beside the human ceiling, with intervals, criteria and reasons.

One module per estimand (the vocabulary is :mod:`~judgekit.agreement.estimands`):

* :mod:`~judgekit.agreement.reference` - the reference label (majority of blind labels, ties left out; or
  adjudicated labels);
* :mod:`~judgekit.agreement.ceiling` - the human ceiling (pairwise kappa weighted by shared items, alpha);
* :mod:`~judgekit.agreement.judge_people` - judge vs people, on both bases (failures as wrong / ok only);
* :mod:`~judgekit.agreement.judge_judge` - judge vs judge (paired differences, McNemar, agreement between judges);
* :mod:`~judgekit.agreement.breakdown`, :mod:`~judgekit.agreement.confidence`, :mod:`~judgekit.agreement.corrected`.

:mod:`~judgekit.agreement.data` gathers one scale's aligned ratings (coded once), :mod:`~judgekit.agreement.evidence`
measures them, :mod:`~judgekit.agreement.verdict` judges the registered criteria, :mod:`~judgekit.agreement.assess`
ties it together. Statistics themselves live in :mod:`judgekit.stats`.
"""

from judgekit.agreement.assess import (
    AgreementOverview,
    JudgeOverview,
    ProjectEvidence,
    TrustAssessment,
    agreement_overview,
    assess,
    assess_project,
    assess_run,
)
from judgekit.agreement.breakdown import GroupResult
from judgekit.agreement.ceiling import HumanCeiling, PairAgreement, human_ceiling
from judgekit.agreement.confidence import CalibrationFigures, HarmfulFigures
from judgekit.agreement.corrected import CorrectedLabels
from judgekit.agreement.criteria import TrustCriteria, find_config, load_criteria
from judgekit.agreement.data import (
    NO_VERDICT,
    AlignedRatings,
    HumanRatings,
    load_aligned,
    load_human_ratings,
    reference_by_item,
    strict_weights,
)
from judgekit.agreement.estimands import BASES, ESTIMANDS, Basis, describe, title_of
from judgekit.agreement.evidence import ScaleEvidence, measure
from judgekit.agreement.judge_people import BothBases, JudgeVsPeople, judge_vs_reference
from judgekit.agreement.reference import TIE_RULE, ReferenceRule, ReferenceSummary, majority_codes
from judgekit.agreement.render import render_overview, render_pair, render_text
from judgekit.agreement.verdict import CRITERIA, CriterionResult, criterion

__all__ = [
    "BASES",
    "CRITERIA",
    "ESTIMANDS",
    "NO_VERDICT",
    "TIE_RULE",
    "AgreementOverview",
    "AlignedRatings",
    "Basis",
    "BothBases",
    "CalibrationFigures",
    "CorrectedLabels",
    "CriterionResult",
    "GroupResult",
    "HarmfulFigures",
    "HumanCeiling",
    "HumanRatings",
    "JudgeOverview",
    "JudgeVsPeople",
    "PairAgreement",
    "ProjectEvidence",
    "ReferenceRule",
    "ReferenceSummary",
    "ScaleEvidence",
    "TrustAssessment",
    "TrustCriteria",
    "agreement_overview",
    "assess",
    "assess_project",
    "assess_run",
    "criterion",
    "describe",
    "find_config",
    "human_ceiling",
    "judge_vs_reference",
    "load_aligned",
    "load_criteria",
    "load_human_ratings",
    "majority_codes",
    "measure",
    "reference_by_item",
    "render_overview",
    "render_pair",
    "render_text",
    "strict_weights",
    "title_of",
]
