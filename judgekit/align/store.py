"""The ``alignments`` table: one row per alignment record (owner of its SQL, see ``judgekit.storage.tables``).

A record is stored whole as JSON beside the columns it is found by (its start run, its split, the identity of its
settings, its status): records are read and written whole, a few times per alignment, and their shape belongs to
:mod:`judgekit.align.record`, not to the schema.
"""

from __future__ import annotations

from judgekit.align.record import AlignmentRecord
from judgekit.errors import UserError
from judgekit.models import canonical_json
from judgekit.storage import Project
from judgekit.storage.project import now_iso

__all__ = ["find_open", "load", "records", "save"]

_COLUMNS = "id, name, record_json"


def save(project: Project, record: AlignmentRecord) -> AlignmentRecord:
    """Insert a new record (``record.id is None``: it gets its id and the name ``align-ID``) or replace one."""
    stamp = now_iso()
    with project.transaction() as db:
        if record.id is None:
            # ids are taken under the project's write lock (portable: no RETURNING, no sequence)
            rid = 1 + int(db.scalar("SELECT COALESCE(MAX(id), 0) FROM alignments"))
            record = record.model_copy(update={"id": rid, "name": f"align-{rid}", "created_at": stamp})
            db.execute(
                "INSERT INTO alignments (id, name, start_run, split_key, settings_key, status, record_json, created_at,"
                " updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    rid,
                    record.name,
                    record.settings.run,
                    record.settings.split,
                    record.settings.identity(),
                    record.status,
                    "{}",
                    stamp,
                    stamp,
                ),
            )
        record = record.model_copy(update={"updated_at": stamp})
        db.execute(
            "UPDATE alignments SET name = ?, status = ?, record_json = ?, updated_at = ? WHERE id = ?",
            (record.name, record.status, canonical_json(record.model_dump(mode="json")), stamp, record.id),
        )
    return record


def load(project: Project, name_or_id: str | int) -> AlignmentRecord:
    """A record by name (``align-3``) or id."""
    text = str(name_or_id)
    rid = int(text.removeprefix("align-")) if text.removeprefix("align-").isdigit() else None
    row = project.db.one(f"SELECT {_COLUMNS} FROM alignments WHERE id = ? OR name = ?", (rid or -1, text))
    if row is None:
        known = ", ".join(r.name for r in records(project)) or "none"
        raise UserError(f"no alignment {text!r} in the project (alignments: {known}); start one with 'judgekit align'")
    return AlignmentRecord.model_validate_json(row[2])


def records(project: Project, *, run: str | None = None) -> list[AlignmentRecord]:
    """Every record, oldest first (only those starting from ``run`` when given)."""
    if not project.db.table_exists("alignments"):
        return []
    if run is None:
        rows = project.db.rows(f"SELECT {_COLUMNS} FROM alignments ORDER BY id")
    else:
        rows = project.db.rows(f"SELECT {_COLUMNS} FROM alignments WHERE start_run = ? ORDER BY id", (run,))
    return [AlignmentRecord.model_validate_json(r[2]) for r in rows]


def find_open(project: Project, run: str, split: str, identity: str) -> AlignmentRecord | None:
    """The newest record of the same start run, split and settings identity (finished or not): what a repeated
    ``align`` resumes or shows."""
    row = project.db.one(
        f"SELECT {_COLUMNS} FROM alignments WHERE start_run = ? AND split_key = ? AND settings_key = ? "
        "ORDER BY id DESC LIMIT 1",
        (run, split, identity),
    )
    return None if row is None else AlignmentRecord.model_validate_json(row[2])
