"""Derived rubric versions (``lineage``) and decision rules: stored bodies of old rubrics unchanged, rules reach the
judge's system message only when present, and a derived version is measured against its root's human labels."""

from __future__ import annotations

from pathlib import Path

import pytest

from judgekit.agreement import assess_run, load_human_ratings
from judgekit.calibration import compare_runs, create_split
from judgekit.errors import ConfigError
from judgekit.judging.prompts import build_messages
from judgekit.models import HumanLabel, Item, JudgeConfig, JudgeVerdict, Rubric, canonical_json, rubric_from_dict
from judgekit.storage import Project
from tests.helpers import rubric


def derived(base: Rubric, **changes: object) -> Rubric:
    body = base.model_dump(mode="json")
    body.update(
        version=base.version + 1,
        decision_rules=["Answer fail when the answer contradicts the reference."],
        lineage={
            "parent": base.version,
            "labels_from": base.labels_version,
            "strategy": "rules",
            "changes": ["+ rule"],
        },
    )
    body.update(changes)
    return rubric_from_dict(body)


def test_a_rubric_without_rules_or_lineage_dumps_as_before() -> None:
    r = rubric()
    dumped = r.model_dump(mode="json")
    assert "decision_rules" not in dumped and "lineage" not in dumped
    assert r.labels_version == r.version and r.labels_key == r.key
    # the stored body (what save_rubric compares byte for byte) has no new keys, so old projects re-save cleanly
    assert '"lineage"' not in canonical_json(dumped)


def test_lineage_round_trips_and_is_checked() -> None:
    r2 = derived(rubric())
    assert r2.labels_version == 1 and r2.labels_key == "helpfulness-pass-fail@1"
    again = rubric_from_dict(r2.model_dump(mode="json"))
    assert again == r2
    with pytest.raises(ConfigError, match="lineage"):
        derived(rubric(), lineage={"parent": 3, "labels_from": 1, "strategy": "rules"})
    with pytest.raises(ConfigError, match="decision_rules"):
        derived(rubric(), decision_rules=["  "])


def test_decision_rules_are_in_the_system_message_only_when_present() -> None:
    base = rubric()
    item = Item(id="i1", input="Q?", output="A.")
    plain = build_messages(base, item)
    with_rules = build_messages(derived(base, decision_rules=["Never reward <<<END OUTPUT>>> length."]), item)
    assert "Decision rules" not in plain[0]["content"]
    assert with_rules[0]["content"].startswith(plain[0]["content"])
    assert "1. Never reward < < <END OUTPUT> > > length." in with_rules[0]["content"]
    assert with_rules[1:] == plain[1:]


def _project(tmp_path: Path) -> tuple[Project, Rubric, Rubric]:
    base = rubric()
    project = Project(tmp_path / "p.db", create=True)
    project.save_rubric(base)
    items = [Item(id=f"i{n}", input=f"question {n}", output=f"answer {n}") for n in range(40)]
    project.add_items(items)
    truth = {it.id: ("pass" if n % 3 else "fail") for n, it in enumerate(items)}
    labels = [
        HumanLabel(item_id=i, annotator=a, rubric_id=base.id, rubric_version=1, label=lab)
        for i, lab in truth.items()
        for a in ("ann1", "ann2")
    ]
    project.add_labels(labels)
    child = derived(base)
    project.save_rubric(child)
    for name, r, wrong_every in (("parent-run", base, 4), ("child-run", child, 8)):
        cfg = JudgeConfig(provider="external", model=name, rubric_id=r.id, rubric_version=r.version)
        run = project.create_run(name, cfg, source="import")
        flip = {"pass": "fail", "fail": "pass"}
        project.add_verdicts(
            run.id,
            [
                JudgeVerdict(item_id=i, label=flip[lab] if n % wrong_every == 0 else lab)
                for n, (i, lab) in enumerate(truth.items())
            ],
        )
    return project, base, child


def test_a_derived_version_is_measured_against_its_roots_labels(tmp_path: Path) -> None:
    project, base, child = _project(tmp_path)
    with project:
        assert load_human_ratings(project, child).codes.tolist() == load_human_ratings(project, base).codes.tolist()
        a = assess_run(project, "child-run")
        assert a.rubric == child.key and a.judge.kappa.failures_as_wrong.n_items == 40
        assert a.ceiling.kappa.value == assess_run(project, "parent-run").ceiling.kappa.value
        split = create_split(project, child, test_fraction=0.3)
        assert split.rubric_key == base.key  # a split is made of the labels, whichever version asked
        rep = compare_runs(project, ["child-run", "parent-run"], split=split, part="dev", record=False)
        assert rep.n_items == split.n_dev
        assert rep.pairs[0].accuracy_difference.failures_as_wrong.value > 0
