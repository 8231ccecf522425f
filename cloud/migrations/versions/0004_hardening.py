"""master data as sync's models, command outcomes, gateway work orders, admin states

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 05:20:00

- skus: the fields of sync.masterdata.Sku (``uom`` becomes ``base_unit``; gtin, dimensions, weight,
  temperature class, hazmat class, lot tracking and currency are added); site_records for the rest
- commands: the outcome the gateway reported (status, reason, applied_at, applied_seq)
- work_orders: a gateway's own work orders beside the cloud's (discrepancy_id may be null)
- users.disabled_at, gateways.revoked_at
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('skus', schema=None) as batch_op:
        batch_op.alter_column('uom', new_column_name='base_unit', existing_type=sa.String(length=16),
                              existing_nullable=False, existing_server_default='EA')
        batch_op.add_column(sa.Column('gtin', sa.String(length=14), nullable=True))
        for name in ('length_mm', 'width_mm', 'height_mm', 'weight_g'):
            batch_op.add_column(sa.Column(name, sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('temperature_class', sa.String(length=16), server_default='ambient', nullable=False))
        batch_op.add_column(sa.Column('hazmat_class', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('lot_tracked', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('currency', sa.String(length=3), server_default='CNY', nullable=False))
        batch_op.create_index(batch_op.f('ix_skus_gtin'), ['gtin'], unique=False)
    op.create_table('site_records',
    sa.Column('warehouse', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False, comment='zones, locations, operators, inbound_orders...'),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('data', sa.Text(), nullable=False, comment="The record's canonical JSON."),
    sa.Column('updated_at', TS, nullable=False),
    sa.Column('updated_by', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('warehouse', 'kind', 'code', name=op.f('pk_site_records'))
    )
    with op.batch_alter_table('commands', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), server_default='pending', nullable=False, comment='pending, applied, rejected'))
        batch_op.add_column(sa.Column('reason', sa.Text(), nullable=True, comment="The gateway's reason (its command_applied op)."))
        batch_op.add_column(sa.Column('applied_at', TS, nullable=True))
        batch_op.add_column(sa.Column('applied_seq', sa.BigInteger(), nullable=True, comment="Seq of the gateway's command_applied op."))
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.alter_column('discrepancy_id', existing_type=sa.BigInteger(), nullable=True,
                              comment="The discrepancy it answers (the cloud's own work orders); null for a gateway's.")
        batch_op.add_column(sa.Column('source', sa.String(length=16), server_default='cloud', nullable=False, comment='cloud or gateway'))
        batch_op.add_column(sa.Column('gateway_id', sa.String(length=64), nullable=True, comment='The gateway that opened it (source gateway).'))
        batch_op.add_column(sa.Column('external_id', sa.String(length=64), nullable=True, comment="The gateway's own work_order_id."))
        batch_op.add_column(sa.Column('wo_type', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('zone', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('location', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('assignee', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('updated_at', TS, nullable=True))
        batch_op.create_unique_constraint('uq_work_orders_gateway_external', ['gateway_id', 'external_id'])
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disabled_at', TS, nullable=True, comment='Set by `wims cloud user disable`: no login, no token.'))
    with op.batch_alter_table('gateways', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revoked_at', TS, nullable=True, comment='Set by `wims cloud gateway revoke`: its token no longer works.'))


def downgrade() -> None:
    with op.batch_alter_table('gateways', schema=None) as batch_op:
        batch_op.drop_column('revoked_at')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('disabled_at')
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.drop_constraint('uq_work_orders_gateway_external', type_='unique')
        for name in ('updated_at', 'assignee', 'location', 'zone', 'wo_type', 'external_id', 'gateway_id', 'source'):
            batch_op.drop_column(name)
        batch_op.alter_column('discrepancy_id', existing_type=sa.BigInteger(), nullable=False)
    with op.batch_alter_table('commands', schema=None) as batch_op:
        for name in ('applied_seq', 'applied_at', 'reason', 'status'):
            batch_op.drop_column(name)
    op.drop_table('site_records')
    with op.batch_alter_table('skus', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_skus_gtin'))
        for name in ('currency', 'lot_tracked', 'hazmat_class', 'temperature_class', 'weight_g', 'height_mm',
                     'width_mm', 'length_mm', 'gtin'):
            batch_op.drop_column(name)
        batch_op.alter_column('base_unit', new_column_name='uom', existing_type=sa.String(length=16))
