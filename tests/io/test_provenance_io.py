"""Label provenance through import and export: a column, a default for files without it, a byte-stable round trip."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from judgekit.cli import main
from judgekit.errors import InputError
from judgekit.io import export_labels, import_items_file, import_labels_file
from judgekit.storage import Project
from tests.helpers import rubric, write_jsonl


@pytest.fixture
def project(db_url: str, tmp_path: Path) -> Project:
    p = Project(db_url)
    import_items_file(p, write_jsonl(tmp_path / "items.jsonl", [{"id": i, "input": "q", "output": "o"} for i in "abc"]))
    return p


ROWS = [
    {"item_id": "a", "annotator": "ann1", "label": "pass"},
    {"item_id": "a", "annotator": "ann2", "label": "fail", "critique": "wrong", "provenance": "corrected"},
    {"item_id": "b", "annotator": "lead", "label": "pass", "provenance": "adjudicated"},
    {"item_id": "c", "annotator": "ann1", "label": "fail", "provenance": "blind"},
]


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_provenance_round_trip_is_byte_stable(
    new_db_url: Callable[[], str], project: Project, tmp_path: Path, fmt: str
) -> None:
    r = rubric()
    import_labels_file(project, write_jsonl(tmp_path / "l.jsonl", ROWS), r)
    text = export_labels(project, fmt, history=True)  # type: ignore[arg-type]
    assert [lab.provenance for lab in project.labels()] == ["blind", "corrected", "adjudicated", "blind"]
    (tmp_path / f"out.{fmt}").write_text(text)
    fresh = Project(new_db_url())
    import_items_file(fresh, tmp_path / "items.jsonl")
    res = import_labels_file(fresh, tmp_path / f"out.{fmt}", r)
    assert res.added == 4
    assert export_labels(fresh, fmt, history=True) == text  # type: ignore[arg-type]
    again = import_labels_file(fresh, tmp_path / f"out.{fmt}", r)
    assert (again.added, again.unchanged) == (0, 4)
    only = export_labels(fresh, fmt, provenance="corrected")  # type: ignore[arg-type]
    assert "ann2" in only and "ann1" not in only and "lead" not in only


def test_default_provenance_for_rows_without_one_and_bad_values_located(project: Project, tmp_path: Path) -> None:
    r = rubric()
    import_labels_file(
        project,
        write_jsonl(tmp_path / "c.jsonl", [{"item_id": "a", "annotator": "x", "label": "pass"}]),
        r,
        provenance="corrected",
    )
    assert [lab.provenance for lab in project.labels()] == ["corrected"]
    bad = write_jsonl(
        tmp_path / "bad.jsonl", [ROWS[0], {"item_id": "b", "annotator": "y", "label": "pass", "provenance": "gold"}]
    )
    with pytest.raises(InputError, match=r"bad.jsonl:2: field 'provenance': .*'blind', 'corrected' or 'adjudicated'"):
        import_labels_file(project, bad, r)


def test_cli_import_and_export_with_provenance(
    project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = project.url
    project.close()
    labels = write_jsonl(tmp_path / "fb.jsonl", [{"item_id": "a", "annotator": "pm", "label": "fail"}])
    rub = "rubrics/helpfulness_pass_fail.yaml"
    root = Path(__file__).resolve().parents[2]
    assert (
        main(["import", "labels", str(labels), "--rubric", str(root / rub), "--provenance", "corrected", "--db", db])
        == 0
    )
    capsys.readouterr()
    assert main(["export", "labels", "--provenance", "corrected", "--db", db]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and json.loads(out[0])["provenance"] == "corrected"
    assert main(["export", "labels", "--provenance", "blind", "--db", db]) == 0
    assert capsys.readouterr().out == ""
