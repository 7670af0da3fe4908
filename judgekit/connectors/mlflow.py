"""MLflow: traces with their assessments (feedback), read with MLflow's own client (the ``mlflow`` extra).

``MlflowClient(tracking_uri).search_traces(experiment_ids=...)`` returns traces; a trace's ``data.request`` /
``data.response`` (the root span's inputs and outputs, JSON) become the item (a chat ``messages`` list becomes a
conversation) and ``info.assessments`` the scores. A ``Feedback`` assessment (``name``, ``value``, ``rationale``,
``source.source_type`` / ``source.source_id``, ``overrides``, ``valid``, ``create_time_ms``) is:

- a human label when ``source_type`` is ``HUMAN`` (the annotator is ``source_id``);
- a judge verdict when it is ``LLM_JUDGE`` (one run per ``source_id``); ``CODE`` assessments are left out unless
  ``code_assessments`` says otherwise.

Provenance, from MLflow's own record: a human assessment whose ``overrides`` names an ``LLM_JUDGE`` or ``CODE``
assessment (``mlflow.override_feedback``) is a correction of the judge: ``corrected``. The overridden judge
assessment (``valid=False``) still is the judge's verdict. ``Expectation`` assessments (ground truth for the
output, not a rating of it) are left out.
"""

from __future__ import annotations

import json
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
from judgekit.connectors._messages import item_fields
from judgekit.errors import UserError

_KINDS: dict[str, Authorship] = {"HUMAN": "human", "LLM_JUDGE": "judge"}


def read_mlflow(
    mapping: ScoreMapping,
    *,
    tracking_uri: str,
    experiment: str | None = None,
    code_assessments: Authorship = "skip",
    max_results: int = 1_000_000,
) -> Bundle:
    """Traces and assessments of one experiment (by name; default: every experiment) as a :class:`Bundle`."""
    try:
        from mlflow.entities import Feedback
        from mlflow.exceptions import MlflowException
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise UserError("mlflow needs its client: pip install 'judgekit[mlflow]'") from None
    client = MlflowClient(tracking_uri=tracking_uri)
    where = f"{tracking_uri}" + (f" experiment {experiment}" if experiment else "")
    try:
        if experiment is not None:
            exp = client.get_experiment_by_name(experiment)
            if exp is None:
                raise UserError(f"mlflow: no experiment named {experiment!r} at {tracking_uri}")
            ids = [exp.experiment_id]
        else:
            ids = [e.experiment_id for e in client.search_experiments()]
        traces: list[Any] = []
        token = None
        while len(traces) < max_results:
            page = client.search_traces(
                experiment_ids=ids, max_results=min(500, max_results - len(traces)), page_token=token
            )
            traces.extend(page)
            token = page.token
            if not token:
                break
    except MlflowException as exc:
        raise UserError(f"mlflow: {where}: {exc.message}") from None
    bundle = Bundle("mlflow", source=where)
    known: set[str] = set()
    scores: list[PlatformScore] = []
    for pos, trace in enumerate(sorted(traces, key=lambda t: (t.info.request_time, t.info.trace_id)), start=1):
        info = trace.info
        fields = item_fields(_json(trace.data.request), _json(trace.data.response))
        when = parse_time(info.request_time)
        data = {
            "id": mapping.item_id(info.trace_id),
            **fields,
            "source": "mlflow",
            "created_at": when.isoformat() if when else None,
            "extra": {"mlflow_trace_id": info.trace_id, "mlflow_experiment_id": ids[0] if len(ids) == 1 else None},
        }
        data["extra"] = {k: v for k, v in data["extra"].items() if v is not None}
        bundle.items.append(record_row(data, where, pos))
        known.add(info.trace_id)
        by_id = {a.assessment_id: a for a in info.assessments}
        for a in info.assessments:
            if not isinstance(a, Feedback):
                bundle.skip("expectations (ground truth, not a rating of the output)")
                continue
            stype = str(a.source.source_type)
            kind: Authorship = _KINDS.get(stype, code_assessments if stype == "CODE" else "skip")
            overridden = by_id.get(a.overrides) if a.overrides else None
            corrected = (
                kind == "human"
                and overridden is not None
                and str(overridden.source.source_type) in ("LLM_JUDGE", "CODE")
            )
            scores.append(
                PlatformScore(
                    path=where,
                    line=pos,
                    item=info.trace_id,
                    name=a.name,
                    value=a.value,
                    kind=kind,
                    author=a.source.source_id,
                    comment=a.rationale,
                    created_at=parse_time(a.create_time_ms),
                    metadata=a.metadata,
                    provenance="corrected" if corrected else None,
                    field=f"assessments[{a.assessment_id}].value",
                )
            )
    add_scores(bundle, scores, mapping, known)
    return bundle


def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text
