"""Labels and verdicts per criterion (migration 13, label_criteria + verdict_criteria), on SQLite and PostgreSQL:
stored, read back, read per criterion in bulk, checked against the rubric, append-only, idempotent on import."""

from __future__ import annotations

import pytest

from judgekit.errors import ConstraintViolation, UserError
from judgekit.models import CriterionVerdict, HumanLabel, Item, JudgeConfig, JudgeVerdict, Rubric
from judgekit.storage import Project
from tests.helpers import rubric

RATED = "assistant_turn_criteria"


def _label(item: str, ann: str, helpfulness: str, grounded: str, safety: str, **kw: object) -> HumanLabel:
    r = rubric(RATED)
    label, criteria = r.answer(None, {"helpfulness": helpfulness, "grounded": grounded, "safety": safety})
    return HumanLabel(
        item_id=item,
        annotator=ann,
        rubric_id=r.id,
        rubric_version=1,
        label=label,
        criteria=criteria,
        **kw,  # type: ignore[arg-type]
    )


def _raw(item: str, label: str, **criteria: str) -> HumanLabel:
    return HumanLabel(item_id=item, annotator="ann", rubric_id="assistant-turn-criteria", rubric_version=1,
                      label=label, criteria=criteria)  # fmt: skip


@pytest.fixture
def project(db_url: str) -> Project:
    p = Project(db_url)
    p.save_rubric(rubric(RATED))
    p.save_rubric(rubric())
    p.add_items([Item(id=f"i{n}", input="q", output="o") for n in range(4)])
    yield p
    p.close()


def test_a_label_keeps_every_criterion_and_revisions_keep_theirs(project: Project) -> None:
    first = project.add_label(_label("i0", "ann", "4", "0.75", "safe"))
    assert first.label == "pass" and first.revision == 1
    project.add_label(_label("i0", "ann", "2", "1", "safe"))  # revision 2: helpfulness below its pass_at
    project.add_label(_label("i1", "bob", "5", "0.5", "unsafe"))
    latest = project.labels("assistant-turn-criteria", 1)
    assert [(lab.item_id, lab.annotator, lab.revision, lab.label, lab.criteria) for lab in latest] == [
        ("i0", "ann", 2, "fail", {"helpfulness": "2", "grounded": "1", "safety": "safe"}),
        ("i1", "bob", 1, "fail", {"helpfulness": "5", "grounded": "0.5", "safety": "unsafe"}),
    ]
    history = project.labels("assistant-turn-criteria", 1, history=True)
    assert [lab.criteria["helpfulness"] for lab in history] == ["4", "2", "5"]
    got = project.latest_label("i0", "ann", "assistant-turn-criteria", 1)
    assert got is not None and got.criteria["grounded"] == "1"
    # per criterion in bulk, the latest label's answer (the overall: the label itself)
    rows = project.current_label_rows("assistant-turn-criteria", 1, criterion="grounded")
    assert sorted((i, a, v) for i, a, v, _ in rows) == [("i0", "ann", "1"), ("i1", "bob", "0.5")]
    overall = project.current_label_rows("assistant-turn-criteria", 1, criterion="overall")
    assert sorted(v for _, _, v, _ in overall) == ["fail", "fail"]
    # a rubric with one scale is untouched by the new tables
    project.add_label(HumanLabel(item_id="i2", annotator="ann", rubric_id="helpfulness-pass-fail", rubric_version=1,
                                 label="pass"))  # fmt: skip
    assert project.labels("helpfulness-pass-fail", 1)[0].criteria == {}


def test_answers_are_checked_and_stored_canonically(project: Project) -> None:
    stored = project.add_label(_label("i0", "ann", "4", "0.50", "safe"))
    assert stored.criteria["grounded"] == "0.5"
    with pytest.raises(UserError, match=r"criterion 'grounded'.*steps"):
        project.add_label(_raw("i1", "pass", helpfulness="4", grounded="0.6", safety="safe"))
    with pytest.raises(UserError, match="no answer for safety"):
        project.add_label(_raw("i1", "pass", helpfulness="4", grounded="1"))
    with pytest.raises(UserError, match="does not match the criteria"):
        project.add_label(_raw("i1", "fail", helpfulness="4", grounded="1", safety="safe"))
    with pytest.raises(UserError, match="has one scale"):
        project.add_label(HumanLabel(item_id="i1", annotator="a", rubric_id="helpfulness-pass-fail",
                                     rubric_version=1, label="pass", criteria={"x": "1"}))  # fmt: skip
    assert len(project.labels(history=True)) == 1


def test_bulk_import_is_idempotent_and_the_criteria_are_part_of_the_decision(project: Project) -> None:
    labels = [_label("i0", "ann", "4", "1", "safe"), _label("i1", "ann", "3", "1", "safe")]
    assert project.add_labels(labels).added == 2
    assert project.add_labels(labels).added == 0  # the same file again adds nothing
    # same overall label, another answer for one criterion: a new decision, a new revision
    again = project.add_labels([_label("i0", "ann", "5", "1", "safe")])
    assert again.added == 1
    assert [lab.criteria["helpfulness"] for lab in project.labels(history=True) if lab.item_id == "i0"] == ["4", "5"]


def test_label_criteria_are_append_only(project: Project) -> None:
    project.add_label(_label("i0", "ann", "4", "1", "safe"))
    with pytest.raises(ConstraintViolation), project.transaction() as db:
        db.execute("UPDATE label_criteria SET value = '1' WHERE criterion = 'helpfulness'")
    with pytest.raises(ConstraintViolation), project.transaction() as db:
        db.execute("DELETE FROM label_criteria")
    assert project.labels()[0].criteria["helpfulness"] == "4"


def _verdict(item: str, r: Rubric, **answers: str | None) -> JudgeVerdict:
    crit = {n: CriterionVerdict(label=v, rationale=f"{n}?") if v is not None else CriterionVerdict(status="refused")
            for n, v in answers.items()}  # fmt: skip
    status, label = r.record_verdict({n: (a.status, a.label) for n, a in crit.items()})
    return JudgeVerdict(item_id=item, status=status, label=label, criteria=crit)  # type: ignore[arg-type]


def test_verdicts_keep_every_criterion_on_both_write_paths(project: Project) -> None:
    r = rubric(RATED)
    cfg = JudgeConfig(provider="external", model="m", rubric_id=r.id, rubric_version=1)
    run = project.create_run("j", cfg, source="import")
    project.add_verdicts(run.id, [_verdict("i0", r, helpfulness="4", grounded="0.8", safety="safe")])
    # the engine's bulk path; a judge's score may fall between the steps of an interval scale
    project.append_verdicts(run.id, [_verdict("i1", r, helpfulness="5", grounded="0.333", safety="safe"),
                                     _verdict("i2", r, helpfulness="5", grounded=None, safety="safe")])  # fmt: skip
    got = {v.item_id: v for v in project.verdicts(run)}
    assert got["i0"].label == "pass" and got["i0"].criteria["grounded"].label == "0.8"
    assert got["i0"].criteria["grounded"].rationale == "grounded?"
    assert got["i2"].status == "refused" and got["i2"].criteria["grounded"].status == "refused"
    assert project.verdicts(run, item_ids=["i1"])[0].criteria["grounded"].label == "0.333"
    rows = project.verdict_rows(run.id, criterion="grounded")
    assert [(i, s, lab) for i, s, lab, _ in rows] == [
        ("i0", "ok", "0.8"),
        ("i1", "ok", "0.333"),
        ("i2", "refused", None),
    ]
    # re-importing the same verdict is a no-op; a different one is refused
    assert project.add_verdicts(run.id, [_verdict("i0", r, helpfulness="4", grounded="0.8", safety="safe")]).unchanged
    with pytest.raises(UserError, match="different verdict"):
        project.add_verdicts(run.id, [_verdict("i0", r, helpfulness="3", grounded="0.8", safety="safe")])
    with pytest.raises(UserError, match="criterion 'grounded'"):
        project.add_verdicts(run.id, [_verdict("i3", r, helpfulness="3", grounded="7", safety="safe")])
