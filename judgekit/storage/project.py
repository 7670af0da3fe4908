"""The project database: everything judgekit knows about one project, in SQLite (default) or PostgreSQL.

Why SQLite by default: a single file a team can copy, inspect with any SQLite tool and commit to object storage;
WAL lets the labeling app, a judge run and a report read and write at the same time. Why PostgreSQL for teams: many
annotators on a server, backups and access control as the team already runs them. Both hold the same schema
(:mod:`judgekit.storage.migrations`) behind one layer (:mod:`judgekit.storage.database`); every write is one
transaction holding the project's write lock, so an interrupted import or run leaves nothing half-written.

This module owns the SQL of the core tables: ``items``, ``rubrics``, ``labels``, ``judge_configs``,
``judge_runs``, ``verdicts`` and ``project_meta``. Other packages call its methods.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from judgekit.errors import ConstraintViolation, ItemConflict, UserError
from judgekit.models import (
    OVERALL,
    PROVENANCES,
    CriterionVerdict,
    HumanLabel,
    Item,
    ItemMetadata,
    JudgeConfig,
    JudgeRun,
    JudgeVerdict,
    Provenance,
    Rubric,
    canonical_json,
)
from judgekit.models.judge import check_verdict
from judgekit.storage.database import Database, PostgresDatabase, SQLiteDatabase, is_postgres_url
from judgekit.storage.migrations import migrate

DEFAULT_DB = "judgekit.db"
"""Database file used when neither ``--db`` nor ``JUDGEKIT_DB`` is given."""


def resolve_db(db: str | os.PathLike[str] | None = None) -> str:
    """The project database: the explicit argument, else ``$JUDGEKIT_DB``, else ``./judgekit.db``; a file path or
    a ``postgresql://`` URL."""
    if db is not None:
        return str(db)
    return os.environ.get("JUDGEKIT_DB") or DEFAULT_DB


def resolve_db_path(path: str | os.PathLike[str] | None = None) -> Path:
    """:func:`resolve_db` as a path (SQLite projects)."""
    return Path(resolve_db(path))


def now_iso() -> str:
    """Current UTC time in ISO 8601, the timestamp format of every table."""
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True)
class WriteCounts:
    """What a write changed: rows added and rows that were already present unchanged."""

    added: int = 0
    unchanged: int = 0


class ItemInfo(NamedTuple):
    """The metadata columns of an item, as analyses read them in bulk (no text)."""

    id: str
    seq: int
    segment: str | None
    source: str | None
    risk: str | None
    created_at: str | None


def open_database(
    db: str | os.PathLike[str] | None = None, *, create: bool = True, lock_timeout: float | None = None
) -> Database:
    """Open (not migrate) the database ``db`` names: a SQLite file or a ``postgresql://`` URL."""
    location = resolve_db(db)
    if is_postgres_url(location):
        return PostgresDatabase(location, lock_timeout=lock_timeout, create=create)
    path = Path(location)
    if not create and not path.exists():
        raise UserError(f"no project database at {path}: run 'judgekit init' (or pass --db / set JUDGEKIT_DB)")
    if path.parent and not path.parent.exists():
        raise UserError(f"cannot create {path}: folder {path.parent} does not exist")
    return SQLiteDatabase(path, lock_timeout=lock_timeout)


class Project:
    """A handle on one project database. Not shared between threads: open one per thread or session.

    ``db`` is a SQLite file path or a ``postgresql://user@host/dbname[?schema=NAME]`` URL (default: ``$JUDGEKIT_DB``,
    else ``./judgekit.db``). Opening migrates the schema to this judgekit's version.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        create: bool = True,
        lock_timeout: float | None = None,
        on_lock_wait: Callable[[float], None] | None = None,
    ) -> None:
        self.db: Database = open_database(path, create=create, lock_timeout=lock_timeout)
        self.db.on_lock_wait = on_lock_wait
        self.location = self.db.location
        self.path: Path = self.db.path if isinstance(self.db, SQLiteDatabase) else Path(self.db.location)
        try:
            if not create and isinstance(self.db, PostgresDatabase) and not self.db.table_exists("schema_migrations"):
                raise UserError(f"no judgekit project at {self.location}: run 'judgekit init --db URL' first")
            migrate(self.db)
        except BaseException:
            self.db.close()
            raise

    @property
    def url(self) -> str:
        """What opens this project again from another process: the absolute file path or the full URL."""
        if isinstance(self.db, PostgresDatabase):
            return self.db.url
        return str(self.path.absolute())

    @property
    def name(self) -> str:
        """A short name for reports: the file name, or the database (and schema) name."""
        if isinstance(self.db, PostgresDatabase):
            schema = "" if self.db.schema == "public" else f"/{self.db.schema}"
            return f"{self.db.conn.info.dbname}{schema}"
        return self.path.name

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.db.dialect

    @property
    def conn(self) -> Any:
        """The driver connection (``sqlite3.Connection`` or ``psycopg.Connection``). Deprecated: owners of tables
        use :attr:`db` (portable on both engines); everyone else calls the owners' functions."""
        return self.db.conn  # type: ignore[attr-defined]

    # -- lifecycle --------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self.db.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """One write transaction holding the project's write lock: all of it is committed, or none of it."""
        with self.db.transaction() as db:
            yield db

    def journal_mode(self) -> str:
        """The SQLite journal mode in force (``wal``); ``postgresql`` for a PostgreSQL project."""
        if isinstance(self.db, SQLiteDatabase):
            return self.db.journal_mode()
        return "postgresql"

    def get_meta(self, key: str) -> str | None:
        """A project-level setting (e.g. ``kind`` = ``demo``)."""
        value = self.db.scalar("SELECT value FROM project_meta WHERE key = ?", (key,))
        return None if value is None else str(value)

    def set_meta(self, key: str, value: str) -> None:
        """Set a project-level setting."""
        with self.transaction() as c:
            c.execute(
                "INSERT INTO project_meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # -- items ------------------------------------------------------------------------------------------------

    def add_items(self, items: Iterable[Item]) -> WriteCounts:
        """Insert items in one transaction, in bulk. An identical existing item is skipped; a different one is
        refused (items are immutable).

        Raises :class:`UserError` naming the first conflicting id; nothing is written then.
        """
        batch = list(items)
        added = unchanged = 0
        rows: list[tuple[Any, ...]] = []
        with self.transaction() as c:
            seq = int(c.scalar("SELECT COALESCE(MAX(seq), 0) FROM items"))
            if len(batch) * 20 < seq:  # a few items into a large project: look them up one by one
                stored = {
                    item.id: h
                    for item in batch
                    if (h := c.scalar("SELECT content_hash FROM items WHERE id = ?", (item.id,))) is not None
                }
            else:
                stored = {str(r[0]): str(r[1]) for r in c.rows("SELECT id, content_hash FROM items")}
            for item in batch:
                h = item.content_hash()
                old = stored.get(item.id)
                if old is not None:
                    if old != h:
                        raise ItemConflict(item.id)
                    unchanged += 1
                    continue
                stored[item.id] = h
                seq += 1
                rows.append(item_row(item, h, seq))
                added += 1
            c.insert_rows("items", ITEM_INSERT_COLUMNS, rows)
        return WriteCounts(added, unchanged)

    def items(self, ids: Sequence[str] | None = None) -> list[Item]:
        """Items in insertion order (all, or the given ids in that order)."""
        # plain tuples: loading is per item, and a Row object per item is a measurable share
        if ids is None:
            return [_item_from_row(r) for r in self.db.rows(f"SELECT {_ITEM_COLUMNS} FROM items ORDER BY seq")]
        out = []
        for i in ids:
            rows = self.db.rows(f"SELECT {_ITEM_COLUMNS} FROM items WHERE id = ?", (i,))
            if not rows:
                raise UserError(f"unknown item id {i!r}")
            out.append(_item_from_row(rows[0]))
        return out

    def get_item(self, item_id: str) -> Item | None:
        """One item, or ``None``."""
        rows = self.db.rows(f"SELECT {_ITEM_COLUMNS} FROM items WHERE id = ?", (item_id,))
        return _item_from_row(rows[0]) if rows else None

    def item_count(self) -> int:
        """Number of items."""
        return int(self.db.scalar("SELECT COUNT(*) FROM items"))

    def item_ids(self) -> set[str]:
        """Every item id."""
        return {str(r[0]) for r in self.db.rows("SELECT id FROM items")}

    def item_info(self, ids: Sequence[str] | None = None) -> list[ItemInfo]:
        """Id, insertion order and metadata columns of every item (or of ``ids``, unknown ones left out), in
        insertion order."""
        cols = "SELECT id, seq, segment, source, risk, created_at FROM items"
        if ids is not None and len(ids) <= 200:  # a few items (a report's examples): one seek each
            found = [self.db.one(f"{cols} WHERE id = ?", (i,)) for i in dict.fromkeys(ids)]
            return sorted((ItemInfo(*r) for r in found if r is not None), key=lambda info: info.seq)
        rows = self.db.rows(f"{cols} ORDER BY seq")
        if ids is not None:
            wanted = set(ids)
            rows = [r for r in rows if r[0] in wanted]
        return [ItemInfo(*r) for r in rows]

    def item_facets(self) -> list[tuple[Any, ...]]:
        """``(id, segment, risk)`` of every item in insertion order, as the driver returns them: the metadata an
        analysis breaks figures down by, read in bulk (no text, no per-row objects)."""
        return self.db.rows("SELECT id, segment, risk FROM items ORDER BY seq")

    # -- rubrics ----------------------------------------------------------------------------------------------

    def save_rubric(self, rubric: Rubric) -> bool:
        """Store a rubric version; ``True`` if new. Re-saving an identical version is a no-op; changing a stored
        version is refused (bump ``version`` instead), so labels always mean what they meant."""
        body = canonical_json(rubric.model_dump(mode="json"))
        with self.transaction() as c:
            row = c.one(
                "SELECT body_json FROM rubrics WHERE rubric_id = ? AND version = ?", (rubric.id, rubric.version)
            )
            if row is not None:
                if row[0] != body:
                    raise UserError(
                        f"rubric {rubric.key} is already stored with different content: bump its "
                        "'version' when you change it (stored labels refer to the old text)"
                    )
                return False
            c.execute(
                "INSERT INTO rubrics (rubric_id, version, body_json, created_at) VALUES (?,?,?,?)",
                (rubric.id, rubric.version, body, now_iso()),
            )
        return True

    def rubric(self, rubric_id: str, version: int | None = None) -> Rubric:
        """A stored rubric version (the latest when ``version`` is None)."""
        if version is None:
            row = self.db.one(
                "SELECT body_json FROM rubrics WHERE rubric_id = ? ORDER BY version DESC LIMIT 1", (rubric_id,)
            )
        else:
            row = self.db.one("SELECT body_json FROM rubrics WHERE rubric_id = ? AND version = ?", (rubric_id, version))
        if row is None:
            known = ", ".join(self.rubric_keys()) or "none"
            want = rubric_id if version is None else f"{rubric_id}@{version}"
            raise UserError(
                f"rubric {want} is not in the project (known: {known}); add it with 'judgekit import rubric FILE'"
            )
        return Rubric.model_validate_json(row[0])

    def rubric_keys(self) -> list[str]:
        """``id@version`` of every stored rubric version."""
        return [
            f"{r[0]}@{r[1]}" for r in self.db.rows("SELECT rubric_id, version FROM rubrics ORDER BY rubric_id, version")
        ]

    def rubrics(self) -> list[Rubric]:
        """Every stored rubric version."""
        return [
            Rubric.model_validate_json(r[0])
            for r in self.db.rows("SELECT body_json FROM rubrics ORDER BY rubric_id, version")
        ]

    # -- labels -----------------------------------------------------------------------------------------------

    def add_label(
        self,
        label: HumanLabel,
        *,
        request_id: str | None = None,
        then: Callable[[], None] | None = None,
    ) -> HumanLabel:
        """Append a label; its ``revision`` is assigned here (1 + the annotator's latest for that item).

        ``request_id`` makes a submit idempotent: a second call with the same id (a double click, a rerun)
        returns the stored label and writes nothing (a label already stored is found without taking the write
        lock: labels are append-only). Validates the label against the rubric's levels. ``then`` runs in the same
        transaction right after a new label is stored (the desk releases the item's reservation there): the caller
        needs no transaction of its own around this call, which would put the checks under the write lock.
        """
        if request_id is not None:
            row = self.db.one("SELECT * FROM labels WHERE request_id = ?", (request_id,))
            if row is not None:  # a resend: nothing to write, so no lock to wait for
                return _label_from_row(row, _label_criteria(self.db, row))
        label = self._check_label(self.db, label)  # items and rubric versions are immutable: checked before the lock
        with self.transaction() as c:
            # one round trip under the write lock: the latest revision, and a label already stored for this request
            latest, done = c.one(
                "SELECT COALESCE(MAX(revision), 0), (SELECT MIN(id) FROM labels WHERE request_id = ?) FROM labels "
                "WHERE item_id = ? AND annotator = ? AND rubric_id = ? AND rubric_version = ?",
                (request_id, label.item_id, label.annotator, label.rubric_id, label.rubric_version),
            )
            if done is not None:
                row = c.one("SELECT * FROM labels WHERE id = ?", (done,))
                return _label_from_row(row, _label_criteria(c, row))
            rev = 1 + int(latest)
            stored = label.model_copy(update={"revision": rev, "created_at": utc(label.created_at)})
            c.defer(_INSERT_LABEL, _label_row(stored, request_id))  # sent with the COMMIT on PostgreSQL
            if stored.criteria:
                c.executemany(_INSERT_LABEL_CRITERION, _label_criteria_rows(stored, rev))
            if then is not None:
                then()
            return stored

    def add_labels(self, labels: Sequence[HumanLabel]) -> WriteCounts:
        """Append many labels (an import) in one transaction, in bulk, idempotently; ``revision`` is assigned.

        Each label's identity is its content (item, annotator, rubric version, label, critique, time spent,
        flag, display order, provenance) and how many identical labels of the same annotator on the same item came
        before it in ``labels``: so a history pass -> fail -> pass is three revisions (latest pass), importing the
        same labels again adds nothing, and so does re-importing an exported history (whose times storage
        assigned). A label whose content matches a stored one but whose ``created_at`` differs is a later,
        separate decision and is added. Labels are checked against their rubric's levels and must be for known
        items (callers that can name a file line check that first). Times are stored in UTC (a time without an
        offset is taken as UTC).
        """
        if not labels:
            return WriteCounts()
        rubrics = {(lab.rubric_id, lab.rubric_version) for lab in labels}
        by_key = {key: self.rubric(*key) for key in rubrics}
        levels = {key: set(r.scale.values) for key, r in by_key.items() if not r.is_rated and not r.scale.is_interval}
        checked: list[HumanLabel] = []
        for lab in labels:
            rk = (lab.rubric_id, lab.rubric_version)
            if rk in levels:  # one categorical scale: a set lookup (an import may hold a million labels)
                if lab.label not in levels[rk] or lab.criteria:
                    raise UserError(
                        f"label {lab.label!r} for item {lab.item_id!r} is not a level of rubric "
                        f"{lab.rubric_id}@{lab.rubric_version}"
                    )
                checked.append(lab)
                continue
            checked.append(_checked_label(by_key[rk], lab))
        labels = checked
        now = datetime.now(UTC)
        added = unchanged = 0
        rows: list[tuple[Any, ...]] = []
        criteria_rows: list[tuple[Any, ...]] = []
        with self.transaction() as c:
            known = {str(r[0]) for r in c.rows("SELECT id FROM items")}
            for lab in labels:
                if lab.item_id not in known:
                    raise UserError(f"label for unknown item {lab.item_id!r}: import the item first")
            stored_keys: dict[str, str] = {}
            revisions: dict[tuple[str, str, str, int], int] = {}
            for rid, ver in sorted(rubrics):
                for key, created in c.rows(
                    "SELECT request_id, created_at FROM labels WHERE rubric_id = ? AND rubric_version = ? "
                    "AND request_id IS NOT NULL",
                    (rid, ver),
                ):
                    stored_keys[str(key)] = str(created)
                for item_id, annotator, rev in c.rows(
                    "SELECT item_id, annotator, MAX(revision) FROM labels WHERE rubric_id = ? AND rubric_version = ? "
                    "GROUP BY item_id, annotator",
                    (rid, ver),
                ):
                    revisions[(str(item_id), str(annotator), rid, ver)] = int(rev)
            legacy = any(k.startswith(_LEGACY_IMPORT_PREFIX) for k in stored_keys)
            seen: dict[str, int] = {}
            for lab in labels:
                content = _label_content(lab)
                n = seen.get(content, 0)
                seen[content] = n + 1
                created = utc(lab.created_at, now)
                created_iso = created.isoformat()
                key = _import_key(content, n)
                if key in stored_keys:
                    if lab.created_at is None or stored_keys[key] == created_iso:
                        unchanged += 1
                        continue
                    key = _import_key(content, n, created_iso)  # same content, another time: a later decision
                    if key in stored_keys:
                        unchanged += 1
                        continue
                elif legacy and legacy_label_import_key(lab) in stored_keys:
                    unchanged += 1
                    continue
                group = (lab.item_id, lab.annotator, lab.rubric_id, lab.rubric_version)
                rev = revisions.get(group, 0) + 1
                revisions[group] = rev
                stored_keys[key] = created_iso
                rows.append(_label_row(lab, key, revision=rev, created_at=created))
                if lab.criteria:
                    criteria_rows.extend(_label_criteria_rows(lab, rev))
                added += 1
            c.insert_rows("labels", _LABEL_COLUMNS, rows)
            if criteria_rows:
                c.insert_rows("label_criteria", _LABEL_CRITERIA_COLUMNS, criteria_rows)
        return WriteCounts(added, unchanged)

    def _check_label(self, c: Database, label: HumanLabel) -> HumanLabel:
        if c.one("SELECT 1 FROM items WHERE id = ?", (label.item_id,)) is None:
            raise UserError(f"label for unknown item {label.item_id!r}: import the item first")
        return _checked_label(self.rubric(label.rubric_id, label.rubric_version), label)

    def latest_label(
        self,
        item_id: str,
        annotator: str,
        rubric_id: str,
        rubric_version: int,
        *,
        provenance: ProvenanceFilter = None,
    ) -> HumanLabel | None:
        """An annotator's current label on an item (the latest of the given provenance(s)), or ``None``."""
        prov_sql, prov_params = _provenance_clause(provenance, "provenance")
        r = self.db.one(
            "SELECT * FROM labels WHERE item_id = ? AND annotator = ? AND rubric_id = ? AND rubric_version = ? "
            f"{prov_sql} ORDER BY revision DESC LIMIT 1",
            (item_id, annotator, rubric_id, rubric_version, *prov_params),
        )
        return None if r is None else _label_from_row(r, _label_criteria(self.db, r))

    def labels(
        self,
        rubric_id: str | None = None,
        rubric_version: int | None = None,
        *,
        history: bool = False,
        annotator: str | None = None,
        provenance: ProvenanceFilter = None,
        item_ids: Sequence[str] | None = None,
        flagged: bool | None = None,
    ) -> list[HumanLabel]:
        """Labels ordered by item, annotator, revision: the latest revision of each, or every revision.

        ``provenance`` (one value or several; default every provenance) keeps only labels that came about that
        way; "latest" is then the latest among those, so an annotator's blind label stays their blind label when
        they later adjudicate the same item. ``item_ids`` reads only the labels of those items (what one screen
        shows); ``flagged`` keeps only labels whose kept revision is (or is not) flagged for review.
        """
        where, params = _label_filter(rubric_id, rubric_version, annotator)
        extra: list[str] = []
        if item_ids is not None:
            wanted = list(dict.fromkeys(item_ids))
            if not wanted:
                return []
            extra.append(f"l.item_id IN ({', '.join('?' * len(wanted))})")
            params += wanted
        if flagged is not None:
            extra.append("l.flagged = ?")
            params.append(int(flagged))
        if extra:
            where = (where + " AND " if where else "WHERE ") + " AND ".join(extra)
        prov_l, prov_params = _provenance_clause(provenance, "l.provenance")
        if prov_l:
            where = (where + " " + prov_l) if where else "WHERE " + prov_l.removeprefix("AND ")
            params += prov_params
        if history:
            sql = (
                f"SELECT l.* FROM labels l JOIN items i ON i.id = l.item_id {where} "
                "ORDER BY l.rubric_id, l.rubric_version, i.seq, l.annotator, l.revision"
            )
        else:
            prov_m, prov_m_params = _provenance_clause(provenance, "m.provenance")
            sql = (
                f"SELECT l.* FROM labels l JOIN items i ON i.id = l.item_id {where} "
                f"{'AND' if where else 'WHERE'} l.revision = (SELECT MAX(revision) FROM labels m WHERE "
                "m.item_id = l.item_id AND m.annotator = l.annotator AND m.rubric_id = l.rubric_id AND "
                f"m.rubric_version = l.rubric_version {prov_m}) "
                "ORDER BY l.rubric_id, l.rubric_version, i.seq, l.annotator"
            )
            params += prov_m_params
        rows = self.db.execute(sql, params).fetchall()
        answers = self._criteria_answers(rubric_id, rubric_version, annotator) if rows else {}
        return [_label_from_row(r, answers.get(_label_key(r))) for r in rows]

    def _criteria_answers(
        self, rubric_id: str | None, rubric_version: int | None, annotator: str | None
    ) -> dict[tuple[Any, ...], dict[str, str]]:
        """The criteria answers of the labels a read selects, by label key (none for rubrics with one scale)."""
        where, params = _label_filter(rubric_id, rubric_version, annotator)
        out: dict[tuple[Any, ...], dict[str, str]] = {}
        for item_id, ann, rid, ver, rev, criterion, value in self.db.rows(
            "SELECT l.item_id, l.annotator, l.rubric_id, l.rubric_version, l.revision, l.criterion, l.value "
            f"FROM label_criteria l {where}",
            params,
        ):
            out.setdefault((item_id, ann, rid, int(ver), int(rev)), {})[str(criterion)] = str(value)
        return out

    def current_label_rows(
        self,
        rubric_id: str,
        rubric_version: int,
        *,
        provenance: ProvenanceFilter = "blind",
        criterion: str | None = None,
    ) -> list[tuple[str, str, str, int]]:
        """``(item_id, annotator, label, item seq)`` of every annotator's latest label on every item of a rubric
        version, in item order (what an analysis reads in bulk). Blind labels only by default: the basis of every
        human figure; corrections and adjudications are asked for by name. ``criterion`` (a rated criterion's
        name) reads that criterion's answer of each latest label instead of the label (``None`` or ``overall``:
        the label itself, which is the overall label under a rubric with rated criteria)."""
        rows = self.latest_label_rows(rubric_id, rubric_version, provenance=provenance)
        if not rows:
            return []
        if criterion is not None and criterion != OVERALL:
            answers = {
                (str(item), str(who), int(rev)): str(value)
                for item, who, rev, value in self.db.rows(
                    "SELECT item_id, annotator, revision, value FROM label_criteria "
                    "WHERE rubric_id = ? AND rubric_version = ? AND criterion = ?",
                    (rubric_id, rubric_version, criterion),
                )
            }
            rows = [
                (item, who, answers[(str(item), str(who), int(rev))], rev)
                for item, who, _, rev in rows
                if (str(item), str(who), int(rev)) in answers
            ]
        seq = dict(self.db.rows("SELECT id, seq FROM items"))
        out = [(str(item), str(who), str(label), int(seq[item])) for item, who, label, _ in rows]
        out.sort(key=lambda r: r[3])
        return out

    def latest_label_rows(
        self, rubric_id: str, rubric_version: int, *, provenance: ProvenanceFilter = "blind"
    ) -> list[tuple[Any, ...]]:
        """``(item_id, annotator, label, revision)`` of every annotator's latest label (highest revision among the
        given provenance(s)) on every item of a rubric version, in no particular order, as the driver returns
        them: one scan of the covering index ``labels_by_rubric_provenance`` (migration 12). Revisions are rare,
        so the latest of each is picked in Python only when some label was revised."""
        prov, params = _provenance_clause(provenance, "provenance")
        rows = self.db.rows(
            f"SELECT item_id, annotator, label, revision FROM labels WHERE rubric_id = ? AND rubric_version = ? {prov}",
            (rubric_id, rubric_version, *params),
        )
        if all(r[3] == 1 for r in rows):
            return rows
        latest: dict[tuple[Any, Any], tuple[Any, ...]] = {}
        for r in rows:
            old = latest.get((r[0], r[1]))
            if old is None or r[3] > old[3]:
                latest[(r[0], r[1])] = r
        return list(latest.values())

    def latest_critiques(
        self, rubric_id: str, rubric_version: int, *, provenance: ProvenanceFilter = "blind"
    ) -> dict[str, list[str]]:
        """Item id -> the non-empty critiques of the annotators' latest labels (highest revision among the given
        provenance(s)) on a rubric version, in annotator order. Reads only the labels that carry a critique (and,
        when some label was revised, which revision is the latest): what ``judgekit explain`` groups by words,
        without building every label (most have no critique)."""
        prov, params = _provenance_clause(provenance, "provenance")
        key = (rubric_id, rubric_version, *params)
        rows = self.db.rows(
            "SELECT item_id, annotator, revision, critique FROM labels WHERE rubric_id = ? AND rubric_version = ? "
            f"{prov} AND critique IS NOT NULL AND critique <> '' ORDER BY item_id, annotator",
            key,
        )
        if not rows:
            return {}
        revised = {
            (r[0], r[1]): int(r[2])
            for r in self.db.rows(
                "SELECT item_id, annotator, MAX(revision) FROM labels WHERE rubric_id = ? AND rubric_version = ? "
                f"{prov} AND revision > 1 GROUP BY item_id, annotator",
                key,
            )
        }
        out: dict[str, list[str]] = {}
        for item_id, annotator, revision, critique in rows:
            if int(revision) == revised.get((item_id, annotator), 1) and str(critique).strip():
                out.setdefault(str(item_id), []).append(str(critique).strip())
        return out

    def latest_adjudications(self, rubric_id: str, rubric_version: int) -> list[tuple[Any, Any]]:
        """``(item_id, label)`` of the most recently submitted ``adjudicated`` label of every adjudicated item of a
        rubric version (any admin: the highest label id wins, so a second admin's resolution, or an admin's revision
        of their own, supersedes the earlier one). Adjudications are few: the latest is picked in Python."""
        rows = self.db.rows(
            "SELECT item_id, id, label FROM labels WHERE rubric_id = ? AND rubric_version = ? AND provenance = ?",
            (rubric_id, rubric_version, "adjudicated"),
        )
        latest: dict[Any, tuple[Any, Any]] = {}
        for item_id, label_id, label in rows:
            old = latest.get(item_id)
            if old is None or label_id > old[0]:
                latest[item_id] = (label_id, label)
        return [(item_id, label) for item_id, (_, label) in latest.items()]

    def has_labels(self, rubric_id: str, rubric_version: int, *, provenance: ProvenanceFilter = None) -> bool:
        """Whether a rubric version has any label (of the given provenance(s)): one index seek, so an analysis
        reads corrected or adjudicated labels only when there are some."""
        prov, params = _provenance_clause(provenance, "provenance")
        row = self.db.one(
            f"SELECT 1 FROM labels WHERE rubric_id = ? AND rubric_version = ? {prov} LIMIT 1",
            (rubric_id, rubric_version, *params),
        )
        return row is not None

    def label_count(self) -> int:
        """Number of label rows (every revision)."""
        return int(self.db.scalar("SELECT COUNT(*) FROM labels"))

    def labellers(self, rubric_id: str, rubric_version: int) -> list[str]:
        """Everyone with a label for a rubric version, by name.

        A loose index scan of ``labels_by_annotator_item``: one seek per distinct annotator instead of reading
        every label (a ``DISTINCT`` over a million labels takes half a second).
        """
        return [str(r[0]) for r in self.db.rows(_LABELLERS_SQL, (rubric_id, rubric_version))]

    def labelled_rubric_keys(self) -> list[tuple[str, int]]:
        """Every ``(rubric_id, rubric_version)`` that has labels, in order."""
        rows = self.db.rows("SELECT DISTINCT rubric_id, rubric_version FROM labels ORDER BY rubric_id, rubric_version")
        return [(str(r[0]), int(r[1])) for r in rows]

    # -- judge runs and verdicts -----------------------------------------------------------------------------

    def create_run(
        self, name: str, config: JudgeConfig, *, source: str = "engine", meta: dict[str, Any] | None = None
    ) -> JudgeRun:
        """Create a named run of ``config``; the rubric version must be stored. Names are unique."""
        self.rubric(config.rubric_id, config.rubric_version)
        fp = config.fingerprint()
        with self.transaction() as c:
            if c.one("SELECT 1 FROM judge_runs WHERE name = ?", (name,)) is not None:
                raise UserError(f"a judge run named {name!r} already exists; choose another name or resume it")
            c.execute(
                "INSERT INTO judge_configs (fingerprint, body_json) VALUES (?, ?) ON CONFLICT (fingerprint) DO NOTHING",
                (fp, canonical_json(config.model_dump(mode="json"))),
            )
            c.execute(
                "INSERT INTO judge_runs (name, fingerprint, rubric_id, rubric_version, source, status,"
                " created_at, meta_json) VALUES (?,?,?,?,?,?,?,?)",
                (
                    name,
                    fp,
                    config.rubric_id,
                    config.rubric_version,
                    source,
                    "running",
                    now_iso(),
                    canonical_json(meta or {}),
                ),
            )
        return self.run(name)

    def run(self, name_or_id: str | int) -> JudgeRun:
        """A run by name or numeric id."""
        if isinstance(name_or_id, int) or str(name_or_id).isdigit():
            r = self.db.one(
                "SELECT * FROM judge_runs WHERE id = ? OR name = ? ORDER BY id", (int(name_or_id), str(name_or_id))
            )
        else:
            r = self.db.one("SELECT * FROM judge_runs WHERE name = ?", (name_or_id,))
        if r is None:
            known = ", ".join(x.name for x in self.runs()) or "none"
            raise UserError(f"no judge run {name_or_id!r} in the project (runs: {known})")
        return self._run_from_row(r)

    def find_run(self, name: str) -> JudgeRun | None:
        """A run by name, or ``None``."""
        r = self.db.one("SELECT * FROM judge_runs WHERE name = ?", (name,))
        return None if r is None else self._run_from_row(r)

    def runs(self) -> list[JudgeRun]:
        """Every run, oldest first."""
        return [self._run_from_row(r) for r in self.db.execute("SELECT * FROM judge_runs ORDER BY id").fetchall()]

    def _run_from_row(self, r: Any) -> JudgeRun:
        body = self.db.scalar("SELECT body_json FROM judge_configs WHERE fingerprint = ?", (r["fingerprint"],))
        return JudgeRun(
            id=r["id"],
            name=r["name"],
            fingerprint=r["fingerprint"],
            config=JudgeConfig.model_validate_json(body),
            source=r["source"],
            status=r["status"],
            created_at=datetime.fromisoformat(r["created_at"]),
            meta=json.loads(r["meta_json"]),
        )

    def set_run_status(self, run_id: int, status: str, *, meta: dict[str, Any] | None = None) -> None:
        """Mark a run running / complete / interrupted, optionally merging ``meta`` into its stored notes."""
        with self.transaction() as c:
            if meta:
                old = json.loads(c.scalar("SELECT meta_json FROM judge_runs WHERE id = ?", (run_id,)))
                old.update(meta)
                c.execute("UPDATE judge_runs SET meta_json = ? WHERE id = ?", (canonical_json(old), run_id))
            c.execute("UPDATE judge_runs SET status = ? WHERE id = ?", (status, run_id))

    def add_verdicts(self, run_id: int, verdicts: Iterable[JudgeVerdict]) -> WriteCounts:
        """Insert verdicts of a run in one transaction. A verdict identical to the stored one for the same item is
        skipped (idempotent re-import); a different one is refused. Labels are checked against the rubric."""
        run = self.run(run_id)
        rubric = self.rubric(run.config.rubric_id, run.config.rubric_version)
        added = unchanged = 0
        with self.transaction() as c:
            for v in verdicts:
                try:
                    v = check_verdict(rubric, v)
                except ValueError as exc:
                    raise UserError(f"verdict for item {v.item_id!r}: {exc}") from None
                if c.one("SELECT 1 FROM items WHERE id = ?", (v.item_id,)) is None:
                    raise UserError(f"verdict for unknown item {v.item_id!r}: import the item first")
                v = v.model_copy(
                    update={
                        "judge_fingerprint": run.fingerprint,
                        "created_at": v.created_at or datetime.now(UTC),
                    }
                )
                old = c.one("SELECT * FROM verdicts WHERE run_id = ? AND item_id = ?", (run_id, v.item_id))
                if old is not None:
                    stored = _verdict_from_row(
                        old, run.fingerprint, _verdict_criteria(c, run_id, [v.item_id]).get(v.item_id)
                    )
                    if _same_verdict(stored, v):
                        unchanged += 1
                        continue
                    raise UserError(f"run {run.name!r} already has a different verdict for item {v.item_id!r}")
                c.execute(INSERT_VERDICT, verdict_row(run_id, v))
                if v.criteria:
                    c.executemany(INSERT_VERDICT_CRITERION, verdict_criteria_rows(run_id, v))
                added += 1
        return WriteCounts(added, unchanged)

    def append_verdicts(
        self, run_id: int, verdicts: Sequence[JudgeVerdict], levels: Iterable[str] | None = None
    ) -> None:
        """Store a batch of new verdicts of an engine run in one transaction with one ``executemany``.

        The judge engine's bulk path: its verdicts are validated models whose labels the parser took from the
        rubric's ``levels`` (or, with ``levels=None``, are checked here against the run's rubric in memory: interval
        scales, rated criteria), for items without a verdict in the run, so the per-row queries of
        :meth:`add_verdicts` are not repeated; the database still enforces the item's existence and one verdict
        per item and run. Anything unexpected (a label that is not an answer, an unknown item, a verdict already
        stored by another process) goes through :meth:`add_verdicts`, which skips an identical verdict and names
        the problem otherwise."""
        if levels is not None:
            allowed = set(levels)
            if any(v.label is not None and v.label not in allowed for v in verdicts):
                self.add_verdicts(run_id, verdicts)
                return
        else:
            run = self.run(run_id)
            rubric = self.rubric(run.config.rubric_id, run.config.rubric_version)
            try:
                verdicts = [check_verdict(rubric, v) for v in verdicts]
            except ValueError:
                self.add_verdicts(run_id, verdicts)
                return
        now = datetime.now(UTC)
        rows = [verdict_row(run_id, v, now) for v in verdicts]
        criteria = [row for v in verdicts if v.criteria for row in verdict_criteria_rows(run_id, v)]
        try:
            with self.transaction() as c:
                c.executemany(INSERT_VERDICT, rows)
                if criteria:
                    c.executemany(INSERT_VERDICT_CRITERION, criteria)
        except ConstraintViolation:
            self.add_verdicts(run_id, verdicts)

    def delete_empty_run(self, run_id: int) -> bool:
        """Delete a run that has no verdicts (a run that failed before its first verdict, e.g. on a rejected API
        key, leaves nothing behind); ``False`` and nothing deleted when it has verdicts."""
        with self.transaction() as c:
            if c.one("SELECT 1 FROM verdicts WHERE run_id = ? LIMIT 1", (run_id,)) is not None:
                return False
            c.execute("DELETE FROM judge_runs WHERE id = ?", (run_id,))
        return True

    def verdicts(self, run: str | int | JudgeRun, *, item_ids: Iterable[str] | None = None) -> list[JudgeVerdict]:
        """Every verdict of a run (or those of ``item_ids``), in item order."""
        r = run if isinstance(run, JudgeRun) else self.run(run)
        ids: list[str] | None = None
        if item_ids is None:
            rows = self.db.execute(
                "SELECT v.* FROM verdicts v JOIN items i ON i.id = v.item_id WHERE v.run_id = ? ORDER BY i.seq",
                (r.id,),
            ).fetchall()
        else:
            rows = [
                row
                for i in dict.fromkeys(item_ids)
                if (row := self.db.one("SELECT v.* FROM verdicts v WHERE v.run_id = ? AND v.item_id = ?", (r.id, i)))
                is not None
            ]
            order = {info.id: info.seq for info in self.item_info([row["item_id"] for row in rows])}
            rows.sort(key=lambda row: order[row["item_id"]])
            ids = [row["item_id"] for row in rows]
        answers = _verdict_criteria(self.db, r.id, ids) if rows else {}
        return [_verdict_from_row(row, r.fingerprint, answers.get(row["item_id"])) for row in rows]

    def verdict_rows(
        self, run_id: int, *, criterion: str | None = None
    ) -> list[tuple[str, str, str | None, float | None]]:
        """``(item_id, status, label, confidence)`` of every verdict of a run, in item order, as plain tuples (what
        an analysis reads in bulk). ``criterion`` (a rated criterion's name) reads that criterion's answer of each
        verdict instead (``None`` or ``overall``: the verdict itself)."""
        if criterion is not None and criterion != OVERALL:
            return self.db.rows(
                "SELECT c.item_id, c.status, c.label, c.confidence FROM verdict_criteria c "
                "JOIN items i ON i.id = c.item_id WHERE c.run_id = ? AND c.criterion = ? ORDER BY i.seq",
                (run_id, criterion),
            )
        return self.db.rows(
            "SELECT v.item_id, v.status, v.label, v.confidence FROM verdicts v JOIN items i ON i.id = v.item_id "
            "WHERE v.run_id = ? ORDER BY i.seq",
            (run_id,),
        )

    def verdict_count(self, run_id: int) -> int:
        """Number of verdicts stored for a run."""
        return int(self.db.scalar("SELECT COUNT(*) FROM verdicts WHERE run_id = ?", (run_id,)))

    def unanswered_verdict_item_ids(self, run_id: int) -> set[str]:
        """Ids of items whose verdict in the run has criteria whose calls got no reply after their retries
        (``extra["unanswered"]``, written by a ``judge_calls: per_criterion`` run): a resume asks those criteria
        again and replaces the verdict (:meth:`replace_verdicts`). Such a verdict's status is ``api_error``."""
        rows = self.db.rows(
            "SELECT item_id, extra_json FROM verdicts WHERE run_id = ? AND status = ?", (run_id, "api_error")
        )
        return {str(item_id) for item_id, extra in rows if extra and json.loads(extra).get("unanswered")}

    def replace_verdicts(self, run_id: int, verdicts: Sequence[JudgeVerdict]) -> None:
        """Replace the stored verdicts of these items (their criteria answers too) in one transaction: a resumed
        ``per_criterion`` run's verdict for an item whose earlier verdict had unanswered criteria
        (:meth:`unanswered_verdict_item_ids`); only such verdicts may be replaced (anything else raises
        :class:`~judgekit.errors.UserError`). The new verdict gets a new id, so readers that watch the newest
        verdict id see the change."""
        run = self.run(run_id)
        rubric = self.rubric(run.config.rubric_id, run.config.rubric_version)
        try:
            checked = [check_verdict(rubric, v) for v in verdicts]
        except ValueError as exc:
            raise UserError(f"run {run.name!r}: {exc}") from None
        replaceable = self.unanswered_verdict_item_ids(run_id)
        wrong = sorted({v.item_id for v in checked} - replaceable)
        if wrong:
            raise UserError(f"run {run.name!r}: the verdicts of {wrong} have no unanswered criteria to replace")
        now = datetime.now(UTC)
        with self.transaction() as c:
            for v in checked:
                c.execute("DELETE FROM verdict_criteria WHERE run_id = ? AND item_id = ?", (run_id, v.item_id))
                c.execute("DELETE FROM verdicts WHERE run_id = ? AND item_id = ?", (run_id, v.item_id))
            c.executemany(INSERT_VERDICT, [verdict_row(run_id, v, now) for v in checked])
            criteria = [row for v in checked if v.criteria for row in verdict_criteria_rows(run_id, v)]
            if criteria:
                c.executemany(INSERT_VERDICT_CRITERION, criteria)

    def verdict_item_ids(self, run_id: int) -> set[str]:
        """Ids of items that already have a verdict in the run (what a resumed run skips)."""
        return {str(x[0]) for x in self.db.rows("SELECT item_id FROM verdicts WHERE run_id = ?", (run_id,))}


_LABELLERS_SQL = """
WITH RECURSIVE who(name) AS (
  SELECT MIN(annotator) FROM labels
  UNION ALL
  SELECT (SELECT MIN(annotator) FROM labels WHERE annotator > who.name) FROM who WHERE who.name IS NOT NULL
)
SELECT name FROM who WHERE name IS NOT NULL
  AND EXISTS (SELECT 1 FROM labels l WHERE l.annotator = who.name AND l.rubric_id = ? AND l.rubric_version = ?)
ORDER BY name
"""
_LABEL_COLUMNS = (*(f for f in HumanLabel.model_fields if f not in ("schema_version", "criteria")), "request_id")
"""The columns of ``labels`` a write fills: every field of :class:`HumanLabel`, in order, and the request id."""
_INSERT_LABEL = f"INSERT INTO labels ({', '.join(_LABEL_COLUMNS)}) VALUES ({', '.join('?' * len(_LABEL_COLUMNS))})"
_LABEL_CRITERIA_COLUMNS = ("item_id", "annotator", "rubric_id", "rubric_version", "revision", "criterion", "value")
"""The columns of ``label_criteria``: the label's natural key, the criterion and its answer."""
_INSERT_LABEL_CRITERION = (
    f"INSERT INTO label_criteria ({', '.join(_LABEL_CRITERIA_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_LABEL_CRITERIA_COLUMNS))})"
)
_IMPORT_PREFIX = "import2:"
_LEGACY_IMPORT_PREFIX = "import:"


def utc(d: datetime | None, default: datetime | None = None) -> datetime:
    """A time in UTC (one without an offset is taken as UTC); ``default`` (else now) when ``d`` is None."""
    if d is None:
        return default or datetime.now(UTC)
    return d.replace(tzinfo=UTC) if d.tzinfo is None else d.astimezone(UTC)


def _label_row(
    lab: HumanLabel, request_id: str | None, *, revision: int | None = None, created_at: datetime | None = None
) -> tuple[Any, ...]:
    """The parameters of :data:`_INSERT_LABEL` (in :data:`_LABEL_COLUMNS` order)."""
    return (
        lab.item_id,
        lab.annotator,
        lab.rubric_id,
        lab.rubric_version,
        lab.label,
        lab.critique,
        lab.time_spent_s,
        (created_at or utc(lab.created_at)).isoformat(),
        lab.revision if revision is None else revision,
        int(lab.flagged),
        lab.display_order,
        lab.provenance,
        request_id,
    )


def _label_content(lab: HumanLabel) -> str:
    """What makes two labels the same decision, apart from when it was made (see :meth:`Project.add_labels`)."""
    content = "\x1f".join(
        (
            lab.item_id,
            lab.annotator,
            lab.rubric_id,
            str(lab.rubric_version),
            lab.label,
            "\x00" if lab.critique is None else lab.critique,
            repr(lab.time_spent_s),
            "1" if lab.flagged else "0",
            lab.display_order or "",
            lab.provenance,
        )
    )
    # a label's criteria answers are part of the decision (appended only when there are some: keys of labels
    # imported before criteria existed stay what they were)
    return content + ("\x1f" + canonical_json(lab.criteria) if lab.criteria else "")


def _checked_label(rubric: Rubric, lab: HumanLabel) -> HumanLabel:
    """``lab`` as stored under ``rubric`` (canonical answers, the derived overall label), or :class:`UserError`."""
    try:
        label, criteria = rubric.answer(lab.label, lab.criteria)
    except ValueError as exc:
        raise UserError(f"label for item {lab.item_id!r} by {lab.annotator!r}: {exc}") from None
    if label == lab.label and criteria == lab.criteria:
        return lab
    return lab.model_copy(update={"label": label, "criteria": criteria})


def _label_criteria_rows(lab: HumanLabel, revision: int) -> list[tuple[Any, ...]]:
    """The ``label_criteria`` rows of a label stored as ``revision``."""
    return [
        (lab.item_id, lab.annotator, lab.rubric_id, lab.rubric_version, revision, name, value)
        for name, value in lab.criteria.items()
    ]


def _label_key(r: Any) -> tuple[Any, ...]:
    return (r["item_id"], r["annotator"], r["rubric_id"], int(r["rubric_version"]), int(r["revision"]))


def _label_criteria(c: Database, r: Any) -> dict[str, str] | None:
    """The criteria answers of one stored label row (None when it has none)."""
    rows = c.rows(
        "SELECT criterion, value FROM label_criteria WHERE rubric_id = ? AND rubric_version = ? AND item_id = ? "
        "AND annotator = ? AND revision = ?",
        (r["rubric_id"], r["rubric_version"], r["item_id"], r["annotator"], r["revision"]),
    )
    return {str(k): str(v) for k, v in rows} or None


def _import_key(content: str, occurrence: int, created_iso: str | None = None) -> str:
    """The idempotency key of an imported label: its content, the how-many-th identical one it is, and the time
    when that is what tells it apart."""
    text = f"{content}\x1e{occurrence}" + ("" if created_iso is None else f"\x1e{created_iso}")
    return _IMPORT_PREFIX + hashlib.sha256(text.encode()).hexdigest()[:32]


def legacy_label_import_key(lab: HumanLabel) -> str:
    """The key labels were imported under before judgekit 0.2 (a hash of the record as given, time included),
    so files imported then are still recognised."""
    exclude = {"revision"} | ({"provenance"} if lab.provenance == "blind" else set())
    body = canonical_json(lab.model_dump(mode="json", exclude=exclude))
    return _LEGACY_IMPORT_PREFIX + hashlib.sha256(body.encode()).hexdigest()


ProvenanceFilter = Provenance | Sequence[Provenance] | None
"""Which label provenances a read keeps: one, several, or ``None`` for every provenance."""


def _provenance_clause(provenance: ProvenanceFilter, column: str) -> tuple[str, list[str]]:
    """``AND column IN (?, ...)`` and its parameters for a provenance filter (empty for ``None``)."""
    if provenance is None:
        return "", []
    wanted: list[str] = [provenance] if isinstance(provenance, str) else list(provenance)
    unknown = sorted(set(wanted) - set(PROVENANCES))
    if unknown or not wanted:
        raise UserError(f"unknown label provenance {unknown or wanted}: expected one of {', '.join(PROVENANCES)}")
    return f"AND {column} IN ({', '.join('?' * len(wanted))})", wanted


def _label_filter(rubric_id: str | None, rubric_version: int | None, annotator: str | None) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if rubric_id is not None:
        clauses.append("l.rubric_id = ?")
        params.append(rubric_id)
    if rubric_version is not None:
        clauses.append("l.rubric_version = ?")
        params.append(rubric_version)
    if annotator is not None:
        clauses.append("l.annotator = ?")
        params.append(annotator)
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), params


INSERT_VERDICT = (
    "INSERT INTO verdicts (run_id, item_id, status, label, confidence, confidence_source, rationale, raw_reply,"
    " input_tokens, output_tokens, cost_usd, latency_s, cache_hit, created_at, extra_json)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
"""The statement that stores one verdict; its parameters are :func:`verdict_row`."""


def verdict_row(run_id: int, v: JudgeVerdict, now: datetime | None = None) -> tuple[Any, ...]:
    """The parameters of :data:`INSERT_VERDICT` for ``v`` in run ``run_id`` (``now`` when it has no time)."""
    return (
        run_id,
        v.item_id,
        v.status,
        v.label,
        v.confidence,
        v.confidence_source,
        v.rationale,
        v.raw_reply,
        v.input_tokens,
        v.output_tokens,
        v.cost_usd,
        v.latency_s,
        int(v.cache_hit),
        (v.created_at or now or datetime.now(UTC)).isoformat(),
        canonical_json(v.extra) if v.extra else "{}",
    )


INSERT_VERDICT_CRITERION = (
    "INSERT INTO verdict_criteria (run_id, item_id, criterion, status, label, confidence, confidence_source,"
    " rationale) VALUES (?,?,?,?,?,?,?,?)"
)
"""The statement that stores one criterion answer of a verdict; its parameters are :func:`verdict_criteria_rows`."""


def verdict_criteria_rows(run_id: int, v: JudgeVerdict) -> list[tuple[Any, ...]]:
    """The parameters of :data:`INSERT_VERDICT_CRITERION` for each criterion answer of ``v``."""
    return [
        (run_id, v.item_id, name, a.status, a.label, a.confidence, a.confidence_source, a.rationale)
        for name, a in v.criteria.items()
    ]


def _verdict_criteria(c: Database, run_id: int, item_ids: Sequence[str] | None) -> dict[str, dict[str, Any]]:
    """The criteria answers of a run's verdicts (of ``item_ids``, or all), by item id (none: one scale)."""
    sql = (
        "SELECT item_id, criterion, status, label, confidence, confidence_source, rationale FROM verdict_criteria "
        "WHERE run_id = ?"
    )
    if item_ids is not None and len(item_ids) == 1:
        rows = c.rows(sql + " AND item_id = ?", (run_id, item_ids[0]))
    else:
        rows = c.rows(sql, (run_id,))
        if item_ids is not None:
            wanted = set(item_ids)
            rows = [r for r in rows if r[0] in wanted]
    out: dict[str, dict[str, Any]] = {}
    for item_id, criterion, status, label, confidence, source, rationale in rows:
        out.setdefault(str(item_id), {})[str(criterion)] = CriterionVerdict(
            status=status, label=label, confidence=confidence, confidence_source=source, rationale=rationale
        )
    return out


def _iso(d: datetime | None) -> str | None:
    return None if d is None else d.isoformat()


def _dt(s: str | None) -> datetime | None:
    return None if s is None else datetime.fromisoformat(s)


ITEM_INSERT_COLUMNS = (
    "id",
    "input",
    "output",
    "output_a",
    "output_b",
    "reference",
    "context",
    "segment",
    "source",
    "risk",
    "created_at",
    "extra_json",
    "content_hash",
    "seq",
    "conversation_json",
)
"""The columns :meth:`Project.add_items` writes, in order."""
_ITEM_COLUMNS = (
    "id, input, output, output_a, output_b, reference, context, segment, source, risk, created_at, extra_json,"
    " conversation_json"
)
"""The columns :func:`_item_from_row` reads, in its order."""
_NO_METADATA = ItemMetadata()
"""The metadata of an item that has none (models are frozen, so one instance serves every such item)."""


def _item_from_row(r: tuple[Any, ...]) -> Item:
    """An item from a row of :data:`_ITEM_COLUMNS`, validated like any other (the row was validated on the way in,
    but the database file is the user's)."""
    item_id, input_, output, output_a, output_b, reference, context, segment, source, risk, created_at, extra, conv = r
    conversation: dict[str, Any] = {}
    if conv is not None:
        conversation = json.loads(conv)
        if "input" in conversation:
            input_ = conversation.pop("input")
    if segment is None and source is None and risk is None and created_at is None and extra == "{}":
        meta = _NO_METADATA
    else:
        meta = ItemMetadata(
            segment=segment, source=source, risk=risk, created_at=_dt(created_at), extra=json.loads(extra)
        )
    return Item(
        id=item_id,
        input=input_,
        output=output,
        output_a=output_a,
        output_b=output_b,
        reference=reference,
        context=context,
        metadata=meta,
        **conversation,
    )


def item_row(item: Item, content_hash: str, seq: int) -> tuple[Any, ...]:
    """The ``items`` row of an item, in the order of :data:`ITEM_INSERT_COLUMNS` (``seq``: its insertion order)."""
    m = item.metadata
    return (
        item.id,
        "" if item.input is None else item.input,
        item.output,
        item.output_a,
        item.output_b,
        item.reference,
        item.context,
        m.segment,
        m.source,
        m.risk,
        m.created_at.isoformat() if m.created_at else None,
        canonical_json(m.extra) if m.extra else "{}",
        content_hash,
        seq,
        _conversation_json(item),
    )


def _conversation_json(item: Item) -> str | None:
    """The conversation fields of an item as one JSON document (``None`` for an item without a conversation)."""
    if not item.is_conversation:
        return None
    doc: dict[str, Any] = item.conversation_dump()
    if item.input is None:
        doc["input"] = None
    return canonical_json(doc)


def _label_from_row(r: Any, criteria: dict[str, str] | None = None) -> HumanLabel:
    return HumanLabel(
        item_id=r["item_id"],
        annotator=r["annotator"],
        rubric_id=r["rubric_id"],
        rubric_version=r["rubric_version"],
        label=r["label"],
        critique=r["critique"],
        time_spent_s=r["time_spent_s"],
        created_at=_dt(r["created_at"]),
        revision=r["revision"],
        flagged=bool(r["flagged"]),
        display_order=r["display_order"],
        provenance=r["provenance"],
        criteria=criteria or {},
    )


def _verdict_from_row(r: Any, fingerprint: str, criteria: dict[str, Any] | None = None) -> JudgeVerdict:
    return JudgeVerdict(
        item_id=r["item_id"],
        judge_fingerprint=fingerprint,
        status=r["status"],
        label=r["label"],
        confidence=r["confidence"],
        confidence_source=r["confidence_source"],
        rationale=r["rationale"],
        raw_reply=r["raw_reply"],
        input_tokens=r["input_tokens"],
        output_tokens=r["output_tokens"],
        cost_usd=r["cost_usd"],
        latency_s=r["latency_s"],
        cache_hit=bool(r["cache_hit"]),
        created_at=_dt(r["created_at"]),
        extra=json.loads(r["extra_json"]),
        criteria=criteria or {},
    )


def _same_verdict(a: JudgeVerdict, b: JudgeVerdict) -> bool:
    skip = {"created_at", "judge_fingerprint"}
    return a.model_dump(exclude=skip) == b.model_dump(exclude=skip)
