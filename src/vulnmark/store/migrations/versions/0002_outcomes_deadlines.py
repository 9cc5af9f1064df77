"""Deadlines and outcomes: policy versions (a ticket keeps the deadline of the policy in force
when it was discovered) and per-ticket discovery, classification and outcome times in the
evaluation cache (joined by ``check``, aggregated by ``metrics``).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("effective_at", sa.String(length=32), nullable=False),
        sa.Column("deadlines", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("discovered_at", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("classified_at", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("outcome_at", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("outcome_kind", sa.String(length=32), nullable=True))
    # cached evaluations lack the new columns: make every ticket be evaluated again
    op.execute("DELETE FROM state WHERE name = 'evaluate.policy_digest'")


def downgrade() -> None:
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_column("outcome_kind")
        batch_op.drop_column("outcome_at")
        batch_op.drop_column("classified_at")
        batch_op.drop_column("discovered_at")
    op.drop_table("policy_versions")
