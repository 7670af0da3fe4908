"""One judge call per rated criterion (a rubric with ``judge_calls: per_criterion``): what each call asks.

Why a rubric asks for it: in one structured reply, a judge's answers to a rubric's criteria lean on each other (a
reply it found unhelpful it tends to mark ungrounded too: the halo effect of multi-aspect rating, Thorndike 1920;
observed for LLM judges by Liu et al. 2023, *G-Eval*, who score each aspect in its own call). One call per
criterion keeps the answers apart, at the price of one call per criterion: an item of a rubric with N criteria
costs N calls, and about N times the prompt tokens (each call carries the material again).

Each call is the one-scale request of the rubric's :meth:`~judgekit.models.Rubric.view` of that criterion: the
prompt states only that criterion and its scale, the reply schema has that one answer (``rationale``, ``label``,
maybe ``confidence``), and it is read by that scale's parser. Its cache key is its own, so an item's criteria are
paid for one by one: an interrupted run's resume pays only for the criteria that had no reply yet, and a criterion
whose call failed after its retries is asked again by a resume while the others are served from the cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from judgekit.judging.parse import ReplyParser
from judgekit.judging.prompts import MessageBuilder
from judgekit.judging.providers.registry import Capabilities
from judgekit.judging.request import RequestTemplate
from judgekit.models import FewShotExample, JudgeConfig, Rubric

UNANSWERED = "unanswered"
"""Key of a verdict's ``extra``: the criteria whose calls got no reply after their retries (429s, 5xx, timeouts).
Their answers are ``api_error``; ``judgekit judge --resume`` asks them again and replaces the verdict."""
CALLS = "criteria_calls"
"""Key of a verdict's ``extra``: per criterion, its calls, cache hits, tokens and cost (``cost_usd``, ``None``
when the model has no price)."""


@dataclass(frozen=True)
class CriterionCall:
    """What the calls of one criterion are made of, for every item of a run."""

    name: str
    rubric: Rubric
    """The rubric's view of the criterion (one scale: the criterion's)."""
    template: RequestTemplate
    """Its requests: the view's reply schema, so its cache keys differ from every other criterion's."""
    messages: MessageBuilder
    parser: ReplyParser


def criterion_examples(examples: Sequence[FewShotExample], name: str) -> list[FewShotExample]:
    """Few-shot examples as one criterion's call shows them: that criterion's answer as the example's label
    (examples that give no answer for it are left out)."""
    return [
        ex.model_copy(update={"label": ex.criteria[name], "criteria": {}})
        for ex in examples
        if ex.criteria.get(name) is not None
    ]


def criterion_calls(
    rubric: Rubric,
    config: JudgeConfig,
    capabilities: Capabilities,
    base_url: str | None,
    *,
    static_examples: Sequence[FewShotExample] | None,
) -> list[CriterionCall]:
    """The calls of each rated criterion of ``rubric`` in declared order (``static_examples``: the examples every
    item shares, ``None`` when they differ per item)."""
    out: list[CriterionCall] = []
    for name in rubric.criterion_names:
        view = rubric.view(name)
        template = RequestTemplate.for_run(config, view, capabilities, base_url)
        shared = None if static_examples is None else criterion_examples(static_examples, name)
        out.append(
            CriterionCall(
                name=name,
                rubric=view,
                template=template,
                messages=MessageBuilder(view, verbalized=template.verbalized, static_examples=shared),
                parser=ReplyParser(view, verbalized=template.verbalized),
            )
        )
    return out
