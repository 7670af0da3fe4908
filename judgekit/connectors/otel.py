"""OpenTelemetry GenAI: ``gen_ai.evaluation.result`` events and their parent spans, in OTLP JSON; and back out.

Format (OpenTelemetry semantic conventions for generative AI, ``model/gen-ai/events.yaml`` and the GenAI span
conventions; OTLP/JSON encoding of the OTLP protobuf, as the Collector's file exporter writes it, one document or
one per line): spans under ``resourceSpans[].scopeSpans[].spans[]`` (``traceId``, ``spanId``, ``name``,
``startTimeUnixNano``, ``attributes`` as ``[{"key", "value": {"stringValue" | "intValue" | ...}}]``, ``events``),
log records under ``resourceLogs[].scopeLogs[].logRecords[]`` (``eventName``, ``traceId``, ``spanId``,
``timeUnixNano``, ``attributes``).

An evaluation result is a log record (or a span event) named ``gen_ai.evaluation.result`` with
``gen_ai.evaluation.name`` (required), ``gen_ai.evaluation.score.label`` and/or ``gen_ai.evaluation.score.value``,
``gen_ai.evaluation.explanation``, parented to the span it evaluates (``spanId``) or naming
``gen_ai.response.id``. The span becomes the item: ``gen_ai.system_instructions`` + ``gen_ai.input.messages`` +
``gen_ai.output.messages`` as a conversation.

Authorship: the conventions record no evaluator kind, so the user says which events are human labels and which
are judge verdicts, by attribute (``human_when``/``judge_when``: ``{"key": "value"}``) or for every other event
(``others``); by default every event is left out and counted. The judge's name is the event's instrumentation scope;
the annotator is the attribute ``author_attribute`` names.

:func:`export_otel` writes a judge run back the same way: one ``gen_ai.evaluation.result`` log record per verdict,
parented to the item's span when the item came from a trace (``otel_trace_id`` / ``otel_span_id`` in its extras),
with the judge fingerprint, the run and judgekit's trust verdict for the run as attributes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
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
from judgekit.connectors._messages import genai_messages, genai_system
from judgekit.errors import InputError, UserError

EVENT = "gen_ai.evaluation.result"
SCOPE = "judgekit"


def attributes(kvs: Any) -> dict[str, Any]:
    """OTLP JSON ``[{"key", "value": {...}}]`` -> a plain mapping (any-values decoded)."""
    if isinstance(kvs, Mapping):
        return dict(kvs)
    out: dict[str, Any] = {}
    for kv in kvs or []:
        if isinstance(kv, Mapping) and "key" in kv:
            out[str(kv["key"])] = any_value(kv.get("value"))
    return out


def any_value(v: Any) -> Any:
    """One OTLP ``AnyValue`` as Python data (``intValue`` arrives as text in OTLP JSON)."""
    if not isinstance(v, Mapping):
        return v
    if "stringValue" in v:
        return v["stringValue"]
    if "boolValue" in v:
        return bool(v["boolValue"])
    if "intValue" in v:
        return int(v["intValue"])
    if "doubleValue" in v:
        return float(v["doubleValue"])
    if "arrayValue" in v:
        return [any_value(x) for x in (v["arrayValue"] or {}).get("values", [])]
    if "kvlistValue" in v:
        return attributes((v["kvlistValue"] or {}).get("values", []))
    if "bytesValue" in v:
        return v["bytesValue"]
    return None


def _documents(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot open: {exc.strerror}") from None
    try:
        doc = json.loads(text)
        yield 1, doc
        return
    except json.JSONDecodeError:
        pass
    for n, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                yield n, json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"not OTLP JSON ({exc.msg} at column {exc.colno})", path=path, line=n) from None


def read_otel(
    paths: list[str | Path],
    mapping: ScoreMapping,
    *,
    human_when: Mapping[str, str] | None = None,
    judge_when: Mapping[str, str] | None = None,
    others: Authorship = "skip",
    author_attribute: str | None = None,
    value_from: Literal["label", "value", "auto"] = "auto",
) -> Bundle:
    """Spans and evaluation events from OTLP JSON files (traces and logs, in one file or several)."""
    bundle = Bundle("otel", source=", ".join(str(p) for p in paths))
    known: set[str] = set()
    by_response: dict[str, str] = {}
    events: list[tuple[str, int, dict[str, Any], str | None, str]] = []
    for p in paths:
        path = Path(p)
        for line, doc in _documents(path):
            if not isinstance(doc, Mapping):
                raise InputError("expected an OTLP JSON object (resourceSpans / resourceLogs)", path=path, line=line)
            for rs in doc.get("resourceSpans") or []:
                for ss in rs.get("scopeSpans") or []:
                    scope = str((ss.get("scope") or {}).get("name") or "")
                    for span in ss.get("spans") or []:
                        _add_span(bundle, str(path), line, span, mapping, known, by_response)
                        for ev in span.get("events") or []:
                            if ev.get("name") == EVENT:
                                events.append(
                                    (
                                        str(path),
                                        line,
                                        attributes(ev.get("attributes")),
                                        span.get("spanId"),
                                        str(ev.get("timeUnixNano") or ""),
                                    )
                                )
                                events[-1][2].setdefault("otel.scope.name", scope)
            for rl in doc.get("resourceLogs") or []:
                for sl in rl.get("scopeLogs") or []:
                    scope = str((sl.get("scope") or {}).get("name") or "")
                    for rec in sl.get("logRecords") or []:
                        attrs = attributes(rec.get("attributes"))
                        if (rec.get("eventName") or attrs.get("event.name")) != EVENT:
                            continue
                        attrs.setdefault("otel.scope.name", scope)
                        events.append(
                            (str(path), line, attrs, rec.get("spanId") or None, str(rec.get("timeUnixNano") or ""))
                        )
    scores = []
    for where, line, attrs, span_id, when in events:
        target = span_id or by_response.get(str(attrs.get("gen_ai.response.id") or ""), "")
        scores.append(
            _score(
                where,
                line,
                attrs,
                target,
                when,
                human_when or {},
                judge_when or {},
                others,
                author_attribute,
                value_from,
            )
        )
    add_scores(bundle, scores, mapping, known)
    return bundle


def _add_span(
    bundle: Bundle,
    path: str,
    line: int,
    span: Mapping[str, Any],
    m: ScoreMapping,
    known: set[str],
    by_response: dict[str, str],
) -> None:
    span_id = span.get("spanId")
    if not span_id:
        raise InputError("a span without spanId", path=path, line=line, field="spanId")
    attrs = attributes(span.get("attributes"))
    messages = (
        genai_system(attrs.get("gen_ai.system_instructions"))
        + genai_messages(attrs.get("gen_ai.input.messages"))
        + genai_messages(attrs.get("gen_ai.output.messages"))
    )
    if not any(msg["role"] == "assistant" for msg in messages):
        return  # not a GenAI operation span with output: nothing to judge
    when = parse_time(span.get("startTimeUnixNano"))
    extra = {"otel_trace_id": span.get("traceId"), "otel_span_id": span_id}
    if attrs.get("gen_ai.response.id"):
        extra["gen_ai_response_id"] = attrs["gen_ai.response.id"]
        by_response[str(attrs["gen_ai.response.id"])] = str(span_id)
    data = {
        "id": m.item_id(str(span_id)),
        "messages": messages,
        "source": "otel",
        "segment": span.get("name") if isinstance(span.get("name"), str) else None,
        "created_at": when.isoformat() if when else None,
        "extra": {k: v for k, v in extra.items() if v},
    }
    bundle.items.append(record_row(data, path, line))
    known.add(str(span_id))


def _matches(attrs: Mapping[str, Any], rule: Mapping[str, str]) -> bool:
    return bool(rule) and all(str(attrs.get(k)) == v for k, v in rule.items())


def _score(
    path: str,
    line: int,
    attrs: Mapping[str, Any],
    target: str,
    when: str,
    human_when: Mapping[str, str],
    judge_when: Mapping[str, str],
    others: Authorship,
    author_attribute: str | None,
    value_from: Literal["label", "value", "auto"],
) -> PlatformScore:
    kind: Authorship = "human" if _matches(attrs, human_when) else "judge" if _matches(attrs, judge_when) else others
    label, value = attrs.get("gen_ai.evaluation.score.label"), attrs.get("gen_ai.evaluation.score.value")
    use_label = value_from == "label" or (value_from == "auto" and label not in (None, ""))
    author = attrs.get(author_attribute) if author_attribute else None
    if kind == "judge" and not author:
        author = attrs.get("otel.scope.name") or None
    return PlatformScore(
        path=path,
        line=line,
        item=target,
        name=str(attrs.get("gen_ai.evaluation.name") or ""),
        value=label if use_label else value,
        kind=kind,
        author=str(author) if author else None,
        comment=attrs.get("gen_ai.evaluation.explanation"),
        created_at=parse_time(when) if when else None,
        metadata=attrs,
        field="gen_ai.evaluation.score.label" if use_label else "gen_ai.evaluation.score.value",
    )


# -- export ---------------------------------------------------------------------------------------------------------


def _kv(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        v: dict[str, Any] = {"boolValue": value}
    elif isinstance(value, int):
        v = {"intValue": str(value)}
    elif isinstance(value, float):
        v = {"doubleValue": value}
    else:
        v = {"stringValue": str(value)}
    return {"key": key, "value": v}


def export_otel(project: Any, run: str | int, *, verdict: str | None = None) -> str:
    """A judge run as OTLP JSON logs: one ``gen_ai.evaluation.result`` event per verdict (deterministic text).

    Attributes: ``gen_ai.evaluation.name`` (the rubric id), ``gen_ai.evaluation.score.label`` (the label),
    ``gen_ai.evaluation.score.value`` (the level's numeric score), ``gen_ai.evaluation.explanation`` (the
    rationale), ``error.type`` for a verdict that is not ``ok`` (its status), and ``judgekit.judge.fingerprint``,
    ``judgekit.run``, ``judgekit.item.id``, ``judgekit.confidence`` and, when given, ``judgekit.trust.verdict``.
    An item imported from a trace keeps its trace and span ids, so the event lands on the span it judges.
    """
    r = project.run(run)
    rubric = project.rubric(r.config.rubric_id, r.config.rubric_version)
    scores = dict(zip(rubric.scale.values, rubric.scale.scores(), strict=True))
    verdicts = project.verdicts(r)
    items = {it.id: it for it in project.items([v.item_id for v in verdicts])} if verdicts else {}
    records = []
    for v in verdicts:
        extra = items[v.item_id].metadata.extra
        attrs = [_kv("gen_ai.evaluation.name", rubric.id)]
        if v.status == "ok" and v.label is not None:
            attrs.append(_kv("gen_ai.evaluation.score.label", v.label))
            attrs.append(_kv("gen_ai.evaluation.score.value", float(scores[v.label])))
        else:
            attrs.append(_kv("error.type", v.status))
        if v.rationale:
            attrs.append(_kv("gen_ai.evaluation.explanation", v.rationale))
        if extra.get("gen_ai_response_id"):
            attrs.append(_kv("gen_ai.response.id", extra["gen_ai_response_id"]))
        attrs += [
            _kv("judgekit.judge.fingerprint", r.fingerprint),
            _kv("judgekit.run", r.name),
            _kv("judgekit.item.id", v.item_id),
        ]
        if v.confidence is not None:
            attrs.append(_kv("judgekit.confidence", float(v.confidence)))
        if verdict is not None:
            attrs.append(_kv("judgekit.trust.verdict", verdict))
        rec: dict[str, Any] = {
            "timeUnixNano": str(int(v.created_at.timestamp() * 1e9)) if v.created_at else "0",
            "eventName": EVENT,
            "severityNumber": 9,
            "attributes": attrs,
        }
        trace_id, span_id = extra.get("otel_trace_id"), extra.get("otel_span_id")
        if trace_id and span_id:
            rec["traceId"], rec["spanId"] = str(trace_id), str(span_id)
        records.append(rec)
    doc = {
        "resourceLogs": [
            {
                "resource": {"attributes": [_kv("service.name", "judgekit")]},
                "scopeLogs": [{"scope": {"name": SCOPE}, "logRecords": records}],
            }
        ]
    }
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
