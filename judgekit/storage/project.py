"""The project database: one SQLite file (WAL mode, foreign keys on) holding everything judgekit knows.

Why SQLite: a single file a team can copy, inspect with any SQLite tool and commit to object storage; WAL lets
the labeling app, a judge run and a report read and write at the same time. Every write is one explicit
``BEGIN IMMEDIATE`` transaction, so an interrupted import or run leaves nothing half-written.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from judgekit.errors import StorageError, UserError
from judgekit.models import (
    PROVENANCES,
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
from judgekit.storage.migrations import migrate

DEFAULT_DB = "judgekit.db"
"""Database file used when neither ``--db`` nor ``JUDGEKIT_DB`` is given."""


def resolve_db_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The database path: the explicit argument, else ``$JUDGEKIT_DB``, else ``./judgekit.db``."""
    if path is not None:
        return Path(path)
    env = os.environ.get("JUDGEKIT_DB")
    return Path(env) if env else Path(DEFAULT_DB)


def now_iso() -> str:
    """Current UTC time in ISO 8601, the timestamp format of every table."""
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True)
class WriteCounts:
    """What a write changed: rows added and rows that were already present unchanged."""

    added: int = 0
    unchanged: int = 0


class Project:
    """A handle on one project database. Not shared between threads: open one per thread or session."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, create: bool = True) -> None:
        self.path = resolve_db_path(path)
        if not create and not self.path.exists():
            raise UserError(f"no project database at {self.path}: run 'judgekit init' (or pass --db / set JUDGEKIT_DB)")
        if self.path.parent and not self.path.parent.exists():
            raise UserError(f"cannot create {self.path}: folder {self.path.parent} does not exist")
        try:
            self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=30.0, check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"{self.path} is not a judgekit project database: {exc}") from exc
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA busy_timeout=30000")
        self.conn.row_factory = sqlite3.Row
        migrate(self.conn)

    # -- lifecycle --------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self.conn.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``): all of it is committed, or none of it."""
        if self.conn.in_transaction:
            yield self.conn
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def journal_mode(self) -> str:
        """The SQLite journal mode in force (``wal``)."""
        return str(self.conn.execute("PRAGMA journal_mode").fetchone()[0])

    def get_meta(self, key: str) -> str | None:
        """A project-level setting (e.g. ``kind`` = ``demo``)."""
        row = self.conn.execute("SELECT value FROM project_meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

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
        """Insert items in one transaction. An identical existing item is skipped; a different one is refused.

        Raises :class:`UserError` naming the first conflicting id; nothing is written then.
        """
        added = unchanged = 0
        with self.transaction() as c:
            seq = int(c.execute("SELECT COALESCE(MAX(seq), 0) FROM items").fetchone()[0])
            for item in items:
                h = item.content_hash()
                row = c.execute("SELECT content_hash FROM items WHERE id = ?", (item.id,)).fetchone()
                if row is not None:
                    if row[0] != h:
                        raise UserError(
                            f"item {item.id!r} already exists with different content; items are "
                            "immutable: give the changed item a new id"
                        )
                    unchanged += 1
                    continue
                seq += 1
                m = item.metadata
                c.execute(
                    "INSERT INTO items (id, input, output, output_a, output_b, reference, context, segment, source,"
                    " risk, created_at, extra_json, content_hash, seq, conversation_json)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
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
                        canonical_json(m.extra),
                        h,
                        seq,
                        _conversation_json(item),
                    ),
                )
                added += 1
        return WriteCounts(added, unchanged)

    def items(self, ids: Sequence[str] | None = None) -> list[Item]:
        """Items in insertion order (all, or the given ids in that order)."""
        cur = self.conn.cursor()
        cur.row_factory = None  # plain tuples: loading is per item, and a Row object per item is a measurable share
        if ids is None:
            return [_item_from_row(r) for r in cur.execute(f"SELECT {_ITEM_COLUMNS} FROM items ORDER BY seq")]
        out = []
        for i in ids:
            r = cur.execute(f"SELECT {_ITEM_COLUMNS} FROM items WHERE id = ?", (i,)).fetchone()
            if r is None:
                raise UserError(f"unknown item id {i!r}")
            out.append(_item_from_row(r))
        return out

    def get_item(self, item_id: str) -> Item | None:
        """One item, or ``None``."""
        cur = self.conn.cursor()
        cur.row_factory = None
        r = cur.execute(f"SELECT {_ITEM_COLUMNS} FROM items WHERE id = ?", (item_id,)).fetchone()
        return None if r is None else _item_from_row(r)

    def item_count(self) -> int:
        """Number of items."""
        return int(self.conn.execute("SELECT COUNT(*) FROM items").fetchone()[0])

    def item_ids(self) -> set[str]:
        """Every item id."""
        return {str(r[0]) for r in self.conn.execute("SELECT id FROM items")}

    # -- rubrics ----------------------------------------------------------------------------------------------

    def save_rubric(self, rubric: Rubric) -> bool:
        """Store a rubric version; ``True`` if new. Re-saving an identical version is a no-op; changing a stored
        version is refused (bump ``version`` instead), so labels always mean what they meant."""
        body = canonical_json(rubric.model_dump(mode="json"))
        with self.transaction() as c:
            row = c.execute(
                "SELECT body_json FROM rubrics WHERE rubric_id = ? AND version = ?",
                (rubric.id, rubric.version),
            ).fetchone()
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
            row = self.conn.execute(
                "SELECT body_json FROM rubrics WHERE rubric_id = ? ORDER BY version DESC LIMIT 1",
                (rubric_id,),
            ).fetchone()
        else:
            row = self.conn.execute(
                "SELECT body_json FROM rubrics WHERE rubric_id = ? AND version = ?", (rubric_id, version)
            ).fetchone()
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
            f"{r[0]}@{r[1]}"
            for r in self.conn.execute("SELECT rubric_id, version FROM rubrics ORDER BY rubric_id, version")
        ]

    def rubrics(self) -> list[Rubric]:
        """Every stored rubric version."""
        return [
            Rubric.model_validate_json(r[0])
            for r in self.conn.execute("SELECT body_json FROM rubrics ORDER BY rubric_id, version")
        ]

    # -- labels -----------------------------------------------------------------------------------------------

    def add_label(
        self, label: HumanLabel, *, request_id: str | None = None, conn: sqlite3.Connection | None = None
    ) -> HumanLabel:
        """Append a label; its ``revision`` is assigned here (1 + the annotator's latest for that item).

        ``request_id`` makes a submit idempotent: a second call with the same id (a double click, a rerun)
        returns the stored label and writes nothing. Validates the label against the rubric's levels.
        """
        with self.transaction() as c:
            if request_id is not None:
                r = c.execute("SELECT * FROM labels WHERE request_id = ?", (request_id,)).fetchone()
                if r is not None:
                    return _label_from_row(r)
            self._check_label(c, label)
            rev = (
                int(
                    c.execute(
                        "SELECT COALESCE(MAX(revision), 0) FROM labels WHERE item_id = ? AND annotator = ? AND "
                        "rubric_id = ? AND rubric_version = ?",
                        (label.item_id, label.annotator, label.rubric_id, label.rubric_version),
                    ).fetchone()[0]
                )
                + 1
            )
            stored = label.model_copy(update={"revision": rev, "created_at": label.created_at or datetime.now(UTC)})
            c.execute(
                "INSERT INTO labels (item_id, annotator, rubric_id, rubric_version, label, critique, time_spent_s,"
                " created_at, revision, flagged, display_order, provenance, request_id)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    stored.item_id,
                    stored.annotator,
                    stored.rubric_id,
                    stored.rubric_version,
                    stored.label,
                    stored.critique,
                    stored.time_spent_s,
                    _iso(stored.created_at),
                    rev,
                    int(stored.flagged),
                    stored.display_order,
                    stored.provenance,
                    request_id,
                ),
            )
            return stored

    def _check_label(self, c: sqlite3.Connection, label: HumanLabel) -> None:
        if c.execute("SELECT 1 FROM items WHERE id = ?", (label.item_id,)).fetchone() is None:
            raise UserError(f"label for unknown item {label.item_id!r}: import the item first")
        rubric = self.rubric(label.rubric_id, label.rubric_version)
        try:
            rubric.check_label(label.label)
        except ValueError as exc:
            raise UserError(str(exc)) from None

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
        r = self.conn.execute(
            "SELECT * FROM labels WHERE item_id = ? AND annotator = ? AND rubric_id = ? AND rubric_version = ? "
            f"{prov_sql} ORDER BY revision DESC LIMIT 1",
            (item_id, annotator, rubric_id, rubric_version, *prov_params),
        ).fetchone()
        return None if r is None else _label_from_row(r)

    def labels(
        self,
        rubric_id: str | None = None,
        rubric_version: int | None = None,
        *,
        history: bool = False,
        annotator: str | None = None,
        provenance: ProvenanceFilter = None,
    ) -> list[HumanLabel]:
        """Labels ordered by item, annotator, revision: the latest revision of each, or every revision.

        ``provenance`` (one value or several; default every provenance) keeps only labels that came about that
        way; "latest" is then the latest among those, so an annotator's blind label stays their blind label when
        they later adjudicate the same item.
        """
        where, params = _label_filter(rubric_id, rubric_version, annotator)
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
        return [_label_from_row(r) for r in self.conn.execute(sql, params)]

    def current_label_rows(
        self, rubric_id: str, rubric_version: int, *, provenance: ProvenanceFilter = "blind"
    ) -> list[tuple[str, str, str, int]]:
        """``(item_id, annotator, label, item seq)`` of every annotator's latest label on every item of a rubric
        version, as plain tuples (what an analysis reads in bulk). Blind labels only by default: the basis of every
        human figure; corrections and adjudications are asked for by name."""
        prov_l, p_l = _provenance_clause(provenance, "l.provenance")
        prov_m, p_m = _provenance_clause(provenance, "m.provenance")
        cur = self.conn.cursor()
        cur.row_factory = None
        rows = cur.execute(
            "SELECT l.item_id, l.annotator, l.label, i.seq FROM labels l JOIN items i ON i.id = l.item_id "
            f"WHERE l.rubric_id = ? AND l.rubric_version = ? {prov_l} AND l.revision = ("
            "SELECT MAX(revision) FROM labels m WHERE m.item_id = l.item_id AND m.annotator = l.annotator AND "
            f"m.rubric_id = l.rubric_id AND m.rubric_version = l.rubric_version {prov_m})",
            (rubric_id, rubric_version, *p_l, *p_m),
        ).fetchall()
        return [(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]

    def label_count(self) -> int:
        """Number of label rows (every revision)."""
        return int(self.conn.execute("SELECT COUNT(*) FROM labels").fetchone()[0])

    # -- judge runs and verdicts -----------------------------------------------------------------------------

    def create_run(
        self, name: str, config: JudgeConfig, *, source: str = "engine", meta: dict[str, Any] | None = None
    ) -> JudgeRun:
        """Create a named run of ``config``; the rubric version must be stored. Names are unique."""
        self.rubric(config.rubric_id, config.rubric_version)
        fp = config.fingerprint()
        with self.transaction() as c:
            if c.execute("SELECT 1 FROM judge_runs WHERE name = ?", (name,)).fetchone() is not None:
                raise UserError(f"a judge run named {name!r} already exists; choose another name or resume it")
            c.execute(
                "INSERT OR IGNORE INTO judge_configs (fingerprint, body_json) VALUES (?, ?)",
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
            r = self.conn.execute(
                "SELECT * FROM judge_runs WHERE id = ? OR name = ?", (int(name_or_id), str(name_or_id))
            ).fetchone()
        else:
            r = self.conn.execute("SELECT * FROM judge_runs WHERE name = ?", (name_or_id,)).fetchone()
        if r is None:
            known = ", ".join(x.name for x in self.runs()) or "none"
            raise UserError(f"no judge run {name_or_id!r} in the project (runs: {known})")
        return self._run_from_row(r)

    def find_run(self, name: str) -> JudgeRun | None:
        """A run by name, or ``None``."""
        r = self.conn.execute("SELECT * FROM judge_runs WHERE name = ?", (name,)).fetchone()
        return None if r is None else self._run_from_row(r)

    def runs(self) -> list[JudgeRun]:
        """Every run, oldest first."""
        return [self._run_from_row(r) for r in self.conn.execute("SELECT * FROM judge_runs ORDER BY id")]

    def _run_from_row(self, r: sqlite3.Row) -> JudgeRun:
        body = self.conn.execute(
            "SELECT body_json FROM judge_configs WHERE fingerprint = ?", (r["fingerprint"],)
        ).fetchone()[0]
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
                old = json.loads(c.execute("SELECT meta_json FROM judge_runs WHERE id = ?", (run_id,)).fetchone()[0])
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
                if v.label is not None:
                    try:
                        rubric.check_label(v.label)
                    except ValueError as exc:
                        raise UserError(f"verdict for item {v.item_id!r}: {exc}") from None
                if c.execute("SELECT 1 FROM items WHERE id = ?", (v.item_id,)).fetchone() is None:
                    raise UserError(f"verdict for unknown item {v.item_id!r}: import the item first")
                v = v.model_copy(
                    update={
                        "judge_fingerprint": run.fingerprint,
                        "created_at": v.created_at or datetime.now(UTC),
                    }
                )
                old = c.execute(
                    "SELECT * FROM verdicts WHERE run_id = ? AND item_id = ?", (run_id, v.item_id)
                ).fetchone()
                if old is not None:
                    stored = _verdict_from_row(old, run.fingerprint)
                    if _same_verdict(stored, v):
                        unchanged += 1
                        continue
                    raise UserError(f"run {run.name!r} already has a different verdict for item {v.item_id!r}")
                c.execute(INSERT_VERDICT, verdict_row(run_id, v))
                added += 1
        return WriteCounts(added, unchanged)

    def append_verdicts(self, run_id: int, verdicts: Sequence[JudgeVerdict], levels: Iterable[str]) -> None:
        """Store a batch of new verdicts of an engine run in one transaction with one ``executemany``.

        The judge engine's bulk path: its verdicts are validated models whose labels the parser took from the
        rubric's ``levels``, for items without a verdict in the run, so the per-row checks of
        :meth:`add_verdicts` (a query per verdict) are not repeated; the database still enforces the item's
        existence and one verdict per item and run. Anything unexpected (a label that is not a level, an unknown
        item, a verdict already stored by another process) goes through :meth:`add_verdicts`, which skips an
        identical verdict and names the problem otherwise."""
        allowed = set(levels)
        if any(v.label is not None and v.label not in allowed for v in verdicts):
            self.add_verdicts(run_id, verdicts)
            return
        now = datetime.now(UTC)
        rows = [verdict_row(run_id, v, now) for v in verdicts]
        try:
            with self.transaction() as c:
                c.executemany(INSERT_VERDICT, rows)
        except sqlite3.IntegrityError:
            self.add_verdicts(run_id, verdicts)

    def verdict_count(self, run_id: int) -> int:
        """Number of verdicts stored for the run."""
        return int(self.conn.execute("SELECT COUNT(*) FROM verdicts WHERE run_id = ?", (run_id,)).fetchone()[0])

    def delete_empty_run(self, run_id: int) -> bool:
        """Delete a run that has no verdicts (a run that failed before its first verdict, e.g. on a rejected API
        key, leaves nothing behind); ``False`` and nothing deleted when it has verdicts."""
        with self.transaction() as c:
            if c.execute("SELECT 1 FROM verdicts WHERE run_id = ? LIMIT 1", (run_id,)).fetchone() is not None:
                return False
            c.execute("DELETE FROM judge_runs WHERE id = ?", (run_id,))
        return True

    def verdicts(self, run: str | int | JudgeRun) -> list[JudgeVerdict]:
        """Every verdict of a run, in item order."""
        r = run if isinstance(run, JudgeRun) else self.run(run)
        rows = self.conn.execute(
            "SELECT v.* FROM verdicts v JOIN items i ON i.id = v.item_id WHERE v.run_id = ? ORDER BY i.seq",
            (r.id,),
        ).fetchall()
        return [_verdict_from_row(row, r.fingerprint) for row in rows]

    def verdict_item_ids(self, run_id: int) -> set[str]:
        """Ids of items that already have a verdict in the run (what a resumed run skips)."""
        return {str(x[0]) for x in self.conn.execute("SELECT item_id FROM verdicts WHERE run_id = ?", (run_id,))}


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


def _iso(d: datetime | None) -> str | None:
    return None if d is None else d.isoformat()


def _dt(s: str | None) -> datetime | None:
    return None if s is None else datetime.fromisoformat(s)


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


def _conversation_json(item: Item) -> str | None:
    """The conversation fields of an item as one JSON document (``None`` for an item without a conversation)."""
    if not item.is_conversation:
        return None
    doc: dict[str, Any] = item.conversation_dump()
    if item.input is None:
        doc["input"] = None
    return canonical_json(doc)


def _label_from_row(r: sqlite3.Row) -> HumanLabel:
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
    )


def _verdict_from_row(r: sqlite3.Row, fingerprint: str) -> JudgeVerdict:
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
    )


def _same_verdict(a: JudgeVerdict, b: JudgeVerdict) -> bool:
    skip = {"created_at", "judge_fingerprint"}
    return a.model_dump(exclude=skip) == b.model_dump(exclude=skip)
