"""Gathering the evidence for one judge run: human labels and verdicts aligned item by item.

Why a separate step: the statistics are pure functions of arrays; this module is the one place that decides
which items count, who the annotators are, what the human reference label is, and how a failed verdict enters
the comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from judgekit.models import JudgeRun, Rubric
from judgekit.storage import Project

NO_VERDICT = "<no verdict>"
"""Stand-in label for a verdict that is not ``ok`` (parse error, refusal, API error, missing) when failures are
counted as disagreement. It is never a level of a rubric, so it never agrees with a person."""


@dataclass(frozen=True)
class AlignedRatings:
    """Human labels and one judge's verdicts on the items people labelled, row-aligned.

    Arrays have one row per item in ``item_ids``; ``human`` is items × annotators with ``None`` where an
    annotator did not label the item.
    """

    rubric: Rubric
    item_ids: list[str]
    annotators: list[str]
    human: NDArray[np.object_]
    majority: NDArray[np.object_]
    judge: NDArray[np.object_]
    status: NDArray[np.object_]
    confidence: NDArray[np.float64]
    segment: NDArray[np.object_]
    risk: NDArray[np.object_]

    @property
    def levels(self) -> list[str]:
        """The rubric's declared levels."""
        return self.rubric.scale.values

    @property
    def judge_strict(self) -> NDArray[np.object_]:
        """Judge labels with every non-``ok`` verdict replaced by :data:`NO_VERDICT` (counted as wrong)."""
        return np.where(self.status == "ok", self.judge, NO_VERDICT)

    @property
    def has_majority(self) -> NDArray[np.bool_]:
        """Items whose human labels have a unique most frequent label."""
        return np.array([m is not None for m in self.majority], dtype=bool)


def _none_for_missing(values: NDArray[np.object_]) -> NDArray[np.object_]:
    """``None`` wherever pandas read a missing value as NaN (so "no segment" / "no risk tier" is one value)."""
    out = values.copy()
    out[pd.isna(values)] = None
    return out


def human_majority(human: NDArray[np.object_], levels: list[str]) -> NDArray[np.object_]:
    """Per item, the unique most frequent human label (plurality), or ``None`` on a tie or with no label.

    With three annotators this is the majority vote used as the gold label by most LLM-as-a-judge benchmarks
    (PandaLM among them). Ties are left out rather than broken at random; the number left out is reported.
    """
    n, m = human.shape
    out = np.full(n, None, dtype=object)
    if n == 0 or m == 0:
        return out
    index = {lv: i for i, lv in enumerate(levels)}
    codes = np.vectorize(lambda x: index.get(x, -1) if x is not None else -1, otypes=[np.int64])(human)
    counts = np.zeros((n, len(levels)), dtype=np.int64)
    rows, cols = np.nonzero(codes >= 0)
    np.add.at(counts, (rows, codes[rows, cols]), 1)
    top = counts.max(axis=1)
    unique = (counts == top[:, None]).sum(axis=1) == 1
    winners = np.asarray(levels, dtype=object)[counts.argmax(axis=1)]
    ok = unique & (top > 0)
    out[ok] = winners[ok]
    return out


def human_label_matrix(project: Project, rubric: Rubric) -> pd.DataFrame:
    """The latest label of every annotator on every labelled item: items (index, insertion order) x annotators
    (columns), ``None`` where an annotator did not label the item. The one place that reads labels for analysis:
    blind labels only (corrections of a judge's score and adjudicated gold labels are not independent opinions)."""
    labels = pd.DataFrame(
        project.current_label_rows(rubric.id, rubric.version, provenance="blind"),
        columns=["item_id", "annotator", "label", "seq"],
    )
    if labels.empty:
        return pd.DataFrame(index=pd.Index([], name="item_id"), dtype=object)
    wide = labels.pivot(index="item_id", columns="annotator", values="label")
    seq = labels.drop_duplicates("item_id").set_index("item_id")["seq"].loc[wide.index]
    wide = wide.iloc[np.argsort(seq.to_numpy(), kind="stable")].astype(object)
    return wide.where(wide.notna(), None)


def majority_labels(project: Project, rubric: Rubric) -> pd.Series:
    """:func:`human_majority` of every labelled item, indexed by item id (``None`` on a tie)."""
    wide = human_label_matrix(project, rubric)
    human = wide.to_numpy(dtype=object, copy=True)
    return pd.Series(human_majority(human, rubric.scale.values), index=wide.index, name="majority", dtype=object)


def load_aligned(project: Project, run: JudgeRun | None, rubric: Rubric) -> AlignedRatings:
    """Align the latest human labels for ``rubric`` with the verdicts of ``run`` (or no judge).

    Items count when at least one person labelled them; a labelled item the judge has no verdict for gets
    status ``missing`` (a judge that skips hard items must not look better for it).
    """
    wide = human_label_matrix(project, rubric)
    if wide.empty:
        empty = np.empty(0, dtype=object)
        return AlignedRatings(
            rubric, [], [], np.empty((0, 0), dtype=object), empty, empty, empty, np.empty(0), empty, empty
        )
    info = (
        pd.DataFrame(
            [(i.id, i.segment, i.risk) for i in project.item_info()], columns=["id", "segment", "risk"], dtype=object
        )
        .set_index("id")
        .loc[wide.index]
    )
    human = wide.to_numpy(dtype=object, copy=True)
    item_ids = [str(i) for i in wide.index]
    n = len(item_ids)
    judge = np.full(n, None, dtype=object)
    status = np.full(n, "missing", dtype=object)
    confidence = np.full(n, np.nan)
    if run is not None:
        verdicts = pd.DataFrame(
            project.verdict_rows(run.id), columns=["item_id", "status", "label", "confidence"], dtype=object
        ).set_index("item_id")
        v = verdicts.reindex(wide.index)
        present = v["status"].notna().to_numpy()
        status[present] = v["status"].to_numpy(dtype=object)[present]
        ok = status == "ok"
        judge[ok] = v["label"].to_numpy(dtype=object)[ok]
        conf = pd.to_numeric(v["confidence"], errors="coerce").to_numpy(dtype=float)
        confidence[ok] = conf[ok]
    return AlignedRatings(
        rubric=rubric,
        item_ids=item_ids,
        annotators=[str(c) for c in wide.columns],
        human=human,
        majority=human_majority(human, rubric.scale.values),
        judge=judge,
        status=status,
        confidence=confidence,
        segment=_none_for_missing(info["segment"].to_numpy(dtype=object)),
        risk=_none_for_missing(info["risk"].to_numpy(dtype=object)),
    )
