"""Project storage: one SQLite file per project, evolved by named migrations."""

from judgekit.storage.migrations import MIGRATIONS, Migration, applied_migrations, migrate
from judgekit.storage.project import (
    DEFAULT_DB,
    INSERT_VERDICT,
    Project,
    ProvenanceFilter,
    WriteCounts,
    now_iso,
    resolve_db_path,
    verdict_row,
)

__all__ = [
    "DEFAULT_DB",
    "INSERT_VERDICT",
    "MIGRATIONS",
    "Migration",
    "Project",
    "ProvenanceFilter",
    "WriteCounts",
    "applied_migrations",
    "migrate",
    "now_iso",
    "resolve_db_path",
    "verdict_row",
]
