"""Inspect AI: samples and scores of an ``.eval`` (or ``.json``) log, read with Inspect's own log reader.

``inspect_ai.log.read_eval_log(path)`` (the ``inspect`` extra) gives the samples: each sample's ``messages`` (the
transcript: system, user, assistant turns with ``tool_calls``, tool results) become a conversation whose last
assistant turn is judged; its ``scores`` hold one :class:`inspect_ai.scorer.Score` per scorer.

Authorship comes from Inspect's score-edit provenance, never from a scorer's name:

- a score's original value (the scorer's, which for ``model_graded_*`` scorers is an LLM judge; the grader
  model, from the score's ``grading`` metadata or the scorer's ``model`` parameter, names the run) is the judge's
  verdict;
- every later edit (``inspect_ai.log.edit_score`` with ``ProvenanceData(author=..., reason=...)``, as the Inspect
  log viewer records it) is a human label by its ``author``, ``corrected`` because the person edited the judge's
  score; a score that a person added by an edit (no scorer value before it) is a ``blind`` human label.

Item ids are the sample ids (``ID#EPOCH`` when the task ran several epochs).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from judgekit.connectors._base import Bundle, PlatformScore, ScoreMapping, add_scores, parse_time, record_row
from judgekit.connectors._messages import item_fields
from judgekit.errors import InputError, UserError


def read_inspect(path: str | Path, mapping: ScoreMapping) -> Bundle:
    """The samples and scores of one Inspect log as a :class:`Bundle`."""
    try:
        from inspect_ai.log import read_eval_log
    except ImportError:
        raise UserError("inspect needs Inspect AI: pip install 'judgekit[inspect]'") from None
    p = Path(path)
    if not p.exists():
        raise UserError(f"{p}: no such file")
    try:
        log = read_eval_log(str(p))
    except Exception as exc:  # Inspect raises plain exceptions (zip, JSON, validation) for a file it cannot read
        raise InputError(
            f"not an Inspect log Inspect can read ({type(exc).__name__}: {str(exc)[:200]})", path=p
        ) from None
    bundle = Bundle("inspect", source=str(p))
    epochs = max((s.epoch for s in log.samples or []), default=1)
    grader = _grader_model(log, mapping.score)
    known: set[str] = set()
    scores: list[PlatformScore] = []
    for pos, sample in enumerate(log.samples or [], start=1):
        sid = f"{sample.id}#{sample.epoch}" if epochs > 1 else str(sample.id)
        messages = [_message(m) for m in sample.messages]
        if any(m["role"] == "assistant" for m in messages):
            fields: dict[str, Any] = {"messages": messages}
        else:
            fields = item_fields(sample.input if isinstance(sample.input, str) else None, sample.output.completion)
        target = sample.target if isinstance(sample.target, str) else "\n".join(sample.target)
        data = {
            "id": mapping.item_id(sid),
            **fields,
            "reference": target or None,
            "source": "inspect",
            "segment": log.eval.task,
            "extra": {"inspect_eval_id": log.eval.eval_id, "inspect_sample_id": str(sample.id), "epoch": sample.epoch},
        }
        bundle.items.append(record_row(data, str(p), pos))
        known.add(sid)
        for name, score in (sample.scores or {}).items():
            scores.extend(_scores(str(p), pos, sid, name, score, grader))
    add_scores(bundle, scores, mapping, known)
    return bundle


def _grader_model(log: Any, name: str) -> str | None:
    for s in getattr(log.results, "scores", None) or []:
        if s.name == name or s.scorer == name:
            model = (s.params or {}).get("model")
            return str(model) if model else s.scorer
    return None


def _scores(path: str, pos: int, sid: str, name: str, score: Any, grader: str | None) -> list[PlatformScore]:
    grading = (score.metadata or {}).get("grading") if isinstance(score.metadata, Mapping) else None
    judge = grader
    if isinstance(grading, list) and grading and isinstance(grading[-1], Mapping) and grading[-1].get("model"):
        judge = str(grading[-1]["model"])
    history = list(score.history or [])
    if not history:
        return [
            PlatformScore(path, pos, sid, name, score.value, "judge", judge, score.explanation, field=f"scores.{name}")
        ]
    out: list[PlatformScore] = []
    value = None
    had_scorer_value = False
    for n, edit in enumerate(history):
        if edit.value != "UNCHANGED":
            value = edit.value
        explanation = None if edit.explanation == "UNCHANGED" else edit.explanation
        where = f"scores.{name}.history.{n}"
        if edit.provenance is None:  # the scorer's original score
            had_scorer_value = True
            out.append(PlatformScore(path, pos, sid, name, value, "judge", judge, explanation, field=where))
            continue
        prov = edit.provenance
        out.append(
            PlatformScore(
                path,
                pos,
                sid,
                name,
                value,
                "human",
                prov.author,
                prov.reason or explanation,
                parse_time(prov.timestamp),
                metadata=prov.metadata,
                provenance="corrected" if had_scorer_value else None,
                field=where,
            )
        )
    return out


def _message(m: Any) -> dict[str, Any]:
    """An Inspect ``ChatMessage`` as a judgekit message."""
    out: dict[str, Any] = {"role": m.role}
    content = m.content
    if isinstance(content, str):
        if content:
            out["content"] = content
    else:
        parts: list[dict[str, Any]] = []
        for c in content:
            kind = getattr(c, "type", None)
            if kind == "text":
                parts.append({"type": "text", "text": c.text})
            elif kind == "image":
                parts.append({"type": "image", "url": str(c.image)[:2000]})
            elif kind == "reasoning":
                continue  # the model's hidden reasoning is not part of what it said
            else:
                parts.append({"type": "data", "data": c.model_dump(mode="json", exclude_none=True)})
        if parts:
            out["content"] = parts[0]["text"] if len(parts) == 1 and parts[0]["type"] == "text" else parts
    calls = getattr(m, "tool_calls", None) or []
    if calls:
        out["tool_calls"] = [{"id": c.id, "name": c.function, "arguments": c.arguments} for c in calls]
    if m.role == "tool":
        if getattr(m, "tool_call_id", None):
            out["tool_call_id"] = m.tool_call_id
        if getattr(m, "function", None):
            out["name"] = m.function
        if getattr(m, "error", None) is not None:
            out["content"] = f"{out.get('content', '')}\n[tool error: {m.error.message}]".strip()
    return out
