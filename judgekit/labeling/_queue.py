"""Who labels what, in which order: the labeling queue.

Why a materialised queue: "the next item for this annotator" must be answered in a few milliseconds on a
project with 100,000 items and a million labels. Counting labels per item on every request cannot do that, so
``label_queue`` keeps one row per item and rubric version with its target number of annotators, the number who
have labelled it (kept current by a database trigger on every first label, whoever writes it: the app, an
import, a script) and a priority. A partial index over the open rows, in offer order, lets the next-item query
read from the top and stop at the first item this annotator has neither labelled nor skipped.

Assignment rules:

* every item is labelled by ``annotators_per_item`` different people;
* a deterministic ``overlap_fraction`` of the items (the overlap set) is labelled by ``overlap_annotators``
  people, so human-human agreement can be measured on the same items the judge is compared on;
* an annotator is never offered an item they labelled or skipped;
* an item handed to someone is reserved for ``claim_minutes`` so that concurrent annotators are not all given
  the item that needs one more label;
* order: high-risk items first (then medium risk), then items a judge abstained on (recorded in ``escalations`` by
  ``judgekit abstain --escalate``), items a judge got confidently wrong against earlier human labels, items on
  which judges disagree with each other, items the judges are least confident about; ties in item order.

The queue is rebuilt when items, verdicts, escalations or the policy change (:func:`ensure_queue`), set-based:
grouped ``INSERT ... SELECT`` statements into temporary tables and one upsert that writes only the rows whose
values changed. Human majorities come from ``label_tally`` (per item and label, how many people's current label it
is), which each rebuild brings up to date with the labels added since the last one: labels are append-only, so
that is exact. On 100,000 items and 1,000,000 labels a rebuild takes about 1-2 s where the per-item Python loop
it replaced took 5-10 s (``benchmarks/bench_labeling.py``).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from judgekit.errors import UserError
from judgekit.models import Item, Rubric, StrictModel
from judgekit.storage import Project, SQLiteDatabase

_RISK_WEIGHT = {"high": 100.0, "medium": 50.0}
_WRONG_WEIGHT = 30.0
_DISAGREE_WEIGHT = 20.0
_UNSURE_WEIGHT = 10.0
_UNSURE_BELOW = 0.6
_OVERLAP_WEIGHT = 1.0
ABSTAINED_WEIGHT = 40.0
"""Priority of an item a judge abstained on (recorded in ``escalations`` by :func:`judgekit.calibration.escalate`,
which raises it at once through :func:`raise_abstained`): below high and medium risk, above "judge confidently
wrong" (at most 30). The one home of this value: a rebuild gives the same raise."""
ABSTAINED_REASON = "judge abstained"
CONFIDENTLY_WRONG = 0.7
"""A judge verdict at or above this confidence that contradicts the human majority counts as confidently wrong."""


class AssignmentPolicy(StrictModel):
    """How many people label each item (stored per rubric in the project; see :func:`set_policy`)."""

    annotators_per_item: int = Field(default=1, ge=1, le=50)
    """Different annotators who label each item outside the overlap set."""
    overlap_fraction: float = Field(default=0.1, ge=0.0, le=1.0)
    """Share of items (chosen by a hash of the item id, so stable) labelled by ``overlap_annotators`` people."""
    overlap_annotators: int = Field(default=3, ge=2, le=50)
    """Annotators per item in the overlap set; human-human agreement is measured there."""
    claim_minutes: float = Field(default=30.0, gt=0)
    """How long an item handed to an annotator is reserved for them."""


def _policy_key(rubric_id: str) -> str:
    return f"labeling.policy:{rubric_id}"


def get_policy(project: Project, rubric_id: str) -> AssignmentPolicy:
    """The assignment policy of a rubric (the defaults when none was set)."""
    raw = project.get_meta(_policy_key(rubric_id))
    return AssignmentPolicy() if raw is None else AssignmentPolicy.model_validate_json(raw)


def set_policy(project: Project, rubric_id: str, policy: AssignmentPolicy) -> None:
    """Store a rubric's assignment policy; the queue picks it up on the next request (targets are recomputed,
    labels already given are kept)."""
    project.rubric(rubric_id)  # raises a UserError naming the known rubrics
    project.set_meta(_policy_key(rubric_id), policy.model_dump_json())


def in_overlap(rubric_id: str, item_id: str, fraction: float) -> bool:
    """Whether an item belongs to the overlap set: a hash, so the set is stable as items are added."""
    h = int.from_bytes(hashlib.sha256(f"{rubric_id}\x00{item_id}".encode()).digest()[:8], "big")
    return h < fraction * 2**64


def display_order(annotator: str, item_id: str) -> Literal["ab", "ba"]:
    """Left/right order of a pairwise item for one annotator: a hash of both, so it is random across people
    (position bias averages out) yet the same on every visit of one person (a revision shows the same layout)."""
    h = hashlib.sha256(f"{annotator}\x00{item_id}".encode()).digest()[0]
    return "ab" if h % 2 == 0 else "ba"


@dataclass(frozen=True)
class QueueEntry:
    """Why an item sits where it does in the queue (admin view; never shown to annotators)."""

    item_id: str
    priority: float
    target: int
    n_labelled: int
    overlap: bool
    reasons: str


def _stamp(project: Project, rubric: Rubric, policy: AssignmentPolicy) -> str:
    # one round trip: items, verdicts and escalations as they stand. Items are never deleted and each new one gets
    # the next seq, so MAX(seq) (one index seek) says whether items were added; a COUNT(*) of the items was a
    # scan of the table on every desk request (31 ms at 100,000 items on PostgreSQL).
    max_seq, verdicts, n_esc, max_esc = project.db.rows(
        "SELECT (SELECT COALESCE(MAX(seq), 0) FROM items), "
        "(SELECT COUNT(*) FROM verdicts v WHERE v.run_id IN (SELECT id FROM judge_runs WHERE rubric_id = :rid "
        "AND rubric_version = :ver)), "
        "(SELECT COUNT(*) FROM escalations WHERE rubric_id = :rid AND rubric_version = :ver), "
        "(SELECT COALESCE(MAX(id), 0) FROM escalations WHERE rubric_id = :rid AND rubric_version = :ver)",
        {"rid": rubric.id, "ver": rubric.version},
    )[0]
    escalations = (n_esc, max_esc)
    # the policy stays the last element: _stamped_fraction reads it back
    return json.dumps(
        [
            int(max_seq),
            int(verdicts),
            int(escalations[0]),
            int(escalations[1]),
            policy.model_dump(mode="json"),
        ]
    )


def _stamp_key(rubric: Rubric) -> str:
    return f"labeling.queue:{rubric.key}"


def queue_stamp(project: Project, rubric: Rubric) -> str | None:
    """What the queue of a rubric version was last built from (items, verdicts, escalations, policy), or ``None``
    before its first build: whatever depends on the queue's targets can be keyed by it."""
    return project.get_meta(_stamp_key(rubric))


def _stamped_fraction(raw: str | None) -> float | None:
    """The overlap fraction the queue was last built with (from its stamp), or ``None`` if unknown."""
    try:
        return float(json.loads(raw or "")[-1]["overlap_fraction"])
    except (ValueError, TypeError, KeyError, IndexError):
        return None


def ensure_queue(project: Project, rubric: Rubric) -> bool:
    """Build the queue if it is missing or items, verdicts, escalations or the policy changed since; ``True`` if
    rebuilt.

    Cheap when nothing changed (a few indexed counts), so callers may call it before every request. When several
    sessions find the queue stale at once, the first rebuilds it and the others, once they get the write lock,
    see the fresh stamp and return without rebuilding again.
    """
    policy = get_policy(project, rubric.id)
    if project.get_meta(_stamp_key(rubric)) == _stamp(project, rubric, policy):
        return False
    with project.transaction():
        policy = get_policy(project, rubric.id)
        if project.get_meta(_stamp_key(rubric)) == _stamp(project, rubric, policy):
            return False  # rebuilt by another session while this one waited for the lock
        _rebuild(project, rubric, policy)
    return True


def rebuild_queue(project: Project, rubric: Rubric) -> int:
    """Recompute targets and priorities of every item for a rubric version, in one transaction.

    Call it after importing labels to re-rank by "judge confidently wrong" (new items, judge runs and escalations
    trigger it automatically). Returns the number of queue rows.
    """
    with project.transaction():
        return _rebuild(project, rubric, get_policy(project, rubric.id))


# Per-item human tallies in label_tally: how many people's current blind label on the item is each label (only
# blind labels count: a correction of a judge's score or an adjudicated gold label is not another person's
# independent opinion). Labels are append-only and numbered by an increasing id, so each rebuild folds in only the
# label rows above the watermark stored in project_meta (the first build reads them all, in one ordered pass over
# the covering index labels_by_rubric_item_label). A blind row with revision r > 1 supersedes the same person's
# latest blind row before it, whose label loses a count: those few rows are found through the partial index
# labels_revisions (on SQLite the CROSS JOIN keeps it the outer loop, else SQLite may scan the rubric's labels).
#
# The SQL is written once for both engines; {braced} names are filled per engine by _sql() (SQLite's index hints
# and Python functions, PostgreSQL's equivalents).
_TALLY_FULL_SQL = """
INSERT INTO label_tally (rubric_id, rubric_version, item_id, label, n)
SELECT :rid, :ver, item_id, label, COUNT(*) FROM labels
WHERE rubric_id = :rid AND rubric_version = :ver AND provenance = 'blind'
GROUP BY item_id, label
"""
_SUPERSEDED = """
INSERT INTO label_tally (rubric_id, rubric_version, item_id, label, n)
SELECT :rid, :ver, o.item_id, o.label, -COUNT(*) FROM labels n {scan}
{cross} labels o ON o.item_id = n.item_id AND o.annotator = n.annotator AND o.rubric_id = n.rubric_id
  AND o.rubric_version = n.rubric_version AND o.provenance = 'blind'
  AND o.revision = (SELECT MAX(m.revision) FROM labels m WHERE m.item_id = n.item_id AND m.annotator = n.annotator
                    AND m.rubric_id = n.rubric_id AND m.rubric_version = n.rubric_version
                    AND m.provenance = 'blind' AND m.revision < n.revision)
WHERE {since} n.rubric_id = :rid AND n.rubric_version = :ver AND n.revision > 1 AND n.provenance = 'blind'
GROUP BY o.item_id, o.label
ON CONFLICT (rubric_id, rubric_version, item_id, label) DO UPDATE SET n = label_tally.n + excluded.n
"""
_SUPERSEDED_FULL_SQL = _SUPERSEDED.replace("{scan}", "{revisions_index}").replace("{since}", "")
# Incremental: only the new rows, by id range (NOT INDEXED keeps SQLite from walking a whole index of labels to
# save a sort).
_TALLY_NEW_SQL = """
INSERT INTO label_tally (rubric_id, rubric_version, item_id, label, n)
SELECT :rid, :ver, item_id, label, COUNT(*) FROM labels {no_index}
WHERE id > :since AND rubric_id = :rid AND rubric_version = :ver AND provenance = 'blind'
GROUP BY item_id, label
ON CONFLICT (rubric_id, rubric_version, item_id, label) DO UPDATE SET n = label_tally.n + excluded.n
"""
_SUPERSEDED_NEW_SQL = _SUPERSEDED.replace("{scan}", "{no_index}").replace("{since}", "n.id > :since AND")
# Per item: the count of the most frequent current label (the majority is every label with that count) and the
# number of people with a current label.
_HUMAN_SQL = """
INSERT INTO jk_human (item_id, top, people)
SELECT item_id, MAX(n), SUM(n) FROM label_tally WHERE rubric_id = :rid AND rubric_version = :ver AND n > 0
GROUP BY item_id
"""
# Per item, over the ok verdicts of every judge run of the rubric version: distinct labels, the lowest confidence
# and the highest confidence of a confidently wrong verdict (its label is not in the human majority).
_JUDGE_SQL = """
INSERT INTO jk_judge (item_id, n_labels, min_conf, wrong_conf)
SELECT v.item_id, COUNT(DISTINCT v.label), MIN(v.confidence),
       MAX(CASE WHEN v.confidence >= :wrong AND COALESCE(t.n, 0) < h.top THEN v.confidence END)
FROM verdicts v JOIN judge_runs r ON r.id = v.run_id
LEFT JOIN jk_human h ON h.item_id = v.item_id
LEFT JOIN label_tally t ON t.rubric_id = :rid AND t.rubric_version = :ver AND t.item_id = v.item_id
  AND t.label = v.label
WHERE r.rubric_id = :rid AND r.rubric_version = :ver AND v.status = 'ok'
GROUP BY v.item_id
"""
# Overlap membership is a hash of the item id (see in_overlap); it is kept from the queue's own rows when the
# overlap fraction did not change, so only new items are hashed.
_OVERLAP_SQL = """
INSERT INTO jk_overlap (item_id, ov)
SELECT i.id, CASE WHEN :reuse_overlap = 1 AND q.item_id IS NOT NULL THEN q.overlap ELSE {in_overlap} END
FROM items i LEFT JOIN label_queue q ON q.rubric_id = :rid AND q.rubric_version = :ver AND q.item_id = i.id
"""
_ABSTAINED_SQL = """
INSERT INTO jk_abstained (item_id)
SELECT DISTINCT item_id FROM escalations WHERE rubric_id = :rid AND rubric_version = :ver
"""
# Priority terms are added in the same order as the reasons, as the Python floats were, and rounded as Python's
# round() does; rows whose values did not change are not written (no index churn, no WAL pages).
_UPSERT_SQL = """
INSERT INTO label_queue (rubric_id, rubric_version, item_id, seq, priority, target, overlap, n_labelled, reasons)
SELECT :rid, :ver, i.id, i.seq,
  {round6_open}{risk_weight}
    + COALESCE(:w_wrong * j.wrong_conf, 0.0)
    + CASE WHEN j.n_labels > 1 THEN :w_disagree ELSE 0.0 END
    + COALESCE(:w_unsure * (1.0 - j.min_conf), 0.0)
    + CASE WHEN o.ov = 1 THEN :w_overlap ELSE 0.0 END
    + CASE WHEN a.item_id IS NOT NULL THEN :w_abstained ELSE 0.0 END{round6_close},
  CASE WHEN o.ov = 1 THEN :target_overlap ELSE :target END,
  o.ov,
  COALESCE(h.people, 0),
  substr(
    CASE WHEN i.risk IN ({risk_levels}) THEN '; ' || i.risk || ' risk' ELSE '' END
    || CASE WHEN j.wrong_conf IS NOT NULL THEN '; judge confidently wrong' ELSE '' END
    || CASE WHEN j.n_labels > 1 THEN '; judges disagree' ELSE '' END
    || CASE WHEN j.min_conf < :unsure_below THEN '; judge unsure' ELSE '' END
    || CASE WHEN o.ov = 1 THEN '; overlap set' ELSE '' END
    || CASE WHEN a.item_id IS NOT NULL THEN '; {abstained}' ELSE '' END, 3)
FROM items i
JOIN jk_overlap o ON o.item_id = i.id
LEFT JOIN jk_human h ON h.item_id = i.id
LEFT JOIN jk_judge j ON j.item_id = i.id
LEFT JOIN jk_abstained a ON a.item_id = i.id
WHERE true
ON CONFLICT (rubric_id, rubric_version, item_id) DO UPDATE SET
  seq = excluded.seq, priority = excluded.priority, target = excluded.target, overlap = excluded.overlap,
  n_labelled = excluded.n_labelled, reasons = excluded.reasons
WHERE label_queue.seq {distinct} excluded.seq OR label_queue.priority {distinct} excluded.priority
  OR label_queue.target {distinct} excluded.target OR label_queue.overlap {distinct} excluded.overlap
  OR label_queue.n_labelled {distinct} excluded.n_labelled OR label_queue.reasons {distinct} excluded.reasons
"""
_TEMP_TABLES = {
    "jk_human": "item_id TEXT PRIMARY KEY, top INTEGER NOT NULL, people INTEGER NOT NULL",
    "jk_judge": "item_id TEXT PRIMARY KEY, n_labels INTEGER NOT NULL, min_conf DOUBLE PRECISION, wrong_conf "
    "DOUBLE PRECISION",
    "jk_overlap": "item_id TEXT PRIMARY KEY, ov INTEGER NOT NULL",
    "jk_abstained": "item_id TEXT PRIMARY KEY",
}
# PostgreSQL: the first 8 bytes of sha256(rubric id, NUL, item id) as an unsigned 64-bit number, as in_overlap
# computes it in Python, compared with ceil(fraction * 2**64) (exact: both are integers).
_PG_IN_OVERLAP = (
    "CASE WHEN mod(('x' || encode(substring(sha256(convert_to(:rid, 'UTF8') || '\\x00'::bytea || "
    "convert_to(i.id, 'UTF8')) from 1 for 8), 'hex'))::bit(64)::bigint::numeric + 18446744073709551616, "
    "18446744073709551616) < CAST(:overlap_cut AS NUMERIC) THEN 1 ELSE 0 END"
)
_DIALECT = {
    "sqlite": {
        "revisions_index": "INDEXED BY labels_revisions",
        "no_index": "NOT INDEXED",
        "cross": "CROSS JOIN",
        "open_index": "INDEXED BY label_queue_open",
        "distinct": "IS NOT",
        "round6_open": "jk_round6(",
        "round6_close": ")",
        "in_overlap": "jk_in_overlap(i.id)",
        "temp_suffix": " WITHOUT ROWID",
    },
    "postgresql": {
        "revisions_index": "",
        "no_index": "",
        "cross": "JOIN",
        "open_index": "",
        "distinct": "IS DISTINCT FROM",
        # round(numeric, 6) rounds half away from zero on the decimal value, as round() does on the float's
        "round6_open": "CAST(round(CAST(",
        "round6_close": " AS NUMERIC), 6) AS DOUBLE PRECISION)",
        "in_overlap": _PG_IN_OVERLAP,
        "temp_suffix": "",
    },
}
"""What the queue's SQL needs that the two engines spell differently (see :func:`_sql`)."""


def _sql(project: Project, text: str, **extra: str) -> str:
    """``text`` with its ``{name}`` slots filled for the project's engine (and ``extra``)."""
    return text.format(**_DIALECT[project.db.dialect], **extra)


def _drop_temp(project: Project) -> None:
    for name in _TEMP_TABLES:
        project.db.execute(f"DROP TABLE IF EXISTS {name}")


def _tally_key(rubric: Rubric) -> str:
    return f"labeling.tally:{rubric.key}"


def _refresh_tally(project: Project, rubric: Rubric) -> None:
    """Bring label_tally up to date with the labels (caller holds the write transaction, so no label can be
    added between reading the newest id and recording it)."""
    db = project.db
    newest = int(db.scalar("SELECT COALESCE(MAX(id), 0) FROM labels"))
    raw = project.get_meta(_tally_key(rubric))
    since = int(raw) if raw is not None and raw.isdigit() else None
    key = {"rid": rubric.id, "ver": rubric.version}
    if since is None or since > newest:  # never built (or the watermark is not ours): from scratch
        db.execute("DELETE FROM label_tally WHERE rubric_id = :rid AND rubric_version = :ver", key)
        db.execute(_TALLY_FULL_SQL, key)
        db.execute(_sql(project, _SUPERSEDED_FULL_SQL), key)
    elif since < newest:
        db.execute(_sql(project, _TALLY_NEW_SQL), {**key, "since": since})
        db.execute(_sql(project, _SUPERSEDED_NEW_SQL), {**key, "since": since})
    project.set_meta(_tally_key(rubric), str(newest))


def _rebuild(project: Project, rubric: Rubric, policy: AssignmentPolicy) -> int:
    """Set-based rebuild (caller holds the write transaction): a handful of grouped INSERT ... SELECT statements
    into temporary tables, then one upsert that writes only the queue rows whose values changed."""
    db = project.db
    key = _stamp_key(rubric)
    stamp_before = project.get_meta(key)
    fraction = policy.overlap_fraction
    if isinstance(db, SQLiteDatabase):
        db.create_function("jk_in_overlap", 1, lambda item_id: int(in_overlap(rubric.id, item_id, fraction)))
        db.create_function("jk_round6", 1, lambda x: round(x, 6))
    params: dict[str, object] = {
        "rid": rubric.id,
        "ver": rubric.version,
        "wrong": CONFIDENTLY_WRONG,
        "reuse_overlap": int(_stamped_fraction(stamp_before) == fraction),
        "overlap_cut": str(math.ceil(fraction * 2**64)),
        "w_wrong": _WRONG_WEIGHT,
        "w_disagree": _DISAGREE_WEIGHT,
        "w_unsure": _UNSURE_WEIGHT,
        "unsure_below": _UNSURE_BELOW,
        "w_overlap": _OVERLAP_WEIGHT,
        "w_abstained": ABSTAINED_WEIGHT,
        "target": policy.annotators_per_item,
        "target_overlap": max(policy.overlap_annotators, policy.annotators_per_item),
    }

    def run(sql: str, **extra: str) -> None:
        text = _sql(project, sql, **extra)
        names = set(re.findall(r"(?<!:):(\w+)", text))
        db.execute(text, {k: v for k, v in params.items() if k in names})

    risk_weight = "CASE i.risk " + " ".join(f"WHEN '{r}' THEN {w!r}" for r, w in _RISK_WEIGHT.items()) + " ELSE 0.0 END"
    risk_levels = ", ".join(f"'{r}'" for r in _RISK_WEIGHT)
    suffix = _DIALECT[db.dialect]["temp_suffix"]
    _drop_temp(project)
    try:
        for name, cols in _TEMP_TABLES.items():
            db.execute(f"CREATE TEMP TABLE {name} ({cols}){suffix}")
        _refresh_tally(project, rubric)
        for sql in (_HUMAN_SQL, _JUDGE_SQL, _OVERLAP_SQL, _ABSTAINED_SQL):
            run(sql)
        run(_UPSERT_SQL, risk_weight=risk_weight, risk_levels=risk_levels, abstained=ABSTAINED_REASON)
        n_rows = int(db.scalar("SELECT COUNT(*) FROM jk_overlap"))
        n_queue = db.scalar(
            "SELECT COUNT(*) FROM label_queue WHERE rubric_id = ? AND rubric_version = ?", (rubric.id, rubric.version)
        )
        if n_queue != n_rows:  # rows of items no longer in the project (items are not deleted; kept for safety)
            db.execute(
                "DELETE FROM label_queue WHERE rubric_id = ? AND rubric_version = ? AND item_id NOT IN "
                "(SELECT item_id FROM jk_overlap)",
                (rubric.id, rubric.version),
            )
    finally:
        _drop_temp(project)
    project.set_meta(key, _stamp(project, rubric, policy))
    return n_rows


def open_item_count(project: Project, rubric: Rubric) -> int:
    """Queue items of a rubric version that still need labels (the same for every annotator)."""
    return int(
        project.db.scalar(
            "SELECT COUNT(*) FROM label_queue WHERE rubric_id = ? AND rubric_version = ? AND n_labelled < target",
            (rubric.id, rubric.version),
        )
    )


def raise_abstained(project: Project, rubric_id: str, rubric_version: int, item_ids: Sequence[str]) -> int | None:
    """Give items a judge abstained on their place in the queue now: :data:`ABSTAINED_WEIGHT` added to their
    priority and the reason :data:`ABSTAINED_REASON` (once per item). The rebuild keeps it: it reads the
    ``escalations`` the caller recorded. Returns the number of queue rows raised, or ``None`` when the rubric
    version has no queue yet (nobody has labelled it; the escalations take effect when the queue is built)."""
    with project.transaction() as db:
        if (
            db.one(
                "SELECT 1 FROM label_queue WHERE rubric_id = ? AND rubric_version = ? LIMIT 1",
                (rubric_id, rubric_version),
            )
            is None
        ):
            return None
        raised = 0
        for item_id in dict.fromkeys(item_ids):
            raised += db.execute(
                "UPDATE label_queue SET priority = priority + ?, "
                "reasons = CASE WHEN reasons = '' THEN ? ELSE reasons || '; ' || ? END "
                "WHERE rubric_id = ? AND rubric_version = ? AND item_id = ? AND reasons NOT LIKE ?",
                (
                    ABSTAINED_WEIGHT,
                    ABSTAINED_REASON,
                    ABSTAINED_REASON,
                    rubric_id,
                    rubric_version,
                    item_id,
                    f"%{ABSTAINED_REASON}%",
                ),
            ).rowcount
    return raised


_NEXT_SQL = """
SELECT q.item_id FROM label_queue q {open_index}
WHERE q.rubric_id = :rid AND q.rubric_version = :ver AND q.n_labelled < q.target
  AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.item_id = q.item_id AND l.annotator = :who
                  AND l.rubric_id = :rid AND l.rubric_version = :ver)
  AND NOT EXISTS (SELECT 1 FROM skips s WHERE s.item_id = q.item_id AND s.annotator = :who
                  AND s.rubric_id = :rid AND s.rubric_version = :ver)
  AND q.n_labelled + (SELECT COUNT(*) FROM label_claims c WHERE c.rubric_id = :rid AND c.rubric_version = :ver
                      AND c.item_id = q.item_id AND c.annotator <> :who AND c.expires_at > :now) < q.target
  AND NOT EXISTS (SELECT 1 FROM label_claims m WHERE m.rubric_id = :rid AND m.rubric_version = :ver
                  AND m.item_id = q.item_id AND m.annotator = :who AND m.expires_at > :now)
ORDER BY q.priority DESC, q.seq
LIMIT 1
"""

_MY_CLAIMS_SQL = """
SELECT c.item_id, c.expires_at FROM label_claims c
WHERE c.annotator = :who AND c.rubric_id = :rid AND c.rubric_version = :ver AND c.expires_at > :now
  AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.item_id = c.item_id AND l.annotator = :who
                  AND l.rubric_id = :rid AND l.rubric_version = :ver)
  AND NOT EXISTS (SELECT 1 FROM skips s WHERE s.item_id = c.item_id AND s.annotator = :who
                  AND s.rubric_id = :rid AND s.rubric_version = :ver)
ORDER BY c.expires_at, c.item_id
"""


def next_item(project: Project, annotator: str, rubric: Rubric, *, ensure: bool = True) -> Item | None:
    """The item this annotator should label next, reserved for them; ``None`` when nothing is left for them.

    Asking again before submitting returns the same item (the reservation), so a page reload does not skip
    work. ``ensure`` first refreshes the queue if items, verdicts or the policy changed.
    """
    items = next_items(project, annotator, rubric, 1, ensure=ensure)
    return items[0] if items else None


def next_items(project: Project, annotator: str, rubric: Rubric, n: int = 2, *, ensure: bool = True) -> list[Item]:
    """The next ``n`` items for this annotator, in the order to label them, each reserved for them.

    Why more than one: the app shows the next item the moment the current one is submitted, without waiting for
    the server, so it holds the following one already. The first items are the annotator's current reservations
    (in the order they were made), so asking again returns the same list until one is labelled or skipped; the
    rest come from the top of the queue. Reservations beyond ``n`` are released. Reservations are renewed before
    they run out, keeping their order.
    """
    if ensure:
        ensure_queue(project, rubric)
    policy = get_policy(project, rubric.id)
    ttl = policy.claim_minutes * 60
    now = time.time()
    params = {"rid": rubric.id, "ver": rubric.version, "who": annotator, "now": now}
    key = (annotator, rubric.id, rubric.version)
    with project.transaction() as c:
        mine = [(str(r[0]), float(r[1])) for r in c.rows(_MY_CLAIMS_SQL, params)]
        kept, dropped = mine[:n], mine[n:]
        # the claim writes are deferred: on PostgreSQL they travel with the next query or the COMMIT (one round
        # trip fewer each, under the write lock)
        for item_id, _ in dropped:
            c.defer(
                "DELETE FROM label_claims WHERE annotator = ? AND rubric_id = ? AND rubric_version = ? AND item_id = ?",
                (*key, item_id),
            )
        if kept and min(exp for _, exp in kept) < now + ttl / 2:  # renew, shifting all alike to keep the order
            shift = now + ttl - max(exp for _, exp in kept)
            for item_id, _ in kept:
                c.defer(
                    "UPDATE label_claims SET expires_at = expires_at + ? WHERE annotator = ? AND rubric_id = ? "
                    "AND rubric_version = ? AND item_id = ?",
                    (shift, *key, item_id),
                )
        ids = [item_id for item_id, _ in kept]
        latest = max((exp for _, exp in kept), default=now + ttl)
        while len(ids) < n:
            row = c.one(_sql(project, _NEXT_SQL), params)
            if row is None:
                break
            item_id = str(row[0])
            latest = max(latest, now + ttl) + 0.001  # after the ones held already
            c.defer(
                "INSERT INTO label_claims (rubric_id, rubric_version, item_id, annotator, expires_at) "
                "VALUES (?,?,?,?,?) ON CONFLICT (rubric_id, rubric_version, item_id, annotator) "
                "DO UPDATE SET expires_at = excluded.expires_at",
                (rubric.id, rubric.version, item_id, annotator, latest),
            )
            ids.append(item_id)
    out = []
    for item_id in ids:
        item = project.get_item(item_id)
        if item is None:  # pragma: no cover - items are never deleted
            raise UserError(f"queued item {item_id!r} is missing from the project")
        out.append(item)
    return out


def release_claim(project: Project, annotator: str, rubric: Rubric, item_id: str) -> None:
    """Drop an annotator's reservation of an item (done on submit and skip, inside their transaction)."""
    with project.transaction() as c:
        c.defer(  # with the label's COMMIT, on PostgreSQL
            "DELETE FROM label_claims WHERE annotator = ? AND rubric_id = ? AND rubric_version = ? AND item_id = ?",
            (annotator, rubric.id, rubric.version, item_id),
        )


def queue_entries(
    project: Project, rubric: Rubric, *, limit: int = 50, open_only: bool = True, ensure: bool = True
) -> list[QueueEntry]:
    """The top of the queue with the reasons for each position (admin view). ``ensure=False`` reads the queue as
    it stands (the admin page does not rebuild it: an annotator's next request does)."""
    if ensure:
        ensure_queue(project, rubric)
    cond = "AND n_labelled < target" if open_only else ""
    rows = project.db.rows(
        f"SELECT item_id, priority, target, n_labelled, overlap, reasons FROM label_queue WHERE rubric_id = ? "
        f"AND rubric_version = ? {cond} ORDER BY priority DESC, seq LIMIT ?",
        (rubric.id, rubric.version, limit),
    )
    return [QueueEntry(r[0], float(r[1]), int(r[2]), int(r[3]), bool(r[4]), str(r[5])) for r in rows]


@dataclass(frozen=True)
class Completion:
    """How far the labelling of a rubric version has come, from the queue (one row per item, its target number of
    annotators and how many gave it a blind label)."""

    n_items: int
    """Items in the queue (every item of the project once the queue is built)."""
    items_done: int
    """Items with all the labels their target asks for."""
    labels_wanted: int
    """Sum of the items' targets: the blind labels the assignment policy asks for."""
    labels_given: int
    """Blind labels given towards those targets (labels beyond an item's target are not counted)."""

    @property
    def fraction(self) -> float:
        """Share of the wanted labels given (0 when nothing is wanted)."""
        return 0.0 if self.labels_wanted == 0 else self.labels_given / self.labels_wanted

    def line(self) -> str:
        """``63.2% of the wanted labels given (758,301 of 1,200,000); 12,345 of 100,000 items complete``."""
        if self.n_items == 0:
            return "No labelling queue yet: it is built when the first annotator signs in."
        return (
            f"{self.fraction:.1%} of the wanted labels given ({self.labels_given:,} of {self.labels_wanted:,}); "
            f"{self.items_done:,} of {self.n_items:,} items complete"
        )


def completion(project: Project, rubric: Rubric) -> Completion:
    """The overall completion of a rubric version's labelling (see :class:`Completion`), read from the queue as it
    stands (one pass over its rows; the queue is brought up to date by annotators' requests)."""
    row = project.db.one(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN n_labelled >= target THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(target), 0), COALESCE(SUM(CASE WHEN n_labelled < target THEN n_labelled ELSE target END), 0) "
        "FROM label_queue WHERE rubric_id = ? AND rubric_version = ?",
        (rubric.id, rubric.version),
    )
    assert row is not None
    return Completion(int(row[0]), int(row[1]), int(row[2]), int(row[3]))


def labelled_rubric(project: Project, rubric: Rubric) -> Rubric:
    """The rubric version people label for ``rubric``: itself, or for a derived version (``judgekit align``'s, see
    :class:`judgekit.models.RubricLineage`) the version whose labels it is measured against
    (:attr:`Rubric.labels_version`, the lookup :mod:`judgekit.agreement.data` uses).

    Why: a derived version only changes what the judge is told; people keep answering the root's question, and
    their labels, skips, queue, flags and gold labels stay with the root, where every figure of every version of
    the family reads them. A label stored under the derived version would be read by none."""
    if rubric.labels_version == rubric.version:
        return rubric
    return project.rubric(rubric.id, rubric.labels_version)
