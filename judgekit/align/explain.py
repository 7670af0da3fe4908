"""Where and why a judge disagrees with people: failure modes, each with its share of the gap to the ceiling.

No LLM is involved: the disagreements (items with a reference label where the judge's verdict differs, a failed
verdict included) are grouped four ways,

* by **label pair** (what people said -> what the judge said, ``no verdict`` for a failed one),
* by **segment** and by **risk tier** (the disagreements inside each group),
* by the **content of the annotators' critiques**: every word (stop words left out) that at least
  ``min_items`` disagreement items' critiques use forms a group, and groups holding nearly the same items
  (Jaccard >= 0.8) are merged under their words,

and every group is scored by how much of the gap to the human ceiling it explains: the gap
(``gap_to_ceiling``, failures counted as wrong, :mod:`judgekit.agreement.judge_people`) is measured again with the
judge's verdict on the group's items replaced by the reference label, and the share is the gap closed divided by the
gap (the ``gap_share`` estimand). Groups overlap, so shares do not add up; a share above 1 means that fixing these
items alone would put the judge above a typical annotator. The largest failure modes are the groups with the largest
shares, each shown with example items (the clearest first: unanimous annotators, then those with critiques).

Used by ``judgekit explain``, the report (on the dev part of a split when there is one: explaining test
disagreements would invite tuning on them) and ``judgekit align`` (on the half of dev its candidates are built from).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from judgekit.agreement import (
    AlignedRatings,
    TrustCriteria,
    human_ceiling,
    load_aligned,
)
from judgekit.agreement.confidence import UNASSESSED
from judgekit.agreement.estimands import figure_name
from judgekit.agreement.judge_people import judge_mean_kappa_value, judge_vs_people
from judgekit.models import HumanLabel, Item, JudgeRun
from judgekit.stats import StatResult, UndefinedStatisticWarning
from judgekit.storage import Project

__all__ = [
    "FACETS",
    "DisagreementReport",
    "ExampleItem",
    "Facet",
    "FailureMode",
    "dev_scope",
    "disagreement_mask",
    "explain",
    "explain_run",
]

Facet = Literal["label_pair", "segment", "risk", "critique"]
FACETS: dict[Facet, str] = {
    "label_pair": "label pair (people -> judge)",
    "segment": "segment",
    "risk": "risk tier",
    "critique": "words in the annotators' critiques",
}
NO_VERDICT_LABEL = "no verdict"
NO_SEGMENT = "(none)"
_CONFIG = ConfigDict(frozen=True, ser_json_inf_nan="constants")
_CLIP = 280
_WORD = re.compile(r"[a-zà-ÿ][a-zà-ÿ'-]{2,}")
_STOP = frozenset(
    """the and for are but not you all any can had her was one our out has him his how its may new now own say she
    too use who why yes yet did get got let put see set way about above after again also because been before being
    below between both could does doing down during each even every from further have having here into itself just
    least less like made make many more most much must never only other over same should since some such than that
    their them then there these they this those though through under until very what when where which while whole
    will with within without would your yours response responses answer answers output outputs item items label
    judge people person annotator better worse good bad one two first second""".split(),  # noqa: SIM905
)


class ExampleItem(BaseModel):
    """One disagreement shown beside a failure mode (text clipped for reading)."""

    model_config = _CONFIG
    item_id: str
    segment: str | None
    risk: str | None
    reference: str | None
    judge: str
    """The judge's label, or ``no verdict``."""
    human: dict[str, str]
    input: str
    output: str | None = None
    output_a: str | None = None
    output_b: str | None = None
    rationale: str | None = None
    critiques: list[str] = Field(default_factory=list)


class FailureMode(BaseModel):
    """One group of disagreements and how much of the gap to the ceiling it explains."""

    model_config = _CONFIG
    facet: Facet
    key: str
    """``tie -> A``, a segment, a risk tier, or the critique words."""
    title: str
    n_disagreements: int
    n_items: int
    """Items of the group with a reference label (for a label pair: the items people gave that label)."""
    disagreement_rate: float
    gap_share: StatResult
    """``gap_share`` (n = the group's disagreements)."""
    item_ids: list[str]
    """Every disagreement of the group, in item order."""
    examples: list[ExampleItem] = Field(default_factory=list)


class DisagreementReport(BaseModel):
    """The failure modes of one judge run on a set of labelled items."""

    model_config = _CONFIG
    run: str
    rubric: str
    where: str
    """Which items, in words (``the dev part of split main@1``)."""
    n_items: int
    """Labelled items considered."""
    n_reference: int
    """Of them, items with a reference label."""
    n_disagreements: int
    ceiling: StatResult
    judge_mean_kappa: StatResult
    gap: StatResult
    """``gap_to_ceiling.failures_as_wrong`` on these items."""
    modes: list[FailureMode]
    """Every group of every facet, largest share first within each facet."""
    largest: list[FailureMode]
    """The largest failure modes over all facets (with example items)."""
    critiques_available: bool
    min_items: int = 3
    """Smallest group shown (label pairs: every one)."""
    note: str

    def by_facet(self, facet: Facet) -> list[FailureMode]:
        """The groups of one facet, largest share first."""
        return [m for m in self.modes if m.facet == facet]


def disagreement_mask(data: AlignedRatings) -> NDArray[np.bool_]:
    """Items with a reference label where the judge's strict code (a failed verdict as ``no verdict``) differs."""
    return data.has_reference & (data.judge_strict_codes != data.reference_codes)


def _fixed(data: AlignedRatings, rows: NDArray[np.bool_]) -> AlignedRatings:
    """``data`` with the judge's verdict on ``rows`` replaced by the reference label (an ok verdict)."""
    codes = np.where(rows, data.reference_codes, data.judge_codes)
    status = np.where(rows, "ok", data.status).astype(object)
    return replace(data, judge_codes=codes, status=status, _views={})


class _Gap:
    """The gap to the ceiling on a fixed set of items, and again with some of the judge's verdicts fixed."""

    def __init__(self, data: AlignedRatings, c: TrustCriteria) -> None:
        self.data = data
        self.c = c
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedStatisticWarning)
            self.ceiling = human_ceiling(data.human_codes, data.annotators, data.rubric, c)
            people = judge_vs_people(data, self.ceiling, c.model_copy(update={"require_alt_test": False}))
        self.mean_kappa = people.mean_kappa.failures_as_wrong
        self.gap = people.gap.failures_as_wrong

    def share(self, rows: NDArray[np.bool_]) -> float:
        if not np.isfinite(self.gap.value) or self.gap.value <= 0 or not rows.any():
            return float("nan")
        # gap = ceiling - mean kappa, the ceiling (people only) unchanged: the share is the mean kappa gained over
        # the gap; the counterfactual needs the point value only (no bootstrap per group)
        fixed = judge_mean_kappa_value(_fixed(self.data, rows), self.c)
        return float((fixed - self.mean_kappa.value) / self.gap.value)


def _terms(text: str) -> set[str]:
    out = set()
    for w in _WORD.findall(text.lower()):
        w = w.strip("'-")
        if len(w) > 4 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        if len(w) >= 3 and w not in _STOP:
            out.add(w)
    return out


def _item_terms(critiques: dict[str, list[str]]) -> dict[str, set[str]]:
    """Item id -> the words of its critiques."""
    out: dict[str, set[str]] = {}
    for item_id, texts in critiques.items():
        words: set[str] = set()
        for text in texts:
            words |= _terms(text)
        out[item_id] = words
    return out


def _critique_groups(
    dis_ids: list[str], terms: dict[str, set[str]], min_items: int, max_share: float = 0.6
) -> list[list[str]]:
    """Groups of words from the critiques of the disagreement items (see the module docstring): every word that at
    least ``min_items`` (and at most ``max_share`` of the) disagreement items use, words with nearly the same items
    merged; largest groups first."""
    by_term: dict[str, set[str]] = {}
    for i in dis_ids:
        for t in terms.get(i, ()):
            by_term.setdefault(t, set()).add(i)
    cap = max(min_items, max_share * len(dis_ids))
    found = sorted(
        ((t, s) for t, s in by_term.items() if min_items <= len(s) <= cap), key=lambda ts: (-len(ts[1]), ts[0])
    )
    groups: list[tuple[list[str], set[str]]] = []
    for t, s in found:
        for words, members in groups:
            if len(s & members) / len(s | members) >= 0.8:
                words.append(t)
                members |= s
                break
        else:
            groups.append(([t], set(s)))
    return [words for words, _ in groups[:12]]


def _clip(text: str | None) -> str | None:
    if text is None or len(text) <= _CLIP:
        return text
    return text[:_CLIP].rstrip() + " …"


def explain(
    data: AlignedRatings,
    *,
    run: JudgeRun | None = None,
    criteria: TrustCriteria | None = None,
    where: str = "all labelled items",
    items: dict[str, Item] | None = None,
    labels: Sequence[HumanLabel] = (),
    critiques: dict[str, list[str]] | None = None,
    rationales: dict[str, str] | None = None,
    min_items: int = 3,
    max_largest: int = 5,
    examples_per_mode: int = 3,
) -> DisagreementReport:
    """The failure modes of the judge in ``data`` (see the module docstring).

    ``items`` (id -> item), ``labels`` (the annotators' labels, for their critiques; or ``critiques``, item id ->
    the critiques, already read) and ``rationales`` (item id -> the judge's rationale) fill the example items;
    without them the examples show ids and labels only.
    """
    c = criteria or TrustCriteria()
    gap = _Gap(data, c)
    dis = disagreement_mask(data)
    ids = np.asarray(data.item_ids, dtype=object)
    ref, judge = data.reference_labels, data.judge
    judge_text = np.array([NO_VERDICT_LABEL if j is None else str(j) for j in judge], dtype=object)
    if critiques is None:
        critiques = _critiques(labels)
    modes: list[FailureMode] = []

    def add(facet: Facet, key: str, title: str, rows: NDArray[np.bool_], group: NDArray[np.bool_]) -> None:
        n_dis = int(rows.sum())
        if n_dis < (1 if facet == "label_pair" else min_items):
            return
        n_group = int((group & data.has_reference).sum())
        share = gap.share(rows)
        modes.append(
            FailureMode(
                facet=facet,
                key=key,
                title=title,
                n_disagreements=n_dis,
                n_items=n_group,
                disagreement_rate=n_dis / n_group if n_group else float("nan"),
                gap_share=StatResult(name=figure_name("gap_share"), value=share, n_items=n_dis),
                item_ids=[str(i) for i in ids[rows]],
            )
        )

    pairs: dict[tuple[str, str], NDArray[np.bool_]] = {}
    for i in np.flatnonzero(dis):
        pairs.setdefault((str(ref[i]), str(judge_text[i])), np.zeros(data.n_items, dtype=bool))[i] = True
    for (r, j), rows in pairs.items():
        add("label_pair", f"{r} -> {j}", f"people say {r}, the judge says {j}", rows, ref == r)
    for facet, values, missing in (("segment", data.segment, NO_SEGMENT), ("risk", data.risk, UNASSESSED)):
        keys = np.array([missing if v is None else str(v) for v in values], dtype=object)
        present = sorted(set(keys.tolist()))
        if len(present) < 2:
            continue  # one group holding every item says nothing the headline does not
        for key in present:
            group = keys == key
            title = f"{FACETS[facet]} {key}"  # type: ignore[index]
            add(facet, key, title, dis & group, group)  # type: ignore[arg-type]
    dis_ids = [str(i) for i in ids[dis]]
    terms = _item_terms(critiques)
    order = _Order(data, critiques)
    for words in _critique_groups(dis_ids, terms, min_items):
        wanted = set(words)
        group = np.zeros(data.n_items, dtype=bool)
        group[[order.row[i] for i, t in terms.items() if t & wanted and i in order.row]] = True
        key = ", ".join(words[:3])
        add("critique", key, f"critiques mention {' / '.join(words[:3])}", dis & group, group)
    facet_order = {f: n for n, f in enumerate(FACETS)}
    modes.sort(
        key=lambda m: (facet_order[m.facet], -np.nan_to_num(m.gap_share.value, nan=-1.0), -m.n_disagreements, m.key)
    )
    largest = sorted(modes, key=lambda m: (-np.nan_to_num(m.gap_share.value, nan=-1.0), -m.n_disagreements, m.key))
    largest = [
        _with_examples(m, data, items, critiques, rationales or {}, order.clearest(m.item_ids, examples_per_mode))
        for m in largest[:max_largest]
    ]
    return DisagreementReport(
        run=run.name if run is not None else data.run_name or "",
        rubric=data.rubric.key,
        where=where,
        n_items=data.n_items,
        n_reference=int(data.has_reference.sum()),
        n_disagreements=int(dis.sum()),
        ceiling=gap.ceiling.kappa,
        judge_mean_kappa=gap.mean_kappa,
        gap=gap.gap,
        modes=modes,
        largest=largest,
        critiques_available=any(critiques.get(i) for i in dis_ids),
        min_items=min_items,
        note=(
            "share of the gap: how much of the gap to the human ceiling closes if the judge agreed with the "
            "reference label on the group's items (failures counted as wrong); groups overlap"
        ),
    )


class _Order:
    """The order in which a group's disagreements are shown as examples, the clearest first: unanimous annotators
    (at least two), then items with critiques, then item order. Ranked once for all the groups of one ``data``."""

    def __init__(self, data: AlignedRatings, critiques: dict[str, list[str]]) -> None:
        self.row = {str(i): n for n, i in enumerate(data.item_ids)}
        codes = data.human_codes
        given = codes >= 0
        top = np.where(given, codes, -1).max(axis=1) if codes.size else np.zeros(data.n_items)
        low = np.where(given, codes, np.iinfo(np.int64).max).min(axis=1) if codes.size else np.zeros(data.n_items)
        unanimous = (given.sum(axis=1) >= 2) & (top == low)
        critiqued = np.zeros(data.n_items, dtype=bool)
        critiqued[[self.row[i] for i, texts in critiques.items() if texts and i in self.row]] = True
        self.rank = np.empty(data.n_items, dtype=np.int64)
        self.rank[np.lexsort((np.arange(data.n_items), ~critiqued, ~unanimous))] = np.arange(data.n_items)

    def clearest(self, item_ids: Sequence[str], k: int) -> list[str]:
        """The ``k`` clearest of ``item_ids``, clearest first."""
        if not item_ids:
            return []
        ranks = self.rank[[self.row[i] for i in item_ids]]
        best = np.argsort(ranks, kind="stable")[:k]
        return [item_ids[int(j)] for j in best]


def _with_examples(
    mode: FailureMode,
    data: AlignedRatings,
    items: dict[str, Item] | None,
    critiques: dict[str, list[str]],
    rationales: dict[str, str],
    picks: Sequence[str],
) -> FailureMode:
    """``mode`` with ``picks`` (item ids) as its example items, their text from ``items`` when given."""
    wanted = set(picks)
    row = {item_id: n for n, item_id in enumerate(data.item_ids) if item_id in wanted}
    human, ref, judge = data.human, data.reference_labels, data.judge
    out = []
    for item_id in picks:
        i = row[item_id]
        it = items.get(item_id) if items else None
        out.append(
            ExampleItem(
                item_id=item_id,
                segment=None if data.segment[i] is None else str(data.segment[i]),
                risk=None if data.risk[i] is None else str(data.risk[i]),
                reference=None if ref[i] is None else str(ref[i]),
                judge=NO_VERDICT_LABEL if judge[i] is None else str(judge[i]),
                human={a: str(v) for a, v in zip(data.annotators, human[i].tolist(), strict=True) if v is not None},
                input=_clip(it.input if it is not None else "") or "",
                output=_clip(it.output) if it is not None else None,
                output_a=_clip(it.output_a) if it is not None else None,
                output_b=_clip(it.output_b) if it is not None else None,
                rationale=_clip(rationales.get(item_id)),
                critiques=[_clip(x) or "" for x in critiques.get(item_id, [])][:3],
            )
        )
    return mode.model_copy(update={"examples": out})


def explain_run(
    project: Project,
    run: str | JudgeRun,
    *,
    item_ids: Sequence[str] | None = None,
    where: str | None = None,
    criteria: TrustCriteria | None = None,
    min_items: int = 3,
    max_largest: int = 5,
    data: AlignedRatings | None = None,
) -> DisagreementReport:
    """:func:`explain` for a run of the project, on ``item_ids`` (default: every labelled item), with the items'
    text, the annotators' critiques and the judge's rationales on the example items.

    ``data``: the run's ratings on every labelled item, when the caller has already loaded them (the report
    has, to assess the run) with the criteria's reference; read again otherwise."""
    from judgekit.agreement.data import verdict_rationales

    r = run if isinstance(run, JudgeRun) else project.run(run)
    c = criteria or TrustCriteria()
    rubric = project.rubric(r.config.rubric_id, r.config.rubric_version)
    if data is None:
        data = load_aligned(project, r, rubric, reference=c.reference)
    if item_ids is not None:
        data = data.subset(list(item_ids))
    critiques = project.latest_critiques(rubric.id, rubric.labels_version, provenance="blind")
    report = explain(
        data,
        run=r,
        criteria=c,
        where=where or ("the chosen items" if item_ids is not None else "all labelled items"),
        critiques=critiques,
        min_items=min_items,
        max_largest=max_largest,
    )
    shown = sorted({e.item_id for m in report.largest for e in m.examples})
    if not shown:
        return report
    items = {it.id: it for it in project.items(shown)}
    rationales = verdict_rationales(project, r, shown)
    # fill the example items' text (only the shown items are read)
    largest = [
        _with_examples(m, data, items, critiques, rationales, [e.item_id for e in m.examples]) for m in report.largest
    ]
    return report.model_copy(update={"largest": largest})


def dev_scope(
    project: Project, rubric_labels_key: str, split: str | None = None, *, everything: bool = False
) -> tuple[list[str] | None, str]:
    """``(item ids, where in words)`` a run is explained on: the dev part of ``split`` (or, without one, of the
    newest split of the same labels, if any), or every labelled item (``everything``, or no split exists).

    Why dev by default: reading the test items' disagreements and then fixing the rubric is tuning on test."""
    from judgekit.calibration import dev_item_ids, get_split, list_splits

    if everything:
        return None, "all labelled items"
    if split is not None:
        info = get_split(project, split)
    else:
        matching = [s for s in list_splits(project) if s.rubric_key == rubric_labels_key]
        if not matching:
            return None, "all labelled items (no split: create one with 'judgekit split')"
        info = max(matching, key=lambda s: s.created_at)
    return dev_item_ids(project, info), f"the dev part of split {info.key}"


def _critiques(labels: Sequence[HumanLabel]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for lab in labels:
        if lab.critique and lab.critique.strip():
            out.setdefault(lab.item_id, []).append(lab.critique.strip())
    return out
