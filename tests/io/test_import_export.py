from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from judgekit.errors import InputError, UserError
from judgekit.io import (
    export_items,
    export_labels,
    export_verdicts,
    import_items_dataframe,
    import_items_file,
    import_labels_dataframe,
    import_labels_file,
    import_verdicts_file,
)
from judgekit.storage import Project
from tests.helpers import rubric, write_jsonl

ITEMS_JSONL = [
    {"id": "a", "input": "q1", "output": "o1", "segment": "billing", "risk": "high"},
    {
        "id": "b",
        "input": "q2",
        "output": "o2",
        "metadata": {"segment": "search", "source": "prod", "created_at": "2024-05-01T10:00:00Z"},
    },
    {"id": "c", "input": "q3", "output": "<script>alert(1)</script>", "extra": {"model": "m1"}},
]


@pytest.fixture
def project(db_url: str, tmp_path: Path) -> Project:
    p = Project(db_url)
    import_items_file(p, write_jsonl(tmp_path / "items.jsonl", ITEMS_JSONL))
    return p


def test_items_jsonl_import_and_idempotent_reimport(project: Project, tmp_path: Path) -> None:
    items = project.items()
    assert [i.id for i in items] == ["a", "b", "c"]
    assert items[0].metadata.risk == "high" and items[1].metadata.source == "prod"
    assert items[2].metadata.extra == {"model": "m1"}
    again = import_items_file(project, tmp_path / "items.jsonl")
    assert (again.read, again.added, again.unchanged) == (3, 0, 3)


def test_items_csv_with_extra_columns(new_db_url: Callable[[], str], tmp_path: Path) -> None:
    csv = tmp_path / "items.csv"
    csv.write_text('id,input,output_a,output_b,segment,risk,extra.model\nx,"q, with comma",A,B,s,low,gpt\n')
    p = Project(new_db_url())
    assert import_items_file(p, csv).added == 1
    item = p.items()[0]
    assert item.is_pairwise and item.input == "q, with comma" and item.metadata.extra == {"model": "gpt"}


@pytest.mark.parametrize(
    "content, line, field, expected",
    [
        ('{"id": "a", "input": "q", "output": "o"}\n{"id": "b", "input": "q"}\n', 2, None, "output"),
        ('{"id": "a", "input": "q", "output": "o", "risk": "urgent"}\n', 1, "risk", "low"),
        ('{"id": "a", "input": "q", "output": "o"}\n{not json}\n', 2, None, "not valid JSON"),
        ('{"id": "a", "input": "q", "output": "o", "segmnet": "x"}\n', 1, "segmnet", "unknown field"),
        (
            '{"id": "a", "input": "q", "output": "o"}\n\n{"id": "a", "input": "q", "output": "o"}\n',
            3,
            "id",
            "duplicate item id",
        ),
        ('{"input": "q", "output": "o"}\n', 1, "id", "missing"),
        (
            '{"id": "a", "input": "q", "output": "o", "created_at": "yesterday"}\n',
            1,
            "created_at",
            "ISO 8601 date and time",
        ),
    ],
)
def test_malformed_item_rows_are_located(
    new_db_url: Callable[[], str], tmp_path: Path, content: str, line: int, field: str | None, expected: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    p = Project(new_db_url())
    with pytest.raises(InputError) as err:
        import_items_file(p, path)
    assert err.value.line == line
    assert err.value.path == str(path)
    if field:
        assert err.value.field == field
    assert expected in str(err.value)
    assert str(path) in str(err.value)
    assert p.item_count() == 0, "nothing partially imported"


def test_csv_wrong_column_count_is_located(new_db_url: Callable[[], str], tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("id,input,output\na,q,o\nb,q\n")
    with pytest.raises(InputError, match=r"bad\.csv:3: expected 3 columns"):
        import_items_file(Project(new_db_url()), path)


def _labels(tmp_path: Path, rows: list[dict]) -> Path:
    return write_jsonl(tmp_path / "labels.jsonl", rows)


def test_labels_import_validates_and_is_idempotent(project: Project, tmp_path: Path) -> None:
    rows = [
        {"item_id": "a", "annotator": "ann1", "label": "pass"},
        {"item_id": "a", "annotator": "ann2", "label": "fail", "critique": "wrong", "time_spent_s": 12},
    ]
    path = _labels(tmp_path, rows)
    first = import_labels_file(project, path, rubric())
    second = import_labels_file(project, path, rubric())
    assert (first.added, second.added, second.unchanged) == (2, 0, 2)
    assert project.label_count() == 2


@pytest.mark.parametrize(
    "row, field, expected",
    [
        ({"item_id": "a", "annotator": "x", "label": "maybe"}, "label", "not a level"),
        ({"item_id": "zzz", "annotator": "x", "label": "pass"}, "item_id", "unknown item"),
        ({"item_id": "a", "label": "pass"}, "annotator", "missing"),
        (
            {"item_id": "a", "annotator": "x", "label": "pass", "time_spent_s": "long"},
            "time_spent_s",
            "number",
        ),
        ({"item_id": "a", "annotator": "x", "label": "pass", "rubric_id": "other"}, "rubric_id", "other"),
    ],
)
def test_bad_label_rows_refused_with_location(
    project: Project, tmp_path: Path, row: dict, field: str, expected: str
) -> None:
    path = _labels(tmp_path, [{"item_id": "b", "annotator": "ok", "label": "pass"}, row])
    with pytest.raises(InputError) as err:
        import_labels_file(project, path, rubric())
    assert (err.value.line, err.value.field) == (2, field)
    assert expected in str(err.value)
    assert project.label_count() == 0


def test_external_verdicts_import(project: Project, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "v.jsonl",
        [
            {"item_id": "a", "label": "pass", "confidence": 0.9, "rationale": "fine"},
            {"item_id": "b", "status": "parse_error", "raw_reply": "I think maybe"},
            {"item_id": "c", "label": "fail"},
        ],
    )
    res = import_verdicts_file(project, path, rubric(), run_name="prod-v3", model="gpt-x")
    assert res.added == 3
    run = project.run("prod-v3")
    assert run.source == "import" and run.config.model == "gpt-x" and run.status == "complete"
    vs = project.verdicts(run)
    assert vs[0].confidence == 0.9 and vs[0].confidence_source == "external"
    assert vs[1].status == "parse_error" and vs[1].label is None and vs[1].raw_reply == "I think maybe"
    assert import_verdicts_file(project, path, rubric(), run_name="prod-v3").unchanged == 3


@pytest.mark.parametrize(
    "rows, line, expected",
    [
        ([{"item_id": "a", "label": "garbage"}], 1, "parse_error"),
        ([{"item_id": "a", "label": "pass"}, {"item_id": "a", "label": "fail"}], 2, "second verdict"),
        ([{"item_id": "a", "label": "pass", "confidence": 1.7}], 1, "confidence"),
        ([{"item_id": "q", "label": "pass"}], 1, "unknown item"),
    ],
)
def test_bad_verdict_rows(project: Project, tmp_path: Path, rows: list[dict], line: int, expected: str) -> None:
    path = write_jsonl(tmp_path / "v.jsonl", rows)
    with pytest.raises(InputError) as err:
        import_verdicts_file(project, path, rubric(), run_name="r")
    assert err.value.line == line and expected in str(err.value)
    assert project.find_run("r") is None, "a refused import leaves no run behind"


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_round_trip_is_byte_stable(new_db_url: Callable[[], str], project: Project, tmp_path: Path, fmt: str) -> None:
    r = rubric()
    import_labels_file(
        project,
        _labels(
            tmp_path,
            [
                {"item_id": "a", "annotator": "ann1", "label": "pass", "flagged": True},
                {
                    "item_id": "b",
                    "annotator": "ann1",
                    "label": "fail",
                    "critique": 'says "no", wrongly\nnew line',
                },
            ],
        ),
        r,
    )
    import_labels_file(project, _labels(tmp_path, [{"item_id": "a", "annotator": "ann1", "label": "fail"}]), r)
    import_verdicts_file(
        project,
        write_jsonl(
            tmp_path / "v.jsonl",
            [{"item_id": "a", "label": "pass", "confidence": 0.25}, {"item_id": "b", "status": "refused"}],
        ),
        r,
        run_name="run",
    )
    exported = {
        "items": export_items(project, fmt),
        "labels": export_labels(project, fmt, history=True),
        "verdicts": export_verdicts(project, "run", fmt),
    }
    for kind, text in exported.items():
        (tmp_path / f"{kind}.{fmt}").write_text(text)
    fresh = Project(new_db_url())
    import_items_file(fresh, tmp_path / f"items.{fmt}")
    import_labels_file(fresh, tmp_path / f"labels.{fmt}", r)
    import_verdicts_file(fresh, tmp_path / f"verdicts.{fmt}", r, run_name="run")
    assert export_items(fresh, fmt) == exported["items"]
    assert export_labels(fresh, fmt, history=True) == exported["labels"]
    assert export_verdicts(fresh, "run", fmt) == exported["verdicts"]
    assert [lab.revision for lab in fresh.labels(history=True)] == [1, 2, 1]


def test_dataframe_import(new_db_url: Callable[[], str], tmp_path: Path) -> None:
    p = Project(new_db_url())
    df = pd.DataFrame(
        [
            {"id": "a", "input": "q", "output": "o", "risk": "low"},
            {"id": "b", "input": "q", "output": "o", "risk": float("nan")},
        ]
    )
    assert import_items_dataframe(p, df).added == 2
    labels = pd.DataFrame([{"item_id": "a", "annotator": "x", "label": "pass", "time_spent_s": float("nan")}])
    assert import_labels_dataframe(p, labels, rubric()).added == 1
    with pytest.raises(InputError, match=r"<DataFrame>:1: field 'label'"):
        import_labels_dataframe(p, pd.DataFrame([{"item_id": "a", "annotator": "x", "label": "bad"}]), rubric())


def test_unknown_extension_needs_format(new_db_url: Callable[[], str], tmp_path: Path) -> None:
    (tmp_path / "items.txt").write_text("")
    with pytest.raises(UserError, match="--format"):
        import_items_file(Project(new_db_url()), tmp_path / "items.txt")
