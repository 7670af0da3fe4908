"""Twenty annotators submitting at once, each with their own connection: nothing is lost, nothing doubled."""

from __future__ import annotations

import threading
from pathlib import Path

from judgekit.labeling import AssignmentPolicy, next_item, set_policy, submit_label
from judgekit.storage import Project

from .conftest import BINARY, build_project

WRITERS = 20
PER_WRITER = 10


def test_twenty_concurrent_annotators_lose_nothing(db_url: str, tmp_path: Path) -> None:
    db = db_url
    project, _ = build_project(db, BINARY, n_items=WRITERS * PER_WRITER)
    set_policy(project, "helpfulness-pass-fail", AssignmentPolicy(overlap_fraction=0.0))
    project.close()
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []
    got: dict[str, list[str]] = {}

    def work(n: int) -> None:
        who = f"annotator{n:02d}"
        try:
            with Project(db, create=False) as p:
                rubric = p.rubrics()[0]
                barrier.wait()
                mine: list[str] = []
                for k in range(PER_WRITER):
                    item = next_item(p, who, rubric)
                    assert item is not None
                    rid = f"{who}-{k}"
                    submit_label(p, who, rubric, item.id, "pass", request_id=rid)
                    submit_label(p, who, rubric, item.id, "pass", request_id=rid)  # double click
                    mine.append(item.id)
                got[who] = mine
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    with Project(db, create=False) as p:
        labels = p.labels(history=True)
        assert len(labels) == WRITERS * PER_WRITER == p.label_count()
        assert {(lab.annotator, lab.item_id) for lab in labels} == {(w, i) for w, ids in got.items() for i in ids}
        # claims spread the work: with one annotator per item, no item was handed to two people
        assert len({lab.item_id for lab in labels}) == WRITERS * PER_WRITER
        assert p.db.scalar("SELECT SUM(n_labelled) FROM label_queue") == WRITERS * PER_WRITER
