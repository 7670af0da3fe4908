"""Which module owns each table of the project database.

Why: a table written from several places drifts (two copies of a priority constant, two idempotency rules). Each
table has one owner module: only it writes the table and only modules that own a table hold SQL at all; every
other module calls the owners' functions. An owner may *read* other tables inside one of its set-based queries
(the labeling queue is rebuilt from labels and verdicts in a few ``INSERT ... SELECT`` statements), never write
them. ``tests/storage/test_sql_ownership.py`` checks this for every module, and that every table has an owner.
"""

from __future__ import annotations

TABLE_OWNERS: dict[str, str] = {
    "schema_migrations": "judgekit.storage.migrations",
    "project_meta": "judgekit.storage.project",
    "items": "judgekit.storage.project",
    "rubrics": "judgekit.storage.project",
    "labels": "judgekit.storage.project",
    "judge_configs": "judgekit.storage.project",
    "judge_runs": "judgekit.storage.project",
    "verdicts": "judgekit.storage.project",
    "label_criteria": "judgekit.storage.project",
    "verdict_criteria": "judgekit.storage.project",
    "llm_cache": "judgekit.judging.cache",
    "judge_batches": "judgekit.judging.batch.store",
    "judge_batch_requests": "judgekit.judging.batch.store",
    "annotators": "judgekit.labeling._annotators",
    "skips": "judgekit.labeling._work",
    "label_queue": "judgekit.labeling._queue",
    "label_claims": "judgekit.labeling._queue",
    "label_tally": "judgekit.labeling._queue",
    "sign_in_attempts": "judgekit.labeling._signin",
    "admin_snapshots": "judgekit.labeling._snapshot",
    "splits": "judgekit.calibration.splits",
    "split_items": "judgekit.calibration.splits",
    "split_looks": "judgekit.calibration.looks",
    "escalations": "judgekit.calibration.abstention",
    "alignments": "judgekit.align.store",
}
"""Table name -> the module that owns its SQL (add new tables here with their migration)."""

DATABASE_MODULES = frozenset(
    {"judgekit.storage.database", "judgekit.storage.migrations", "judgekit.storage.project", "judgekit.storage.copy"}
)
"""Modules of the database layer itself (they hold SQL about the schema, not about one table)."""


def sql_modules() -> frozenset[str]:
    """Every module allowed to hold SQL and use the database handle: the owners and the database layer."""
    return frozenset(TABLE_OWNERS.values()) | DATABASE_MODULES
