"""Turning an item's replies into its verdict: the label (never coerced), its confidence, its cost.

One item may take several replies: ``sampling`` confidence asks ``n`` times, and an unreadable reply is sent back
with the reason (bounded repairs). This module decides what those replies amount to; the calls themselves are made
by :mod:`judgekit.judging.calls`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from judgekit.judging.calls import CallFailed, Usage
from judgekit.judging.confidence import logprob_confidence, sampling_vote
from judgekit.judging.items import ItemVariant
from judgekit.judging.parse import Parsed, make_parser
from judgekit.judging.per_criterion import CALLS, UNANSWERED
from judgekit.judging.providers.base import ProviderReply
from judgekit.judging.request import RequestTemplate
from judgekit.models import (
    ConfidenceSource,
    CriterionVerdict,
    Item,
    JudgeVerdict,
    Rubric,
    Scale,
    VerdictStatus,
    format_number,
)

Outcome = tuple[Parsed, ProviderReply]
"""One sample's reading and the reply it was read from."""


class VerdictMaker:
    """Reads replies and builds the verdicts of one run."""

    def __init__(self, rubric: Rubric, template: RequestTemplate, variant: ItemVariant | None = None) -> None:
        self.rubric = rubric
        self.method = template.method
        self.samples = template.samples
        self.parser = make_parser(rubric, verbalized=template.verbalized)
        self.variant = variant

    def parse(self, reply: ProviderReply) -> Parsed:
        return self.parser.parse(reply)

    def notes(self, item: Item) -> dict[str, Any]:
        """The verdict's ``extra`` fields that come from the item's variant (probes)."""
        extra: dict[str, Any] = {}
        if self.variant is not None:
            extra["variant"] = self.variant.name
            if self.variant.note is not None:
                extra.update(self.variant.note(item))
        return extra

    def from_cache(
        self, item: Item, replies: list[ProviderReply], *, repairs_allowed: bool, usage: Usage | None = None
    ) -> JudgeVerdict | None:
        """The verdict of an item whose every reply is cached, or ``None`` when a reply does not parse and a repair
        is allowed (the repair request may need a call). ``usage``: what the replies cost when they were not cache
        hits (the results of the run's own provider batches); default: all hits."""
        usage = usage or Usage(hits=len(replies))
        outcomes = read_cached(self.parser.parse, replies, usage, repairs_allowed=repairs_allowed)
        return None if outcomes is None else self.from_outcomes(item, outcomes, usage)

    def from_outcomes(self, item: Item, outcomes: list[Outcome], usage: Usage) -> JudgeVerdict:
        """The verdict of ``item`` from its samples' readings."""
        extra = self.notes(item)
        raw = usage.raws[-1] if len(usage.raws) == 1 else "\n---\n".join(usage.raws)
        if usage.calls + usage.hits > self.samples:
            extra["parse_attempts"] = usage.calls + usage.hits
        mapl = self.variant.map_label if self.variant else (lambda x: x)
        if self.rubric.is_rated:
            return self._rated(item, outcomes, usage, extra, raw, mapl)
        if self.method == "sampling" and self.rubric.scale.is_interval:
            score, labels = mean_score([p for p, _ in outcomes], mapl)
            extra.update({"sample_labels": labels, "samples_failed": sum(x is None for x in labels)})
            if score is None:
                first_bad = outcomes[0][0]
                return self.verdict(
                    item, usage, status=first_bad.status, raw=raw, extra=extra, rationale=first_bad.rationale
                )
            rationale = next((p.rationale for p, _ in outcomes if p.status == "ok"), None)
            return self.verdict(item, usage, status="ok", label=score, raw=raw, extra=extra, rationale=rationale)
        if self.method == "sampling":
            labels = [mapl(p.label) if p.status == "ok" and p.label else None for p, _ in outcomes]
            label, share, tied = sampling_vote(labels)
            extra.update({"sample_labels": labels, "samples_failed": sum(x is None for x in labels)})
            if tied:
                extra["sample_tie"] = True
            if label is None:
                first_bad = outcomes[0][0]
                return self.verdict(
                    item, usage, status=first_bad.status, raw=raw, extra=extra, rationale=first_bad.rationale
                )
            rationale = next((p.rationale for p, _ in outcomes if p.label and mapl(p.label) == label), None)
            return self.verdict(
                item,
                usage,
                status="ok",
                label=label,
                confidence=share,
                source="sampling",
                raw=raw,
                extra=extra,
                rationale=rationale,
            )
        parsed, reply = outcomes[0]
        if parsed.status != "ok" or parsed.label is None:
            if parsed.error and parsed.status == "parse_error":
                extra["parse_error"] = parsed.error
            return self.verdict(item, usage, status=parsed.status, raw=raw, extra=extra, rationale=parsed.rationale)
        conf: float | None = None
        source = "none"
        if self.method == "verbalized":
            conf, source = parsed.confidence, "verbalized"
        elif self.method == "logprobs":
            conf, probs = logprob_confidence(reply, parsed.label, self.rubric.scale.values)
            if conf is not None:
                source = "logprobs"
                extra["label_probs"] = {mapl(k): round(v, 6) for k, v in probs.items()}
            else:
                extra["confidence_missing"] = "label token not found in the logprobs"
        return self.verdict(
            item,
            usage,
            status="ok",
            label=mapl(parsed.label),
            confidence=conf,
            source=source,
            raw=raw,
            extra=extra,
            rationale=parsed.rationale,
        )

    def _rated(
        self,
        item: Item,
        outcomes: list[Outcome],
        usage: Usage,
        extra: dict[str, Any],
        raw: str | None,
        mapl: Callable[[str], str],
    ) -> JudgeVerdict:
        """The verdict of an item under a rubric with rated criteria: each criterion's answer from the replies
        (sampling: the most frequent label with its share as confidence, or the mean score on an interval scale),
        the status and overall label derived from them (:meth:`Rubric.record_verdict`)."""
        answers: dict[str, CriterionVerdict] = {}
        samples: dict[str, list[str | None]] = {}
        for name in self.rubric.criterion_names:
            readings = [_reading(p, name) for p, _ in outcomes]
            if self.method == "sampling":
                answers[name], samples[name] = _sampled(self.rubric.criterion(name).scale, readings, mapl)
                continue
            r = readings[0]
            if r.status != "ok" or r.label is None:
                answers[name] = CriterionVerdict(status=r.status, rationale=r.rationale)
                continue
            verbal = self.method == "verbalized" and r.confidence is not None
            answers[name] = CriterionVerdict(
                label=mapl(r.label),
                rationale=r.rationale,
                confidence=r.confidence if verbal else None,
                confidence_source="verbalized" if verbal else "none",
            )
        if samples:
            extra["sample_labels"] = samples
        first = outcomes[0][0]
        if first.error and first.status == "parse_error":
            extra["parse_error"] = first.error
        status, label = self.rubric.record_verdict({n: (a.status, a.label) for n, a in answers.items()})
        rationale = "\n".join(f"{n}: {a.rationale}" for n, a in answers.items() if a.rationale) or first.rationale
        verdict = self.verdict(item, usage, status=status, label=label, raw=raw, extra=extra, rationale=rationale)
        return verdict.model_copy(update={"criteria": answers})

    def from_criteria(
        self,
        item: Item,
        answers: Mapping[str, list[Outcome] | CallFailed],
        usages: Mapping[str, Usage],
        levels: Mapping[str, Sequence[str]],
    ) -> JudgeVerdict:
        """The verdict of ``item`` from one call per rated criterion (``judge_calls: per_criterion``): each
        criterion's samples' readings, or the :class:`CallFailed` of its call (that criterion is ``api_error``,
        the others keep their answers; one that got no reply after its retries is listed under
        :data:`~judgekit.judging.per_criterion.UNANSWERED` for a resume). ``usages``: each criterion's calls;
        ``levels``: each criterion's level values (for its log-probabilities). The status and overall label come
        from the answers (:meth:`Rubric.record_verdict`), as with one reply."""
        extra = self.notes(item)
        mapl = self.variant.map_label if self.variant else (lambda x: x)
        out: dict[str, CriterionVerdict] = {}
        samples: dict[str, list[str | None]] = {}
        failed: dict[str, str] = {}
        unanswered: list[str] = []
        errors: dict[str, str] = {}
        for name, got in answers.items():
            if isinstance(got, CallFailed):
                out[name] = CriterionVerdict(status="api_error")
                failed[name] = str(got)
                if not got.permanent:
                    unanswered.append(name)
                continue
            scale = self.rubric.criterion(name).scale
            assert scale is not None
            if self.method == "sampling":
                out[name], samples[name] = _sampled(scale, [p for p, _ in got], mapl)
                continue
            parsed, reply = got[0]
            if parsed.status != "ok" or parsed.label is None:
                out[name] = CriterionVerdict(status=parsed.status, rationale=parsed.rationale)
                if parsed.error and parsed.status == "parse_error":
                    errors[name] = parsed.error
                continue
            conf, source = None, "none"
            if self.method == "verbalized" and parsed.confidence is not None:
                conf, source = parsed.confidence, "verbalized"
            elif self.method == "logprobs" and not scale.is_interval:
                conf, _ = logprob_confidence(reply, parsed.label, levels[name])
                source = "logprobs" if conf is not None else "none"
            out[name] = CriterionVerdict(
                label=mapl(parsed.label),
                rationale=parsed.rationale,
                confidence=conf,
                confidence_source=cast(ConfidenceSource, source),
            )
        if samples:
            extra["sample_labels"] = samples
        if errors:
            extra["parse_error"] = "; ".join(f"{n}: {e}" for n, e in errors.items())
        if failed:
            extra["criteria_failed"] = failed
        if unanswered:
            extra[UNANSWERED] = unanswered
        extra[CALLS] = {
            n: {
                "calls": u.calls,
                "cache_hits": u.hits,
                "input_tokens": u.input_tokens,
                "output_tokens": u.output_tokens,
                "cost_usd": (round(u.cost, 8) if u.cost_known else None) if u.calls else 0.0,
            }
            for n, u in usages.items()
        }
        total = Usage()
        for u in usages.values():
            total.input_tokens += u.input_tokens
            total.output_tokens += u.output_tokens
            total.cost += u.cost
            total.cost_known = total.cost_known and u.cost_known
            total.latency += u.latency
            total.calls += u.calls
            total.hits += u.hits
        raw = "\n---\n".join(f"{n}: {r}" for n, u in usages.items() for r in u.raws) or None
        if any(u.calls + u.hits > self.samples for u in usages.values()):
            extra["parse_attempts"] = {n: u.calls + u.hits for n, u in usages.items()}
        status, label = self.rubric.record_verdict({n: (a.status, a.label) for n, a in out.items()})
        rationale = "\n".join(f"{n}: {a.rationale}" for n, a in out.items() if a.rationale) or None
        verdict = self.verdict(item, total, status=status, label=label, raw=raw, extra=extra, rationale=rationale)
        return verdict.model_copy(update={"criteria": out})

    def api_error(self, item: Item, usage: Usage, message: str) -> JudgeVerdict:
        """The verdict of an item the provider refused to answer (HTTP 400)."""
        return self.verdict(item, usage, status="api_error", raw=message, extra=self.notes(item))

    def verdict(
        self,
        item: Item,
        usage: Usage,
        *,
        status: str,
        raw: str | None,
        extra: dict[str, Any],
        label: str | None = None,
        confidence: float | None = None,
        source: str = "none",
        rationale: str | None = None,
    ) -> JudgeVerdict:
        cached_only = usage.calls == 0 and usage.hits > 0
        # validated: pydantic-core checks the fields faster than ``model_construct`` skips them (measured)
        return JudgeVerdict(
            item_id=item.id,
            status=cast(VerdictStatus, status),
            label=label,
            confidence=confidence,
            confidence_source=cast(ConfidenceSource, source if confidence is not None else "none"),
            rationale=rationale,
            raw_reply=raw,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cost_usd=(usage.cost if usage.cost_known else None) if not cached_only else 0.0,
            latency_s=round(usage.latency, 6),
            cache_hit=cached_only,
            created_at=datetime.now(UTC),
            extra=extra,
        )


def read_cached(
    parse: Callable[[ProviderReply], Parsed], replies: list[ProviderReply], usage: Usage, *, repairs_allowed: bool
) -> list[Outcome] | None:
    """Cached replies read with ``parse`` (their raw text noted in ``usage``), or ``None`` when one does not parse
    and a repair is allowed (the repair request may need a call)."""
    outcomes: list[Outcome] = []
    for reply in replies:
        parsed = parse(reply)
        if parsed.status == "parse_error" and repairs_allowed:
            return None
        usage.raws.append(reply.text if not reply.refusal else reply.refusal)
        outcomes.append((parsed, reply))
    return outcomes


def _reading(parsed: Parsed, name: str) -> Parsed:
    """One criterion's reading of a reply (a reply refused or unreadable as a whole fails every criterion)."""
    if parsed.criteria is not None and name in parsed.criteria:
        return parsed.criteria[name]
    return parsed


def mean_score(readings: list[Parsed], mapl: Callable[[str], str]) -> tuple[str | None, list[str | None]]:
    """Sampling on an interval scale: the mean of the valid samples' scores (as stored), and every sample's
    score (``None`` for a failed one). A vote would discard how far apart the scores are."""
    labels = [mapl(p.label) if p.status == "ok" and p.label else None for p in readings]
    scores = [float(x) for x in labels if x is not None]
    return (format_number(sum(scores) / len(scores)) if scores else None), labels


def _sampled(
    scale: Scale | None, readings: list[Parsed], mapl: Callable[[str], str]
) -> tuple[CriterionVerdict, list[str | None]]:
    """One criterion's answer from several samples (see :meth:`VerdictMaker._rated`)."""
    assert scale is not None
    if scale.is_interval:
        label, labels = mean_score(readings, mapl)
        confidence: float | None = None
    else:
        labels = [mapl(p.label) if p.status == "ok" and p.label else None for p in readings]
        label, confidence, _ = sampling_vote(labels)
    if label is None:
        return CriterionVerdict(status=readings[0].status, rationale=readings[0].rationale), labels
    rationale = next((p.rationale for p in readings if p.label is not None and mapl(p.label) == label), None)
    return (
        CriterionVerdict(
            label=label,
            confidence=confidence,
            confidence_source="sampling" if confidence is not None else "none",
            rationale=rationale,
        ),
        labels,
    )
