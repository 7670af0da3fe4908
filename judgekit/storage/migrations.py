"""Ordered, named schema migrations of the project database, for SQLite and PostgreSQL.

Why: a project database outlives the judgekit version that created it. Every schema change is a new entry at the
end of :data:`MIGRATIONS` (never edit a released one); :func:`migrate` applies the missing ones in order, each in
its own write transaction, and records it in ``schema_migrations``. A database that has migrations this judgekit
does not know was written by a newer judgekit and is refused rather than misread; a database holding tables but no
``schema_migrations`` belongs to another application and is left untouched.

One schema, two engines: a migration's ``sql`` is portable DDL, written once. Types are those both engines know
(``TEXT``, ``INTEGER``, ``BIGINT``, ``REAL``); for PostgreSQL, :func:`pg_ddl` turns ``REAL`` into ``DOUBLE
PRECISION`` (SQLite's REAL is 8 bytes; PostgreSQL's is 4), ``INTEGER PRIMARY KEY AUTOINCREMENT`` into an identity
column and drops ``WITHOUT ROWID``. What cannot be portable (trigger bodies) goes into the ``sqlite`` and
``postgresql`` parts, which must do the same thing.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

from judgekit.errors import NotAProjectError, StorageError
from judgekit.storage.database import Database


@dataclass(frozen=True)
class Migration:
    """One schema step: a sequential id, a descriptive name, portable SQL and the engine-specific parts."""

    id: int
    name: str
    sql: str
    sqlite: str = ""
    """Statements only SQLite runs (after ``sql``): trigger bodies in SQLite's syntax."""
    postgresql: str = ""
    """Statements only PostgreSQL runs (after ``sql``), run as one script: PL/pgSQL functions and triggers."""

    def scripts(self, dialect: str) -> list[str]:
        """The statements this migration runs on ``dialect``, in order."""
        if dialect == "postgresql":
            out = [pg_ddl(s) for s in _split_sql(self.sql)]
            return out + ([self.postgresql.strip()] if self.postgresql.strip() else [])
        return _split_sql(self.sql) + _split_sql(self.sqlite)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "initial_schema",
        """
        CREATE TABLE project_meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE items (
            id TEXT PRIMARY KEY,
            input TEXT NOT NULL,
            output TEXT,
            output_a TEXT,
            output_b TEXT,
            reference TEXT,
            context TEXT,
            segment TEXT,
            source TEXT,
            risk TEXT CHECK (risk IN ('low', 'medium', 'high')),
            created_at TEXT,
            extra_json TEXT NOT NULL DEFAULT '{}',
            content_hash TEXT NOT NULL,
            seq INTEGER NOT NULL UNIQUE
        );
        CREATE INDEX items_segment ON items(segment);
        CREATE TABLE rubrics (
            rubric_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            body_json TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (rubric_id, version)
        );
        CREATE TABLE labels (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            item_id TEXT NOT NULL REFERENCES items(id),
            annotator TEXT NOT NULL,
            rubric_id TEXT NOT NULL,
            rubric_version INTEGER NOT NULL,
            label TEXT NOT NULL,
            critique TEXT,
            time_spent_s REAL,
            created_at TEXT NOT NULL,
            revision INTEGER NOT NULL,
            flagged INTEGER NOT NULL DEFAULT 0,
            display_order TEXT CHECK (display_order IN ('ab', 'ba')),
            request_id TEXT UNIQUE,
            FOREIGN KEY (rubric_id, rubric_version) REFERENCES rubrics(rubric_id, version),
            UNIQUE (item_id, annotator, rubric_id, rubric_version, revision)
        );
        CREATE INDEX labels_by_rubric ON labels(rubric_id, rubric_version, item_id);
        CREATE INDEX labels_by_annotator ON labels(annotator, rubric_id, rubric_version);
        CREATE TABLE judge_configs (
            fingerprint TEXT PRIMARY KEY,
            body_json TEXT NOT NULL
        );
        CREATE TABLE judge_runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL UNIQUE,
            fingerprint TEXT NOT NULL REFERENCES judge_configs(fingerprint),
            rubric_id TEXT NOT NULL,
            rubric_version INTEGER NOT NULL,
            source TEXT NOT NULL CHECK (source IN ('engine', 'import')),
            status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'interrupted')),
            created_at TEXT NOT NULL,
            meta_json TEXT NOT NULL DEFAULT '{}',
            FOREIGN KEY (rubric_id, rubric_version) REFERENCES rubrics(rubric_id, version)
        );
        CREATE TABLE verdicts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id INTEGER NOT NULL REFERENCES judge_runs(id),
            item_id TEXT NOT NULL REFERENCES items(id),
            status TEXT NOT NULL CHECK (status IN ('ok', 'parse_error', 'refused', 'api_error')),
            label TEXT,
            confidence REAL CHECK (confidence IS NULL OR (confidence >= 0 AND confidence <= 1)),
            confidence_source TEXT NOT NULL,
            rationale TEXT,
            raw_reply TEXT,
            input_tokens INTEGER,
            output_tokens INTEGER,
            cost_usd REAL,
            latency_s REAL,
            cache_hit INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            extra_json TEXT NOT NULL DEFAULT '{}',
            UNIQUE (run_id, item_id),
            CHECK ((status = 'ok') = (label IS NOT NULL))
        );
        CREATE INDEX verdicts_by_item ON verdicts(item_id);
    """,
        # Labels are append-only: a revision is a new row, history is never rewritten.
        sqlite="""
        CREATE TRIGGER labels_no_update BEFORE UPDATE ON labels
            BEGIN SELECT RAISE(ABORT, 'labels are append-only: add a new revision instead'); END;
        CREATE TRIGGER labels_no_delete BEFORE DELETE ON labels
            BEGIN SELECT RAISE(ABORT, 'labels are append-only and never deleted'); END;
    """,
        postgresql="""
        CREATE FUNCTION judgekit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
        END $$;
        CREATE TRIGGER labels_no_update BEFORE UPDATE ON labels FOR EACH ROW
            EXECUTE FUNCTION judgekit_refuse_change('labels are append-only: add a new revision instead');
        CREATE TRIGGER labels_no_delete BEFORE DELETE ON labels FOR EACH ROW
            EXECUTE FUNCTION judgekit_refuse_change('labels are append-only and never deleted');
        CREATE TRIGGER labels_no_truncate BEFORE TRUNCATE ON labels FOR EACH STATEMENT
            EXECUTE FUNCTION judgekit_refuse_change('labels are append-only and never deleted');
    """,
    ),
    Migration(
        2,
        "annotators_and_assignments",
        """
        CREATE TABLE annotators (
            name TEXT PRIMARY KEY,
            code_hash TEXT NOT NULL UNIQUE,
            is_admin INTEGER NOT NULL DEFAULT 0,
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL
        );
        CREATE TABLE skips (
            item_id TEXT NOT NULL REFERENCES items(id),
            annotator TEXT NOT NULL,
            rubric_id TEXT NOT NULL,
            rubric_version INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (item_id, annotator, rubric_id, rubric_version)
        );
    """,
    ),
    Migration(
        3,
        "llm_call_cache",
        """
        CREATE TABLE llm_cache (
            key TEXT PRIMARY KEY,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            response_json TEXT NOT NULL,
            input_tokens INTEGER,
            output_tokens INTEGER,
            cost_usd REAL,
            created_at TEXT NOT NULL
        );
    """,
    ),
    Migration(
        4,
        "labeling_queue",
        """
        -- One row per (rubric version, item): how many annotators should label it (target), how many have
        -- (n_labelled, kept by the trigger below), and the order it is offered in (priority, then seq).
        CREATE TABLE label_queue (
            rubric_id TEXT NOT NULL,
            rubric_version INTEGER NOT NULL,
            item_id TEXT NOT NULL REFERENCES items(id),
            seq INTEGER NOT NULL,
            priority REAL NOT NULL DEFAULT 0,
            target INTEGER NOT NULL CHECK (target >= 1),
            overlap INTEGER NOT NULL DEFAULT 0,
            n_labelled INTEGER NOT NULL DEFAULT 0,
            reasons TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (rubric_id, rubric_version, item_id)
        );
        -- Partial index over the open items only, in offer order: the next-item query walks it from the top.
        CREATE INDEX label_queue_open ON label_queue(rubric_id, rubric_version, priority DESC, seq)
            WHERE n_labelled < target;
        -- Short-lived reservations, so two annotators are not both handed an item that needs one more label.
        CREATE TABLE label_claims (
            rubric_id TEXT NOT NULL,
            rubric_version INTEGER NOT NULL,
            item_id TEXT NOT NULL,
            annotator TEXT NOT NULL,
            expires_at REAL NOT NULL,
            PRIMARY KEY (rubric_id, rubric_version, item_id, annotator)
        );
        CREATE INDEX label_claims_by_annotator ON label_claims(annotator, rubric_id, rubric_version);
        ALTER TABLE skips ADD COLUMN flagged INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE skips ADD COLUMN note TEXT;
    """,
        sqlite="""
        CREATE TRIGGER label_queue_count AFTER INSERT ON labels WHEN NEW.revision = 1
        BEGIN
            UPDATE label_queue SET n_labelled = n_labelled + 1
            WHERE rubric_id = NEW.rubric_id AND rubric_version = NEW.rubric_version AND item_id = NEW.item_id;
        END;
    """,
        postgresql="""
        CREATE FUNCTION judgekit_label_queue_count() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE label_queue SET n_labelled = n_labelled + 1
            WHERE rubric_id = NEW.rubric_id AND rubric_version = NEW.rubric_version AND item_id = NEW.item_id;
            RETURN NULL;
        END $$;
        CREATE TRIGGER label_queue_count AFTER INSERT ON labels FOR EACH ROW WHEN (NEW.revision = 1)
            EXECUTE FUNCTION judgekit_label_queue_count();
    """,
    ),
    Migration(
        5,
        "calibration_splits_and_looks",
        """
        -- Dev/test splits of the labelled items (judgekit.calibration). A split is versioned: re-splitting under
        -- the same name adds a version; a stored version is never changed, so every recorded look refers to the
        -- exact items it was computed on.
        CREATE TABLE splits (
            name TEXT NOT NULL,
            version INTEGER NOT NULL CHECK (version >= 1),
            rubric_id TEXT NOT NULL,
            rubric_version INTEGER NOT NULL,
            method TEXT NOT NULL CHECK (method IN ('stratified', 'time', 'source')),
            test_fraction REAL NOT NULL CHECK (test_fraction > 0 AND test_fraction < 1),
            seed INTEGER,
            params_json TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            PRIMARY KEY (name, version),
            FOREIGN KEY (rubric_id, rubric_version) REFERENCES rubrics(rubric_id, version)
        );
        CREATE TABLE split_items (
            split_name TEXT NOT NULL,
            split_version INTEGER NOT NULL,
            item_id TEXT NOT NULL REFERENCES items(id),
            part TEXT NOT NULL CHECK (part IN ('dev', 'test')),
            PRIMARY KEY (split_name, split_version, item_id),
            FOREIGN KEY (split_name, split_version) REFERENCES splits(name, version)
        );
        CREATE INDEX split_items_by_part ON split_items(split_name, split_version, part);
        -- Every evaluation of a judge on a locked test split: each look spends some of the test set's credibility.
        CREATE TABLE split_looks (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            split_name TEXT NOT NULL,
            split_version INTEGER NOT NULL,
            part TEXT NOT NULL CHECK (part IN ('dev', 'test')),
            run_name TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            purpose TEXT NOT NULL,
            n_items INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            FOREIGN KEY (split_name, split_version) REFERENCES splits(name, version)
        );
        CREATE INDEX split_looks_by_split ON split_looks(split_name, split_version);
        -- Items a judge abstained on (confidence under the calibrated threshold), routed to people.
        CREATE TABLE escalations (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            rubric_id TEXT NOT NULL,
            rubric_version INTEGER NOT NULL,
            item_id TEXT NOT NULL REFERENCES items(id),
            run_name TEXT NOT NULL,
            threshold REAL,
            confidence REAL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX escalations_by_rubric ON escalations(rubric_id, rubric_version, item_id);
    """,
        sqlite="""
        CREATE TRIGGER split_items_no_update BEFORE UPDATE ON split_items
            BEGIN SELECT RAISE(ABORT, 'split membership is immutable: create a new split version'); END;
        CREATE TRIGGER split_items_no_delete BEFORE DELETE ON split_items
            BEGIN SELECT RAISE(ABORT, 'split membership is immutable: create a new split version'); END;
    """,
        postgresql="""
        CREATE TRIGGER split_items_no_update BEFORE UPDATE ON split_items FOR EACH ROW
            EXECUTE FUNCTION judgekit_refuse_change('split membership is immutable: create a new split version');
        CREATE TRIGGER split_items_no_delete BEFORE DELETE ON split_items FOR EACH ROW
            EXECUTE FUNCTION judgekit_refuse_change('split membership is immutable: create a new split version');
        CREATE TRIGGER split_items_no_truncate BEFORE TRUNCATE ON split_items FOR EACH STATEMENT
            EXECUTE FUNCTION judgekit_refuse_change('split membership is immutable: create a new split version');
    """,
    ),
    Migration(
        6,
        "labeling_covering_indexes",
        """
        -- Queue rebuild (judgekit.labeling): human label counts per (item, label) of a rubric version are read in
        -- one ordered pass over this covering index. It replaces labels_by_rubric, whose columns are its prefix,
        -- so a submit writes no more index entries than before.
        DROP INDEX labels_by_rubric;
        CREATE INDEX labels_by_rubric_item_label ON labels(rubric_id, rubric_version, item_id, label);
        -- Revisions (revision > 1) are rare: this partial index finds the labels they supersede without a scan.
        -- Only a revision writes to it.
        CREATE INDEX labels_revisions ON labels(rubric_id, rubric_version, item_id, annotator, revision)
            WHERE revision > 1;
        -- Per-annotator progress counts read this index only (no table lookups). It replaces labels_by_annotator,
        -- whose columns are its prefix.
        DROP INDEX labels_by_annotator;
        CREATE INDEX labels_by_annotator_item ON labels(annotator, rubric_id, rubric_version, item_id, flagged);
        -- skips' primary key starts with item_id; progress looks skips up by annotator.
        CREATE INDEX skips_by_annotator ON skips(annotator, rubric_id, rubric_version, item_id, flagged);
        -- How many people's current label on an item is each label, per rubric version: the human majority the
        -- queue ranks "judge confidently wrong" by. Derived from labels, which are append-only, so a queue rebuild
        -- folds in only the labels added since the last one (labels.id above a watermark in project_meta); no
        -- trigger, so a submit does not write it.
        CREATE TABLE label_tally (
            rubric_id TEXT NOT NULL,
            rubric_version INTEGER NOT NULL,
            item_id TEXT NOT NULL,
            label TEXT NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (rubric_id, rubric_version, item_id, label)
        ) WITHOUT ROWID;
    """,
    ),
    Migration(
        7,
        "label_provenance",
        """
        -- How a label came about (judgekit.models.HumanLabel.provenance): blind (the default, and every label stored
        -- before this migration), corrected (a person's correction of a judge's score) or adjudicated (a gold label
        -- an admin resolved). Readers filter on it, so corrections and gold labels never mix silently with blind
        -- labels in a human figure.
        ALTER TABLE labels ADD COLUMN provenance TEXT NOT NULL DEFAULT 'blind'
            CHECK (provenance IN ('blind', 'corrected', 'adjudicated'));
    """,
    ),
    Migration(
        8,
        "item_conversations",
        """
        -- Items that are conversations (judgekit.models.Item.messages, messages_a/b, judged): one JSON document, NULL
        -- for the items without one. A conversation item without an 'input' stores '' in input (NOT NULL since
        -- migration 1) and says so in the document ("input": null), so it reads back exactly.
        ALTER TABLE items ADD COLUMN conversation_json TEXT;
    """,
    ),
    Migration(
        9,
        "queue_counts_blind_labels",
        """
        -- The labeling queue counts the people who labelled an item blind (label_queue.n_labelled): a correction of a
        -- judge's score or an adjudicated gold label is not another independent opinion, and an annotator whose
        -- first label on an item was not blind is counted at their first blind one.
    """,
        sqlite="""
        DROP TRIGGER label_queue_count;
        CREATE TRIGGER label_queue_count AFTER INSERT ON labels
        WHEN NEW.provenance = 'blind' AND (NEW.revision = 1 OR NOT EXISTS (
            SELECT 1 FROM labels p WHERE p.item_id = NEW.item_id AND p.annotator = NEW.annotator
            AND p.rubric_id = NEW.rubric_id AND p.rubric_version = NEW.rubric_version AND p.provenance = 'blind'
            AND p.revision < NEW.revision))
        BEGIN
            UPDATE label_queue SET n_labelled = n_labelled + 1
            WHERE rubric_id = NEW.rubric_id AND rubric_version = NEW.rubric_version AND item_id = NEW.item_id;
        END;
    """,
        postgresql="""
        DROP TRIGGER label_queue_count ON labels;
        CREATE OR REPLACE FUNCTION judgekit_label_queue_count() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.revision = 1 OR NOT EXISTS (
                SELECT 1 FROM labels p WHERE p.item_id = NEW.item_id AND p.annotator = NEW.annotator
                AND p.rubric_id = NEW.rubric_id AND p.rubric_version = NEW.rubric_version
                AND p.provenance = 'blind' AND p.revision < NEW.revision) THEN
                UPDATE label_queue SET n_labelled = n_labelled + 1
                WHERE rubric_id = NEW.rubric_id AND rubric_version = NEW.rubric_version AND item_id = NEW.item_id;
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER label_queue_count AFTER INSERT ON labels FOR EACH ROW WHEN (NEW.provenance = 'blind')
            EXECUTE FUNCTION judgekit_label_queue_count();
    """,
    ),
    Migration(
        10,
        "labeling_sessions_and_sign_in_attempts",
        """
        -- Signed sessions of the labeling app (judgekit.labeling): a session names the annotator and the generation
        -- of their access code; resetting the code increments it, so every session opened with the old code ends.
        ALTER TABLE annotators ADD COLUMN code_generation INTEGER NOT NULL DEFAULT 1;
        -- Every sign-in attempt, kept for throttling per annotator and per client address, for the failed-attempt
        -- log and for the admin's list of lockouts. attempted_at is seconds since the epoch (UTC); annotator is the
        -- one the code's tag names (NULL when the tag is unknown); cleared marks attempts an admin forgave.
        CREATE TABLE sign_in_attempts (
            attempted_at DOUBLE PRECISION NOT NULL,
            annotator TEXT,
            client TEXT,
            ok INTEGER NOT NULL,
            refused INTEGER NOT NULL DEFAULT 0,
            cleared INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX sign_in_attempts_by_annotator ON sign_in_attempts(annotator, attempted_at);
        CREATE INDEX sign_in_attempts_by_client ON sign_in_attempts(client, attempted_at);
    """,
    ),
    Migration(
        11,
        "judge_batches",
        """
        -- Provider batch jobs of judge runs (judgekit judge --batch); owned by judgekit.judging.batch.store. A row is
        -- written BEFORE anything is sent to the provider and moves prepared -> uploaded -> submitting -> submitted
        -- -> ended -> fetched (or abandoned), so a run killed at any moment knows what it has sent.
        CREATE TABLE judge_batches (
            id TEXT PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES judge_runs(id),
            api TEXT NOT NULL CHECK (api IN ('openai', 'anthropic')),
            round INTEGER NOT NULL,
            state TEXT NOT NULL CHECK (state IN
                ('prepared', 'uploaded', 'submitting', 'submitted', 'ended', 'fetched', 'abandoned')),
            remote_id TEXT,
            file_id TEXT,
            remote_status TEXT,
            candidates_json TEXT,
            n_requests INTEGER NOT NULL,
            n_done INTEGER NOT NULL DEFAULT 0,
            n_ok INTEGER NOT NULL DEFAULT 0,
            n_retry INTEGER NOT NULL DEFAULT 0,
            n_error INTEGER NOT NULL DEFAULT 0,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cost_usd REAL,
            estimate_usd REAL,
            cancel_requested INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            created_at TEXT NOT NULL,
            submitted_at TEXT,
            ended_at TEXT,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX judge_batches_by_run ON judge_batches(run_id, state);
        -- The requests of each batch by custom_id (the request's cache key) and what became of them: NULL (no result
        -- yet), ok (reply cached), retry (expired, cancelled, a transient error: may go into a follow-up batch),
        -- error (refused by the provider: an api_error verdict).
        CREATE TABLE judge_batch_requests (
            batch_id TEXT NOT NULL REFERENCES judge_batches(id),
            custom_id TEXT NOT NULL,
            outcome TEXT CHECK (outcome IS NULL OR outcome IN ('ok', 'retry', 'error')),
            detail TEXT,
            PRIMARY KEY (batch_id, custom_id)
        );
    """,
    ),
    Migration(
        12,
        "labels_by_rubric_provenance",
        """
        -- The analyses' bulk read of one rubric version's labels of one provenance (judgekit.agreement: the human
        -- ceiling, judge vs people) is one scan of this covering index instead of a table lookup per label; whether
        -- a project has corrected or adjudicated labels at all is one seek.
        CREATE INDEX labels_by_rubric_provenance
            ON labels(rubric_id, rubric_version, provenance, item_id, annotator, revision, label);
    """,
    ),
    Migration(
        13,
        "criteria_answers",
        """
        -- Rubrics with rated criteria (judgekit.models.Rubric.criteria with scales): the answer for each criterion of
        -- a label and of a verdict, one row per criterion (labels.label and verdicts.label hold the overall label
        -- derived from them). Keyed on the natural keys of labels and verdicts, so that bulk writes (COPY) need no
        -- generated ids; append-only like the labels they belong to.
        CREATE TABLE label_criteria (
            item_id TEXT NOT NULL,
            annotator TEXT NOT NULL,
            rubric_id TEXT NOT NULL,
            rubric_version INTEGER NOT NULL,
            revision INTEGER NOT NULL,
            criterion TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (rubric_id, rubric_version, item_id, annotator, revision, criterion),
            FOREIGN KEY (item_id, annotator, rubric_id, rubric_version, revision)
                REFERENCES labels(item_id, annotator, rubric_id, rubric_version, revision)
        );
        CREATE TABLE verdict_criteria (
            run_id INTEGER NOT NULL,
            item_id TEXT NOT NULL,
            criterion TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('ok', 'parse_error', 'refused', 'api_error')),
            label TEXT,
            confidence REAL CHECK (confidence IS NULL OR (confidence >= 0 AND confidence <= 1)),
            confidence_source TEXT NOT NULL,
            rationale TEXT,
            PRIMARY KEY (run_id, item_id, criterion),
            FOREIGN KEY (run_id, item_id) REFERENCES verdicts(run_id, item_id),
            CHECK ((status = 'ok') = (label IS NOT NULL))
        );
    """,
        sqlite="""
        CREATE TRIGGER label_criteria_no_update BEFORE UPDATE ON label_criteria
            BEGIN SELECT RAISE(ABORT, 'labels are append-only: add a new revision instead'); END;
        CREATE TRIGGER label_criteria_no_delete BEFORE DELETE ON label_criteria
            BEGIN SELECT RAISE(ABORT, 'labels are append-only and never deleted'); END;
    """,
        postgresql="""
        CREATE TRIGGER label_criteria_no_update BEFORE UPDATE ON label_criteria FOR EACH ROW
            EXECUTE FUNCTION judgekit_refuse_change('labels are append-only: add a new revision instead');
        CREATE TRIGGER label_criteria_no_delete BEFORE DELETE ON label_criteria FOR EACH ROW
            EXECUTE FUNCTION judgekit_refuse_change('labels are append-only and never deleted');
        CREATE TRIGGER label_criteria_no_truncate BEFORE TRUNCATE ON label_criteria FOR EACH STATEMENT
            EXECUTE FUNCTION judgekit_refuse_change('labels are append-only and never deleted');
    """,
    ),
    Migration(
        14,
        "alignments",
        """
        -- judgekit align (judgekit.align.store): one row per alignment record, the record itself as JSON; found by
        -- its start run, split and settings identity (a repeated align resumes the record it finds).
        CREATE TABLE alignments (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            start_run TEXT NOT NULL,
            split_key TEXT NOT NULL,
            settings_key TEXT NOT NULL,
            status TEXT NOT NULL,
            record_json TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX alignments_by_start ON alignments(start_run, split_key, settings_key);
    """,
    ),
    Migration(
        15,
        "admin_snapshots_and_blind_progress",
        """
        -- The labeling app's admin page (judgekit.labeling._snapshot): per rubric version, the figures that do not
        -- change per click (assessments, plots, progress, flags, the disagreement table) computed once for a data
        -- stamp (what they were computed from: JSON), and the refresh that is recomputing them (started, by whom)
        -- or the error that stopped the last one (and when). payload is the snapshot as JSON (NULL until the first).
        CREATE TABLE admin_snapshots (
            rubric_id TEXT NOT NULL,
            rubric_version INTEGER NOT NULL,
            stamp TEXT,
            computed_at REAL,
            seconds REAL,
            payload TEXT,
            refresh_started REAL,
            refresh_owner TEXT,
            error TEXT,
            error_at REAL,
            PRIMARY KEY (rubric_id, rubric_version)
        );
        -- An annotator's progress and "My labels" count their blind labels only (an admin's adjudications are not
        -- their labels): the covering index of those reads gains the provenance.
        DROP INDEX labels_by_annotator_item;
        CREATE INDEX labels_by_annotator_item
            ON labels(annotator, rubric_id, rubric_version, item_id, flagged, provenance);
    """,
    ),
)


_PG_DDL = (
    (re.compile(r"\bINTEGER PRIMARY KEY AUTOINCREMENT\b", re.I), "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
    (re.compile(r"\bREAL\b", re.I), "DOUBLE PRECISION"),
    (re.compile(r"\)\s*WITHOUT ROWID", re.I), ")"),
)


def pg_ddl(statement: str) -> str:
    """Portable DDL as PostgreSQL needs it (see the module docstring)."""
    for pattern, repl in _PG_DDL:
        statement = pattern.sub(repl, statement)
    return statement


def applied_migrations(db: Database) -> list[tuple[int, str]]:
    """The ``(id, name)`` of every migration recorded in the database, in order (empty for a new database)."""
    if not db.table_exists("schema_migrations"):
        return []
    return [(int(r[0]), str(r[1])) for r in db.rows("SELECT id, name FROM schema_migrations ORDER BY id")]


def check_is_project(db: Database) -> None:
    """Refuse a database that holds tables but is not a judgekit project (another application's), untouched."""
    tables = db.table_names()
    if tables and "schema_migrations" not in tables:
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        where = (
            "a new file"
            if db.dialect == "sqlite"
            else "an empty database, or a schema of its own (add ?schema=NAME to the URL)"
        )
        raise NotAProjectError(
            f"{db.location} is not a judgekit project: it holds other tables ({shown}) and no judgekit schema. "
            f"It was left untouched; use {where} for the project."
        )


def pending_migrations(db: Database, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[Migration]:
    """The migrations the database lacks, after checking it is a judgekit project of a version this one knows."""
    ids = [m.id for m in migrations]
    if ids != list(range(1, len(ids) + 1)):
        raise StorageError(f"migrations must be numbered 1..n without gaps, got {ids}")
    check_is_project(db)
    known = {m.id: m.name for m in migrations}
    done = applied_migrations(db)
    for mid, name in done:
        if known.get(mid) != name:
            raise StorageError(
                f"the database has migration {mid} '{name}', which this judgekit does not know: it was written "
                "by a newer or different judgekit; upgrade judgekit to open it"
            )
    done_ids = {mid for mid, _ in done}
    return [m for m in migrations if m.id not in done_ids]


def migrate(db: Database, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[Migration]:
    """Apply every migration the database lacks, in order; return the ones applied.

    Each migration runs in its own write transaction, so a failure leaves the database at the last complete step.
    Two processes opening a new project at once are safe: each step is re-checked once the lock is held.
    """
    applied: list[Migration] = []
    for m in pending_migrations(db, migrations):
        with db.transaction():
            db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                "applied_at TEXT NOT NULL)"
            )
            if db.scalar("SELECT 1 FROM schema_migrations WHERE id = ?", (m.id,)) is not None:
                continue  # applied by another process while this one waited for the lock
            for statement in m.scripts(db.dialect):
                db.execute(statement)
            db.execute(
                "INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)",
                (m.id, m.name, datetime.now(UTC).isoformat()),
            )
        applied.append(m)
    return applied


def _split_sql(script: str) -> list[str]:
    """Split a migration script into statements (``executescript`` would commit behind our back).

    Pieces between semicolons are joined until SQLite says they form a complete statement, so trigger bodies
    (``BEGIN ... ; END;``) stay whole.
    """
    lines = [ln for ln in script.splitlines() if not ln.strip().startswith("--")]
    statements: list[str] = []
    buf = ""
    for piece in "\n".join(lines).split(";"):
        buf += piece + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \n;"):
                statements.append(buf.strip())
            buf = ""
    if buf.strip(" \n;"):
        statements.append(buf.strip())
    return statements
