"""The locked test split: every evaluation on it is recorded, and the count is reported with a warning.

Why: a test set keeps its meaning only while it is not used to choose. Evaluating ``k`` judge versions on the same
test items and keeping the best is a selection among ``k`` noisy estimates: the winner's score is biased upwards
(the "winner's curse"), and the chance that at least one of ``k`` equally good versions looks significantly better
than the baseline grows to about ``1 - (1 - a)^k``. A Bonferroni correction (test each at ``a / k``) restores the
family-wise error rate, at the price of power; the honest remedy after many looks is a fresh test split.

Looks are counted per distinct judge fingerprint (the judge version: model, prompt, parameters), not per command:
re-running a report on the same run does not spend anything new.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from judgekit.agreement import TrustAssessment, TrustCriteria
from judgekit.calibration.splits import SplitInfo, SplitPart, get_split
from judgekit.errors import UserError
from judgekit.models import JudgeRun
from judgekit.storage import Project
from judgekit.storage.project import now_iso

WARN_AFTER = 1
"""More distinct judge versions than this evaluated on a test split earn a warning."""
STRONG_WARN_AFTER = 5
"""More than this earn a strong warning: the test split no longer gives an unbiased estimate."""

WarningLevel = Literal["none", "warning", "strong"]


class Look(BaseModel):
    """One recorded evaluation of a judge run on a split part."""

    model_config = ConfigDict(frozen=True)
    split: str
    version: int
    part: SplitPart
    run: str
    fingerprint: str
    purpose: str
    n_items: int
    created_at: str


class LookSummary(BaseModel):
    """How much of a test split's credibility has been spent."""

    model_config = ConfigDict(frozen=True)
    split: str
    n_looks: int
    n_judge_versions: int
    fingerprints: list[str]
    runs: list[str]
    level: WarningLevel
    bonferroni_alpha: float
    message: str


def record_look(
    project: Project, split: str | SplitInfo, part: SplitPart, run: JudgeRun, *, purpose: str, n_items: int
) -> None:
    """Record that ``run`` was evaluated on ``part`` of ``split`` (``compare``, ``abstain``, ``assess``, ...)."""
    info = get_split(project, split)
    with project.transaction() as c:
        c.execute(
            "INSERT INTO split_looks (split_name, split_version, part, run_name, fingerprint, purpose, n_items,"
            " created_at) VALUES (?,?,?,?,?,?,?,?)",
            (info.name, info.version, part, run.name, run.fingerprint, purpose, n_items, now_iso()),
        )


def looks(project: Project, split: str | SplitInfo, *, part: SplitPart | None = "test") -> list[Look]:
    """The recorded looks at a split version (at its ``test`` part by default; ``part=None`` for both)."""
    info = get_split(project, split)
    sql = (
        "SELECT split_name, split_version, part, run_name, fingerprint, purpose, n_items, created_at FROM split_looks "
        "WHERE split_name = ? AND split_version = ?"
    )
    params: list[object] = [info.name, info.version]
    if part is not None:
        sql += " AND part = ?"
        params.append(part)
    rows = project.db.rows(sql + " ORDER BY id", params)
    return [
        Look(
            split=str(r[0]),
            version=int(r[1]),
            part=r[2],
            run=str(r[3]),
            fingerprint=str(r[4]),
            purpose=str(r[5]),
            n_items=int(r[6]),
            created_at=str(r[7]),
        )
        for r in rows
    ]


def look_warning(n_versions: int, alpha: float = 0.05) -> tuple[WarningLevel, str]:
    """The warning for ``n_versions`` distinct judge versions evaluated on one test split.

    ``k <= 1``: none. ``1 < k <= 5``: the best of ``k`` is optimistic; compare at the Bonferroni level ``a / k``.
    ``k > 5``: the test estimate is no longer unbiased; draw a fresh test split (new labelled items).
    The family-wise chance of at least one false "improvement" among ``k`` independent looks at level ``a`` is
    ``1 - (1 - a)^k`` (Bonferroni bound ``k a``).
    """
    k = max(int(n_versions), 0)
    if k <= WARN_AFTER:
        return "none", f"{k} judge version(s) evaluated on this test split: it is still an unbiased holdout."
    fwer = 1.0 - (1.0 - alpha) ** k
    note = (
        f"{k} distinct judge versions have been evaluated on this test split. Choosing the best of them makes its "
        f"test score optimistic; with {k} looks at a = {alpha:g} the chance of at least one spurious 'improvement' "
        f"is up to {fwer:.0%} (Bonferroni: require p < {alpha / k:.4f} per comparison)."
    )
    if k <= STRONG_WARN_AFTER:
        return "warning", "WARNING: " + note
    return "strong", (
        "STRONG WARNING: "
        + note
        + " The test split has been used for selection too often to give an unbiased estimate: label new items "
        "and create a fresh split ('judgekit split --name NEW') for the final number."
    )


def look_summary(project: Project, split: str | SplitInfo, *, alpha: float = 0.05) -> LookSummary:
    """Distinct judge versions evaluated on the test part of ``split``, with the warning for that number."""
    info = get_split(project, split)
    seen = looks(project, info, part="test")
    fps = list(dict.fromkeys(lk.fingerprint for lk in seen))
    runs = list(dict.fromkeys(lk.run for lk in seen))
    level, message = look_warning(len(fps), alpha)
    return LookSummary(
        split=info.key,
        n_looks=len(seen),
        n_judge_versions=len(fps),
        fingerprints=fps,
        runs=runs,
        level=level,
        bonferroni_alpha=alpha / max(len(fps), 1),
        message=message,
    )


def assess_on_split(
    project: Project,
    run: str | JudgeRun,
    split: str | SplitInfo,
    part: SplitPart = "test",
    criteria: TrustCriteria | None = None,
    *,
    record: bool = True,
) -> tuple[TrustAssessment, LookSummary | None]:
    """The trust assessment of ``run`` on one part of a split; on ``test`` the look is recorded and summarised.

    Returns the assessment and, for the test part, the :class:`LookSummary` to show beside it.
    """
    from judgekit.agreement import assess
    from judgekit.calibration._data import aligned_for

    r = run if isinstance(run, JudgeRun) else project.run(run)
    c = criteria or TrustCriteria()
    data, info = aligned_for(project, r, split, part, reference=c.reference)
    assert info is not None
    if not data.item_ids:
        raise UserError(f"the {part} part of split {info.key} has no labelled items for run {r.name!r}")
    result = assess(data, r, c)
    if part != "test":
        return result, None
    if record:
        record_look(project, info, "test", r, purpose="assess", n_items=len(data.item_ids))
    return result, look_summary(project, info)
