"""What a stored text may hold: every character but NUL (U+0000) and lone surrogates.

Why: PostgreSQL refuses a NUL character in a text value outright (SQLite stores it, but many tools then cut the
text short at it), and a lone surrogate (``"\\ud800"``, which ``json.loads`` accepts from an escape) cannot be
encoded as UTF-8 at all. Left to the database, either one fails the write of a whole import, or of an annotator's
label, with a driver's error. So the models refuse them where a person can fix the text (items, labels,
critiques, messages): :data:`Text`. A judge model's reply is not the user's to fix and must not cost a paid call
again, so in verdicts (rationale, raw reply) such a character is replaced by U+FFFD, the Unicode replacement
character: :data:`ReplyText`. File importers check the same rule first to name the file, line and field
(:func:`judgekit.io.rows.text_field`).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

NUL_MESSAGE = "holds a NUL character (U+0000), which a database cannot store as text (PostgreSQL refuses it): remove it"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

SURROGATE_MESSAGE = "holds a lone surrogate (half of a UTF-16 pair): not valid Unicode text"


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or ``None`` when it can."""
    if "\x00" in value:
        return NUL_MESSAGE
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return SURROGATE_MESSAGE
    return None


def check_text(value: str) -> str:
    """``value`` unchanged, or ``ValueError`` saying why it cannot be stored (:func:`text_problem`)."""
    if value.isascii() and "\x00" not in value:  # the common case inline (every text field of every import row)
        return value
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def replace_unstorable(value: object) -> object:
    """A reply's text with NUL characters and lone surrogates replaced by U+FFFD (other values unchanged)."""
    if not isinstance(value, str) or text_problem(value) is None:
        return value
    return _UNSTORABLE.sub("\ufffd", value)


Text = Annotated[str, AfterValidator(check_text)]
"""A ``str`` field a person or a file supplies: refused if it holds a NUL character or a lone surrogate."""

ReplyText = Annotated[str, BeforeValidator(replace_unstorable)]
"""A ``str`` field holding a model's reply: NUL characters and lone surrogates become U+FFFD."""
