"""The database layer on both engines: one writer at a time, bounded waits with a clear error, portable SQL."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest

from judgekit.errors import ConstraintViolation, DatabaseBusyError, StorageError
from judgekit.storage import Project, open_database
from judgekit.storage.database import pg_sql, redact, split_schema


def test_pg_placeholders_leave_literals_and_casts_alone() -> None:
    assert pg_sql("SELECT * FROM t WHERE a = ? AND b = :name") == "SELECT * FROM t WHERE a = %s AND b = %(name)s"
    assert pg_sql("SELECT '?', 'it''s :x', \"q?\" FROM t WHERE a LIKE ? || '%'") == (
        "SELECT '?', 'it''s :x', \"q?\" FROM t WHERE a LIKE %s || '%%'"
    )
    assert pg_sql("SELECT x::text, 5 % 2 -- why? :no\nFROM t") == "SELECT x::text, 5 %% 2 -- why? :no\nFROM t"


def test_urls_are_redacted_and_schema_split_off() -> None:
    assert redact("postgresql://u:s3cret@h:5432/db?schema=a") == "postgresql://u:***@h:5432/db?schema=a"
    assert split_schema("postgresql://u@h/db?sslmode=require&schema=team_a") == (
        "postgresql://u@h/db?sslmode=require",
        "team_a",
    )


def test_second_writer_waits_then_gives_up_with_a_clear_error(db_url: str) -> None:
    Project(db_url).close()
    holder = open_database(db_url)
    waiter = open_database(db_url, lock_timeout=0.4)
    told: list[float] = []
    waiter.on_lock_wait = told.append
    with holder.transaction():
        holder.execute("INSERT INTO project_meta (key, value) VALUES ('held', '1')")
        start = time.monotonic()
        busy = pytest.raises(DatabaseBusyError, match="busy: another process has been writing")
        with busy as err, waiter.transaction():
            waiter.execute("INSERT INTO project_meta (key, value) VALUES ('lost', '1')")
        assert time.monotonic() - start >= 0.35 and err.value.waited_s >= 0.35
        assert len(told) == 1
        assert waiter.scalar("SELECT COUNT(*) FROM project_meta WHERE key = 'held'") == 0, "readers do not wait"
    assert waiter.scalar("SELECT value FROM project_meta WHERE key = 'held'") == "1"
    assert waiter.scalar("SELECT COUNT(*) FROM project_meta WHERE key = 'lost'") == 0
    holder.close()
    waiter.close()


def test_writer_waits_for_a_short_transaction_and_succeeds(db_url: str) -> None:
    Project(db_url).close()
    holder = open_database(db_url)
    waiter = open_database(db_url, lock_timeout=30)
    entered = threading.Event()

    def hold() -> None:
        with holder.transaction():
            holder.execute("INSERT INTO project_meta (key, value) VALUES ('first', '1')")
            entered.set()
            time.sleep(0.5)

    t = threading.Thread(target=hold)
    t.start()
    entered.wait(10)
    with waiter.transaction():
        # the lock is taken at BEGIN: the first writer's row is visible to the second
        assert waiter.scalar("SELECT value FROM project_meta WHERE key = 'first'") == "1"
        waiter.execute("INSERT INTO project_meta (key, value) VALUES ('second', '2')")
    t.join()
    assert waiter.scalar("SELECT COUNT(*) FROM project_meta") == 2
    holder.close()
    waiter.close()


def test_failed_statement_rolls_the_whole_transaction_back(db_url: str) -> None:
    Project(db_url).close()
    db = open_database(db_url)
    with pytest.raises(ConstraintViolation), db.transaction():
        db.execute("INSERT INTO project_meta (key, value) VALUES ('a', '1')")
        db.execute("INSERT INTO project_meta (key, value) VALUES ('a', '2')")
    assert db.scalar("SELECT COUNT(*) FROM project_meta") == 0
    db.close()


def test_caught_error_inside_a_transaction_does_not_commit_silently(db_url: str, backend: str) -> None:
    Project(db_url).close()
    db = open_database(db_url)
    if backend == "sqlite":
        pytest.skip("SQLite keeps a transaction usable after a failed statement")
    with pytest.raises(StorageError, match="nothing was written"), db.transaction():
        db.execute("INSERT INTO project_meta (key, value) VALUES ('a', '1')")
        with contextlib.suppress(ConstraintViolation):
            db.execute("INSERT INTO project_meta (key, value) VALUES ('a', '2')")
    assert db.scalar("SELECT COUNT(*) FROM project_meta") == 0
    db.close()


def test_deferred_writes_are_seen_in_order_and_fail_the_whole_transaction(db_url: str) -> None:
    """``defer``: a write sent later (PostgreSQL: with the next statement or the COMMIT) is seen by the next query
    of its transaction, applies in order, and its error rolls the whole transaction back like any statement's."""
    Project(db_url).close()
    db = open_database(db_url)
    ins = "INSERT INTO project_meta (key, value) VALUES (?, ?)"
    with db.transaction():
        db.defer(ins, ("d1", "1"))
        db.defer("UPDATE project_meta SET value = ? WHERE key = ?", ("2", "d1"))
        assert db.scalar("SELECT value FROM project_meta WHERE key = ?", ("d1",)) == "2"
        db.defer(ins, ("d2", "x"))  # sent with the COMMIT
    assert db.rows("SELECT key, value FROM project_meta WHERE key LIKE 'd%' ORDER BY key") == [("d1", "2"), ("d2", "x")]
    with pytest.raises(ConstraintViolation), db.transaction():
        db.defer(ins, ("d3", "3"))
        db.defer(ins, ("d1", "again"))  # a duplicate key: fails (at the commit on PostgreSQL)
    assert db.scalar("SELECT COUNT(*) FROM project_meta WHERE key = 'd3'") == 0, "nothing of it was written"
    with db.transaction():  # the connection is usable afterwards
        db.defer(ins, ("d4", "4"))
    assert db.scalar("SELECT value FROM project_meta WHERE key = 'd4'") == "4"
    db.close()
