"""Annotators and their access codes.

Why codes and not passwords: annotators are invited by an admin, who prints a code once and hands it over; nobody
labels anonymously, and the database never holds a usable secret. A code is ``TAG-SECRET``: the public ``TAG``
finds the row in one indexed lookup (so signing in costs one key derivation, not one per annotator), and only a
salted scrypt hash of the whole code is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime
from typing import Any

from pydantic import Field

from judgekit.errors import UserError
from judgekit.models import StrictModel
from judgekit.storage import Project, now_iso

_SCHEME = "scrypt"
# scrypt cost: ~20-40 ms per check on a laptop core, which makes guessing a 60-bit secret offline hopeless
# while keeping sign-in instant.
_N, _R, _P = 2**14, 8, 1
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o/1/l/i: codes are read aloud and retyped
_COLUMNS = "name, is_admin, active, created_at, code_generation"
SESSION_SECRET_KEY = "labeling.session_secret"
"""Where the project keeps the secret that signs app sessions (:mod:`judgekit.labeling._sessions`)."""
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$")


class Annotator(StrictModel):
    """A person allowed to label (and, when ``is_admin``, to see the admin page)."""

    name: str = Field(min_length=1, max_length=128)
    """Name or pseudonym; stored as the ``annotator`` of every label they submit."""
    is_admin: bool = False
    """Admins see progress, agreement, the disagreement browser and the export; annotators never do."""
    active: bool = True
    """Deactivated annotators cannot sign in; their labels stay."""
    created_at: datetime | None = None
    """When the annotator was added."""
    code_generation: int = 1
    """How many codes they have had: a reset increments it, which ends every session opened with an older code."""


def _random_part(n: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(n))


def _hash_code(code: str, salt: bytes) -> str:
    digest = hashlib.scrypt(code.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return digest.hex()


def _encode(tag: str, code: str) -> str:
    salt = secrets.token_bytes(16)
    return f"{_SCHEME}${tag}${salt.hex()}${_hash_code(code, salt)}"


def _normalise(code: str) -> str:
    return code.strip().lower().replace(" ", "")


def add_annotator(project: Project, name: str, *, admin: bool = False) -> str:
    """Add an annotator and return their access code. The code is shown this once: only its hash is stored.

    Raises :class:`UserError` for an invalid or already used name.
    """
    if not _NAME_RE.match(name):
        raise UserError(f"invalid annotator name {name!r}: use letters, digits, '.', '_', '-', '@' (max 128)")
    tag = _random_part(6)
    code = f"{tag}-{_random_part(12)}"
    with project.transaction() as c:
        if c.one("SELECT 1 FROM annotators WHERE name = ?", (name,)) is not None:
            raise UserError(
                f"annotator {name!r} already exists; use 'judgekit annotators reset-code {name}' "
                "to give them a new code"
            )
        c.execute(
            "INSERT INTO annotators (name, code_hash, is_admin, active, created_at) VALUES (?,?,?,?,?)",
            (name, _encode(tag, code), int(admin), 1, now_iso()),
        )
    ensure_secret(project)
    return code


def ensure_secret(project: Project) -> None:
    """Create the project's session secret if it has none. Done when an annotator is added, before anyone can sign
    in, so two app sessions never race to create it."""
    if project.get_meta(SESSION_SECRET_KEY) is None:
        project.set_meta(SESSION_SECRET_KEY, secrets.token_hex(32))


def reset_code(project: Project, name: str) -> str:
    """Give an annotator a new code (the old one stops working, and so does every session opened with it) and
    return it; shown once."""
    tag = _random_part(6)
    code = f"{tag}-{_random_part(12)}"
    with project.transaction() as c:
        cur = c.execute(
            "UPDATE annotators SET code_hash = ?, code_generation = code_generation + 1 WHERE name = ?",
            (_encode(tag, code), name),
        )
        if cur.rowcount == 0:
            raise UserError(f"no annotator named {name!r}")
    return code


def set_active(project: Project, name: str, active: bool) -> None:
    """Allow or stop an annotator from signing in (their labels are kept either way). Deactivating also ends their
    open sessions: every page load and submit checks that the annotator is still active."""
    with project.transaction() as c:
        cur = c.execute("UPDATE annotators SET active = ? WHERE name = ?", (int(active), name))
        if cur.rowcount == 0:
            raise UserError(f"no annotator named {name!r}")


def code_tag(code: str) -> str | None:
    """The public tag of a code (its part before the dash), or ``None`` when the code is malformed."""
    tag, sep, _ = _normalise(code).partition("-")
    if not sep or len(tag) != 6 or any(ch not in _ALPHABET for ch in tag):
        return None
    return tag


def annotator_for_tag(project: Project, tag: str) -> str | None:
    """The name of the annotator whose current code has this tag (one indexed lookup), or ``None``."""
    row = project.db.execute("SELECT name FROM annotators WHERE code_hash LIKE ?", (f"{_SCHEME}${tag}$%",)).fetchone()
    return None if row is None else str(row[0])


def authenticate(project: Project, code: str) -> Annotator | None:
    """The active annotator whose code this is, or ``None`` (unknown, malformed, wrong or deactivated).

    Not throttled: the app signs people in with :func:`judgekit.labeling.sign_in`, which is.
    """
    code = _normalise(code)
    tag = code_tag(code)
    if tag is None:
        return None
    rows = project.db.execute(
        f"SELECT {_COLUMNS}, code_hash FROM annotators WHERE code_hash LIKE ?",
        (f"{_SCHEME}${tag}$%",),
    ).fetchall()
    for r in rows:
        _, _, salt_hex, digest = str(r["code_hash"]).split("$")
        if hmac.compare_digest(_hash_code(code, bytes.fromhex(salt_hex)), digest) and r["active"]:
            return _annotator(r)
    return None


def get_annotator(project: Project, name: str) -> Annotator | None:
    """An annotator by name, or ``None``."""
    r = project.db.execute(f"SELECT {_COLUMNS} FROM annotators WHERE name = ?", (name,)).fetchone()
    return None if r is None else _annotator(r)


def list_annotators(project: Project) -> list[Annotator]:
    """Every annotator, by name."""
    rows = project.db.execute(f"SELECT {_COLUMNS} FROM annotators ORDER BY name")
    return [_annotator(r) for r in rows]


def _annotator(r: Any) -> Annotator:
    created = r["created_at"]
    return Annotator(
        name=r["name"],
        is_admin=bool(r["is_admin"]),
        active=bool(r["active"]),
        created_at=datetime.fromisoformat(created) if created else None,
        code_generation=int(r["code_generation"]),
    )
