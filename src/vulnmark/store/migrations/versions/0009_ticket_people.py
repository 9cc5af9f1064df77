"""Who reported a ticket and who it is assigned to, with their addresses where the source
shows them: reminders reach the reporter (or the assignee) straight from Jira's
``emailAddress``, and intake can assign the tickets it creates.

``tickets.reporter`` keeps the display name; ``reporter_id``/``assignee_id`` are the Jira Cloud
``accountId`` or the Data Center user ``name``. Tickets stored before keep their content hash
(the hash takes these fields only when one is set).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

COLUMNS = ("reporter_id", "reporter_email", "assignee", "assignee_id", "assignee_email")


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
