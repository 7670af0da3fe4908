"""Importing items, human labels and external judge verdicts into a project.

Every import validates all rows first, then writes them in ONE transaction: a malformed row stops the import
with its file, line and field, and leaves the database exactly as it was. Re-importing the same file is a
no-op: identical items and verdicts are skipped, and every label row carries a content-derived idempotency key.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from judgekit.errors import ItemConflict, UserError
from judgekit.io.rows import (
    Row,
    bool_field,
    dataframe_rows,
    datetime_field,
    float_field,
    int_field,
    json_field,
    read_rows,
    text_field,
    validate_row,
)
from judgekit.models import (
    CONVERSATION_FIELDS,
    CriterionVerdict,
    HumanLabel,
    Item,
    JudgeConfig,
    JudgeVerdict,
    Provenance,
    Rubric,
    format_number,
)
from judgekit.models.judge import check_verdict
from judgekit.storage import Project

ITEM_FIELDS = ("id", "input", "output", "output_a", "output_b", "reference", "context")
META_FIELDS = ("segment", "source", "created_at", "risk")
LABEL_FIELDS = (
    "item_id",
    "annotator",
    "label",
    "critique",
    "time_spent_s",
    "created_at",
    "flagged",
    "display_order",
    "rubric_id",
    "rubric_version",
    "revision",
    "provenance",
    "schema_version",
    "criteria",
)
"""Fields of a label record; also ``criteria.<name>`` columns (one per rated criterion)."""
VERDICT_FIELDS = (
    "item_id",
    "label",
    "confidence",
    "confidence_source",
    "rationale",
    "raw_reply",
    "status",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "latency_s",
    "cache_hit",
    "created_at",
    "extra",
    "judge_fingerprint",
    "schema_version",
    "criteria",
)
"""Fields of a verdict record; also ``criteria.<name>`` columns (a rated criterion's label)."""


@dataclass(frozen=True)
class ImportResult:
    """Outcome of one import: rows read, rows added, rows already present."""

    kind: str
    read: int
    added: int
    unchanged: int
    note: str = ""
    """Something the user should know about what was imported (e.g. labels without a required critique)."""

    def summary(self, detail: str = "") -> str:
        """One line for the CLI (``detail`` appended to it, e.g. counts per provenance), a second one for the note."""
        line = f"{self.kind}: {self.read} read, {self.added} added, {self.unchanged} already present{detail}"
        return line + (f"\n  note: {self.note}" if self.note else "")


P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a bulk import (re-entrant; restored on exit, error or not).

    Why: an import builds a few objects per row and frees none of them until it has written them all, so each of
    the collector's passes re-scans every row built so far: at 100,000 items that was a third of the import's CPU
    time. The rows hold no reference cycles (nothing for the collector to find); memory is freed as usual, by
    reference counting, when the import returns.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _bulk(fn: Callable[P, R]) -> Callable[P, R]:
    """Run ``fn`` (a whole import: reading, validating, writing) with the collector paused."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with collector_paused():
            return fn(*args, **kwargs)

    return run


# -- items --------------------------------------------------------------------------------------------------------


def item_from_row(row: Row) -> Item:
    """Build an :class:`Item` from a flat (CSV) or nested (JSONL) record.

    Accepted fields: ``id``, ``input``, ``output`` or ``output_a``/``output_b``, ``reference``, ``context``, and
    ``segment``, ``source``, ``created_at``, ``risk`` either at top level or under ``metadata``; ``extra`` (a
    mapping, or JSON text in CSV) and ``extra.<name>`` columns go into ``metadata.extra``. Conversations:
    ``messages``, ``messages_a``, ``messages_b`` (lists of messages) and ``judged`` (a mapping), as JSON values in
    JSONL and JSON text in CSV.
    """
    d = row.data
    plan = _item_plan(tuple(d))
    if plan.unknown is not None:
        raise row.error(
            "unknown field; accepted: "
            + ", ".join(ITEM_FIELDS + META_FIELDS + CONVERSATION_FIELDS)
            + ", metadata, extra, extra.<name>",
            field=plan.unknown,
        )
    meta: dict[str, Any] = {}
    if plan.nested_metadata:
        nested = d["metadata"]
        if nested is not None:
            if not isinstance(nested, dict):
                raise row.error("expected a mapping", field="metadata")
            meta.update(nested)
    for key in plan.meta:
        if d[key] not in (None, ""):
            meta[key] = d[key]
    if meta.get("created_at") is not None:
        meta["created_at"] = datetime_field(row, "created_at", meta["created_at"])
    if plan.extra or plan.extra_columns:
        extra = json_field(row, "extra") or {}
        if not isinstance(extra, dict):
            raise row.error("expected a mapping", field="extra")
        extra.update({name: d[key] for key, name in plan.extra_columns if d[key] is not None})
        if extra:
            meta["extra"] = {**meta.get("extra", {}), **extra}
    fields: dict[str, Any] = {}
    for key in plan.conversation:
        expected = dict if key == "judged" else list
        what = 'a mapping such as {"kind": "turn", "turn": 3}' if key == "judged" else "a list of messages"
        value = json_field(row, key, what)
        if value is not None and not isinstance(value, expected):
            raise row.error(f"expected {what}, got {type(value).__name__}", field=key)
        fields[key] = value
    conversation = bool(fields) and any(fields.get(k) is not None for k in ("messages", "messages_a", "messages_b"))
    for key in plan.text:
        value = d.get(key)
        if type(value) is str and value.isascii() and "\x00" not in value:  # text_field's common case, inline
            fields[key] = value
        else:
            fields[key] = text_field(row, key, required=key == "id" or (key == "input" and not conversation))
    if fields.get("output") == "" or fields.get("output_a") == "" or fields.get("output_b") == "":
        _empty_outputs_of_the_other_kind(fields)
    fields = {k: v for k, v in fields.items() if v is not None}
    if meta:
        fields["metadata"] = meta  # validated with the item: one pass (errors still name the metadata field)
    return validate_row(row, Item, fields, strict=False)


@dataclass(frozen=True)
class _ItemPlan:
    """What a record with these keys holds, worked out once per set of keys (a CSV header, a JSONL shape)."""

    unknown: str | None
    """The first key that is no accepted field (the row is refused)."""
    nested_metadata: bool
    meta: tuple[str, ...]
    """Metadata fields at top level."""
    extra: bool
    """An ``extra`` field (a mapping, or JSON text)."""
    extra_columns: tuple[tuple[str, str], ...]
    """``(key, name)`` of the ``extra.<name>`` columns."""
    conversation: tuple[str, ...]
    text: tuple[str, ...]
    """The item text fields to read, in :data:`ITEM_FIELDS` order: those present, and ``id`` and ``input`` always
    (their absence may be an error)."""


_ITEM_KEYS = frozenset(ITEM_FIELDS + META_FIELDS + CONVERSATION_FIELDS + ("metadata", "extra", "schema_version"))


@functools.lru_cache(maxsize=512)
def _item_plan(keys: tuple[str, ...]) -> _ItemPlan:
    present = set(keys)
    unknown = next((k for k in keys if k not in _ITEM_KEYS and not k.startswith("extra.")), None)
    return _ItemPlan(
        unknown=unknown,
        nested_metadata="metadata" in present,
        meta=tuple(k for k in META_FIELDS if k in present),
        extra="extra" in present,
        extra_columns=tuple((k, k[len("extra.") :]) for k in keys if k.startswith("extra.")),
        conversation=tuple(k for k in CONVERSATION_FIELDS if k in present),
        text=tuple(k for k in ITEM_FIELDS if k in present or k in ("id", "input")),
    )


def _empty_outputs_of_the_other_kind(fields: dict[str, Any]) -> None:
    """An empty text is a real output (a model that answered nothing), but a file that quotes every cell writes the
    unused kind's columns as empty texts too: the empty outputs of a kind (single ``output``, or the pair
    ``output_a`` + ``output_b``) are dropped when the other kind has text, and the pair's when neither has."""
    single = fields.get("output")
    pair = [fields.get("output_a"), fields.get("output_b")]
    pair_has_text = any(pair)
    if single == "" and pair_has_text:
        fields["output"] = None
    if not pair_has_text and (single is not None or fields.get("messages_a") is not None):
        for key in ("output_a", "output_b"):
            if fields.get(key) == "":
                fields[key] = None


@_bulk
def import_items(project: Project, rows: Iterable[Row]) -> ImportResult:
    """Validate every row, refuse duplicate ids within the input, then add all items in one transaction."""
    items: list[Item] = []
    seen: dict[str, Row] = {}
    for row in rows:
        item = item_from_row(row)
        if item.id in seen:
            raise row.error(f"duplicate item id {item.id!r} (first on line {seen[item.id].line})", field="id")
        seen[item.id] = row
        items.append(item)
    try:
        counts = project.add_items(items)
    except ItemConflict as exc:  # located: the line of the file that holds the changed item
        raise seen[exc.item_id].error(str(exc), field="id") from None
    return ImportResult("items", len(items), counts.added, counts.unchanged)


def import_items_file(project: Project, path: str | Path, fmt: str | None = None) -> ImportResult:
    """Import items from a JSONL or CSV file."""
    return import_items(project, read_rows(path, fmt))


def import_items_dataframe(project: Project, df: Any) -> ImportResult:
    """Import items from a pandas DataFrame with the same columns as the CSV format."""
    return import_items(project, dataframe_rows(df))


# -- labels -------------------------------------------------------------------------------------------------------


def label_from_row(
    row: Row, rubric: Rubric, *, provenance: Provenance = "blind", require_critique: bool = False
) -> HumanLabel:
    """Build a :class:`HumanLabel` for ``rubric`` from a record; ``revision`` in the input is ignored.

    The label and critique are checked by :meth:`Rubric.check_answer`, as the labeling app checks a submit: a level
    of the scale (normalised as ids are), the critique stripped; a missing critique that the rubric requires for
    the level is refused only with ``require_critique`` (the app always refuses it; imported data from elsewhere
    often has none, and :func:`import_labels` counts such labels instead). ``provenance`` is used for rows without
    a ``provenance`` field (``blind``, ``corrected`` or ``adjudicated``).
    """
    d = row.data
    for key in d:
        if key not in LABEL_FIELDS and not key.startswith("criteria."):
            raise row.error("unknown field; accepted: " + ", ".join(LABEL_FIELDS) + ", criteria.<name>", field=key)
    rid = text_field(row, "rubric_id")
    if rid is not None and rid != rubric.id:
        raise row.error(f"row is for rubric {rid!r} but the import is for {rubric.id!r}", field="rubric_id")
    rver = int_field(row, "rubric_version")
    if rver is not None and rver != rubric.version:
        raise row.error(f"row is for version {rver} but the import is for {rubric.key}", field="rubric_version")
    label, criteria = _answer(row, rubric)
    critique = text_field(row, "critique")
    try:
        label, critique = rubric.check_answer(label, critique)  # the labeling app's own validation
    except ValueError as exc:
        if "critique" not in str(exc):
            raise row.error(str(exc).removeprefix("label "), field="label") from None
        if require_critique:
            raise row.error(f"{exc} (the labeling app requires it too)", field="critique") from None
    data = {
        "item_id": text_field(row, "item_id", required=True),
        "annotator": text_field(row, "annotator", required=True),
        "rubric_id": rubric.id,
        "rubric_version": rubric.version,
        "label": label,
        "criteria": criteria,
        "critique": critique,
        "time_spent_s": float_field(row, "time_spent_s"),
        "created_at": datetime_field(row, "created_at"),
        "flagged": bool_field(row, "flagged"),
        "display_order": text_field(row, "display_order"),
        "provenance": text_field(row, "provenance") or provenance,
    }
    return validate_row(row, HumanLabel, data, strict=False)


def _criteria_cells(row: Row, *, nested: str) -> dict[str, Any]:
    """A record's per-criterion values: the ``criteria`` mapping (JSON text in CSV) and ``criteria.<name>``
    columns (``nested`` names what a mapping's values are, for the error)."""
    found: dict[str, Any] = {}
    mapping = json_field(row, "criteria")
    if mapping is not None:
        if not isinstance(mapping, dict):
            raise row.error(f"expected a mapping of criterion name to {nested}", field="criteria")
        found.update(mapping)
    for key, value in row.data.items():
        if key.startswith("criteria.") and value is not None:
            name = key[len("criteria.") :]
            if name in found:
                raise row.error("given twice: in criteria and as a criteria.<name> column", field=key)
            found[name] = value
    return found


def _answer(row: Row, rubric: Rubric) -> tuple[str, dict[str, str]]:
    """The label and criteria answers of a label record, checked against ``rubric`` (the label of a rubric with
    rated criteria is derived from them; a label given must match)."""
    label = text_field(row, "label", required=not rubric.is_rated)
    cells = _criteria_cells(row, nested="its answer")
    criteria: dict[str, str] = {}
    for name, value in cells.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise row.error(
                f"expected an answer (text or a number), got {type(value).__name__}", field=f"criteria.{name}"
            )
        criteria[name] = format_number(value) if isinstance(value, float) else str(value)
    if rubric.is_rated and not criteria:
        raise row.error(
            f"rubric {rubric.key} rates {', '.join(rubric.criterion_names)}: give each answer in criteria.<name> "
            "columns (or a criteria mapping)",
            field="criteria",
        )
    try:
        return rubric.answer(label, criteria)
    except ValueError as exc:
        bad = next((f"criteria.{n}" for n in rubric.criterion_names if f"'{n}'" in str(exc)), None)
        raise row.error(str(exc), field=bad or ("criteria" if rubric.is_rated else "label")) from None


@_bulk
def import_labels(
    project: Project,
    rows: Iterable[Row],
    rubric: Rubric,
    *,
    provenance: Provenance = "blind",
    require_critique: bool = False,
) -> ImportResult:
    """Import labels for one rubric version (stored in the project) in one transaction.

    Unknown items and labels outside the rubric's levels are refused with their location. Each row gets an
    idempotency key derived from its content, so importing the same file twice adds nothing the second time.
    ``provenance`` applies to rows that do not say theirs (e.g. ``corrected`` for a platform's human corrections
    of judge scores).
    """
    project.save_rubric(rubric)
    parsed = [
        (row, label_from_row(row, rubric, provenance=provenance, require_critique=require_critique)) for row in rows
    ]
    known = project.item_ids()
    for row, lab in parsed:
        if lab.item_id not in known:
            raise row.error(f"label for unknown item {lab.item_id!r}: import the items first", field="item_id")
    counts = project.add_labels([lab for _, lab in parsed])
    wanted = set(rubric.critique_required_for)
    missing = sum(1 for _, lab in parsed if lab.critique is None and lab.label in wanted)
    note = ""
    if missing:
        levels = ", ".join(sorted(wanted))
        note = (
            f"{missing} label(s) without the critique {rubric.key} asks for ({levels}); the labeling app requires one"
            " (--require-critique refuses them)"
        )
    return ImportResult("labels", len(parsed), counts.added, counts.unchanged, note)


def import_labels_file(
    project: Project,
    path: str | Path,
    rubric: Rubric,
    fmt: str | None = None,
    *,
    provenance: Provenance = "blind",
    require_critique: bool = False,
) -> ImportResult:
    """Import labels from a JSONL or CSV file."""
    return import_labels(
        project, read_rows(path, fmt), rubric, provenance=provenance, require_critique=require_critique
    )


def import_labels_dataframe(
    project: Project, df: Any, rubric: Rubric, *, provenance: Provenance = "blind", require_critique: bool = False
) -> ImportResult:
    """Import labels from a DataFrame (columns as in the CSV format)."""
    return import_labels(project, dataframe_rows(df), rubric, provenance=provenance, require_critique=require_critique)


# -- verdicts produced elsewhere ----------------------------------------------------------------------------------


def verdict_from_row(row: Row, rubric: Rubric) -> JudgeVerdict:
    """Build a :class:`JudgeVerdict` from another tool's output row.

    Needs ``item_id`` and either ``label`` (a level of the rubric) or ``status`` other than ``ok``
    (``parse_error``, ``refused``, ``api_error``; keep the reply in ``raw_reply``). A confidence without a
    ``confidence_source`` is recorded as ``external``.
    """
    d = row.data
    for key in d:
        if key not in VERDICT_FIELDS and not key.startswith("criteria."):
            raise row.error("unknown field; accepted: " + ", ".join(VERDICT_FIELDS) + ", criteria.<name>", field=key)
    if rubric.is_rated:
        return _rated_verdict(row, rubric, text_field(row, "status"), text_field(row, "label"))
    status = text_field(row, "status") or "ok"
    label = text_field(row, "label")
    if label is not None and status == "ok":
        label = rubric.normalize_label(label)
    if status == "ok":
        if label is None:
            raise row.error(
                "missing: an ok verdict needs a label (or set status to parse_error, refused or api_error)",
                field="label",
            )
        try:
            label = rubric.canonical_label(label, on_step=False)
        except ValueError as exc:
            raise row.error(
                f"{exc} (an unparseable reply is imported with status parse_error)", field="label"
            ) from None
    return validate_row(row, JudgeVerdict, _verdict_data(row, status, label if status == "ok" else None), strict=False)


def _verdict_data(row: Row, status: str, label: str | None, criteria: dict[str, Any] | None = None) -> dict[str, Any]:
    """The fields of a verdict record other than its answers."""
    d = row.data
    confidence = float_field(row, "confidence")
    source = text_field(row, "confidence_source") or ("external" if confidence is not None else "none")
    data: dict[str, Any] = {
        "item_id": text_field(row, "item_id", required=True),
        "status": status,
        "label": label,
        "confidence": confidence,
        "confidence_source": source,
        "rationale": text_field(row, "rationale"),
        "raw_reply": text_field(row, "raw_reply")
        if d.get("raw_reply") is not None
        else (label if status != "ok" else None),
        "input_tokens": int_field(row, "input_tokens"),
        "output_tokens": int_field(row, "output_tokens"),
        "cost_usd": float_field(row, "cost_usd"),
        "latency_s": float_field(row, "latency_s"),
        "cache_hit": bool_field(row, "cache_hit"),
        "created_at": datetime_field(row, "created_at"),
        "extra": json_field(row, "extra") or {},
    }
    if criteria:
        data["criteria"] = criteria
    return data


def _rated_verdict(row: Row, rubric: Rubric, given: str | None, label: str | None) -> JudgeVerdict:
    """A verdict under a rubric with rated criteria: each criterion's answer (a label, or a mapping with
    ``label``, ``status``, ``confidence``, ``confidence_source``, ``rationale``); status and label derived (a
    status given must match; a failed verdict may give no criteria: every criterion failed with it)."""
    status = given or "ok"
    answers: dict[str, Any] = {}
    for name, value in _criteria_cells(row, nested="a label or a mapping").items():
        if isinstance(value, dict):
            answers[name] = value
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            answers[name] = {"label": format_number(value) if isinstance(value, float) else str(value)}
        else:
            raise row.error(f"expected a label or a mapping, got {type(value).__name__}", field=f"criteria.{name}")
    criteria = {}
    for name, a in answers.items():
        if a.get("confidence") is not None and "confidence_source" not in a:
            a = {**a, "confidence_source": "external"}
        if a.get("label") is not None and "status" not in a:
            a = {**a, "status": "ok"}
        elif a.get("label") is None and "status" not in a:
            a = {**a, "status": status if status != "ok" else "parse_error"}
        criteria[name] = validate_row(row, CriterionVerdict, a, strict=False)
    if given is None and len(criteria) == len(rubric.criterion_names) and set(criteria) == set(rubric.criterion_names):
        status = rubric.record_verdict({n: (a.status, a.label) for n, a in criteria.items()})[0]
    data = _verdict_data(row, status, label, criteria)
    verdict = validate_row(row, JudgeVerdict, {**data, "label": None, "status": "parse_error"}, strict=False)
    try:
        checked = check_verdict(rubric, verdict.model_copy(update={"status": status, "label": label}))
    except ValueError as exc:
        raise row.error(str(exc), field="criteria") from None
    return checked


@_bulk
def import_verdicts(
    project: Project,
    rows: Iterable[Row],
    rubric: Rubric,
    *,
    run_name: str,
    model: str | None = None,
    provider: str = "external",
    meta: dict[str, Any] | None = None,
) -> ImportResult:
    """Import another tool's verdicts as the judge run ``run_name`` (created if new), in one transaction."""
    project.save_rubric(rubric)
    parsed = [(row, verdict_from_row(row, rubric)) for row in rows]
    known = project.item_ids()
    seen: dict[str, int] = {}
    for row, v in parsed:
        if v.item_id not in known:
            raise row.error(f"verdict for unknown item {v.item_id!r}: import the items first", field="item_id")
        if v.item_id in seen:
            raise row.error(
                f"second verdict for item {v.item_id!r} (first on line {seen[v.item_id]}); a run "
                "holds one verdict per item",
                field="item_id",
            )
        seen[v.item_id] = row.line
    config = JudgeConfig(
        provider=provider,
        model=model or run_name,
        rubric_id=rubric.id,
        rubric_version=rubric.version,
        few_shot="none",
        confidence="external" if any(v.confidence is not None for _, v in parsed) else "none",
    )
    with project.transaction():
        run = project.find_run(run_name)
        if run is None:
            run = project.create_run(run_name, config, source="import", meta=meta)
        elif (run.config.rubric_id, run.config.rubric_version) != (rubric.id, rubric.version):
            raise UserError(
                f"run {run_name!r} is for rubric {run.config.rubric_id}@{run.config.rubric_version}, not {rubric.key}"
            )
        counts = project.add_verdicts(run.id, [v for _, v in parsed])
        project.set_run_status(run.id, "complete")
    return ImportResult("verdicts", len(parsed), counts.added, counts.unchanged)


def import_verdicts_file(
    project: Project,
    path: str | Path,
    rubric: Rubric,
    *,
    run_name: str,
    model: str | None = None,
    fmt: str | None = None,
) -> ImportResult:
    """Import verdicts from a JSONL or CSV file as a named judge run."""
    return import_verdicts(
        project,
        read_rows(path, fmt),
        rubric,
        run_name=run_name,
        model=model,
        meta={"imported_from": Path(path).name},
    )


def import_verdicts_dataframe(
    project: Project, df: Any, rubric: Rubric, *, run_name: str, model: str | None = None
) -> ImportResult:
    """Import verdicts from a DataFrame as a named judge run."""
    return import_verdicts(project, dataframe_rows(df), rubric, run_name=run_name, model=model)
