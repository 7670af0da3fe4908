from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from judgekit import __version__
from judgekit.cli import cli, main

ROOT = Path(__file__).resolve().parents[2]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


def _leaf_commands(group, prefix=()):  # type: ignore[no-untyped-def]
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            yield from _leaf_commands(cmd, (*prefix, name))
        else:
            yield (*prefix, name), cmd


@pytest.mark.parametrize(
    "path, cmd", list(_leaf_commands(cli)), ids=lambda x: " ".join(x) if isinstance(x, tuple) else ""
)
def test_every_command_has_help_with_an_example(path: tuple[str, ...], cmd, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main([*path, "--help"]) == 0
    out = capsys.readouterr().out
    assert "Example" in out, f"'judgekit {' '.join(path)} --help' lacks an example"


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "items"]) == 2
    assert main(["no-such-command"]) == 2


def test_input_error_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "items.jsonl"
    bad.write_text('{"id": "a", "input": "q", "output": "o", "risk": "urgent"}\n')
    assert main(["import", "items", str(bad), "--db", str(tmp_path / "p.db")]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:1: field 'risk'" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_missing_database_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "items", "--db", str(tmp_path / "none.db")]) == 2
    assert "judgekit init" in capsys.readouterr().err


def test_db_from_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JUDGEKIT_DB", str(tmp_path / "env.db"))
    assert main(["init"]) == 0
    assert (tmp_path / "env.db").exists()
    assert "wal" in capsys.readouterr().out


def test_import_export_cli_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "p.db")
    items = tmp_path / "items.csv"
    items.write_text("id,input,output\na,q,o\nb,q,o2\n")
    labels = tmp_path / "labels.csv"
    labels.write_text("item_id,annotator,label\na,x,pass\nb,x,fail\n")
    rub = str(ROOT / "rubrics" / "helpfulness_pass_fail.yaml")
    assert main(["import", "items", str(items), "--db", db]) == 0
    assert main(["import", "labels", str(labels), "--rubric", rub, "--db", db]) == 0
    assert main(["import", "labels", str(labels), "--rubric", "helpfulness-pass-fail@1", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "labels: 2 read, 2 added" in out and "labels: 2 read, 0 added, 2 already present" in out
    assert main(["export", "labels", "--db", db, "-o", str(tmp_path / "out.jsonl")]) == 0
    rows = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["label"] for r in rows] == ["pass", "fail"]


def test_rubric_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rubric", "validate", *map(str, sorted((ROOT / "rubrics").glob("*.yaml")))]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nversion: 1\n")
    assert main(["rubric", "validate", str(bad)]) == 2
    assert "INVALID" in capsys.readouterr().out


def test_rubric_validate_renders_the_template_in_the_sandbox(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 16: this template passed 'rubric validate' and ran 'id' when 'judgekit judge' rendered it."""
    text = (ROOT / "rubrics" / "helpfulness_pass_fail.yaml").read_text()
    evil = tmp_path / "evil.yaml"
    evil.write_text(text.replace("{{ item_block }}", "{{ cycler.__init__.__globals__.os.system('touch pwned') }}"))
    typo = tmp_path / "typo.yaml"
    typo.write_text(text.replace("{{ item_block }}", "{{ item_blok }}"))
    assert main(["rubric", "validate", str(evil), str(typo)]) == 2
    out = capsys.readouterr().out
    assert f"INVALID {evil}: " in out and "may not" in out
    assert f"INVALID {typo}: " in out and "item_blok" in out
    db = str(tmp_path / "p.db")
    assert main(["import", "rubric", str(evil), "--db", db]) == 2
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


def test_import_judgekit_loads_no_heavy_modules() -> None:
    code = (
        "import sys, judgekit, judgekit.models, judgekit.storage, judgekit.io, judgekit.stats, judgekit.cli; "
        "bad = [m for m in ('streamlit', 'openai', 'anthropic', 'matplotlib') if m in sys.modules]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_console_script_runs() -> None:
    exe = Path(sys.executable).parent / "judgekit"
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "demo" in out.stdout
