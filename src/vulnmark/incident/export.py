"""An incident as JSON (``vulnmark incident show --format json``, ``incident list``)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from vulnmark._time import iso
from vulnmark.incident import status
from vulnmark.incident.service import irg_of
from vulnmark.model_incident import Incident


def _plain(value: Any) -> Any:
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value.isoformat()
    if hasattr(value, "tzinfo"):
        return iso(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def as_dict(incident: Incident, day: date) -> dict[str, Any]:
    """The incident with its action items as they stood at the end of ``day`` (``actions``, in
    the status table's order) and their whole history."""
    return {
        "id": incident.id, "title": incident.title, "ca_owner": incident.ca_owner,
        "ccadb_id": incident.ccadb_id, "source": incident.source,
        "opened": incident.opened.isoformat(), "irg": irg_of(incident).version,
        "aware_at": iso(incident.aware_at), "bug": incident.bug,
        "policies": list(incident.policies), "fields": dict(incident.fields),
        "as_of": day.isoformat(),
        "actions": [{"number": r.item.number, "title": r.item.title, "kind": r.item.kind,
                     "root_causes": r.item.root_causes, "criteria": r.item.criteria,
                     "due": r.state.due.isoformat(), "status": r.state.status,
                     "group": r.group, "since": r.state.effective.isoformat(),
                     "history": [_plain(asdict(c)) for c in r.item.history]}
                    for r in status.rows(incident, day)],
        "findings": [_plain(asdict(f)) for f in incident.findings],
        "timeline": [{"at": iso(t.at), "text": t.text} for t in incident.timeline],
        "posts": [_plain(asdict(p)) for p in incident.posts],
    }
