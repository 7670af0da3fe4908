"""The trust verdict: is this judge good enough to drive optimisation, and if not, why?

For one judge run and the human labels of its rubric, :func:`assess` measures every estimand
(:func:`judgekit.agreement.evidence.measure`: the reference label, the human ceiling, judge vs people on both bases,
calibration and harmful confidence, breakdowns per segment and risk tier, corrected labels apart) and judges the
registered criteria (:mod:`judgekit.agreement.verdict`). The result, a :class:`TrustAssessment`, is typed end to
end; ``model_dump_json()`` is ``judgekit agree --json``.

A rubric with rated criteria is assessed per **unit** (:meth:`judgekit.models.Rubric.units`: every criterion, and
the overall rule when it has one), each on its own scale and under its own thresholds
(:meth:`TrustCriteria.for_unit`): :func:`assess_units`. The run's assessment is then the lead unit's (the overall
rule's, or the first criterion's) with every unit in ``parts``, every unit's criteria in ``criteria`` named
``UNIT.CRITERION`` (``coherence.judge_icc``), and a verdict that needs every unit's criteria to pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import BaseModel, ConfigDict

from judgekit.agreement.ceiling import HumanCeiling, human_ceiling
from judgekit.agreement.criteria import TrustCriteria
from judgekit.agreement.data import AlignedRatings, HumanRatings, load_aligned, load_human_ratings
from judgekit.agreement.evidence import ScaleEvidence, measure
from judgekit.agreement.judge_people import JudgeVsPeople, judge_vs_people
from judgekit.agreement.reference import ReferenceSummary
from judgekit.agreement.verdict import CriterionResult, Verdict, evaluate, verdict_of
from judgekit.models import OVERALL, JudgeRun, Rubric
from judgekit.storage import Project

__all__ = [
    "AgreementOverview",
    "AssessmentHeader",
    "JudgeOverview",
    "ProjectEvidence",
    "TrustAssessment",
    "agreement_overview",
    "assess",
    "assess_project",
    "assess_run",
]

CriteriaFor = Callable[[str], TrustCriteria]


class AssessmentHeader(BaseModel):
    """Who judged what, and the verdict with its criteria (the first fields of the JSON)."""

    model_config = ConfigDict(frozen=True, ser_json_inf_nan="constants")
    run: str
    model: str
    provider: str
    rubric: str
    scale: str
    verdict: Verdict
    reasons: list[str]
    criteria: list[CriterionResult]


class TrustAssessment(ScaleEvidence, AssessmentHeader):
    """Everything behind the verdict for one judge run: the header (run, verdict, criteria), the evidence (every
    field of :class:`~judgekit.agreement.evidence.ScaleEvidence`) and the criteria it was judged under."""

    model_config = ConfigDict(frozen=True, ser_json_inf_nan="constants")
    criteria_config: TrustCriteria
    scope: str | None = None
    """The rated criterion (or ``overall``) these figures are about; None for a rubric with one scale."""
    parts: list[TrustAssessment] = []
    """A rubric with rated criteria: the assessment of every unit (criterion, then ``overall``), each with its own
    verdict; the figures above are those of the unit named by ``scope``."""


def combine_units(parts: list[TrustAssessment], rubric: Rubric) -> TrustAssessment:
    """The run's assessment from its units' (see the module docstring)."""
    lead = next((p for p in parts if p.scope == OVERALL), parts[0])
    results = [r.model_copy(update={"name": f"{p.scope}.{r.name}"}) for p in parts for r in p.criteria]
    verdict, reasons = verdict_of(results)
    return lead.model_copy(
        update={"rubric": rubric.key, "verdict": verdict, "reasons": reasons, "criteria": results, "parts": parts}
    )


def assess(
    data: AlignedRatings,
    run: JudgeRun,
    criteria: TrustCriteria | None = None,
    *,
    ceiling: HumanCeiling | None = None,
    corrected: HumanRatings | None = None,
) -> TrustAssessment:
    """The trust assessment of ``run`` from its aligned ratings (see the module docstring)."""
    c = criteria or TrustCriteria()
    evidence = measure(data, c, ceiling=ceiling, corrected=corrected)
    results = evaluate(evidence, c)
    verdict, reasons = verdict_of(results)
    return TrustAssessment(
        **dict(evidence),
        run=run.name,
        model=run.config.model,
        provider=run.config.provider,
        rubric=data.rubric.key,
        scale="interval" if data.rubric.interval_scale is not None else data.rubric.scale.kind,
        scope=data.rubric.scope,
        verdict=verdict,
        reasons=reasons,
        criteria=results,
        criteria_config=c,
    )


class ProjectEvidence:
    """Reads shared by several runs of one project: each rubric version's labels are read and coded once, and
    its human ceiling computed once per set of criteria (so every run shows the same ceiling)."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._humans: dict[tuple[str, str], HumanRatings] = {}
        self._ceilings: dict[tuple[str, str], HumanCeiling] = {}

    def humans(self, rubric: Rubric, provenance: str = "blind") -> HumanRatings:
        """The labels of ``rubric`` of one provenance, coded (read once)."""
        key = (rubric.labels_key, provenance)
        if key not in self._humans:
            self._humans[key] = load_human_ratings(self.project, rubric, provenance)  # type: ignore[arg-type]
        return self._humans[key]

    def aligned(self, run: JudgeRun, criteria: TrustCriteria, unit: str | None = None) -> AlignedRatings:
        """The run's aligned ratings with the criteria's reference rule (of one ``unit`` of a rubric with rated
        criteria: its :meth:`~judgekit.models.Rubric.view`)."""
        rubric = self.project.rubric(run.config.rubric_id, run.config.rubric_version)
        if unit is not None or rubric.is_rated:
            rubric = rubric.view(unit if unit is not None else rubric.units()[0])
        return load_aligned(self.project, run, rubric, reference=criteria.reference, humans=self.humans(rubric))

    def ceiling(self, data: AlignedRatings, criteria: TrustCriteria) -> HumanCeiling:
        """The human ceiling of ``data``'s labels under ``criteria`` (computed once)."""
        key = (data.rubric.key, criteria.model_dump_json())
        if key not in self._ceilings:
            self._ceilings[key] = human_ceiling(data.human_codes, data.annotators, data.rubric, criteria)
        return self._ceilings[key]

    def assess(self, run: JudgeRun, criteria: TrustCriteria) -> tuple[TrustAssessment, AlignedRatings]:
        """The assessment of ``run`` and the aligned ratings it was computed from (a rubric with rated criteria:
        every unit's, combined; the aligned ratings of the lead unit)."""
        rubric = self.project.rubric(run.config.rubric_id, run.config.rubric_version)
        if not rubric.is_rated:
            return self.assess_unit(run, criteria, None)
        done = [self.assess_unit(run, criteria.for_unit(u), u) for u in rubric.units()]
        a = combine_units([d[0] for d in done], rubric)
        return a, next(d[1] for d in done if d[0].scope == a.scope)

    def assess_unit(
        self, run: JudgeRun, criteria: TrustCriteria, unit: str | None
    ) -> tuple[TrustAssessment, AlignedRatings]:
        """The assessment of ``run`` on one unit (``None``: a rubric with one scale)."""
        data = self.aligned(run, criteria, unit)
        corrected = self.humans(data.rubric, "corrected")
        a = assess(
            data,
            run,
            criteria,
            ceiling=self.ceiling(data, criteria),
            corrected=corrected if corrected.n_items else None,
        )
        return a, data


def assess_run(project: Project, run: str | int | JudgeRun, criteria: TrustCriteria | None = None) -> TrustAssessment:
    """Assess one judge run of the project against the human labels of its rubric."""
    r = run if isinstance(run, JudgeRun) else project.run(run)
    return ProjectEvidence(project).assess(r, criteria or TrustCriteria())[0]


def assess_project(
    project: Project, runs: Sequence[str] | None = None, criteria_for: CriteriaFor | None = None
) -> list[TrustAssessment]:
    """Assess the named runs, or every run of the project. ``criteria_for(rubric_id)`` supplies criteria."""
    chosen = [project.run(r) for r in runs] if runs else project.runs()
    shared = ProjectEvidence(project)
    pick = criteria_for or (lambda _rid: TrustCriteria())
    return [shared.assess(r, pick(r.config.rubric_id))[0] for r in chosen]


class JudgeOverview(BaseModel):
    """One judge run's judge-vs-people figures (what the admin page shows per run)."""

    model_config = ConfigDict(frozen=True, ser_json_inf_nan="constants")
    run: str
    judge: JudgeVsPeople


class AgreementOverview(BaseModel):
    """The human ceiling of one rubric version and every judge run's figures against people: the same estimands,
    criteria and bootstrap as ``judgekit agree``, without the verdict (the labeling app's admin page)."""

    model_config = ConfigDict(frozen=True, ser_json_inf_nan="constants")
    rubric: str
    n_items_labelled: int
    n_overlap_items: int
    """Items with at least two blind labels."""
    reference: ReferenceSummary
    ceiling: HumanCeiling
    judges: list[JudgeOverview]


def agreement_overview(
    project: Project, rubric: Rubric, criteria: TrustCriteria | None = None, *, runs: Sequence[str] | None = None
) -> AgreementOverview:
    """Human ceiling and judge-vs-people figures of every judge run of ``rubric`` (or of ``runs``); bias-probe runs
    are left out, as in ``judgekit agree`` and the report."""
    c = criteria or TrustCriteria()
    shared = ProjectEvidence(project)
    humans = shared.humans(rubric)
    base = load_aligned(project, None, rubric, reference=c.reference, humans=humans)
    ceiling = shared.ceiling(base, c)
    chosen = [project.run(r) for r in runs] if runs else project.runs()
    judges = []
    for run in chosen:
        if (run.config.rubric_id, run.config.rubric_version) != (rubric.id, rubric.version) or run.meta.get("probe"):
            continue
        data = shared.aligned(run, c)
        judges.append(JudgeOverview(run=run.name, judge=judge_vs_people(data, ceiling, c)))
    return AgreementOverview(
        rubric=rubric.key,
        n_items_labelled=base.n_items,
        n_overlap_items=ceiling.kappa.n_items,
        reference=base.reference,
        ceiling=ceiling,
        judges=judges,
    )
