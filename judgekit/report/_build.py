"""Gathering a report: assess each run, compare judges on the same rubric, fetch the items worth reading.

Why here and not in the renderers: the HTML, Markdown and JSON must agree to the last digit, so every number is
computed once into a :class:`~judgekit.report._model.Report` and the renderers only format it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from itertools import combinations
from typing import Any

import numpy as np

from judgekit import __version__
from judgekit.agreement import (
    NO_VERDICT,
    AlignedRatings,
    Figure,
    TrustAssessment,
    TrustCriteria,
    assess,
    load_aligned,
    strict_weights,  # the verdict's own weights, so the numbers match
)
from judgekit.errors import UserError
from judgekit.models import JudgeRun
from judgekit.report._model import (
    ItemExample,
    JudgeComparison,
    ProbeResult,
    Report,
    RunInfo,
    RunReport,
)
from judgekit.stats import UndefinedStatisticWarning, mcnemar, paired_bootstrap_difference
from judgekit.storage import Project

CriteriaFor = Callable[[str], TrustCriteria]
_COST_KEYS = ("cost_usd", "cost_known", "requests", "cache_hits")
_TEXT_LIMIT = 600


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
    worst = list(a.harmful.get("worst") or [])[:limit] if a.harmful.get("available") else []
    return _examples(project, run, data, [(str(w["item_id"]), float(w["confidence"])) for w in worst])


_RISK_ORDER = {"high": 0, "medium": 1, "low": 2}


def _disagreements(project: Project, run: JudgeRun, data: AlignedRatings, limit: int) -> list[ItemExample]:
    """Items where every annotator gave the same label (at least two did) and the judge's verdict is another one:
    the clearest disagreements, listed whether or not the judge reports a confidence. Highest risk tier first, then
    the most annotators, then item order."""
    rows = []
    for i, item_id in enumerate(data.item_ids):
        labels = [lab for lab in data.human[i].tolist() if lab is not None]
        judge = data.judge[i] if data.status[i] == "ok" else None
        if len(labels) >= 2 and len(set(labels)) == 1 and judge is not None and judge != labels[0]:
            rows.append((_RISK_ORDER.get(str(data.risk[i]), 3), -len(labels), i, item_id))
    rows.sort()
    return _examples(project, run, data, [(item_id, None) for *_, item_id in rows[:limit]])


def _examples(
    project: Project, run: JudgeRun, data: AlignedRatings, picks: list[tuple[str, float | None]]
) -> list[ItemExample]:
    """The report's view of the ``(item id, confidence)`` picks, in their order: text, labels, rationale."""
    if not picks:
        return []
    ids = [item_id for item_id, _ in picks]
    row = {item_id: i for i, item_id in enumerate(data.item_ids)}
    items = {it.id: it for it in project.items(ids)}
    rationale = {v.item_id: v.rationale for v in project.verdicts(run) if v.item_id in items}
    out = []
    for item_id, confidence in picks:
        it = items[item_id]
        i = row[item_id]
        humans = {
            name: str(lab) for name, lab in zip(data.annotators, data.human[i].tolist(), strict=True) if lab is not None
        }
        out.append(
            ItemExample(
                item_id=item_id,
                segment=it.metadata.segment,
                risk=it.metadata.risk,
                confidence=confidence,
                judge_label=None if data.judge[i] is None else str(data.judge[i]),
                human_majority=None if data.majority[i] is None else str(data.majority[i]),
                human_labels=humans,
                input=_clip(it.input) or "",
                output=_clip(it.output),
                output_a=_clip(it.output_a),
                output_b=_clip(it.output_b),
                rationale=_clip(rationale.get(item_id)),
            )
        )
    return out


def compare_judges(
    name_a: str, data_a: AlignedRatings, name_b: str, data_b: AlignedRatings, criteria: TrustCriteria
) -> JudgeComparison | None:
    """Paired comparison of two runs on the same rubric; None when they share fewer than 10 items with a majority.

    Both judges are scored against the human majority with failed verdicts counted as wrong, exactly as the
    verdict does; the bootstrap resamples items jointly, so the shared difficulty of the items cancels out.
    """
    index_b = {item_id: i for i, item_id in enumerate(data_b.item_ids)}
    rows_a = [i for i, item_id in enumerate(data_a.item_ids) if item_id in index_b]
    rows_b = [index_b[data_a.item_ids[i]] for i in rows_a]
    ref = data_a.majority[rows_a]
    keep = np.array([m is not None for m in ref], dtype=bool)
    ref = ref[keep]
    ja = data_a.judge_strict[rows_a][keep]
    jb = data_b.judge_strict[rows_b][keep]
    if len(ref) < 10:
        return None
    levels = [*data_a.levels, NO_VERDICT]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedStatisticWarning)
        diff = paired_bootstrap_difference(
            ref,
            ja,
            jb,
            metric="cohen_kappa",
            weights=strict_weights(data_a.rubric),
            levels=levels,
            n_boot=criteria.n_boot,
            seed=criteria.seed,
            level=criteria.confidence_level,
        )
    right_a, right_b = ref == ja, ref == jb
    mc = mcnemar(right_a, right_b)
    iv = diff.interval
    d = diff.details
    return JudgeComparison(
        rubric=data_a.rubric.key,
        run_a=name_a,
        run_b=name_b,
        n_items=diff.n_items,
        kappa_a=Figure(value=float(d["value_a"]), n=diff.n_items),
        kappa_b=Figure(value=float(d["value_b"]), n=diff.n_items),
        difference=Figure(
            value=diff.value, low=None if iv is None else iv.low, high=None if iv is None else iv.high, n=diff.n_items
        ),
        bootstrap_p_value=float(d.get("bootstrap_p_value", math.nan)),
        accuracy_a=float(right_a.mean()),
        accuracy_b=float(right_b.mean()),
        mcnemar_p_value=mc.value,
        mcnemar_exact=bool(mc.details["exact"]),
        a_right_b_wrong=int(mc.details["a_right_b_wrong"]),
        a_wrong_b_right=int(mc.details["a_wrong_b_right"]),
    )


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
    Runs on the same rubric version are compared pairwise; bias-probe runs are listed with their results.
    """
    all_runs = project.runs()
    chosen = [project.run(r) for r in runs] if runs else [r for r in all_runs if not is_probe(r)]
    pick = criteria_for or (lambda _rid: TrustCriteria())
    reports: list[RunReport] = []
    aligned: dict[str, tuple[AlignedRatings, TrustCriteria]] = {}
    for run in chosen:
        crit = pick(run.config.rubric_id)
        rubric = project.rubric(run.config.rubric_id, run.config.rubric_version)
        data = load_aligned(project, run, rubric)
        a = assess(data, run, crit)
        aligned[run.name] = (data, crit)
        reports.append(
            RunReport(
                info=run_info(run),
                assessment=a,
                confidently_wrong=_confidently_wrong(project, run, data, a, max_items),
                disagreements=_disagreements(project, run, data, max_items),
            )
        )
    comparisons = []
    for ra, rb in combinations(chosen, 2):
        if (ra.config.rubric_id, ra.config.rubric_version) != (rb.config.rubric_id, rb.config.rubric_version):
            continue
        (da, crit), (db, _) = aligned[ra.name], aligned[rb.name]
        cmp = compare_judges(ra.name, da, rb.name, db, crit)
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
        project=project_name or project.path.name,
        runs=reports,
        comparisons=comparisons,
        probes=probes,
    )
