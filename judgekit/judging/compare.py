"""Summaries of runs for ``judgekit runs``: status counts and cost (agreement between runs is
:mod:`judgekit.agreement.judge_judge`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from judgekit.models import JudgeRun
from judgekit.storage import Project


@dataclass(frozen=True)
class RunStats:
    run: JudgeRun
    verdicts: int
    statuses: dict[str, int]
    cost_usd: float
    cost_known: bool
    cache_hits: int


def run_stats(project: Project, run: JudgeRun) -> RunStats:
    vs = project.verdicts(run)
    costs = [v.cost_usd for v in vs]
    return RunStats(
        run=run,
        verdicts=len(vs),
        statuses=dict(Counter(v.status for v in vs)),
        cost_usd=sum(c for c in costs if c is not None),
        cost_known=all(c is not None for c in costs) or run.source == "import",
        cache_hits=sum(v.cache_hit for v in vs),
    )
