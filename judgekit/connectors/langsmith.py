"""LangSmith: runs with their feedback, from an export (JSON Lines or JSON of the SDK's ``Run`` / ``Feedback``).

Format: what ``langsmith.Client().list_runs(...)`` and ``.list_feedback(...)`` return, written out with the
objects' ``.json()`` / ``model_dump(mode="json")`` (``langsmith.schemas.Run``: ``id``, ``name``, ``run_type``,
``inputs``, ``outputs``, ``trace_id``, ``parent_run_id``, ``start_time``; ``langsmith.schemas.Feedback``: ``id``,
``run_id``, ``key``, ``score``, ``value``, ``comment``, ``correction``, ``feedback_source`` (``type``,
``user_id``, ``user_name``, ``metadata``), ``created_at``). One file may hold both (records with ``key`` and
``run_id`` are feedback).

Authorship from ``feedback_source.type``: ``app`` (a person in the LangSmith UI or an annotation queue; the
annotator is ``user_name``, else ``user_id``) is a human label, ``model`` (an LLM-as-a-judge evaluator; the
judge is ``metadata.ls_model_name``, else the evaluator run ``metadata.__run.name``) a judge verdict; ``api``
feedback was sent by someone's code and is left out unless ``api_feedback`` says what it is. The value is
``score`` (or ``value`` when there is no score).

Provenance from LangSmith's own record: a ``correction`` on an evaluator's feedback (``{"score": ...}`` or
``{"value": ...}``) is a person's correction of the judge: it becomes a ``corrected`` label (annotator:
``feedback_source.user_name``/``user_id``, else ``langsmith:corrector``) beside the judge's verdict; human
feedback otherwise follows the metadata rule of :func:`~judgekit.connectors.metadata_provenance`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from judgekit.connectors._base import (
    Authorship,
    Bundle,
    PlatformScore,
    ScoreMapping,
    add_scores,
    parse_time,
    record_row,
)
from judgekit.connectors._files import read_records
from judgekit.connectors._messages import item_fields
from judgekit.errors import InputError

_KINDS: dict[str, Authorship] = {"app": "human", "model": "judge"}


def read_langsmith(
    runs: str | Path, feedback: str | Path | None, mapping: ScoreMapping, *, api_feedback: Authorship = "skip"
) -> Bundle:
    """Runs and feedback from LangSmith export files as a :class:`Bundle`."""
    bundle = Bundle("langsmith", source=str(runs))
    known: set[str] = set()
    fb_records: list[tuple[str, int, dict[str, Any]]] = []
    for pos, rec in read_records(runs, "runs"):
        if "key" in rec and "run_id" in rec:
            fb_records.append((str(runs), pos, rec))
            continue
        run_id = rec.get("id")
        if not run_id:
            raise InputError("missing (required text: the run id)", path=runs, line=pos, field="id")
        when = parse_time(rec.get("start_time"))
        data = {
            "id": mapping.item_id(str(run_id)),
            **item_fields(_inputs(rec.get("inputs")), _outputs(rec.get("outputs"))),
            "source": "langsmith",
            "segment": rec.get("name") if isinstance(rec.get("name"), str) else None,
            "created_at": when.isoformat() if when else None,
            "extra": {"langsmith_run_id": str(run_id), "langsmith_trace_id": str(rec.get("trace_id") or run_id)},
        }
        bundle.items.append(record_row(data, str(runs), pos))
        known.add(str(run_id))
    if feedback is not None:
        fb_records += [(str(feedback), pos, rec) for pos, rec in read_records(feedback, "feedback")]
    scores: list[PlatformScore] = []
    for path, pos, rec in fb_records:
        scores.extend(_feedback(path, pos, rec, api_feedback))
    add_scores(bundle, scores, mapping, known)
    return bundle


def _inputs(value: Any) -> Any:
    """Run inputs: a chat model's ``{"messages": [[...]]}`` batch is unwrapped to its one conversation."""
    if isinstance(value, Mapping) and isinstance(value.get("messages"), list):
        msgs = value["messages"]
        if len(msgs) == 1 and isinstance(msgs[0], list):
            return {"messages": msgs[0]}
    return value


def _outputs(value: Any) -> Any:
    """Run outputs: a chat model's ``generations[0][0].message`` (LangChain serialisation) or the outputs as given."""
    if isinstance(value, Mapping) and isinstance(value.get("generations"), list) and value["generations"]:
        first = value["generations"][0]
        first = first[0] if isinstance(first, list) and first else first
        if isinstance(first, Mapping):
            msg = first.get("message")
            if isinstance(msg, Mapping):
                kwargs: Mapping[str, Any] = msg["kwargs"] if isinstance(msg.get("kwargs"), Mapping) else msg
                return {"role": "assistant", "content": kwargs.get("content"), "tool_calls": _lc_calls(kwargs)}
            if isinstance(first.get("text"), str):
                return first["text"]
    return value


def _lc_calls(kwargs: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {"id": c.get("id"), "function": {"name": c.get("name"), "arguments": c.get("args")}}
        for c in kwargs.get("tool_calls") or []
        if isinstance(c, Mapping)
    ]


def _feedback(path: str, pos: int, rec: Mapping[str, Any], api: Authorship) -> list[PlatformScore]:
    src = rec.get("feedback_source") or {}
    stype = str(src.get("type") or "")
    kind: Authorship = _KINDS.get(stype, api if stype == "api" else "skip")
    meta: Mapping[str, Any] = src["metadata"] if isinstance(src.get("metadata"), Mapping) else {}
    person = src.get("user_name") or src.get("user_id")
    if kind == "judge":
        run_meta: Mapping[str, Any] = meta["__run"] if isinstance(meta.get("__run"), Mapping) else {}
        author = meta.get("ls_model_name") or run_meta.get("name")
    else:
        author = person
    value = rec.get("score") if rec.get("score") is not None else rec.get("value")
    when = parse_time(rec.get("created_at"))
    common: dict[str, Any] = {
        "path": path,
        "line": pos,
        "item": str(rec.get("run_id") or ""),
        "name": str(rec.get("key") or ""),
    }
    out = [
        PlatformScore(
            **common,
            value=value,
            kind=kind,
            author=str(author) if author else None,
            comment=rec.get("comment"),
            created_at=when,
            metadata=meta if kind == "human" else None,
            field="score" if rec.get("score") is not None else "value",
        )
    ]
    correction = rec.get("correction")
    if kind == "judge" and isinstance(correction, Mapping) and ("score" in correction or "value" in correction):
        fixed = correction.get("score", correction.get("value"))
        modified = parse_time(rec.get("modified_at")) or when
        out.append(
            PlatformScore(
                **common,
                value=fixed,
                kind="human",
                author=str(person) if person else "langsmith:corrector",
                comment=correction.get("comment") if isinstance(correction.get("comment"), str) else None,
                created_at=modified,
                provenance="corrected",
                field="correction",
            )
        )
    return out
