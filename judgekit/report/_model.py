"""What a report holds: plain pydantic records, so the HTML, the Markdown and the JSON say exactly the same thing.

Why a model of its own: the three renderings (and the labeling app's admin page) read these records and compute
nothing; every number is computed once, in :mod:`judgekit.report._build`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from judgekit.agreement import TrustAssessment
from judgekit.agreement.judge_judge import JudgePair
from judgekit.align.explain import DisagreementReport
from judgekit.align.record import AlignmentRecord

_CONFIG = ConfigDict(frozen=True, ser_json_inf_nan="constants")

REPORT_FORMAT_VERSION = 2
"""Version of the JSON layout written by ``judgekit report`` (bumped on incompatible changes; 2: every figure is a
named ``StatResult`` with its n, judge figures on both bases, the typed assessment of judgekit 0.2)."""


class RunInfo(BaseModel):
    """Who judged, how the run went, and what it cost (cost fields are None when the run does not record them)."""

    model_config = _CONFIG
    name: str
    provider: str
    model: str
    source: str
    status: str
    created_at: str
    rubric: str
    confidence_source: str
    cost_usd: float | None = None
    """Total provider cost recorded by the judge engine (``meta["cost_usd"]``)."""
    cost_known: bool | None = None
    """False when some model had no price, so ``cost_usd`` is a lower bound."""
    requests: int | None = None
    cache_hits: int | None = None
    meta: dict[str, Any] = Field(default_factory=dict)


class ItemExample(BaseModel):
    """One item shown in the report (a confidently wrong verdict, or a disagreement with unanimous annotators), with
    its text truncated for reading."""

    model_config = _CONFIG
    item_id: str
    segment: str | None
    risk: str | None
    confidence: float | None
    judge_label: str | None
    reference_label: str | None
    human_labels: dict[str, str]
    input: str
    output: str | None = None
    output_a: str | None = None
    output_b: str | None = None
    rationale: str | None = None


JudgeComparison = JudgePair
"""Two judge runs on the same rubric and items: :class:`judgekit.agreement.judge_judge.JudgePair`, the one
judge-vs-judge comparison (``judgekit compare`` and ``judgekit runs compare`` show the same record)."""


class ProbeResult(BaseModel):
    """A bias-probe run (``meta["probe"]``, e.g. ``position``) and whatever results the probe recorded."""

    model_config = _CONFIG
    run: str
    probe: str
    rubric: str
    results: dict[str, Any]


class RunReport(BaseModel):
    """The trust assessment of one run plus what the report adds: run details and example items."""

    model_config = _CONFIG
    info: RunInfo
    assessment: TrustAssessment
    confidently_wrong: list[ItemExample]
    """Worst first: highest risk tier, then highest confidence (empty when the judge reports no confidence)."""
    disagreements: list[ItemExample] = Field(default_factory=list)
    """Items where all annotators (at least two) agree and the judge says otherwise, whatever its confidence:
    highest risk tier first, then most annotators."""
    failure_modes: DisagreementReport | None = None
    """The largest failure modes (``judgekit explain``) on the dev part of the newest split, or every labelled item
    when there is no split; None when the run has no disagreement to explain."""


class Report(BaseModel):
    """Everything ``judgekit report`` writes; ``model_dump_json()`` is ``report.json``."""

    model_config = _CONFIG
    format_version: int = REPORT_FORMAT_VERSION
    judgekit_version: str
    generated_at: str
    project: str
    runs: list[RunReport]
    comparisons: list[JudgeComparison]
    probes: list[ProbeResult]
    alignments: list[AlignmentRecord] = Field(default_factory=list)
    """Every ``judgekit align`` record: its candidates with their dev figures and cost, and the one test look."""
