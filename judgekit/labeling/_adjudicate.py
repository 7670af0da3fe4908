"""Adjudication: an admin resolves a disagreement into a gold label, with a note saying why.

Why a label of its own kind: a gold label is made by someone who has seen the people's labels, their critiques
and every judge's verdict, so it is not one more independent opinion. It is stored as a label with provenance
``adjudicated`` (:class:`judgekit.models.HumanLabel`), the admin as its author and the note as its critique, and is
never counted among blind labels: not in the human ceiling, not in the queue's counts, not in the admin's own
progress. It serves as the reference label only where a project asks for it (``reference = "adjudicated"`` in
``judgekit.toml``; :mod:`judgekit.agreement.reference`). Labels are append-only, so a second resolution of the same
item by the same admin is a new revision and every earlier one stays on record.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from judgekit.errors import DatabaseBusyError, UserError
from judgekit.labeling._admin import judge_runs
from judgekit.labeling._annotators import get_annotator
from judgekit.labeling._desk import Outcome, parse_outbox
from judgekit.labeling._render import Pane, item_panes
from judgekit.labeling._sessions import SessionEnded, check_session
from judgekit.models import HumanLabel, Rubric, StrictModel
from judgekit.storage import Project

NOTE_MAX = 20_000


def adjudicate(
    project: Project,
    admin: str,
    rubric: Rubric,
    item_id: str,
    label: str,
    note: str,
    *,
    request_id: str | None = None,
) -> HumanLabel:
    """Store ``admin``'s gold label for an item, with ``note`` (required: why this label), in one transaction.

    ``label`` is a level value in stored terms (for pairwise items ``A`` is ``output_a``). Idempotent per
    ``request_id``. Raises :class:`UserError` when ``admin`` is not an active admin, the item is unknown, the label
    is not a level or the note is empty.
    """
    who = get_annotator(project, admin)
    if who is None or not who.is_admin or not who.active:
        raise UserError(f"only an active admin can adjudicate ({admin!r} is not one)")
    if project.get_item(item_id) is None:
        raise UserError(f"unknown item {item_id!r}")
    try:
        rubric.check_label(label)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    text = (note or "").strip()
    if not text:
        raise UserError("a note is required with a gold label: say briefly why it is the right one")
    gold = HumanLabel(
        item_id=item_id,
        annotator=admin,
        rubric_id=rubric.id,
        rubric_version=rubric.labels_version,  # with the labels it resolves (an aligned version: its root's)
        label=label,
        critique=text[:NOTE_MAX],
        provenance="adjudicated",
    )
    return project.add_label(gold, request_id=request_id)


class Adjudication(BaseModel):
    """One admin's current resolution of an item."""

    model_config = ConfigDict(frozen=True)
    item_id: str
    admin: str
    label: str
    note: str
    at: str
    """When (UTC, ISO 8601)."""
    revision: int


def adjudications(project: Project, rubric: Rubric, item_ids: Sequence[str]) -> dict[str, list[Adjudication]]:
    """The current adjudication of each admin on each of ``item_ids`` (newest first per item); items nobody
    adjudicated are left out. Reads only those items' labels."""
    out: dict[str, list[Adjudication]] = {}
    for lab in project.labels(rubric.id, rubric.labels_version, provenance="adjudicated", item_ids=list(item_ids)):
        out.setdefault(lab.item_id, []).append(
            Adjudication(
                item_id=lab.item_id,
                admin=lab.annotator,
                label=lab.label,
                note=lab.critique or "",
                at=lab.created_at.isoformat() if lab.created_at else "",
                revision=lab.revision,
            )
        )
    for found in out.values():
        found.sort(key=lambda a: a.at, reverse=True)
    return out


def gold_label(rubric: Rubric, found: Sequence[Adjudication]) -> str | None:
    """The gold label of an item from its admins' current adjudications: the most recent one (any admin), as
    :mod:`judgekit.agreement.reference` takes it under ``reference = "adjudicated"`` (a later resolution supersedes
    an earlier one); ``None`` when nobody adjudicated the item."""
    levels = rubric.scale.values
    latest = max(found, key=lambda a: a.at, default=None)
    return latest.label if latest is not None and latest.label in levels else None


# -- what the admin sees of one item ------------------------------------------------------------------------


class PersonLabel(BaseModel):
    """One person's current label on an item, with their critique."""

    model_config = ConfigDict(frozen=True)
    annotator: str
    label: str
    provenance: str
    critique: str
    flagged: bool
    revision: int
    at: str


class JudgeVerdictView(BaseModel):
    """One judge run's verdict on an item, with its rationale."""

    model_config = ConfigDict(frozen=True)
    run: str
    status: str
    label: str | None
    confidence: float | None
    rationale: str


class ItemDetail(BaseModel):
    """Everything an admin needs to resolve one item: its text (panes rendered safely, A on the left), every
    person's blind label and critique, every judge's verdict and rationale, corrections, adjudications so far and
    the gold label they make."""

    model_config = ConfigDict(frozen=True)
    item_id: str
    frame: list[Pane]
    sides: list[Pane]
    pairwise: bool
    people: list[PersonLabel]
    """Blind labels (the people's labels), by annotator."""
    others: list[PersonLabel]
    """Labels of other provenances except adjudications (corrections of a judge's score)."""
    judges: list[JudgeVerdictView]
    adjudications: list[Adjudication]
    gold: str | None


def _person(lab: HumanLabel) -> PersonLabel:
    return PersonLabel(
        annotator=lab.annotator,
        label=lab.label,
        provenance=lab.provenance,
        critique=lab.critique or "",
        flagged=lab.flagged,
        revision=lab.revision,
        at=lab.created_at.isoformat() if lab.created_at else "",
    )


def item_detail(project: Project, rubric: Rubric, item_id: str) -> ItemDetail:
    """The detail of one item for adjudication (a handful of indexed reads)."""
    item = project.get_item(item_id)
    if item is None:
        raise UserError(f"unknown item {item_id!r}")
    frame, sides = item_panes(item, None)
    ver = rubric.labels_version  # an aligned version is measured against its root's labels
    people = [_person(lab) for lab in project.labels(rubric.id, ver, provenance="blind", item_ids=[item_id])]
    others = [_person(lab) for lab in project.labels(rubric.id, ver, provenance="corrected", item_ids=[item_id])]
    judges = []
    for run in judge_runs(project, rubric):
        found = project.verdicts(run, item_ids=[item_id])
        v = found[0] if found else None
        judges.append(
            JudgeVerdictView(
                run=run.name,
                status="missing" if v is None else v.status,
                label=None if v is None else v.label,
                confidence=None if v is None else v.confidence,
                rationale="" if v is None else (v.rationale or ""),
            )
        )
    adj = adjudications(project, rubric, [item_id]).get(item_id, [])
    return ItemDetail(
        item_id=item_id,
        frame=frame,
        sides=sides,
        pairwise=item.is_pairwise,
        people=people,
        others=others,
        judges=judges,
        adjudications=adj,
        gold=gold_label(rubric, adj),
    )


# -- the admin page's actions -------------------------------------------------------------------------------


class AdminAction(StrictModel):
    """Something the admin did on the page, as the page sends it (until acknowledged)."""

    rid: str = Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")
    """Request id, made by the page once per action: the idempotency key."""
    kind: Literal["adjudicate"]
    item_id: str = Field(min_length=1, max_length=512)
    label: str = Field(min_length=1, max_length=512)
    """The gold level, in stored terms."""
    note: str = Field(default="", max_length=NOTE_MAX)


def parse_admin_actions(raw: Any) -> tuple[list[AdminAction], list[Outcome]]:
    """Validate the outbox the admin page sent (see :func:`judgekit.labeling.parse_outbox`)."""
    return parse_outbox(raw, AdminAction)


def apply_admin_actions(project: Project, token: str, rubric: Rubric, actions: Iterable[AdminAction]) -> list[Outcome]:
    """Apply the admin page's actions in order, each at most once, after checking that the session is an active
    admin's. A busy database stops the round: that action and the ones after it are answered ``busy`` and stay in
    the page's outbox."""
    actions = list(actions)
    try:
        who = check_session(project, token).annotator
    except SessionEnded as exc:
        return [Outcome(rid=a.rid, item_id=a.item_id, status="ended", message=str(exc)) for a in actions]
    if not who.is_admin:
        return [Outcome(rid=a.rid, item_id=a.item_id, status="rejected", message="Admins only.") for a in actions]
    out: list[Outcome] = []
    for n, a in enumerate(actions):
        try:
            stored = adjudicate(project, who.name, rubric, a.item_id, a.label, a.note, request_id=a.rid)
        except DatabaseBusyError:
            msg = "The database is busy: the gold label is kept in this browser and will be sent again in a moment."
            out += [Outcome(rid=b.rid, item_id=b.item_id, status="busy", message=msg) for b in actions[n:]]
            break
        except UserError as exc:
            out.append(Outcome(rid=a.rid, item_id=a.item_id, status="rejected", message=str(exc)))
            continue
        name = next((lv.name for lv in rubric.scale.levels if lv.value == stored.label), stored.label)
        out.append(
            Outcome(
                rid=a.rid,
                item_id=a.item_id,
                status="saved",
                message=f"Gold label for item {a.item_id}: {name} (adjudication revision {stored.revision}).",
            )
        )
    return out
