"""Combining several judge runs into one verdict per item: strict majority, ordinal mean, or a tie-break judge.

Why "strict" and why record failures: a panel of three where one member failed is not a panel of two. The
majority needs more than half of the *whole* panel, so a failed member (no verdict, parse error, refusal, API
error) counts against every label, and each combined verdict lists its failed members in ``extra``. Items with
no majority get the tie-break judge's label when one is given; otherwise they get no verdict and are listed in
the run's notes (``no_decision``), never a guessed label.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from judgekit.errors import ConfigError
from judgekit.models import JudgeConfig, JudgeVerdict, Rubric
from judgekit.storage import Project

Method = Literal["majority", "mean"]


@dataclass
class EnsembleResult:
    run: str
    decided: int
    no_decision: list[str]
    failed_members: dict[str, int] = field(default_factory=dict)
    """Member run -> items on which it had no ok verdict."""
    tie_broken: int = 0

    def summary(self) -> str:
        fails = ", ".join(f"{k}: {v}" for k, v in self.failed_members.items() if v) or "none"
        return (
            f"ensemble {self.run!r}: {self.decided} verdicts, {len(self.no_decision)} without a decision, "
            f"{self.tie_broken} settled by the tie-break judge; failed members: {fails}"
        )


def combine_runs(
    project: Project, members: Sequence[str], *, name: str, method: Method = "majority", tiebreak: str | None = None
) -> EnsembleResult:
    """Create run ``name`` combining ``members`` (run names) on the items any of them judged."""
    if len(members) < 2:
        raise ConfigError("an ensemble needs at least two member runs")
    runs = [project.run(m) for m in members]
    rubrics = [project.rubric(r.config.rubric_id, r.config.rubric_version) for r in runs]
    if len({rb.labels_key for rb in rubrics}) != 1 or any(
        not rb.scale.same_answers(rubrics[0].scale) for rb in rubrics
    ):
        raise ConfigError(
            "ensemble members must be measured against the same labels (one rubric version, or versions derived "
            "from it with the same scale)"
        )
    rubric = rubrics[0]
    rid, ver = rubric.id, rubric.version
    if method == "mean" and rubric.scale.kind != "ordinal":
        raise ConfigError("method 'mean' needs an ordinal rubric; use 'majority'")
    per_run = [{v.item_id: v for v in project.verdicts(r)} for r in runs]
    tb = {v.item_id: v for v in project.verdicts(tiebreak)} if tiebreak else {}
    item_ids = [i for i in dict.fromkeys(i for d in per_run for i in d)]
    out: list[JudgeVerdict] = []
    no_decision: list[str] = []
    failed = dict.fromkeys((r.name for r in runs), 0)
    broken = 0
    n = len(runs)
    for item_id in item_ids:
        labels: list[str | None] = []
        failed_here = []
        for r, d in zip(runs, per_run, strict=True):
            v = d.get(item_id)
            if v is None or v.status != "ok":
                failed[r.name] += 1
                failed_here.append({"run": r.name, "status": "missing" if v is None else v.status})
                labels.append(None)
            else:
                labels.append(v.label)
        label = _mean(rubric, labels, n) if method == "mean" else _majority(labels, n)
        extra: dict[str, Any] = {"members": labels, "failed_members": failed_here, "panel": n}
        if label is None and tiebreak:
            t = tb.get(item_id)
            if t is not None and t.status == "ok":
                label, broken = t.label, broken + 1
                extra["tie_break"] = tiebreak
        if label is None:
            no_decision.append(item_id)
            continue
        votes = sum(x == label for x in labels)
        out.append(
            JudgeVerdict(
                item_id=item_id,
                label=label,
                confidence=votes / n,
                confidence_source="external",
                cost_usd=0.0,
                extra=extra,
            )
        )
    cfg = JudgeConfig(
        provider="ensemble",
        model=f"{method}({','.join(members)})",
        rubric_id=rid,
        rubric_version=ver,
        few_shot="none",
        prompt_variant=f"tiebreak={tiebreak}" if tiebreak else None,
    )
    run = project.create_run(
        name,
        cfg,
        meta={
            "members": list(members),
            "method": method,
            "tiebreak": tiebreak,
            "no_decision": no_decision,
            "failed_members": failed,
        },
    )
    project.add_verdicts(run.id, out)
    project.set_run_status(run.id, "complete")
    return EnsembleResult(run.name, len(out), no_decision, failed, broken)


def _majority(labels: list[str | None], n: int) -> str | None:
    counts = Counter(x for x in labels if x is not None)
    if not counts:
        return None
    label, c = counts.most_common(1)[0]
    return label if c * 2 > n else None


def _mean(rubric: Rubric, labels: list[str | None], n: int) -> str | None:
    """Mean score of the ok members, rounded to the nearest level; needs more than half the panel ok.
    A mean exactly between two levels is a tie (no decision)."""
    scores = dict(zip(rubric.scale.values, rubric.scale.scores(), strict=True))
    ok = [scores[x] for x in labels if x is not None]
    if len(ok) * 2 <= n:
        return None
    m = sum(ok) / len(ok)
    dist = sorted((abs(s - m), lv) for lv, s in scores.items())
    if len(dist) > 1 and abs(dist[0][0] - dist[1][0]) < 1e-9:
        return None
    return dist[0][1]
