"""Idempotent control number allocations: the numbers an outbound interchange got, by purpose key.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 15:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('control_allocations',
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('partner_id', sa.String(length=100), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('isa13', sa.BigInteger(), nullable=False),
    sa.Column('gs06', sa.BigInteger(), nullable=False),
    sa.Column('st_first', sa.BigInteger(), nullable=False),
    sa.Column('st_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_control_allocations'))
    )


def downgrade() -> None:
    op.drop_table('control_allocations')
