"""Writing the files judgekit produces (exports, reports, CI outputs) so that a failure leaves nothing half-written.

Why: an export that dies half way (full disk, killed process) used to leave a truncated file that looks like a
complete one and re-imports as a smaller data set. :func:`write_text_atomic` writes a temporary file in the target's
folder, flushes it to disk and renames it over the target (``os.replace``, atomic on POSIX and Windows), so the
target holds the old content or the new one, never a part. Every failure is a :class:`~judgekit.errors.UserError`
naming the file and saying what is wrong (a missing folder, a folder in the way, no permission, a full disk).
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

from judgekit.errors import UserError


def _problem(path: Path, exc: OSError, what: str) -> UserError:
    if exc.errno == errno.ENOSPC:
        reason = "the disk is full (no space left on the device); nothing was written"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        reason = f"not allowed to write there ({exc.strerror})"
    else:
        reason = exc.strerror or str(exc)
    return UserError(f"cannot write {what} {path}: {reason}")


def make_folder(path: str | Path, what: str = "the folder") -> Path:
    """Create ``path`` and its parents if missing; a file in the way or no permission is a :class:`UserError`."""
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UserError(f"cannot create {what} {p}: a file of that name is in the way") from None
    except OSError as exc:
        raise _problem(p, exc, what) from None
    return p


def check_writable_target(path: str | Path, what: str = "the file", *, create_folder: bool = False) -> Path:
    """``path`` as a :class:`Path`, refused (exit 2) when it cannot be a file: empty, a folder, or in a folder that
    does not exist (created instead with ``create_folder``)."""
    if str(path).strip() in ("", "."):
        raise UserError(f"{what}: an empty path was given (an unset environment variable?): expected a file name")
    p = Path(path)
    if p.is_dir():
        raise UserError(f"cannot write {what} {p}: it is a folder; expected a file name")
    if create_folder:
        make_folder(p.parent, f"the folder of {what}")
    elif not p.parent.is_dir():
        raise UserError(f"cannot write {what} {p}: the folder {p.parent} does not exist (create it first)")
    return p


def write_text_atomic(path: str | Path, text: str, what: str = "the file", *, create_folder: bool = False) -> Path:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` through a temporary file and a rename.

    The new file gets the permissions a plain ``open(path, "w")`` would give it (an existing file's mode is kept).
    """
    p = check_writable_target(path, what, create_folder=create_folder)
    try:
        mode = p.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, p)
        tmp = None
    except OSError as exc:
        raise _problem(p, exc, what) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return p


def append_text(path: str | Path, text: str, what: str = "the file", *, create_folder: bool = False) -> Path:
    """Append ``text`` to ``path`` (created if missing), for files other steps also write to (a CI job summary);
    a failure is a :class:`UserError` naming the file."""
    p = check_writable_target(path, what, create_folder=create_folder)
    try:
        with p.open("a", encoding="utf-8", newline="") as fh:
            fh.write(text)
    except OSError as exc:
        raise _problem(p, exc, what) from None
    return p
