"""A throwaway PostgreSQL server for the tests and benchmarks: Debian's binaries, a temporary folder, a free port.

Why not a shared server: tests must not depend on anything installed or running by hand (CI starts from a clean
machine; ``scripts/ensure-postgresql`` installs the Debian package). ``initdb`` refuses to run as root, so as root
the server runs as the ``postgres`` system user the Debian package creates. It listens on 127.0.0.1 only, trusts
local connections (nothing but this machine can reach it) and is removed when stopped.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

SKIP_ENV = "JUDGEKIT_SKIP_POSTGRES"
"""Set to 1 to skip the PostgreSQL tests on a machine without PostgreSQL (CI never sets it)."""


def find_bindir() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl`` (newest Debian version first), or ``None`` if not installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]), reverse=True)
    if found:
        return Path(found[0]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """One running server; :meth:`url` names a database on it, :meth:`fresh_url` a new empty project schema."""

    def __init__(self, bindir: Path, datadir: Path, port: int, run_as: str | None) -> None:
        self.bindir = bindir
        self.datadir = datadir
        self.port = port
        self.run_as = run_as
        self.user = "judgekit"

    @classmethod
    def start(cls, *, durable: bool = False, max_connections: int = 200) -> PostgresServer:
        """Initialise and start a server. ``durable=False`` (tests) turns off fsync: nothing here must survive a
        power cut, and it makes the suite faster; benchmarks pass ``durable=True`` to measure what teams run."""
        bindir = find_bindir()
        if bindir is None:
            raise RuntimeError(
                "PostgreSQL is not installed: run scripts/ensure-postgresql (Debian package 'postgresql'), "
                f"or set {SKIP_ENV}=1 to skip the PostgreSQL tests"
            )
        run_as = "postgres" if os.geteuid() == 0 else None
        datadir = Path(tempfile.mkdtemp(prefix="judgekit-pg-"))
        if run_as is not None:
            pw = pwd.getpwnam(run_as)
            os.chown(datadir, pw.pw_uid, pw.pw_gid)
        server = cls(bindir, datadir / "data", 0, run_as)
        server._run(
            "initdb", "-D", str(server.datadir), "-U", server.user, "--auth=trust", "-E", "UTF8", "--no-locale",
            "--no-sync",
        )  # fmt: skip
        options = [
            "-c listen_addresses=127.0.0.1",
            f"-k {datadir}",
            f"-c max_connections={max_connections}",
            "-c shared_buffers=128MB",
        ]
        if not durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        last = ""
        for _ in range(5):  # a free port can be taken between choosing it and binding it: try another
            server.port = _free_port()
            proc = server._run(
                "pg_ctl", "-D", str(server.datadir), "-l", str(datadir / "server.log"), "-w", "-t", "60",
                "-o", " ".join([f"-p {server.port}", *options]), "start", check=False,
            )  # fmt: skip
            if proc.returncode == 0:
                atexit.register(server.stop)  # also when the session ends without its fixture teardown
                return server
            last = (datadir / "server.log").read_text(errors="replace")[-2000:]
        shutil.rmtree(datadir, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start:\n{last}")

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(self.bindir / tool), *args],
            user=self.run_as,
            capture_output=True,
            text=True,
            cwd=self.datadir.parent,
            env={**os.environ, "LC_ALL": "C"},
        )
        if check and proc.returncode != 0:
            raise RuntimeError(f"{tool} failed ({proc.returncode}): {proc.stderr or proc.stdout}")
        return proc

    def url(self, dbname: str = "postgres", *, schema: str | None = None) -> str:
        """The URL of a database on this server (optionally one schema of it)."""
        base = f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"
        return base if schema is None else f"{base}?schema={schema}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def fresh_url(self) -> str:
        """A new, empty project: a schema of its own in the shared ``judgekit`` database (cheaper than a database)."""
        if not getattr(self, "_shared", False):
            self.create_database("judgekit")
            self._shared = True
        return self.url("judgekit", schema=f"t_{uuid.uuid4().hex[:16]}")

    def stop(self) -> None:
        """Stop the server and delete its files (idempotent)."""
        if not self.datadir.exists():
            return
        self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.datadir.parent, ignore_errors=True)
