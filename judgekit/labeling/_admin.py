"""What the admin page shows: progress of everyone, live agreement, the disagreement browser, flags.

Why in the library: the app holds no statistics of its own. Its agreement figures are
:func:`judgekit.agreement.agreement_overview` (the estimands of ``judgekit agree``, under the same criteria), so
the numbers on the admin page are the numbers the CLI, the report and the notebook print.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from judgekit.agreement import (
    AgreementOverview,
    ProjectEvidence,
    TrustCriteria,
    agreement_overview,
    load_criteria,
    load_human_ratings,
)
from judgekit.labeling._annotators import list_annotators
from judgekit.labeling._queue import ensure_queue, open_item_count
from judgekit.labeling._work import Progress, flagged_skips, progress
from judgekit.models import HumanLabel, Item, Rubric
from judgekit.storage import Project


def progress_all(project: Project, rubric: Rubric) -> list[Progress]:
    """Progress of every annotator (registered or seen in labels), by name."""
    names = {a.name for a in list_annotators(project)}
    names |= set(project.labellers(rubric.id, rubric.version))
    ensure_queue(project, rubric)
    open_total = open_item_count(project, rubric)
    return [progress(project, n, rubric, ensure=False, open_total=open_total) for n in sorted(names)]


@dataclass(frozen=True)
class LabelMatrix:
    """Current blind human labels as an items × annotators matrix (``None`` where someone did not label the item)."""

    item_ids: list[str]
    annotators: list[str]
    values: NDArray[np.object_]
    """Shape (n_items, n_annotators)."""

    def multiply_labelled(self) -> LabelMatrix:
        """Only the rows with at least two labels (where people can agree or not)."""
        keep = (self.values != None).sum(axis=1) >= 2  # noqa: E711 - elementwise comparison
        return LabelMatrix(
            [i for i, k in zip(self.item_ids, keep, strict=True) if k], self.annotators, self.values[keep]
        )


def current_labels(project: Project, rubric: Rubric) -> list[HumanLabel]:
    """Latest revision of every annotator's blind label on every item, for one rubric version."""
    return project.labels(rubric.id, rubric.version, provenance="blind")


def label_matrix(project: Project, rubric: Rubric) -> LabelMatrix:
    """The items × annotators matrix of current blind labels (items in project order), from the one reader of
    labels for analysis (:func:`judgekit.agreement.load_human_ratings`)."""
    humans = load_human_ratings(project, rubric)
    lut = np.asarray([*humans.levels, None], dtype=object)
    values = lut[np.where(humans.codes >= 0, humans.codes, len(humans.levels))]
    return LabelMatrix(humans.item_ids, humans.annotators, values)


AgreementSummary = AgreementOverview
"""What the admin page shows under "Agreement": :class:`judgekit.agreement.AgreementOverview`."""


def agreement_summary(project: Project, rubric: Rubric, criteria: TrustCriteria | None = None) -> AgreementOverview:
    """Live agreement figures: the human ceiling and every judge run's figures against people, computed by
    :func:`judgekit.agreement.agreement_overview` under the project's criteria (``judgekit.toml`` /
    ``[tool.judgekit]``, found as ``judgekit agree`` finds them), so the admin page shows exactly the numbers of
    ``judgekit agree`` and the report, with the same estimand names, n and bootstrap intervals."""
    return agreement_overview(project, rubric, criteria or load_criteria(rubric_id=rubric.id))


@dataclass(frozen=True)
class Disagreement:
    """An item where a judge and the reference label differ, with everything needed to see why."""

    item: Item
    run: str
    judge_label: str
    confidence: float | None
    rationale: str | None
    human_labels: list[HumanLabel]
    """Current blind labels of every person on the item (with critiques)."""
    majority: list[str]
    """The reference label (a one-element list: the majority of the blind labels, ties have none)."""


def disagreements(project: Project, rubric: Rubric, *, run: str | None = None, limit: int = 100) -> list[Disagreement]:
    """Items where a judge's ok verdict is not the reference label (:mod:`judgekit.agreement.reference`: majority
    of blind labels, ties left out), most confident verdict first (those hurt most)."""
    shared = ProjectEvidence(project)
    found: list[tuple[float, str, str, str]] = []
    for r in project.runs():
        if (r.config.rubric_id, r.config.rubric_version) != (rubric.id, rubric.version):
            continue
        if run is not None and r.name != run:
            continue
        data = shared.aligned(r, TrustCriteria())
        wrong = np.flatnonzero(data.ok & data.has_reference & ~data.correct)
        conf = np.where(np.isfinite(data.confidence), data.confidence, -1.0)
        found += [(float(conf[i]), data.item_ids[i], r.name, data.levels[data.reference_codes[i]]) for i in wrong]
    found.sort(key=lambda t: (-t[0], t[1]))
    found = found[:limit]
    by_item: dict[str, list[HumanLabel]] = {}
    for lab in current_labels(project, rubric):
        by_item.setdefault(lab.item_id, []).append(lab)
    verdicts = {(name, v.item_id): v for name in {f[2] for f in found} for v in project.verdicts(name)}
    out = []
    for _, item_id, name, ref in found:
        item = project.get_item(item_id)
        assert item is not None
        v = verdicts[(name, item_id)]
        assert v.label is not None
        out.append(Disagreement(item, name, v.label, v.confidence, v.rationale, by_item.get(item_id, []), [ref]))
    return out


@dataclass(frozen=True)
class Flag:
    """An item an annotator flagged for review."""

    item_id: str
    annotator: str
    kind: str
    """``label`` (flagged while labelling) or ``skip`` (flagged and skipped)."""
    note: str | None
    created_at: str


def flags(project: Project, rubric: Rubric) -> list[Flag]:
    """Every flagged item, newest first."""
    out = [
        Flag(lab.item_id, lab.annotator, "label", lab.critique, lab.created_at.isoformat() if lab.created_at else "")
        for lab in current_labels(project, rubric)
        if lab.flagged
    ]
    out += [
        Flag(item_id, annotator, "skip", note, created_at)
        for item_id, annotator, note, created_at in flagged_skips(project, rubric)
    ]
    return sorted(out, key=lambda f: f.created_at, reverse=True)
