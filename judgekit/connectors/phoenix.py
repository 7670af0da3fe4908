"""Arize Phoenix / OpenInference: spans with span annotations, from a running Phoenix or from its REST JSON.

Read live with Phoenix's own client (``arize-phoenix-client``, the ``phoenix`` extra):
``Client(base_url).spans.get_spans(project_identifier=...)`` and ``.get_span_annotations(spans=...)``, or from
files holding the same objects (``GET /v1/projects/{project}/spans`` and ``.../span_annotations``).

A span (``context.span_id``, ``context.trace_id``, ``name``, ``attributes``) becomes an item: its OpenInference
``llm.input_messages`` + ``llm.output_messages`` as a conversation when present, else ``input.value`` /
``output.value``. An annotation (``span_id``, ``name``, ``annotator_kind``, ``result.label`` / ``result.score`` /
``result.explanation``, ``identifier``, ``user_id``, ``metadata``, ``created_at``) is a human label when
``annotator_kind`` is ``HUMAN`` (the annotator is its ``identifier``, else its ``user_id``: Phoenix keeps one
annotation per span, name and identifier, so several people annotate one span under their own identifiers) and a
judge verdict when it is ``LLM`` (one run per identifier). ``CODE`` annotations are left out unless
``code_annotations`` says otherwise. Provenance follows the metadata rule of
:func:`~judgekit.connectors.metadata_provenance`: Phoenix records no link from a human annotation to the LLM one
it may correct.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

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
from judgekit.connectors._messages import item_fields, openinference_messages
from judgekit.errors import InputError, UserError

_KINDS: dict[str, Authorship] = {"HUMAN": "human", "LLM": "judge"}


def read_phoenix(
    mapping: ScoreMapping,
    *,
    url: str | None = None,
    project: str = "default",
    spans_file: str | Path | None = None,
    annotations_file: str | Path | None = None,
    code_annotations: Authorship = "skip",
    value_from: Literal["label", "score", "auto"] = "auto",
    limit: int = 1_000_000,
) -> Bundle:
    """Spans and annotations from a Phoenix server (``url``) or from exported files, as a :class:`Bundle`."""
    if url is not None:
        spans, annotations, where = _fetch(url, project, limit)
        span_src = ann_src = where
        span_rows: Iterable[tuple[int, dict[str, Any]]] = enumerate(spans, start=1)
        ann_rows: Iterable[tuple[int, dict[str, Any]]] = enumerate(annotations, start=1)
    elif spans_file is not None:
        span_src, ann_src = str(spans_file), str(annotations_file or spans_file)
        span_rows = read_records(spans_file, "spans")
        ann_rows = read_records(annotations_file, "annotations") if annotations_file is not None else []
    else:
        raise UserError("phoenix: give --url (a running Phoenix) or --spans FILE (with --annotations FILE)")
    bundle = Bundle("phoenix", source=span_src)
    known: set[str] = set()
    for pos, span in span_rows:
        _add_span(bundle, span_src, pos, span, mapping, known)
    scores = [_score(ann_src, pos, a, code_annotations, value_from) for pos, a in ann_rows]
    add_scores(bundle, scores, mapping, known)
    return bundle


def _fetch(url: str, project: str, limit: int) -> tuple[list[Any], list[Any], str]:
    try:
        from phoenix.client import Client
    except ImportError:
        raise UserError("phoenix needs its client: pip install 'judgekit[phoenix]'") from None
    import httpx

    where = f"{url.rstrip('/')}/v1/projects/{project}"
    client = Client(base_url=url)
    try:
        spans = client.spans.get_spans(project_identifier=project, limit=limit)
        annotations = client.spans.get_span_annotations(spans=spans, project_identifier=project) if spans else []
    except httpx.HTTPStatusError as exc:
        raise UserError(f"phoenix: {where}: HTTP {exc.response.status_code}: {exc.response.text[:200]}") from None
    except httpx.HTTPError as exc:
        raise UserError(f"phoenix: cannot reach {url}: {exc}") from None
    return list(spans), list(annotations), where


def _add_span(bundle: Bundle, path: str, pos: int, span: Mapping[str, Any], m: ScoreMapping, known: set[str]) -> None:
    ctx = span.get("context") or {}
    span_id = ctx.get("span_id") if isinstance(ctx, Mapping) else None
    if not isinstance(span_id, str) or not span_id:
        raise InputError("missing (required text: the span id)", path=path, line=pos, field="context.span_id")
    attrs = span.get("attributes") or {}
    messages = openinference_messages(attrs, "llm.input_messages") + openinference_messages(
        attrs, "llm.output_messages"
    )
    if messages and any(msg["role"] == "assistant" for msg in messages):
        fields: dict[str, Any] = {"messages": messages}
        if isinstance(attrs.get("input.value"), str) and not any(msg["role"] == "user" for msg in messages):
            fields["input"] = attrs["input.value"]
    else:
        fields = item_fields(attrs.get("input.value"), attrs.get("output.value"))
    when = parse_time(span.get("start_time"))
    data = {
        "id": m.item_id(span_id),
        **fields,
        "source": "phoenix",
        "segment": span.get("name") if isinstance(span.get("name"), str) else None,
        "created_at": when.isoformat() if when else None,
        "extra": {"otel_trace_id": ctx.get("trace_id"), "otel_span_id": span_id},
    }
    bundle.items.append(record_row(data, path, pos))
    known.add(span_id)


def _score(
    path: str, pos: int, a: Mapping[str, Any], code: Authorship, value_from: Literal["label", "score", "auto"]
) -> PlatformScore:
    kind = a.get("annotator_kind")
    authorship: Authorship = _KINDS.get(str(kind), code if kind == "CODE" else "skip")
    result = a.get("result") or {}
    label, score = result.get("label"), result.get("score")
    if value_from == "label" or (value_from == "auto" and label not in (None, "")):
        value, fld = label, "result.label"
    else:
        value, fld = score, "result.score"
    who = a.get("identifier") or a.get("user_id") or (str(kind).lower() if authorship == "judge" else None)
    return PlatformScore(
        path=path,
        line=pos,
        item=str(a.get("span_id") or ""),
        name=str(a.get("name") or ""),
        value=value,
        kind=authorship,
        author=str(who) if who else None,
        comment=result.get("explanation"),
        created_at=parse_time(a.get("created_at")),
        metadata=a.get("metadata") if isinstance(a.get("metadata"), Mapping) else None,
        field=fld,
    )
