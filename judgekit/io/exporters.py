"""Exporting items, labels and verdicts to JSONL or CSV.

Exports are deterministic (fixed column order, sorted keys, items in insertion order), so that
import -> export -> import -> export is byte-stable and exports diff cleanly in version control. CSV and TSV text
cells that a spreadsheet would run as a formula are neutralised (:mod:`judgekit.io.spreadsheet`), and files are
written through a temporary file and a rename (:mod:`judgekit.io.files`): a failed export leaves no partial file.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from judgekit.io.files import write_text_atomic
from judgekit.io.rows import Format, detect_format
from judgekit.io.spreadsheet import escape_formula
from judgekit.models import CONVERSATION_FIELDS, HumanLabel, Item, JudgeVerdict
from judgekit.storage import Project, ProvenanceFilter

ITEM_COLUMNS = (
    "id",
    "input",
    "output",
    "output_a",
    "output_b",
    "reference",
    "context",
    "segment",
    "source",
    "created_at",
    "risk",
    "extra",
)
LABEL_COLUMNS = (
    "item_id",
    "annotator",
    "rubric_id",
    "rubric_version",
    "label",
    "critique",
    "time_spent_s",
    "created_at",
    "revision",
    "flagged",
    "display_order",
    "provenance",
)
VERDICT_COLUMNS = (
    "item_id",
    "status",
    "label",
    "confidence",
    "confidence_source",
    "rationale",
    "raw_reply",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "latency_s",
    "cache_hit",
    "created_at",
    "judge_fingerprint",
    "extra",
)


def _flat_item(item: Item) -> dict[str, Any]:
    d = item.model_dump(mode="json", exclude=set(CONVERSATION_FIELDS))
    d.update(item.conversation_dump())
    meta = d.pop("metadata")
    d.pop("schema_version")
    d.update({k: meta[k] for k in ("segment", "source", "created_at", "risk")})
    d["extra"] = meta["extra"] or None
    return d


def _records(kind: str, records: Iterable[Item | HumanLabel | JudgeVerdict]) -> list[dict[str, Any]]:
    out = []
    for r in records:
        if isinstance(r, Item):
            out.append(_flat_item(r))
        else:
            d = r.model_dump(mode="json")
            d.pop("schema_version")
            if isinstance(r, JudgeVerdict):
                d["extra"] = d["extra"] or None
            out.append(d)
    return out


def write_records(records: Sequence[dict[str, Any]], columns: Sequence[str], fmt: Format) -> str:
    """Render records as JSONL (sorted keys, one object a line) or CSV (fixed columns, JSON for mappings)."""
    if fmt == "jsonl":
        return "".join(
            json.dumps({k: r.get(k) for k in columns}, sort_keys=True, ensure_ascii=False) + "\n" for r in records
        )
    buf = io.StringIO()
    delimiter = "\t" if fmt == "tsv" else ","
    writer = csv.writer(buf, lineterminator="\n", delimiter=delimiter)
    writer.writerow(columns)
    cell_buf = io.StringIO()
    cell_writer = csv.writer(cell_buf, lineterminator="\r\n", delimiter=delimiter)
    for r in records:
        cells = [_csv_cell(r.get(c)) for c in columns]
        if any(c == "" or (c is not None and "\r" in c) for c in cells):
            buf.write(delimiter.join(_one_cell(cell_writer, cell_buf, c) for c in cells) + "\n")
        else:
            writer.writerow(cells)
    return buf.getvalue()


def _one_cell(writer: Any, buf: io.StringIO, cell: str | None) -> str:
    """One CSV cell as the csv module quotes it, for the two cases a whole-row write gets wrong: an empty text (an
    empty model output) is written ``""`` so that it is not read back as missing (an empty cell), and a bare ``"\r"``
    is quoted (the module quotes only the characters of its line terminator, and ours is ``"\n"``)."""
    if cell is None:
        return ""
    buf.seek(0)
    buf.truncate()
    writer.writerow([cell])  # a row of one empty text is written '""' (the module's own rule)
    return buf.getvalue()[:-2]


def _csv_cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return escape_formula(value)
    return str(value)


def export_items(project: Project, fmt: Format = "jsonl") -> str:
    """Every item, in insertion order.

    The conversation columns (``messages``, ``messages_a``, ``messages_b``, ``judged``) are written only when some
    item has a conversation, so a project without conversations exports exactly as before they existed.
    """
    items = project.items()
    columns: tuple[str, ...] = ITEM_COLUMNS
    if any(it.is_conversation for it in items):
        columns = (*ITEM_COLUMNS, *CONVERSATION_FIELDS)
    return write_records(_records("items", items), columns, fmt)


def export_labels(
    project: Project,
    fmt: Format = "jsonl",
    *,
    rubric_id: str | None = None,
    rubric_version: int | None = None,
    history: bool = False,
    provenance: ProvenanceFilter = None,
) -> str:
    """Labels (latest revision of each, or every revision with ``history``), of every provenance or the given.

    Answers per rated criterion are written only when some label has them: a ``criteria`` mapping in JSONL, a
    ``criteria.<name>`` column per criterion in CSV and TSV (what a spreadsheet shows best)."""
    labels = project.labels(rubric_id, rubric_version, history=history, provenance=provenance)
    records = _records("labels", labels)
    columns: tuple[str, ...] = LABEL_COLUMNS
    names = list(dict.fromkeys(n for lab in labels for n in lab.criteria))
    if names and fmt == "jsonl":
        columns = (*LABEL_COLUMNS, "criteria")
    elif names:  # a spreadsheet gets a column per criterion
        columns = (*LABEL_COLUMNS, *(f"criteria.{n}" for n in names))
        for r in records:
            answers = r.pop("criteria", None) or {}
            r.update({f"criteria.{n}": answers.get(n) for n in names})
    return write_records(records, columns, fmt)


def export_verdicts(project: Project, run: str | int, fmt: Format = "jsonl") -> str:
    """Every verdict of a judge run, in item order (with a ``criteria`` mapping, JSON text in CSV, when the
    verdicts answer rated criteria)."""
    verdicts = project.verdicts(run)
    columns = (*VERDICT_COLUMNS, "criteria") if any(v.criteria for v in verdicts) else VERDICT_COLUMNS
    return write_records(_records("verdicts", verdicts), columns, fmt)


def write_export(text: str, path: str | Path | None, fmt: str | None = None) -> Format:
    """Write an export to ``path`` atomically (or return the format for stdout when ``path`` is None)."""
    if path is None:
        return detect_format("-", fmt or "jsonl")
    kind = detect_format(path, fmt)
    write_text_atomic(path, text, "the export")
    return kind
