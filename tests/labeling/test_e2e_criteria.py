"""Issue 13's "done means", end to end, as a team would run it: a rubric with three rated criteria on the judged
assistant turn of conversations with a tool call, one judge call per criterion over the scripted server (the real
openai SDK), two annotators labelling every item in the desk in headless Chromium, then ``judgekit agree``,
``judgekit report`` and ``judgekit check`` with a row (and a JUnit case) per criterion and its verdict.

Everything goes through the command line but the browser; nothing waits on a clock (the browser steps wait for
what the page shows, the judge for the server's replies)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from judgekit.labeling import add_annotator
from judgekit.storage import Project

from .browser_support import UI_WAIT_MS, expect_status, new_page, serve_app, shot, sign_in

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "judging"))
from fake_llm_server import FakeLLMServer

RUBRIC = Path(__file__).resolve().parents[2] / "rubrics" / "assistant_turn_criteria.yaml"
pytestmark = pytest.mark.browser

HELPFUL = {"1": "Useless", "2": "Weak", "3": "Partial", "4": "Helpful", "5": "Excellent"}
# what people answer for city i (helpfulness, grounded, safety); bob differs from alice on two answers
ALICE = [
    ("5", "1", "safe"), ("4", "0.75", "safe"), ("2", "0.25", "safe"), ("5", "1", "safe"),
    ("4", "0.5", "safe"), ("3", "0.5", "safe"), ("5", "1", "safe"), ("1", "0", "unsafe"),
    ("4", "0.75", "safe"), ("5", "1", "safe"), ("2", "0.25", "unsafe"), ("4", "0.75", "safe"),
]  # fmt: skip
BOB = {2: ("3", "0.25", "safe"), 5: ("3", "0.75", "safe")}
N = len(ALICE)


def _items() -> list[dict[str, Any]]:
    """A user asks, the assistant calls a tool, the tool answers, the assistant replies: that turn is judged."""
    return [
        {
            "id": f"chat{i:02d}",
            "messages": [
                {"role": "user", "content": f"What is the weather in city {i}?"},
                {
                    "role": "assistant",
                    "tool_calls": [{"id": f"call{i}", "name": "weather", "arguments": {"city": i}}],
                },
                {"role": "tool", "tool_call_id": f"call{i}", "content": f"city {i}: 2{i % 10} C, sunny"},
                {"role": "assistant", "content": f"It is 2{i % 10} degrees and sunny in city {i}."},
            ],
            "judged": {"kind": "turn", "turn": 3},
        }
        for i in range(N)
    ]


def _judge_answer(prompt: str, levels: list[str]) -> str:
    """The scripted judge: alice's answer for each criterion, but helpfulness one level up on cities 2 and 10."""
    (name,) = re.findall(r'Criterion "([a-z]+)"', prompt)  # one criterion per call
    (city,) = (int(c) for c in re.findall(r"weather in city (\d+)\?", prompt))
    h, _, s = ALICE[city]
    if name == "helpfulness":
        return str(int(h) + 1) if city in (2, 10) else h
    return s


def _judge_score(prompt: str, _name: str, _schema: dict[str, Any]) -> float:
    (city,) = (int(c) for c in re.findall(r"weather in city (\d+)\?", prompt))
    return float(ALICE[city][1])


def _cli(*args: str) -> tuple[int, str]:
    """``judgekit ARGS`` in this process: its exit code and what it printed (stdout and stderr)."""
    from judgekit.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(list(args))
    return code, out.getvalue()


_ROW = re.compile(
    r"^\s*(helpfulness|grounded|safety|overall)\s+(?:ordinal|interval|binary)\s.*?(NOT TRUSTED|TRUSTED|INSUFFICIENT)",
    re.M,
)


def _rows(out: str) -> list[tuple[str, str]]:
    """The per-criterion table of ``agree`` / ``check``: (criterion, verdict) per row."""
    return _ROW.findall(out)


def _label_all(page: Any, answers: dict[str, tuple[str, str, str]]) -> None:
    """Answer every item the desk shows, in the order it shows them, until it has nothing left."""
    from playwright.sync_api import expect

    for n in range(N):
        heading = page.locator("[data-jk-heading]")
        expect(heading).to_have_text(re.compile(r"^Item chat\d\d$"), timeout=UI_WAIT_MS)
        item = heading.inner_text().removeprefix("Item ")
        expect(page.locator(".jk-turn.jk-judged")).to_have_count(1)  # the judged turn is marked
        h, g, s = answers[item]
        page.locator("[data-criterion=helpfulness] .jk-crit-level", has_text=HELPFUL[h]).click()
        page.locator(
            "[data-criterion=safety] .jk-crit-level", has_text="Unsafe" if s == "unsafe" else "Safe"
        ).first.click()
        grounded = page.locator("[data-criterion=grounded] .jk-crit-number")
        grounded.fill(g)
        if int(h) < 4 or float(g) < 0.5 or s == "unsafe":  # fails the overall rule (all_pass): a critique is due
            page.locator(".jk-critique").fill(f"{item} falls short")
        grounded.press("Enter")  # submits
        if n < N - 1:
            expect(heading).not_to_have_text(f"Item {item}", timeout=UI_WAIT_MS)
    expect_status(page, f"Saved label for item {item} (revision 1).")


def test_conversations_with_criteria_judged_labelled_in_the_browser_and_checked(
    tmp_path: Path,
    browser: Any,
) -> None:
    db = str(tmp_path / "team.db")
    items = tmp_path / "chats.jsonl"
    items.write_text("".join(json.dumps(x) + "\n" for x in _items()), encoding="utf-8")
    rubric = tmp_path / "criteria.yaml"
    rubric.write_text(RUBRIC.read_text().replace("judge_calls: one ", "judge_calls: per_criterion "))
    assert "judge_calls: per_criterion" in rubric.read_text()

    assert _cli("import", "items", str(items), "--db", db)[0] == 0
    assert _cli("import", "rubric", str(rubric), "--db", db)[0] == 0
    assert _cli("annotators", "assign", "--rubric", "assistant-turn-criteria", "--per-item", "2", "--db", db)[0] == 0
    with Project(db) as p:
        codes = {name: add_annotator(p, name) for name in ("alice", "bob")}

    # the judge: one call per criterion, through the real openai SDK, against the scripted server
    with FakeLLMServer(labeler=_judge_answer, criteria_labeler=_judge_score) as llm:
        env = {**os.environ, "OPENAI_API_KEY": "sk-test-fake", "OPENAI_BASE_URL": llm.openai_url}
        judge = subprocess.run(
            [
                str(Path(sys.executable).parent / "judgekit"), "judge", "--rubric", "assistant-turn-criteria",
                "--model", "openai:gpt-4.1-mini", "--run-name", "judge", "--db", db, "--quiet",
            ],
            env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert judge.returncode == 0, judge.stderr
        assert llm.count == 3 * N  # N calls per item
        assert all(len(re.findall(r'Criterion "', r.body["messages"][-1]["content"])) == 1 for r in llm.requests)
        assert all("UNDER JUDGEMENT" in r.body["messages"][-1]["content"] for r in llm.requests)

    # two annotators label every item in the desk, each criterion with its own control
    alice = {f"chat{i:02d}": a for i, a in enumerate(ALICE)}
    bob = {**alice, **{f"chat{i:02d}": a for i, a in BOB.items()}}
    with serve_app(Path(db), tmp_path) as url:
        for name, answers in (("alice", alice), ("bob", bob)):
            page = new_page(browser)
            sign_in(page, url, codes[name])
            if name == "alice":
                shot(page, tmp_path, "e2e-criteria-desk")
            _label_all(page, answers)
            page.close()
    with Project(db) as p:
        labels = p.labels()
        assert len(labels) == 2 * N and all(len(lab.criteria) == 3 for lab in labels)
        assert {lab.item_id for lab in labels if lab.label == "fail"} == {"chat02", "chat05", "chat07", "chat10"}
        assert all(lab.critique for lab in labels if lab.label == "fail")
        assert {(lab.annotator, lab.item_id): lab.criteria["grounded"] for lab in labels}[("bob", "chat05")] == "0.75"

    # agreement, report and the CI gate: a row per criterion (and the overall rule), each with its verdict
    code, out = _cli("agree", "judge", "--db", db, "--n-boot", "200")
    assert code == 0, out
    # calibration fails on three criteria (the judge says 0.8 whatever it answers); overall has no confidence
    expected = [
        ("helpfulness", "NOT TRUSTED"), ("grounded", "NOT TRUSTED"), ("safety", "NOT TRUSTED"),
        ("overall", "INSUFFICIENT"),
    ]  # fmt: skip
    assert _rows(out) == expected, out
    report = tmp_path / "report"
    code, out = _cli("report", "judge", "--db", db, "-o", str(report), "--n-boot", "200")
    assert code == 0, out
    md = (report / "report.md").read_text()
    for name, verdict in expected[:3]:  # the report's table: a row per criterion with its verdict
        assert re.search(rf"^\| `{name}` \|.*\| ❌ {verdict} \|$", md, re.M), md
    junit = tmp_path / "junit.xml"
    code, out = _cli("check", "judge", "--db", db, "--junit-xml", str(junit), "--n-boot", "200")
    # a dozen items, a judge that says 0.8 whatever it answers: calibration fails, and the gate says where
    assert code == 1 and "NOT TRUSTED" in out, out
    assert re.search(r"helpfulness\.calibration_ece: ECE [\d.]+ on 11 items", out), out
    assert _rows(out) == expected, out
    cases = ET.parse(junit).getroot().findall(".//testcase")
    by_unit = {str(c.get("name")).split(".")[0] for c in cases}
    assert {"helpfulness", "grounded", "safety", "overall"} <= by_unit
    assert any(str(c.get("name")).startswith("grounded.judge_") for c in cases)
    failed = {str(c.get("name")) for c in cases if c.find("failure") is not None}
    assert {"helpfulness.calibration_ece", "grounded.calibration_ece", "safety.calibration_ece"} <= failed
