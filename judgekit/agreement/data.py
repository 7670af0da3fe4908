"""Gathering the evidence: one scale's human labels and one judge's verdicts, aligned item by item, coded once.

Why a separate step: the statistics are pure functions of integer codes; this module is the one place that decides
which items count (every item with a human label of the chosen provenance), who the annotators are, how a failed
verdict enters the comparison, and it turns labels into codes exactly once (the kernels of :mod:`judgekit.stats`
then never re-validate or re-code). Everything downstream (the estimands, the report, calibration, the admin page)
reads an :class:`AlignedRatings`.

A rubric with rated criteria is read one criterion at a time: ``rubric`` is then a view
(:meth:`judgekit.models.Rubric.view`) and its :attr:`~judgekit.models.Rubric.scope` names the criterion whose answers
are read (``overall``: the overall label). An **interval** scale (a 1-10 score) is coded on its grid of steps
(:func:`coding_rubric`: an ordinal stand-in, so kappa, the ceiling and every categorical figure run unchanged, with
quadratic weights = squared distance on the grid), and the raw scores are kept beside the codes (``scores``,
``judge_scores``) for the numeric figures (ICC, correlations, MAE, bias: :mod:`judgekit.agreement.numeric`).

Codes: ``0 .. k-1`` are the rubric's declared levels in order, ``-1`` is "no label" (or, for the judge, no ``ok``
verdict), and in the judge's *strict* codes a failed verdict is ``k`` (:data:`NO_VERDICT`), a stand-in that agrees
with nobody.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from judgekit.agreement.reference import ReferenceRule, ReferenceSummary, reference_labels
from judgekit.models import OVERALL, JudgeRun, Level, Provenance, Rubric, Scale
from judgekit.models.rubric import format_number
from judgekit.storage import Project

__all__ = [
    "LATEST_ADJUDICATION",
    "NO_VERDICT",
    "AlignedRatings",
    "HumanRatings",
    "coding_rubric",
    "interval_grid",
    "load_adjudications",
    "load_aligned",
    "load_human_ratings",
    "reference_by_item",
    "strict_weights",
    "verdict_rationales",
    "verdict_rows",
    "verdict_statuses",
]

NO_VERDICT = "<no verdict>"
"""Stand-in label for a verdict that is not ``ok`` (parse error, refusal, API error, missing) when failures are
counted as wrong. It is never a level of a rubric, so it never agrees with a person."""

IntArray = NDArray[np.int64]
ObjArray = NDArray[np.object_]
FloatArray = NDArray[np.float64]

verdict_statuses = ("ok", "parse_error", "refused", "api_error", "missing")
"""Every status a labelled item's verdict can have (``missing``: the run has no verdict for the item)."""


def strict_weights(rubric: Rubric) -> FloatArray:
    """Agreement weights over the levels plus :data:`NO_VERDICT` (code ``k``), which earns no credit against any
    level: identity for binary and nominal scales, quadratic (Cohen 1968) for ordinal ones."""
    k = len(rubric.scale.values)
    w = np.zeros((k + 1, k + 1))
    if rubric.scale.kind == "ordinal":
        idx = np.arange(k, dtype=float)
        w[:k, :k] = 1.0 - (idx[:, None] - idx[None, :]) ** 2 / max(k - 1, 1) ** 2
    else:
        w[:k, :k] = np.eye(k)
    w[k, k] = 1.0
    return w


MAX_GRID = 101
"""Grid points an interval scale without a ``step`` (or with a very fine one) is coded on."""


def interval_grid(scale: Scale) -> list[float]:
    """The points an interval scale's scores are coded on: ``min, min + step, ..., max`` (at most
    :data:`MAX_GRID`; without a step, or with a finer one, ``MAX_GRID`` equal steps)."""
    assert scale.min is not None and scale.max is not None
    lo, hi = scale.min, scale.max
    n = MAX_GRID - 1
    if scale.step is not None and round((hi - lo) / scale.step) <= n:
        n = round((hi - lo) / scale.step)
    return [round(lo + (hi - lo) * i / n, 12) for i in range(n + 1)]


def coding_rubric(rubric: Rubric) -> Rubric:
    """``rubric`` itself, or for an interval scale the same rubric on an ordinal stand-in scale whose levels are the
    grid of :func:`interval_grid` (their values are the numbers: ordinal scores = the scores)."""
    scale = rubric.interval_scale
    if scale is None or not rubric.scale.is_interval:  # categorical, or already the stand-in
        return rubric
    levels = [Level(value=v, name=v, definition=f"score {v}") for v in map(format_number, interval_grid(scale))]
    out = rubric.model_copy(update={"scale_": Scale(kind="ordinal", levels=levels)})
    out._scope = rubric.scope
    out._numeric = scale
    return out


def _snap(values: FloatArray, grid: list[float]) -> IntArray:
    """The grid code nearest to each score (``-1`` for NaN)."""
    g = np.asarray(grid, dtype=float)
    lo, width = g[0], (g[-1] - g[0]) / (len(g) - 1)
    codes = np.rint((values - lo) / width)
    out = np.where(np.isnan(codes), -1, np.clip(np.nan_to_num(codes, nan=0.0), 0, len(g) - 1))
    return out.astype(np.int64)


def _none_for_missing(values: ObjArray) -> ObjArray:
    """``None`` wherever a value is missing (NaN from pandas, SQL NULL), so "no segment" is one value."""
    out = np.asarray(values, dtype=object).copy()
    out[pd.isna(out)] = None
    return out


@dataclass(frozen=True)
class HumanRatings:
    """One rubric version's latest human labels of one provenance: items (in project order) × annotators, coded.

    ``codes[i, a]`` is the position of annotator ``a``'s label on item ``i`` in the rubric's levels, ``-1`` where
    ``a`` did not label ``i``. Only items with at least one label of the provenance are rows.
    """

    rubric: Rubric
    provenance: Provenance
    item_ids: list[str]
    annotators: list[str]
    codes: IntArray
    segment: ObjArray
    risk: ObjArray
    scores: FloatArray | None = None
    """Interval scales: the raw scores, items × annotators (NaN where missing); None otherwise."""

    @property
    def levels(self) -> list[str]:
        """The rubric's declared levels."""
        return self.rubric.scale.values

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @cached_property
    def index(self) -> pd.Index:
        """Item id -> row position."""
        return pd.Index(np.array(self.item_ids, dtype=object), dtype=object)


def _columns(rows: Sequence[tuple[object, ...]], width: int) -> ObjArray:
    """Driver rows as one (n, width) object array: one C-level copy (a quarter of the time of transposing with
    ``zip`` at 300,000 rows)."""
    out = np.empty((len(rows), width), dtype=object)
    if rows:
        out[:] = rows
    return out


def verdict_rows(project: Project, run: JudgeRun, criterion: str | None = None) -> pd.DataFrame:
    """``item_id, status, label, confidence`` of every verdict of a run (storage's bulk read of verdicts), as
    object columns (no string-dtype conversion: the ids are only looked up); with ``criterion``, that rated
    criterion's answers (``overall``: the verdicts' overall label)."""
    table = _columns(project.verdict_rows(run.id, criterion=criterion), 4)
    return pd.DataFrame({c: table[:, i] for i, c in enumerate(["item_id", "status", "label", "confidence"])})


def verdict_rationales(project: Project, run: JudgeRun, item_ids: list[str]) -> dict[str, str]:
    """The judge's rationale on each of a few items (what the report shows beside an example item): only those
    verdicts are read, never the whole run."""
    if not item_ids:
        return {}
    return {v.item_id: v.rationale for v in project.verdicts(run, item_ids=item_ids) if v.rationale is not None}


def load_human_ratings(project: Project, rubric: Rubric, provenance: Provenance = "blind") -> HumanRatings:
    """The latest label of every annotator on every item for ``rubric``, of one provenance (``blind`` by
    default: the basis of every human figure), coded once.

    Corrections of a judge's score and adjudicated gold labels are read only when asked for by name; they are
    never mixed with blind labels. A view of a rubric with rated criteria reads its criterion's answers; an
    interval scale is coded on its grid (see the module docstring) and keeps the raw scores. A version derived
    from another with the same scale (``rubric.lineage``) reads the labels of its family's root
    (``Rubric.labels_version``).
    """
    if not project.has_labels(rubric.id, rubric.labels_version, provenance=provenance):
        return _coded(project, rubric, provenance, [])
    scope = rubric.scope
    if scope is None or scope == OVERALL:
        rows = project.latest_label_rows(rubric.id, rubric.labels_version, provenance=provenance)
    else:  # one rated criterion: its answer of each latest label
        rows = project.current_label_rows(rubric.id, rubric.labels_version, provenance=provenance, criterion=scope)
    return _coded(project, rubric, provenance, rows)


LATEST_ADJUDICATION = "latest adjudication"
"""The one column of :func:`load_adjudications`."""


def load_adjudications(project: Project, rubric: Rubric) -> HumanRatings:
    """The gold label of every adjudicated item: its most recently submitted ``adjudicated`` label, whoever the
    admin (a later resolution supersedes an earlier one, also another admin's; no plurality, so no ties), as a
    one-column :class:`HumanRatings` (column :data:`LATEST_ADJUDICATION`). An adjudication resolves an item's
    (overall) label: a view of one rated criterion has none."""
    if not project.has_labels(rubric.id, rubric.labels_version, provenance="adjudicated") or rubric.scope not in (
        None,
        OVERALL,
    ):
        return _coded(project, rubric, "adjudicated", [])
    rows = [
        (item_id, LATEST_ADJUDICATION, label)
        for item_id, label in project.latest_adjudications(rubric.id, rubric.labels_version)
    ]
    return _coded(project, rubric, "adjudicated", rows)


def _coded(
    project: Project, rubric: Rubric, provenance: Provenance, rows: Sequence[tuple[object, ...]]
) -> HumanRatings:
    """``(item_id, annotator, label, ...)`` rows as a coded :class:`HumanRatings` (items in project order; an
    interval scale coded on its grid, the raw scores kept)."""
    interval = rubric.interval_scale
    coded = coding_rubric(rubric)
    if not rows:
        empty_obj = np.empty(0, dtype=object)
        return HumanRatings(
            coded,
            provenance,
            [],
            [],
            np.empty((0, 0), dtype=np.int64),
            empty_obj,
            empty_obj,
            np.empty((0, 0)) if interval is not None else None,
        )
    table = _columns(rows, len(rows[0]))
    item_col, ann_col, label_col = table[:, 0], table[:, 1], table[:, 2]
    item_pos, items = pd.factorize(item_col)
    ann_pos, annotators = pd.factorize(ann_col, sort=True)
    levels = coded.scale.values
    raw: FloatArray | None = None
    if interval is not None:
        raw = np.asarray([float(x) for x in label_col], dtype=float)
        label_code = _snap(raw, interval_grid(interval))
    else:
        label_code = pd.Index(levels, dtype=object).get_indexer(pd.Index(label_col, dtype=object))
    if (label_code < 0).any():  # storage validates labels against the frozen rubric version: a broken database
        bad = label_col[int(np.flatnonzero(label_code < 0)[0])]
        raise ValueError(f"stored label {bad!r} is not a level of rubric {rubric.key} ({', '.join(levels)})")
    facets = _columns(project.item_facets(), 3)
    ids, segments, risks = facets[:, 0], facets[:, 1], facets[:, 2]
    where = pd.Index(ids, dtype=object).get_indexer(pd.Index(items, dtype=object))  # ids are in insertion order
    order = np.argsort(where, kind="stable")
    row_of = np.empty(len(items), dtype=np.int64)
    row_of[order] = np.arange(len(items))
    codes = np.full((len(items), len(annotators)), -1, dtype=np.int64)
    codes[row_of[item_pos], ann_pos] = label_code
    picked = where[order]
    segment, risk = segments[picked], risks[picked]
    scores: FloatArray | None = None
    if raw is not None:
        scores = np.full(codes.shape, np.nan)
        scores[row_of[item_pos], ann_pos] = raw
    return HumanRatings(
        rubric=coded,
        provenance=provenance,
        item_ids=ids[picked].tolist(),
        annotators=[str(a) for a in annotators],
        codes=codes,
        segment=_none_for_missing(segment),
        risk=_none_for_missing(risk),
        scores=scores,
    )


@dataclass(frozen=True)
class AlignedRatings:
    """One scale's human labels and one judge's verdicts on the items people labelled, row-aligned and coded.

    Every array has one row per item of ``item_ids``. ``human_codes`` is items × annotators (``-1`` no label),
    ``reference_codes`` the reference label (``-1`` none: a tie, or no adjudicated label), ``judge_codes`` the
    judge's label where its verdict is ``ok`` (``-1`` otherwise), ``status`` the verdict status (``missing`` when
    the run has none for a labelled item: a judge that skips hard items must not look better for it).
    """

    rubric: Rubric
    item_ids: list[str]
    annotators: list[str]
    human_codes: IntArray
    reference_codes: IntArray
    reference: ReferenceSummary
    judge_codes: IntArray
    status: ObjArray
    confidence: FloatArray
    segment: ObjArray
    risk: ObjArray
    run_name: str | None = None
    provenance: Provenance = "blind"
    human_scores: FloatArray | None = None
    """Interval scales: the people's raw scores, items × annotators (NaN missing); None otherwise."""
    judge_scores: FloatArray | None = None
    """Interval scales: the judge's raw score where its verdict is ok (NaN otherwise); None otherwise."""
    _views: dict[str, ObjArray] = field(default_factory=dict, compare=False, repr=False)

    # -- shape -------------------------------------------------------------------------------------------------
    @property
    def levels(self) -> list[str]:
        """The rubric's declared levels."""
        return self.rubric.scale.values

    @property
    def k(self) -> int:
        """Number of levels; also the strict code of :data:`NO_VERDICT`."""
        return len(self.rubric.scale.values)

    @property
    def strict_levels(self) -> list[str]:
        """The levels plus :data:`NO_VERDICT` (the level set of strict judge codes)."""
        return [*self.levels, NO_VERDICT]

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    # -- masks and derived codes -------------------------------------------------------------------------------
    @property
    def ok(self) -> NDArray[np.bool_]:
        """Items whose verdict is ``ok``."""
        return self.judge_codes >= 0

    @property
    def has_reference(self) -> NDArray[np.bool_]:
        """Items with a reference label."""
        return self.reference_codes >= 0

    @property
    def judge_strict_codes(self) -> IntArray:
        """Judge codes with every failed verdict as ``k`` (:data:`NO_VERDICT`)."""
        return np.where(self.judge_codes >= 0, self.judge_codes, self.k)

    @property
    def correct(self) -> NDArray[np.bool_]:
        """Items where the judge's ok verdict equals the reference label (False without either)."""
        return self.has_reference & (self.judge_codes == self.reference_codes)

    @property
    def labels_per_item(self) -> IntArray:
        """How many annotators labelled each item."""
        return (self.human_codes >= 0).sum(axis=1) if self.n_items else np.zeros(0, dtype=np.int64)

    # -- label views (for display only; the statistics use the codes) ------------------------------------------
    def _view(self, name: str, codes: IntArray, levels: list[str]) -> ObjArray:
        if name not in self._views:
            lut = np.asarray([*levels, None], dtype=object)
            self._views[name] = lut[np.where(codes >= 0, codes, len(levels))]
        return self._views[name]

    @property
    def human(self) -> ObjArray:
        """Human labels as strings, items × annotators, ``None`` where missing."""
        return self._view("human", self.human_codes, self.levels)

    @property
    def reference_labels(self) -> ObjArray:
        """The reference label per item, ``None`` where there is none."""
        return self._view("reference", self.reference_codes, self.levels)

    @property
    def judge(self) -> ObjArray:
        """The judge's label where its verdict is ok, else ``None``."""
        return self._view("judge", self.judge_codes, self.levels)

    def take(self, mask: NDArray[np.bool_]) -> AlignedRatings:
        """The rows where ``mask`` holds (order kept); the reference summary is recounted on them."""
        ref = self.reference_codes[mask]
        if "ids" not in self._views:
            self._views["ids"] = np.asarray(self.item_ids, dtype=object)
        return replace(
            self,
            item_ids=self._views["ids"][mask].tolist(),
            human_codes=self.human_codes[mask],
            reference_codes=ref,
            reference=self.reference.recount(self.human_codes[mask], ref),
            judge_codes=self.judge_codes[mask],
            status=self.status[mask],
            confidence=self.confidence[mask],
            segment=self.segment[mask],
            risk=self.risk[mask],
            human_scores=None if self.human_scores is None else self.human_scores[mask],
            judge_scores=None if self.judge_scores is None else self.judge_scores[mask],
            _views={},
        )

    def subset(self, keep_ids: set[str] | list[str]) -> AlignedRatings:
        """The rows whose item id is in ``keep_ids`` (order kept)."""
        keep = set(keep_ids)
        return self.take(np.array([i in keep for i in self.item_ids], dtype=bool))


def load_aligned(
    project: Project,
    run: JudgeRun | None,
    rubric: Rubric,
    *,
    reference: ReferenceRule = "majority",
    humans: HumanRatings | None = None,
) -> AlignedRatings:
    """Align the latest blind human labels for ``rubric`` with the verdicts of ``run`` (or no judge).

    Items count when at least one person labelled them; a labelled item the judge has no verdict for gets status
    ``missing``. ``reference`` chooses the reference label (see :mod:`judgekit.agreement.reference`); pass
    ``humans`` (from :func:`load_human_ratings`) to share one read of the labels between several runs.
    """
    h = humans if humans is not None else load_human_ratings(project, rubric)
    adjudicated = load_adjudications(project, rubric) if reference == "adjudicated" else None
    ref_codes, summary = reference_labels(h, reference, adjudicated=adjudicated)
    n = h.n_items
    interval = rubric.interval_scale
    judge = np.full(n, -1, dtype=np.int64)
    judge_scores = np.full(n, np.nan) if interval is not None else None
    status = np.full(n, "missing", dtype=object)
    confidence = np.full(n, np.nan)
    if run is not None and n:
        v = verdict_rows(project, run, rubric.scope)
        pos = h.index.get_indexer(pd.Index(v["item_id"], dtype=object))
        hit = pos >= 0
        rows = pos[hit]
        status[rows] = v["status"].to_numpy(dtype=object)[hit]
        if interval is not None:  # a judge's score may fall between steps: its code is the nearest step
            score = pd.to_numeric(v["label"], errors="coerce").to_numpy(dtype=float)[hit]
            codes = _snap(score, interval_grid(interval))
        else:
            codes = pd.Index(h.levels, dtype=object).get_indexer(pd.Index(v["label"], dtype=object))[hit]
        is_ok = (v["status"].to_numpy(dtype=object)[hit] == "ok") & (codes >= 0)
        judge[rows[is_ok]] = codes[is_ok]
        if judge_scores is not None:
            judge_scores[rows[is_ok]] = score[is_ok]
        conf = pd.to_numeric(v["confidence"], errors="coerce").to_numpy(dtype=float)[hit]
        confidence[rows[is_ok]] = conf[is_ok]
    return AlignedRatings(
        human_scores=h.scores,
        judge_scores=judge_scores,
        rubric=h.rubric,
        item_ids=h.item_ids,
        annotators=h.annotators,
        human_codes=h.codes,
        reference_codes=ref_codes,
        reference=summary,
        judge_codes=judge,
        status=status,
        confidence=confidence,
        segment=h.segment,
        risk=h.risk,
        run_name=None if run is None else run.name,
        provenance=h.provenance,
    )


def reference_by_item(project: Project, rubric: Rubric, reference: ReferenceRule = "majority") -> pd.Series:
    """The reference label of every labelled item (``None`` where there is none: a tie, or not adjudicated),
    indexed by item id in project order: what splits and pass-rate estimates stratify and score with."""
    data = load_aligned(project, None, rubric, reference=reference)
    return pd.Series(
        data.reference_labels, index=pd.Index(data.item_ids, name="item_id"), name="reference", dtype=object
    )
