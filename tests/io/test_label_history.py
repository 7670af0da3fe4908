"""No label lost or doubled on import (issue 16): histories are kept whole, re-imports add nothing, times are UTC.

Each case failed before: a history pass -> fail -> pass without times kept two revisions with fail as the latest,
an exported history re-imported into its own project was added again, and a time without an offset broke sorting.
A property test covers the neighbours: any history of any shape, with or without times, imported, re-imported,
exported and re-imported, and copied into a fresh project.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from judgekit.io import export_labels, import_items_file, import_labels_file
from judgekit.labeling import my_labels
from judgekit.models import HumanLabel
from judgekit.storage import Project
from judgekit.storage.project import legacy_label_import_key
from tests.helpers import rubric, write_jsonl

ITEMS = [{"id": i, "input": "q", "output": "o"} for i in ("a", "b", "c")]


@pytest.fixture
def project(db_url: str, tmp_path: Path) -> Project:
    p = Project(db_url)
    import_items_file(p, write_jsonl(tmp_path / "items.jsonl", ITEMS))
    yield p
    p.close()


def _history(project: Project) -> list[tuple[str, str, int, str]]:
    return [(lab.item_id, lab.annotator, lab.revision, lab.label) for lab in project.labels(history=True)]


def test_history_without_times_is_kept_whole(project: Project, tmp_path: Path) -> None:
    rows = [{"item_id": "a", "annotator": "x", "label": lab} for lab in ("pass", "fail", "pass")]
    res = import_labels_file(project, write_jsonl(tmp_path / "h.jsonl", rows), rubric())
    assert (res.added, res.unchanged) == (3, 0)
    assert _history(project) == [("a", "x", 1, "pass"), ("a", "x", 2, "fail"), ("a", "x", 3, "pass")]
    assert [lab.label for lab in project.labels()] == ["pass"]
    again = import_labels_file(project, tmp_path / "h.jsonl", rubric())
    assert (again.added, again.unchanged) == (0, 3)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_exported_history_reimported_into_its_project_adds_nothing(project: Project, tmp_path: Path, fmt: str) -> None:
    r = rubric()
    import_labels_file(
        project, write_jsonl(tmp_path / "1.jsonl", [{"item_id": "a", "annotator": "x", "label": "pass"}]), r
    )
    import_labels_file(
        project, write_jsonl(tmp_path / "2.jsonl", [{"item_id": "a", "annotator": "x", "label": "fail"}]), r
    )
    out = tmp_path / f"history.{fmt}"
    out.write_text(export_labels(project, fmt, history=True))  # type: ignore[arg-type]
    res = import_labels_file(project, out, r)
    assert (res.added, res.unchanged) == (0, 2)
    assert _history(project) == [("a", "x", 1, "pass"), ("a", "x", 2, "fail")]


def test_same_label_at_a_later_time_is_a_new_decision(project: Project, tmp_path: Path) -> None:
    r = rubric()
    t1, t2, t3 = "2024-01-01T10:00:00+00:00", "2024-01-02T10:00:00+00:00", "2024-01-03T10:00:00+00:00"
    first = [
        {"item_id": "a", "annotator": "x", "label": "pass", "created_at": t1},
        {"item_id": "a", "annotator": "x", "label": "fail", "created_at": t2},
    ]
    import_labels_file(project, write_jsonl(tmp_path / "1.jsonl", first), r)
    later = [{"item_id": "a", "annotator": "x", "label": "pass", "created_at": t3}]  # back to pass, a day later
    assert import_labels_file(project, write_jsonl(tmp_path / "2.jsonl", later), r).added == 1
    assert [lab.label for lab in project.labels()] == ["pass"]
    assert import_labels_file(project, tmp_path / "2.jsonl", r).added == 0
    assert import_labels_file(project, tmp_path / "1.jsonl", r).added == 0


def test_labels_imported_under_the_old_key_are_recognised(project: Project, tmp_path: Path) -> None:
    row = {"item_id": "b", "annotator": "y", "label": "fail", "critique": "no"}
    old = HumanLabel(item_id="b", annotator="y", rubric_id=rubric().id, rubric_version=1, label="fail", critique="no")
    project.save_rubric(rubric())
    project.add_label(old, request_id=legacy_label_import_key(old))  # as judgekit 0.1 stored it
    res = import_labels_file(project, write_jsonl(tmp_path / "old.jsonl", [row]), rubric())
    assert (res.added, res.unchanged) == (0, 1)


def test_times_without_offset_are_stored_as_utc(project: Project, tmp_path: Path) -> None:
    rows = [
        {"item_id": "a", "annotator": "x", "label": "pass", "created_at": "2024-05-01T10:00:00"},
        {"item_id": "b", "annotator": "x", "label": "fail", "created_at": "2024-05-01T12:00:00+02:00"},
    ]
    import_labels_file(project, write_jsonl(tmp_path / "tz.jsonl", rows), rubric())
    project.add_label(HumanLabel(item_id="c", annotator="x", rubric_id=rubric().id, rubric_version=1, label="pass"))
    times = {lab.item_id: lab.created_at for lab in project.labels()}
    assert times["a"] == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert times["b"] == datetime(2024, 5, 1, 10, tzinfo=UTC) and times["b"].utcoffset() == timedelta(0)
    assert [lab.item_id for lab in my_labels(project, "x", rubric())] == ["c", "a", "b"]  # sorts: no naive times
    exported = [json.loads(line)["created_at"] for line in export_labels(project, history=True).splitlines()]
    assert exported[:2] == ["2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z"]


_LABELS = st.sampled_from(["pass", "fail"])
_EVENT = st.tuples(
    st.sampled_from(["a", "b"]),
    st.sampled_from(["x", "y"]),
    _LABELS,
    st.one_of(st.none(), st.sampled_from(["why", "because"])),
    st.one_of(st.none(), st.integers(0, 3)),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(_EVENT, min_size=1, max_size=12), fmt=st.sampled_from(["jsonl", "csv"]))
def test_any_history_survives_reimport_export_and_copy(
    new_db_url: Callable[[], str], tmp_path: Path, events: list[tuple[str, str, str, str | None, int | None]], fmt: str
) -> None:
    base = datetime(2024, 1, 1, tzinfo=UTC)
    rows = []
    for item, who, lab, critique, day in events:
        row: dict[str, object] = {"item_id": item, "annotator": who, "label": lab}
        if critique is not None:
            row["critique"] = critique
        if day is not None:
            row["created_at"] = (base + timedelta(days=day)).isoformat()
        rows.append(row)
    src = write_jsonl(tmp_path / "events.jsonl", rows)
    items = write_jsonl(tmp_path / "items.jsonl", ITEMS)
    r = rubric()
    with Project(new_db_url()) as p:
        import_items_file(p, items)
        first = import_labels_file(p, src, r)
        assert first.added == len(rows), "every row of a new history is a revision"
        expected_latest = {}
        for row in rows:
            expected_latest[(row["item_id"], row["annotator"])] = row["label"]
        assert {(lab.item_id, lab.annotator): lab.label for lab in p.labels()} == expected_latest
        assert import_labels_file(p, src, r).added == 0
        out = tmp_path / f"out.{fmt}"
        text = export_labels(p, fmt, history=True)  # type: ignore[arg-type]
        out.write_text(text)
        assert import_labels_file(p, out, r).added == 0
        assert export_labels(p, fmt, history=True) == text  # type: ignore[arg-type]
    with Project(new_db_url()) as fresh:
        import_items_file(fresh, items)
        assert import_labels_file(fresh, out, r).added == len(rows)
        assert export_labels(fresh, fmt, history=True) == text  # type: ignore[arg-type]
