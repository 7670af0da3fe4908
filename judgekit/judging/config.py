"""Building a judge config: the rubric's confidence method and sample count as defaults."""

from __future__ import annotations

from typing import Any, cast

from judgekit.models import ConfidenceSource, FewShotStrategy, JudgeConfig, Rubric


def build_config(
    provider: str,
    model: str,
    rubric: Rubric,
    *,
    base_url: str | None = None,
    confidence: str | None = None,
    samples: int | None = None,
    parameters: dict[str, Any] | None = None,
    few_shot: str = "static",
    few_shot_k: int = 0,
    prompt_variant: str | None = None,
) -> JudgeConfig:
    """A :class:`JudgeConfig` with the rubric's confidence method and sample count as defaults."""
    method = confidence or rubric.confidence.method
    n = samples if samples is not None else (rubric.confidence.samples if method == "sampling" else 1)
    return JudgeConfig(
        provider=provider,
        model=model,
        rubric_id=rubric.id,
        rubric_version=rubric.version,
        base_url=base_url,
        parameters=parameters or {},
        few_shot=cast(FewShotStrategy, few_shot),
        few_shot_k=few_shot_k,
        confidence=cast(ConfidenceSource, method),
        samples=n,
        prompt_variant=prompt_variant,
    )
