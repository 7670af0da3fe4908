"""``judgekit db copy``: a project moves SQLite -> PostgreSQL -> SQLite with every row of every table intact, and
keeps working on the other side (ids continue, labels stay append-only, the queue counts on)."""

from __future__ import annotations

from pathlib import Path

import pytest

from judgekit.agreement import TrustCriteria
from judgekit.align import store as align_store
from judgekit.align.record import AlignmentRecord, AlignSettings
from judgekit.calibration.abstention import escalate
from judgekit.calibration.looks import record_look
from judgekit.calibration.splits import create_split
from judgekit.cli import main
from judgekit.errors import ConstraintViolation, UserError
from judgekit.io import export_labels
from judgekit.judging.batch.store import new_batch, update_batch
from judgekit.judging.cache import ResponseCache
from judgekit.judging.providers.base import ProviderReply
from judgekit.labeling import next_item, rebuild_queue, request_refresh, sign_in, skip_item, submit_label
from judgekit.models import CriterionVerdict, HumanLabel, JudgeConfig, JudgeVerdict, load_rubric, rubric_from_dict
from judgekit.storage import Project
from judgekit.storage.copy import COPY_ORDER, copy_project
from judgekit.storage.tables import TABLE_OWNERS
from tests.labeling.conftest import BINARY, build_project
from tests.pg_server import PostgresServer


def _rich_project(path: str) -> None:
    """A project with a row in every table: items, labels (revisions, provenances), a run, annotators, skips, the
    queue and its claims and tallies, a split with a look, escalations, cached replies and settings."""
    project, codes = build_project(path, BINARY, n_items=12, risky=(2,))
    sign_in(project, codes["alice"], client="192.0.2.1")  # a sign-in attempt, on record
    rubric = project.rubrics()[0]
    cfg = JudgeConfig(provider="external", model="m", rubric_id=rubric.id, rubric_version=1, confidence="external")
    run = project.create_run("judge", cfg, source="import", meta={"note": "é ünïcode"})
    project.add_verdicts(
        run.id,
        [
            JudgeVerdict(item_id=f"it{i}", label="pass", confidence=i / 13, confidence_source="external")
            for i in range(11)
        ]
        + [JudgeVerdict(item_id="it11", status="parse_error", raw_reply="{not json\ttab\nline \\ back")],
    )
    for who in ("alice", "bob"):
        for _ in range(5):
            item = next_item(project, who, rubric)
            assert item is not None
            submit_label(project, who, rubric, item.id, "fail", critique=f"{who}: 'quoted' \"double\"")
    submit_label(project, "alice", rubric, "it0", "pass", request_id="form-1")  # a revision
    project.add_label(HumanLabel(item_id="it3", annotator="root", rubric_id=rubric.id, rubric_version=1,
                                 label="pass", provenance="adjudicated"))  # fmt: skip
    project.add_label(HumanLabel(item_id="it4", annotator="carol", rubric_id=rubric.id, rubric_version=1,
                                 label="fail", critique="the judge said pass", provenance="corrected"))  # fmt: skip
    rebuild_queue(project, rubric)  # folds the labels into label_tally
    skip_item(project, "bob", rubric, "it9", flagged=True, note="broken")
    next_item(project, "bob", rubric)  # an open claim
    split = create_split(project, rubric, test_fraction=0.4)
    record_look(project, split, "test", run, purpose="assess", n_items=split.n_test)
    escalate(project, run, ["it10", "it11"], 0.6)
    align_store.save(
        project,
        AlignmentRecord(
            settings=AlignSettings(run="judge", split=split.key),
            rubric=rubric.key,
            start_fingerprint=run.fingerprint,
            n_dev=split.n_dev,
            n_test=split.n_test,
            fit_ids=["it0"],
            select_ids=["it1"],
            selection_rule="the largest lower bound",
        ),
    )
    cache = ResponseCache(project)
    cache.put("k1", "openai", "gpt", ProviderReply(text='{"label": "pass"}', input_tokens=3, output_tokens=2), 0.001)
    cache.flush()
    batch = new_batch(project, run.id, "anthropic", 1, ["k1", "k2"], 0.5)  # a provider batch of the run
    update_batch(project, batch.id, state="submitted", candidates=["msgbatch_1"], cancel_requested=True)
    project.set_meta("custom", "value")
    _rated_rows(project)
    request_refresh(project, rubric, TrustCriteria(n_boot=100), mode="inline")  # the admin page's snapshot
    project.close()


def _rated_rows(project: Project) -> None:
    """A label and a verdict under a rubric with rated criteria (the label_criteria and verdict_criteria rows)."""
    rated = rubric_from_dict(
        {
            "id": "rated",
            "version": 1,
            "title": "Two criteria",
            "task": "single",
            "template": "{{ item_block }}",
            "criteria": [
                {"name": "score", "description": "d", "scale": {"kind": "interval", "min": 0, "max": 1}},
                {"name": "safe", "description": "d", "scale": load_rubric(BINARY).scale.model_dump(mode="json")},
            ],
        }
    )
    project.save_rubric(rated)
    project.add_label(
        HumanLabel(item_id="it1", annotator="alice", rubric_id="rated", rubric_version=1,
                   label="score=0.25; safe=pass", criteria={"score": "0.25", "safe": "pass"})
    )  # fmt: skip
    cfg = JudgeConfig(provider="external", model="m", rubric_id="rated", rubric_version=1)
    run = project.create_run("rated-judge", cfg, source="import")
    project.add_verdicts(
        run.id,
        [
            JudgeVerdict(item_id="it1", label="score=0.5; safe=fail", criteria={
                "score": CriterionVerdict(label="0.5", rationale="half"), "safe": CriterionVerdict(label="fail")})
        ],
    )  # fmt: skip


def _dump(url: str) -> dict[str, list[tuple[object, ...]]]:
    with Project(url, create=False) as p:
        out = {}
        for table in COPY_ORDER:
            rows = p.db.rows(f"SELECT * FROM {table}")
            out[table] = sorted((tuple(r) for r in rows), key=repr)
        return out


def test_copy_order_covers_every_table() -> None:
    assert set(COPY_ORDER) | {"schema_migrations"} == set(TABLE_OWNERS)


def test_round_trip_sqlite_postgresql_sqlite_is_lossless(tmp_path: Path, postgres_server: PostgresServer) -> None:
    src = str(tmp_path / "src.db")
    _rich_project(src)
    original = _dump(src)
    assert all(original[t] for t in COPY_ORDER), [t for t in COPY_ORDER if not original[t]]
    with Project(src) as p:  # every provenance is copied (criteria answers, alignments, snapshots: non-empty above)
        assert {lab.provenance for lab in p.labels(history=True)} == {"blind", "corrected", "adjudicated"}
    pg = postgres_server.fresh_url()
    res = copy_project(src, pg)
    assert res.rows == {t: len(rows) for t, rows in original.items()}
    assert _dump(pg) == original
    back = str(tmp_path / "back.db")
    copy_project(pg, back)
    assert _dump(back) == original
    with Project(src) as a, Project(back) as b:
        assert export_labels(a, history=True) == export_labels(b, history=True)
    with Project(pg) as p:  # the copy is a working project: ids continue, rules hold
        rubric = p.rubrics()[0]
        before = p.label_count()
        lab = submit_label(p, "bob", rubric, "it5", "pass")
        assert p.label_count() == before + 1 and lab.revision >= 1
        with pytest.raises(ConstraintViolation, match="append-only"), p.transaction() as db:
            db.execute("DELETE FROM labels")


def test_copy_refuses_a_destination_with_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src, dst = str(tmp_path / "a.db"), str(tmp_path / "b.db")
    _rich_project(src)
    _rich_project(dst)
    with pytest.raises(UserError, match="already holds a project"):
        copy_project(src, dst)
    assert main(["db", "copy", src, src]) == 2
    assert "same project" in capsys.readouterr().err


def test_cli_copy_and_info(tmp_path: Path, postgres_server: PostgresServer, capsys: pytest.CaptureFixture[str]) -> None:
    src = str(tmp_path / "cli.db")
    _rich_project(src)
    pg = postgres_server.fresh_url()
    assert main(["db", "copy", src, pg]) == 0
    out = capsys.readouterr().out
    assert "labels" in out and "copied" in out
    assert main(["db", "info", "--db", pg]) == 0
    info = capsys.readouterr().out
    assert "(postgresql)" in info and "label_queue" in info
