"""An annotator's actions: submit, skip, flag, revise, and their own progress.

Why here and not in the app: every rule (critique required, display order recorded, one transaction per
submit, idempotent per request id) holds for any front end, and is tested without a browser.
"""

from __future__ import annotations

from dataclasses import dataclass

from judgekit.errors import UserError
from judgekit.labeling._queue import display_order, ensure_queue, open_item_count, release_claim
from judgekit.models import HumanLabel, Rubric
from judgekit.models.text import text_problem
from judgekit.storage import Project, now_iso


def _swap_ab(value: str) -> str:
    return value.translate(str.maketrans("ABab", "BAba"))


def shown_label(rubric: Rubric, label: str, order: str | None) -> str:
    """Convert between stored and shown labels of a pairwise item (the mapping is its own inverse).

    Annotators always see "Response A" on the left. When the item's display order is ``"ba"`` the left one is
    really ``output_b``, so a level naming A (``A``, ``A>>B``, ``a_better``...) means B in stored terms: the
    letters A and B are swapped when the swapped value is also a level. ``tie`` and single-output rubrics are
    unchanged.
    """
    if rubric.task != "pairwise" or order != "ba":
        return label
    swapped = _swap_ab(label)
    return swapped if swapped in rubric.scale.values else label


def critique_required(rubric: Rubric, label: str) -> bool:
    """Whether the rubric asks for a written critique with this level."""
    return label in rubric.critique_required_for


def submit_label(
    project: Project,
    annotator: str,
    rubric: Rubric,
    item_id: str,
    label: str,
    *,
    critique: str | None = None,
    flagged: bool = False,
    time_spent_s: float | None = None,
    request_id: str | None = None,
    as_shown: bool = False,
    criteria: dict[str, str] | None = None,
) -> HumanLabel:
    """Store an annotator's label (a new revision if they labelled the item before), in one transaction.

    ``request_id`` (one per rendered form) makes the call idempotent: a double click or a rerun returns the
    stored label and writes nothing. For pairwise items the left/right order the annotator saw is recorded.
    With ``as_shown`` the label is in the annotator's terms (left = A) and is converted with
    :func:`shown_label`. A rubric with rated criteria takes every criterion's answer in ``criteria`` (``label``
    is then ignored: the overall label is derived from them). Raises :class:`UserError` for an unknown level, a
    missing or off-scale criterion answer, a missing required critique or an unknown item.
    """
    item = project.get_item(item_id)
    if item is None:
        raise UserError(f"unknown item {item_id!r}")
    order = display_order(annotator, item_id) if item.is_pairwise else None
    answers: dict[str, str] = {}
    try:
        if rubric.is_rated:
            label, answers = rubric.answer(None, criteria or {})
        elif as_shown:
            label = shown_label(rubric, label, order)
        label, text = rubric.check_answer(label, critique)  # the same validation as 'judgekit import labels'
    except ValueError as exc:
        raise UserError(str(exc)) from None
    new = HumanLabel(
        item_id=item_id,
        annotator=annotator,
        rubric_id=rubric.id,
        rubric_version=rubric.version,
        label=label,
        criteria=answers,
        critique=text,
        flagged=flagged,
        time_spent_s=None if time_spent_s is None else max(0.0, float(time_spent_s)),
        display_order=order,
    )
    # the reservation is released in the label's own transaction; the label's checks run before the write lock
    return project.add_label(
        new, request_id=request_id, then=lambda: release_claim(project, annotator, rubric, item_id)
    )


def skip_item(
    project: Project, annotator: str, rubric: Rubric, item_id: str, *, flagged: bool = False, note: str | None = None
) -> None:
    """Skip an item: it is not offered to this annotator again (others still get it). Idempotent.

    ``flagged`` marks it for an admin's review (broken, unclear, offensive ...), with an optional ``note``.
    """
    if project.get_item(item_id) is None:
        raise UserError(f"unknown item {item_id!r}")
    problem = text_problem(note) if note else None  # the models' rule for stored text (judgekit.models.text)
    if problem is not None:
        raise UserError(f"the note {problem}")
    with project.transaction() as c:
        c.execute(
            "INSERT INTO skips (item_id, annotator, rubric_id, rubric_version, created_at, flagged, note)"
            " VALUES (?,?,?,?,?,?,?) ON CONFLICT (item_id, annotator, rubric_id, rubric_version) DO NOTHING",
            (item_id, annotator, rubric.id, rubric.version, now_iso(), int(flagged), (note or "").strip() or None),
        )
        release_claim(project, annotator, rubric, item_id)


def my_labels(project: Project, annotator: str, rubric: Rubric) -> list[HumanLabel]:
    """An annotator's current blind labels (latest revision per item), most recent first: what they may revise.
    Labels of another provenance (an admin's adjudications) are not theirs to revise as blind labels."""
    labels = project.labels(rubric.id, rubric.version, annotator=annotator, provenance="blind")
    return sorted(labels, key=lambda lab: (lab.created_at is not None, lab.created_at), reverse=True)


def label_history(project: Project, annotator: str, rubric: Rubric, item_id: str) -> list[HumanLabel]:
    """Every revision of an annotator's blind label on an item, oldest first."""
    return [
        lab
        for lab in project.labels(rubric.id, rubric.version, history=True, annotator=annotator, provenance="blind")
        if lab.item_id == item_id
    ]


@dataclass(frozen=True)
class Progress:
    """One annotator's progress on a rubric version."""

    annotator: str
    labelled: int
    """Items they labelled (blind labels: their own judgement, as the labeling app records it)."""
    skipped: int
    """Items they skipped."""
    flagged: int
    """Items they flagged (on a label or a skip)."""
    revisions: int
    """Blind label rows beyond the first per item (how often they revised)."""
    remaining: int
    """Open items they could still be given (ignoring other people's reservations)."""

    @property
    def fraction(self) -> float:
        """Share done of what they labelled plus what is left for them (for a progress bar)."""
        total = self.labelled + self.remaining
        return 1.0 if total == 0 else self.labelled / total


# One ordered pass over the annotator's slice of the covering index labels_by_annotator_item, grouped by item
# (no temporary B-trees), with a primary-key probe of the item's queue row: items with a blind label, blind label
# rows, items flagged on any blind revision, and how many of the items they labelled in any way are still open.
# Only blind labels are the annotator's labels: an admin's adjudication (or an imported correction) on an item is
# not, though the item is no longer offered to them (the queue never offers an item someone labelled in any way).
_MY_LABELS_SQL = """
SELECT COALESCE(SUM(blind), 0), COALESCE(SUM(n_rows), 0), COALESCE(SUM(flagged), 0), COALESCE(SUM(still_open), 0)
FROM (
  SELECT l.item_id, MAX(CASE WHEN l.provenance = 'blind' THEN 1 ELSE 0 END) AS blind,
    SUM(CASE WHEN l.provenance = 'blind' THEN 1 ELSE 0 END) AS n_rows,
    MAX(CASE WHEN l.provenance = 'blind' THEN l.flagged ELSE 0 END) AS flagged,
    (SELECT CASE WHEN q.n_labelled < q.target THEN 1 ELSE 0 END FROM label_queue q
     WHERE q.rubric_id = :rid AND q.rubric_version = :ver AND q.item_id = l.item_id) AS still_open
  FROM labels l WHERE l.annotator = :who AND l.rubric_id = :rid AND l.rubric_version = :ver
  GROUP BY l.item_id
) AS mine
"""
# Skipped items (index skips_by_annotator) and, among them, open items the annotator has not also labelled.
_MY_SKIPS_SQL = """
SELECT COUNT(*), COALESCE(SUM(s.flagged), 0),
  COALESCE(SUM(CASE WHEN q.n_labelled < q.target AND NOT EXISTS (
    SELECT 1 FROM labels l WHERE l.item_id = s.item_id AND l.annotator = :who AND l.rubric_id = :rid
      AND l.rubric_version = :ver) THEN 1 ELSE 0 END), 0)
FROM skips s LEFT JOIN label_queue q ON q.rubric_id = :rid AND q.rubric_version = :ver AND q.item_id = s.item_id
WHERE s.annotator = :who AND s.rubric_id = :rid AND s.rubric_version = :ver
"""


def flagged_skips(project: Project, rubric: Rubric) -> list[tuple[str, str, str | None, str]]:
    """``(item_id, annotator, note, created_at)`` of every skip flagged for review."""
    return [
        (str(r[0]), str(r[1]), r[2], str(r[3]))
        for r in project.db.rows(
            "SELECT item_id, annotator, note, created_at FROM skips WHERE rubric_id = ? AND rubric_version = ? "
            "AND flagged = 1",
            (rubric.id, rubric.version),
        )
    ]


def progress(
    project: Project, annotator: str, rubric: Rubric, *, ensure: bool = True, open_total: int | None = None
) -> Progress:
    """An annotator's progress; cheap (index-only counts) so the app can show it on every item.

    ``open_total`` (the number of open queue items, the same for everyone) may be passed in when computing
    progress for many annotators at once (:func:`judgekit.labeling.progress_all` does).
    """
    if ensure:
        ensure_queue(project, rubric)
    key = {"rid": rubric.id, "ver": rubric.version, "who": annotator}
    labelled, rows, flagged_labels, open_labelled = project.db.rows(_MY_LABELS_SQL, key)[0]
    skipped, n_flagged_skips, open_skipped = project.db.rows(_MY_SKIPS_SQL, key)[0]
    if open_total is None:
        open_total = open_item_count(project, rubric)
    return Progress(
        annotator=annotator,
        labelled=int(labelled),
        skipped=int(skipped),
        flagged=int(flagged_labels) + int(n_flagged_skips),
        revisions=int(rows) - int(labelled),
        remaining=max(0, int(open_total) - int(open_labelled) - int(open_skipped)),
    )


# Newest first by id, read from the covering index labels_by_annotator_item (it holds item_id and the row id), so
# the sort is over small keys; the page's few rows are then read by id.
_LATEST_IDS_SQL = """
SELECT id, item_id FROM labels WHERE annotator = ? AND rubric_id = ? AND rubric_version = ? AND provenance = 'blind'
ORDER BY id DESC
"""
_LABEL_ROW_SQL = """
SELECT l.item_id, l.label, l.revision, l.flagged, l.display_order, substr(i.input, 1, 400)
FROM labels l JOIN items i ON i.id = l.item_id WHERE l.id = ?
"""


def latest_label_rows(
    project: Project, annotator: str, rubric: Rubric, *, offset: int = 0, limit: int = 50
) -> list[tuple[str, str, int, bool, str | None, str]]:
    """A page of an annotator's current labels, newest first: (item id, label, revision, flagged, display order,
    start of the item's input). Reads label ids newest first and stops after the page (the first row met per item
    is its latest revision), then reads only those rows, so it costs a page, not the whole history."""
    found: list[int] = []
    seen: set[str] = set()
    cur = project.db.execute(_LATEST_IDS_SQL, (annotator, rubric.id, rubric.version))
    for label_id, item_id in cur:
        if item_id in seen:
            continue
        seen.add(item_id)
        if len(seen) > offset:
            found.append(int(label_id))
            if len(found) >= limit:
                break
    cur.close()
    out = []
    for label_id in found:
        item_id, label, revision, flagged, order, text = project.db.one(_LABEL_ROW_SQL, (label_id,))
        out.append((str(item_id), str(label), int(revision), bool(flagged), order, str(text or "")))
    return out


def labelled_count(project: Project, annotator: str, rubric: Rubric) -> int:
    """How many items an annotator labelled blind (an index-only count)."""
    return int(
        project.db.scalar(
            "SELECT COUNT(DISTINCT item_id) FROM labels WHERE annotator = ? AND rubric_id = ? AND rubric_version = ? "
            "AND provenance = 'blind'",
            (annotator, rubric.id, rubric.version),
        )
    )
