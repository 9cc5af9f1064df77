"""Incidents in the store (:mod:`vulnmark.model_incident`): the incident row with its narrative
parts as JSON, action items, their changes (never updated, only appended) and posts.

Every function runs inside the caller's transaction (``Store.transaction()``), where the
change's evidence record is written too (:mod:`vulnmark.incident.service`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from vulnmark._time import parse, stored
from vulnmark.errors import IncidentError
from vulnmark.model_incident import (
    ActionItem,
    AuditFinding,
    ContributingFactor,
    Incident,
    IncidentId,
    ItemChange,
    Lesson,
    Post,
    RelatedIncident,
    TimelineEntry,
)
from vulnmark.store.schema import (
    incident_action_changes,
    incident_actions,
    incident_posts,
    incidents,
)

_DATES = ("audit_start", "audit_end", "found", "period_end", "attestation", "fulfilment_sent",
          "day")


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _json(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    return value


def _details(incident: Incident) -> str:
    body = {
        "policies": list(incident.policies),
        "fields": dict(incident.fields),
        "findings": [_json(asdict(f)) for f in incident.findings],
        "timeline": [{"at": stored(t.at), "text": t.text} for t in incident.timeline],
        "factors": [asdict(f) for f in incident.factors],
        "lessons": [asdict(x) for x in incident.lessons],
        "related": [_json(asdict(r)) for r in incident.related],
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True)


def _dated(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: (_day(v) if k in _DATES else v) for k, v in raw.items()}


def create(conn: Connection, incident: Incident) -> IncidentId:
    """Insert ``incident`` (its id is ignored) with its details; its actions and posts are
    added with :func:`add_action` and :func:`add_post`."""
    result = conn.execute(incidents.insert().values(
        title=incident.title, ca_owner=incident.ca_owner, source=incident.source,
        opened=incident.opened.isoformat(), ccadb_id=incident.ccadb_id,
        aware_at=stored(incident.aware_at), bug=incident.bug, details=_details(incident),
        recorded_at=stored(_now())))
    key = result.inserted_primary_key
    assert key is not None
    return IncidentId(int(key[0]))


def save(conn: Connection, incident: Incident) -> None:
    """Write the incident's own fields and details (actions and posts are appended apart)."""
    conn.execute(update(incidents).where(incidents.c.id == incident.id).values(
        title=incident.title, ca_owner=incident.ca_owner, source=incident.source,
        opened=incident.opened.isoformat(), ccadb_id=incident.ccadb_id,
        aware_at=stored(incident.aware_at), bug=incident.bug, details=_details(incident)))


def add_action(conn: Connection, incident: IncidentId, item: ActionItem) -> None:
    conn.execute(incident_actions.insert().values(
        incident_id=incident, number=item.number, title=item.title, kind=item.kind,
        root_causes=item.root_causes, criteria=item.criteria, control=item.control))
    for change in item.history:
        add_change(conn, incident, item.number, change)


def add_change(conn: Connection, incident: IncidentId, number: int, change: ItemChange) -> None:
    conn.execute(incident_action_changes.insert().values(
        incident_id=incident, number=number, effective=change.effective.isoformat(),
        status=change.status, due=change.due.isoformat(), note=change.note, why=change.why,
        by=change.by, recorded_at=stored(change.recorded_at or _now())))


def add_post(conn: Connection, incident: IncidentId, post: Post) -> Post:
    """Append ``post`` under the next number; returns it numbered."""
    last = conn.execute(select(func.max(incident_posts.c.number)).where(
        incident_posts.c.incident_id == incident)).scalar()
    post = replace(post, number=int(last or 0) + 1, recorded_at=post.recorded_at or _now())
    conn.execute(incident_posts.insert().values(
        incident_id=incident, number=post.number, kind=post.kind, day=post.day.isoformat(),
        template=post.template, sha256=post.sha256,
        next_update=post.next_update.isoformat() if post.next_update else None,
        comment_id=post.comment_id, recorded_at=stored(post.recorded_at)))
    return post


def ids(conn: Connection) -> list[IncidentId]:
    return [IncidentId(i) for i in conn.execute(select(incidents.c.id).order_by(incidents.c.id))
            .scalars()]


def get(conn: Connection, incident_id: int, *, lock: bool = False) -> Incident:
    """The whole incident; ``lock`` holds its row until the transaction ends (PostgreSQL)."""
    query = select(incidents).where(incidents.c.id == incident_id)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    if row is None:
        raise IncidentError(f"no incident {incident_id} in the store")
    details = json.loads(row["details"])
    changes: dict[int, list[ItemChange]] = {}
    for c in conn.execute(select(incident_action_changes).where(
            incident_action_changes.c.incident_id == incident_id)
            .order_by(incident_action_changes.c.id)).mappings():
        changes.setdefault(c["number"], []).append(ItemChange(
            effective=date.fromisoformat(c["effective"]), status=c["status"],
            due=date.fromisoformat(c["due"]), note=c["note"], why=c["why"], by=c["by"],
            recorded_at=parse(c["recorded_at"])))
    actions = tuple(
        ActionItem(number=a["number"], title=a["title"], kind=a["kind"],
                   root_causes=a["root_causes"], criteria=a["criteria"], control=a["control"],
                   history=tuple(sorted(changes.get(a["number"], []),
                                        key=lambda c: c.effective)))
        for a in conn.execute(select(incident_actions).where(
            incident_actions.c.incident_id == incident_id)
            .order_by(incident_actions.c.number)).mappings())
    posts = tuple(
        Post(number=p["number"], kind=p["kind"], day=date.fromisoformat(p["day"]),
             template=p["template"], sha256=p["sha256"], next_update=_day(p["next_update"]),
             comment_id=p["comment_id"], recorded_at=parse(p["recorded_at"]))
        for p in conn.execute(select(incident_posts).where(
            incident_posts.c.incident_id == incident_id)
            .order_by(incident_posts.c.number)).mappings())
    return Incident(
        id=IncidentId(row["id"]), title=row["title"], ca_owner=row["ca_owner"],
        source=row["source"], opened=date.fromisoformat(row["opened"]),
        ccadb_id=row["ccadb_id"], aware_at=parse(row["aware_at"]), bug=row["bug"],
        policies=tuple(details.get("policies", [])), fields=dict(details.get("fields", {})),
        findings=tuple(AuditFinding(**_dated(f)) for f in details.get("findings", [])),
        timeline=tuple(TimelineEntry(at=_at(t["at"]), text=t["text"])
                       for t in details.get("timeline", [])),
        factors=tuple(ContributingFactor(**f) for f in details.get("factors", [])),
        lessons=tuple(Lesson(**x) for x in details.get("lessons", [])),
        related=tuple(RelatedIncident(**_dated(r)) for r in details.get("related", [])),
        actions=actions, posts=posts)


def _at(value: str) -> datetime:
    found = parse(value)
    assert found is not None
    return found


def _now() -> datetime:
    return datetime.now(UTC)
