"""The one CSV writer: every cell defused, every row one row in a spreadsheet.

Ticket text, labels, reporters and reasons are untrusted, and CSV files are opened in
spreadsheets (OWASP "CSV injection"). Three rules hold for every file vulnmark writes:

* a cell a spreadsheet would run as a formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab
  or a carriage return) gets a leading ``'`` (:func:`defuse`);
* a cell holding a line break (CR or LF) is quoted whatever the line ending, so the break stays
  inside the cell. Python's csv module quotes a bare CR only when CR is part of its line
  terminator; unquoted, a spreadsheet starts a new row at the CR, and that row's first cell
  (``=cmd|…``) is not defused;
* other control characters (ESC, NUL, C1, bidi overrides) are shown as U+FFFD, as in every
  human output (a CSV printed to a terminal is one).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from vulnmark._text import clean

__all__ = ["FORMULA_START", "cell", "csv_text", "defuse", "undefuse"]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def defuse(text: str) -> str:
    """``text`` with a leading ``'`` when a spreadsheet would evaluate it."""
    return "'" + text if text.startswith(FORMULA_START) else text


def undefuse(text: str) -> str:
    """The text :func:`defuse` was given (for files vulnmark reads back, e.g. a review file)."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_START) else text


def cell(value: Any) -> str:
    """One cell: None is empty, a list or tuple is joined with ``;``, control characters are
    shown as U+FFFD (:func:`vulnmark._text.clean`; TAB, CR and LF stay, quoted), text is
    defused."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        value = ";".join(str(v) for v in value)
    return defuse(clean(str(value)))


def csv_text(headers: Sequence[str], rows: Iterable[Sequence[Any]], *,
             line_end: str = "\n") -> str:
    """A header row and ``rows`` as CSV (RFC 4180 quoting), every cell through :func:`cell`;
    rows end with ``line_end`` (``"\\r\\n"`` for RFC 4180 files)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")  # so that CR and LF in a cell are quoted
    out = []
    for row in (headers, *rows):
        writer.writerow([cell(v) for v in row])
        out.append(buf.getvalue()[:-2])
        buf.seek(0)
        buf.truncate()
    return line_end.join(out) + line_end
