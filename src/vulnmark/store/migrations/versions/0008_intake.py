"""Threat intake: the published vulnerabilities that opened tickets, their ids, and the KEV
catalog (issue 15).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TS = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "intake_records",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("ticket_key", sa.String(255), nullable=False, unique=True),
        sa.Column("feed", sa.String(16), nullable=False),
        sa.Column("aliases", sa.Text, nullable=False, server_default="[]"),
        sa.Column("published_class", sa.String(64)),
        sa.Column("basis", sa.Text, nullable=False, server_default=""),
        sa.Column("ratings", sa.Text, nullable=False, server_default="[]"),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("published_at", TS),
        sa.Column("modified_at", TS),
        sa.Column("first_seen_at", TS, nullable=False),
        sa.Column("assess_due_at", TS),
        sa.Column("kev_due", sa.String(10)),
        sa.Column("rejected", sa.Integer, nullable=False, server_default="0"),
        sa.Column("owner", sa.String(255)),
        sa.Column("proposed_class", sa.String(64)),
        sa.Column("assessed_at", TS),
        sa.Column("assessment", sa.String(32)),
        sa.Column("assessed_by", sa.String(255)),
    )
    op.create_table(
        "intake_ids",
        sa.Column("alias", sa.String(255), primary_key=True),
        sa.Column("record_id", sa.String(255),
                  sa.ForeignKey("intake_records.id", ondelete="CASCADE"), nullable=False),
    )
    op.create_index("ix_intake_ids_record_id", "intake_ids", ["record_id"])
    op.create_table(
        "intake_kev",
        sa.Column("cve", sa.String(32), primary_key=True),
        sa.Column("date_added", sa.String(10), nullable=False),
        sa.Column("due_date", sa.String(10)),
    )


def downgrade() -> None:
    op.drop_table("intake_kev")
    op.drop_index("ix_intake_ids_record_id", table_name="intake_ids")
    op.drop_table("intake_ids")
    op.drop_table("intake_records")
