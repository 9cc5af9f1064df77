"""The "Action Items Status" table and the status update, rendered from the recorded state of
an incident on a day. Formats return strings and do no I/O.

The rows follow one rule: done items first, then those in progress, then the open ones; within
each group by due date (then in the order the items were added). An IRG 1.0/2.0 incident shows
the 4-column table of the audit incident status reports; IRG 3.x the 6-column Action Items
table of the Full report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from vulnmark.incident.irg import GROUPS
from vulnmark.incident.service import irg_of
from vulnmark.model_incident import ActionItem, Incident, ItemChange
from vulnmark.report.interface import clean, one_line

LEGACY_HEADERS = ("Action Item", "Kind", "Due Date", "Status")
HEADERS = ("Action Item", "Kind", "Corresponding Root Cause(s)", "Evaluation Criteria",
           "Due Date", "Status")
#: Longest cell of a table (a longer text is cut with "…").
CELL_CHARS = 500


@dataclass(frozen=True)
class Row:
    item: ActionItem
    state: ItemChange
    group: str


def rows(incident: Incident, day: date) -> list[Row]:
    """The items that existed at the end of ``day``, in the table's order."""
    irg = irg_of(incident)
    found = []
    for item in incident.actions:
        state = item.at(day)
        if state is not None:
            found.append(Row(item, state, irg.group(state.status)))
    return sorted(found, key=lambda r: (GROUPS.index(r.group), r.state.due, r.item.number))


def cell(value: str) -> str:
    """``value`` as one Markdown table cell: one line, controls neutralised, pipes escaped."""
    flat = one_line(value, CELL_CHARS)
    return flat.replace("\\", "\\\\").replace("|", "\\|") if flat else "N/A"


def paragraph(value: str) -> str:
    """Free text as Markdown paragraphs: controls neutralised, blank lines kept."""
    return clean(value.strip().replace("\r\n", "\n"))


def table(incident: Incident, day: date) -> str:
    legacy = irg_of(incident).legacy
    headers = LEGACY_HEADERS if legacy else HEADERS
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for r in rows(incident, day):
        if legacy:
            cells = [r.item.title, r.item.kind, r.state.due.isoformat(), r.state.status]
        else:
            cells = [r.item.title, r.item.kind, r.item.root_causes, r.item.criteria,
                     r.state.due.isoformat(), r.state.status]
        lines.append("| " + " | ".join(cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def title(incident: Incident, day: date) -> str:
    audit = incident.source == "Audit" and irg_of(incident).legacy
    return f"{'Audit ' if audit else ''}Incident Status Report - {day.isoformat()}"


def previous_day(incident: Incident, day: date) -> date | None:
    """The day of the last post before ``day`` (None: nothing posted yet)."""
    before = incident.posts_before(day)
    return max(p.day for p in before) if before else None


def changed(incident: Incident, day: date) -> list[tuple[ActionItem, tuple[ItemChange, ...]]]:
    """The items with changes since the previous post, in the table's order."""
    after = previous_day(incident, day)
    out = []
    for r in rows(incident, day):
        changes = r.item.changes_between(after, day)
        if changes:
            out.append((r.item, changes))
    return out


def _describe(item: ActionItem, changes: tuple[ItemChange, ...]) -> str:
    parts = []
    for c in changes:
        if c.note:
            parts.append(paragraph(c.note))
            continue
        before = [h for h in item.history if h.effective <= c.effective and h is not c]
        was = before[-1] if before else None
        if was is None:
            parts.append(f"Added on {c.effective}: status {c.status}, due {c.due}.")
        elif was.status != c.status:
            parts.append(f"Status changed from {was.status} to {c.status} on {c.effective}.")
        elif was.due != c.due:
            parts.append(f"Due date moved from {was.due} to {c.due} on {c.effective}.")
    return "\n\n".join(parts)


def update(incident: Incident, day: date) -> str:
    """The status update of ``day``: a title, a section per item changed since the previous
    post with what happened, and the whole table."""
    out = [f"## {title(incident, day)}", ""]
    for item, changes in changed(incident, day):
        out += [f"### {cell(item.title)}", "", _describe(item, changes), ""]
    out += ["### Action Items Status", "", table(incident, day).rstrip("\n"), ""]
    return "\n".join(out)
