"""Aligned ratings restricted to a split part, shared by compare, abstention and estimates."""

from __future__ import annotations

from judgekit.agreement import AlignedRatings, HumanRatings, ReferenceRule, load_aligned
from judgekit.calibration.splits import SplitInfo, SplitPart, get_split, split_item_ids
from judgekit.errors import UserError
from judgekit.models import JudgeRun
from judgekit.storage import Project


def aligned_for(
    project: Project,
    run: JudgeRun,
    split: str | SplitInfo | None = None,
    part: SplitPart = "test",
    *,
    reference: ReferenceRule = "majority",
    humans: HumanRatings | None = None,
) -> tuple[AlignedRatings, SplitInfo | None]:
    """Human labels and the run's verdicts on the labelled items (of ``part`` of ``split`` when given).

    ``humans`` (from :func:`judgekit.agreement.load_human_ratings`) shares one read of the labels between runs.
    """
    rubric = project.rubric(run.config.rubric_id, run.config.rubric_version)
    data = load_aligned(project, run, rubric, reference=reference, humans=humans)
    if split is None:
        return data, None
    info = get_split(project, split)
    if info.rubric_key != rubric.labels_key:
        raise UserError(
            f"split {info.key} was made for the labels of rubric {info.rubric_key}, but run {run.name!r} applies "
            f"{rubric.key}" + (f" (measured against the labels of {rubric.labels_key})" if rubric.lineage else "")
        )
    return data.subset(split_item_ids(project, info, part)), info
