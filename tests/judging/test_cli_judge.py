"""``judgekit judge`` as a user runs it (issue 12): exit codes of incomplete runs, the circuit breaker, the resume
hint that works when pasted (the run's options are restored), a rejected key, ``--json``, ``--model-seed``."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from fake_llm_server import Action, FakeLLMServer

from conftest import ROOT
from judgekit.cli import main
from judgekit.models import Item
from judgekit.storage import Project

RUBRIC = str(ROOT / "rubrics" / "helpfulness_pass_fail.yaml")


def judge(project: Project, *args: str) -> list[str]:
    return ["judge", "--rubric", RUBRIC, "--model", "openai:gpt-4.1-mini", "--confidence", "none", "--quiet",
            "--db", str(project.path), *args]  # fmt: skip


def _hint(err: str) -> list[str]:
    line = next(ln for ln in err.splitlines() if "judgekit judge --resume" in ln)
    cmd = shlex.split(line[line.index("judgekit judge") :])
    assert cmd[:2] == ["judgekit", "judge"]
    return cmd[1:]


def test_a_complete_run_exits_0_and_says_what_next(project: Project, openai_env: FakeLLMServer, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(judge(project, "--run-name", "ok")) == 0
    out = capsys.readouterr().out
    assert "judgekit agree ok --db" in out and "12 verdicts written" in out


def test_json_prints_the_run_summary(project: Project, openai_env: FakeLLMServer, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(judge(project, "--run-name", "j", "--json")) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["run"] == "j" and body["stop_reason"] == "complete" and body["exit_code"] == 0
    assert body["statuses"] == {"ok": 12} and body["requests"] == 12 and body["next"]
    assert len(body["cpu_s"]) == len(body["workers"]) == 1 and body["cpu_s"][0] > 0


def test_items_left_without_a_verdict_exit_3_and_resume(project: Project, openai_env: FakeLLMServer, capsys) -> None:  # type: ignore[no-untyped-def]
    openai_env.rules.append(lambda r: Action(kind="status", status=500) if r.item == "question 3" else None)
    assert main(judge(project, "--run-name", "f", "--max-retries", "1")) == 3
    err = capsys.readouterr().err
    openai_env.rules.clear()
    assert main(_hint(err)) == 0
    assert len(project.verdicts("f")) == 12


def test_budget_stop_exits_4_and_the_pasted_hint_restores_every_option(
    tmp_path: Path, project: Project, openai_env: FakeLLMServer, capsys
) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: after a budget stop the hint was 'judgekit judge --resume mc' without --db, --max-cost or --prices:
    run literally it failed, and with --db added it spent without a budget."""
    prices = tmp_path / "prices.toml"
    prices.write_text('["gpt-4.1-mini"]\ninput = 1000.0\noutput = 0.0\n')  # about 0.25 USD per item
    args = judge(project, "--run-name", "mc", "--max-cost", "1", "--prices", str(prices), "--concurrency", "3")
    assert main(args) == 4
    err = capsys.readouterr().err
    run = project.run("mc")
    assert run.meta["stop_reason"] == "max_cost" and run.meta["options"]["concurrency"] == 3
    spent = float(run.meta["cost_usd"])
    assert 0.5 < spent <= 1.0
    hint = _hint(err)
    assert "--db" in hint and "--max-cost" in hint and "--prices" not in hint
    openai_env.reset_counts()
    assert main(hint) == 0  # pasted as printed, in this shell: the stored price and concurrency are used
    run = project.run("mc")
    assert run.status == "complete" and len(project.verdicts("mc")) == 12
    assert float(run.meta["cost_usd"]) == pytest.approx(sum(v.cost_usd or 0 for v in project.verdicts("mc")))
    assert float(run.meta["cost_usd"]) > 2.0  # priced at the stored 1000 USD/1M, not the default table's 0.40
    assert run.meta["options"]["concurrency"] == 3 and run.meta["options"]["max_cost"] == float(hint[-1])


def test_resume_without_a_larger_budget_stops_at_once(
    project: Project, openai_env: FakeLLMServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    prices = tmp_path / "prices.toml"
    prices.write_text('["gpt-4.1-mini"]\ninput = 1000.0\noutput = 0.0\n')
    assert main(judge(project, "--run-name", "b", "--max-cost", "1", "--prices", str(prices))) == 4
    openai_env.reset_counts()
    assert main(["judge", "--resume", "b", "--db", str(project.path), "--quiet"]) == 4  # the budget is the run's
    assert openai_env.count == 0


@pytest.mark.parametrize("fault", ["http_400", "hang", "reset"])
def test_the_same_failure_on_every_call_opens_the_circuit(
    project: Project, openai_env: FakeLLMServer, capsys, fault: str
) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: nothing stopped a run in which every request hangs (--timeout 2 ran 52 s for 2 items) or every
    item gets the same 400 (each stored as an api_error verdict)."""
    project.add_items(Item(id=f"c{i}", input=f"circuit question {i}", output="answer") for i in range(40))
    action = {"http_400": Action(kind="status", status=400), "hang": Action(kind="hang"), "reset": Action(kind="reset")}
    openai_env.rules.append(lambda r: action[fault])
    code = main(judge(project, "--run-name", "c", "--timeout", "0.5", "--concurrency", "4"))
    err = capsys.readouterr().err
    assert code == 5, err
    kind = {"http_400": "http_400", "hang": "timeout", "reset": "connection"}[fault]
    assert f"all failed the same way ({kind})" in err and "resume" in err
    assert project.verdicts("c") == []  # no api_error verdict for a config error: a resume retries the items
    assert openai_env.count <= 8 + 4 * 2  # the threshold, and what was in flight
    assert project.run("c").meta["stop_reason"] == "circuit_open"


def test_a_rejected_key_names_the_variable_and_leaves_no_run(
    project: Project, openai_env: FakeLLMServer, capsys
) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: a 401 left an empty 'interrupted' run and did not name the key variable."""
    openai_env.rules.append(lambda r: Action(kind="status", status=401))
    assert main(judge(project, "--run-name", "k")) == 2
    err = capsys.readouterr().err
    assert "OPENAI_API_KEY" in err and "401" in err and "Traceback" not in err
    assert project.find_run("k") is None


def test_model_seed_is_sent_where_the_provider_takes_one(project: Project, openai_env: FakeLLMServer, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(judge(project, "--run-name", "s", "--model-seed", "7", "--limit", "2")) == 0
    assert {r.body.get("seed") for r in openai_env.requests} == {7}
    assert project.run("s").config.parameters["seed"] == 7  # part of the judge (and of the cache key)
    args = judge(project, "--run-name", "a", "--model-seed", "7")
    args[args.index("openai:gpt-4.1-mini")] = "anthropic:claude-haiku-4-5"
    assert main(args) == 2
    assert "seed" in capsys.readouterr().err and project.find_run("a") is None
