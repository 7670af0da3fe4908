"""What the admin page shows: progress of everyone, live agreement, the disagreement browser, flags.

Why in the library: the app holds no statistics of its own. Its agreement figures are the estimands of
``judgekit agree`` (:mod:`judgekit.agreement`, under the same criteria), so the numbers on the admin page are the
numbers the CLI, the report and the notebook print. The disagreement browser is built from the same coded ratings
(:class:`judgekit.agreement.AlignedRatings`): the people's label is the reference label's majority rule of blind
labels (:func:`judgekit.agreement.majority_codes`), never a second definition.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict

from judgekit.agreement import (
    AgreementOverview,
    AlignedRatings,
    HumanCeiling,
    TrustAssessment,
    TrustCriteria,
    agreement_overview,
    load_criteria,
    load_human_ratings,
    majority_codes,
    title_of,
)
from judgekit.agreement.judge_people import wilson
from judgekit.agreement.render import numeric_rows, unit_figures
from judgekit.labeling._annotators import list_annotators
from judgekit.labeling._queue import ensure_queue, labelled_rubric, open_item_count
from judgekit.labeling._work import Progress, flagged_skips, progress
from judgekit.models import HumanLabel, JudgeRun, Rubric
from judgekit.stats import StatResult
from judgekit.storage import Project


def progress_all(project: Project, rubric: Rubric) -> list[Progress]:
    """Progress of every annotator (registered or seen in labels), by name, on the version people label
    (:func:`labelled_rubric`: an aligned version's root)."""
    people = labelled_rubric(project, rubric)
    names = {a.name for a in list_annotators(project)}
    names |= set(project.labellers(people.id, people.version))
    ensure_queue(project, people)
    open_total = open_item_count(project, people)
    return [progress(project, n, people, ensure=False, open_total=open_total) for n in sorted(names)]


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
    """Latest revision of every annotator's blind label on every item, for one rubric version (its labels
    version: an aligned version's root)."""
    return project.labels(rubric.id, rubric.labels_version, provenance="blind")


def label_matrix(project: Project, rubric: Rubric) -> LabelMatrix:
    """The items × annotators matrix of current blind labels (items in project order), from the one reader of
    labels for analysis (:func:`judgekit.agreement.load_human_ratings`)."""
    humans = load_human_ratings(project, rubric)
    lut = np.asarray([*humans.levels, None], dtype=object)
    values = lut[np.where(humans.codes >= 0, humans.codes, len(humans.levels))]
    return LabelMatrix(humans.item_ids, humans.annotators, values)


AgreementSummary = AgreementOverview
"""The human ceiling and every judge run's figures against people: :class:`judgekit.agreement.AgreementOverview`."""


def agreement_summary(project: Project, rubric: Rubric, criteria: TrustCriteria | None = None) -> AgreementOverview:
    """Live agreement figures: the human ceiling and every judge run's figures against people, computed by
    :func:`judgekit.agreement.agreement_overview` under the project's criteria (``judgekit.toml`` /
    ``[tool.judgekit]``, found as ``judgekit agree`` finds them), with the same estimand names, n and bootstrap
    intervals as ``judgekit agree`` and the report."""
    return agreement_overview(project, rubric, criteria or load_criteria(rubric_id=rubric.id))


def judge_runs(project: Project, rubric: Rubric) -> list[JudgeRun]:
    """The judge runs of a rubric version that agreement figures are shown for: every run but bias probes (as in
    ``judgekit agree`` and the report), in creation order."""
    return [
        r
        for r in project.runs()
        if (r.config.rubric_id, r.config.rubric_version) == (rubric.id, rubric.version) and not r.meta.get("probe")
    ]


# -- flags ----------------------------------------------------------------------------------------------------


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
    """Every flagged item, newest first: blind labels whose current revision is flagged, and flagged skips (on the
    version people label, :func:`labelled_rubric`)."""
    people = labelled_rubric(project, rubric)
    out = [
        Flag(lab.item_id, lab.annotator, "label", lab.critique, lab.created_at.isoformat() if lab.created_at else "")
        for lab in project.labels(people.id, people.version, provenance="blind", flagged=True)
    ]
    out += [
        Flag(item_id, annotator, "skip", note, created_at)
        for item_id, annotator, note, created_at in flagged_skips(project, people)
    ]
    return sorted(out, key=lambda f: f.created_at, reverse=True)


# -- the disagreement browser ---------------------------------------------------------------------------------

STATUS_CODES = ("ok", "parse_error", "refused", "api_error", "missing")
"""Verdict statuses as the table codes them (index = code)."""
Kind = Literal["judge", "tie", "all"]
"""Which disagreements: a judge against the people's majority, people tied (no majority), or both."""
Sort = Literal["auto", "confident", "united", "split", "order"]
"""How entries are ordered (see :func:`browse`)."""
SORTS: dict[str, str] = {
    "auto": "Most confident judge first, then people most united against it",
    "confident": "Most confident judge first",
    "united": "People most united against the judge",
    "split": "People most split first",
    "order": "Item order",
}
"""The orders offered, with what they mean."""

_CONFIG = ConfigDict(frozen=True, ser_json_inf_nan="constants")


class DisagreementTable(BaseModel):
    """Every item where a judge's ok verdict differs from the people's majority, or where people tie, as columns
    (one entry per item, every judge beside the labels). Built once per snapshot; :func:`browse` filters, orders
    and pages it without touching the database.

    Shapes: ``n`` entries, ``k`` levels, ``r`` runs. ``counts`` (n, k) blind labels per level; ``majority`` (n,)
    the people's label (code, ``-1`` on a tie); ``judge`` (r, n) each run's ok label (``-1`` none), ``status``
    (r, n) index into :data:`STATUS_CODES`, ``confidence`` (r, n) (``None`` when not given).
    """

    model_config = _CONFIG
    levels: list[str]
    runs: list[str]
    item_ids: list[str]
    counts: list[list[int]]
    majority: list[int]
    judge: list[list[int]]
    status: list[list[int]]
    confidence: list[list[float | None]]
    strength: list[float]
    """Per entry: Wilson 95% lower bound of the share of people who chose the majority label (how strongly people
    agree against a judge that said something else; 0 on a tie)."""

    @property
    def n(self) -> int:
        return len(self.item_ids)

    @functools.cached_property
    def arrays(self) -> _Arrays:
        """The columns as arrays (computed on first use, kept with the table)."""
        return _Arrays(self)


def _wilson_low(k: NDArray[np.int64], n: NDArray[np.int64]) -> NDArray[np.float64]:
    """Wilson lower bounds of ``k/n`` per entry, from :func:`judgekit.agreement.judge_people.wilson` once per
    distinct ``(k, n)`` (there are few: n is the number of people on an item)."""
    if not len(k):
        return np.zeros(0, dtype=float)
    pairs, inverse = np.unique(np.stack([k, n], axis=1), axis=0, return_inverse=True)
    lows = np.array([_low(int(a), int(b)) for a, b in pairs], dtype=float)
    return lows[inverse.reshape(-1)]


def _low(k: int, n: int) -> float:
    interval = wilson("share", k, n, 0.95).interval if n > 0 else None
    return 0.0 if interval is None else interval.low


class _Arrays:
    """The table's columns as arrays (made once per table object: :func:`browse` runs on every click)."""

    def __init__(self, t: DisagreementTable) -> None:
        n, r, k = t.n, len(t.runs), len(t.levels)
        self.judge = np.asarray(t.judge, dtype=np.int64).reshape(r, n)
        self.majority = np.asarray(t.majority, dtype=np.int64).reshape(n)
        self.confidence = np.asarray(
            [[np.nan if x is None else x for x in row] for row in t.confidence], dtype=float
        ).reshape(r, n)
        self.counts = np.asarray(t.counts, dtype=np.int64).reshape(n, k)
        self.strength = np.asarray(t.strength, dtype=float).reshape(n)
        self.position = {item: i for i, item in enumerate(t.item_ids)}


def disagreement_table(base: AlignedRatings, runs: Sequence[AlignedRatings]) -> DisagreementTable:
    """The disagreement table of one rubric version: ``base`` is its aligned blind labels (any run or none: only the
    human codes are read), ``runs`` each judge run's aligned ratings over the same items (as
    :class:`judgekit.agreement.ProjectEvidence` gives them: one read of the labels, the same row order)."""
    k = base.k
    codes = base.human_codes
    n_items = base.n_items
    counts = np.zeros((n_items, k), dtype=np.int64)
    if n_items and codes.size:
        present = codes >= 0
        flat = (np.arange(n_items)[:, None] * k + codes)[present]
        counts = np.bincount(flat, minlength=n_items * k).reshape(n_items, k)
    majority = majority_codes(codes, k) if n_items else np.zeros(0, dtype=np.int64)
    n_people = counts.sum(axis=1)
    for r in runs:
        if r.item_ids != base.item_ids:
            raise ValueError(f"run {r.run_name!r}: its ratings are not aligned with the base items")
    judge = np.stack([r.judge_codes for r in runs]) if runs else np.zeros((0, n_items), dtype=np.int64)
    against = (judge >= 0) & (majority[None, :] >= 0) & (judge != majority[None, :])
    tie = (majority < 0) & (n_people >= 2)
    keep = np.flatnonzero(against.any(axis=0) | tie)
    status_index = {s: i for i, s in enumerate(STATUS_CODES)}
    status = np.array(
        [[status_index.get(str(s), status_index["missing"]) for s in r.status[keep]] for r in runs], dtype=np.int64
    ).reshape(len(runs), len(keep))
    conf = np.stack([r.confidence[keep] for r in runs]) if runs else np.zeros((0, len(keep)))
    maj = majority[keep]
    c_maj = np.where(maj >= 0, counts[keep, np.maximum(maj, 0)], 0)
    ids = np.asarray(base.item_ids, dtype=object)[keep]
    return DisagreementTable(
        levels=list(base.levels),
        runs=[str(r.run_name) for r in runs],
        item_ids=[str(x) for x in ids],
        counts=counts[keep].tolist(),
        majority=maj.tolist(),
        judge=judge[:, keep].tolist(),
        status=status.tolist(),
        confidence=[[None if not np.isfinite(x) else round(float(x), 6) for x in row] for row in conf],
        strength=np.round(_wilson_low(c_maj, n_people[keep]), 6).tolist(),
    )


class JudgeCell(BaseModel):
    """One judge's verdict on an entry of the browser."""

    model_config = _CONFIG
    run: str
    status: str
    label: str | None
    confidence: float | None
    against: bool
    """Its ok label differs from the people's majority."""


class LevelCount(BaseModel):
    """How many people chose a level."""

    model_config = _CONFIG
    level: str
    n: int


class DisagreementRow(BaseModel):
    """One entry of the disagreement browser: an item, its people's labels, every judge beside them."""

    model_config = _CONFIG
    rank: int
    """Position in the chosen order (1 = first)."""
    item_id: str
    kind: Literal["judge", "tie"]
    people: list[LevelCount]
    """Blind labels per level, most chosen first (levels nobody chose left out)."""
    n_people: int
    majority: str | None
    """The people's label (majority of blind labels); ``None`` when they tie."""
    strength: float
    """How strongly people agree on it: Wilson 95% lower bound of the majority's share."""
    judges: list[JudgeCell]
    confidence: float | None
    """The highest confidence among the judges against the people (the order's first key)."""
    snippet: str = ""
    gold: str | None = None
    """The adjudicated label, when an admin resolved the item."""


class DisagreementPage(BaseModel):
    """A page of the browser: the entries matching the filters, in order, from ``offset``."""

    model_config = _CONFIG
    total: int
    offset: int
    rows: list[DisagreementRow]


def browse(
    table: DisagreementTable,
    *,
    kind: Kind = "judge",
    run: str | None = None,
    status: Literal["open", "resolved", "all"] = "all",
    resolved: set[str] | frozenset[str] = frozenset(),
    sort: Sort = "auto",
    offset: int = 0,
    limit: int = 50,
) -> DisagreementPage:
    """Filter, order and page the table (no database access: what the browser does on every click).

    ``kind``: ``judge`` entries where a judge (``run``, or any) says something else than the people's majority,
    ``tie`` entries where people tie, ``all`` both. ``status``: ``open`` entries nobody adjudicated yet (item ids in
    ``resolved`` are adjudicated), ``resolved`` those adjudicated, ``all``.

    Orders (numeric keys, never text): ``confident`` the highest confidence of a judge against the people first
    (entries without confidence after those with), ``united`` the people most united against the judge first (the
    Wilson lower bound of the majority's share, so 10 of 10 comes before 1 of 1), ``split`` ties and narrow
    majorities first, ``order`` item order; ``auto`` is ``confident`` with ``united`` breaking ties (so it is
    ``united`` when no judge reports a confidence). Ties of every order fall back to more people first, then item
    order.
    """
    n = table.n
    if run is not None and run not in table.runs:
        raise ValueError(f"unknown judge run {run!r}: the table has {', '.join(table.runs) or 'none'}")
    a = table.arrays
    cols = [table.runs.index(run)] if run is not None else list(range(len(table.runs)))
    judge = a.judge[cols]
    majority = a.majority
    against = (judge >= 0) & (majority[None, :] >= 0) & (judge != majority[None, :])
    tie = majority < 0
    conf = np.where(against, a.confidence[cols], np.nan)
    best_conf = np.full(n, np.nan)
    has = ~np.isnan(conf).all(axis=0) if len(cols) else np.zeros(n, dtype=bool)
    if has.any():
        best_conf[has] = np.nanmax(conf[:, has], axis=0)
    is_judge = against.any(axis=0) if len(cols) else np.zeros(n, dtype=bool)
    keep = {"judge": is_judge, "tie": tie, "all": is_judge | tie}[kind]
    if status != "all":
        done = np.zeros(n, dtype=bool)
        done[[a.position[i] for i in resolved if i in a.position]] = True
        keep = keep & (done if status == "resolved" else ~done)
    idx = np.flatnonzero(keep)
    strength, counts = a.strength, a.counts
    n_people = counts.sum(axis=1)
    position = np.arange(n)
    conf_key = np.where(np.isnan(best_conf), -np.inf, best_conf)
    if sort == "order":
        keys: list[NDArray[np.generic]] = [position]
    elif sort == "split":
        keys = [position, -n_people, strength]
    elif sort == "united":
        keys = [position, -n_people, -strength]
    elif sort == "confident":
        keys = [position, -n_people, -conf_key]
    else:
        keys = [position, -n_people, -strength, -conf_key]
    order = idx[np.lexsort([k[idx] for k in keys])] if len(idx) else idx
    page = order[offset : offset + limit]
    rows = []
    for rank, i in enumerate(page, start=offset + 1):
        cells = [
            JudgeCell(
                run=table.runs[c],
                status=STATUS_CODES[table.status[c][i]],
                label=table.levels[table.judge[c][i]] if table.judge[c][i] >= 0 else None,
                confidence=table.confidence[c][i],
                against=bool(majority[i] >= 0 and 0 <= table.judge[c][i] != majority[i]),
            )
            for c in range(len(table.runs))
        ]
        people = sorted(
            (LevelCount(level=table.levels[j], n=int(counts[i, j])) for j in range(len(table.levels)) if counts[i, j]),
            key=lambda lc: -lc.n,
        )
        rows.append(
            DisagreementRow(
                rank=rank,
                item_id=table.item_ids[i],
                kind="tie" if tie[i] else "judge",
                people=people,
                n_people=int(n_people[i]),
                majority=table.levels[majority[i]] if majority[i] >= 0 else None,
                strength=float(strength[i]),
                judges=cells,
                confidence=None if np.isnan(best_conf[i]) else float(best_conf[i]),
            )
        )
    return DisagreementPage(total=len(idx), offset=offset, rows=rows)


# -- figures as the page lists them ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FigureRow:
    """One line of a figures table: an estimand's title, its figure (and its ``ok_only`` twin for judge figures
    measured on both bases), each a :class:`judgekit.stats.StatResult` with its name, interval and n."""

    title: str
    value: StatResult | None
    ok_only: StatResult | None = None


def ceiling_rows(ceiling: HumanCeiling) -> list[FigureRow]:
    """The human ceiling's figures: the pairwise kappa weighted by shared items, and alpha."""
    return [FigureRow(title_of(f.name), f) for f in (ceiling.kappa, ceiling.alpha)]


def judge_rows(a: TrustAssessment) -> list[FigureRow]:
    """A judge run's figures against people, in the order of ``judgekit agree``: kappa, accuracy and mean kappa
    against each annotator on both bases, the gap to the ceiling, failed verdicts, then what exists of alpha with
    the judge, the alternative annotator test, calibration and harmful confidence."""
    j = a.judge
    rows = [
        FigureRow(title_of("judge_kappa"), j.kappa.failures_as_wrong, j.kappa.ok_only),
        FigureRow(title_of("judge_accuracy"), j.accuracy.failures_as_wrong, j.accuracy.ok_only),
        FigureRow(title_of("judge_mean_kappa"), j.mean_kappa.failures_as_wrong, j.mean_kappa.ok_only),
        FigureRow(title_of("gap_to_ceiling"), j.gap.failures_as_wrong, j.gap.ok_only),
        FigureRow(title_of(j.failure_rate.name), j.failure_rate),
    ]
    if j.alpha_with_judge is not None:
        rows.append(FigureRow(title_of(j.alpha_with_judge.alpha.name), j.alpha_with_judge.alpha))
    if j.alt_test.available and j.alt_test.winning_rate is not None:
        rows.append(FigureRow(title_of(j.alt_test.winning_rate.name), j.alt_test.winning_rate))
    cal = a.calibration
    for fig in (cal.ece, cal.brier) if cal.available else ():
        if fig is not None:
            rows.append(FigureRow(title_of(fig.name), fig))
    if a.harmful.available and a.harmful.rate is not None:
        rows.append(FigureRow(title_of(a.harmful.rate.name), a.harmful.rate))
    return rows


def numeric_figure_rows(a: TrustAssessment, who: Literal["people", "judge"]) -> list[FigureRow]:
    """The numeric figures of the interval scales of a judge run's assessment, titled ``criterion: figure``: the
    people's among themselves (ICC in its design's form, MAE between annotators with pairs weighted by shared items)
    or the judge's (ICC(A,1), Lin, Pearson, Spearman, Kendall, MAE, mean bias with its Bland-Altman limits, MAE
    against each annotator and its gap to the people's), the rows of :func:`judgekit.agreement.render.numeric_rows`
    (what ``judgekit agree`` and the report show). Empty on a rubric without an interval scale."""
    return [FigureRow(f"{scope}: {title}" if scope else title, fig) for scope, title, fig in numeric_rows(a, who)]


@dataclass(frozen=True)
class CriterionFigures:
    """One rated criterion of a judge run (or its overall rule): its scale, the headline estimand on it (ICC on an
    interval scale, else kappa: :func:`judgekit.agreement.render.unit_figures`), the people's figure among
    themselves beside the judge's, and the criterion's own verdict."""

    criterion: str
    scale: str
    estimand: str
    people: StatResult | None
    judge: StatResult | None
    verdict: str


def criterion_figure_rows(a: TrustAssessment) -> list[CriterionFigures]:
    """A row per rated criterion (and the overall rule), as ``judgekit agree`` and ``check`` list them; empty for a
    rubric with one scale."""
    rows = []
    for part in a.parts:
        estimand, people, judge = unit_figures(part)
        rows.append(CriterionFigures(part.scope or "", part.scale, estimand, people, judge, part.verdict))
    return rows
