"""Judge configurations, runs and verdicts."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from pydantic import Field, JsonValue, model_validator

from judgekit.models._base import SCHEMA_VERSION, StrictModel
from judgekit.models.ids import Identifier
from judgekit.models.item import canonical_json

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


class JudgeVerdict(StrictModel):
    """One judge's decision on one item, with everything needed to audit it and account for it."""

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
    rationale: str | None = None
    """The judge's explanation."""
    raw_reply: str | None = None
    """The reply exactly as received, kept for parse errors and audits."""
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

    @model_validator(mode="after")
    def _label_iff_ok(self) -> JudgeVerdict:
        if self.status == "ok" and self.label is None:
            raise ValueError("a verdict with status 'ok' needs a label")
        if self.status != "ok" and self.label is not None:
            raise ValueError(f"a verdict with status {self.status!r} carries no label (got {self.label!r})")
        if self.confidence is not None and self.confidence_source == "none":
            raise ValueError("a confidence needs its confidence_source (logprobs, verbalized, sampling, external)")
        return self


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
