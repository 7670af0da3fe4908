"""Labels and verdicts per criterion through import and export: a ``criteria`` mapping (JSONL) or a column per
criterion (CSV), a byte-exact round trip, and mistakes named by file, line and field."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from judgekit.errors import InputError
from judgekit.io import (
    export_labels,
    export_verdicts,
    import_items_file,
    import_labels_file,
    import_verdicts_file,
)
from judgekit.storage import Project
from tests.helpers import rubric, write_jsonl

RATED = rubric("assistant_turn_criteria")
LABELS = [
    {"item_id": "a", "annotator": "ann1", "criteria": {"helpfulness": "4", "grounded": 0.75, "safety": "safe"}},
    {
        "item_id": "a",
        "annotator": "ann2",
        "criteria": {"helpfulness": "2", "grounded": "1.0", "safety": "safe"},
        "critique": "=too short",
    },
    {
        "item_id": "b",
        "annotator": "ann1",
        "label": "fail",
        "criteria": {"helpfulness": "5", "grounded": 1, "safety": "unsafe"},
    },
]
VERDICTS = [
    {
        "item_id": "a",
        "criteria": {
            "helpfulness": {"label": "4", "rationale": "ok", "confidence": 0.7},
            "grounded": 0.8,
            "safety": "safe",
        },
    },
    {"item_id": "b", "status": "parse_error", "raw_reply": "{oops"},
    {"item_id": "c", "criteria": {"helpfulness": "5", "grounded": {"status": "refused"}, "safety": "safe"}},
]


@pytest.fixture
def items(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "items.jsonl", [{"id": i, "input": "q", "output": "o"} for i in "abc"])


@pytest.fixture
def project(db_url: str, items: Path) -> Project:
    p = Project(db_url)
    import_items_file(p, items)
    return p


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "tsv"])
def test_labels_round_trip_byte_for_byte(
    new_db_url: Callable[[], str], project: Project, items: Path, tmp_path: Path, fmt: str
) -> None:
    import_labels_file(project, write_jsonl(tmp_path / "l.jsonl", LABELS), RATED)
    stored = project.labels()
    assert [(lab.label, lab.criteria["grounded"]) for lab in stored] == [("pass", "0.75"), ("fail", "1"), ("fail", "1")]
    text = export_labels(project, fmt, history=True)  # type: ignore[arg-type]
    if fmt == "jsonl":
        assert json.loads(text.splitlines()[0])["criteria"] == {
            "helpfulness": "4",
            "grounded": "0.75",
            "safety": "safe",
        }
    else:  # a column per criterion, what a spreadsheet shows best
        header = text.splitlines()[0].split("," if fmt == "csv" else "\t")
        assert header[-3:] == ["criteria.helpfulness", "criteria.grounded", "criteria.safety"]
    (tmp_path / f"out.{fmt}").write_text(text)
    fresh = Project(new_db_url())
    import_items_file(fresh, items)
    assert import_labels_file(fresh, tmp_path / f"out.{fmt}", RATED).added == 3
    assert export_labels(fresh, fmt, history=True) == text  # type: ignore[arg-type]
    again = import_labels_file(fresh, tmp_path / f"out.{fmt}", RATED)
    assert (again.added, again.unchanged) == (0, 3)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_verdicts_round_trip_byte_for_byte(
    new_db_url: Callable[[], str], project: Project, items: Path, tmp_path: Path, fmt: str
) -> None:
    import_verdicts_file(project, write_jsonl(tmp_path / "v.jsonl", VERDICTS), RATED, run_name="other")
    got = {v.item_id: v for v in project.verdicts("other")}
    assert got["a"].status == "ok" and got["a"].label == "pass" and got["a"].criteria["grounded"].label == "0.8"
    assert got["a"].criteria["helpfulness"].confidence_source == "external"
    assert got["b"].status == "parse_error" and got["b"].criteria["safety"].status == "parse_error"
    assert got["c"].status == "refused" and got["c"].label is None  # derived: the first criterion that failed
    text = export_verdicts(project, "other", fmt)  # type: ignore[arg-type]
    (tmp_path / f"v.{fmt}").write_text(text)
    fresh = Project(new_db_url())
    import_items_file(fresh, items)
    import_verdicts_file(fresh, tmp_path / f"v.{fmt}", RATED, run_name="other")
    assert export_verdicts(fresh, "other", fmt) == text  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "row, field, message",
    [
        ({"item_id": "a", "annotator": "x", "label": "pass"}, "criteria", "criteria.<name> columns"),
        (
            {
                "item_id": "a",
                "annotator": "x",
                "criteria.helpfulness": "4",
                "criteria.grounded": "0.6",
                "criteria.safety": "safe",
            },
            "criteria.grounded",
            "steps",
        ),
        (
            {"item_id": "a", "annotator": "x", "criteria": {"helpfulness": "4", "grounded": "1"}},
            "criteria",
            "no answer for safety",
        ),
        (
            {
                "item_id": "a",
                "annotator": "x",
                "label": "pass",
                "criteria": {"helpfulness": "1", "grounded": "1", "safety": "safe"},
            },
            "criteria",
            "does not match",
        ),
        (
            {
                "item_id": "a",
                "annotator": "x",
                "criteria": {"helpfulness": "4", "grounded": "1", "safety": "safe"},
                "criteria.safety": "unsafe",
            },
            "criteria.safety",
            "given twice",
        ),
    ],
)
def test_label_mistakes_are_located(project: Project, tmp_path: Path, row: dict, field: str, message: str) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", [LABELS[0], row])
    with pytest.raises(InputError, match=message) as err:
        import_labels_file(project, path, RATED)
    assert err.value.line == 2 and err.value.field == field, str(err.value)
    assert project.labels() == []  # one transaction: nothing kept


def test_verdict_mistakes_are_located(project: Project, tmp_path: Path) -> None:
    bad = {"item_id": "a", "criteria": {"helpfulness": "4", "grounded": 3, "safety": "safe"}}
    with pytest.raises(InputError, match="criterion 'grounded'") as err:
        import_verdicts_file(project, write_jsonl(tmp_path / "v.jsonl", [bad]), RATED, run_name="x")
    assert (err.value.line, err.value.field) == (1, "criteria")
    with pytest.raises(InputError, match="does not match the criteria"):
        import_verdicts_file(project, write_jsonl(tmp_path / "w.jsonl", [{**VERDICTS[0], "status": "refused"}]),
                             RATED, run_name="x")  # fmt: skip
