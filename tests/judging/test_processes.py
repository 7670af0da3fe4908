"""Several worker processes on one run (``workers=N``): shared work, one progress line, summed summary, and a
failure in any of them stops all."""

from __future__ import annotations

import io
import itertools
import multiprocessing as mp
import threading
from collections.abc import Callable

import pytest
from fake_llm_server import Action, FakeLLMServer, Received

from conftest import bundled, single_items
from judgekit.errors import ConfigError, MissingKeyError, ProviderError
from judgekit.judging import build_config, run_judge
from judgekit.judging.budget import Budget
from judgekit.judging.pricing import Price, PriceTable
from judgekit.judging.processes import ProcessPool, describe_error, rebuild_error, split_limit
from judgekit.judging.providers.base import SdkAdapter
from judgekit.storage import Project

PASS_FAIL = bundled("helpfulness_pass_fail")
CFG = build_config("openai", "gpt-4.1-mini", PASS_FAIL, confidence="none")


def test_limits_are_divided_and_sum_to_the_limit() -> None:
    assert split_limit(64, 2) == [32, 32] and split_limit(7, 3) == [3, 2, 2] and sum(split_limit(5, 4)) == 5


def test_worker_errors_come_back_as_the_same_error() -> None:
    for exc in (ProviderError("openai refused the request: bad key", status_code=401), MissingKeyError("K", "p")):
        back = rebuild_error(describe_error(exc), 1)
        assert type(back) is type(exc) and str(back) == str(exc)
    assert rebuild_error(describe_error(ProviderError("x", status_code=401)), 1).status_code == 401  # type: ignore[attr-defined]
    bug = rebuild_error(describe_error(KeyError("boom")), 2)
    assert "judge worker 2 failed: KeyError" in str(bug)


def _second_process_takes_part(
    monkeypatch: pytest.MonkeyPatch, server: FakeLLMServer, *, after: int = 30
) -> threading.Event:
    """Make the second worker process take part in the next run however late it starts (under load it may start
    after the judging process could have done everything alone): the server orders the events instead of a clock.
    The judging process's calls carry a header the second process's lack; after ``after`` of them, its replies
    wait until it has handed a share over (it lowers its own limit first), then its new calls wait for the second
    process's first call. Returns the event set by that call."""
    handed_over, second_called = threading.Event(), threading.Event()
    poll = ProcessPool.poll

    def poll_and_note(self: ProcessPool) -> None:
        poll(self)
        if self.shrunk:
            handed_over.set()

    monkeypatch.setattr(ProcessPool, "poll", poll_and_note)  # in this process only: worker 0's pool
    client_kwargs = SdkAdapter.client_kwargs
    monkeypatch.setattr(
        SdkAdapter,
        "client_kwargs",
        lambda self, key: {**client_kwargs(self, key), "default_headers": {"x-judging-process": "yes"}},
    )
    first_calls = itertools.count()

    def hold(rec: Received) -> Callable[[], bool] | None:
        if rec.headers.get("x-judging-process") != "yes":
            second_called.set()
            return None
        if second_called.is_set() or next(first_calls) < after:
            return None
        return second_called.is_set if handed_over.is_set() else handed_over.is_set

    monkeypatch.setattr(server, "hold", hold)
    return second_called


def test_two_workers_share_one_run(
    project: Project, openai_env: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shared work, one progress line, a summed summary; the second process takes a share (ordered by the server,
    see :func:`_second_process_takes_part`)."""
    items = single_items(100, prefix="w")
    project.add_items(items)
    openai_env.latency = 0.02
    second_called = _second_process_takes_part(monkeypatch, openai_env)
    buf = io.StringIO()
    s = run_judge(project, CFG, rubric=PASS_FAIL, items=items, concurrency=4, workers=2, stream=buf, run_name="w2")
    assert second_called.is_set()
    assert s.stop_reason == "complete" and s.run.status == "complete" and s.statuses == {"ok": 100}
    assert len(s.workers) == 2 and sum(s.workers) == 100 and min(s.workers) > 0, s.workers
    assert s.requests == 100 and s.run.meta["requests"] == 100 and s.cost_usd > 0
    assert len(openai_env.answered) == 100 and set(openai_env.answered.values()) == {1}  # nothing paid twice
    assert len(project.verdicts("w2")) == 100
    assert buf.getvalue().strip().splitlines()[-1].startswith("judged 100/100")  # one line for all the processes
    openai_env.hold = None
    openai_env.latency = 0.0
    openai_env.reset_counts()
    again = run_judge(project, CFG, rubric=PASS_FAIL, items=items, workers=2, progress=False, run_name="again")
    assert openai_env.count == 0 and again.cache_hits == 100 and again.statuses == {"ok": 100}


def test_workers_see_the_environment_of_their_run(
    project: Project, openai_env: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worker processes are forked from a fork server that outlives the run that started it: a later run with
    another key or base URL in the environment must reach that server, not the first run's."""
    first = single_items(40, prefix="e1")
    project.add_items(first)
    openai_env.latency = 0.1
    run_judge(project, CFG, rubric=PASS_FAIL, items=first, concurrency=4, workers=2, progress=False, run_name="e1")
    with FakeLLMServer(latency=0.02) as other:
        second_called = _second_process_takes_part(monkeypatch, other, after=10)
        monkeypatch.setenv("OPENAI_BASE_URL", other.openai_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-second-key")
        openai_env.reset_counts()
        second = single_items(40, prefix="e2")
        project.add_items(second)
        s = run_judge(
            project, CFG, rubric=PASS_FAIL, items=second, concurrency=4, workers=2, progress=False, run_name="e2"
        )
        assert s.statuses == {"ok": 40} and min(s.workers) > 0 and second_called.is_set(), s.workers
        assert openai_env.count == 0 and other.count == 40
        assert {r.headers.get("authorization") for r in other.requests} == {"Bearer sk-second-key"}


def test_a_fatal_reply_in_any_worker_stops_all(project: Project, openai_env: FakeLLMServer) -> None:
    items = single_items(200, prefix="f")
    project.add_items(items)
    openai_env.latency = 0.1
    openai_env.rules.append(lambda r: Action(kind="status", status=401) if openai_env.count > 40 else None)
    with pytest.raises(ProviderError, match="401"):
        run_judge(project, CFG, rubric=PASS_FAIL, items=items, concurrency=4, workers=2, progress=False, run_name="f")
    assert project.run("f").status == "interrupted"
    assert openai_env.count < 60  # every process stopped at its first 401


def test_workers_need_a_named_provider(project: Project, openai_env: FakeLLMServer) -> None:
    from judgekit.judging import ItemVariant

    with pytest.raises(ConfigError, match="workers"):
        run_judge(project, CFG, rubric=PASS_FAIL, workers=2, variant=ItemVariant("v", lambda it: it), progress=False)
    with pytest.raises(ConfigError, match="workers"):
        run_judge(project, CFG, rubric=PASS_FAIL, workers=0, progress=False)


def test_budget_reserves_releases_and_spends() -> None:
    b = Budget(1.0)
    assert b.try_reserve(0.6) and not b.try_reserve(0.5) and b.reserved == pytest.approx(0.6)
    b.spend(0.2)
    b.release(0.6)
    assert b.spent == pytest.approx(0.2) and b.reserved == 0.0
    assert b.try_reserve(0.8) and not b.try_reserve(0.01)
    unlimited = Budget(None)
    assert all(unlimited.try_reserve(1e9) for _ in range(3))


def _reserve_until_refused(cell: object, out: object) -> None:
    b = Budget(10.0, cell)
    n = 0
    while b.try_reserve(0.25):
        n += 1
        b.spend(0.0)
    out.put(n)  # type: ignore[attr-defined]


@pytest.mark.skipif("fork" not in mp.get_all_start_methods(), reason="needs fork")
def test_budget_is_one_amount_across_processes() -> None:
    ctx = mp.get_context("fork")
    cell, out = ctx.Array("d", 2), ctx.Queue()
    procs = [ctx.Process(target=_reserve_until_refused, args=(cell, out)) for _ in range(3)]
    for proc in procs:
        proc.start()
    counts = [out.get(timeout=30) for _ in procs]
    for proc in procs:
        proc.join(30)
    assert sum(counts) == 40  # 10.0 / 0.25 reservations in all, however the three processes interleaved
    assert Budget(10.0, cell).reserved == pytest.approx(10.0)


def test_max_cost_is_one_budget_for_all_workers(project: Project, openai_env: FakeLLMServer) -> None:
    items = single_items(60, prefix="c")
    project.add_items(items)
    openai_env.latency = 0.05
    # input tokens only: an item's estimate (its prompt) is close to its real cost, about 0.25 USD
    prices = PriceTable({"gpt-4.1-mini": Price(1000.0, 0.0)})
    s = run_judge(
        project,
        CFG,
        rubric=PASS_FAIL,
        items=items,
        concurrency=2,
        workers=2,
        max_cost=3.0,
        prices=prices,
        progress=False,
        run_name="budget",
    )
    assert s.stop_reason == "max_cost" and s.run.status == "interrupted"
    assert s.cost_usd <= 3.0
    verdicts = project.verdicts("budget")
    per_item = max((v.cost_usd or 0.0) for v in verdicts)
    assert 0.1 < per_item < 0.4
    # the run stops when the run's money is used, whichever process spent it: at most the estimates of the items in
    # flight (2) and of the next one are left. (Each process stopping at its half would leave 1.5 USD unspent when
    # one of them takes most of the items, as the judging process does while the other starts.)
    assert s.cost_usd >= 3.0 - 3 * per_item * 1.2, (s.cost_usd, s.workers)
    assert len(verdicts) == s.judged
