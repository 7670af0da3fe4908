"""The one reader of ``ID@VERSION`` references (rubrics ``helpfulness@2``, splits ``main@1``).

Why one function: six hand-written copies disagreed (one raised a raw ``ValueError`` on ``x@abc``, another
silently used the latest version). Every command, the labeling app and the library call :func:`parse_key`, so a
malformed reference is the same clear usage error everywhere and a version, once written, is never ignored.
"""

from __future__ import annotations

from typing import NamedTuple

from judgekit.errors import UserError

__all__ = ["VersionedKey", "parse_key"]


class VersionedKey(NamedTuple):
    """``id`` and ``version`` of a reference; ``version`` is None when the reference names no version (latest)."""

    id: str
    version: int | None

    def __str__(self) -> str:
        return self.id if self.version is None else f"{self.id}@{self.version}"


def parse_key(spec: str, what: str = "rubric") -> VersionedKey:
    """Read ``ID`` or ``ID@VERSION`` (``VERSION`` a whole number >= 1).

    Raises :class:`~judgekit.errors.UserError` (exit 2 in the CLI) naming ``what`` and the expected form for
    anything else: an empty id, an empty or non-numeric version, more than one ``@``.

    Examples
    --------
    >>> parse_key("pandalm-pairwise@2")
    VersionedKey(id='pandalm-pairwise', version=2)
    >>> parse_key("main", "split")
    VersionedKey(id='main', version=None)
    """
    text = spec.strip()
    ident, at, version = text.partition("@")
    expected = f"expected {what.upper()}_ID or {what.upper()}_ID@VERSION with VERSION a whole number >= 1"
    if not ident or "@" in version:
        raise UserError(f"invalid {what} reference {spec!r}: {expected}")
    if not at:
        return VersionedKey(ident, None)
    if not version.isdecimal() or int(version) < 1:
        raise UserError(f"invalid {what} reference {spec!r}: version {version!r} is not a whole number; {expected}")
    return VersionedKey(ident, int(version))
