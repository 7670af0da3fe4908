"""Reading a reply as a verdict: valid label, refusal, or parse error; never a guess.

Why strict: a reply that cannot be read as one of the rubric's levels is evidence about the judge (it is
unreliable on that item). Coercing it to the nearest label, or to ``tie``, would hide exactly the failures a
trust analysis must see, so such replies become ``parse_error`` verdicts with the raw text kept.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from judgekit.judging.providers.base import ProviderReply
from judgekit.judging.schema import fallback_object, reply_model
from judgekit.models import Rubric

_REFUSAL_FINISH = {"refusal", "content_filter"}


@dataclass(frozen=True)
class Parsed:
    """The reading of one reply."""

    status: Literal["ok", "parse_error", "refused"]
    label: str | None = None
    rationale: str | None = None
    confidence: float | None = None
    """Verbalized confidence, when asked for and given."""
    error: str | None = None
    """Why the reply could not be read (fed back to the model on a retry)."""
    criteria: dict[str, Parsed] | None = None
    """A rubric with rated criteria: the reading of each criterion's answer (``status`` is ``ok`` when all are)."""


def reply_object(reply: ProviderReply) -> Parsed | dict[str, Any]:
    """The structured object of a reply (native, or found in its text), or the refusal / parse error it is."""
    if reply.refusal or (reply.finish_reason or "") in _REFUSAL_FINISH:
        return Parsed("refused", rationale=reply.refusal or None, error="the model refused")
    obj: Any = reply.structured
    if obj is None:
        try:
            obj = json.loads(reply.text)
        except (json.JSONDecodeError, ValueError):
            obj = fallback_object(reply.text)
    if not isinstance(obj, dict):
        cut = " (the reply was cut at max_tokens)" if reply.finish_reason in ("length", "max_tokens") else ""
        return Parsed("parse_error", error=f"no JSON object with a label found in the reply{cut}")
    return obj


def make_parser(rubric: Rubric, *, verbalized: bool) -> ReplyParser | RatedReplyParser:
    """The parser of a rubric's replies: one scale's, or one answer per rated criterion."""
    if rubric.is_rated:
        return RatedReplyParser(rubric, verbalized=verbalized)
    return ReplyParser(rubric, verbalized=verbalized)


class ReplyParser:
    """Validates replies against one rubric's reply model (built once per run)."""

    def __init__(self, rubric: Rubric, *, verbalized: bool) -> None:
        self.rubric = rubric
        self.verbalized = verbalized
        self.model: type[BaseModel] = reply_model(rubric, verbalized=verbalized)
        self._interval = rubric.scale.is_interval
        self._levels = frozenset(rubric.scale.values) if not self._interval else frozenset()
        self._keys = frozenset({"rationale", "label", "confidence"} if verbalized else {"rationale", "label"})

    def parse(self, reply: ProviderReply) -> Parsed:
        """Refusal if the provider says so; else the structured object (native, or found in the text)
        validated against the reply model; else a parse error naming what was wrong."""
        obj = reply_object(reply)
        return obj if isinstance(obj, Parsed) else self.read(obj)

    def read(self, obj: dict[str, Any]) -> Parsed:
        """The reading of one answer object (``rationale``, ``label``, maybe ``confidence``)."""
        if not self.verbalized:
            obj = {k: v for k, v in obj.items() if k != "confidence"}
        if isinstance(obj.get("label"), str):
            obj = {**obj, "label": obj["label"].strip()}
        obj.setdefault("rationale", "")
        plain = self._plain(obj)
        if plain is not None:
            return plain
        if self._interval and isinstance(obj.get("label"), str):
            with contextlib.suppress(ValueError):  # a score written as text ("4", "4.5"): the number it says
                obj = {**obj, "label": float(obj["label"])}
        try:
            value = self.model.model_validate(obj)
        except ValidationError as exc:
            errs = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
            return Parsed("parse_error", error=f"invalid reply: {errs}; label must be {self._expected()}")
        data = value.model_dump()
        label = str(data["label"])
        if self._interval:
            try:
                label = self.rubric.scale.check_value(repr(float(data["label"])), on_step=False)
            except ValueError as exc:
                return Parsed("parse_error", error=f"invalid reply: label {exc}")
        return Parsed(
            "ok",
            label=label,
            rationale=str(data.get("rationale") or "") or None,
            confidence=float(data["confidence"]) if self.verbalized else None,
        )

    def _expected(self) -> str:
        if self._interval:
            return f"a number from {self.rubric.scale.describe_range()}"
        return "one of " + ", ".join(self.rubric.scale.values)

    def _plain(self, obj: dict[str, Any]) -> Parsed | None:
        """The reading of an object that is exactly what the schema asks for (string rationale, a level as label, a
        number in [0, 1] as confidence, no other key): the reply model would accept it unchanged, so it is read
        without it (a measurable share of a cached rerun). Anything else returns ``None`` and goes through the
        model, which accepts or rejects it and says why."""
        rationale, label = obj.get("rationale"), obj.get("label")
        if type(rationale) is not str or type(label) is not str or label not in self._levels:
            return None
        if obj.keys() != self._keys:
            return None
        confidence = None
        if self.verbalized:
            c: Any = obj.get("confidence")
            if type(c) not in (int, float) or not 0.0 <= c <= 1.0:
                return None
            confidence = float(c)
        return Parsed("ok", label=label, rationale=rationale or None, confidence=confidence)


class RatedReplyParser:
    """Validates the replies of a rubric with rated criteria: one object with a field per criterion, each read by
    that criterion's :class:`ReplyParser` (its view of the rubric). An answer that cannot be read makes the reply a
    parse error naming it (and a repair request is sent back with the reason), while the other answers keep their
    readings."""

    def __init__(self, rubric: Rubric, *, verbalized: bool) -> None:
        self.rubric = rubric
        self.verbalized = verbalized
        self.parsers = {n: ReplyParser(rubric.view(n), verbalized=verbalized) for n in rubric.criterion_names}

    def parse(self, reply: ProviderReply) -> Parsed:
        """Refusal if the provider says so (for every criterion); else each criterion's answer read from the
        object; ``ok`` when all are."""
        obj = reply_object(reply)
        if isinstance(obj, Parsed):
            return Parsed(
                obj.status, rationale=obj.rationale, error=obj.error, criteria=dict.fromkeys(self.parsers, obj)
            )
        readings: dict[str, Parsed] = {}
        for name, parser in self.parsers.items():
            sub = obj.get(name)
            if not isinstance(sub, dict):
                what = "missing" if sub is None else f"a {type(sub).__name__}, not an object"
                readings[name] = Parsed("parse_error", error=f"the answer for {name!r} is {what}")
            else:
                readings[name] = parser.read(sub)
        unknown = sorted(set(obj) - set(self.parsers))
        errors = [f"{n}: {p.error}" for n, p in readings.items() if p.status != "ok"]
        if unknown:
            errors.append(f"unknown fields {unknown} (the criteria are {', '.join(self.parsers)})")
        if errors:
            return Parsed("parse_error", error="; ".join(errors), criteria=readings)
        return Parsed("ok", criteria=readings)
