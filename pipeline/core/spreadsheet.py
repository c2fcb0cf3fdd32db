"""Text that a spreadsheet will show, never run.

A CSV or workbook cell whose text starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return, which some spreadsheets skip before reading the rest) is taken for a formula when the file
is opened: ``=HYPERLINK(...)`` in an LA's name could send a reader's click, or data, elsewhere.
Such text is written with a leading apostrophe, as OWASP advises, so it is shown as typed. Numbers
are not text and are written as they are (a negative number is still a number).
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value: object) -> object:
    """`value`, with an apostrophe before it when it is text a spreadsheet would run."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
