"""What the admin page shows: progress of everyone, live agreement, the disagreement browser, flags.

Why in the library: the app holds no statistics of its own. This module gathers label matrices and pairs from
the database and hands them to :mod:`judgekit.stats`, so the numbers on the admin page are the numbers a
report or a notebook computes from the same data.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
from numpy.typing import NDArray

from judgekit.labeling._annotators import list_annotators
from judgekit.labeling._queue import ensure_queue, open_item_count
from judgekit.labeling._work import Progress, flagged_skips, progress
from judgekit.models import HumanLabel, Item, Rubric
from judgekit.stats import StatResult, UndefinedStatisticWarning, cohen_kappa, krippendorff_alpha
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
    """Current human labels as an items × annotators matrix (``None`` where someone did not label the item)."""

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
    """Latest revision of every annotator's label on every item, for one rubric version."""
    return project.labels(rubric.id, rubric.version)


def label_matrix(project: Project, rubric: Rubric) -> LabelMatrix:
    """The items × annotators matrix of current labels (items in project order)."""
    labels = current_labels(project, rubric)
    items = list(dict.fromkeys(lab.item_id for lab in labels))
    people = sorted({lab.annotator for lab in labels})
    row = {i: n for n, i in enumerate(items)}
    col = {a: n for n, a in enumerate(people)}
    values = np.full((len(items), len(people)), None, dtype=object)
    for lab in labels:
        values[row[lab.item_id], col[lab.annotator]] = lab.label
    return LabelMatrix(items, people, values)


@dataclass(frozen=True)
class JudgeAgreement:
    """How one judge run agrees with the people, on the items both labelled."""

    run: str
    kappa: StatResult | None
    """Cohen's kappa over (judge, person) pairs, bootstrap clustered by item; ``None`` without pairs."""
    accuracy: float | None
    """Share of (judge, person) pairs that agree exactly."""
    n_items: int


@dataclass(frozen=True)
class AgreementSummary:
    """Human-human and judge-human agreement, on comparable terms."""

    human_alpha: StatResult | None
    """Krippendorff's alpha among people (items with >= 2 labels)."""
    human_kappa: StatResult | None
    """Cohen's kappa over every pair of people on the same item, clustered by item: the yardstick for
    ``JudgeAgreement.kappa``, which is computed the same way with the judge as one side of each pair."""
    judges: list[JudgeAgreement] = field(default_factory=list)
    n_overlap_items: int = 0
    """Items with at least two human labels."""


def _weights(rubric: Rubric) -> str | None:
    return "quadratic" if rubric.scale.kind == "ordinal" else None


def _kappa(
    a: list[str], b: list[str], cluster: list[str], rubric: Rubric, *, ci: bool, n_boot: int, seed: int
) -> StatResult | None:
    if not a:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedStatisticWarning)
        return cohen_kappa(
            np.asarray(a, dtype=object),
            np.asarray(b, dtype=object),
            levels=rubric.scale.values,
            weights=_weights(rubric),
            ci=ci,
            n_boot=n_boot,
            seed=seed,
            cluster=np.asarray(cluster, dtype=object) if ci else None,
        )


def agreement_summary(
    project: Project, rubric: Rubric, *, ci: bool = True, n_boot: int = 500, seed: int = 0
) -> AgreementSummary:
    """Live agreement figures with bootstrap intervals (``ci``): among people, and of each judge run with them.

    Judge runs considered are those of this rubric version. Undefined statistics (everyone used one level) are
    returned as nan values, never raised.
    """
    matrix = label_matrix(project, rubric)
    multi = matrix.multiply_labelled()
    alpha: StatResult | None = None
    if len(multi.item_ids) and len(multi.annotators) >= 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedStatisticWarning)
            alpha = krippendorff_alpha(
                multi.values,
                level=rubric.scale.stats_level,
                levels=rubric.scale.values,
                ci=ci,
                n_boot=n_boot,
                seed=seed,
            )
    ha: list[str] = []
    hb: list[str] = []
    hc: list[str] = []
    for item_id, row in zip(multi.item_ids, multi.values, strict=True):
        present = [v for v in row if v is not None]
        for x, y in combinations(present, 2):
            ha.append(x)
            hb.append(y)
            hc.append(item_id)
    human_kappa = _kappa(ha, hb, hc, rubric, ci=ci, n_boot=n_boot, seed=seed)

    by_item: dict[str, list[str]] = {}
    for item_id, row in zip(matrix.item_ids, matrix.values, strict=True):
        by_item[item_id] = [v for v in row if v is not None]
    judges = []
    for run in project.runs():
        if (run.config.rubric_id, run.config.rubric_version) != (rubric.id, rubric.version):
            continue
        ja: list[str] = []
        jb: list[str] = []
        jc: list[str] = []
        for v in project.verdicts(run):
            if v.label is None:
                continue
            for human in by_item.get(v.item_id, []):
                ja.append(v.label)
                jb.append(human)
                jc.append(v.item_id)
        acc = float(np.mean([x == y for x, y in zip(ja, jb, strict=True)])) if ja else None
        judges.append(
            JudgeAgreement(run.name, _kappa(ja, jb, jc, rubric, ci=ci, n_boot=n_boot, seed=seed), acc, len(set(jc)))
        )
    return AgreementSummary(alpha, human_kappa, judges, len(multi.item_ids))


@dataclass(frozen=True)
class Disagreement:
    """An item where a judge and the people differ, with everything needed to see why."""

    item: Item
    run: str
    judge_label: str
    confidence: float | None
    rationale: str | None
    human_labels: list[HumanLabel]
    """Current labels of every person on the item (with critiques)."""
    majority: list[str]
    """The most frequent human label(s)."""


def disagreements(project: Project, rubric: Rubric, *, run: str | None = None, limit: int = 100) -> list[Disagreement]:
    """Items where a judge's label is not the human majority, most confident verdict first (those hurt most)."""
    labels_by_item: dict[str, list[HumanLabel]] = {}
    for lab in current_labels(project, rubric):
        labels_by_item.setdefault(lab.item_id, []).append(lab)
    found: list[tuple[float, str, Any]] = []
    for r in project.runs():
        if (r.config.rubric_id, r.config.rubric_version) != (rubric.id, rubric.version):
            continue
        if run is not None and r.name != run:
            continue
        for v in project.verdicts(r):
            humans = labels_by_item.get(v.item_id)
            if v.label is None or not humans:
                continue
            counts = Counter(h.label for h in humans)
            top = max(counts.values())
            majority = sorted(lab for lab, n in counts.items() if n == top)
            if v.label in majority:
                continue
            conf = -1.0 if v.confidence is None else v.confidence
            found.append((conf, v.item_id, (r.name, v, humans, majority)))
    found.sort(key=lambda t: (-t[0], t[1]))
    out = []
    for _, item_id, (name, v, humans, majority) in found[:limit]:
        item = project.get_item(item_id)
        assert item is not None
        out.append(Disagreement(item, name, v.label, v.confidence, v.rationale, humans, majority))
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
