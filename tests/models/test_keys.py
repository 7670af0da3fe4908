"""The one ``ID@VERSION`` reader, and every command that takes such a reference refusing a malformed one."""

from __future__ import annotations

from pathlib import Path

import pytest

from judgekit.cli import main
from judgekit.errors import UserError
from judgekit.models import VersionedKey, parse_key
from tests.helpers import ROOT


@pytest.mark.parametrize(
    "spec, expected",
    [("r", VersionedKey("r", None)), ("r@3", VersionedKey("r", 3)), (" r@12 ", VersionedKey("r", 12))],
)
def test_parse_key_reads_id_and_version(spec: str, expected: VersionedKey) -> None:
    assert parse_key(spec) == expected


@pytest.mark.parametrize("spec", ["r@abc", "r@", "@2", "r@0", "r@1@2", "r@-1", "r@1.5", ""])
def test_parse_key_refuses_a_malformed_reference(spec: str) -> None:
    with pytest.raises(UserError, match="RUBRIC_ID@VERSION"):
        parse_key(spec)


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    path = tmp_path / "p.db"
    assert main(["import", "rubric", str(ROOT / "rubrics" / "helpfulness_pass_fail.yaml"), "--db", str(path)]) == 0
    return path


@pytest.mark.parametrize(
    "args",
    [
        ["export", "labels", "--rubric", "helpfulness-pass-fail@abc"],
        ["split", "--rubric", "helpfulness-pass-fail@abc"],
        ["import", "labels", "x.csv", "--rubric", "helpfulness-pass-fail@abc"],
        ["split", "show", "main@abc"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_every_command_refuses_a_malformed_version_with_exit_2(
    db: Path, args: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.csv").write_text("item_id,annotator,label\n")
    assert main([*args, "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "'abc'" in err and "@VERSION" in err


def test_split_never_falls_back_to_the_latest_version(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["split", "--rubric", "helpfulness-pass-fail@7", "--db", str(db)]) == 2
    assert "helpfulness-pass-fail@7 is not in the project" in capsys.readouterr().err
