"""Reading records from JSONL, JSON, CSV, TSV and DataFrames, each tagged with where it came from.

Why: every import error must name the file, the line and the field. Readers yield ``Row`` objects that keep
that location; converters turn pydantic validation errors into :class:`~judgekit.errors.InputError`.

What is read, as spreadsheets and JSON libraries write it (tested, with generated inputs too):

- **Encodings**: UTF-8, with or without a byte order mark; UTF-16 with a byte order mark (Excel's "Unicode
  text"). Anything else (Latin-1, Windows-1252: Excel's plain "CSV" on Windows) is refused at the first byte that is
  not UTF-8, with its line and column. Line endings LF, CRLF (and line breaks inside quoted CSV cells) are read
  as written. A NUL character, a ZIP archive (an ``.xlsx`` saved under another name) or an empty file is refused.
- **CSV**: the header names the columns (surrounding spaces ignored); columns without a name are dropped when
  they are empty (Excel's trailing separators) and refused otherwise; a header that uses ``;`` or tabs instead
  of commas (Excel in many locales) is read with that separator; every row has the header's number of cells (extra
  empty cells at the end are ignored); a cell of any length is read. A cell written by judgekit's export with a
  leading apostrophe against formula injection is read back as it was (:mod:`judgekit.io.spreadsheet`).
- **JSON**: one object per line (``.jsonl``, ``.ndjson``), or a ``.json`` file holding one array of objects. A key
  that appears twice in one object, ``NaN``, ``Infinity`` and numbers too large for a float (``1e400``) are refused
  (a JSON library would silently keep one of the values, or store a number no statistic can use); so are numbers
  of more than 4,300 digits and nesting deeper than Python's JSON reader goes.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal, NamedTuple, TypeVar

from pydantic import BaseModel, ValidationError

from judgekit.errors import InputError, UserError
from judgekit.io.spreadsheet import unescape_formula
from judgekit.models.text import text_problem

Format = Literal["jsonl", "csv", "tsv"]
M = TypeVar("M", bound=BaseModel)

MAX_INT = 2**63 - 1
"""Largest whole number judgekit stores (a 64-bit database integer)."""


class Row(NamedTuple):
    """One input record and its location (``line`` is 1-based; a CSV header is line 1).

    A named tuple (immutable, as a frozen dataclass, but built at a third of the cost: an import makes one per
    record)."""

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


# -- files ----------------------------------------------------------------------------------------------------------

_ZIP = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # ZIP (xlsx, ods, docx) and OLE2 (xls)


def read_rows(path: str | Path, fmt: str | None = None) -> Iterator[Row]:
    """Yield the records of a JSONL/JSON, CSV or TSV file with their line numbers (blank lines are skipped)."""
    p = Path(path)
    kind = detect_format(p, fmt)
    try:
        handle = p.open("rb")
    except OSError as exc:
        raise UserError(f"{p}: cannot open: {exc.strerror}") from exc
    with handle:
        head = handle.read(4)
        handle.seek(0)
        if head.startswith(_ZIP):
            raise InputError(
                "this is a ZIP or Office file (an Excel workbook?), not text: save it as 'CSV UTF-8', or export JSONL",
                path=p,
            )
        utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        text = io.TextIOWrapper(handle, encoding="utf-16" if utf16 else "utf-8-sig", newline="")
        lines = _checked_lines(text, str(p))
        try:
            first = _first_content(lines)
            if first is None:
                what = "one JSON object per line" if kind == "jsonl" else "a header line and one row per record"
                raise InputError(f"the file is empty: expected {what}", path=p)
            if kind == "jsonl" and p.suffix.lower() == ".json" and first[1].lstrip().startswith("["):
                yield from _json_array_rows(first, lines, str(p))
            elif kind == "jsonl":
                yield from _jsonl_rows(_chain(first, lines), str(p))
            else:
                yield from _csv_rows(first, lines, str(p), "\t" if kind == "tsv" else None)
        except UnicodeDecodeError:
            raise _decode_error(p, utf16) from None


def _checked_lines(text: IO[str], path: str) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` for every physical line, refusing NUL characters (binary data; PostgreSQL cannot
    store them)."""
    for lineno, line in enumerate(text, start=1):
        if "\x00" in line:
            raise InputError(
                f"holds a NUL character at column {line.index(chr(0)) + 1}: a binary file, or UTF-16 text without a "
                "byte order mark? Save it as UTF-8 text",
                path=path,
                line=lineno,
            )
        yield lineno, line


def _first_content(lines: Iterator[tuple[int, str]]) -> tuple[int, str] | None:
    for lineno, line in lines:
        if line.strip():
            return lineno, line
    return None


def _chain(first: tuple[int, str], rest: Iterator[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    yield first
    yield from rest


def _decode_error(p: Path, utf16: bool) -> InputError:
    """Where the file stops being text in its encoding: line and column of the first bad byte (read again, only on
    this error path)."""
    raw = p.read_bytes()
    if utf16:
        return InputError("not valid UTF-16 text although it starts with a UTF-16 byte order mark", path=p)
    body = raw[3:] if raw.startswith(codecs.BOM_UTF8) else raw
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = exc.start
        line = body.count(b"\n", 0, start) + 1
        column = start - (body.rfind(b"\n", 0, start) + 1) + 1
        return InputError(
            f"not UTF-8 text: byte 0x{body[start]:02X} at column {column} ({exc.reason}); the file is probably "
            "Latin-1 or Windows-1252 (Excel's plain 'CSV'): save it as 'CSV UTF-8' (or re-encode it to UTF-8)",
            path=p,
            line=line,
        )
    return InputError("not UTF-8 text", path=p)  # pragma: no cover - the text reader found an error


# -- JSON -------------------------------------------------------------------------------------------------------------


class _JsonProblem(ValueError):
    """A value a JSON library would accept that judgekit refuses (a repeated key, a non-finite number)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _JsonProblem(
                "appears twice in one object; a JSON library would keep only the last value, judgekit does not guess",
                field=key,
            )
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise _JsonProblem(f"{name} is not a number judgekit stores: write null for a missing value")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _JsonProblem(f"{text} is too large for a number (it would be stored as infinity)")
    return value


_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_CONSTANT_KEY = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:\s*-?(?:NaN|Infinity|[0-9.]+[eE]\+?[0-9]{3,})')


def loads_json(text: str) -> Any:
    """Parse JSON text strictly: ``ValueError`` (a :class:`json.JSONDecodeError` for syntax, else a message that
    names the problem) for repeated keys, NaN/Infinity, huge numbers, lone surrogates or too deep nesting."""
    try:
        value = json.loads(
            text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant, parse_float=_finite_float
        )
    except RecursionError:
        raise _JsonProblem("nested more deeply than judgekit reads (Python's JSON recursion limit)") from None
    except _JsonProblem as exc:
        if exc.field is None and (m := _CONSTANT_KEY.search(text)):
            exc.field = m.group(1)
        raise
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError):
            raise
        raise _JsonProblem(f"a number too long to read ({exc})") from None
    if _SURROGATE.search(text):
        _refuse_surrogates(value)
    return value


def _refuse_surrogates(value: Any) -> None:
    for text in _strings(value):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise _JsonProblem(
                "holds a lone UTF-16 surrogate escape (\\ud800-\\udfff): not valid Unicode text"
            ) from None


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _json_record(text: str, path: str, lineno: int) -> dict[str, Any]:
    try:
        data = loads_json(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON ({exc.msg} at column {exc.colno}); each line must be one JSON object",
            path=path,
            line=lineno,
        ) from None
    except _JsonProblem as exc:
        raise InputError(str(exc), path=path, line=lineno, field=exc.field) from None
    if not isinstance(data, dict):
        hint = " (a JSON array of objects? name the file .json)" if isinstance(data, list) else ""
        raise InputError(f"expected a JSON object, got {type(data).__name__}{hint}", path=path, line=lineno)
    return data


def _jsonl_rows(lines: Iterable[tuple[int, str]], path: str) -> Iterator[Row]:
    for lineno, text in lines:
        if text.strip():
            yield Row(_json_record(text, path, lineno), path, lineno)


def _json_array_rows(first: tuple[int, str], rest: Iterator[tuple[int, str]], path: str) -> Iterator[Row]:
    """The objects of a ``.json`` file holding one array, each located at the line where it starts."""
    start_line = first[0]
    text = first[1] + "".join(line for _, line in rest)
    decoder = json.JSONDecoder(
        object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant, parse_float=_finite_float
    )
    pos = text.index("[") + 1
    ws = re.compile(r"\s*")

    def line_at(index: int) -> int:
        return start_line + text.count("\n", 0, index)

    expect_value = True
    while True:
        pos = ws.match(text, pos).end()  # type: ignore[union-attr]
        if pos >= len(text):
            raise InputError("the JSON array is not closed with ']'", path=path, line=line_at(pos))
        if text[pos] == "]":
            if ws.match(text, pos + 1).end() != len(text):  # type: ignore[union-attr]
                raise InputError("text after the closing ']' of the JSON array", path=path, line=line_at(pos))
            return
        if not expect_value:
            if text[pos] != ",":
                raise InputError("expected ',' or ']' between the array's objects", path=path, line=line_at(pos))
            pos = ws.match(text, pos + 1).end()  # type: ignore[union-attr]
        line = line_at(pos)
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON ({exc.msg})", path=path, line=line_at(exc.pos)) from None
        except RecursionError:
            raise InputError("nested more deeply than judgekit reads", path=path, line=line) from None
        except _JsonProblem as exc:
            raise InputError(str(exc), path=path, line=line, field=exc.field) from None
        except ValueError as exc:
            raise InputError(f"a number too long to read ({exc})", path=path, line=line) from None
        if _SURROGATE.search(text, pos, end):
            try:
                _refuse_surrogates(value)
            except _JsonProblem as exc:
                raise InputError(str(exc), path=path, line=line) from None
        if not isinstance(value, dict):
            raise InputError(f"expected a JSON object in the array, got {type(value).__name__}", path=path, line=line)
        yield Row(value, path, line)
        pos = end
        expect_value = False


# -- CSV --------------------------------------------------------------------------------------------------------------


class _Lines:
    """Feeds lines to :func:`csv.reader` while remembering the number of the last one it took."""

    def __init__(self, first: tuple[int, str], lines: Iterator[tuple[int, str]]) -> None:
        self._first: tuple[int, str] | None = first
        self._lines = lines
        self.last = 0
        self.taken: list[str] = []
        """The lines of the record being read (cleared by the reader of records)."""

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self._first is None:  # every line but the first (one generator less per line than a chain)
            self.last, line = next(self._lines)
        else:
            (self.last, line), self._first = self._first, None
        self.taken.append(line)
        return line


def _quoted_empty(raw: str, delimiter: str) -> set[int]:
    """Indices of the cells written as ``""`` in one CSV record: an empty text, which an empty unquoted cell is
    not (that is a missing value). The csv module does not tell the two apart, so the record is scanned again; it
    only runs for records that hold ``""`` and an empty cell."""
    out: set[int] = set()
    i, index, n = 0, 0, len(raw)
    while i <= n:
        if i < n and raw[i] == '"':
            j = i + 1
            while j < n:
                if raw[j] == '"':
                    if j + 1 < n and raw[j + 1] == '"':
                        j += 2
                        continue
                    break
                j += 1
            if j == i + 1:
                out.add(index)
            i = j + 1
        nxt = raw.find(delimiter, i)
        if nxt == -1:
            break
        i, index = nxt + 1, index + 1
    return out


def _sniff_delimiter(header: str) -> str:
    """``,`` unless the header line has none and uses tabs or ``;`` (Excel in locales with a decimal comma)."""
    if "," not in header:
        for candidate in ("\t", ";"):
            if candidate in header:
                return candidate
    return ","


def _csv_rows(
    first: tuple[int, str], lines: Iterator[tuple[int, str]], path: str, delimiter: str | None
) -> Iterator[Row]:
    csv.field_size_limit(2**31 - 1)  # long item texts are normal; the default 128 KiB limit is not a format rule
    source = _Lines(first, lines)
    reader = csv.reader(source, delimiter=delimiter or _sniff_delimiter(first[1]), strict=True)
    record_start = [first[0]]  # where the record being read begins (a quoted cell may span lines)
    try:
        names = next(reader)
        header_line = source.last
        header = [n.strip() for n in names]
        dupes = sorted({n for n in header if n and header.count(n) > 1})
        if dupes:
            raise InputError(f"duplicate column names in the header: {', '.join(dupes)}", path=path, line=header_line)
        unnamed = [i for i, n in enumerate(header) if not n]
        named = [i for i, n in enumerate(header) if n]
        plain = not unnamed  # every column named: a record without empty cells maps by zip
        start = record_start[0] = source.last + 1
        source.taken.clear()
        for values in reader:
            lineno, start = start, source.last + 1
            record_start[0] = start
            raw = "".join(source.taken)
            source.taken.clear()
            joined = "".join(values)
            if not joined or joined.isspace():  # a blank record (``any(v.strip() ...)`` in C)
                continue
            if len(values) > len(header) and not any(v.strip() for v in values[len(header) :]):
                values = values[: len(header)]
            if len(values) != len(header):
                raise InputError(
                    f"expected {len(header)} columns as in the header (line {header_line}), got {len(values)}",
                    path=path,
                    line=lineno,
                )
            for i in unnamed:
                if values[i].strip():
                    raise InputError(
                        f"column {i + 1} has no name in the header but holds {values[i][:40]!r}: name it or remove it",
                        path=path,
                        line=lineno,
                    )
            if plain and "" not in values:  # the common record (no empty cell): every cell as it is, but formulas
                plain_cells = dict(zip(header, values, strict=True))
                if "'" in raw:
                    for key, value in plain_cells.items():
                        if value[0] == "'":
                            plain_cells[key] = unescape_formula(value)
                yield Row(plain_cells, path, lineno)
                continue
            empty_text = _quoted_empty(raw.rstrip("\r\n"), reader.dialect.delimiter) if '""' in raw else set()
            cells = {
                header[i]: (unescape_formula(values[i]) if values[i][0] == "'" else values[i])
                if values[i] != ""
                else ""
                if i in empty_text
                else None
                for i in named
            }
            yield Row(cells, path, lineno)
    except csv.Error as exc:
        reason = str(exc)
        if "unexpected end of data" in reason:
            reason = f"a quoted cell that starts on this line is never closed (the file ends at line {source.last})"
        raise InputError(f"not valid CSV: {reason}", path=path, line=record_start[0]) from None


def dataframe_rows(df: Any, name: str = "<DataFrame>") -> Iterator[Row]:
    """Rows of a pandas DataFrame (NaN becomes missing); ``line`` is the 1-based row position."""
    for pos, record in enumerate(df.to_dict(orient="records"), start=1):
        clean = {str(k): (None if isinstance(v, float) and math.isnan(v) else v) for k, v in record.items()}
        yield Row(clean, name, pos)


# -- fields -----------------------------------------------------------------------------------------------------------


def validate_row(row: Row, model: type[M], data: Mapping[str, Any], *, strict: bool) -> M:
    """Validate ``data`` as ``model``, turning the first validation error into a located :class:`InputError`."""
    try:
        # the model's validator itself (what model_validate calls): an import validates every row through here
        return model.__pydantic_validator__.validate_python(data if type(data) is dict else dict(data), strict=strict)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"] if x != "metadata") or None
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling; see the README for the accepted columns)"
        elif "input" in err and err["type"] not in ("missing",):
            msg = f"{msg} (got {_short(err['input'])})"
        raise row.error(msg, field=loc) from None


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return (
        text if len(text) <= limit else text[: limit - 5] + "...'" if isinstance(value, str) else text[:limit] + "..."
    )


def text_field(row: Row, name: str, *, required: bool = False) -> str | None:
    """A field that must be a string; a JSON number is taken as its shortest text (``7.0`` -> ``"7"``).

    Lone surrogates and NUL characters are refused (they cannot be stored as UTF-8 text or in PostgreSQL)."""
    value = row.data.get(name)
    if type(value) is str and value.isascii():  # the common case, checked first (imports call this per cell)
        if "\x00" in value:
            raise row.error("holds a NUL character, which cannot be stored as text", field=name)
        return value
    if value is None:
        if required:
            raise row.error("missing (required)", field=name)
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise row.error(f"expected text, got {type(value).__name__}", field=name)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise row.error(f"expected text, got the number {value!r}", field=name)
        if value.is_integer() and abs(value) < 2**53:
            value = int(value)
    if not isinstance(value, str):
        return str(value)
    problem = text_problem(value)  # the models' rule (judgekit.models.text), said here with the line and field
    if problem is not None:
        raise row.error(problem, field=name)
    return value


def float_field(row: Row, name: str) -> float | None:
    """An optional finite number (CSV text is parsed). NaN and infinities are refused: leave the cell empty (or
    write null) for a missing value."""
    value = row.data.get(name)
    if isinstance(value, str) and not value.strip():  # an empty cell, quoted or not, holds no value
        value = None
    if value is None:
        return None
    if isinstance(value, bool):
        raise row.error(f"expected a number, got {value!r}", field=name)
    try:
        out = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError, OverflowError):
        raise row.error(f"expected a number, got {_short(value)}", field=name) from None
    if not math.isfinite(out):
        raise row.error(
            f"expected a finite number, got {_short(value)}: leave it empty (or null) when there is none", field=name
        )
    return out


def int_field(row: Row, name: str) -> int | None:
    """An optional whole number within the database's 64-bit range (``3``, ``3.0`` and ``"3"`` are 3)."""
    value = row.data.get(name)
    if isinstance(value, str) and not value.strip():  # an empty cell, quoted or not, holds no value
        value = None
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        out = value
    else:
        number = float_field(row, name)
        if number is None:
            return None
        if not number.is_integer():
            raise row.error(f"expected a whole number, got {number!r}", field=name)
        out = int(number)
    if abs(out) > MAX_INT:
        raise row.error(f"expected a whole number of at most {MAX_INT}, got {_short(value)}", field=name)
    return out


def bool_field(row: Row, name: str) -> bool:
    """An optional boolean: true/false, 1/0, yes/no, any case (missing means false)."""
    value = row.data.get(name)
    if isinstance(value, str) and not value.strip():
        value = None
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "y"):
        return True
    if text in ("false", "0", "no", "n"):
        return False
    raise row.error(f"expected true or false, got {_short(value)}", field=name)


def json_field(row: Row, name: str, what: str | None = None) -> Any:
    """A field holding JSON: a mapping or list in JSONL, JSON text in CSV (read as strictly as a JSONL line);
    ``what`` describes the expected value in error messages ("a list of messages")."""
    value = row.data.get(name)
    if isinstance(value, str) and not value.strip():  # an empty cell, quoted or not, holds no value
        value = None
    if value is None or isinstance(value, dict | list):
        return value
    if not isinstance(value, str):
        raise row.error(f"expected JSON text, got {type(value).__name__}", field=name)
    try:
        return loads_json(value)
    except json.JSONDecodeError as exc:
        expected = f"{what} as JSON" if what else "JSON"
        raise row.error(
            f"expected {expected}, got {_short(value)} ({exc.msg} at column {exc.colno})", field=name
        ) from None
    except _JsonProblem as exc:
        raise row.error(str(exc), field=name if exc.field is None else f"{name}.{exc.field}") from None


_NUMERIC = re.compile(r"\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*")


def datetime_field(row: Row, name: str, value: Any = None) -> datetime | None:
    """An optional date and time in ISO 8601 (``2024-05-01T10:00:00Z``, ``2024-05-01 10:00:00+02:00``, a date
    alone), returned in UTC; a time without an offset is taken as UTC.

    Numbers are refused: a spreadsheet date serial (``45413.5``) or a Unix timestamp would otherwise be read as a
    time in 1970 without a word. ``value`` overrides ``row.data[name]`` (a nested field)."""
    value = row.data.get(name) if value is None else value
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, bool) or not isinstance(value, str) or _NUMERIC.fullmatch(value):
        raise row.error(_date_hint(value), field=name)
    else:
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise row.error(
                f"expected an ISO 8601 date and time such as 2024-05-01T10:00:00Z, got {_short(value)}", field=name
            ) from None
    try:
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except OverflowError:
        raise row.error(f"{_short(value)} is outside the range of dates judgekit stores (in UTC)", field=name) from None


def _date_hint(value: Any) -> str:
    return (
        f"expected an ISO 8601 date and time such as 2024-05-01T10:00:00Z, got the number {_short(value)} (a "
        "spreadsheet date serial or a Unix timestamp? format the column as an ISO date, or as text)"
    )
