"""Gathering a report: assess each run, compare judges on the same rubric, fetch the items worth reading.

Why here and not in the renderers: the HTML, Markdown and JSON must agree to the last digit, so every number is
computed once into a :class:`~judgekit.report._model.Report` and the renderers only format it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from itertools import combinations
from typing import Any

import numpy as np

from judgekit import __version__
from judgekit.agreement import AlignedRatings, ProjectEvidence, TrustAssessment, TrustCriteria
from judgekit.agreement.data import verdict_rationales
from judgekit.agreement.judge_judge import JudgePair, compare_pair
from judgekit.align import store as align_store
from judgekit.align.explain import DisagreementReport, dev_scope, explain_run
from judgekit.errors import UserError
from judgekit.models import JudgeRun
from judgekit.report._model import (
    ItemExample,
    ProbeResult,
    Report,
    RunInfo,
    RunReport,
)
from judgekit.storage import Project

CriteriaFor = Callable[[str], TrustCriteria]
_COST_KEYS = ("cost_usd", "cost_known", "requests", "cache_hits")
_TEXT_LIMIT = 600


def is_align_candidate(run: JudgeRun) -> bool:
    """A candidate judge of ``judgekit align`` (``meta["align"]``): shown in its alignment record, and assessed as a
    run only when named (most were judged on dev only)."""
    return isinstance(run.meta.get("align"), dict)


def _failure_modes(
    project: Project, run: JudgeRun, data: AlignedRatings, criteria: TrustCriteria
) -> DisagreementReport | None:
    """``judgekit explain`` of ``run`` (its 3 largest failure modes) on the dev part of the newest split of its
    labels, or every labelled item without a split: the same call, hence the same figures, as the command. None
    for a rubric with rated criteria (explain works on one scale; not built per criterion yet)."""
    rubric = project.rubric(run.config.rubric_id, run.config.rubric_version)
    if rubric.is_rated:
        return None
    ids, where = dev_scope(project, rubric.labels_key)
    report = explain_run(project, run, item_ids=ids, where=where, criteria=criteria, max_largest=3, data=data)
    return report if report.n_disagreements else None


def is_probe(run: JudgeRun) -> bool:
    """True for a bias-probe run (its meta names the probe); these are listed apart, not assessed by default."""
    return bool(run.meta.get("probe"))


def latest_run(project: Project) -> JudgeRun:
    """The newest judge run that is not a bias probe; a project without one is a usage error."""
    runs = [r for r in project.runs() if not is_probe(r)]
    if not runs:
        raise UserError("no judge runs in the project: run 'judgekit judge' or 'judgekit import verdicts' first")
    return runs[-1]


def run_info(run: JudgeRun) -> RunInfo:
    """Run details for the report; cost figures only when the judge engine recorded them."""
    meta = dict(run.meta)

    def num(key: str, kind: type) -> Any:
        value = meta.get(key)
        return kind(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    known = meta.get("cost_known")
    return RunInfo(
        name=run.name,
        provider=run.config.provider,
        model=run.config.model,
        source=run.source,
        status=run.status,
        created_at=run.created_at.isoformat(timespec="seconds"),
        rubric=f"{run.config.rubric_id} v{run.config.rubric_version}",
        confidence_source=run.config.confidence,
        cost_usd=num("cost_usd", float),
        cost_known=known if isinstance(known, bool) else None,
        requests=num("requests", int),
        cache_hits=num("cache_hits", int),
        meta={k: v for k, v in meta.items() if k not in _COST_KEYS},
    )


def _clip(text: str | None, limit: int = _TEXT_LIMIT) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[:limit].rstrip() + " …"


def _confidently_wrong(
    project: Project, run: JudgeRun, data: AlignedRatings, a: TrustAssessment, limit: int
) -> list[ItemExample]:
    """The harmful-confidence items, in the order the statistic ranks them (worst first), with their text."""
    worst = a.harmful.worst[:limit] if a.harmful.available else []
    return _examples(project, run, data, [(w.item_id, w.confidence) for w in worst])


_RISK_ORDER = {"high": 0, "medium": 1, "low": 2}


def _disagreements(project: Project, run: JudgeRun, data: AlignedRatings, limit: int) -> list[ItemExample]:
    """Items where every annotator gave the same label (at least two did) and the judge's ok verdict is another
    one: the clearest disagreements, listed whether or not the judge reports a confidence. Highest risk tier
    first, then the most annotators, then item order. Vectorised: one pass over the codes."""
    codes = data.human_codes
    if data.n_items == 0 or codes.shape[1] == 0:
        return []
    present = codes >= 0
    n_labels = present.sum(axis=1)
    first = np.where(present, codes, np.iinfo(np.int64).max).min(axis=1)
    unanimous = (n_labels >= 2) & (np.where(present, codes, first[:, None]) == first[:, None]).all(axis=1)
    rows = np.flatnonzero(unanimous & data.ok & (data.judge_codes != first))
    if rows.size == 0:
        return []
    risk_rank = np.array([_RISK_ORDER.get(str(data.risk[i]), 3) for i in rows])
    order = np.lexsort((rows, -n_labels[rows], risk_rank))[:limit]
    return _examples(project, run, data, [(data.item_ids[rows[j]], None) for j in order])


def _examples(
    project: Project, run: JudgeRun, data: AlignedRatings, picks: list[tuple[str, float | None]]
) -> list[ItemExample]:
    """The report's view of the ``(item id, confidence)`` picks, in their order: text, labels, rationale (only the
    picked items and their verdicts are read)."""
    if not picks:
        return []
    ids = [item_id for item_id, _ in picks]
    wanted = set(ids)
    row = {item_id: i for i, item_id in enumerate(data.item_ids) if item_id in wanted}
    items = {it.id: it for it in project.items(ids)}
    rationale = verdict_rationales(project, run, ids)
    human, ref, judge = data.human, data.reference_labels, data.judge
    out = []
    for item_id, confidence in picks:
        it = items[item_id]
        i = row[item_id]
        humans = {
            name: str(lab) for name, lab in zip(data.annotators, human[i].tolist(), strict=True) if lab is not None
        }
        out.append(
            ItemExample(
                item_id=item_id,
                segment=it.metadata.segment,
                risk=it.metadata.risk,
                confidence=confidence,
                judge_label=None if judge[i] is None else str(judge[i]),
                reference_label=None if ref[i] is None else str(ref[i]),
                human_labels=humans,
                input=_clip(it.input) or "",
                output=_clip(it.output),
                output_a=_clip(it.output_a),
                output_b=_clip(it.output_b),
                rationale=_clip(rationale.get(item_id)),
            )
        )
    return out


def compare_judges(data_a: AlignedRatings, data_b: AlignedRatings, criteria: TrustCriteria) -> JudgePair | None:
    """The one judge-vs-judge comparison (:func:`judgekit.agreement.judge_judge.compare_pair`) of two runs on the
    same rubric; None when they share fewer than 10 items with a reference label."""
    if int(data_a.has_reference.sum()) < 10:
        return None
    return compare_pair(data_a, data_b, criteria)


def build_report(
    project: Project,
    runs: Sequence[str] | None = None,
    criteria_for: CriteriaFor | None = None,
    *,
    max_items: int = 10,
    project_name: str | None = None,
) -> Report:
    """Assess ``runs`` (default: every run that is not a bias probe) and gather the whole report.

    ``criteria_for(rubric_id)`` supplies the thresholds of each rubric (default :class:`TrustCriteria`).
    Runs on the same rubric version are compared pairwise; bias-probe runs are listed with their results; the
    candidates of ``judgekit align`` are shown in their alignment records (assessed as runs only when named).
    """
    all_runs = project.runs()
    chosen = (
        [project.run(r) for r in runs]
        if runs
        else [r for r in all_runs if not is_probe(r) and not is_align_candidate(r)]
    )
    pick = criteria_for or (lambda _rid: TrustCriteria())
    shared = ProjectEvidence(project)
    reports: list[RunReport] = []
    aligned: dict[str, tuple[AlignedRatings, TrustCriteria]] = {}
    for run in chosen:
        crit = pick(run.config.rubric_id)
        a, data = shared.assess(run, crit)
        aligned[run.name] = (data, crit)
        reports.append(
            RunReport(
                info=run_info(run),
                assessment=a,
                confidently_wrong=_confidently_wrong(project, run, data, a, max_items),
                disagreements=_disagreements(project, run, data, max_items),
                failure_modes=_failure_modes(project, run, data, crit),
            )
        )
    comparisons = []
    for ra, rb in combinations(chosen, 2):
        (da, crit), (db, crit_b) = aligned[ra.name], aligned[rb.name]
        if (
            da.rubric.labels_key != db.rubric.labels_key
            or not da.rubric.scale.same_answers(db.rubric.scale)
            or crit != crit_b
        ):
            continue
        cmp = compare_judges(da, db, crit)
        if cmp is not None:
            comparisons.append(cmp)
    probes = [
        ProbeResult(
            run=r.name,
            probe=str(r.meta["probe"]),
            rubric=f"{r.config.rubric_id} v{r.config.rubric_version}",
            results={k: v for k, v in r.meta.items() if k != "probe"},
        )
        for r in all_runs
        if is_probe(r)
    ]
    return Report(
        judgekit_version=__version__,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        project=project_name or project.name,
        runs=reports,
        comparisons=comparisons,
        probes=probes,
        alignments=align_store.records(project),
    )
