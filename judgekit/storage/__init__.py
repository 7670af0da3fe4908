"""Project storage: the project database (SQLite file or PostgreSQL), evolved by named migrations.

``Project`` owns the SQL of the core tables; :mod:`judgekit.storage.database` is the layer every owner of a table
writes its SQL against (portable SQL, one write lock per project, clear errors).
"""

from judgekit.storage.database import Database, PostgresDatabase, SQLiteDatabase, is_postgres_url
from judgekit.storage.migrations import MIGRATIONS, Migration, applied_migrations, migrate
from judgekit.storage.project import (
    DEFAULT_DB,
    INSERT_VERDICT,
    ItemInfo,
    Project,
    ProvenanceFilter,
    WriteCounts,
    now_iso,
    open_database,
    resolve_db,
    resolve_db_path,
    verdict_row,
)

__all__ = [
    "DEFAULT_DB",
    "INSERT_VERDICT",
    "MIGRATIONS",
    "Database",
    "ItemInfo",
    "Migration",
    "PostgresDatabase",
    "Project",
    "ProvenanceFilter",
    "SQLiteDatabase",
    "WriteCounts",
    "applied_migrations",
    "is_postgres_url",
    "migrate",
    "now_iso",
    "open_database",
    "resolve_db",
    "resolve_db_path",
    "verdict_row",
]
