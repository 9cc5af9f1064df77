"""The one JQL builder: every value quoted and escaped, negations that also match empty fields.

Used by the Jira sync (scope, incremental window, resume point) and by ``vulnmark jql`` (the
filters of ``list`` and ``check`` as a query Jira users can save).

Rules, from Jira's own ``JqlStringSupportImpl`` (see ``reference/jira.md`` §2.3):

* every value is double-quoted; ``\\``, ``"``, ``'``, tab, CR and LF are backslash-escaped and
  other control characters become ``\\uXXXX`` — a label such as ``a"b) OR project = X`` stays one
  value;
* ``labels not in (…)`` never matches an issue without labels, so it is always written
  ``(labels not in (…) OR labels is EMPTY)``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Literal

logger = logging.getLogger(__name__)

State = Literal["open", "resolved", "all"]

_ESCAPES = {"\\": "\\\\", '"': '\\"', "'": "\\'", "\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _is_control(ch: str) -> bool:
    o = ord(ch)
    return (
        o <= 0x1F
        or 0x7F <= o <= 0x9F
        or 0xFDD0 <= o <= 0xFDEF
        or o in (0xFFFE, 0xFFFF)
    )


def quote(value: str) -> str:
    """A JQL string literal for ``value``: always double-quoted, escaped as Jira escapes."""
    out = ['"']
    for ch in value:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif _is_control(ch):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def value_list(values: Iterable[str]) -> str:
    """``("a", "b")`` — duplicates dropped, order kept."""
    seen = dict.fromkeys(values)
    if not seen:
        raise ValueError("a JQL list needs at least one value")
    return "(" + ", ".join(quote(v) for v in seen) + ")"


def labels_in(labels: Iterable[str]) -> str:
    return f"labels in {value_list(labels)}"


def labels_not_in(labels: Iterable[str]) -> str:
    """Issues carrying none of ``labels``, including issues with no label at all."""
    return f"(labels not in {value_list(labels)} OR labels is EMPTY)"


def state_clause(state: State) -> str | None:
    if state == "open":
        return "resolution is EMPTY"
    if state == "resolved":
        return "resolution is not EMPTY"
    return None


def relative_minutes(instant: datetime, now: datetime) -> str:
    """``"-Nm"``: a relative date that includes ``instant`` whatever the Jira user's time zone.

    Absolute JQL dates are read in the searching user's profile time zone and have minute
    precision; a relative offset from the server's "now" avoids both problems. Rounded up, so
    the window never starts later than ``instant``.
    """
    minutes = max(1, math.ceil((now - instant) / timedelta(minutes=1)) + 1)
    return quote(f"-{minutes}m")


def and_all(*clauses: str | None) -> str:
    """Join clauses with AND, each in parentheses unless it is a single simple clause."""
    parts = [c for c in clauses if c]
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    return " AND ".join(f"({p})" if _needs_parens(p) else p for p in parts)


def _needs_parens(clause: str) -> bool:
    low = clause.lower()
    return (" or " in low or " and " in low or " order by " in low) and not (
        clause.startswith("(") and clause.endswith(")") and _balanced_outer(clause)
    )


def _balanced_outer(clause: str) -> bool:
    """True when the first ``(`` closes at the last character (ignoring quoted text)."""
    depth = 0
    quote_ch: str | None = None
    escaped = False
    for i, ch in enumerate(clause):
        if quote_ch:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote_ch:
                quote_ch = None
            continue
        if ch in "\"'":
            quote_ch = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0 and i != len(clause) - 1:
                return False
    return depth == 0


def split_order_by(jql: str) -> tuple[str, str]:
    """Split a user's JQL into (condition, order-by clause); the order-by may be empty."""
    low = jql.lower()
    idx = low.rfind("order by")
    if idx < 0 or low[:idx].count('"') % 2:
        return jql.strip(), ""
    return jql[:idx].strip(), jql[idx:].strip()


def filter_jql(
    *,
    vulnerability_labels: Sequence[str],
    class_labels: Sequence[str] = (),
    unclassified_classes: Sequence[str] | None = None,
    state: State = "all",
    scope: str | None = None,
    order_by: str | None = "ORDER BY key ASC",
) -> str:
    """JQL for ``list``/``check`` filters.

    * ``vulnerability_labels``: accepted vulnerability labels (any of them marks a vulnerability);
    * ``class_labels``: restrict to tickets carrying any of these classification labels;
    * ``unclassified_classes``: all accepted classification labels — restrict to vulnerabilities
      carrying none of them;
    * ``state``: ``open`` (``resolution is EMPTY``), ``resolved`` or ``all``;
    * ``scope``: the configured scope JQL, ANDed in parentheses (its own ORDER BY is dropped).
    """
    clauses: list[str | None] = []
    if scope:
        cond, _ = split_order_by(scope)
        clauses.append(f"({cond})" if cond else None)
    clauses.append(labels_in(vulnerability_labels))
    if class_labels:
        clauses.append(labels_in(class_labels))
    if unclassified_classes:
        clauses.append(labels_not_in(unclassified_classes))
    clauses.append(state_clause(state))
    cond = and_all(*clauses)
    return f"{cond} {order_by}" if order_by else cond


def sync_jql(
    scope: str,
    *,
    now: datetime,
    updated_since: datetime | None = None,
    created_from: datetime | None = None,
) -> str:
    """The sync query: the scope, an incremental window, a resume point, in a stable order.

    Ordered by creation (which an edit never changes), then key: an issue edited during a sync
    does not move, new issues arrive at the end. The scope's own ORDER BY is replaced.
    """
    cond, _ = split_order_by(scope)
    if not cond:
        raise ValueError("the scope JQL has no condition (Jira Cloud rejects unbounded JQL)")
    clauses = [f"({cond})"]
    if updated_since is not None:
        clauses.append(f"updated >= {relative_minutes(updated_since, now)}")
    if created_from is not None:
        clauses.append(f"created >= {relative_minutes(created_from, now)}")
    return " AND ".join(clauses) + " ORDER BY created ASC, key ASC"
