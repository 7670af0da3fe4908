"""The progress display: on a terminal a live ``rich`` display cut to the terminal's width (nothing wraps at 80
columns, nor at 30); in a log plain lines. Driven by real runs through the SDK against the scripted server."""

from __future__ import annotations

import io
import re

import pytest
from fake_llm_server import Action, FakeLLMServer

from conftest import bundled
from judgekit.judging import build_config, run_judge
from judgekit.judging.counts import Counts
from judgekit.judging.progress import Progress
from judgekit.storage import Project

PASS_FAIL = bundled("helpfulness_pass_fail")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _screen_lines(raw: str) -> list[str]:
    """What the terminal shows line by line, escape sequences removed (each redraw ends in its own lines)."""
    return [x for x in re.split(r"[\r\n]", ANSI.sub("", raw)) if x.strip()]


@pytest.mark.parametrize("columns", [80, 30])
def test_live_display_fits_the_terminal(
    project: Project, openai_env: FakeLLMServer, monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    for status in (429, 500, 502, 503):  # four kinds of errors: the second line is longer than 80 columns
        openai_env.script(Action(kind="status", status=status, headers={"retry-after-ms": "1"}))
    term = Terminal()
    cfg = build_config("openai", "gpt-4.1-mini", PASS_FAIL, confidence="none")
    s = run_judge(project, cfg, rubric=PASS_FAIL, limit=6, concurrency=1, backoff_base=0.01, stream=term)
    assert s.statuses == {"ok": 6} and len(s.errors) == 4
    lines = _screen_lines(term.getvalue())
    assert lines and all(len(x) <= columns for x in lines), [x for x in lines if len(x) > columns]
    top, rest = lines[-2:]
    if columns == 80:
        assert "━" in top and "6/6" in top and "100%" in top and "/s" in top and "ETA" in top
        assert rest.startswith("errors: http_429=1 http_500=1 http_502=1") and rest.endswith("…")
    else:  # no room for a bar: the figures, cut
        assert top.startswith("judged 6/6 100%") and rest.startswith("errors: http_429=1")


def test_the_display_shows_cost_and_cache_hits_when_they_fit() -> None:
    p = Progress(200, already=50, stream=Terminal())
    p.counts = Counts(done=50, cost=0.0123, cache_hits=13)
    text = "".join(seg.text for seg in p._terminal().render(p.renderable(80)))
    assert "100/200" in text and "50%" in text and "cost $0.0123" in text and "cache hits 13" in text
    assert "errors: none" in text


def test_plain_lines_in_a_log(project: Project, openai_env: FakeLLMServer) -> None:
    log = io.StringIO()
    cfg = build_config("openai", "gpt-4.1-mini", PASS_FAIL, confidence="none")
    run_judge(project, cfg, rubric=PASS_FAIL, limit=3, stream=log)
    out = log.getvalue()
    assert "\x1b" not in out and out.strip().splitlines()[-1].startswith("judged 3/3 (")
