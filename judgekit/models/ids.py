"""Identity rules for ids and names: when two spellings are the same item, annotator or level.

Why: ids arrive from spreadsheets, JSON libraries, other tools and people typing. ``"a "`` and ``"a"``, or ``"café"``
typed with a combining accent (NFD) and with the precomposed letter (NFC), look the same to a person and used to
become two items, or "unknown item" errors. One rule, applied by the models themselves (so every path: import,
the app, the API, takes it):

- Unicode is normalised to **NFC** (the form keyboards and most tools produce).
- Surrounding whitespace (any Unicode space, tabs and line breaks included) is **removed**; inner whitespace is kept.
- An id that is blank after that, or that holds a control character (tab, newline, NUL, ...), a lone surrogate,
  or an invisible formatting character (zero-width space, bidirectional overrides that make text display in
  another order, byte order marks), is **refused**: it would be displayed as something it is not.
- Case is **kept**: ``A`` and ``a`` are different ids (as in every database and file system judgekit meets).
- **Numbers written as text** are text: ``"007"`` stays ``"007"``. A number in a JSON file (``7``, ``7.0``) is
  taken as its shortest decimal text (``"7"``); ``true``/``false`` are refused (see
  :func:`judgekit.io.rows.text_field`). A spreadsheet that turned ``007`` into ``7`` has changed the id: format the
  column as text before saving.

Level values of a rubric and labels are compared after the same normalisation, so ``"pass "`` is ``pass``.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

_INVISIBLE = frozenset("\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff\u2028\u2029")
"""Zero-width space, direction marks and overrides/isolates, BOM, line/paragraph separators."""


def normalize_id(value: str) -> str:
    """The canonical form of an id or name, or ``ValueError`` saying what is wrong with it.

    >>> normalize_id("  cafe\\u0301 "), normalize_id("007")
    ('café', '007')
    """
    if value.isascii():  # the common case first (every id of every import row): printable ASCII is canonical
        text = value.strip()
        if text and text.isprintable():
            return text
    text = value if value.isascii() else unicodedata.normalize("NFC", value)
    text = text.strip()
    if not text:
        raise ValueError("must not be blank")
    if not text.isprintable():
        for ch in text:
            if ch == " " or (ch.isprintable() and ch not in _INVISIBLE):
                continue
            category = unicodedata.category(ch)
            if category == "Cc" or category == "Cs" or ch in _INVISIBLE:
                kind = {"Cc": "a control character", "Cs": "a lone surrogate"}.get(category, "")
                raise ValueError(
                    f"holds U+{ord(ch):04X} ({unicodedata.name(ch, kind)}), an invisible or control character "
                    "that would make it display as something it is not"
                )
    elif not text.isascii() and any(ch in _INVISIBLE for ch in text):  # every invisible one is non-ASCII
        raise ValueError("holds an invisible formatting character")
    return text


Identifier = Annotated[str, AfterValidator(normalize_id)]
"""A ``str`` field holding an id or a name, normalised by :func:`normalize_id`."""


def _number_as_text(value: object) -> object:
    """YAML and JSON write ``1`` for the level ``"1"``: a number (not a boolean) becomes its shortest text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    return value


LevelValue = Annotated[str, BeforeValidator(_number_as_text), AfterValidator(normalize_id)]
"""A level value of a rubric's scale (or a reference to one): text normalised as ids are; a number in a YAML or JSON
file (``value: 1``) is taken as its text (``"1"``)."""
