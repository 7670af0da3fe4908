"""The set-based queue rebuild: same rows as the original per-item Python computation, escalations survive it,
and concurrent sessions do not rebuild twice. Progress counts match the original queries."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from judgekit.calibration import escalate
from judgekit.labeling import (
    AssignmentPolicy,
    ensure_queue,
    next_item,
    progress,
    progress_all,
    queue_entries,
    rebuild_queue,
    set_policy,
    skip_item,
    submit_label,
)
from judgekit.labeling import _queue as queue_mod
from judgekit.labeling._queue import ABSTAINED_REASON
from judgekit.models import Item, ItemMetadata, JudgeConfig, JudgeVerdict, Rubric
from judgekit.storage import Project

from .conftest import BINARY, ORDINAL, add_judge, build_project
from .queue_reference import queue_rows as stored_rows
from .queue_reference import reference_rows


def old_progress(project: Project, annotator: str, rubric: Rubric) -> tuple[int, int, int, int, int]:
    """(labelled, skipped, flagged, revisions, remaining) by the original queries."""
    c = project.db
    key = {"rid": rubric.id, "ver": rubric.version, "who": annotator}
    labelled, rows, fl = c.execute(
        "SELECT COUNT(DISTINCT item_id), COUNT(*), COUNT(DISTINCT CASE WHEN flagged = 1 THEN item_id END) "
        "FROM labels WHERE annotator = :who AND rubric_id = :rid AND rubric_version = :ver",
        key,
    ).fetchone()
    skipped, fs = c.execute(
        "SELECT COUNT(*), COALESCE(SUM(flagged), 0) FROM skips WHERE annotator = :who AND rubric_id = :rid "
        "AND rubric_version = :ver",
        key,
    ).fetchone()
    open_total = c.execute(
        "SELECT COUNT(*) FROM label_queue WHERE rubric_id = :rid AND rubric_version = :ver AND n_labelled < target", key
    ).fetchone()[0]
    open_mine = c.execute(
        "SELECT COUNT(*) FROM label_queue q WHERE q.rubric_id = :rid AND q.rubric_version = :ver "
        "AND q.n_labelled < q.target AND q.item_id IN ("
        " SELECT item_id FROM labels WHERE annotator = :who AND rubric_id = :rid AND rubric_version = :ver"
        " UNION SELECT item_id FROM skips WHERE annotator = :who AND rubric_id = :rid AND rubric_version = :ver)",
        key,
    ).fetchone()[0]
    return labelled, skipped, fl + fs, rows - labelled, max(0, open_total - open_mine)


def _random_judge(project: Project, rubric: Rubric, name: str, rng: random.Random, n_items: int) -> None:
    cfg = JudgeConfig(
        provider="external", model=name, rubric_id=rubric.id, rubric_version=rubric.version, confidence="external"
    )
    run = project.create_run(name, cfg, source="import")
    verdicts = []
    for i in range(n_items):
        if rng.random() < 0.2:
            continue
        if rng.random() < 0.1:
            verdicts.append(JudgeVerdict(item_id=f"it{i}", status="parse_error", confidence_source="none"))
            continue
        conf = None if rng.random() < 0.15 else rng.choice([0.5, 0.59, 0.6, 0.7, 0.71, 0.9, 1.0, rng.random()])
        verdicts.append(
            JudgeVerdict(
                item_id=f"it{i}",
                label=rng.choice(rubric.scale.values),
                confidence=conf,
                confidence_source="external" if conf is not None else "none",
            )
        )
    project.add_verdicts(run.id, verdicts)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rebuild_matches_the_per_item_reference(db_url: str, tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    project, _ = build_project(db_url, ORDINAL if seed == 2 else BINARY, n_items=60, risky=(3, 7, 11))
    rubric = project.rubrics()[0]
    with project.transaction() as c:  # some medium risk too
        c.execute("UPDATE items SET risk = 'medium' WHERE id IN ('it4', 'it5', 'it20')")
    policy = AssignmentPolicy(annotators_per_item=2, overlap_fraction=0.3, overlap_annotators=4)
    set_policy(project, rubric.id, policy)
    _random_judge(project, rubric, "j1", rng, 60)
    _random_judge(project, rubric, "j2", rng, 60)
    people = [f"p{k}" for k in range(6)]

    def label_some(n: int) -> None:
        for _ in range(n):
            who, item = rng.choice(people), f"it{rng.randrange(60)}"
            submit_label(
                project, who, rubric, item, rng.choice(rubric.scale.values), critique="why", flagged=rng.random() < 0.1
            )
            if rng.random() < 0.05:
                skip_item(project, who, rubric, f"it{rng.randrange(60)}", flagged=rng.random() < 0.5)

    label_some(150)  # many (item, annotator) pairs get revisions, which change majorities
    assert project.db.execute("SELECT COUNT(*) FROM labels WHERE revision > 2").fetchone()[0] > 0
    assert rebuild_queue(project, rubric) == 60
    assert stored_rows(project, rubric) == reference_rows(project, rubric, policy)
    # rebuild with nothing changed, then after more labels and revisions (re-rank), new items, a new policy,
    # and escalations
    rebuild_queue(project, rubric)
    assert stored_rows(project, rubric) == reference_rows(project, rubric, policy)
    label_some(80)
    with project.transaction() as c:  # counts that drifted (e.g. edited by hand) are put right by a rebuild
        c.execute("UPDATE label_queue SET n_labelled = 0 WHERE item_id IN ('it1', 'it2', 'it3')")
    rebuild_queue(project, rubric)
    assert stored_rows(project, rubric) == reference_rows(project, rubric, policy)
    project.add_items([Item(id=f"it{i}", input=f"q{i}", output="a", metadata=ItemMetadata()) for i in range(60, 70)])
    policy = AssignmentPolicy(annotators_per_item=1, overlap_fraction=0.5, overlap_annotators=3)
    set_policy(project, rubric.id, policy)
    with project.transaction() as c:
        c.executemany(
            "INSERT INTO escalations (rubric_id, rubric_version, item_id, run_name, created_at)"
            " VALUES (?, ?, ?, 'j1', '2025-01-01')",
            [(rubric.id, rubric.version, i) for i in ("it1", "it2", "it2", "it65")],
        )
    assert ensure_queue(project, rubric) is True
    assert stored_rows(project, rubric) == reference_rows(project, rubric, policy)
    assert ensure_queue(project, rubric) is False
    for who in [*people, "nobody"]:
        p = progress(project, who, rubric)
        assert (p.labelled, p.skipped, p.flagged, p.revisions, p.remaining) == old_progress(project, who, rubric)
    assert [p.annotator for p in progress_all(project, rubric)] == sorted({"alice", "bob", "root", *people})


def test_abstained_items_come_first_after_a_rebuild(db_url: str, tmp_path: Path) -> None:
    """Escalations raise priority at the time of `escalate` and keep it through every rebuild."""
    project, _ = build_project(db_url, BINARY, n_items=8, risky=(6,))
    set_policy(project, "helpfulness-pass-fail", AssignmentPolicy(overlap_fraction=0.0))
    rubric = project.rubrics()[0]
    add_judge(project, "j1", {f"it{i}": ("pass", 0.55 if i in (0, 1) else 0.95) for i in range(8)})
    add_judge(project, "j2", {"it0": ("fail", 0.9)})  # it0: judges disagree, the strongest non-risk signal
    ensure_queue(project, rubric)
    assert [e.item_id for e in queue_entries(project, rubric, limit=2)] == ["it6", "it0"]
    # the calibration API: the judge abstains on it3 and it5 -> raised at once
    escalate(project, "j1", ["it3", "it5"], threshold=0.96)
    # items added later trigger a full rebuild: the raise survives (and is not applied twice)
    project.add_items([Item(id="it8", input="late", output="x", metadata=ItemMetadata())])
    assert ensure_queue(project, rubric) is True
    top = queue_entries(project, rubric, limit=8)
    assert [e.item_id for e in top[:4]] == ["it6", "it3", "it5", "it0"]
    assert all(e.reasons.endswith(ABSTAINED_REASON) for e in top[1:3])
    assert top[1].priority == pytest.approx(40.0 + 10 * (1 - 0.95))
    # rows written straight into escalations (another tool) count too: the queue notices them
    with project.transaction() as c:
        c.execute(
            "INSERT INTO escalations (rubric_id, rubric_version, item_id, run_name, created_at)"
            " VALUES (?, ?, 'it8', 'other', '2025-01-01')",
            (rubric.id, rubric.version),
        )
    rebuild_queue(project, rubric)
    assert [e.item_id for e in queue_entries(project, rubric, limit=4)] == ["it6", "it3", "it5", "it8"]
    # an explicit rebuild after importing labels keeps them as well; annotators get the high-risk item, then them
    rebuild_queue(project, rubric)
    assert [i.id for i in _take(project, rubric, "alice", 4)] == ["it6", "it3", "it5", "it8"]


def _take(project: Project, rubric: Rubric, who: str, n: int) -> list[Item]:
    out = []
    for _ in range(n):
        item = next_item(project, who, rubric)
        assert item is not None
        submit_label(project, who, rubric, item.id, "pass")
        out.append(item)
    return out


def test_sessions_waiting_on_a_stale_queue_rebuild_it_once(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, _ = build_project(db_url, BINARY, n_items=5)
    rubric = project.rubrics()[0]
    ensure_queue(project, rubric)
    other = Project(db_url)
    project.add_items([Item(id="new", input="q", output="a", metadata=ItemMetadata())])
    rebuilds: list[Project] = []
    real = queue_mod._rebuild

    def counting(p: Project, r: Rubric, policy: AssignmentPolicy) -> int:
        rebuilds.append(p)
        return real(p, r, policy)

    monkeypatch.setattr(queue_mod, "_rebuild", counting)
    real_get_policy = queue_mod.get_policy
    calls = {"n": 0}

    def get_policy_then_race(p: Project, rubric_id: str) -> AssignmentPolicy:
        # `other` sees the stale stamp; before it takes the write lock, `project` rebuilds the queue
        calls["n"] += 1
        if p is other and calls["n"] == 1:
            assert ensure_queue(project, rubric) is True
        return real_get_policy(p, rubric_id)

    monkeypatch.setattr(queue_mod, "get_policy", get_policy_then_race)
    assert ensure_queue(other, rubric) is False
    assert rebuilds == [project]
    other.close()
