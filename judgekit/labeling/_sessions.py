"""Sessions of the labeling app: a signed, expiring token that survives reloads and server restarts.

Why a token and not server memory: Streamlit forgets a browser session on a reload or a restart, which signed people
out and dropped their work. The app keeps a token in a cookie instead; on every page load *and every submit* it is
checked here, so a session also ends the moment access does:

* the signature (HMAC-SHA256 over the payload with a per-project secret) proves the app issued it;
* it expires :data:`SESSION_HOURS` after sign-in;
* the annotator must still exist and be **active** (``judgekit annotators deactivate`` ends their sessions), and
  the token's **code generation** must be the annotator's current one (``reset-code`` ends every session opened
  with an older code).

Token: ``v1.<base64url(json payload)>.<base64url(hmac)>``; the payload holds the annotator's name, the code
generation and the expiry time, nothing secret. The secret is 32 random bytes kept in the project database
(``project_meta``): whoever can read the database could forge a session, but could also read and write every label
directly, so it protects nothing less than the file itself. :func:`end_all_sessions` replaces it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from judgekit.errors import UserError
from judgekit.labeling._annotators import SESSION_SECRET_KEY as _SECRET_KEY
from judgekit.labeling._annotators import Annotator, ensure_secret, get_annotator
from judgekit.storage import Project

SESSION_HOURS = 12.0
"""How long a session lasts after sign-in (a working day), unless access ends first."""
_VERSION = "v1"


class SessionEnded(UserError):
    """A session token that no longer grants access; the message says why (shown on the sign-in page)."""


@dataclass(frozen=True)
class Session:
    """A checked session."""

    annotator: Annotator
    token: str
    expires_at: float
    """Seconds since the epoch."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _secret(project: Project) -> bytes:
    ensure_secret(project)  # projects whose annotators were added before sessions existed
    return bytes.fromhex(str(project.get_meta(_SECRET_KEY)))


def cookie_name(project: Project) -> str:
    """The cookie the app keeps the token in: named after (a hash of) the project's secret, so two projects served
    from one host do not overwrite each other's sessions, and a replaced secret starts a fresh cookie."""
    return "judgekit_session_" + hashlib.sha256(b"cookie:" + _secret(project)).hexdigest()[:10]


def _sign(secret: bytes, body: str) -> str:
    return _b64(hmac.new(secret, f"{_VERSION}.{body}".encode(), hashlib.sha256).digest())


def open_session(
    project: Project, annotator: Annotator, *, now: float | None = None, hours: float = SESSION_HOURS
) -> str:
    """A token for an annotator who just signed in (see the module docstring)."""
    now = time.time() if now is None else now
    payload = {"n": annotator.name, "g": annotator.code_generation, "x": round(now + hours * 3600)}
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    return f"{_VERSION}.{body}.{_sign(_secret(project), body)}"


def check_session(project: Project, token: str, *, now: float | None = None) -> Session:
    """The session a token stands for, or :class:`SessionEnded` saying why it no longer grants access.

    Costs one HMAC and one indexed lookup, so the app calls it on every page load and every submit.
    """
    now = time.time() if now is None else now
    version, _, rest = (token if isinstance(token, str) else "").partition(".")
    body, _, sig = rest.partition(".")
    if version != _VERSION or not body or not sig or not hmac.compare_digest(sig, _sign(_secret(project), body)):
        raise SessionEnded("Please sign in.")
    try:
        payload = json.loads(_unb64(body))
        name, generation, expires = str(payload["n"]), int(payload["g"]), float(payload["x"])
    except (ValueError, KeyError, TypeError):
        raise SessionEnded("Please sign in.") from None
    if expires <= now:
        raise SessionEnded("Your session expired: please sign in again.")
    who = get_annotator(project, name)
    if who is None or not who.active:
        raise SessionEnded("Your access was deactivated by an admin: your session has ended.")
    if who.code_generation != generation:
        raise SessionEnded("Your access code was reset by an admin: sign in with your new code.")
    return Session(who, token, expires)


def end_all_sessions(project: Project) -> None:
    """End every open session of the project at once (a new secret); people sign in again with their codes."""
    project.set_meta(_SECRET_KEY, secrets.token_hex(32))
