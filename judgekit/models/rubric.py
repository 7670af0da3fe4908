"""Rubrics: what a judge and annotators are asked to decide, loaded from YAML files in ``rubrics/``.

A rubric declares its scale, and the scale's levels are the single source of truth for what labels exist:
agreement statistics are computed over the declared levels (a level nobody used still counts), labels outside
them are refused on import, and the labeling form is built from them. A scale is categorical (``binary``,
``nominal``, ``ordinal``: named levels) or ``interval`` (a number between ``min`` and ``max``).

A rubric either has one scale, or several **rated criteria**, each with its own scale (coherence 1-5, safety
pass/fail, ...), and optionally an ``overall`` rule that combines them into one overall label (all must pass, a
weighted mean, the worst case). :meth:`Rubric.view` gives the rubric as seen from one criterion (or the overall
rule): a rubric whose scale is that criterion's, so every single-scale analysis runs per criterion unchanged.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import (
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from judgekit.errors import ConfigError
from judgekit.models._base import OmitNewDefaults, StrictModel
from judgekit.models.ids import LevelValue, normalize_id
from judgekit.models.text import text_problem

MAX_VERSION = 2**31 - 1
"""Largest rubric version (a version is a whole number, written as one: ``version: 2``, not ``"2"`` or ``true``)."""
ScaleKind = Literal["binary", "nominal", "ordinal", "interval"]
TaskKind = Literal["single", "pairwise"]
ConfidenceMethod = Literal["none", "logprobs", "verbalized", "sampling"]


class Level(StrictModel):
    """One point of the scale."""

    value: LevelValue = Field(min_length=1, max_length=64)
    """The label as stored and exported (e.g. ``"pass"``, ``"3"``, ``"A"``)."""
    name: str = Field(min_length=1)
    """Short human name shown to annotators (e.g. ``"Response A is better"``)."""
    definition: str = Field(min_length=1)
    """What must be true of an item for it to get this level; shown in the labeling form and the prompt."""
    score: float | None = Field(default=None, allow_inf_nan=False)
    """Numeric value for interval statistics and means; defaults to ``value`` if it is a number."""


class Scale(OmitNewDefaults):
    """The answer space: binary, unordered categories, ordered levels, or a number on an interval."""

    _omit_at_default: ClassVar[dict[str, Any]] = {"min": None, "max": None, "step": None}

    kind: ScaleKind
    """``binary`` (two levels, one positive), ``nominal`` (unordered), ``ordinal`` (ordered, first = lowest) or
    ``interval`` (a number from ``min`` to ``max``: a 1-10 score, a 0-1 rating)."""
    levels: list[Level] = Field(default_factory=list)
    """Every admissible label, in order (for ordinal scales from lowest to highest); at least two. On an
    ``interval`` scale, optional anchors: numbers in the range whose meaning is shown to annotators and the judge
    (``1``: incoherent ... ``5``: fully coherent)."""
    positive: LevelValue | None = None
    """For binary scales: the level counted as positive (e.g. ``"pass"``) for TPR/TNR and pass rates."""
    min: float | None = Field(default=None, allow_inf_nan=False)
    """Interval scales: the lowest score."""
    max: float | None = Field(default=None, allow_inf_nan=False)
    """Interval scales: the highest score."""
    step: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    """Interval scales: the granularity people rate at (``1`` for whole numbers); a judge's score may fall between
    steps (a mean of samples, a probability-weighted score). None: any number in the range."""

    @model_validator(mode="after")
    def _consistent(self) -> Scale:
        values = [lv.value for lv in self.levels]
        if len(set(values)) != len(values):
            raise ValueError(f"level values must be unique, got {values}")
        if self.kind == "interval":
            return self._interval_consistent()
        if self.min is not None or self.max is not None or self.step is not None:
            raise ValueError(f"min, max and step belong to interval scales, not to a {self.kind} scale")
        if len(values) < 2:
            raise ValueError(f"a {self.kind} scale lists at least 2 levels, got {len(values)}")
        if self.kind == "binary":
            if len(values) != 2:
                raise ValueError(f"a binary scale has exactly 2 levels, got {len(values)}")
            if self.positive is None:
                raise ValueError("a binary scale names its positive level in 'positive'")
        if self.positive is not None and self.positive not in values:
            raise ValueError(f"positive level {self.positive!r} is not one of the levels {values}")
        return self

    def _interval_consistent(self) -> Scale:
        if self.min is None or self.max is None:
            raise ValueError("an interval scale gives its range: min and max (e.g. min: 1, max: 10)")
        if not self.min < self.max:
            raise ValueError(
                f"an interval scale needs min < max, got {format_number(self.min)} and {format_number(self.max)}"
            )
        if self.positive is not None:
            raise ValueError("'positive' belongs to binary scales; an interval scale has none")
        if self.step is not None and not _on_grid((self.max - self.min) / self.step):
            raise ValueError(
                f"step {format_number(self.step)} does not divide the range {self.describe_range()} into whole steps"
            )
        for lv in self.levels:
            try:
                self.check_value(lv.value)
            except ValueError as exc:
                raise ValueError(f"anchor {lv.value!r}: {exc}") from None
        return self

    @property
    def values(self) -> list[str]:
        """The level values in declared order (an interval scale's anchors, possibly none)."""
        return [lv.value for lv in self.levels]

    @property
    def is_interval(self) -> bool:
        """An ``interval`` scale: labels are numbers, analysed with ICC, correlations, MAE and bias."""
        return self.kind == "interval"

    def check_value(self, value: str, *, on_step: bool = True) -> str:
        """``value`` as stored, or ``ValueError`` saying what the scale admits.

        Categorical scales: one of the level values, as written. Interval scales: a finite number in
        ``[min, max]`` (and on a ``step`` when ``on_step``: people rate on the steps, a judge's score need not),
        stored in its shortest exact form (``"4.0"`` is stored as ``4``), so equal scores are equal labels.
        """
        if not self.is_interval:
            if value not in self.values:
                raise ValueError(f"{value!r} is not a level; expected one of {', '.join(self.values)}")
            return value
        assert self.min is not None and self.max is not None
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{value!r} is not a number; expected a score from {self.describe_range()}") from None
        if not math.isfinite(x) or not self.min <= x <= self.max:
            raise ValueError(f"{value!r} is outside the scale; expected a score from {self.describe_range()}")
        if on_step and self.step is not None and not _on_grid((x - self.min) / self.step):
            raise ValueError(f"{value!r} is not on the scale's steps; expected a score from {self.describe_range()}")
        return format_number(x)

    def describe(self) -> str:
        """``ordinal: 1, 2, 3`` or ``interval: 1 to 5 in steps of 1``."""
        if self.is_interval:
            return f"interval: {self.describe_range()}"
        return f"{self.kind}: {', '.join(self.values)}"

    def describe_range(self) -> str:
        """``1 to 5 in steps of 1`` (interval scales)."""
        step = "" if self.step is None else f" in steps of {format_number(self.step)}"
        return f"{format_number(self.min or 0.0)} to {format_number(self.max or 0.0)}{step}"

    def scores(self) -> list[float]:
        """Numeric value of each level: ``score`` if given, else ``value`` if numeric, else the 1-based rank."""
        out: list[float] = []
        for rank, lv in enumerate(self.levels, start=1):
            if lv.score is not None:
                out.append(lv.score)
                continue
            try:
                out.append(float(lv.value))
            except ValueError:
                out.append(float(rank))
        return out

    @property
    def stats_level(self) -> Literal["nominal", "ordinal", "interval"]:
        """Measurement level used by agreement statistics (binary counts as nominal)."""
        if self.kind == "interval":
            return "interval"
        return "ordinal" if self.kind == "ordinal" else "nominal"

    def same_answers(self, other: Scale) -> bool:
        """Both scales admit the same answers in the same order (what the worst-case rule needs)."""
        if self.kind != other.kind:
            return False
        if self.is_interval:
            return (self.min, self.max) == (other.min, other.max)
        return self.values == other.values and self.positive == other.positive


def format_number(x: float) -> str:
    """A score as stored: the shortest text that reads back as the same float, without a trailing ``.0``.

    >>> format_number(4.0), format_number(3.6666666666666665), format_number(0.25)
    ('4', '3.6666666666666665', '0.25')
    """
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(float(x))


def _on_grid(steps: float) -> bool:
    return abs(steps - round(steps)) < 1e-9 * max(1.0, abs(steps))


class Criterion(OmitNewDefaults):
    """One aspect the rater weighs (accuracy, helpfulness, safety ...); with a ``scale`` it is rated on its own."""

    _omit_at_default: ClassVar[dict[str, Any]] = {"scale": None, "pass_at": None}

    name: str = Field(min_length=1)
    """Short name (a rated criterion's name is an identifier: letters, digits, ``-``, ``_``, ``.``)."""
    description: str = Field(min_length=1)
    """What to look for."""
    scale: Scale | None = None
    """A rated criterion's own scale: annotators and the judge give a label for it, and agreement is measured on
    it. Without a scale the criterion is an aspect described to the rater of the rubric's single scale."""
    pass_at: str | float | None = None
    """For the ``all_pass`` overall rule: the lowest passing answer (an ordinal level value, or a number on an
    interval scale); a binary criterion passes on its positive level."""


OverallRuleKind = Literal["all_pass", "weighted_mean", "worst_case"]
JudgeCalls = Literal["one", "per_criterion"]
OVERALL = "overall"
"""The name of the overall rule's view of a rubric (no criterion may be called that)."""
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class OverallRule(StrictModel):
    """How a rubric with rated criteria combines them into one overall label."""

    rule: OverallRuleKind
    """``all_pass``: ``pass`` when every criterion passes (binary: its positive level; otherwise at or above
    ``pass_at``), else ``fail``. ``weighted_mean``: the weighted mean of the criteria's scores (levels' scores on
    ordinal scales, 1/0 on binary ones), on their common range, or each rescaled to 0-1 when the ranges differ.
    ``worst_case``: the lowest answer of any criterion (every criterion has the same scale)."""
    weights: dict[str, float] = Field(default_factory=dict)
    """``weighted_mean``: weight of each criterion by name (default 1)."""


class FewShotExample(OmitNewDefaults):
    """A worked example shown to the judge (static few-shot)."""

    _omit_at_default: ClassVar[dict[str, Any]] = {"criteria": {}}

    input: str
    """The instruction of the example."""
    output: str | None = None
    """The graded output (single rubrics)."""
    output_a: str | None = None
    """First output (pairwise rubrics)."""
    output_b: str | None = None
    """Second output (pairwise rubrics)."""
    label: LevelValue | None = None
    """The correct level value (rubrics with one scale)."""
    criteria: dict[str, str] = Field(default_factory=dict)
    """The correct answer for each rated criterion (rubrics with rated criteria)."""
    explanation: str | None = None
    """Why that level; shown to the judge as the example rationale."""


class ConfidenceSpec(StrictModel):
    """How the judge's confidence in its label is obtained."""

    method: ConfidenceMethod = "verbalized"
    """``logprobs``: probability mass on the label tokens; ``verbalized``: the judge states a 0-1 confidence in
    the structured reply; ``sampling``: agreement among ``samples`` independent replies; ``none``: not asked."""
    samples: int = Field(default=5, ge=2, le=50)
    """Number of samples for ``sampling``."""


class RubricLineage(StrictModel):
    """Where a rubric version came from, when it was derived from another version (``judgekit align`` writes it).

    Why it matters: a derived version that keeps its parent's scale (same levels, same kind) only changes what the
    *judge* is told (clearer definitions, decision rules, examples). People's labels given under the parent still
    answer the same question, so the derived version is measured against them: ``labels_from`` names the version
    whose human labels count for it (:attr:`Rubric.labels_version`).
    """

    parent: int = Field(ge=1)
    """The version this one was derived from."""
    labels_from: int = Field(ge=1)
    """The version whose human labels this version is measured against (the root of its family; same scale)."""
    strategy: str = Field(min_length=1)
    """How it was derived (``rules``: definitions and decision rules by a proposer model; ``fewshot``: examples from
    dev disagreements; ``manual`` ...)."""
    targets: str | None = None
    """The failure mode it targets, in words (e.g. ``people say tie, the judge says A``)."""
    changes: list[str] = Field(default_factory=list)
    """One line per change against the parent (a readable diff)."""
    record: str | None = None
    """The alignment record that produced it (``judgekit alignments ID``)."""


class Rubric(OmitNewDefaults):
    """A versioned grading rubric. Every version is kept in the project database.

    A rubric has one ``scale``, or rated ``criteria`` (each with its own scale) and an optional ``overall`` rule;
    see the module docstring and :meth:`view`.
    """

    model_config = ConfigDict(**StrictModel.model_config, serialize_by_alias=True)
    _omit_at_default: ClassVar[dict[str, Any]] = {
        "scale": None,
        "overall": None,
        "judge_calls": "one",
        "decision_rules": [],
        "lineage": None,
    }

    id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    """Stable identifier (letters, digits, ``-``, ``_``, ``.``)."""
    version: int = Field(ge=1, le=MAX_VERSION)
    """Bump whenever anything that changes the meaning of a label changes."""
    title: str = Field(min_length=1)
    """One-line human title."""
    description: str = ""
    """What the rubric is for."""
    task: TaskKind
    """``single``: grade one output; ``pairwise``: say which of two outputs is better."""
    scale_: Scale | None = Field(default=None, alias="scale")
    """The answer space. Absent when the criteria are rated (each has its own scale)."""
    criteria: list[Criterion] = Field(default_factory=list)
    """Aspects the rater weighs; when they have scales, what is rated (all of them have one, or none)."""
    overall: OverallRule | None = None
    """Rated criteria only: how they combine into one overall label (none: each criterion stands alone)."""
    judge_calls: JudgeCalls = "one"
    """Rated criteria only: ``one`` structured reply with a field per criterion, or one call ``per_criterion``
    (each sees only its criterion; costs one call per criterion)."""
    template: str = Field(min_length=1)
    """Judge instructions as a Jinja2 template, rendered in Jinja2's immutable sandbox; sees ``item_block`` (the
    item's fenced text), ``rubric``, ``levels``, ``criteria``, ``scale``, ``examples``, ``conversation``,
    ``conversation_a``, ``conversation_b`` and ``judged``."""
    few_shot: list[FewShotExample] = Field(default_factory=list)
    """Static examples shown to the judge."""
    confidence: ConfidenceSpec = Field(default_factory=ConfidenceSpec)
    """How the judge's confidence is obtained."""
    critique_required_for: list[LevelValue] = Field(default_factory=list)
    """Level values for which annotators must write a critique (e.g. the failing level); with rated criteria,
    levels of the overall rule's scale (``fail`` under ``all_pass``)."""

    decision_rules: list[str] = Field(default_factory=list)
    """Rules that settle the hard cases ("when both responses are wrong in the same way, answer tie"), shown to the
    judge in the system message, after the answer format; empty by default (then the prompt is unchanged)."""
    lineage: RubricLineage | None = None
    """Parent version, strategy and changes when this version was derived from another (``judgekit align``)."""

    _scope: str | None = PrivateAttr(default=None)
    """Set on a :meth:`view`: the criterion (or ``overall``) it shows."""
    _numeric: Scale | None = PrivateAttr(default=None)
    """Set on the ordinal stand-in an analysis codes an interval scale with: that interval scale."""

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_a_number(cls, v: Any) -> Any:
        if isinstance(v, bool | str):
            raise ValueError(f"a version is a whole number such as 2, got {v!r}")
        return v

    @field_validator("template")
    @classmethod
    def _template_nonblank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("template must not be blank")
        return v

    @model_validator(mode="after")
    def _shape(self) -> Rubric:
        rated = [c for c in self.criteria if c.scale is not None]
        if not rated:
            if self.scale_ is None:
                raise ValueError("a rubric needs a 'scale', or 'criteria' that each have a 'scale'")
            if self.overall is not None:
                raise ValueError("'overall' combines rated criteria; this rubric's criteria have no scale")
            if self.judge_calls != "one":
                raise ValueError("judge_calls: per_criterion needs rated criteria (criteria with a 'scale')")
            return self
        if self.scale_ is not None:
            raise ValueError(
                "a rubric whose criteria are rated has no top-level 'scale' (the overall label comes from 'overall')"
            )
        names = [c.name for c in self.criteria]
        for c in self.criteria:
            if c.scale is None:
                raise ValueError(f"criterion {c.name!r} has no scale: when criteria are rated, every one has a scale")
            if not _NAME.match(c.name) or c.name == OVERALL:
                raise ValueError(
                    f"criterion name {c.name!r}: a rated criterion's name uses letters, digits, '-', '_', '.' and is "
                    f"not {OVERALL!r}"
                )
            _check_pass_at(c)
        if len(set(names)) != len(names):
            raise ValueError(f"criterion names must be unique, got {names}")
        if self.overall is not None:
            _check_overall(self.overall, self.criteria)
        return self

    @model_validator(mode="after")
    def _labels_known(self) -> Rubric:
        scale = self.scale_ if self.scale_ is not None else self.overall_scale
        values = set(scale.values) if scale is not None else set()
        for lv in self.critique_required_for:
            if lv not in values:
                where = "the scale" if self.scale_ is not None else "the overall rule's scale"
                raise ValueError(f"critique_required_for names {lv!r}, which is not a level of {where}")
        for i, ex in enumerate(self.few_shot):
            if not self.is_rated:
                if ex.label is None or ex.criteria:
                    raise ValueError(f"few_shot[{i}] gives its 'label' (this rubric has one scale)")
                try:
                    self.check_label(ex.label)
                except ValueError:
                    raise ValueError(
                        f"few_shot[{i}].label {ex.label!r} is not a level of the scale {sorted(values)}"
                    ) from None
                continue
            if ex.label is not None:
                raise ValueError(f"few_shot[{i}] gives 'criteria' (one answer per criterion), not a 'label'")
            try:
                self.check_criteria(ex.criteria)
            except ValueError as exc:
                raise ValueError(f"few_shot[{i}].criteria: {exc}") from None
        for i, rule in enumerate(self.decision_rules):
            if not rule.strip():
                raise ValueError(f"decision_rules[{i}] is blank")
        if self.lineage is not None and not (self.lineage.labels_from <= self.lineage.parent < self.version):
            raise ValueError(
                f"lineage: expected labels_from <= parent < version ({self.version}), got parent "
                f"{self.lineage.parent} and labels_from {self.lineage.labels_from}"
            )
        return self

    # -- shape ---------------------------------------------------------------------------------------------------

    @property
    def key(self) -> str:
        """``id@version``, how runs and reports name a rubric version (``id@version#criterion`` for a view)."""
        base = f"{self.id}@{self.version}"
        return base if self._scope is None else f"{base}#{self._scope}"

    @property
    def labels_version(self) -> int:
        """The version whose human labels this version is measured against: its own, or for a derived version with
        the same scale, ``lineage.labels_from`` (see :class:`RubricLineage`). Every read of "the human labels of
        this rubric" goes through it."""
        return self.lineage.labels_from if self.lineage is not None else self.version

    @property
    def labels_key(self) -> str:
        """``id@labels_version``: two rubric versions with the same labels key are judged against the same labels
        (their runs can be compared item by item)."""
        base = f"{self.id}@{self.labels_version}"
        return base if self._scope is None else f"{base}#{self._scope}"

    @property
    def scope(self) -> str | None:
        """The criterion (or ``overall``) this :meth:`view` shows; None for the rubric itself."""
        return self._scope

    @property
    def interval_scale(self) -> Scale | None:
        """The interval scale this rubric's scores are on (its own, or the one an ordinal stand-in codes; see
        :func:`judgekit.agreement.data.coding_rubric`); None for a categorical scale or rated criteria."""
        if self._numeric is not None:
            return self._numeric
        if self.scale_ is not None and self.scale_.is_interval:
            return self.scale_
        return None

    @property
    def is_rated(self) -> bool:
        """The criteria are rated, each on its own scale (a :meth:`view` is not: it has one scale)."""
        return self._scope is None and any(c.scale is not None for c in self.criteria)

    @property
    def scale(self) -> Scale:
        """The rubric's one scale (a view's: its criterion's). A rubric with rated criteria has none: pick one with
        :meth:`view` (raises :class:`~judgekit.errors.ConfigError` naming them)."""
        if self.scale_ is None:
            raise ConfigError(
                f"rubric {self.key} rates {len(self.criteria)} criteria ({', '.join(self.criterion_names)}), each on "
                "its own scale; this needs a rubric with one scale (or one criterion of it)"
            )
        return self.scale_

    def describe(self) -> str:
        """One line: the task and the scale, or each rated criterion's scale and the overall rule."""
        if not self.is_rated:
            return f"{self.task}, {self.scale.describe()}"
        parts = []
        for c in self.criteria:
            assert c.scale is not None
            parts.append(f"{c.name} ({c.scale.describe()})")
        overall = f"; overall: {self.overall.rule}" if self.overall is not None else ""
        calls = "; one call per criterion" if self.judge_calls == "per_criterion" else ""
        return f"{self.task}, {len(parts)} criteria: {'; '.join(parts)}{overall}{calls}"

    @property
    def criterion_names(self) -> list[str]:
        """The rated criteria's names, in declared order (empty for a rubric with one scale, and for a view)."""
        return [c.name for c in self.criteria if c.scale is not None] if self._scope is None else []

    def criterion(self, name: str) -> Criterion:
        """A rated criterion by name (``KeyError`` naming the criteria)."""
        for c in self.criteria:
            if c.name == name and c.scale is not None and self._scope is None:
                return c
        raise KeyError(
            f"rubric {self.key} has no rated criterion {name!r} (criteria: {', '.join(self.criterion_names)})"
        )

    @property
    def overall_scale(self) -> Scale | None:
        """The scale of the overall label (None without an overall rule)."""
        if self.overall is None:
            return None
        from judgekit.models.overall import overall_scale

        return overall_scale(self.overall, self.criteria)

    def units(self) -> list[str | None]:
        """What is assessed separately: ``[None]`` (the one scale), or every rated criterion and, with an overall
        rule, ``overall``."""
        if not self.is_rated:
            return [None]
        return [*self.criterion_names, *([OVERALL] if self.overall is not None else [])]

    def view(self, name: str | None) -> Rubric:
        """The rubric as seen from one rated criterion (or ``overall``): its scale is that criterion's, its only
        criterion that one (the overall view: all of them, as context), its examples give that criterion's answer.
        Agreement, prompts and parsing of one scale then run on it unchanged; its :attr:`key` is
        ``id@version#name`` and it is not :attr:`is_rated`. ``None`` is the rubric itself (one scale). Views are
        for analysis and judging; they are never stored."""
        if name is None:
            if self.is_rated:
                raise KeyError(f"rubric {self.key} rates criteria: name one of {', '.join(self.criterion_names)}")
            return self
        if name == OVERALL:
            scale = self.overall_scale
            if scale is None:
                raise KeyError(f"rubric {self.key} has no overall rule")
            aspects = list(self.criteria)
            examples = [
                ex.model_copy(update={"label": self.record_label(ex.criteria), "criteria": {}}) for ex in self.few_shot
            ]
            critique = list(self.critique_required_for)
        else:
            c = self.criterion(name)
            scale = c.scale
            aspects = [c]
            examples = [ex.model_copy(update={"label": ex.criteria[name], "criteria": {}}) for ex in self.few_shot]
            critique = []
        out = self.model_copy(
            update={
                "scale_": scale,
                "criteria": aspects,
                "overall": None,
                "judge_calls": "one",
                "few_shot": examples,
                "critique_required_for": critique,
            }
        )
        out._scope = name
        return out

    # -- answers -------------------------------------------------------------------------------------------------

    def check_label(self, label: str, *, on_step: bool = True) -> None:
        """Raise ``ValueError`` naming the admissible answers when ``label`` is not one of them."""
        self.canonical_label(label, on_step=on_step)

    def canonical_label(self, label: str, *, on_step: bool = True) -> str:
        """``label`` as stored (a level value, or a number in its shortest form), or ``ValueError`` naming the
        admissible answers. ``on_step=False`` for a judge's score on an interval scale (see :attr:`Scale.step`)."""
        try:
            return self.scale.check_value(label, on_step=on_step)
        except ValueError as exc:
            raise ValueError(f"label {label!r} is not an answer of rubric {self.key}: {exc}") from None

    def check_criteria(self, values: Mapping[str, str], *, on_step: bool = True) -> dict[str, str]:
        """Every rated criterion's answer as stored, in declared order, or ``ValueError`` saying which is missing,
        unknown or off its scale."""
        names = self.criterion_names
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise ValueError(f"unknown criteria {unknown}; the rubric rates {', '.join(names)}")
        missing = [n for n in names if values.get(n) is None]
        if missing:
            raise ValueError(f"no answer for {', '.join(missing)}; every criterion of {self.key} needs one")
        out: dict[str, str] = {}
        for name in names:
            scale = self.criterion(name).scale
            assert scale is not None
            try:
                out[name] = scale.check_value(str(values[name]), on_step=on_step)
            except ValueError as exc:
                raise ValueError(f"criterion {name!r}: {exc}") from None
        return out

    def record_label(self, values: Mapping[str, str]) -> str:
        """The one label that stands for a rated rubric's answers (stored as the label of the label or verdict):
        the overall rule's label, or without one ``name=value; ...`` in declared order."""
        if self.overall is not None:
            from judgekit.models.overall import overall_label

            return overall_label(self.overall, self.criteria, values)
        return "; ".join(f"{n}={values[n]}" for n in self.criterion_names)

    def answer(
        self, label: str | None, criteria: Mapping[str, str] | None = None, *, on_step: bool = True
    ) -> tuple[str, dict[str, str]]:
        """``(label, criteria)`` as stored, or ``ValueError`` saying what the rubric expects: one scale's label and
        no criteria, or every rated criterion's answer (the label is then derived; one given must match it)."""
        given = dict(criteria or {})
        if not self.is_rated:
            if given:
                raise ValueError(f"rubric {self.key} has one scale: give a label, not criteria {sorted(given)}")
            if label is None:
                raise ValueError(f"rubric {self.key} needs a label")
            return self.canonical_label(self.normalize_label(label), on_step=on_step), {}
        values = self.check_criteria(given, on_step=on_step)
        record = self.record_label(values)
        if label is not None and label != record:
            raise ValueError(
                f"label {label!r} does not match the criteria: rubric {self.key} derives {record!r} from them "
                "(leave the label out)"
            )
        return record, values

    def record_verdict(self, answers: Mapping[str, tuple[str, str | None]]) -> tuple[str, str | None]:
        """``(status, label)`` of a verdict from each rated criterion's ``(status, label)``: ``ok`` with the
        :meth:`record_label` when every criterion is ``ok``, else the status of the first criterion (in declared
        order) that is not, and no label."""
        for name in self.criterion_names:
            status, _ = answers[name]
            if status != "ok":
                return status, None
        return "ok", self.record_label({n: str(answers[n][1]) for n in self.criterion_names})

    def normalize_label(self, label: str) -> str:
        """``label`` normalised as level values are (NFC, no surrounding whitespace); unchanged when it cannot be."""
        try:
            return normalize_id(label)
        except ValueError:
            return label

    def check_answer(self, label: str, critique: str | None) -> tuple[str, str | None]:
        """An annotator's answer as it is stored, or ``ValueError`` saying what the rubric requires.

        The one validation of a human label, shared by the labeling app's submit and by ``judgekit import labels``:
        the label is normalised as ids are (:func:`~judgekit.models.ids.normalize_id`: ``"pass "`` is ``pass``) and
        must be a level of the scale; the critique is stripped (blank means none) and required for the levels in
        :attr:`critique_required_for`. Returns ``(label, critique)``.
        """
        if self.is_rated:  # the overall label, derived from the criteria's answers by :meth:`answer`
            value = label
            scale = self.overall_scale
        else:
            value = self.canonical_label(self.normalize_label(label))
            scale = self.scale
        text = (critique or "").strip() or None
        problem = None if text is None else text_problem(text)
        if problem is not None:
            raise ValueError(f"the critique {problem}")
        if text is None and value in self.critique_required_for:
            level = next((lv.name for lv in scale.levels if lv.value == value), value) if scale else value
            raise ValueError(f"a critique is required for '{level}' ({value}): say briefly why")
        return value, text


def _check_pass_at(c: Criterion) -> None:
    scale = c.scale
    if c.pass_at is None or scale is None:
        return
    if scale.kind in ("binary", "nominal"):
        raise ValueError(
            f"criterion {c.name!r}: pass_at is for ordinal and interval scales (a binary criterion passes on its "
            "positive level)"
        )
    from judgekit.models.overall import pass_bar

    try:
        scale.check_value(pass_bar(c), on_step=False)
    except ValueError as exc:
        raise ValueError(f"criterion {c.name!r}: pass_at {exc}") from None


def _check_overall(rule: OverallRule, criteria: list[Criterion]) -> None:
    from judgekit.models.overall import check_rule

    check_rule(rule, criteria)


def load_rubric(path: str | Path) -> Rubric:
    """Load and validate a rubric YAML file; errors name the file and the field.

    The optional first line ``# yaml-language-server: $schema=...`` lets editors validate the file against
    ``rubrics/rubric.schema.json``; a ``$schema`` key is accepted and ignored.
    """
    import yaml

    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read rubric: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{p}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02X}): save the rubric as UTF-8"
        ) from None
    try:
        data = yaml.load(text, Loader=_rubric_loader())  # a SafeLoader, stricter still
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{p}{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    return rubric_from_dict(data, source=str(p), text=text)


@lru_cache(maxsize=1)
def _rubric_loader() -> Any:
    """``yaml.SafeLoader`` that also refuses a key repeated in one mapping (PyYAML silently keeps the last, so a
    second ``version:`` would win unseen) and more than :data:`MAX_ALIASES` alias references (nested anchors
    expand exponentially: a few lines can stand for billions of values)."""
    import yaml
    from yaml.constructor import ConstructorError

    class Loader(yaml.SafeLoader):
        aliases = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                self.aliases += 1
                if self.aliases > MAX_ALIASES:
                    event = self.peek_event()
                    raise ConstructorError(
                        None, None, f"more than {MAX_ALIASES} alias references (*name)", event.start_mark
                    )
            return super().compose_node(parent, index)

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if isinstance(key, str | int | float | bool) and key in seen:
                    raise ConstructorError(
                        None, None, f"the key {key!r} appears twice in one mapping", key_node.start_mark
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return Loader


MAX_ALIASES = 100
"""Alias references a rubric file may hold."""


def rubric_from_dict(data: Any, *, source: str = "<rubric>", text: str | None = None) -> Rubric:
    """Validate a parsed rubric mapping, re-raising validation errors as one readable :class:`ConfigError`; with
    the YAML ``text`` it came from, each problem names its line."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a rubric is a mapping of fields, got {type(data).__name__}")
    data = {k: v for k, v in data.items() if k != "$schema"}
    try:
        return Rubric.model_validate(data, strict=False)
    except ValidationError as exc:
        errors = exc.errors()
        lines = [_yaml_line(text, err["loc"]) if text is not None else None for err in errors[:5]]
        problems = "; ".join(
            f"field '{'.'.join(str(x) for x in err['loc']) or '<root>'}'"
            + (f" (line {line})" if line is not None else "")
            + f": {_rubric_problem(err)}"
            for err, line in zip(errors[:5], lines, strict=True)
        )
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        where = f"{source}:{lines[0]}" if lines and lines[0] is not None else source
        raise ConfigError(f"{where}: invalid rubric: {problems}{more}") from None


def _rubric_problem(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown field (check the spelling; the fields are in rubrics/rubric.schema.json)"
    return str(err["msg"]).removeprefix("Value error, ")


def _yaml_line(text: str, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML node at ``loc`` (a pydantic error location), or of its nearest parent that
    exists (a missing field is reported where its mapping starts). Only run on the error path."""
    import yaml

    try:
        node = yaml.compose(text, Loader=_rubric_loader())
    except yaml.YAMLError:
        return None
    line = None if node is None else node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if getattr(k, "value", None) == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            child = node.value[part]
        else:
            child = None
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def rubric_json_schema() -> dict[str, Any]:
    """The JSON Schema published as ``rubrics/rubric.schema.json`` (generated from :class:`Rubric`)."""
    schema = Rubric.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/judgekit/judgekit/rubrics/rubric.schema.json"
    schema.setdefault("properties", {})["$schema"] = {"type": "string", "description": "Ignored by judgekit."}
    return schema


def rubric_json_schema_text() -> str:
    """The schema as committed to the repository (stable formatting, so a test can compare it byte for byte)."""
    return json.dumps(rubric_json_schema(), indent=2, sort_keys=True) + "\n"
