"""Action items bound to a vulnmark control, and their evaluation criterion checked from the
store: "JIRA AUTOMATIC REPORT" <- the daily report, delivered every day since the item was
done ("delivered every day since 2023-11-30: yes, 7/7")."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from vulnmark.incident.irg import STATUSES_2, STATUSES_3
from vulnmark.model_incident import ActionItem
from vulnmark.store import Store
from vulnmark.store.runs import list_runs

#: The controls an action item can be bound to (``incident action add --control``).
CONTROLS: tuple[str, ...] = ("daily-report",)


def since(item: ActionItem, day: date) -> date:
    """From when the control must have run: the day the item was done, else its due date."""
    for change in item.history:
        if change.effective <= day and {**STATUSES_2, **STATUSES_3}.get(change.status) == "done":
            return change.effective
    state = item.at(day)
    return state.due if state is not None else item.added


def check(store: Store, item: ActionItem, day: date) -> str | None:
    """The criterion of ``item``'s control at the end of ``day`` (None: no control bound)."""
    if item.control != "daily-report":
        return None
    start = since(item, day)
    if start > day:
        return f"daily report delivered every day since {start}: not yet due"
    days = (day - start).days + 1
    runs = list_runs(store, kind="report",
                     since=datetime.combine(start, time(0), tzinfo=UTC),
                     until=datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC))
    delivered = {r.started_at.date() for r in runs if r.delivery_status == "delivered"}
    ok = len(delivered)
    return (f"daily report delivered every day since {start}: "
            f"{'yes' if ok == days else 'no'}, {ok}/{days}")
