"""Helpers shared by the ``judge``, ``probe`` and ``runs`` commands (kept here so the CLI holds no logic)."""

from __future__ import annotations

from typing import Any

from judgekit.errors import UserError
from judgekit.io.rubrics import resolve_rubric
from judgekit.judging.config import build_config
from judgekit.judging.options import BatchOptions
from judgekit.judging.providers import split_model_spec
from judgekit.models import JudgeConfig, Rubric
from judgekit.storage import Project


def config_from_options(
    project: Project,
    *,
    rubric_spec: str | None,
    model_spec: str | None,
    base_url: str | None,
    confidence: str | None,
    samples: int | None,
    temperature: float | None,
    max_tokens: int | None,
    few_shot: str,
    k: int,
    structured: bool = True,
    prompt_variant: str | None = None,
    model_seed: int | None = None,
) -> tuple[JudgeConfig, Rubric]:
    """The judge config the command-line options describe."""
    if not rubric_spec or not model_spec:
        raise UserError("--rubric and --model are required (unless --resume RUN)")
    rubric = resolve_rubric(project, rubric_spec)
    provider, model = split_model_spec(model_spec)
    params: dict[str, Any] = {}
    if temperature is not None:
        params["temperature"] = temperature
    if max_tokens is not None:
        params["max_tokens"] = max_tokens
    if not structured:
        params["structured"] = False
    if model_seed is not None:
        params["seed"] = model_seed
    cfg = build_config(
        provider,
        model,
        rubric,
        base_url=base_url,
        confidence=confidence,
        samples=samples,
        parameters=params,
        few_shot=few_shot,
        few_shot_k=k,
        prompt_variant=prompt_variant,
    )
    return cfg, rubric


def split_exclusion(project: Project, split: str | None, resume: str | None = None) -> tuple[list[str], str | None]:
    """``(exclude_ids, NAME@VERSION)`` for ``--split NAME[@VERSION]``: the test items of that split (its latest
    version unless one is named), never shown as dynamic few-shot examples. On ``--resume`` without ``--split``, the
    split version the run was started with (stored in its notes). An unknown split is a :class:`UserError`."""
    if split is None and resume is not None:
        stored = project.run(resume).meta.get("split")
        split = str(stored) if stored else None
    if split is None:
        return [], None
    from judgekit.calibration import get_split, test_item_ids  # scipy and pandas: seconds, only when a split is named

    info = get_split(project, split)
    return test_item_ids(project, info), info.key


def batch_options(project: Project, resume: str | None, batch: bool, **flags: Any) -> BatchOptions | None:
    """The batch settings the ``--batch`` / ``--no-wait`` / ``--batch-*`` options describe (``None``: not a batch
    run, or a resume that keeps the run's own). On ``--resume`` the run's stored settings are the start, so a flag
    changes only itself (``judgekit judge --resume RUN --batch-poll 5``)."""
    given = {k: v for k, v in flags.items() if v is not None}
    stored: BatchOptions | None = None
    if resume is not None:
        options = project.run(resume).meta.get("options")
        raw = options.get("batch") if isinstance(options, dict) else None
        stored = BatchOptions.model_validate(raw) if isinstance(raw, dict) else None
    if not batch and stored is None:
        if given and resume is None:
            raise UserError(f"{', '.join('--' + k.replace('_', '-') for k in given)} needs --batch")
        if not given:
            return None
    # --no-wait holds for one call only: a resume waits for the batches unless told not to again
    return (stored or BatchOptions()).model_copy(update={"wait": True, **given})
