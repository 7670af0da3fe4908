"""The project database on both engines (SQLite file, PostgreSQL schema): migrations, append-only labels,
idempotent writes, runs and verdicts."""

from __future__ import annotations

from pathlib import Path

import pytest

from judgekit.errors import ConstraintViolation, StorageError, UserError
from judgekit.models import HumanLabel, Item, JudgeConfig, JudgeVerdict
from judgekit.storage import (
    MIGRATIONS,
    Migration,
    Project,
    applied_migrations,
    migrate,
    open_database,
    resolve_db_path,
)
from tests.helpers import rubric


@pytest.fixture
def project(db_url: str) -> Project:
    p = Project(db_url)
    p.save_rubric(rubric())
    p.add_items([Item(id=f"i{n}", input="q", output=f"o{n}") for n in range(3)])
    yield p
    p.close()


def _label(item: str = "i0", ann: str = "ann", label: str = "pass", **kw: object) -> HumanLabel:
    return HumanLabel(
        item_id=item, annotator=ann, rubric_id="helpfulness-pass-fail", rubric_version=1, label=label, **kw
    )  # type: ignore[arg-type]


def test_migrations_recorded(project: Project) -> None:
    assert applied_migrations(project.db) == [(m.id, m.name) for m in MIGRATIONS]


def test_sqlite_is_wal_with_foreign_keys(tmp_path: Path) -> None:
    with Project(tmp_path / "w.db") as p:
        assert p.journal_mode() == "wal"
        assert p.db.scalar("PRAGMA foreign_keys") == 1


def test_reopening_applies_nothing_twice(db_url: str) -> None:
    Project(db_url).close()
    db = open_database(db_url)
    assert migrate(db) == []
    db.close()


def test_new_migration_is_applied_in_order(db_url: str) -> None:
    db = open_database(db_url)
    extra = (*MIGRATIONS, Migration(len(MIGRATIONS) + 1, "add_notes", "CREATE TABLE notes (x TEXT, y REAL);"))
    assert [m.name for m in migrate(db, extra)] == [m.name for m in extra]
    assert applied_migrations(db)[-1] == (len(extra), "add_notes")
    db.close()


def test_database_from_newer_judgekit_is_refused(db_url: str) -> None:
    Project(db_url).close()
    db = open_database(db_url)
    with db.transaction():
        db.execute("INSERT INTO schema_migrations VALUES (99, 'from_the_future', 'now')")
    db.close()
    with pytest.raises(StorageError, match="newer"):
        Project(db_url)


def test_failed_migration_leaves_previous_state(db_url: str) -> None:
    db = open_database(db_url)
    bad = (*MIGRATIONS, Migration(len(MIGRATIONS) + 1, "broken", "CREATE TABLE ok1 (x TEXT); SELECT * FROM nope;"))
    with pytest.raises(Exception, match="nope"):
        migrate(db, bad)
    assert len(applied_migrations(db)) == len(MIGRATIONS)
    assert not db.table_exists("ok1")
    db.close()


def test_db_path_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JUDGEKIT_DB", str(tmp_path / "env.db"))
    assert resolve_db_path() == tmp_path / "env.db"
    assert resolve_db_path(tmp_path / "arg.db") == tmp_path / "arg.db"


def test_items_idempotent_and_immutable(project: Project) -> None:
    again = project.add_items([Item(id="i0", input="q", output="o0")])
    assert (again.added, again.unchanged) == (0, 1)
    with pytest.raises(UserError, match="different content"):
        project.add_items([Item(id="new", input="q", output="x"), Item(id="i0", input="q", output="CHANGED")])
    assert project.get_item("new") is None, "a refused batch writes nothing"


def test_labels_are_append_only_with_revisions(project: Project) -> None:
    first = project.add_label(_label(label="pass"))
    second = project.add_label(_label(label="fail", critique="wrong"))
    assert (first.revision, second.revision) == (1, 2)
    assert [lab.label for lab in project.labels("helpfulness-pass-fail", 1)] == ["fail"]
    assert [lab.label for lab in project.labels("helpfulness-pass-fail", 1, history=True)] == ["pass", "fail"]
    with pytest.raises(ConstraintViolation, match="append-only"), project.transaction() as db:
        db.execute("UPDATE labels SET label = 'pass'")
    with pytest.raises(ConstraintViolation, match="append-only"), project.transaction() as db:
        db.execute("DELETE FROM labels")
    assert project.label_count() == 2


def test_label_request_id_makes_submit_idempotent(project: Project) -> None:
    a = project.add_label(_label(), request_id="form-123")
    b = project.add_label(_label(label="fail"), request_id="form-123")
    assert a == b and project.label_count() == 1


@pytest.mark.parametrize(
    "label, message",
    [
        (_label(item="nope"), "unknown item"),
        (_label(label="maybe"), "not a level"),
    ],
)
def test_bad_labels_refused(project: Project, label: HumanLabel, message: str) -> None:
    with pytest.raises(UserError, match=message):
        project.add_label(label)
    assert project.label_count() == 0


def test_rubric_versions_kept_and_frozen(project: Project) -> None:
    r = rubric()
    assert project.save_rubric(r) is False
    with pytest.raises(UserError, match="bump"):
        project.save_rubric(r.model_copy(update={"title": "changed"}))
    project.save_rubric(r.model_copy(update={"title": "changed", "version": 2}))
    assert project.rubric_keys() == ["helpfulness-pass-fail@1", "helpfulness-pass-fail@2"]
    assert project.rubric("helpfulness-pass-fail").version == 2
    assert project.rubric("helpfulness-pass-fail", 1).title == r.title


def test_runs_and_verdicts(project: Project) -> None:
    cfg = JudgeConfig(provider="openai", model="m", rubric_id="helpfulness-pass-fail", rubric_version=1)
    run = project.create_run("r1", cfg)
    assert run.fingerprint == cfg.fingerprint() and run.status == "running"
    project.add_verdicts(
        run.id,
        [
            JudgeVerdict(item_id="i0", label="pass", confidence=0.9, confidence_source="verbalized"),
            JudgeVerdict(item_id="i1", status="parse_error", raw_reply="??"),
        ],
    )
    again = project.add_verdicts(
        run.id, [JudgeVerdict(item_id="i0", label="pass", confidence=0.9, confidence_source="verbalized")]
    )
    assert again.unchanged == 1
    with pytest.raises(UserError, match="different verdict"):
        project.add_verdicts(run.id, [JudgeVerdict(item_id="i0", label="fail")])
    with pytest.raises(UserError, match="not a level"):
        project.add_verdicts(run.id, [JudgeVerdict(item_id="i2", label="maybe")])
    vs = project.verdicts("r1")
    assert [v.status for v in vs] == ["ok", "parse_error"]
    assert vs[0].judge_fingerprint == cfg.fingerprint()
    assert project.verdict_item_ids(run.id) == {"i0", "i1"}
    with pytest.raises(UserError, match="already exists"):
        project.create_run("r1", cfg)
    project.set_run_status(run.id, "complete", meta={"cost_usd": 1.5})
    assert project.run("r1").meta["cost_usd"] == 1.5
    assert project.run(run.id).name == "r1"


def test_data_survives_reopen(db_url: str) -> None:
    with Project(db_url) as p:
        p.save_rubric(rubric())
        p.add_items([Item(id="a", input="q", output="o")])
        p.add_label(_label(item="a"))
    with Project(db_url, create=False) as p:
        assert p.label_count() == 1


def test_missing_db_without_create_is_a_user_error(db_url: str) -> None:
    with pytest.raises(UserError, match="judgekit init"):
        Project(db_url, create=False)
