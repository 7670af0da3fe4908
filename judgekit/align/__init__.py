"""From NOT TRUSTED to TRUSTED with evidence: explain a judge's disagreements, propose candidate judges, choose on
dev by a rule stated up front, and let the locked test split decide, once.

* :mod:`~judgekit.align.explain` - failure modes (label pair, segment, risk tier, critique words), each with its
  share of the gap to the human ceiling; no LLM (``judgekit explain``, the report);
* :mod:`~judgekit.align.strategies` - the candidate strategies, a registry (rules by a proposer model, few-shot
  sets, other models, ensembles, an abstention threshold);
* :mod:`~judgekit.align.proposer` - what the proposer model sees and may write;
* :mod:`~judgekit.align.aligner` - the whole loop (``judgekit align``), resumable, within one budget;
* :mod:`~judgekit.align.record` and :mod:`~judgekit.align.store` - the alignment record kept in the project;
* :mod:`~judgekit.align.rubric_files` - the readable diff and the new rubric file; :mod:`~judgekit.align.render`.
"""

from judgekit.align.aligner import SELECTION_RULE, aalign, align, selection_rule
from judgekit.align.explain import DisagreementReport, ExampleItem, FailureMode, dev_scope, explain, explain_run
from judgekit.align.record import (
    DEFAULT_STRATEGIES,
    STRATEGY_TITLES,
    AlignmentRecord,
    AlignSettings,
    CandidateRecord,
    CostAccount,
    DevFigures,
    Proposal,
    TestLook,
)
from judgekit.align.render import render_explanation, render_record, render_records
from judgekit.align.strategies import STRATEGIES, AlignContext, Plan, Strategy, strategy

__all__ = [
    "DEFAULT_STRATEGIES",
    "SELECTION_RULE",
    "STRATEGIES",
    "STRATEGY_TITLES",
    "AlignContext",
    "AlignSettings",
    "AlignmentRecord",
    "CandidateRecord",
    "CostAccount",
    "DevFigures",
    "DisagreementReport",
    "ExampleItem",
    "FailureMode",
    "Plan",
    "Proposal",
    "Strategy",
    "TestLook",
    "aalign",
    "align",
    "dev_scope",
    "explain",
    "explain_run",
    "render_explanation",
    "render_record",
    "render_records",
    "selection_rule",
    "strategy",
]
