"""Table definitions (SQLAlchemy Core). Alembic migrations in ``migrations/`` create them.

Times are stored as fixed-width ISO-8601 UTC text (``2026-11-27T07:00:00.000000Z``, see
:func:`vulnmark._time.stored`), which sorts and compares correctly in SQL on SQLite and PostgreSQL
alike.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()

TS = String(32)


tickets = Table(
    "tickets",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("source", String(64), nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("labels", Text, nullable=False, server_default="[]"),
    Column("status", String(255), nullable=False),
    Column("resolution", String(255)),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS),
    Column("resolved_at", TS),
    Column("discovered_at", TS),
    Column("reporter", String(255)),
    Column("url", Text),
    Column("priority", String(255)),
    Column("issue_type", String(255)),
    Column("content_hash", String(64), nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("gone_at", TS),
    Column("gone_reason", Text),
    Column("reporter_id", String(255)),
    Column("reporter_email", String(255)),
    Column("assignee", String(255)),
    Column("assignee_id", String(255)),
    Column("assignee_email", String(255)),
)

dirty_tickets = Table(
    "dirty_tickets",
    metadata,
    Column("key", String(255), ForeignKey("tickets.key", ondelete="CASCADE"), primary_key=True),
)
"""Tickets whose evaluation is out of date (new, changed, gone, or the policy changed)."""

comments = Table(
    "comments",
    metadata,
    Column("ticket_key", String(255), ForeignKey("tickets.key", ondelete="CASCADE"),
           primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("author", String(255)),
    Column("created_at", TS),
    Column("body", Text, nullable=False),
)

label_changes = Table(
    "label_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_key", String(255), ForeignKey("tickets.key", ondelete="CASCADE"),
           nullable=False),
    Column("at", TS, nullable=False),
    Column("author", String(255)),
    Column("added", Text, nullable=False, server_default="[]"),
    Column("removed", Text, nullable=False, server_default="[]"),
    Column("recorded_at", TS),  # the wall clock when vulnmark recorded it (0010; None before)
)
Index("ix_label_changes_ticket", label_changes.c.ticket_key, label_changes.c.at)

label_overlay = Table(
    "label_overlay",
    metadata,
    Column("ticket_key", String(255), ForeignKey("tickets.key", ondelete="CASCADE"),
           primary_key=True),
    Column("label", String(255), primary_key=True),
    Column("op", String(8), nullable=False),  # add | remove
    Column("by", String(255)),
    Column("via", String(64), nullable=False),
    Column("applied_at", TS, nullable=False),
    Column("seen_at", TS),
    Column("seen_via", String(64)),
)
"""Labels vulnmark added to or removed from a ticket that comes from a source, while the
source does not show the change (0010, :mod:`vulnmark.store.overlay`)."""

evaluations = Table(
    "evaluations",
    metadata,
    Column("ticket_key", String(255), ForeignKey("tickets.key", ondelete="CASCADE"),
           primary_key=True),
    Column("is_vulnerability", Integer, nullable=False),
    Column("classification", String(64)),
    Column("state", String(16), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("due_at", TS),
    Column("resolved_at", TS),
    Column("n_findings", Integer, nullable=False),
    Column("findings", Text, nullable=False, server_default="[]"),
    Column("discovered_at", TS),
    Column("classified_at", TS),
    Column("outcome_at", TS),
    Column("outcome_kind", String(32)),
)
Index("ix_evaluations_findings", evaluations.c.ticket_key,
      sqlite_where=text("n_findings > 0"), postgresql_where=text("n_findings > 0"))
Index("ix_evaluations_due", evaluations.c.due_at,  # only rows with a due date (0004)
      sqlite_where=text("due_at IS NOT NULL"), postgresql_where=text("due_at IS NOT NULL"))
Index("ix_evaluations_vulnerabilities", evaluations.c.classification,  # counts per class
      sqlite_where=text("is_vulnerability = 1"), postgresql_where=text("is_vulnerability = 1"))

outcomes = Table(
    "outcomes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_key", String(255), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("reason", String(64)),
    Column("text", Text, nullable=False, server_default=""),
    Column("actor", String(255)),
    Column("recorded_at", TS, nullable=False),  # when it took effect (judged by it)
    Column("entered_at", TS),  # the wall clock when it was entered (0005)
    Column("entered_by", String(255)),  # the OS user who entered it (0005)
    Column("why", Text),  # why it was entered after it took effect (--effective, 0005)
)

policy_versions = Table(
    "policy_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("digest", String(64), nullable=False),
    Column("effective_at", TS, nullable=False),
    Column("deadlines", Text, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("started_at", TS, nullable=False),
    Column("finished_at", TS),
    Column("policy_digest", String(64), nullable=False),
    Column("counts", Text, nullable=False, server_default="{}"),
    Column("report_digest", String(64)),
    Column("delivery_status", String(32)),
    Column("message_id", Text),
    Column("server_reply", Text),
    Column("error", Text),
)

reports = Table(
    "reports",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("format", String(16), primary_key=True),
    Column("body", Text, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", TS, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("recorded_at", TS),  # the wall clock when written (0005; None before)
    Column("recorded_by", String(255)),  # the OS user who wrote it (0005)
)

state = Table(
    "state",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("value", Text, nullable=False),
)

intake_records = Table(
    "intake_records",
    metadata,
    Column("id", String(255), primary_key=True),
    Column("ticket_key", String(255), nullable=False, unique=True),
    Column("feed", String(16), nullable=False),
    Column("aliases", Text, nullable=False, server_default="[]"),
    Column("published_class", String(64)),
    Column("basis", Text, nullable=False, server_default=""),
    Column("ratings", Text, nullable=False, server_default="[]"),
    Column("digest", String(64), nullable=False),
    Column("published_at", TS),
    Column("modified_at", TS),
    Column("first_seen_at", TS, nullable=False),
    Column("assess_due_at", TS),
    Column("kev_due", String(10)),
    Column("rejected", Integer, nullable=False, server_default="0"),
    Column("owner", String(255)),
    Column("proposed_class", String(64)),
    Column("assessed_at", TS),
    Column("assessment", String(32)),
    Column("assessed_by", String(255)),
)
"""One row per published vulnerability that opened a ticket (threat intake, 0008)."""

intake_ids = Table(
    "intake_ids",
    metadata,
    Column("alias", String(255), primary_key=True),
    Column("record_id", String(255), ForeignKey("intake_records.id", ondelete="CASCADE"),
           nullable=False, index=True),
)
"""Every id of an intake record (CVE, GHSA, PYSEC …): the same vulnerability opens one ticket."""

intake_kev = Table(
    "intake_kev",
    metadata,
    Column("cve", String(32), primary_key=True),
    Column("date_added", String(10), nullable=False),
    Column("due_date", String(10)),
)
"""The CISA KEV catalog as last read: membership escalates a CVE from any feed."""

dismissals = Table(
    "dismissals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_key", String(255), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("why", Text, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("at", TS, nullable=False),
    Column("until", TS),
    Column("fingerprint", String(64), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("ended_at", TS),
    Column("ended_why", Text),
)
"""Findings a person dismissed (``vulnmark dismiss``); active while ``ended_at`` is NULL, not
past ``until`` and the ticket's text and labels are as they were (``fingerprint``)."""
Index("ix_dismissals_active", dismissals.c.ticket_key, dismissals.c.kind,
      sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL"))

notices = Table(
    "notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),
    Column("ticket_key", String(255), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("recipient", Text, nullable=False, server_default=""),
    Column("sent_at", TS, nullable=False),
)
"""Alerts (``vulnmark watch``) and reminders sent: one alert per ticket and reason, one
reminder per author and day."""
Index("ix_notices_ticket", notices.c.channel, notices.c.ticket_key, notices.c.reason)

# -- incidents (0007): see vulnmark.model_incident ----------------------------------------------

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", Text, nullable=False),
    Column("ca_owner", Text, nullable=False),
    Column("source", String(32), nullable=False),
    Column("opened", String(10), nullable=False),
    Column("ccadb_id", String(16)),
    Column("aware_at", TS),
    Column("bug", Integer),
    Column("details", Text, nullable=False, server_default="{}"),
    Column("recorded_at", TS, nullable=False),
)
"""``details``: JSON of the narrative parts (policies, fields, findings, timeline, factors,
lessons, related incidents), small and always read and written whole."""

incident_actions = Table(
    "incident_actions",
    metadata,
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="CASCADE"),
           primary_key=True),
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("title", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("root_causes", Text, nullable=False, server_default=""),
    Column("criteria", Text, nullable=False, server_default=""),
    Column("control", String(64)),
)

incident_action_changes = Table(
    "incident_action_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, nullable=False),
    Column("number", Integer, nullable=False),
    Column("effective", String(10), nullable=False),
    Column("status", String(32), nullable=False),
    Column("due", String(10), nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("why", Text),
    Column("by", String(255)),
    Column("recorded_at", TS, nullable=False),
)
Index("ix_incident_action_changes_item", incident_action_changes.c.incident_id,
      incident_action_changes.c.number)

incident_posts = Table(
    "incident_posts",
    metadata,
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="CASCADE"),
           primary_key=True),
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),
    Column("day", String(10), nullable=False),
    Column("template", String(32), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("next_update", String(10)),
    Column("comment_id", Integer),
    Column("recorded_at", TS, nullable=False),
)
