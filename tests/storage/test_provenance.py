"""Label provenance: blind by default, stored and read back, filtered by readers, and added to old databases."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from judgekit.agreement.data import load_human_ratings
from judgekit.errors import ConstraintViolation, UserError
from judgekit.models import HumanLabel, Item
from judgekit.storage import MIGRATIONS, Project, migrate, open_database
from tests.helpers import rubric


def _label(item: str, ann: str, label: str, provenance: str = "blind") -> HumanLabel:
    return HumanLabel(
        item_id=item,
        annotator=ann,
        rubric_id="helpfulness-pass-fail",
        rubric_version=1,
        label=label,
        provenance=provenance,  # type: ignore[arg-type]
    )


@pytest.fixture
def project(db_url: str) -> Project:
    p = Project(db_url)
    p.save_rubric(rubric())
    p.add_items([Item(id=f"i{n}", input="q", output="o") for n in range(2)])
    yield p
    p.close()


def test_provenance_defaults_to_blind_and_refuses_unknown_values() -> None:
    assert HumanLabel(item_id="i", annotator="a", rubric_id="r", rubric_version=1, label="x").provenance == "blind"
    with pytest.raises(ValidationError, match="blind"):
        _label("i0", "a", "pass", provenance="gold")


def test_provenance_is_stored_and_filtered_latest_within_provenance(project: Project) -> None:
    project.add_label(_label("i0", "ann", "pass"))
    project.add_label(_label("i0", "lead", "fail", "adjudicated"))
    project.add_label(_label("i0", "ann", "fail", "corrected"))  # revision 2 of ann, a correction
    project.add_label(_label("i1", "ann", "fail"))
    every = project.labels()
    assert [(lab.item_id, lab.annotator, lab.revision, lab.provenance) for lab in every] == [
        ("i0", "ann", 2, "corrected"),
        ("i0", "lead", 1, "adjudicated"),
        ("i1", "ann", 1, "blind"),
    ]
    blind = project.labels(provenance="blind")
    # ann's blind label on i0 stays their blind label: the later correction is not blind evidence
    assert [(lab.item_id, lab.annotator, lab.label, lab.revision) for lab in blind] == [
        ("i0", "ann", "pass", 1),
        ("i1", "ann", "fail", 1),
    ]
    assert [lab.annotator for lab in project.labels(provenance=["adjudicated"])] == ["lead"]
    assert len(project.labels(history=True, provenance=("blind", "corrected"))) == 3
    assert project.latest_label("i0", "ann", "helpfulness-pass-fail", 1, provenance="blind").label == "pass"  # type: ignore[union-attr]
    assert project.latest_label("i0", "ann", "helpfulness-pass-fail", 1).provenance == "corrected"  # type: ignore[union-attr]
    with pytest.raises(UserError, match="unknown label provenance"):
        project.labels(provenance="gold")  # type: ignore[arg-type]


def test_migration_adds_blind_provenance_to_existing_labels(db_url: str) -> None:
    db = open_database(db_url)
    migrate(db, tuple(m for m in MIGRATIONS if m.id < 7))
    with db.transaction():
        db.execute("INSERT INTO items (id, input, content_hash, seq) VALUES ('i0', 'q', 'h', 1)")
        db.execute("INSERT INTO rubrics VALUES ('helpfulness-pass-fail', 1, ?, 'now')", (rubric().model_dump_json(),))
        db.execute(
            "INSERT INTO labels (item_id, annotator, rubric_id, rubric_version, label, created_at, revision) "
            "VALUES ('i0', 'ann', 'helpfulness-pass-fail', 1, 'pass', '2024-01-01T00:00:00+00:00', 1)"
        )
    db.close()
    with Project(db_url) as p:
        assert [lab.provenance for lab in p.labels()] == ["blind"]
        with pytest.raises(ConstraintViolation, match="append-only"), p.transaction() as tx:
            tx.execute("UPDATE labels SET provenance = 'adjudicated'")


def test_human_figures_read_blind_labels_only(project: Project) -> None:
    project.add_label(_label("i0", "ann", "pass"))
    project.add_label(_label("i0", "ann", "fail", "corrected"))
    project.add_label(_label("i0", "lead", "fail", "adjudicated"))
    project.add_label(_label("i1", "pm", "fail", "corrected"))
    humans = load_human_ratings(project, rubric())
    assert humans.item_ids == ["i0"] and humans.annotators == ["ann"]
    assert humans.levels[humans.codes[0, 0]] == "pass"
    assert project.current_label_rows("helpfulness-pass-fail", 1, provenance="corrected") == [
        ("i0", "ann", "fail", 1),
        ("i1", "pm", "fail", 2),
    ]


def test_latest_label_rows_keep_the_latest_revision_of_each_provenance(project: Project) -> None:
    project.add_label(_label("i0", "ann", "pass"))
    project.add_label(_label("i0", "ann", "fail"))  # revision 2 of a blind label
    project.add_label(_label("i0", "ann", "pass", "corrected"))  # revision 3, another provenance
    project.add_label(_label("i1", "ann", "fail"))
    rows = project.latest_label_rows("helpfulness-pass-fail", 1, provenance="blind")
    assert sorted((r[0], r[1], r[2]) for r in rows) == [("i0", "ann", "fail"), ("i1", "ann", "fail")]
    assert project.has_labels("helpfulness-pass-fail", 1, provenance="corrected")
    assert not project.has_labels("helpfulness-pass-fail", 1, provenance="adjudicated")
    assert not project.has_labels("helpfulness-pass-fail", 2)


def test_latest_critiques_read_the_critiques_of_the_latest_labels_only(project: Project) -> None:
    def crit(item: str, ann: str, text: str | None, provenance: str = "blind") -> HumanLabel:
        return _label(item, ann, "fail", provenance).model_copy(update={"critique": text})

    project.add_label(crit("i0", "ann", "dodges the question"))
    project.add_label(crit("i0", "ann", None))  # revision 2 drops the critique: the latest has none
    project.add_label(crit("i0", "bob", "wrong sum"))
    project.add_label(crit("i1", "ann", "old words"))
    project.add_label(crit("i1", "ann", "  hedges  "))  # revision 2 replaces it
    project.add_label(crit("i1", "bob", "adjudicated note", "adjudicated"))
    assert project.latest_critiques("helpfulness-pass-fail", 1) == {"i0": ["wrong sum"], "i1": ["hedges"]}
    got = project.latest_critiques("helpfulness-pass-fail", 1, provenance="adjudicated")
    assert got == {"i1": ["adjudicated note"]}
    assert project.latest_critiques("helpfulness-pass-fail", 2) == {}
    # the same as reading every latest blind label and keeping those with a critique
    every = project.labels("helpfulness-pass-fail", 1, provenance="blind")
    assert {lab.item_id for lab in every if lab.critique} == set(project.latest_critiques("helpfulness-pass-fail", 1))
