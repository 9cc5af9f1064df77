"""Labels vulnmark applied that a source does not carry yet (the re-import overlay), and the
wall clock beside the source's time on every label change (issue 11).

``label_overlay``: one row per label vulnmark added to (``op = add``) or removed from
(``op = remove``) a ticket that comes from a source (a Jira site, an import file). A re-import
or sync that does not carry the change keeps it (the ticket's labels are the source's plus the
overlay); the row goes when the source shows the change or a person takes the source's labels
(``vulnmark import --accept-source-labels``). ``label_changes.recorded_at``: when vulnmark
recorded a change (the wall clock), beside ``at`` (when it took effect at the source).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TS = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "label_overlay",
        sa.Column("ticket_key", sa.String(255),
                  sa.ForeignKey("tickets.key", ondelete="CASCADE"), primary_key=True),
        sa.Column("label", sa.String(255), primary_key=True),
        sa.Column("op", sa.String(8), nullable=False),
        sa.Column("by", sa.String(255)),
        sa.Column("via", sa.String(64), nullable=False),
        sa.Column("applied_at", TS, nullable=False),
        sa.Column("seen_at", TS),
        sa.Column("seen_via", sa.String(64)),
    )
    with op.batch_alter_table("label_changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recorded_at", TS, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("label_changes", schema=None) as batch_op:
        batch_op.drop_column("recorded_at")
    op.drop_table("label_overlay")
