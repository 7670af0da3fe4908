"""Rubrics: what a judge and annotators are asked to decide, loaded from YAML files in ``rubrics/``.

A rubric declares its scale, and the scale's levels are the single source of truth for what labels exist:
agreement statistics are computed over the declared levels (a level nobody used still counts), labels outside
them are refused on import, and the labeling form is built from them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from judgekit.errors import ConfigError
from judgekit.models._base import StrictModel

ScaleKind = Literal["binary", "nominal", "ordinal"]
TaskKind = Literal["single", "pairwise"]
ConfidenceMethod = Literal["none", "logprobs", "verbalized", "sampling"]


class Level(StrictModel):
    """One point of the scale."""

    value: str = Field(min_length=1, max_length=64)
    """The label as stored and exported (e.g. ``"pass"``, ``"3"``, ``"A"``)."""
    name: str = Field(min_length=1)
    """Short human name shown to annotators (e.g. ``"Response A is better"``)."""
    definition: str = Field(min_length=1)
    """What must be true of an item for it to get this level; shown in the labeling form and the prompt."""
    score: float | None = None
    """Numeric value for interval statistics and means; defaults to ``value`` if it is a number."""


class Scale(StrictModel):
    """The answer space: binary, unordered categories, or ordered levels."""

    kind: ScaleKind
    """``binary`` (two levels, one positive), ``nominal`` (unordered) or ``ordinal`` (ordered, first = lowest)."""
    levels: list[Level] = Field(min_length=2)
    """Every admissible label, in order (for ordinal scales from lowest to highest)."""
    positive: str | None = None
    """For binary scales: the level counted as positive (e.g. ``"pass"``) for TPR/TNR and pass rates."""

    @model_validator(mode="after")
    def _consistent(self) -> Scale:
        values = [lv.value for lv in self.levels]
        if len(set(values)) != len(values):
            raise ValueError(f"level values must be unique, got {values}")
        if self.kind == "binary":
            if len(values) != 2:
                raise ValueError(f"a binary scale has exactly 2 levels, got {len(values)}")
            if self.positive is None:
                raise ValueError("a binary scale names its positive level in 'positive'")
        if self.positive is not None and self.positive not in values:
            raise ValueError(f"positive level {self.positive!r} is not one of the levels {values}")
        return self

    @property
    def values(self) -> list[str]:
        """The level values in declared order."""
        return [lv.value for lv in self.levels]

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
    def stats_level(self) -> Literal["nominal", "ordinal"]:
        """Measurement level used by agreement statistics (binary counts as nominal)."""
        return "ordinal" if self.kind == "ordinal" else "nominal"


class Criterion(StrictModel):
    """One aspect the rater weighs (accuracy, helpfulness, safety ...)."""

    name: str = Field(min_length=1)
    """Short name."""
    description: str = Field(min_length=1)
    """What to look for."""


class FewShotExample(StrictModel):
    """A worked example shown to the judge (static few-shot)."""

    input: str
    """The instruction of the example."""
    output: str | None = None
    """The graded output (single rubrics)."""
    output_a: str | None = None
    """First output (pairwise rubrics)."""
    output_b: str | None = None
    """Second output (pairwise rubrics)."""
    label: str
    """The correct level value."""
    explanation: str | None = None
    """Why that level; shown to the judge as the example rationale."""


class ConfidenceSpec(StrictModel):
    """How the judge's confidence in its label is obtained."""

    method: ConfidenceMethod = "verbalized"
    """``logprobs``: probability mass on the label tokens; ``verbalized``: the judge states a 0-1 confidence in
    the structured reply; ``sampling``: agreement among ``samples`` independent replies; ``none``: not asked."""
    samples: int = Field(default=5, ge=2, le=50)
    """Number of samples for ``sampling``."""


class Rubric(StrictModel):
    """A versioned grading rubric. Every version is kept in the project database."""

    id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    """Stable identifier (letters, digits, ``-``, ``_``, ``.``)."""
    version: int = Field(ge=1)
    """Bump whenever anything that changes the meaning of a label changes."""
    title: str = Field(min_length=1)
    """One-line human title."""
    description: str = ""
    """What the rubric is for."""
    task: TaskKind
    """``single``: grade one output; ``pairwise``: say which of two outputs is better."""
    scale: Scale
    """The answer space."""
    criteria: list[Criterion] = Field(default_factory=list)
    """Aspects the rater weighs."""
    template: str = Field(min_length=1)
    """Judge instructions as a Jinja2 template, rendered in Jinja2's immutable sandbox; sees ``item_block`` (the
    item's fenced text), ``rubric``, ``levels``, ``criteria``, ``examples``, ``conversation``, ``conversation_a``,
    ``conversation_b`` and ``judged``."""
    few_shot: list[FewShotExample] = Field(default_factory=list)
    """Static examples shown to the judge."""
    confidence: ConfidenceSpec = Field(default_factory=ConfidenceSpec)
    """How the judge's confidence is obtained."""
    critique_required_for: list[str] = Field(default_factory=list)
    """Level values for which annotators must write a critique (e.g. the failing level)."""

    @field_validator("template")
    @classmethod
    def _template_nonblank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("template must not be blank")
        return v

    @model_validator(mode="after")
    def _labels_known(self) -> Rubric:
        values = set(self.scale.values)
        for lv in self.critique_required_for:
            if lv not in values:
                raise ValueError(f"critique_required_for names {lv!r}, which is not a level of the scale")
        for i, ex in enumerate(self.few_shot):
            if ex.label not in values:
                raise ValueError(f"few_shot[{i}].label {ex.label!r} is not a level of the scale {sorted(values)}")
        return self

    @property
    def key(self) -> str:
        """``id@version``, how runs and reports name a rubric version."""
        return f"{self.id}@{self.version}"

    def check_label(self, label: str) -> None:
        """Raise ``ValueError`` naming the admissible levels when ``label`` is not one of them."""
        if label not in self.scale.values:
            raise ValueError(
                f"label {label!r} is not a level of rubric {self.key}; expected one of {', '.join(self.scale.values)}"
            )


def load_rubric(path: str | Path) -> Rubric:
    """Load and validate a rubric YAML file; errors name the file and the field.

    The optional first line ``# yaml-language-server: $schema=...`` lets editors validate the file against
    ``rubrics/rubric.schema.json``; a ``$schema`` key is accepted and ignored.
    """
    import yaml

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read rubric: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{p}{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    return rubric_from_dict(data, source=str(p))


def rubric_from_dict(data: Any, *, source: str = "<rubric>") -> Rubric:
    """Validate a parsed rubric mapping, re-raising validation errors as one readable :class:`ConfigError`."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a rubric is a mapping of fields, got {type(data).__name__}")
    data = {k: v for k, v in data.items() if k != "$schema"}
    try:
        return Rubric.model_validate(data, strict=False)
    except ValidationError as exc:
        problems = "; ".join(
            f"field '{'.'.join(str(x) for x in err['loc']) or '<root>'}': {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{source}: invalid rubric: {problems}") from None


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
