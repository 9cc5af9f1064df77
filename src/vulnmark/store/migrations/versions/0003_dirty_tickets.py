"""Pending evaluations in their own narrow table instead of a flag on the ticket row.

Clearing a flag rewrote the whole (wide) ticket row, which cost more than evaluating it on a
cold check of a large store; a row per pending ticket in ``dirty_tickets`` is cheap to add and
delete, and drives the scan of what changed.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dirty_tickets",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(["key"], ["tickets.key"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("key"),
    )
    op.execute("INSERT INTO dirty_tickets (key) SELECT key FROM tickets WHERE dirty = 1")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_dirty", sqlite_where=sa.text("dirty = 1"),
                            postgresql_where=sa.text("dirty = 1"))
        batch_op.drop_column("dirty")


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dirty", sa.Integer(), server_default="0",
                                      nullable=False))
    op.execute("UPDATE tickets SET dirty = 1 WHERE key IN (SELECT key FROM dirty_tickets)")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index("ix_tickets_dirty", ["key"], unique=False,
                              sqlite_where=sa.text("dirty = 1"),
                              postgresql_where=sa.text("dirty = 1"))
    op.drop_table("dirty_tickets")
