"""Taking a source's labels over the ones vulnmark keeps (``vulnmark import
--accept-source-labels``): the person's answer to a ``source_diverged`` finding.

The labels vulnmark added that the source lacks are removed, the labels it removed that the
source still has come back, the overlay entries go (:mod:`vulnmark.store.overlay`), and each
ticket's change is recorded in the evidence log (``source_labels_accepted``, with the person
and the OS user) together with the label change itself, in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from vulnmark.errors import InputError
from vulnmark.evidence.events import SourceLabelsAccepted
from vulnmark.sources import embedded
from vulnmark.store import Store, events, overlay
from vulnmark.store import tickets as store_tickets


@dataclass(frozen=True)
class Accepted:
    """One ticket that now has its source's labels."""

    ticket: str
    dropped: tuple[str, ...]
    restored: tuple[str, ...]
    labels: tuple[str, ...]


def kept_over(store: Store, keys: Sequence[str] | None = None) -> list[str]:
    """The tickets among ``keys`` (all when None) with labels kept over their source."""
    with store.reading() as conn:
        if keys is None:
            return sorted(overlay.entries(conn))
        unique = list(dict.fromkeys(keys))
        return sorted(k for i in range(0, len(unique), 500)
                      for k in overlay.entries(conn, unique[i:i + 500]))


def accept_source_labels(store: Store, *, by: str, at: datetime,
                         keys: Sequence[str] | None = None) -> list[Accepted]:
    """Give ``keys`` (every ticket with kept labels when None) their source's labels as last
    seen; a key with nothing kept is named (an :class:`InputError`), nothing is changed then."""
    done: list[Accepted] = []
    with store.transaction() as conn:
        found = overlay.entries(conn, None if keys is None else list(dict.fromkeys(keys)))
        if keys is not None:
            missing = [k for k in keys if k not in found]
            if missing:
                raise InputError(f"no label kept over the source on {', '.join(missing)} "
                                 "(see vulnmark check --kind source_diverged)", field="--ticket")
        for key, kept in found.items():
            t = store_tickets.get(conn, key)
            if t is None:  # the overlay goes with its ticket (foreign key)
                continue
            dropped = tuple(e.label for e in kept if e.op == "add")
            restored = tuple(e.label for e in kept if e.op == "remove")
            changed = embedded.relabelled(t, add=restored, remove=dropped, by=by, at=at)
            overlay.forget(conn, key)
            if changed is not None:
                store_tickets.save(conn, [changed[0]], at=at, actor=by)
            events.record(conn, SourceLabelsAccepted(key, dropped, restored, by), at)
            done.append(Accepted(key, dropped, restored,
                                 t.labels if changed is None else changed[0].labels))
    return done
