"""Storage errors a user can cause, each a clear message and exit 2, nothing changed (issue 16, "Clear errors"):
another application's database or a file that is no database at all (left untouched, byte for byte), a read-only
project (reading works; a write says why not), a full disk (the message says so; nothing half-written) and a
writer that waits too long for another (a bounded wait, then a clear message). Each failed before: the other
application's file was migrated (judgekit tables added, switched to WAL), a read-only file could not even be read,
a full disk and a busy lock ended in tracebacks. Generated cases cover the neighbours of each class.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from judgekit.cli import main
from judgekit.errors import DiskFullError, NotAProjectError
from judgekit.io import import_items_file, import_labels_file
from judgekit.storage import Project, open_database
from tests.helpers import ROOT, rubric, write_jsonl

JUDGEKIT = (sys.executable, "-c", "from judgekit.cli import entry; entry()")
"""The CLI in a fresh process (as a user would start it)."""


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _untouched(path: Path, digest: str) -> None:
    assert _digest(path) == digest
    assert not Path(f"{path}-wal").exists() and not Path(f"{path}-shm").exists()


def test_another_applications_sqlite_file_is_left_untouched(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "app.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)")
    conn.execute("INSERT INTO users (email) VALUES ('a@example.org')")
    conn.commit()
    conn.close()
    digest = _digest(path)
    for cmd in (["init"], ["agree"], ["export", "labels"], ["db", "info"]):
        assert main([*cmd, "--db", str(path)]) == 2
        err = capsys.readouterr().err
        assert "not a judgekit project" in err and "users" in err and "left untouched" in err
        assert "internal error" not in err
    _untouched(path, digest)


_NAME = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True).filter(lambda n: n != "schema_migrations")


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tables=st.lists(_NAME, min_size=1, max_size=4, unique=True), rows=st.integers(0, 3), wal=st.booleans())
def test_any_foreign_sqlite_schema_is_refused_unchanged(tables: list[str], rows: int, wal: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "other.db"
        conn = sqlite3.connect(path)
        if wal:
            conn.execute("PRAGMA journal_mode=WAL")
        for t in tables:
            conn.execute(f'CREATE TABLE "{t}" (x TEXT)')
            conn.executemany(f'INSERT INTO "{t}" VALUES (?)', [(str(i),) for i in range(rows)])
        conn.commit()
        conn.close()
        digest = _digest(path)
        with pytest.raises(NotAProjectError, match="left untouched"):
            Project(path)
        assert _digest(path) == digest


@settings(max_examples=25, deadline=None)
@given(content=st.binary(min_size=1, max_size=2000))
def test_a_file_that_is_no_database_is_refused_unchanged(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "labels.csv"
        path.write_bytes(b"item_id,label\n" + content)  # e.g. a CSV passed as --db by mistake
        digest = _digest(path)
        with pytest.raises(NotAProjectError, match="not a SQLite database at all"):
            Project(path)
        _untouched(path, digest)


def _labelled_project(folder: Path) -> Path:
    db = folder / "p.db"
    with Project(db) as p:
        import_items_file(p, write_jsonl(folder / "items.jsonl", [{"id": "a", "input": "q", "output": "o"}]))
        import_labels_file(p, write_jsonl(folder / "l.jsonl", [{"item_id": "a", "annotator": "x", "label": "pass"}]),
                           rubric())  # fmt: skip
    return db


def test_read_only_project_can_be_read_and_a_write_says_why_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _labelled_project(tmp_path)
    more = write_jsonl(tmp_path / "more.jsonl", [{"item_id": "a", "annotator": "y", "label": "fail"}])
    db.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    if os.geteuid() == 0:  # root may write any file: answer as the kernel would for everyone else
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == db and mode & os.W_OK
                            else real_access(p, mode, **kw))  # fmt: skip
    digest = _digest(db)
    assert main(["export", "labels", "--db", str(db)]) == 0
    assert '"annotator": "x"' in capsys.readouterr().out
    rub = str(ROOT / "rubrics" / "helpfulness_pass_fail.yaml")
    assert main(["import", "labels", str(more), "--rubric", rub, "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "read-only" in err and "reading works" in err and "internal error" not in err
    assert _digest(db) == digest
    db.chmod(stat.S_IRUSR | stat.S_IWUSR)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pages=st.integers(40, 120), n_labels=st.integers(50, 600))
def test_full_disk_is_named_and_nothing_is_half_written(tmp_path_factory: pytest.TempPathFactory, pages: int,
                                                       n_labels: int) -> None:  # fmt: skip
    folder = tmp_path_factory.mktemp("full")
    db = folder / "p.db"
    with Project(db) as p:
        import_items_file(p, write_jsonl(folder / "items.jsonl", [{"id": f"i{k}", "input": "q", "output": "o"}
                                                                   for k in range(50)]))  # fmt: skip
        before = p.label_count()
        # SQLite reports a database that may not grow past max_page_count exactly as a full disk (SQLITE_FULL)
        p.db.execute(f"PRAGMA max_page_count = {int(p.db.scalar('PRAGMA page_count')) + pages // 10}")
        rows = [{"item_id": f"i{k % 50}", "annotator": f"a{k}", "label": "pass", "critique": "x" * 200}
                for k in range(n_labels)]  # fmt: skip
        try:
            import_labels_file(p, write_jsonl(folder / "l.jsonl", rows), rubric())
        except DiskFullError as exc:
            assert "is full" in str(exc) and "nothing was written" in str(exc)
            assert p.label_count() == before
        else:
            assert p.label_count() == before + n_labels


def test_cli_names_a_full_disk(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _labelled_project(tmp_path)
    real = open_database

    def tiny(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        d = real(*args, **kwargs)  # type: ignore[arg-type]
        d.execute(f"PRAGMA max_page_count = {int(d.scalar('PRAGMA page_count'))}")
        return d

    monkeypatch.setattr("judgekit.storage.project.open_database", tiny)
    big = write_jsonl(tmp_path / "big.jsonl", [{"item_id": "a", "annotator": f"p{k}", "label": "pass",
                                                "critique": "y" * 500} for k in range(200)])  # fmt: skip
    assert main(["import", "labels", str(big), "--rubric", str(ROOT / "rubrics" / "helpfulness_pass_fail.yaml"),
                 "--db", str(db)]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "is full" in err and "internal error" not in err


def test_cli_writer_gives_up_after_the_lock_timeout_with_a_clear_message(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with Project(db_url) as p:
        import_items_file(p, write_jsonl(tmp_path / "items.jsonl", [{"id": "a", "input": "q", "output": "o"}]))
    labels = write_jsonl(tmp_path / "l.jsonl", [{"item_id": "a", "annotator": "x", "label": "pass"}])
    monkeypatch.setenv("JUDGEKIT_LOCK_TIMEOUT", "1")
    holder = open_database(db_url)
    with holder.transaction():
        holder.execute("INSERT INTO project_meta (key, value) VALUES ('holding', 'the lock')")
        code = main(["import", "labels", str(labels), "--rubric", str(ROOT / "rubrics" / "helpfulness_pass_fail.yaml"),
                     "--db", db_url])  # fmt: skip
    holder.close()
    err = capsys.readouterr().err
    assert code == 2 and "is busy" in err and "nothing was written" in err and "JUDGEKIT_LOCK_TIMEOUT" in err
    assert "waiting for another process" in err  # told once while it waited
    with Project(db_url) as p:
        assert p.label_count() == 0


def test_two_large_imports_at_once_both_succeed(db_url: str, tmp_path: Path) -> None:
    with Project(db_url) as p:
        import_items_file(p, write_jsonl(tmp_path / "items.jsonl", [{"id": f"i{k}", "input": "q", "output": "o"}
                                                                     for k in range(2000)]))  # fmt: skip
    files = [write_jsonl(tmp_path / f"l{w}.jsonl", [{"item_id": f"i{k}", "annotator": f"w{w}", "label": "pass"}
                                                   for k in range(2000)]) for w in range(2)]  # fmt: skip
    procs = [
        subprocess.Popen(
            [
                *JUDGEKIT,
                "import",
                "labels",
                str(f),
                "--rubric",
                str(ROOT / "rubrics" / "helpfulness_pass_fail.yaml"),
                "--db",
                db_url,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for f in files
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    with Project(db_url) as p:
        assert p.label_count() == 4000
