"""Files judgekit writes: whole or not at all, and a clear exit 2 when they cannot be written (issue 16)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from judgekit.cli import main
from judgekit.errors import UserError
from judgekit.io.files import append_text, write_text_atomic
from tests.helpers import write_jsonl


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "p.db")
    items = write_jsonl(tmp_path / "items.jsonl", [{"id": f"i{n}", "input": "q", "output": "o"} for n in range(50)])
    assert main(["import", "items", str(items), "--db", path]) == 0
    return path


def _no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("missing/out.jsonl", "the folder"),
        ("", "empty path"),
        (".", "is a directory"),
        ("adir", "is a directory"),
        ("out.xlsx", "cannot tell the format"),
    ],
)
def test_export_to_an_impossible_place_is_exit_2_and_writes_nothing(
    db: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    target: str,
    expected: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "adir").mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["export", "items", "--db", db, "-o", target]) == 2
    err = capsys.readouterr().err
    assert expected in err and "internal error" not in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_failed_export_leaves_the_old_file_whole_and_no_temporary_file(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "items.jsonl.out"
    out.write_text("the previous export\n")
    out.chmod(0o640)

    def full_disk(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full_disk)
    assert main(["export", "items", "--db", db, "-o", str(out), "--format", "jsonl"]) == 2
    assert "the disk is full" in capsys.readouterr().err
    assert out.read_text() == "the previous export\n" and _no_temp_files(tmp_path)
    monkeypatch.undo()
    assert main(["export", "items", "--db", db, "-o", str(out), "--format", "jsonl"]) == 0
    assert out.read_text().count("\n") == 50 and _no_temp_files(tmp_path)
    assert out.stat().st_mode & 0o777 == 0o640  # an existing file's permissions are kept


def test_new_files_get_the_usual_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        p = write_text_atomic(tmp_path / "x.csv", "a\n")
    finally:
        os.umask(umask)
    assert p.stat().st_mode & 0o777 == 0o644


def test_check_outputs_with_an_unset_variable_are_exit_2(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--summary "$GITHUB_STEP_SUMMARY"` outside GitHub is `--summary ""`: it was an IsADirectoryError traceback."""
    r = write_jsonl(tmp_path / "v.jsonl", [{"item_id": f"i{n}", "label": "pass"} for n in range(50)])
    rubric = str(Path(__file__).resolve().parents[2] / "rubrics" / "helpfulness_pass_fail.yaml")
    assert main(["import", "verdicts", str(r), "--rubric", rubric, "--run", "j", "--db", db]) == 0
    capsys.readouterr()
    assert main(["check", "j", "--db", db, "--summary", ""]) == 2
    assert "--summary" in capsys.readouterr().err
    assert main(["check", "j", "--db", db, "--junit-xml", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    # a summary in a folder that does not exist yet is created (CI artefact folders), and appended to
    assert main(["check", "j", "--db", db, "--summary", str(tmp_path / "ci" / "summary.md")]) == 1
    append_text(tmp_path / "ci" / "summary.md", "next step\n")
    assert (tmp_path / "ci" / "summary.md").read_text().endswith("next step\n")


def test_a_file_in_the_way_of_a_folder(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("x")
    with pytest.raises(UserError, match=r"in the way|[Nn]ot a directory"):
        write_text_atomic(tmp_path / "blocker" / "out.json", "{}", create_folder=True)
