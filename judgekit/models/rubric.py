"""Rubrics: what a judge and annotators are asked to decide, loaded from YAML files in ``rubrics/``.

A rubric declares its scale, and the scale's levels are the single source of truth for what labels exist:
agreement statistics are computed over the declared levels (a level nobody used still counts), labels outside
them are refused on import, and the labeling form is built from them.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from judgekit.errors import ConfigError
from judgekit.models._base import StrictModel
from judgekit.models.ids import LevelValue, normalize_id

MAX_VERSION = 2**31 - 1
"""Largest rubric version (a version is a whole number, written as one: ``version: 2``, not ``"2"`` or ``true``)."""
ScaleKind = Literal["binary", "nominal", "ordinal"]
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


class Scale(StrictModel):
    """The answer space: binary, unordered categories, or ordered levels."""

    kind: ScaleKind
    """``binary`` (two levels, one positive), ``nominal`` (unordered) or ``ordinal`` (ordered, first = lowest)."""
    levels: list[Level] = Field(min_length=2)
    """Every admissible label, in order (for ordinal scales from lowest to highest)."""
    positive: LevelValue | None = None
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
    label: LevelValue
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
    version: int = Field(ge=1, le=MAX_VERSION)
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
    critique_required_for: list[LevelValue] = Field(default_factory=list)
    """Level values for which annotators must write a critique (e.g. the failing level)."""

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
        value = self.normalize_label(label)
        self.check_label(value)
        text = (critique or "").strip() or None
        if text is None and value in self.critique_required_for:
            level = next(lv.name for lv in self.scale.levels if lv.value == value)
            raise ValueError(f"a critique is required for '{level}' ({value}): say briefly why")
        return value, text


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
