"""The batch tables' SQL (judgekit.judging.batch.store) on both storage engines: SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from conftest import bundled
from judgekit.judging import build_config
from judgekit.judging.batch import store
from judgekit.storage import Project

PASS_FAIL = bundled("helpfulness_pass_fail")


@pytest.fixture
def run_project(db_url: str) -> tuple[Project, int]:
    p = Project(db_url)
    p.save_rubric(PASS_FAIL)
    run = p.create_run("r", build_config("openai", "gpt-4.1-mini", PASS_FAIL, confidence="none"))
    yield p, run.id
    p.close()


def test_a_batch_is_recorded_with_its_requests_before_anything_is_sent(run_project: tuple[Project, int]) -> None:
    p, run_id = run_project
    row = store.new_batch(p, run_id, "openai", 1, ["k1", "k2", "k3"], 0.25)
    assert row.state == "prepared" and row.n_requests == 3 and row.estimate_usd == 0.25 and row.outstanding
    assert store.batch_custom_ids(p, row.id) == ["k1", "k2", "k3"]
    assert [b.id for b in store.run_batches(p, run_id, outstanding=True)] == [row.id]
    h = store.request_history(p, run_id)
    assert h["k1"].rounds == 1 and h["k1"].outstanding and h["k1"].outcome is None


def test_states_outcomes_and_totals(run_project: tuple[Project, int]) -> None:
    p, run_id = run_project
    a = store.new_batch(p, run_id, "openai", 1, ["k1", "k2", "k3"], 0.3)
    store.update_batch(p, a.id, state="submitted", remote_id="batch_1", candidates=["x"], cancel_requested=True)
    got = store.get_batch(p, a.id)
    assert (got.state, got.remote_id, got.candidates, got.cancel_requested) == ("submitted", "batch_1", ("x",), True)
    assert store.known_remote_ids(p) == {"batch_1", "x"} and store.known_remote_ids(p, excluding=a.id) == set()
    with p.transaction():
        store.record_outcomes(p, a.id, [("k1", "ok", None), ("k2", "retry", "batch_expired"), ("k3", "error", "400")])
        store.update_batch(p, a.id, state="fetched", n_ok=1, n_retry=1, n_error=1, cost_usd=0.1)
    b = store.new_batch(p, run_id, "openai", 2, ["k2"], 0.1)
    h = store.request_history(p, run_id)
    assert (h["k1"].outcome, h["k1"].rounds, h["k1"].outstanding) == ("ok", 1, False)
    assert (h["k2"].outcome, h["k2"].rounds, h["k2"].outstanding) == ("retry", 2, True)
    assert (h["k3"].outcome, h["k3"].detail) == ("error", "400")
    t = store.batch_totals(p, run_id)
    assert (t.batches, t.requests, t.ok, t.retry, t.error) == (2, 4, 1, 1, 1)
    assert t.by_state == {"fetched": 1, "prepared": 1}
    assert t.cost_usd == pytest.approx(0.1) and t.outstanding_estimate_usd == pytest.approx(0.1)
    store.drop_requests(p, b.id, ["k2"])
    assert store.get_batch(p, b.id).n_requests == 0 and store.batch_custom_ids(p, b.id) == []
    store.update_batch(p, b.id, state="abandoned")
    assert store.request_history(p, run_id)["k2"].rounds == 1  # an abandoned batch was never sent


def test_a_failed_transaction_keeps_nothing(run_project: tuple[Project, int]) -> None:
    p, run_id = run_project
    a = store.new_batch(p, run_id, "anthropic", 1, ["k1"], None)
    with pytest.raises(RuntimeError), p.transaction():
        store.record_outcomes(p, a.id, [("k1", "ok", None)])
        store.update_batch(p, a.id, state="fetched")
        raise RuntimeError("killed mid-fetch")
    assert store.get_batch(p, a.id).state == "prepared" and store.request_history(p, run_id)["k1"].outcome is None
