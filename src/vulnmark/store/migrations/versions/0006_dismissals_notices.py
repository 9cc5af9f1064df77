"""Dismissed findings (``vulnmark dismiss``) and the alerts and reminders sent.

A dismissal keeps who, when, why and until when, plus the ticket's content hash and a
fingerprint of its text and labels at that moment: a material change lifts it. ``notices``
remembers each alert (one per ticket and reason) and reminder (one per author and day).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TS = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "dismissals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ticket_key", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("why", sa.Text, nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("until", TS),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("ended_at", TS),
        sa.Column("ended_why", sa.Text),
    )
    op.create_index("ix_dismissals_active", "dismissals", ["ticket_key", "kind"],
                    sqlite_where=sa.text("ended_at IS NULL"),
                    postgresql_where=sa.text("ended_at IS NULL"))
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("ticket_key", sa.String(255), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("recipient", sa.Text, nullable=False, server_default=""),
        sa.Column("sent_at", TS, nullable=False),
    )
    op.create_index("ix_notices_ticket", "notices", ["channel", "ticket_key", "reason"])


def downgrade() -> None:
    op.drop_index("ix_notices_ticket", table_name="notices")
    op.drop_table("notices")
    op.drop_index("ix_dismissals_active", table_name="dismissals")
    op.drop_table("dismissals")
