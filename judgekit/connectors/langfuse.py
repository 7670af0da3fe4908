"""Langfuse: traces (and their observations) with scores, from the public API's JSON.

Format (Langfuse public API, ``GET /api/public/traces`` and ``GET /api/public/v2/scores``; the same objects the
``langfuse`` SDK's ``api.trace`` / ``api.scores`` clients return, written out as JSON): a trace has ``id``,
``name``, ``timestamp``, ``input``, ``output``, ``metadata``, ``sessionId`` and, when fetched one by one
(``GET /api/public/traces/{id}``), ``observations`` (each with ``id``, ``type``, ``input``, ``output``). A score has
``id``, ``traceId``, optional ``observationId``, ``name``, ``value`` (number), ``stringValue`` (the category of a
``CATEGORICAL`` score), ``dataType`` (``NUMERIC``, ``CATEGORICAL``, ``BOOLEAN``, ``CORRECTION``, ``TEXT``),
``source``, ``authorUserId``, ``comment``, ``timestamp``, ``metadata``. Files may be a JSON array, an API page
(``{"data": [...]}``), ``{"traces": [...], "scores": [...]}`` or JSON Lines.

Authorship, from ``source`` only: ``ANNOTATION`` (a person in the Langfuse UI or an annotation queue; the
annotator is ``authorUserId``) is a human label, ``EVAL`` (a Langfuse LLM-as-a-judge evaluator) a judge
verdict. ``API`` scores were sent by someone's code and may be either: they are left out unless
``api_scores`` says what they are. ``CORRECTION`` and ``TEXT`` scores are corrected outputs and free text, not
labels, and are left out. Provenance: Langfuse records no link between an annotation and an evaluator score, so
the metadata rule of :func:`~judgekit.connectors.metadata_provenance` applies (a ``corrects`` / ``overrides``
key, or ``assume_judge_seen`` for teams whose annotators see the evaluator's score beside the form).

The item is the scored observation when the score names one that the export holds, else the trace.
"""

from __future__ import annotations

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

_KINDS: dict[str, Authorship] = {"ANNOTATION": "human", "EVAL": "judge"}


def read_langfuse(
    traces: str | Path,
    scores: str | Path | None,
    mapping: ScoreMapping,
    *,
    api_scores: Authorship = "skip",
) -> Bundle:
    """Read a Langfuse export (traces, and scores in the same or their own file) into a :class:`Bundle`."""
    bundle = Bundle("langfuse", source=str(traces))
    known: set[str] = set()
    score_records: list[tuple[str, int, dict[str, Any]]] = []
    for pos, rec in read_records(traces, "traces"):
        if "traceId" in rec and "name" in rec and "source" in rec:  # a score kept in the traces file
            score_records.append((str(traces), pos, rec))
            continue
        _add_trace(bundle, str(traces), pos, rec, mapping, known)
    if scores is not None:
        score_records += [(str(scores), pos, rec) for pos, rec in read_records(scores, "scores")]
    add_scores(bundle, (_score(p, pos, rec, known, api_scores) for p, pos, rec in score_records), mapping, known)
    return bundle


def _add_trace(bundle: Bundle, path: str, pos: int, rec: dict[str, Any], m: ScoreMapping, known: set[str]) -> None:
    trace_id = rec.get("id")
    if not isinstance(trace_id, str) or not trace_id:
        raise InputError("missing (required text: the trace id)", path=path, line=pos, field="id")
    records = [(trace_id, rec, None)] + [
        (str(o["id"]), o, trace_id) for o in rec.get("observations") or [] if isinstance(o, dict) and o.get("id")
    ]
    for platform_id, obj, parent in records:
        fields = item_fields(obj.get("input"), obj.get("output"))
        extra: dict[str, Any] = {"langfuse_trace_id": parent or platform_id}
        if parent is not None:
            extra["langfuse_observation_id"] = platform_id
        if rec.get("sessionId"):
            extra["langfuse_session_id"] = rec["sessionId"]
        when = parse_time(obj.get("startTime") or obj.get("timestamp"))
        data = {
            "id": m.item_id(platform_id),
            **fields,
            "source": "langfuse",
            "segment": obj.get("name") if isinstance(obj.get("name"), str) else None,
            "created_at": when.isoformat() if when else None,
            "extra": extra,
        }
        bundle.items.append(record_row(data, path, pos))
        known.add(platform_id)


def _score(path: str, pos: int, rec: dict[str, Any], known: set[str], api_scores: Authorship) -> PlatformScore:
    source = str(rec.get("source") or "")
    kind: Authorship = _KINDS.get(source, api_scores if source == "API" else "skip")
    data_type = rec.get("dataType")
    if data_type in ("CORRECTION", "TEXT"):
        kind = "skip"
    value: Any = rec.get("stringValue") if data_type == "CATEGORICAL" else rec.get("value")
    if data_type == "BOOLEAN" and isinstance(value, int | float):
        value = bool(value)
    obs = rec.get("observationId")
    target = obs if isinstance(obs, str) and obs in known else str(rec.get("traceId") or "")
    author = rec.get("authorUserId") if kind == "human" else (rec.get("configId") or None)
    return PlatformScore(
        path=path,
        line=pos,
        item=target,
        name=str(rec.get("name") or ""),
        value=value,
        kind=kind,
        author=str(author) if author else None,
        comment=rec.get("comment"),
        created_at=parse_time(rec.get("timestamp") or rec.get("createdAt")),
        metadata=rec.get("metadata") if isinstance(rec.get("metadata"), dict) else None,
        field="stringValue" if data_type == "CATEGORICAL" else "value",
    )
