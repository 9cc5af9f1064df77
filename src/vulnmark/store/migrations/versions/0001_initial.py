"""Initial schema: tickets, comments, label history, evaluations, outcomes, runs,
reports, evidence events and sync state.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-27 15:04:19.859641
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('events',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('at', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    op.create_table('outcomes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ticket_key', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=True),
    sa.Column('text', sa.Text(), server_default='', nullable=False),
    sa.Column('actor', sa.String(length=255), nullable=True),
    sa.Column('recorded_at', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('outcomes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outcomes_ticket_key'), ['ticket_key'], unique=False)

    op.create_table('runs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('started_at', sa.String(length=32), nullable=False),
    sa.Column('finished_at', sa.String(length=32), nullable=True),
    sa.Column('policy_digest', sa.String(length=64), nullable=False),
    sa.Column('counts', sa.Text(), server_default='{}', nullable=False),
    sa.Column('report_digest', sa.String(length=64), nullable=True),
    sa.Column('delivery_status', sa.String(length=32), nullable=True),
    sa.Column('message_id', sa.Text(), nullable=True),
    sa.Column('server_reply', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('state',
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('tickets',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('labels', sa.Text(), server_default='[]', nullable=False),
    sa.Column('status', sa.String(length=255), nullable=False),
    sa.Column('resolution', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.String(length=32), nullable=True),
    sa.Column('resolved_at', sa.String(length=32), nullable=True),
    sa.Column('discovered_at', sa.String(length=32), nullable=True),
    sa.Column('reporter', sa.String(length=255), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('priority', sa.String(length=255), nullable=True),
    sa.Column('issue_type', sa.String(length=255), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('dirty', sa.Integer(), server_default='1', nullable=False),
    sa.Column('gone_at', sa.String(length=32), nullable=True),
    sa.Column('gone_reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_dirty', ['key'], unique=False, sqlite_where=sa.text('dirty = 1'), postgresql_where=sa.text('dirty = 1'))

    op.create_table('comments',
    sa.Column('ticket_key', sa.String(length=255), nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.Column('author', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.String(length=32), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_key'], ['tickets.key'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_key', 'idx')
    )
    op.create_table('evaluations',
    sa.Column('ticket_key', sa.String(length=255), nullable=False),
    sa.Column('is_vulnerability', sa.Integer(), nullable=False),
    sa.Column('classification', sa.String(length=64), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.String(length=32), nullable=False),
    sa.Column('due_at', sa.String(length=32), nullable=True),
    sa.Column('resolved_at', sa.String(length=32), nullable=True),
    sa.Column('n_findings', sa.Integer(), nullable=False),
    sa.Column('findings', sa.Text(), server_default='[]', nullable=False),
    sa.ForeignKeyConstraint(['ticket_key'], ['tickets.key'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_key')
    )
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.create_index('ix_evaluations_due', ['due_at'], unique=False)
        batch_op.create_index('ix_evaluations_findings', ['ticket_key'], unique=False, sqlite_where=sa.text('n_findings > 0'), postgresql_where=sa.text('n_findings > 0'))

    op.create_table('label_changes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ticket_key', sa.String(length=255), nullable=False),
    sa.Column('at', sa.String(length=32), nullable=False),
    sa.Column('author', sa.String(length=255), nullable=True),
    sa.Column('added', sa.Text(), server_default='[]', nullable=False),
    sa.Column('removed', sa.Text(), server_default='[]', nullable=False),
    sa.ForeignKeyConstraint(['ticket_key'], ['tickets.key'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('label_changes', schema=None) as batch_op:
        batch_op.create_index('ix_label_changes_ticket', ['ticket_key', 'at'], unique=False)

    op.create_table('reports',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'format')
    )



def downgrade() -> None:

    op.drop_table('reports')
    with op.batch_alter_table('label_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_label_changes_ticket')

    op.drop_table('label_changes')
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.drop_index('ix_evaluations_findings', sqlite_where=sa.text('n_findings > 0'), postgresql_where=sa.text('n_findings > 0'))
        batch_op.drop_index('ix_evaluations_due')

    op.drop_table('evaluations')
    op.drop_table('comments')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_dirty', sqlite_where=sa.text('dirty = 1'), postgresql_where=sa.text('dirty = 1'))

    op.drop_table('tickets')
    op.drop_table('state')
    op.drop_table('runs')
    with op.batch_alter_table('outcomes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outcomes_ticket_key'))

    op.drop_table('outcomes')
    op.drop_table('events')

