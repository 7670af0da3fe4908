"""Judge configurations, runs and verdicts."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import Field, JsonValue, model_validator

from judgekit.models._base import SCHEMA_VERSION, OmitNewDefaults, StrictModel
from judgekit.models.ids import Identifier
from judgekit.models.item import canonical_json
from judgekit.models.rubric import Rubric
from judgekit.models.text import ReplyText

VerdictStatus = Literal["ok", "parse_error", "refused", "api_error"]
VERDICT_STATUSES: tuple[VerdictStatus, ...] = ("ok", "parse_error", "refused", "api_error")
ConfidenceSource = Literal["none", "logprobs", "verbalized", "sampling", "external"]
FewShotStrategy = Literal["none", "static", "dynamic"]


class JudgeConfig(StrictModel):
    """Everything that determines what a judge answers; its :meth:`fingerprint` identifies the judge.

    Transport settings (timeouts, concurrency, rate limits, API keys) are deliberately not part of it: they
    change how fast verdicts arrive, not what they say.
    """

    provider: str = Field(min_length=1)
    """``openai``, ``anthropic``, ``openai-compatible`` (vLLM, Ollama, ...), or ``external`` for imported runs."""
    model: str = Field(min_length=1)
    """Model name as the provider knows it."""
    rubric_id: str
    """Rubric the judge applies."""
    rubric_version: int = Field(ge=1)
    """Version of that rubric."""
    base_url: str | None = None
    """Server for OpenAI-compatible providers (a different server may serve a different model)."""
    parameters: dict[str, JsonValue] = Field(default_factory=dict)
    """Sampling parameters that change output: temperature, max_tokens, top_p, seed, ..."""
    few_shot: FewShotStrategy = "static"
    """``static``: the rubric's examples; ``dynamic``: the k most similar labelled dev items; ``none``."""
    few_shot_k: int = Field(default=0, ge=0)
    """Number of dynamic examples."""
    confidence: ConfidenceSource = "none"
    """How confidence is obtained for this judge."""
    samples: int = Field(default=1, ge=1)
    """Samples per item (``sampling`` confidence, self-consistency)."""
    prompt_variant: str | None = None
    """Free-form tag distinguishing prompt versions of the same rubric (e.g. a probe's transformation)."""

    def fingerprint(self) -> str:
        """First 16 hex digits of sha256 over the canonical JSON of the config: stable across runs and machines."""
        return hashlib.sha256(canonical_json(self.model_dump(mode="json")).encode()).hexdigest()[:16]


class CriterionVerdict(StrictModel):
    """A judge's answer for one rated criterion of an item (see :attr:`JudgeVerdict.criteria`)."""

    status: VerdictStatus = "ok"
    """``ok`` (a valid answer) or why there is none, as for a whole verdict."""
    label: str | None = None
    """A level value of the criterion's scale (a number on an interval scale), or ``None`` when not ``ok``."""
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    """Probability the judge puts on this answer (0-1), or ``None``."""
    confidence_source: ConfidenceSource = "none"
    """How ``confidence`` was obtained."""
    rationale: str | None = None
    """The judge's explanation for this criterion."""

    @model_validator(mode="after")
    def _label_iff_ok(self) -> CriterionVerdict:
        if (self.status == "ok") != (self.label is not None):
            raise ValueError(f"a criterion answer has a label exactly when its status is ok (status {self.status!r})")
        if self.confidence is not None and self.confidence_source == "none":
            raise ValueError("a confidence needs its confidence_source (logprobs, verbalized, sampling, external)")
        return self


class JudgeVerdict(OmitNewDefaults):
    """One judge's decision on one item, with everything needed to audit it and account for it.

    Under a rubric with rated criteria, ``criteria`` holds the answer for each criterion, and ``status`` and
    ``label`` stand for all of them: ``ok`` with the derived overall label when every criterion is ``ok``, else the
    status of the first criterion that is not (see :meth:`judgekit.models.Rubric.record_verdict`).
    """

    _omit_at_default: ClassVar[dict[str, Any]] = {"criteria": {}}

    schema_version: Literal[1] = SCHEMA_VERSION
    """Version of this record's serialised form."""
    item_id: Identifier = Field(min_length=1)
    """The judged item."""
    judge_fingerprint: str = ""
    """Fingerprint of the :class:`JudgeConfig` that produced it."""
    status: VerdictStatus = "ok"
    """``ok`` (a valid label), ``parse_error`` (reply could not be read as a label), ``refused`` (the model
    declined), ``api_error`` (no reply after retries). Only ``ok`` verdicts carry a label."""
    label: str | None = None
    """A level value of the rubric, or ``None`` when status is not ``ok``."""
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    """Probability the judge puts on its label (0-1), or ``None`` when not obtained."""
    confidence_source: ConfidenceSource = "none"
    """How ``confidence`` was obtained."""
    rationale: ReplyText | None = None
    """The judge's explanation (a NUL character or lone surrogate in it is stored as U+FFFD:
    :data:`judgekit.models.text.ReplyText`)."""
    raw_reply: ReplyText | None = None
    """The reply exactly as received, kept for parse errors and audits (but for NUL characters and lone
    surrogates, stored as U+FFFD: no database keeps them as text)."""
    input_tokens: int | None = Field(default=None, ge=0)
    """Prompt tokens billed."""
    output_tokens: int | None = Field(default=None, ge=0)
    """Completion tokens billed."""
    cost_usd: float | None = Field(default=None, ge=0)
    """Cost from the price table (0 for cache hits)."""
    latency_s: float | None = Field(default=None, ge=0)
    """Wall time of the call(s)."""
    cache_hit: bool = False
    """True when served from the cache (no call paid)."""
    created_at: datetime | None = None
    """When the verdict was recorded."""
    extra: dict[str, JsonValue] = Field(default_factory=dict)
    """Provider-specific details (per-label probabilities, sample labels, display order ...)."""
    criteria: dict[str, CriterionVerdict] = Field(default_factory=dict)
    """Rubrics with rated criteria: the judge's answer for each criterion by name."""

    @model_validator(mode="after")
    def _label_iff_ok(self) -> JudgeVerdict:
        if self.status == "ok" and self.label is None:
            raise ValueError("a verdict with status 'ok' needs a label")
        if self.status != "ok" and self.label is not None:
            raise ValueError(f"a verdict with status {self.status!r} carries no label (got {self.label!r})")
        if self.confidence is not None and self.confidence_source == "none":
            raise ValueError("a confidence needs its confidence_source (logprobs, verbalized, sampling, external)")
        return self


def check_verdict(rubric: Rubric, v: JudgeVerdict) -> JudgeVerdict:
    """``v`` as stored under ``rubric``, or ``ValueError`` saying what does not fit: the label must be an answer of
    the rubric's scale (a judge's score may fall between an interval scale's steps); with rated criteria every
    criterion needs an answer on its own scale and ``status``/``label`` must be what they derive
    (:meth:`Rubric.record_verdict`). Labels are stored in their canonical form (``4.0`` is ``4``)."""
    if not rubric.is_rated:
        if v.criteria:
            raise ValueError(
                f"rubric {rubric.key} has one scale: a verdict has a label, not criteria {sorted(v.criteria)}"
            )
        if v.label is None:
            return v
        label = rubric.canonical_label(v.label, on_step=False)
        return v if label == v.label else v.model_copy(update={"label": label})
    names = rubric.criterion_names
    if v.status != "ok" and not v.criteria:  # a reply that failed as a whole failed for every criterion
        v = v.model_copy(update={"criteria": {n: CriterionVerdict(status=v.status) for n in names}})
    unknown = sorted(set(v.criteria) - set(names))
    missing = [n for n in names if n not in v.criteria]
    if unknown or missing:
        what = f"unknown criteria {unknown}" if unknown else f"no answer for {', '.join(missing)}"
        raise ValueError(f"{what}; rubric {rubric.key} rates {', '.join(names)}")
    answers: dict[str, CriterionVerdict] = {}
    for name in names:
        cv = v.criteria[name]
        if cv.label is not None:
            scale = rubric.criterion(name).scale
            assert scale is not None
            try:
                cv = cv.model_copy(update={"label": scale.check_value(cv.label, on_step=False)})
            except ValueError as exc:
                raise ValueError(f"criterion {name!r}: {exc}") from None
        answers[name] = cv
    status, record = rubric.record_verdict({n: (a.status, a.label) for n, a in answers.items()})
    if v.status != status:
        raise ValueError(
            f"status {v.status!r} does not match the criteria: {status!r} (ok when every criterion is ok, else the "
            "status of the first that is not)"
        )
    if v.label is not None and v.label != record:
        raise ValueError(f"label {v.label!r} does not match the criteria: rubric {rubric.key} derives {record!r}")
    return v.model_copy(update={"criteria": answers, "label": record})


class JudgeRun(StrictModel):
    """A named run of one judge config over a set of items."""

    id: int
    """Database id."""
    name: str
    """Unique, human-chosen or generated name (``gpt-3.5-turbo``, ``openai:gpt-4.1-mini#3``)."""
    fingerprint: str
    """Judge config fingerprint."""
    config: JudgeConfig
    """The judge config."""
    source: Literal["engine", "import"]
    """Produced by judgekit's engine, or imported from another tool."""
    status: Literal["running", "complete", "interrupted"]
    """Run state; an interrupted run can be resumed."""
    created_at: datetime
    """When the run was created."""
    meta: dict[str, JsonValue] = Field(default_factory=dict)
    """Totals and notes (cost, tokens, where it was imported from)."""
