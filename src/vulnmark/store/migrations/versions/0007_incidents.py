"""Incidents: a CCADB incident or audit incident, its action items with every change of status
or due date (the status updates are rendered from that history), and the reports and updates
posted about it (:mod:`vulnmark.model_incident`).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TS = sa.String(length=32)


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("ca_owner", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("opened", sa.String(length=10), nullable=False),
        sa.Column("ccadb_id", sa.String(length=16), nullable=True),
        sa.Column("aware_at", TS, nullable=True),
        sa.Column("bug", sa.Integer(), nullable=True),
        sa.Column("details", sa.Text(), server_default="{}", nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "incident_actions",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("root_causes", sa.Text(), server_default="", nullable=False),
        sa.Column("criteria", sa.Text(), server_default="", nullable=False),
        sa.Column("control", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("incident_id", "number"),
    )
    op.create_table(
        "incident_action_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("effective", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("due", sa.String(length=10), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("why", sa.Text(), nullable=True),
        sa.Column("by", sa.String(length=255), nullable=True),
        sa.Column("recorded_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_incident_action_changes_item", "incident_action_changes",
                    ["incident_id", "number"], unique=False)
    op.create_table(
        "incident_posts",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("template", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("next_update", sa.String(length=10), nullable=True),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("incident_id", "number"),
    )


def downgrade() -> None:
    op.drop_table("incident_posts")
    op.drop_index("ix_incident_action_changes_item", table_name="incident_action_changes")
    op.drop_table("incident_action_changes")
    op.drop_table("incident_actions")
    op.drop_table("incidents")
