"""The wall clock and the OS user on every evidence record; backdated outcomes said as such.

``events.recorded_at``/``recorded_by`` are taken by the writer itself (no ``--now`` moves them)
and are covered by the record's hash; records written before keep their old hash and verify.
``outcomes.entered_at``/``entered_by``/``why``: an outcome that took effect before it was
entered (``vulnmark outcome --effective TIME --why TEXT``) keeps both times and the reason.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recorded_at", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("recorded_by", sa.String(length=255), nullable=True))
    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entered_at", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("entered_by", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("why", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.drop_column("why")
        batch_op.drop_column("entered_by")
        batch_op.drop_column("entered_at")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("recorded_by")
        batch_op.drop_column("recorded_at")
