"""Hugging Face datasets: local data files or a dataset saved to disk, with an explicit column mapping.

Read with the ``datasets`` library (the ``huggingface`` extra): ``datasets.load_from_disk(folder)`` for a
``save_to_disk`` folder (a ``Dataset`` or a ``DatasetDict``, pick ``split``), ``datasets.load_dataset(builder,
data_files=...)`` for ``.jsonl`` / ``.json`` / ``.csv`` / ``.parquet`` files; nothing is fetched from the Hub
(``HF_HUB_OFFLINE`` and ``HF_DATASETS_OFFLINE`` are set while reading).

Rows are long-format ratings: one row per (item, rater), the item's fields repeated. ``columns`` maps judgekit
fields to the data set's columns: item fields ``id`` (required), ``input``, ``output``, ``output_a``,
``output_b``, ``reference``, ``context``, ``messages`` / ``messages_a`` / ``messages_b`` (lists of chat messages),
``segment``, ``risk``; label fields ``label`` (a person's rating), ``annotator``, ``critique``, ``provenance``;
and ``verdict`` (a judge's label, with ``rationale``). Authorship is the mapping's: a column is a person's or a
judge's because the user says so. A row without a value in the label (verdict) column carries no label (verdict).
Rows that repeat an item must repeat it identically.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from judgekit.connectors._base import Bundle, ScoreMapping, record_row
from judgekit.connectors._messages import chat_messages, is_chat
from judgekit.errors import InputError, UserError
from judgekit.io.rows import Row
from judgekit.models import PROVENANCES, canonical_json

ITEM_COLUMNS = ("input", "output", "output_a", "output_b", "reference", "context", "segment", "risk")
CONVERSATION_COLUMNS = ("messages", "messages_a", "messages_b")
LABEL_COLUMNS = ("label", "annotator", "critique", "provenance")
VERDICT_COLUMNS = ("verdict", "rationale")
FIELDS = ("id", *ITEM_COLUMNS, *CONVERSATION_COLUMNS, *LABEL_COLUMNS, *VERDICT_COLUMNS)
_BUILDERS = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}


def parse_columns(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``["id=conv_id", "label=rating"]`` -> ``{"id": "conv_id", "label": "rating"}`` (the CLI's ``--map``)."""
    out: dict[str, str] = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not column or field not in FIELDS:
            raise UserError(f"--map {pair!r}: expected FIELD=COLUMN with FIELD one of {', '.join(FIELDS)}")
        out[field] = column
    if "id" not in out:
        raise UserError("--map id=COLUMN is required: the column that identifies an item")
    return out


def _rows(path: Path, split: str | None) -> Iterator[dict[str, Any]]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    try:
        import datasets
        import datasets.utils.logging
    except ImportError:
        raise UserError("huggingface needs the datasets library: pip install 'judgekit[huggingface]'") from None
    datasets.utils.logging.disable_progress_bar()
    if not path.exists():
        raise UserError(f"{path}: no such file or folder")
    if path.is_dir():
        ds: Any = datasets.load_from_disk(str(path))
        if isinstance(ds, datasets.DatasetDict):
            if split is None:
                if len(ds) != 1:
                    raise UserError(f"{path}: the dataset has splits {', '.join(ds)}: pick one with --split")
                split = next(iter(ds))
            if split not in ds:
                raise UserError(f"{path}: no split {split!r} (splits: {', '.join(ds)})")
            ds = ds[split]
    else:
        builder = _BUILDERS.get(path.suffix.lower())
        if builder is None:
            raise UserError(f"{path}: expected a save_to_disk folder or a .jsonl, .json, .csv or .parquet file")
        import tempfile

        with tempfile.TemporaryDirectory() as cache:
            try:
                ds = datasets.load_dataset(
                    builder, data_files=str(path), split=split or "train", cache_dir=cache, keep_in_memory=True
                )
            except ValueError as exc:  # datasets' own check of the split name
                if split is None or split == "train":
                    raise
                raise UserError(
                    f"{path}: --split {split!r}: {exc} (a data file has one split, 'train': leave --split out)"
                ) from None
    yield from ds


def read_huggingface(
    path: str | Path, mapping: ScoreMapping, columns: Mapping[str, str], *, split: str | None = None
) -> Bundle:
    """A data set's rows as items, human labels and judge verdicts, by the ``columns`` mapping."""
    p = Path(path)
    bundle = Bundle("huggingface", source=str(p))
    first_row: dict[str, tuple[int, str]] = {}
    present: set[str] | None = None
    run = mapping.run or f"huggingface:{columns.get('verdict', 'verdict')}"
    for n, record in enumerate(_rows(p, split), start=1):
        if present is None:
            present = set(record)
            missing = [c for c in columns.values() if c not in present]
            if missing:
                raise UserError(
                    f"{p}: no column {', '.join(map(repr, missing))}; columns: {', '.join(sorted(present))}"
                )
        where = Row({}, str(p), n)

        def get(field: str, rec: dict[str, Any] = record) -> Any:
            col = columns.get(field)
            return None if col is None else rec.get(col)

        raw_id = get("id")
        if raw_id is None or raw_id == "":
            raise where.error("missing (required: the item id)", field=columns["id"])
        item_id = mapping.item_id(str(raw_id))
        data: dict[str, Any] = {"id": item_id, "source": "huggingface"}
        for field in ITEM_COLUMNS:
            value = get(field)
            if value is not None:
                data[field] = value if isinstance(value, str) else canonical_json(value)
        for field in CONVERSATION_COLUMNS:
            value = get(field)
            if value is None:
                continue
            if not is_chat(value):
                raise where.error("expected a list of chat messages (each with a role)", field=columns[field])
            data[field] = chat_messages(value)
        key = canonical_json(data)
        if item_id not in first_row:
            first_row[item_id] = (n, key)
            bundle.items.append(record_row(data, str(p), n))
        elif first_row[item_id][1] != key:
            raise where.error(
                f"item {item_id!r} differs from its first row ({first_row[item_id][0]}): rows of one item repeat "
                "its fields identically",
                field=columns["id"],
            )
        label = get("label")
        if label is not None and label != "":
            prov = get("provenance") or "blind"
            if prov not in PROVENANCES:
                raise where.error(
                    f"expected one of {', '.join(PROVENANCES)}, got {prov!r}", field=columns["provenance"]
                )
            annotator = get("annotator")
            bundle.labels.append(
                record_row(
                    {
                        "item_id": item_id,
                        "annotator": str(annotator) if annotator not in (None, "") else "huggingface:anonymous",
                        "label": mapping.level(label, where, columns["label"]),
                        "critique": get("critique"),
                        "provenance": prov,
                    },
                    str(p),
                    n,
                )
            )
        verdict = get("verdict")
        if verdict is not None and verdict != "":
            rows = bundle.verdicts.setdefault(run, [])
            if any(r.data["item_id"] == item_id for r in rows):
                continue  # the judge's verdict repeats on every rating row of the item
            rows.append(
                record_row(
                    {
                        "item_id": item_id,
                        "label": mapping.level(verdict, where, columns["verdict"]),
                        "rationale": get("rationale"),
                    },
                    str(p),
                    n,
                )
            )
    if present is None:
        raise InputError("the data set has no rows", path=p)
    return bundle
