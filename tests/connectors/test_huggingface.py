"""Hugging Face datasets: data sets written by the ``datasets`` library itself (save_to_disk, to_json, to_parquet)."""

from __future__ import annotations

from pathlib import Path

import pytest

from judgekit.cli import main
from judgekit.connectors import import_bundle
from judgekit.connectors.huggingface import parse_columns, read_huggingface
from judgekit.errors import InputError, UserError
from judgekit.storage import Project
from tests.connectors.conftest import pass_fail
from tests.helpers import rubric

datasets = pytest.importorskip("datasets")
DIALOG = [
    {"role": "user", "content": "Is it safe to mix bleach and ammonia?"},
    {"role": "assistant", "content": "No: it releases toxic chloramine gas."},
]
ROWS = {
    "conv_id": ["c1", "c1", "c1", "c2", "c2"],
    "rater": ["r1", "r2", "r3", "r1", "r2"],
    "safe": [1, 1, 0, 0, 0],
    "judge": ["1", "1", "1", "1", "1"],
}
COLUMNS = parse_columns(["id=conv_id", "messages=dialog", "label=safe", "annotator=rater", "verdict=judge"])
MAP = {"1": "pass", "0": "fail"}


OTHER = [DIALOG[0], {"role": "assistant", "content": "Sure, go ahead."}]


def _dataset(dialogs: list | None = None) -> object:
    return datasets.Dataset.from_dict({**ROWS, "dialog": dialogs or [DIALOG] * 3 + [OTHER] * 2})


@pytest.mark.parametrize("kind", ["save_to_disk", "dataset_dict", "jsonl", "parquet"])
def test_rows_become_items_labels_and_verdicts(tmp_path: Path, project: Project, kind: str) -> None:
    ds = _dataset()
    if kind == "save_to_disk":
        path = tmp_path / "ds"
        ds.save_to_disk(str(path))
    elif kind == "dataset_dict":
        path = tmp_path / "dd"
        datasets.DatasetDict({"test": ds, "train": ds.select([0])}).save_to_disk(str(path))
    elif kind == "jsonl":
        path = tmp_path / "ratings.jsonl"
        ds.to_json(str(path))
    else:
        path = tmp_path / "ratings.parquet"
        ds.to_parquet(str(path))
    bundle = read_huggingface(
        path, pass_fail("safe", value_map=MAP), COLUMNS, split="test" if kind == "dataset_dict" else None
    )
    import_bundle(project, bundle, rubric())
    items = project.items()
    assert [it.id for it in items] == ["c1", "c2"]
    assert items[1].messages is not None and items[1].messages[1].text() == "Sure, go ahead."
    assert sorted((lab.item_id, lab.annotator, lab.label) for lab in project.labels()) == [
        ("c1", "r1", "pass"),
        ("c1", "r2", "pass"),
        ("c1", "r3", "fail"),
        ("c2", "r1", "fail"),
        ("c2", "r2", "fail"),
    ]
    assert {v.item_id: v.label for v in project.verdicts("huggingface:judge")} == {"c1": "pass", "c2": "pass"}


def test_mapping_errors(tmp_path: Path) -> None:
    path = tmp_path / "ds"
    _dataset().save_to_disk(str(path))
    with pytest.raises(UserError, match="no column 'nope'"):
        read_huggingface(path, pass_fail("safe", value_map=MAP), {**COLUMNS, "label": "nope"})
    with pytest.raises(InputError, match=r"ds:1: field 'safe': value '1' of score 'safe' is not a level"):
        read_huggingface(path, pass_fail("safe"), COLUMNS)
    with pytest.raises(UserError, match="--map id=COLUMN is required"):
        parse_columns(["label=safe"])
    changed = tmp_path / "changed.jsonl"
    _dataset([DIALOG, DIALOG, [DIALOG[0], {"role": "assistant", "content": "other"}], OTHER, OTHER]).to_json(
        str(changed)
    )
    with pytest.raises(InputError, match=r"changed.jsonl:3: field 'conv_id': item 'c1' differs from its first row"):
        read_huggingface(changed, pass_fail("safe", value_map=MAP), COLUMNS)


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ds"
    _dataset().save_to_disk(str(path))
    args = [
        "import",
        "huggingface",
        str(path),
        "--map",
        "id=conv_id",
        "--map",
        "messages=dialog",
        "--map",
        "label=safe",
        "--map",
        "annotator=rater",
        "--rubric",
        "rubrics/helpfulness_pass_fail.yaml",
        "--value-map",
        "1=pass",
        "--value-map",
        "0=fail",
        "--db",
        str(tmp_path / "c.db"),
    ]
    assert main(args) == 0
    assert "huggingface: labels: 5 read, 5 added, 0 already present (5 blind)" in capsys.readouterr().out
