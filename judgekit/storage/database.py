"""The database layer: one small interface over SQLite (stdlib ``sqlite3``) and PostgreSQL (psycopg 3).

Why a thin layer of our own and not an ORM or SQLAlchemy: judgekit's SQL is hand-written and tuned (set-based
queue rebuilds, covering indexes, bulk COPY), its schema evolves through its own ordered, named migrations
(:mod:`judgekit.storage.migrations`), and every query is portable SQL that both engines run as written. What
differs between the two is small and lives here: placeholders (``?`` and ``:name`` are written once and become
``%s`` / ``%(name)s`` for psycopg), how a write transaction takes the project's write lock, bulk loading (``COPY``
on PostgreSQL), and which driver errors mean "busy", "disk full", "read-only" or "constraint refused".

Guarantees, the same on both engines:

* **One writer at a time.** :meth:`Database.transaction` takes the project's write lock when it begins: SQLite's
  ``BEGIN IMMEDIATE``, PostgreSQL's transaction-level advisory lock on the project. A writer therefore sees every
  write committed before it and is never interleaved with another, which is what makes "revision = latest + 1",
  idempotent submits and incremental queue rebuilds exact. Readers never wait (WAL / MVCC).
* **Writers wait, boundedly.** A writer that finds the lock held retries until ``lock_timeout`` seconds have passed,
  then raises :class:`~judgekit.errors.DatabaseBusyError` having written nothing; callers (the labeling app) keep
  what they meant to write and retry it.
* **Errors say what happened.** Driver errors surface as :class:`~judgekit.errors.StorageError` subclasses with a
  sentence naming the database (never the password) and what to do.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from judgekit.errors import (
    ConstraintViolation,
    DatabaseBusyError,
    DiskFullError,
    NotAProjectError,
    ReadOnlyProjectError,
    StorageError,
    UserError,
)

Dialect = Literal["sqlite", "postgresql"]
Params = Sequence[Any] | Mapping[str, Any]

DEFAULT_LOCK_TIMEOUT = 120.0
"""Seconds a writer waits for another writer to finish before giving up (``JUDGEKIT_LOCK_TIMEOUT`` overrides)."""
_URL_PREFIXES = ("postgresql://", "postgres://")


def is_postgres_url(db: str | os.PathLike[str]) -> bool:
    """Whether ``db`` names a PostgreSQL database (``postgresql://...``) rather than a SQLite file."""
    return str(db).startswith(_URL_PREFIXES)


LOCK_WAIT_NOTICE_S = 0.5
"""A writer that has waited this long (a quarter of ``lock_timeout`` if less) for the write lock tells
``on_lock_wait`` (the CLI says it is waiting)."""
_BEGIN_POLL_MS = 20
"""SQLite: how long one ``BEGIN IMMEDIATE`` waits before :meth:`SQLiteDatabase._retry` asks again (short, so
the busy handler's backoff stays at a few ms)."""


def default_lock_timeout() -> float:
    """``JUDGEKIT_LOCK_TIMEOUT`` (seconds) or :data:`DEFAULT_LOCK_TIMEOUT`."""
    raw = os.environ.get("JUDGEKIT_LOCK_TIMEOUT")
    if not raw:
        return DEFAULT_LOCK_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        raise UserError(f"JUDGEKIT_LOCK_TIMEOUT={raw!r}: expected a number of seconds") from None
    if value < 0:
        raise UserError(f"JUDGEKIT_LOCK_TIMEOUT={raw!r}: expected a number of seconds >= 0")
    return value


class Database(ABC):
    """An open project database. Not shared between threads: open one per thread or session.

    SQL passed to :meth:`execute` is portable (see ``docs/storage.md``): ``?`` or ``:name`` placeholders,
    ``INSERT ... ON CONFLICT (cols) DO NOTHING/UPDATE``, no engine-specific functions. Rows support ``row[0]`` and
    ``row["column"]``; :meth:`rows` returns plain tuples for bulk reads.
    """

    dialect: Dialect
    location: str
    """Where the database is, for messages: a file path, or the URL without its password."""
    lock_timeout: float
    on_lock_wait: Callable[[float], None] | None = None
    """Called once when a writer starts waiting for the lock (the CLI prints a line), with the seconds waited."""

    # -- statements -------------------------------------------------------------------------------------------

    @abstractmethod
    def execute(self, sql: str, params: Params = ()) -> Any:
        """Run one statement; returns a cursor (``fetchone``, ``fetchall``, iteration, ``rowcount``)."""

    def defer(self, sql: str, params: Params = ()) -> None:
        """Run a write whose result the caller does not need (no rows, no row count), as soon as it costs nothing.

        Why: inside a write transaction every statement used to be a round trip to the server while the project's
        write lock was held; with 50 annotators on a loaded machine each round trip waits for a core, and the lock
        queue grew with every one. SQLite runs the statement at once (it is in this process); PostgreSQL sends it
        together with the transaction's next statement, or with its ``COMMIT``, in one round trip (psycopg's
        pipeline mode). An error it raises then surfaces at that next statement or at the commit, and the whole
        transaction is rolled back as usual: use it only for statements whose failure is not handled on its own.
        Outside a transaction it runs at once.
        """
        self.execute(sql, params)

    @abstractmethod
    def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        """Run one statement for every parameter row; returns the number of rows changed where known."""

    @abstractmethod
    def rows(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        """Every row of a query as a plain tuple (the fastest way to read many rows)."""

    def one(self, sql: str, params: Params = ()) -> Any:
        """The first row of a query, or ``None``."""
        return self.execute(sql, params).fetchone()

    def scalar(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or ``None`` when there is no row."""
        row = self.execute(sql, params).fetchone()
        return None if row is None else row[0]

    @abstractmethod
    def insert_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Bulk-insert rows (PostgreSQL: ``COPY``; SQLite: one ``executemany``); returns the number of rows.

        Table constraints and row triggers apply as for ``INSERT``. Call inside :meth:`transaction`.
        """

    @abstractmethod
    def stream(self, sql: str) -> Iterator[tuple[Any, ...]]:
        """The rows of a query as plain tuples, without holding them all in memory (copies, exports)."""

    @abstractmethod
    def snapshot(self) -> Any:
        """A read-only transaction: every query inside sees the database as of its start (consistent copies)."""

    @abstractmethod
    def reset_identity(self, table: str, column: str = "id") -> None:
        """After rows were inserted with explicit ids: make the next generated id follow the largest one."""

    @abstractmethod
    def table_exists(self, name: str) -> bool:
        """Whether a table of this name exists in the project's schema."""

    @abstractmethod
    def table_names(self) -> set[str]:
        """Names of the tables in the project's schema."""

    # -- transactions -----------------------------------------------------------------------------------------

    @property
    @abstractmethod
    def in_transaction(self) -> bool:
        """Whether a transaction is open on this connection."""

    @abstractmethod
    def transaction(self) -> Any:
        """A write transaction holding the project's write lock: all of it is committed, or none of it.

        Nested calls join the open transaction. Raises :class:`~judgekit.errors.DatabaseBusyError` when the lock
        stays held by another writer for longer than ``lock_timeout`` seconds (nothing is written then).
        """

    @abstractmethod
    def close(self) -> None:
        """Close the connection (idempotent)."""

    def _lock_held(self, start: float, warned: bool) -> bool:
        """A writer found the write lock held: give up (:class:`DatabaseBusyError`) once ``lock_timeout`` has
        passed since ``start``, else tell :attr:`on_lock_wait` the first time; returns whether it was told."""
        waited = time.monotonic() - start
        if waited >= self.lock_timeout:
            raise self._busy(waited) from None
        if warned or self.on_lock_wait is None or waited < self._notice_s:
            return warned
        self.on_lock_wait(waited)
        return True

    @property
    def _notice_s(self) -> float:
        """How long a writer waits for the lock before it tells ``on_lock_wait``."""
        return min(LOCK_WAIT_NOTICE_S, self.lock_timeout / 4)

    def _busy(self, waited: float) -> DatabaseBusyError:
        return DatabaseBusyError(
            f"the project database {self.location} is busy: another process has been writing to it for "
            f"{waited:.0f} s (an import, a judge run or a queue rebuild); nothing was written. Try again when it "
            f"has finished, or wait longer with JUDGEKIT_LOCK_TIMEOUT (now {self.lock_timeout:g} s).",
            waited_s=waited,
        )


# -- SQLite -----------------------------------------------------------------------------------------------------


def _sqlite_error(exc: sqlite3.Error, location: str) -> Exception:
    """The judgekit error a SQLite error stands for (or the error itself when it is a bug)."""
    text = str(exc)
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(exc, sqlite3.IntegrityError):
        return ConstraintViolation(text)
    if code == sqlite3.SQLITE_FULL or "database or disk is full" in text:
        return DiskFullError(f"the disk holding {location} is full: free some space and retry (nothing was written)")
    if code == sqlite3.SQLITE_READONLY or "readonly database" in text:
        return ReadOnlyProjectError(
            f"{location} is read-only (file or folder permissions, or a read-only mount): reading works, writing "
            "needs write access to the file and its folder"
        )
    if code in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT) or "not a database" in text:
        return StorageError(f"{location} is not a judgekit project database: {text}")
    if code == sqlite3.SQLITE_CANTOPEN or "unable to open database file" in text:
        return StorageError(
            f"cannot open {location} as a project database: is it a folder, or in a folder this user cannot read "
            "or write?"
        )
    if code == sqlite3.SQLITE_IOERR or "disk I/O error" in text:
        return StorageError(f"disk error on {location}: {text} (is the disk full or the file on a failing mount?)")
    return exc


def _writable(path: Path) -> bool:
    """Whether this process may write the file and create its journal files (``-wal``, ``-shm``) beside it."""
    return os.access(path, os.W_OK) and os.access(path.parent if str(path.parent) else Path("."), os.W_OK)


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection. A WAL database in a folder we cannot write needs its ``-shm`` file; without one,
    SQLite can still read it as immutable (nobody can be writing it: we are not allowed to, and its journal is
    gone)."""
    uri = f"file:{quote(str(path))}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1")
        return conn
    except sqlite3.OperationalError:
        conn.close()
        return sqlite3.connect(
            f"file:{quote(str(path))}?mode=ro&immutable=1", uri=True, isolation_level=None, check_same_thread=False
        )


class SQLiteDatabase(Database):
    """A project in one SQLite file: WAL mode, foreign keys on, ``synchronous=NORMAL``."""

    dialect: Dialect = "sqlite"

    def __init__(self, path: Path, *, lock_timeout: float | None = None, read_only: bool = False) -> None:
        self.path = path
        self.location = str(path)
        self.lock_timeout = default_lock_timeout() if lock_timeout is None else lock_timeout
        # Each statement waits up to this long for a lock by itself; writers retry BEGIN until lock_timeout.
        self._step_ms = max(10, int(min(self.lock_timeout / 4, 0.5) * 1000))
        exists = path.exists()
        if exists and not read_only and not _writable(path):
            read_only = True  # reading a project needs no write access; a write then says why it cannot
        self.read_only = read_only
        try:
            if read_only:
                self.conn = _connect_read_only(path)
            else:
                self.conn = sqlite3.connect(path, isolation_level=None, timeout=0.0, check_same_thread=False)
            self.conn.execute(f"PRAGMA busy_timeout={self._step_ms}")
            # Look before touching anything: another application's database is refused unchanged (no WAL switch).
            tables = {str(r[0]) for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if tables and "schema_migrations" not in tables:
                self.conn.close()
                shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
                raise NotAProjectError(
                    f"{path} is not a judgekit project: it is a SQLite database of something else (tables "
                    f"{shown}). It was left untouched; use a new file for the project."
                )
            if not read_only:
                self._retry(lambda: self.conn.execute("PRAGMA journal_mode=WAL"))
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as exc:
            if getattr(self, "conn", None) is not None:
                self.conn.close()
            err = _sqlite_error(exc, self.location)
            if isinstance(err, StorageError) and "not a judgekit project" in str(err):
                raise NotAProjectError(
                    f"{path} is not a judgekit project: it is not a SQLite database at all. It was left untouched; "
                    "pass the project database (a .db file judgekit created) or a new file name."
                ) from None
            raise err from exc
        self.conn.row_factory = sqlite3.Row

    def _retry(self, step: Callable[[], Any]) -> Any:
        """Run ``step`` (which takes the write lock), retrying while another writer holds it, up to the timeout."""
        start = time.monotonic()
        warned = False
        while True:
            try:
                return step()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                warned = self._lock_held(start, warned)

    def execute(self, sql: str, params: Params = ()) -> sqlite3.Cursor:
        try:
            return self.conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise _sqlite_error(exc, self.location) from exc

    def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        try:
            return self.conn.executemany(sql, rows).rowcount
        except sqlite3.Error as exc:
            raise _sqlite_error(exc, self.location) from exc

    def rows(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        cur = self.conn.cursor()
        cur.row_factory = None
        try:
            return cur.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise _sqlite_error(exc, self.location) from exc

    def insert_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        cur = self.conn.cursor()
        try:
            cur.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise _sqlite_error(exc, self.location) from exc
        return cur.rowcount

    def stream(self, sql: str) -> Iterator[tuple[Any, ...]]:
        cur = self.conn.cursor()
        cur.row_factory = None
        try:
            yield from cur.execute(sql)
        except sqlite3.Error as exc:
            raise _sqlite_error(exc, self.location) from exc

    @contextmanager
    def snapshot(self) -> Iterator[SQLiteDatabase]:
        if self.conn.in_transaction:
            yield self
            return
        self.conn.execute("BEGIN")  # deferred: in WAL mode its first read fixes what every later read sees
        try:
            yield self
        finally:
            self.conn.execute("ROLLBACK")

    def reset_identity(self, table: str, column: str = "id") -> None:
        pass  # AUTOINCREMENT follows the largest id inserted, explicit or not

    def table_exists(self, name: str) -> bool:
        return self.scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)) is not None

    def table_names(self) -> set[str]:
        return {str(r[0]) for r in self.rows("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def create_function(self, name: str, n_args: int, func: Callable[..., Any]) -> None:
        """Register a deterministic Python function callable from SQL (SQLite only; PostgreSQL has none)."""
        self.conn.create_function(name, n_args, func, deterministic=True)

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    @contextmanager
    def transaction(self) -> Iterator[SQLiteDatabase]:
        if self.conn.in_transaction:
            yield self
            return
        try:
            # BEGIN polls for the write lock every few ms (SQLite's busy handler sleeps 1, 2, 5, 10 ms, then up to
            # 100 ms between polls: a writer that had waited long polled rarely and lost the lock to newcomers,
            # the next-item p95 with 50 annotators); statements keep the longer step.
            self.conn.execute(f"PRAGMA busy_timeout={_BEGIN_POLL_MS}")
            try:
                self._retry(lambda: self.conn.execute("BEGIN IMMEDIATE"))
            finally:
                self.conn.execute(f"PRAGMA busy_timeout={self._step_ms}")
        except sqlite3.Error as exc:
            raise _sqlite_error(exc, self.location) from exc
        try:
            yield self
            self.conn.execute("COMMIT")
        except BaseException as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise _sqlite_error(exc, self.location) from exc
            raise

    def journal_mode(self) -> str:
        """The SQLite journal mode in force (``wal``)."""
        return str(self.scalar("PRAGMA journal_mode"))

    def close(self) -> None:
        self.conn.close()


# -- PostgreSQL -------------------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def pg_sql(sql: str) -> str:
    """Portable SQL in psycopg's placeholder style: ``?`` -> ``%s``, ``:name`` -> ``%(name)s``, ``%`` -> ``%%``.

    String literals, quoted identifiers, comments and ``::`` casts are left as they are.
    """
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in "'\"":
            j = i + 1
            while j < n:
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:  # doubled quote inside the literal
                        j += 2
                        continue
                    break
                j += 1
            out.append(sql[i : j + 1].replace("%", "%%"))
            i = j + 1
        elif ch == "-" and sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            out.append(sql[i:j].replace("%", "%%"))
            i = j
        elif ch == "?":
            out.append("%s")
            i += 1
        elif ch == "%":
            out.append("%%")
            i += 1
        elif ch == ":":
            if sql.startswith("::", i):
                out.append("::")
                i += 2
                continue
            m = _NAME.match(sql, i + 1)
            if m is None:
                out.append(ch)
                i += 1
            else:
                out.append(f"%({m.group(0)})s")
                i = m.end()
        else:
            out.append(ch)
            i += 1
    return "".join(out)


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _PgRow(tuple[Any, ...]):
    """A PostgreSQL row: a tuple that is also indexable by column name, like :class:`sqlite3.Row`."""

    __slots__ = ()
    _index: ClassVar[dict[str, int]] = {}

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


@lru_cache(maxsize=1024)
def _row_class(names: tuple[str, ...]) -> type[_PgRow]:
    return type("Row", (_PgRow,), {"__slots__": (), "_index": {n: i for i, n in enumerate(names)}})


def _pg_row_factory(cursor: Any) -> Callable[[Sequence[Any]], Any]:
    desc = cursor.description
    if desc is None:
        return tuple
    return _row_class(tuple(d.name for d in desc))


def split_schema(url: str) -> tuple[str, str | None]:
    """The connection URL without judgekit's own ``schema=NAME`` parameter, and that schema (or ``None``)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in query if k == "schema"), None)
    rest = urlencode([(k, v) for k, v in query if k != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema


def redact(url: str) -> str:
    """A URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class PostgresDatabase(Database):
    """A project in a PostgreSQL database (or one schema of it, with ``?schema=NAME`` in the URL)."""

    dialect: Dialect = "postgresql"

    def __init__(self, url: str, *, lock_timeout: float | None = None, create: bool = True) -> None:
        try:
            import psycopg
        except ImportError:
            raise UserError(
                "PostgreSQL projects need psycopg 3: pip install 'judgekit[postgresql]' (or psycopg[binary])"
            ) from None
        self._psycopg = psycopg
        self.url = url
        self.location = redact(url)
        self.lock_timeout = default_lock_timeout() if lock_timeout is None else lock_timeout
        conninfo, schema = split_schema(url)
        if schema is not None and not _SCHEMA_RE.match(schema):
            raise UserError(f"schema={schema!r} in {self.location}: use lower-case letters, digits and _ (max 63)")
        try:
            self.conn = psycopg.connect(conninfo, autocommit=True, row_factory=_pg_row_factory, connect_timeout=10)
        except psycopg.Error as exc:
            raise StorageError(f"cannot connect to {self.location}: {str(exc).strip()}") from None
        self._depth = 0
        self._pending: list[tuple[str, Params]] = []
        """Deferred writes of the open transaction (:meth:`defer`), sent with its next statement or its commit."""
        if schema is not None:
            exists = self.scalar("SELECT 1 FROM pg_namespace WHERE nspname = ?", (schema,)) is not None
            if not exists:
                if not create:
                    self.conn.close()
                    raise UserError(
                        f"no judgekit project at {self.location} (schema {schema!r} does not exist): run "
                        "'judgekit init --db URL' first"
                    )
                self.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            self.execute(f'SET search_path TO "{schema}"')
        db_name, self.schema = self.one("SELECT current_database(), current_schema()")
        # One write lock per project: a transaction-level advisory lock keyed by database and schema.
        digest = hashlib.sha256(f"judgekit\x00{db_name}\x00{self.schema}".encode()).digest()
        self._lock_key = int.from_bytes(digest[:8], "big", signed=True)

    def _error(self, exc: Exception) -> Exception:
        errors = self._psycopg.errors
        diag = getattr(exc, "diag", None)
        primary = (diag.message_primary if diag is not None else None) or str(exc).strip()
        if isinstance(exc, self._psycopg.IntegrityError | errors.RaiseException):
            return ConstraintViolation(primary)
        if isinstance(exc, errors.DiskFull):
            return DiskFullError(f"the disk of the database server of {self.location} is full (nothing was written)")
        if isinstance(exc, errors.ReadOnlySqlTransaction | errors.InsufficientPrivilege):
            return ReadOnlyProjectError(f"{self.location} cannot be written with these credentials: {exc}".strip())
        if isinstance(exc, self._psycopg.OperationalError):
            return StorageError(f"database error on {self.location}: {str(exc).strip()}")
        return exc

    def execute(self, sql: str, params: Params = ()) -> Any:
        try:
            if self._pending:
                if params:  # the deferred writes and this statement in one round trip
                    with self.conn.pipeline():
                        self._send_pending()
                        cur = self.conn.execute(pg_sql(sql), params)
                    return cur
                self._flush()
            # Without parameters psycopg sends the text as it is (no placeholders to translate, and a literal % in a
            # function body must stay single).
            return self.conn.execute(pg_sql(sql), params) if params else self.conn.execute(sql)
        except self._psycopg.Error as exc:
            raise self._error(exc) from exc

    def defer(self, sql: str, params: Params = ()) -> None:
        if not self._depth or not params:
            self.execute(sql, params)
            return
        self._pending.append((pg_sql(sql), params))

    def _send_pending(self) -> None:
        pending, self._pending = self._pending, []
        for sql, params in pending:
            self.conn.execute(sql, params)

    def _flush(self) -> None:
        """Send the deferred writes now (one round trip), before a statement that cannot join them."""
        with self.conn.pipeline():
            self._send_pending()

    def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        cur = self.conn.cursor()
        try:
            if self._pending:
                self._flush()
            cur.executemany(pg_sql(sql), rows)
        except self._psycopg.Error as exc:
            raise self._error(exc) from exc
        return cur.rowcount

    def rows(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        from psycopg.rows import tuple_row

        cur = self.conn.cursor(row_factory=tuple_row)
        try:
            if self._pending:
                if params:
                    with self.conn.pipeline():
                        self._send_pending()
                        cur.execute(pg_sql(sql), params)
                    return cur.fetchall()
                self._flush()
            return (cur.execute(pg_sql(sql), params) if params else cur.execute(sql)).fetchall()
        except self._psycopg.Error as exc:
            raise self._error(exc) from exc

    def insert_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        n = 0
        cur = self.conn.cursor()
        try:
            if self._pending:
                self._flush()
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
        except self._psycopg.Error as exc:
            raise self._error(exc) from exc
        return n

    def stream(self, sql: str) -> Iterator[tuple[Any, ...]]:
        from psycopg.rows import tuple_row

        cur = self.conn.cursor(row_factory=tuple_row)
        try:
            if self._pending:
                self._flush()
            yield from cur.stream(sql)
        except self._psycopg.Error as exc:
            raise self._error(exc) from exc

    @contextmanager
    def snapshot(self) -> Iterator[PostgresDatabase]:
        if self._depth:
            yield self
            return
        self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        self._depth = 1
        try:
            yield self
        finally:
            self._depth = 0
            self.conn.execute("ROLLBACK")

    def reset_identity(self, table: str, column: str = "id") -> None:
        self.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), COALESCE(MAX({column}), 0) + 1, false) "
            f"FROM {table}"
        )

    def table_exists(self, name: str) -> bool:
        return name in self.table_names()

    def table_names(self) -> set[str]:
        return {str(r[0]) for r in self.rows("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    @contextmanager
    def transaction(self) -> Iterator[PostgresDatabase]:
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        errors = self._psycopg.errors
        start = time.monotonic()
        warned = False
        while True:
            # Wait for the project's write lock, bounded by lock_timeout; the four statements travel in one round
            # trip (the lock is held for as short a time as possible). Only the first wait is cut short (at
            # _notice_s), to tell on_lock_wait that this writer waits; after that it waits for the rest in one go:
            # PostgreSQL grants a lock to its waiters in the order they asked, and a writer that gave up and asked
            # again went to the back of the queue, behind the writers that came after it. With 50 annotators
            # that unfairness made the next-item p95 (see benchmarks/bench_annotators.py).
            remaining = self.lock_timeout - (time.monotonic() - start)
            first = not warned and self.on_lock_wait is not None
            slice_ms = max(10, int((min(remaining, self._notice_s) if first else remaining) * 1000))
            try:
                self.conn.execute(
                    f"BEGIN; SET LOCAL lock_timeout = {slice_ms}; SELECT pg_advisory_xact_lock({self._lock_key}); "
                    "SET LOCAL lock_timeout = 0"
                )
                break
            except errors.LockNotAvailable:
                self.conn.execute("ROLLBACK")
                warned = self._lock_held(start, warned)
            except BaseException:
                if self.conn.info.transaction_status != self._psycopg.pq.TransactionStatus.IDLE:
                    self.conn.execute("ROLLBACK")
                raise
        self._depth = 1
        try:
            yield self
            if self.conn.info.transaction_status == self._psycopg.pq.TransactionStatus.INERROR:
                raise StorageError(
                    f"a statement failed inside a transaction on {self.location} and was caught; nothing was written"
                )
            if self._pending:  # the deferred writes and the COMMIT in one round trip
                with self.conn.pipeline():
                    self._send_pending()
                    self.conn.execute("COMMIT")
            else:
                self.conn.execute("COMMIT")
        except BaseException as exc:
            self._pending = []
            if not self.conn.closed and self.conn.info.transaction_status != self._psycopg.pq.TransactionStatus.IDLE:
                self.conn.execute("ROLLBACK")
            if isinstance(exc, self._psycopg.Error):
                raise self._error(exc) from exc
            raise
        finally:
            self._depth = 0

    def close(self) -> None:
        self.conn.close()
