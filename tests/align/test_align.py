"""``judgekit align`` against the scripted judge and proposer (:mod:`judgekit.testing.scripted_llm`): it finds the
documented improvement on dev, confirms it on the locked test split, refuses a change fitted to dev, reports a
dev-only winner as such, keeps test items away from everything that builds or chooses a candidate (every prompt
the server received is checked), and resumes without paying twice."""

from __future__ import annotations

import asyncio
import io
from collections import Counter

import pytest

from judgekit.agreement import assess_run
from judgekit.align import AlignmentRecord, AlignSettings, align, store
from judgekit.calibration import look_summary, split_item_ids
from judgekit.models import load_rubric
from tests.align.world import World


def _align(w: World, **settings: object) -> AlignmentRecord:
    s = AlignSettings(
        run="start",
        split=w.split.key,
        judge_model="openai:gpt-4o-mini",
        base_url=w.server.openai_url,
        **settings,  # type: ignore[arg-type]
    )
    return align(w.project, s, echo=lambda _m: None, progress=False, stream=io.StringIO())


def test_align_finds_the_rule_on_dev_confirms_it_on_test_and_keeps_test_items_out(world: World) -> None:
    w = world
    rec = _align(w, strategies=("rules", "fewshot", "dynamic"), proposer="openai:gpt-4o-mini")
    assert rec.status == "complete"
    test_ids = set(split_item_ids(w.project, w.split, "test"))
    fit, select = set(rec.fit_ids), set(rec.select_ids)
    assert fit and select and not fit & select and not (fit | select) & test_ids
    # every strategy fixes the hedges on the select half; the rule is the cheapest judge, so it wins the tie
    for c in rec.candidates:
        assert c.select is not None and c.select.kappa_gain.low is not None and c.select.kappa_gain.low > 0, c.name
        assert c.select.n_items == len(select)
    assert rec.chosen == "rules" and "cheaper" in rec.choice
    # the one test look: confirmed, recorded, the verdict before and after
    assert rec.test is not None and rec.test.carried_over and rec.test.n_items == len(test_ids)
    assert rec.test.kappa_gain.value > 0.3 and rec.test.verdict_before == "NOT TRUSTED"
    looks = look_summary(w.project, w.split)
    assert looks.n_looks >= 1
    # the new rubric version: written, bumped, with its lineage and the rule the proposer wrote
    assert rec.rubric_file is not None
    new = load_rubric(rec.rubric_file)
    assert new.version == 2 and new.lineage is not None and new.lineage.parent == 1 and new.lineage.labels_from == 1
    assert any("hedges" in r for r in new.decision_rules) and new.lineage.changes
    # candidates are ordinary runs: the agreement machinery reads them
    for c in rec.candidates:
        assert c.run is not None and assess_run(w.project, c.run).judge.kappa.failures_as_wrong.n_items > 0
        if c.name != rec.chosen:  # only the chosen candidate was judged on test
            assert not w.project.verdict_item_ids(w.project.run(c.run).id) & test_ids
    # no test item (nor a select item) reached the proposer; no few-shot example came from outside the fit half
    proposer = [r for r in w.server.requests if r.kind == "proposer"]
    judge = [r for r in w.server.requests if r.kind == "judge"]
    assert len(proposer) == 1 and w.ids_of(proposer[0].items) and w.ids_of(proposer[0].items) <= fit
    with_examples = [r for r in judge if r.examples]
    assert with_examples and all(w.ids_of(r.examples) <= fit for r in with_examples)
    assert any(w.ids_of([r.item]) & test_ids for r in judge if r.item)  # the test look did judge test items
    # the record is in the project, and a second identical call shows it again without paying
    n_requests = w.server.count
    again = _align(w, strategies=("rules", "fewshot", "dynamic"), proposer="openai:gpt-4o-mini")
    assert again.name == rec.name and w.server.count == n_requests
    assert [r.name for r in store.records(w.project)] == [rec.name]


def test_a_rule_fitted_to_the_dev_items_it_was_shown_is_refused_and_test_is_not_looked_at(world: World) -> None:
    w = world
    rec = _align(w, strategies=("rules",), proposer="openai:overfit-proposer")
    (cand,) = rec.candidates
    assert cand.fit is not None and cand.select is not None
    assert cand.fit.kappa_gain.value > cand.select.kappa_gain.value + 0.1  # it only helps the items it quotes
    assert not cand.qualifies and rec.chosen is None and rec.test is None and rec.rubric_file is None
    assert "fitted to dev" in cand.verdict or "no gain" in cand.verdict
    assert "test split was not looked at" in rec.outcome
    assert look_summary(w.project, w.split).n_looks == 0


def test_a_dev_only_winner_is_reported_as_such_and_no_rubric_is_written(dev_only_world: World) -> None:
    w = dev_only_world
    rec = _align(w, strategies=("rules",), proposer="openai:gpt-4o-mini")
    assert rec.chosen == "rules" and rec.test is not None
    assert not rec.test.carried_over and rec.rubric_file is None
    assert rec.outcome.startswith("DID NOT CARRY OVER") and "not an improvement" in rec.outcome


def test_an_align_stopped_by_the_budget_resumes_paying_for_nothing_twice(world: World) -> None:
    w = world
    first = _align(w, strategies=("rules", "fewshot"), proposer="openai:gpt-4o-mini", max_cost=0.004)
    assert first.status == "stopped_budget" and first.cost.total <= 0.004 + 1e-9
    second = _align(w, strategies=("rules", "fewshot"), proposer="openai:gpt-4o-mini", max_cost=1.0)
    assert second.name == first.name and second.status == "complete" and second.test is not None
    sent = Counter((r.model, r.system, r.prompt, tuple(r.examples)) for r in w.server.requests)
    assert sent and max(sent.values()) == 1  # no request was sent (paid for) twice
    runs = sum(float(w.project.run(c.run).meta.get("cost_usd") or 0) for c in second.candidates if c.run)
    assert abs(second.cost.total - (runs + second.cost.proposer)) < 1e-9
    assert second.cost.total <= 1.0


def test_the_blocking_calls_inside_a_running_event_loop_name_their_async_twin() -> None:
    """A notebook runs an event loop: ``align()`` / ``run_judge()`` there say to await ``aalign`` / ``arun_judge``
    (before anything starts), instead of asyncio's bare error."""
    from judgekit.judging import run_judge

    async def inside() -> None:
        for call, twin in ((align, "aalign"), (run_judge, "arun_judge")):
            with pytest.raises(RuntimeError, match=f"await {twin}"):
                call(None, None)  # type: ignore[arg-type]

    asyncio.run(inside())
