"""Claims on the daily report's slots: exactly one report per slot, however many schedulers.

A scheduler that finds a slot due claims it before building the report: one row per slot in
``state`` (``schedule.slot.<slot time>``, the primary key is the unique key), inserted in one
transaction, so of two, five or ten schedulers started at the same moment against one store
(SQLite or PostgreSQL) exactly one gets it. The claim holds a lease; a holder that crashed is
replaced once the lease has expired. The claim ends ``delivered`` (the slot is covered),
``kept`` (a scheduler told not to send), or ``failed`` (released at once: the next tick resends
the same run).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from vulnmark._time import parse, stored
from vulnmark.store.schema import state
from vulnmark.store.store import Store

PREFIX = "schedule.slot."
LEASE = timedelta(minutes=15)
"""How long a claim is held without news; a longer run renews it (``renew``)."""
DONE = ("delivered", "kept")


@dataclass(frozen=True)
class Claim:
    slot: datetime
    holder: str
    run: int | None
    """The run of an earlier failed attempt (to resend as it was), else None."""
    taken_over: bool = False


def _name(slot: datetime) -> str:
    return PREFIX + (stored(slot) or "")


def _insert(conn: Connection, name: str, value: str) -> bool:
    """Insert the claim row unless one exists; True when this call inserted it."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(state).values(name=name, value=value).on_conflict_do_nothing(
        index_elements=["name"]).returning(state.c.name)
    return conn.execute(stmt).first() is not None  # no row back: it existed


def claim(store: Store, slot: datetime, holder: str, now: datetime,
          lease: timedelta = LEASE) -> Claim | None:
    """Claim ``slot`` for ``holder``; None when it is covered or another holder's lease runs."""
    name = _name(slot)
    mine = json.dumps({"holder": holder, "status": "running",
                       "lease_until": stored(now + lease), "run": None}, sort_keys=True)
    with store.transaction() as conn:
        if _insert(conn, name, mine):
            return Claim(slot, holder, None)
        old = conn.execute(select(state.c.value).where(state.c.name == name)).scalar_one()
        held = _parse(old)
        if held.get("status") in DONE:
            return None
        lease_until = held.get("lease_until")
        until = parse(lease_until) if isinstance(lease_until, str) else None
        if held.get("status") == "running" and until is not None and until > now:
            return None
        run = held.get("run")
        value = json.dumps({"holder": holder, "status": "running",
                            "lease_until": stored(now + lease), "run": run}, sort_keys=True)
        took = conn.execute(update(state).where(state.c.name == name, state.c.value == old)
                            .values(value=value)).rowcount
    return Claim(slot, holder, run if isinstance(run, int) else None, taken_over=True) \
        if took else None


def finish(store: Store, c: Claim, *, status: str, run: int | None) -> None:
    """End ``c``: ``delivered``/``kept`` cover the slot; ``failed`` releases it at once."""
    value = json.dumps({"holder": c.holder, "status": status, "lease_until": None,
                        "run": run}, sort_keys=True)
    with store.transaction() as conn:
        conn.execute(update(state).where(state.c.name == _name(c.slot)).values(value=value))


def covered(store: Store, slot: datetime) -> bool | None:
    """True: the slot's claim is done; False: it is held now or failed; None: no claim."""
    with store.reading() as conn:
        value = conn.execute(select(state.c.value).where(state.c.name == _name(slot))).scalar()
    if value is None:
        return None
    return _parse(value).get("status") in DONE


def _parse(value: str) -> dict[str, object]:
    try:
        found = json.loads(value)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
