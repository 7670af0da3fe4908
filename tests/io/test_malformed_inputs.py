"""Every import, tried as a careless user and an attacker would (issue 16, "Clear errors, nothing half-written").

Each case is a file as a spreadsheet, a JSON library or a person produces it. A refused case must exit 2 through the
real CLI with the file, the line (where there is one), the field and what was expected, never a traceback or the
CLI's "internal error" line, and leave the project exactly as it was. An accepted case must store what the file
means. The cases are data (:data:`REFUSED`, :data:`ACCEPTED`), so the closing note counts them.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from judgekit.cli import main
from judgekit.storage import Project

ROOT = Path(__file__).resolve().parents[2]
RUBRIC = str(ROOT / "rubrics" / "helpfulness_pass_fail.yaml")
BASE_ITEMS = [{"id": "a", "input": "q", "output": "o"}, {"id": "b", "input": "q", "output": "o"}]


@dataclass(frozen=True)
class Refused:
    """A file that must be refused: ``line`` None means a whole-file problem (no line in the message)."""

    name: str
    kind: str
    filename: str
    content: bytes
    line: int | None
    field: str | None
    says: str


def _item(**kw: object) -> bytes:
    return (json.dumps({"id": "x", "input": "q", "output": "o", **kw}) + "\n").encode()


REFUSED = [
    # encodings and binary files
    Refused(
        "latin-1 csv", "items", "i.csv", "id,input,output\na,q,o\nb,caf\xe9,o\n".encode("latin-1"), 3, None, "not UTF-8"
    ),
    Refused(
        "cp1252 jsonl",
        "items",
        "i.jsonl",
        '{"id":"a","input":"\u201cq\u201d","output":"o"}\n'.encode("cp1252"),
        1,
        None,
        "Windows-1252",
    ),
    Refused("NUL byte", "items", "i.csv", b"id,input,output\na,q\x00q,o\n", 2, None, "NUL"),
    Refused("UTF-16 without BOM", "items", "i.csv", "id,input,output\na,q,o\n".encode("utf-16-le"), 1, None, "NUL"),
    Refused("xlsx renamed .csv", "items", "i.csv", b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40, None, None, "Excel"),
    Refused(
        "xls renamed .csv", "items", "i.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40, None, None, "Excel"
    ),
    Refused("empty csv", "items", "i.csv", b"", None, None, "empty"),
    Refused("empty jsonl", "labels", "l.jsonl", b"", None, None, "empty"),
    Refused("blank lines only", "verdicts", "v.jsonl", b"\n \r\n\t\n", None, None, "empty"),
    Refused("BOM only", "items", "i.csv", codecs.BOM_UTF8, None, None, "empty"),
    # CSV structure
    Refused("ragged row (more)", "items", "i.csv", b"id,input,output\na,q,o,extra\n", 2, None, "expected 3 columns"),
    Refused("ragged row (fewer)", "items", "i.csv", b"id,input,output\na,q\n", 2, None, "expected 3 columns"),
    Refused("duplicate header", "items", "i.csv", b"id,input,input\na,q,o\n", 1, None, "duplicate column names"),
    Refused("unnamed column with data", "items", "i.csv", b"id,input,output,\na,q,o,surprise\n", 2, None, "no name"),
    Refused("unclosed quote", "items", "i.csv", b'id,input,output\na,"q,o\nb,q,o\n', 2, None, "not valid CSV"),
    Refused(
        "changed item re-imported", "items", "i.csv", b"id,input,output\nb,q,o\na,changed,o\n", 3, "id", "immutable"
    ),
    Refused("unknown column", "items", "i.csv", b"id,input,output,colour\na,q,o,red\n", 2, "colour", "unknown field"),
    Refused("header case", "items", "i.csv", b"ID,input,output\na,q,o\n", 2, "ID", "unknown field"),
    # JSON as libraries write it
    Refused("not JSON", "items", "i.jsonl", b'{"id": "a", input: "q"}\n', 1, None, "not valid JSON"),
    Refused("trailing comma", "items", "i.jsonl", b'{"id":"a","input":"q","output":"o",}\n', 1, None, "not valid JSON"),
    Refused("array in .jsonl", "items", "i.jsonl", b'[{"id":"a","input":"q","output":"o"}]\n', 1, None, ".json"),
    Refused("scalar line", "items", "i.jsonl", b"42\n", 1, None, "expected a JSON object"),
    Refused("duplicate key", "items", "i.jsonl", b'{"id":"a","id":"b","input":"q","output":"o"}\n', 1, "id", "twice"),
    Refused(
        "duplicate key nested",
        "items",
        "i.jsonl",
        _item(extra=None).replace(b'"extra": null', b'"extra": {"k": 1, "k": 2}'),
        1,
        "k",
        "twice",
    ),
    Refused("NaN", "verdicts", "v.jsonl", b'{"item_id":"a","label":"pass","confidence":NaN}\n', 1, "confidence", "NaN"),
    Refused(
        "Infinity",
        "verdicts",
        "v.jsonl",
        b'{"item_id":"a","label":"pass","cost_usd":Infinity}\n',
        1,
        "cost_usd",
        "Infinity",
    ),
    Refused(
        "-Infinity",
        "labels",
        "l.jsonl",
        b'{"item_id":"a","annotator":"x","label":"pass","time_spent_s":-Infinity}\n',
        1,
        "time_spent_s",
        "Infinity",
    ),
    Refused(
        "1e400",
        "labels",
        "l.jsonl",
        b'{"item_id":"a","annotator":"x","label":"pass","time_spent_s":1e400}\n',
        1,
        "time_spent_s",
        "too large",
    ),
    Refused(
        "NaN in extra", "items", "i.jsonl", b'{"id":"a","input":"q","output":"o","extra":{"x":NaN}}\n', 1, "x", "NaN"
    ),
    Refused(
        "5000-digit int",
        "items",
        "i.jsonl",
        b'{"id":' + b"9" * 5000 + b',"input":"q","output":"o"}\n',
        1,
        None,
        "too long",
    ),
    Refused(
        "huge int tokens",
        "verdicts",
        "v.jsonl",
        b'{"item_id":"a","label":"pass","input_tokens":99999999999999999999999}\n',
        1,
        "input_tokens",
        "at most",
    ),
    Refused(
        "huge rubric_version",
        "labels",
        "l.jsonl",
        b'{"item_id":"a","annotator":"x","label":"pass","rubric_version":99999999999999999999999}\n',
        1,
        "rubric_version",
        "at most",
    ),
    Refused(
        "deep nesting",
        "items",
        "i.jsonl",
        b'{"id":"a","input":"q","output":"o","extra":{"x":' + b"[" * 100_000 + b"]" * 100_000 + b"}}\n",
        1,
        None,
        "nested",
    ),
    Refused(
        "lone surrogate", "items", "i.jsonl", b'{"id":"a","input":"q\\ud800","output":"o"}\n', 1, None, "surrogate"
    ),
    Refused(
        "json array cut short", "items", "i.json", b'[{"id":"a","input":"q","output":"o"},\n', 2, None, "not valid JSON"
    ),
    Refused(
        "json array not closed", "items", "i.json", b'[{"id":"x","input":"q","output":"o"}\n', 2, None, "not closed"
    ),
    Refused(
        "json array of scalars",
        "items",
        "i.json",
        b'[{"id":"a","input":"q","output":"o"},\n 3]\n',
        2,
        None,
        "expected a JSON object",
    ),
    # ids (identity rules)
    Refused("blank id", "items", "i.csv", b"id,input,output\n  ,q,o\n", 2, "id", "blank"),
    Refused("newline in id", "items", "i.jsonl", _item(id="a\nb"), 1, "id", "control character"),
    Refused("bidi override in id", "items", "i.jsonl", _item(id="abc\u202edef"), 1, "id", "RIGHT-TO-LEFT OVERRIDE"),
    Refused("zero-width space in id", "items", "i.jsonl", _item(id="a\u200bb"), 1, "id", "invisible"),
    Refused("bool id", "items", "i.jsonl", _item(id=True), 1, "id", "expected text"),
    Refused("list id", "items", "i.jsonl", _item(id=["a"]), 1, "id", "expected text"),
    Refused("same id with spaces", "items", "i.jsonl", _item(id="a ") + _item(id=" a"), 2, "id", "duplicate item id"),
    Refused(
        "same id NFC/NFD",
        "items",
        "i.jsonl",
        _item(id="caf\u00e9") + _item(id="cafe\u0301"),
        2,
        "id",
        "duplicate item id",
    ),
    Refused("number and text id", "items", "i.jsonl", _item(id=7) + _item(id="7"), 2, "id", "duplicate item id"),
    Refused("blank annotator", "labels", "l.csv", b"item_id,annotator,label\na, ,pass\n", 2, "annotator", "blank"),
    Refused(
        "label for unknown item",
        "labels",
        "l.csv",
        b"item_id,annotator,label\nzz,x,pass\n",
        2,
        "item_id",
        "unknown item",
    ),
    # dates
    Refused(
        "Excel serial date",
        "labels",
        "l.csv",
        b"item_id,annotator,label,created_at\na,x,pass,45413.5\n",
        2,
        "created_at",
        "spreadsheet date",
    ),
    Refused("Unix timestamp", "items", "i.jsonl", _item(created_at=1714557600), 1, "created_at", "Unix timestamp"),
    Refused(
        "US date", "items", "i.csv", b"id,input,output,created_at\na,q,o,5/1/2024 10:00\n", 2, "created_at", "ISO 8601"
    ),
    Refused(
        "words for a date",
        "labels",
        "l.csv",
        b"item_id,annotator,label,created_at\na,x,pass,yesterday\n",
        2,
        "created_at",
        "ISO 8601",
    ),
    Refused(
        "date out of range in UTC",
        "labels",
        "l.csv",
        b"item_id,annotator,label,created_at\na,x,pass,9999-12-31T23:59:59-05:00\n",
        2,
        "created_at",
        "outside the range",
    ),
    Refused(
        "year 0",
        "verdicts",
        "v.csv",
        b"item_id,label,created_at\na,pass,0000-01-01T00:00:00Z\n",
        2,
        "created_at",
        "ISO 8601",
    ),
    # numbers and flags
    Refused("nan text", "verdicts", "v.csv", b"item_id,label,confidence\na,pass,nan\n", 2, "confidence", "finite"),
    Refused(
        "inf text",
        "labels",
        "l.csv",
        b"item_id,annotator,label,time_spent_s\na,x,pass,inf\n",
        2,
        "time_spent_s",
        "finite",
    ),
    Refused(
        "percent", "verdicts", "v.csv", b"item_id,label,confidence\na,pass,80%\n", 2, "confidence", "expected a number"
    ),
    Refused(
        "decimal comma",
        "verdicts",
        "v.csv",
        b'item_id,label,confidence\na,pass,"0,8"\n',
        2,
        "confidence",
        "expected a number",
    ),
    Refused(
        "confidence 80",
        "verdicts",
        "v.csv",
        b"item_id,label,confidence\na,pass,80\n",
        2,
        "confidence",
        "less than or equal to 1",
    ),
    Refused(
        "fractional tokens",
        "verdicts",
        "v.jsonl",
        b'{"item_id":"a","label":"pass","output_tokens":1.5}\n',
        1,
        "output_tokens",
        "whole number",
    ),
    Refused(
        "negative tokens",
        "verdicts",
        "v.jsonl",
        b'{"item_id":"a","label":"pass","output_tokens":-5}\n',
        1,
        "output_tokens",
        "greater than or equal to 0",
    ),
    Refused(
        "fractional rubric_version",
        "labels",
        "l.csv",
        b"item_id,annotator,label,rubric_version\na,x,pass,1.5\n",
        2,
        "rubric_version",
        "whole number",
    ),
    Refused(
        "negative time",
        "labels",
        "l.csv",
        b"item_id,annotator,label,time_spent_s\na,x,pass,-3\n",
        2,
        "time_spent_s",
        "greater than or equal to 0",
    ),
    Refused(
        "flag maybe",
        "labels",
        "l.csv",
        b"item_id,annotator,label,flagged\na,x,pass,maybe\n",
        2,
        "flagged",
        "true or false",
    ),
    # labels and verdicts against the rubric
    Refused("label not a level", "labels", "l.csv", b"item_id,annotator,label\na,x,great\n", 2, "label", "not a level"),
    Refused("label case", "labels", "l.csv", b"item_id,annotator,label\na,x,PASS\n", 2, "label", "not a level"),
    Refused(
        "number label", "labels", "l.jsonl", b'{"item_id":"a","annotator":"x","label":1}\n', 1, "label", "not a level"
    ),
    Refused(
        "display order",
        "labels",
        "l.csv",
        b"item_id,annotator,label,display_order\na,x,pass,xy\n",
        2,
        "display_order",
        "'ab' or 'ba'",
    ),
    Refused(
        "other rubric",
        "labels",
        "l.csv",
        b"item_id,annotator,label,rubric_id\na,x,pass,other\n",
        2,
        "rubric_id",
        "rubric",
    ),
    Refused("ok verdict without label", "verdicts", "v.jsonl", b'{"item_id":"a"}\n', 1, "label", "needs a label"),
    Refused(
        "status unknown", "verdicts", "v.jsonl", b'{"item_id":"a","status":"timeout"}\n', 1, "status", "parse_error"
    ),
    Refused(
        "second verdict",
        "verdicts",
        "v.jsonl",
        b'{"item_id":"a","label":"pass"}\n{"item_id":"a ","label":"fail"}\n',
        2,
        "item_id",
        "second verdict",
    ),
    Refused(
        "extra not JSON", "items", "i.csv", b"id,input,output,extra\na,q,o,{not json}\n", 2, "extra", "expected JSON"
    ),
    Refused("extra a list", "items", "i.csv", b"id,input,output,extra\na,q,o,[1]\n", 2, "extra", "mapping"),
    Refused(
        "extra with NaN text", "verdicts", "v.csv", b'item_id,label,extra\na,pass,"{""x"": NaN}"\n', 2, "extra.x", "NaN"
    ),
    Refused("risk", "items", "i.csv", b"id,input,output,risk\na,q,o,urgent\n", 2, "risk", "'low', 'medium' or 'high'"),
    Refused("messages not JSON", "items", "i.csv", b"id,messages\na,hello\n", 2, "messages", "list of messages"),
]

Check = Callable[[Project], None]


@dataclass(frozen=True)
class Accepted:
    """A file that must be read as the person who wrote it meant."""

    name: str
    kind: str
    filename: str
    content: bytes
    check: Check


def _items(p: Project) -> dict[str, object]:
    return {i.id: i for i in p.items()}


def _check_item(item_id: str, **expected: object) -> Check:
    def check(p: Project) -> None:
        items = _items(p)
        assert item_id in items, sorted(items)
        for k, v in expected.items():
            assert getattr(items[item_id], k) == v, (k, getattr(items[item_id], k))

    return check


def _check_label(**expected: object) -> Check:
    def check(p: Project) -> None:
        labels = p.labels()
        assert len(labels) == 1
        for k, v in expected.items():
            got = getattr(labels[0], k)
            assert (got.isoformat() if hasattr(got, "isoformat") else got) == v, (k, got)

    return check


ACCEPTED = [
    Accepted(
        "UTF-8 BOM csv", "items", "i.csv", codecs.BOM_UTF8 + b"id,input,output\nx,q,o\n", _check_item("x", input="q")
    ),
    Accepted("UTF-8 BOM jsonl", "items", "i.jsonl", codecs.BOM_UTF8 + _item(), _check_item("x")),
    Accepted(
        "UTF-16 (Excel Unicode text)",
        "items",
        "i.csv",
        "id\tinput\toutput\nx\tcafé\to\n".encode("utf-16"),
        _check_item("x", input="café"),
    ),
    Accepted(
        "CRLF and a line break in a cell",
        "items",
        "i.csv",
        b'id,input,output\r\nx,"two\r\nlines",o\r\n',
        _check_item("x", input="two\r\nlines"),
    ),
    Accepted(
        "semicolons (European Excel)",
        "items",
        "i.csv",
        b"id;input;output\nx;q, with comma;o\n",
        _check_item("x", input="q, with comma"),
    ),
    Accepted("trailing empty columns", "items", "i.csv", b"id,input,output,,\nx,q,o,,\n", _check_item("x", output="o")),
    Accepted("extra empty cells", "items", "i.csv", b"id,input,output\nx,q,o,,\n", _check_item("x")),
    Accepted("spaces around header names", "items", "i.csv", b" id , input ,output\nx,q,o\n", _check_item("x")),
    Accepted(
        "a 1 MB cell",
        "items",
        "i.csv",
        b"id,input,output\nx," + b"y" * 1_000_000 + b",o\n",
        _check_item("x", input="y" * 1_000_000),
    ),
    Accepted(
        ".json array",
        "items",
        "i.json",
        b'[\n {"id": "x", "input": "q", "output": "o"},\n {"id": "z", "input": "q", "output": "o"}\n]\n',
        _check_item("z"),
    ),
    Accepted("id with surrounding spaces", "items", "i.csv", b"id,input,output\n  x\t,q,o\n", _check_item("x")),
    Accepted("id in NFD", "items", "i.jsonl", _item(id="cafe\u0301"), _check_item("caf\u00e9")),
    Accepted("number id", "items", "i.jsonl", _item(id=7.0), _check_item("7")),
    Accepted("leading zeros kept", "items", "i.csv", b"id,input,output\n007,q,o\n", _check_item("007")),
    Accepted("non-breaking spaces around id", "items", "i.jsonl", _item(id="\u00a0x\u00a0"), _check_item("x")),
    Accepted(
        "text that looks like NaN",
        "items",
        "i.csv",
        b"id,input,output\nx,NaN,=1+1\n",
        _check_item("x", input="NaN", output="=1+1"),
    ),
    Accepted(
        "date with a space",
        "labels",
        "l.csv",
        b"item_id,annotator,label,created_at\na,x,pass,2024-05-01 10:00:00+02:00\n",
        _check_label(created_at="2024-05-01T08:00:00+00:00"),
    ),
    Accepted(
        "date without offset is UTC",
        "labels",
        "l.csv",
        b"item_id,annotator,label,created_at\na,x,pass,2024-05-01T10:00:00\n",
        _check_label(created_at="2024-05-01T10:00:00+00:00"),
    ),
    Accepted(
        "label with a trailing space",
        "labels",
        "l.csv",
        b"item_id,annotator,label\na,x,pass \n",
        _check_label(label="pass"),
    ),
    Accepted(
        "Excel TRUE", "labels", "l.csv", b"item_id,annotator,label,flagged\na,x,pass,TRUE\n", _check_label(flagged=True)
    ),
    Accepted(
        "ids matched by the identity rule",
        "labels",
        "l.csv",
        b"item_id,annotator,label\n a ,  x ,pass\n",
        _check_label(item_id="a", annotator="x"),
    ),
    Accepted(
        "whitespace-only critique is none",
        "labels",
        "l.csv",
        b"item_id,annotator,label,critique\na,x,pass,   \n",
        _check_label(critique=None),
    ),
    Accepted(
        "formula escaped by judgekit",
        "labels",
        "l.csv",
        b"item_id,annotator,label,critique\na,x,fail,'=HYPERLINK(1)\n",
        _check_label(critique="=HYPERLINK(1)"),
    ),
    Accepted(
        "tokens written 3.0",
        "verdicts",
        "v.jsonl",
        b'{"item_id":"a","label":"pass","input_tokens":3.0}\n',
        lambda p: None,
    ),
]


def _project(tmp_path: Path) -> str:
    db = str(tmp_path / "p.db")
    items = tmp_path / "base.jsonl"
    items.write_text("".join(json.dumps(r) + "\n" for r in BASE_ITEMS))
    assert main(["import", "items", str(items), "--db", db]) == 0
    return db


def _import(kind: str, path: Path, db: str) -> int:
    args = ["import", kind, str(path), "--db", db]
    if kind in ("labels", "verdicts"):
        args += ["--rubric", RUBRIC]
    if kind == "verdicts":
        args += ["--run", "r"]
    return main(args)


def _state(db: str) -> tuple[object, ...]:
    with Project(db) as p:
        runs = p.runs()
        return (
            [i.model_dump() for i in p.items()],
            [lab.model_dump() for lab in p.labels(history=True)],
            [r.name for r in runs],
            [v.model_dump() for r in runs for v in p.verdicts(r.name)],
        )


@pytest.mark.parametrize("case", REFUSED, ids=[c.name for c in REFUSED])
def test_refused_with_file_line_field_and_nothing_kept(
    case: Refused, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _project(tmp_path)
    before = _state(db)
    path = tmp_path / case.filename
    path.write_bytes(case.content)
    capsys.readouterr()
    assert _import(case.kind, path, db) == 2
    err = capsys.readouterr().err
    assert "internal error" not in err and "Traceback" not in err, err
    where = f"{path}:{case.line}: " if case.line is not None else f"{path}: "
    assert where in err, err
    if case.field is not None:
        assert f"field '{case.field}'" in err, err
    assert case.says in err, err
    assert _state(db) == before


@pytest.mark.parametrize("case", ACCEPTED, ids=[c.name for c in ACCEPTED])
def test_accepted_as_meant(case: Accepted, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = _project(tmp_path)
    path = tmp_path / case.filename
    path.write_bytes(case.content)
    assert _import(case.kind, path, db) == 0, capsys.readouterr().err
    with Project(db) as p:
        case.check(p)


def test_labels_and_the_app_share_one_validation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A fail without a critique: the app refuses it, the import counts it and refuses it with --require-critique."""
    from judgekit.errors import UserError
    from judgekit.labeling import submit_label
    from judgekit.models import load_rubric

    db = _project(tmp_path)
    path = tmp_path / "l.csv"
    path.write_text("item_id,annotator,label\na,x,fail\n")
    capsys.readouterr()
    assert main(["import", "labels", str(path), "--rubric", RUBRIC, "--db", db, "--require-critique"]) == 2
    assert "field 'critique': a critique is required for 'Fail'" in capsys.readouterr().err
    assert main(["import", "labels", str(path), "--rubric", RUBRIC, "--db", db]) == 0
    assert "1 label(s) without the critique" in capsys.readouterr().out
    with Project(db) as p, pytest.raises(UserError, match="a critique is required for 'Fail'"):
        submit_label(p, "x", load_rubric(RUBRIC), "b", "fail ", critique="  ")
