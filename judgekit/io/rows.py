"""Reading records from JSONL, CSV and DataFrames, each tagged with where it came from.

Why: every import error must name the file, the line and the field. Readers yield ``Row`` objects that keep
that location; converters turn pydantic validation errors into :class:`~judgekit.errors.InputError`.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from judgekit.errors import InputError, UserError
from judgekit.io.spreadsheet import unescape_formula

Format = Literal["jsonl", "csv", "tsv"]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Row:
    """One input record and its location (``line`` is 1-based; a CSV header is line 1)."""

    data: dict[str, Any]
    path: str
    line: int

    def error(self, message: str, field: str | None = None) -> InputError:
        """An :class:`InputError` located at this row."""
        return InputError(message, path=self.path, line=self.line, field=field)


def detect_format(path: str | Path, fmt: str | None = None) -> Format:
    """``jsonl``, ``csv`` or ``tsv`` (tab-separated), from ``fmt`` or the file extension."""
    if fmt is not None:
        if fmt not in ("jsonl", "csv", "tsv"):
            raise UserError(f"unknown format {fmt!r}: expected jsonl, csv or tsv")
        return "jsonl" if fmt == "jsonl" else "tsv" if fmt == "tsv" else "csv"
    suffix = Path(path).suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix == ".tsv":
        return "tsv"
    if suffix == ".csv":
        return "csv"
    raise UserError(f"{path}: cannot tell the format from the extension {suffix!r}; pass --format jsonl|csv|tsv")


def read_rows(path: str | Path, fmt: str | None = None) -> Iterator[Row]:
    """Yield the records of a JSONL or CSV file with their line numbers (blank JSONL lines are skipped)."""
    p = Path(path)
    kind = detect_format(p, fmt)
    try:
        handle = p.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise UserError(f"{p}: cannot open: {exc.strerror}") from exc
    with handle:
        try:
            if kind == "jsonl":
                yield from _jsonl_rows(handle, str(p))
            else:
                yield from _csv_rows(handle, str(p), delimiter="\t" if kind == "tsv" else ",")
        except UnicodeDecodeError as exc:
            raise InputError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=p) from None


def _jsonl_rows(handle: Any, path: str) -> Iterator[Row]:
    for lineno, text in enumerate(handle, start=1):
        if not text.strip():
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"not valid JSON ({exc.msg} at column {exc.colno}); each line must be one JSON object",
                path=path,
                line=lineno,
            ) from None
        if not isinstance(data, dict):
            raise InputError(f"expected a JSON object, got {type(data).__name__}", path=path, line=lineno)
        yield Row(data, path, lineno)


def _csv_rows(handle: Any, path: str, delimiter: str) -> Iterator[Row]:
    reader = csv.reader(handle, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    if len(set(header)) != len(header):
        raise InputError(f"duplicate column names in the header: {header}", path=path, line=1)
    for values in reader:
        lineno = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            raise InputError(
                f"expected {len(header)} columns as in the header, got {len(values)}", path=path, line=lineno
            )
        cells = {k: (unescape_formula(v) if v != "" else None) for k, v in zip(header, values, strict=True)}
        yield Row(cells, path, lineno)


def dataframe_rows(df: Any, name: str = "<DataFrame>") -> Iterator[Row]:
    """Rows of a pandas DataFrame (NaN becomes missing); ``line`` is the 1-based row position."""
    for pos, record in enumerate(df.to_dict(orient="records"), start=1):
        clean = {str(k): (None if isinstance(v, float) and math.isnan(v) else v) for k, v in record.items()}
        yield Row(clean, name, pos)


def validate_row(row: Row, model: type[M], data: Mapping[str, Any], *, strict: bool) -> M:
    """Validate ``data`` as ``model``, turning the first validation error into a located :class:`InputError`."""
    try:
        return model.model_validate(dict(data), strict=strict)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"] if x != "metadata") or None
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling; see the README for the accepted columns)"
        elif "input" in err and err["type"] not in ("missing",):
            msg = f"{msg} (got {err['input']!r})"
        raise row.error(msg, field=loc) from None


def text_field(row: Row, name: str, *, required: bool = False) -> str | None:
    """A field that must be a string (numbers are taken as their text)."""
    value = row.data.get(name)
    if value is None:
        if required:
            raise row.error("missing (required)", field=name)
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise row.error(f"expected text, got {type(value).__name__}", field=name)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def float_field(row: Row, name: str) -> float | None:
    """An optional number (CSV text is parsed)."""
    value = row.data.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        raise row.error(f"expected a number, got {value!r}", field=name)
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise row.error(f"expected a number, got {value!r}", field=name) from None
    if math.isnan(out):
        return None
    return out


def bool_field(row: Row, name: str) -> bool:
    """An optional boolean: true/false, 1/0, yes/no (missing means false)."""
    value = row.data.get(name)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "y"):
        return True
    if text in ("false", "0", "no", "n"):
        return False
    raise row.error(f"expected true or false, got {value!r}", field=name)


def json_field(row: Row, name: str) -> Any:
    """A field holding JSON: a mapping in JSONL, JSON text in CSV."""
    value = row.data.get(name)
    if value is None or isinstance(value, dict | list):
        return value
    try:
        return json.loads(value)
    except (TypeError, json.JSONDecodeError):
        raise row.error(f"expected JSON, got {value!r}", field=name) from None
