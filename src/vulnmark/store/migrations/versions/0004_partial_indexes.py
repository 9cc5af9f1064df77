"""Partial indexes on evaluations: due dates only where there is one, and vulnerabilities.

Most evaluations have no due date (unmarked tickets). Their NULL entries made up 94 % of the
due-date index, and replacing the evaluations of changed tickets spread over a large store
touched a random page of it for each one: re-evaluating 10,000 of 1,000,000 tickets took 0.92 s
of writing with the full index and 0.28 s with this one. Queries on due dates (``due_at <= x``,
``due_at > ''``) imply a due date, so both SQLite and PostgreSQL still use the index.

The count of vulnerabilities per class, in every report, scanned all evaluations (0.08 s at
1M); the vulnerabilities' own index answers it (0.004 s).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_evaluations_due", table_name="evaluations")
    op.create_index("ix_evaluations_due", "evaluations", ["due_at"], unique=False,
                    sqlite_where=sa.text("due_at IS NOT NULL"),
                    postgresql_where=sa.text("due_at IS NOT NULL"))
    op.create_index("ix_evaluations_vulnerabilities", "evaluations", ["classification"],
                    unique=False, sqlite_where=sa.text("is_vulnerability = 1"),
                    postgresql_where=sa.text("is_vulnerability = 1"))


def downgrade() -> None:
    op.drop_index("ix_evaluations_vulnerabilities", table_name="evaluations")
    op.drop_index("ix_evaluations_due", table_name="evaluations")
    op.create_index("ix_evaluations_due", "evaluations", ["due_at"], unique=False)
