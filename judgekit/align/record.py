"""The alignment record: everything one ``judgekit align`` decided and measured, kept in the project.

Why one record: a reader (the report, ``judgekit alignments``, a reviewer) must see every candidate that was tried,
its dev figures and cost, the rule that chose among them (stated before any candidate was judged) and the single
look at the test split, so that a gain cannot be reported without the attempts behind it. The record is saved after
every step, which is also how an interrupted ``align`` resumes: what is in the record is not done again.
"""

from __future__ import annotations

import hashlib
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from judgekit.align.explain import DisagreementReport
from judgekit.calibration.looks import LookSummary
from judgekit.models import JudgeConfig
from judgekit.stats import StatResult

__all__ = [
    "DEFAULT_STRATEGIES",
    "STRATEGY_TITLES",
    "AlignSettings",
    "AlignmentRecord",
    "CandidateRecord",
    "CostAccount",
    "DevFigures",
    "Proposal",
    "TestLook",
]

_CONFIG = ConfigDict(frozen=True, ser_json_inf_nan="constants", extra="forbid")

STRATEGY_TITLES: dict[str, str] = {
    "rules": "clarified definitions and decision rules written by a proposer model",
    "fewshot": "static few-shot examples chosen from dev disagreements",
    "dynamic": "dynamic few-shot: the most similar labelled dev items",
    "no-fewshot": "no few-shot examples",
    "model": "another model",
    "ensemble": "an ensemble of existing runs (majority, the starting judge breaks ties)",
    "abstain": "a confidence threshold with abstention (Trust or Escalate)",
}
"""Every strategy ``judgekit align --strategies`` knows, in the order candidates are made."""
DEFAULT_STRATEGIES = ("rules", "fewshot", "dynamic", "no-fewshot", "model", "ensemble", "abstain")

CandidateStatus = Literal["planned", "judged", "evaluated", "skipped", "incomplete"]
RecordStatus = Literal["running", "interrupted", "stopped_budget", "complete"]


class AlignSettings(BaseModel):
    """What the user asked for. Two ``align`` calls with the same :meth:`identity` are one alignment (the second
    resumes the first); the budget, concurrency and output path are not part of it."""

    model_config = _CONFIG
    run: str
    """The starting judge run."""
    split: str
    """``NAME@VERSION`` of the locked split."""
    strategies: tuple[str, ...] = DEFAULT_STRATEGIES
    proposer: str | None = None
    """``PROVIDER:MODEL`` writing the rules (strategy ``rules``)."""
    judge_model: str | None = None
    """``PROVIDER:MODEL`` judging the candidates (default: the starting run's)."""
    candidate_models: tuple[str, ...] = ()
    """Other models to try (strategy ``model``)."""
    base_url: str | None = None
    """Server of the candidate judges and the proposer (OpenAI-compatible servers; default from the environment)."""
    max_cost: float | None = None
    """USD for the proposer, the candidates and the test look together."""
    select_fraction: float = Field(default=0.5, gt=0.0, lt=1.0)
    """Share of dev kept aside to choose among candidates (never used to build one)."""
    seed: int = 0
    k: int = Field(default=4, ge=1, le=32)
    """Few-shot examples (static and dynamic)."""
    max_examples: int = Field(default=24, ge=1, le=200)
    """Disagreements shown to the proposer."""
    alpha: float = Field(default=0.05, gt=0.0, lt=0.5)
    """Family-wise error rate of the dev comparisons (Bonferroni over the candidates)."""
    tie_tolerance: float = Field(default=0.01, ge=0.0)
    """Lower bounds closer than this are a tie (won by the cheaper judge)."""
    target: float = Field(default=0.9, gt=0.0, lt=1.0)
    """Abstention: agreement required on the items the judge keeps."""
    delta: float = Field(default=0.1, gt=0.0, lt=1.0)
    """Abstention: tolerated chance that the guarantee fails."""
    concurrency: int = Field(default=8, ge=1, le=1024)
    out: str | None = None
    """Where the new rubric file is written (default ``rubrics/ID.yaml``)."""

    def identity(self) -> str:
        """A hash of the settings that change what is measured."""
        fields = self.model_dump(mode="json", exclude={"max_cost", "concurrency", "out"})
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


class Proposal(BaseModel):
    """One proposer call: what it was shown and what it wrote."""

    model_config = _CONFIG
    model: str
    shown: list[str]
    """Item ids of the disagreements in the prompt (all from the fit half of dev)."""
    rationale: str
    level_definitions: dict[str, str]
    decision_rules: list[str]
    cost_usd: float
    cache_hit: bool = False


class DevFigures(BaseModel):
    """A candidate against the starting judge on one half of dev (paired, same items)."""

    model_config = _CONFIG
    part: Literal["fit", "select"]
    n_items: int
    kappa: StatResult
    """The candidate's ``judge_kappa.failures_as_wrong``."""
    kappa_start: StatResult
    kappa_gain: StatResult
    """``kappa_difference.failures_as_wrong``: candidate minus starting judge, paired bootstrap interval."""
    accuracy_gain: StatResult
    mcnemar_p: float
    coverage: float | None = None
    """Abstention candidates: share of the items the judge keeps."""
    kept_agreement: float | None = None
    """Abstention candidates: agreement with the reference on the kept items."""


class CandidateRecord(BaseModel):
    """One candidate judge: how it was made, its run, its dev figures and whether it qualifies."""

    model_config = _CONFIG
    name: str
    strategy: str
    description: str
    targets: str | None = None
    """The failure mode it aims at."""
    parent: str
    """What it changes: ``run gpt-3.5-turbo, rubric pandalm-pairwise@1``."""
    rubric: str
    """``ID@VERSION`` it judges with (a new version for rubric changes)."""
    changes: list[str] = Field(default_factory=list)
    diff: str = ""
    """Unified diff of the rubric (or of the judge configuration) against the parent."""
    config: JudgeConfig | None = None
    """The judge configuration of a judged candidate (None for derived ones: ensembles, thresholds)."""
    run: str | None = None
    status: CandidateStatus = "planned"
    reason: str | None = None
    """Why it was skipped or is incomplete."""
    cost_usd: float = 0.0
    """What judging it (and proposing it) cost so far."""
    cost_per_item: float | None = None
    """Judging cost per item (members' summed for an ensemble; None when unknown)."""
    fit: DevFigures | None = None
    select: DevFigures | None = None
    ranked: bool = True
    """False for selective judges (abstention): reported beside, not ranked against full-coverage judges."""
    qualifies: bool = False
    verdict: str = ""
    """One line: why it qualifies or not."""


class TestLook(BaseModel):
    """The one look at the locked test split, for the chosen candidate."""

    __test__ = False  # not a pytest test class
    model_config = _CONFIG
    candidate: str
    run: str
    start_run: str
    n_items: int
    verdict_before: str
    verdict_after: str
    reasons_after: list[str] = Field(default_factory=list)
    """Why the candidate is not TRUSTED on test (empty when it is)."""
    kappa_before: StatResult
    kappa_after: StatResult
    kappa_gain: StatResult
    accuracy_gain: StatResult
    mcnemar_p: float
    conclusion: str
    """``REAL DIFFERENCE`` / ``WITHIN NOISE`` / ``INCONCLUSIVE`` (as ``judgekit compare``)."""
    carried_over: bool
    """The test kappa gain's interval lies above 0."""
    message: str
    looks: LookSummary


class CostAccount(BaseModel):
    """Where the money went (USD), against the one budget."""

    model_config = _CONFIG
    budget: float | None
    proposer: float = 0.0
    candidates: float = 0.0
    test_look: float = 0.0

    @property
    def total(self) -> float:
        return self.proposer + self.candidates + self.test_look


class AlignmentRecord(BaseModel):
    """One alignment (see the module docstring)."""

    model_config = _CONFIG
    id: int | None = None
    name: str = ""
    """``align-N``."""
    status: RecordStatus = "running"
    created_at: str = ""
    updated_at: str = ""
    settings: AlignSettings
    rubric: str
    """The starting rubric ``ID@VERSION``."""
    start_fingerprint: str
    n_dev: int
    n_test: int
    fit_ids: list[str]
    """Dev items candidates are built from (proposer, few-shot pool, threshold calibration)."""
    select_ids: list[str]
    """Dev items the selection rule compares candidates on (never used to build one)."""
    selection_rule: str
    compared: int = 0
    """``m``: the ranked candidates the rule's Bonferroni level was fixed for (before any was judged)."""
    explanation: DisagreementReport | None = None
    proposals: list[Proposal] = Field(default_factory=list)
    candidates: list[CandidateRecord] = Field(default_factory=list)
    chosen: str | None = None
    choice: str = ""
    """Why that candidate (or none) was chosen."""
    test: TestLook | None = None
    rubric_file: str | None = None
    outcome: str = ""
    """The plain summary line."""
    cost: CostAccount = Field(default_factory=lambda: CostAccount(budget=None))
    stop_reason: str | None = None

    def candidate(self, name: str) -> CandidateRecord:
        return next(c for c in self.candidates if c.name == name)

    def replace_candidate(self, cand: CandidateRecord) -> AlignmentRecord:
        return self.model_copy(update={"candidates": [cand if c.name == cand.name else c for c in self.candidates]})
