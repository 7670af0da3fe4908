"""Signing in to the labeling app: throttled per annotator and per client address, on the server, with a log.

Why on the server: a throttle kept in the browser session is reset by opening a new tab. Every attempt is a row in
``sign_in_attempts``, so the limits hold across tabs, browsers and app restarts, failed attempts are on record (and
logged to the ``judgekit.labeling.signin`` logger), and the admin sees who is locked out.

The rules (:data:`WINDOW_S`, :data:`MAX_FAILURES_PER_ANNOTATOR`, :data:`MAX_FAILURES_PER_CLIENT`):

* an annotator is **locked out** while their code has had 5 or more failed attempts in the last 15 minutes (an
  attempt counts against the annotator whose code's public tag it used, so a stranger's random guesses lock out
  nobody);
* a client address is locked out while it made 20 or more failed attempts in the last 15 minutes, whoever they were
  for;
* while locked out, attempts are refused without checking the code (a right guess then teaches nothing) and are
  logged, but do not extend the lockout, so nobody can keep a colleague locked out for good. A lockout ends by
  itself when its oldest failures leave the window, or when an admin clears it (:func:`clear_lockout`).

Codes have a 60-bit secret, so 5 guesses per 15 minutes would take longer than the universe has existed; the limit
exists to make online guessing visible, not merely slow.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from dataclasses import dataclass
from typing import Literal

from judgekit.labeling._annotators import Annotator, annotator_for_tag, authenticate, code_tag
from judgekit.storage import Project

WINDOW_S = 15 * 60.0
"""How far back failed attempts count (seconds)."""
MAX_FAILURES_PER_ANNOTATOR = 5
"""Failed attempts on one annotator's code within the window that lock that annotator out."""
MAX_FAILURES_PER_CLIENT = 20
"""Failed attempts from one client address within the window that lock that address out."""

log = logging.getLogger("judgekit.labeling.signin")


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt."""

    annotator: Annotator | None
    """Who signed in, or ``None``."""
    message: str
    """What to tell the person (empty on success)."""
    locked_until: float | None = None
    """When the lockout that refused this attempt ends (seconds since the epoch), if one did."""


@dataclass(frozen=True)
class Lockout:
    """A current lockout, for the admin."""

    kind: Literal["annotator", "client"]
    who: str
    """The annotator's name or the client address."""
    failures: int
    """Failed attempts in the window."""
    until: float
    """When it ends by itself (seconds since the epoch)."""


def client_address(peer: str | None, forwarded_for: str | None = None, trusted_proxies: str | None = None) -> str:
    """The address to throttle by: the TCP peer, or, when the peer is one of ``trusted_proxies`` (comma-separated
    addresses, e.g. ``JUDGEKIT_TRUSTED_PROXIES=127.0.0.1`` behind a reverse proxy on the same machine), the last
    address the proxy appended to ``X-Forwarded-For``. Headers from anyone else are ignored: they are forgeable.
    ``None`` (Streamlit's way of saying "this machine") is ``"127.0.0.1"``.
    """
    addr = peer or "127.0.0.1"
    trusted = {t.strip() for t in (trusted_proxies or "").split(",") if t.strip()}
    if forwarded_for and (addr in trusted or (peer is None and "127.0.0.1" in trusted)):
        last = forwarded_for.split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(last))
        except ValueError:
            return addr
    return addr


def _failures(project: Project, column: str, who: str, since: float) -> tuple[int, float | None]:
    row = project.db.execute(
        f"SELECT COUNT(*), MIN(attempted_at) FROM sign_in_attempts WHERE {column} = ? AND attempted_at > ? "
        "AND ok = 0 AND refused = 0 AND cleared = 0",
        (who, since),
    ).fetchone()
    return int(row[0]), (None if row[1] is None else float(row[1]))


def _lock_end(project: Project, column: str, who: str, limit: int, now: float) -> float | None:
    """When ``who``'s lockout ends, or ``None`` if not locked out: the window after the failure that, on leaving
    it, brings the count below the limit."""
    n, _ = _failures(project, column, who, now - WINDOW_S)
    if n < limit:
        return None
    rows = project.db.execute(
        f"SELECT attempted_at FROM sign_in_attempts WHERE {column} = ? AND attempted_at > ? AND ok = 0 "
        "AND refused = 0 AND cleared = 0 ORDER BY attempted_at",
        (who, now - WINDOW_S),
    ).fetchall()
    return float(rows[n - limit][0]) + WINDOW_S


def _record(project: Project, now: float, annotator: str | None, client: str, ok: bool, refused: bool) -> None:
    with project.transaction() as c:
        c.execute(
            "INSERT INTO sign_in_attempts (attempted_at, annotator, client, ok, refused) VALUES (?, ?, ?, ?, ?)",
            (now, annotator, client, int(ok), int(refused)),
        )


def _minutes(seconds: float) -> str:
    m = max(1, round(seconds / 60))
    return f"{m} minute{'s' if m != 1 else ''}"


def sign_in(project: Project, code: str, *, client: str = "127.0.0.1", now: float | None = None) -> SignIn:
    """Check an access code, throttled and logged (see the module docstring); the app's only way in."""
    now = time.time() if now is None else now
    tag = code_tag(code)
    name = annotator_for_tag(project, tag) if tag is not None else None
    ends = [
        t
        for t in (
            _lock_end(project, "annotator", name, MAX_FAILURES_PER_ANNOTATOR, now) if name else None,
            _lock_end(project, "client", client, MAX_FAILURES_PER_CLIENT, now),
        )
        if t is not None
    ]
    if ends:
        until = max(ends)
        _record(project, now, name, client, ok=False, refused=True)
        log.warning("sign-in refused (locked out): annotator=%s client=%s", name or "-", client)
        return SignIn(
            None,
            f"Too many failed attempts: sign-in is locked for {_minutes(until - now)}. Ask your admin if you need "
            "in sooner.",
            locked_until=until,
        )
    who = authenticate(project, code)
    _record(project, now, who.name if who else name, client, ok=who is not None, refused=False)
    if who is None:
        log.warning("failed sign-in: annotator=%s client=%s", name or "-", client)
        return SignIn(None, "Unknown or inactive access code.")
    return SignIn(who, "")


def lockouts(project: Project, *, now: float | None = None) -> list[Lockout]:
    """Annotators and client addresses locked out right now, for the admin page."""
    now = time.time() if now is None else now
    out: list[Lockout] = []
    for kind, column, limit in (
        ("annotator", "annotator", MAX_FAILURES_PER_ANNOTATOR),
        ("client", "client", MAX_FAILURES_PER_CLIENT),
    ):
        rows = project.db.execute(
            f"SELECT {column}, COUNT(*) FROM sign_in_attempts WHERE {column} IS NOT NULL AND attempted_at > ? "
            f"AND ok = 0 AND refused = 0 AND cleared = 0 GROUP BY {column} HAVING COUNT(*) >= ? ORDER BY {column}",
            (now - WINDOW_S, limit),
        ).fetchall()
        for who, n in rows:
            until = _lock_end(project, column, str(who), limit, now)
            if until is not None:
                out.append(Lockout(kind, str(who), int(n), until))  # type: ignore[arg-type]
    return out


def clear_lockout(project: Project, *, annotator: str | None = None, client: str | None = None) -> int:
    """Forgive the failed attempts behind a lockout (they stay on record, marked cleared); returns how many."""
    n = 0
    with project.transaction() as c:
        for column, who in (("annotator", annotator), ("client", client)):
            if who is not None:
                cur = c.execute(
                    f"UPDATE sign_in_attempts SET cleared = 1 WHERE {column} = ? AND ok = 0 AND cleared = 0", (who,)
                )
                n += int(cur.rowcount)
    return n


def failed_attempts(project: Project, *, limit: int = 50) -> list[tuple[float, str | None, str | None, bool]]:
    """The latest failed or refused attempts, newest first: (when, annotator, client, refused)."""
    rows = project.db.execute(
        "SELECT attempted_at, annotator, client, refused FROM sign_in_attempts WHERE ok = 0 "
        "ORDER BY attempted_at DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [(float(r[0]), r[1], r[2], bool(r[3])) for r in rows]
