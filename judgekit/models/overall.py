"""The overall rule of a rubric with rated criteria: one overall label from the criteria's answers.

Three rules (``Rubric.overall.rule``), each a pure function of the answers, so the overall label of a person's
answers and of a judge's answers is derived the same way (and stored with them, never asked for separately):

* ``all_pass``: ``pass`` when every criterion passes, else ``fail`` (a binary scale: pass is positive). A binary
  criterion passes on its positive level; an ordinal one at or above its ``pass_at`` level; an interval one at or
  above its ``pass_at`` score. Nominal criteria have no order and cannot take part.
* ``worst_case``: the lowest answer of any criterion; every criterion has the same scale (the same ordinal levels,
  the same binary levels, or the same interval range), which is the overall scale.
* ``weighted_mean``: ``sum_i w_i s_i / sum_i w_i`` over the criteria's scores ``s_i`` (an interval scale's number,
  an ordinal level's score, 1 for a binary criterion's positive level and 0 for the other), on the criteria's
  common range; when the ranges differ every score is first rescaled to 0-1, ``(s - low) / (high - low)``, and
  the overall scale is 0-1. Nominal criteria have no scores and cannot take part.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from judgekit.models.rubric import Criterion, OverallRule, Scale

__all__ = ["check_rule", "criterion_score", "overall_label", "overall_scale", "pass_bar", "passes", "score_range"]


def check_rule(rule: OverallRule, criteria: Sequence[Criterion]) -> None:
    """``ValueError`` saying why ``rule`` cannot combine ``criteria`` (nothing when it can)."""
    names = [c.name for c in criteria]
    scales = [c.scale for c in criteria]
    assert all(s is not None for s in scales)
    unknown = sorted(set(rule.weights) - set(names))
    if unknown:
        raise ValueError(f"overall.weights names {unknown}, which are not criteria ({', '.join(names)})")
    if rule.weights and rule.rule != "weighted_mean":
        raise ValueError(f"overall.weights belong to the weighted_mean rule, not to {rule.rule}")
    if any(w <= 0 for w in rule.weights.values()):
        raise ValueError("overall.weights are positive numbers")
    nominal = [c.name for c in criteria if c.scale is not None and c.scale.kind == "nominal"]
    if nominal and rule.rule != "worst_case":
        raise ValueError(f"the {rule.rule} rule needs ordered answers; criteria {nominal} are nominal")
    if rule.rule == "all_pass":
        no_bar = [c.name for c in criteria if c.scale is not None and c.scale.kind != "binary" and c.pass_at is None]
        if no_bar:
            raise ValueError(f"the all_pass rule needs pass_at (the lowest passing answer) for {no_bar}")
    if rule.rule == "worst_case":
        first = scales[0]
        assert first is not None
        if first.kind == "nominal":
            raise ValueError("the worst_case rule needs ordered answers; nominal criteria have no worst")
        if any(s is None or not first.same_answers(s) for s in scales[1:]):
            raise ValueError("the worst_case rule needs every criterion on the same scale (same levels or range)")


def score_range(scale: Scale) -> tuple[float, float]:
    """Lowest and highest score of a scale (see :func:`criterion_score`)."""
    if scale.is_interval:
        assert scale.min is not None and scale.max is not None
        return scale.min, scale.max
    if scale.kind == "binary" and all(lv.score is None for lv in scale.levels):
        return 0.0, 1.0
    scores = scale.scores()
    return min(scores), max(scores)


def criterion_score(scale: Scale, value: str) -> float:
    """The score of one answer: the number (interval), the level's score (ordinal; see ``Scale.scores``), or 1 for
    the positive level of a binary scale and 0 for the other (unless the levels give scores)."""
    if scale.is_interval:
        return float(value)
    if scale.kind == "binary" and all(lv.score is None for lv in scale.levels):
        return 1.0 if value == scale.positive else 0.0
    return scale.scores()[scale.values.index(value)]


def passes(criterion: Criterion, value: str) -> bool:
    """Whether an answer passes the criterion (for ``all_pass``): positive level, or at least ``pass_at``."""
    scale = criterion.scale
    assert scale is not None
    if scale.kind == "binary":
        return value == scale.positive
    bar = pass_bar(criterion)
    if scale.is_interval:
        return float(value) >= float(bar)
    return scale.values.index(value) >= scale.values.index(bar)


def pass_bar(criterion: Criterion) -> str:
    """A criterion's ``pass_at`` as an answer of its scale (a YAML ``4`` for the ordinal level ``"4"`` is ``4``)."""
    from judgekit.models.rubric import format_number

    bar = criterion.pass_at
    assert bar is not None
    return format_number(bar) if isinstance(bar, float) else bar


def _common_range(criteria: Sequence[Criterion]) -> tuple[float, float] | None:
    ranges = {score_range(c.scale) for c in criteria if c.scale is not None}
    return next(iter(ranges)) if len(ranges) == 1 else None


def overall_scale(rule: OverallRule, criteria: Sequence[Criterion]) -> Scale:
    """The scale of the overall label under ``rule`` (see the module docstring)."""
    from judgekit.models.rubric import Level, Scale

    if rule.rule == "all_pass":
        return Scale(
            kind="binary",
            positive="pass",
            levels=[
                Level(value="pass", name="Pass", definition="Every criterion passes."),
                Level(value="fail", name="Fail", definition="At least one criterion does not pass."),
            ],
        )
    if rule.rule == "worst_case":
        first = criteria[0].scale
        assert first is not None
        return first
    common = _common_range(criteria)
    low, high = common if common is not None else (0.0, 1.0)
    return Scale(kind="interval", min=low, max=high)


def overall_label(rule: OverallRule, criteria: Sequence[Criterion], values: Mapping[str, str]) -> str:
    """The overall label of one set of answers (every criterion's, already checked against its scale)."""
    from judgekit.models.rubric import format_number

    if rule.rule == "all_pass":
        return "pass" if all(passes(c, values[c.name]) for c in criteria) else "fail"
    if rule.rule == "worst_case":
        scale = criteria[0].scale
        assert scale is not None
        answers = [values[c.name] for c in criteria]
        if scale.is_interval:
            return format_number(min(float(a) for a in answers))
        if scale.kind == "binary":
            negative = next(v for v in scale.values if v != scale.positive)
            return negative if negative in answers else answers[0]
        return min(answers, key=scale.values.index)
    common = _common_range(criteria)
    total = weight = 0.0
    for c in criteria:
        assert c.scale is not None
        s = criterion_score(c.scale, values[c.name])
        if common is None:
            low, high = score_range(c.scale)
            s = (s - low) / (high - low)
        w = rule.weights.get(c.name, 1.0)
        total += w * s
        weight += w
    return format_number(total / weight)
