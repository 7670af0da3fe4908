"""Reading platform export files: a JSON array, a page of an API listing (``{"data": [...]}``), a mapping holding
the list under a named key, or JSON Lines; every record comes back with its position for error messages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from judgekit.errors import InputError, UserError


def read_records(path: str | Path, *keys: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(position, record)`` for every record of ``path``; positions are lines for JSONL, 1-based indexes otherwise.

    ``keys`` are the names a list may be kept under in a JSON document (``{"traces": [...]}``), tried in order
    after ``data``.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{p}: cannot open: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=p) from None
    stripped = text.lstrip()
    if not stripped:
        return
    if stripped[0] == "[" or (stripped[0] == "{" and not _is_jsonl(text)):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})", path=p) from None
        records = doc
        if isinstance(doc, dict):
            for key in ("data", *keys):
                if isinstance(doc.get(key), list):
                    records = doc[key]
                    break
            else:
                records = [doc]
        for pos, rec in enumerate(records, start=1):
            if not isinstance(rec, dict):
                raise InputError(f"expected a JSON object, got {type(rec).__name__}", path=p, line=pos)
            yield pos, rec
        return
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON ({exc.msg} at column {exc.colno})", path=p, line=lineno) from None
        if not isinstance(rec, dict):
            raise InputError(f"expected a JSON object, got {type(rec).__name__}", path=p, line=lineno)
        yield lineno, rec


def _is_jsonl(text: str) -> bool:
    """True when the text holds more than one JSON value, one per line."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) < 2:
        return False
    try:
        json.loads(lines[0])
    except json.JSONDecodeError:
        return False
    return True
