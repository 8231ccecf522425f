"""forecast totals and zone activity: a run's forecasts summed per warehouse and day, each series' first
week, floor ops per zone and hour, and (PostgreSQL) pick and ship ops by their order id

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 13:20:00

Runs stored before this revision have no totals; the dashboard sums their JSON as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('forecast_totals',
    sa.Column('run_id', sa.BigInteger(), nullable=False),
    sa.Column('warehouse', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Integer(), nullable=False, comment="Days from the run's first forecast day."),
    sa.Column('mean', sa.Float(), nullable=False, comment="Summed over the warehouse's series."),
    sa.Column('low', sa.Float(), nullable=True, comment="Sum of the 80 % interval's lower bounds."),
    sa.Column('high', sa.Float(), nullable=True, comment="Sum of the 80 % interval's upper bounds."),
    sa.ForeignKeyConstraint(['run_id'], ['planning_runs.id'], name=op.f('fk_forecast_totals_run_id_planning_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'warehouse', 'day', name=op.f('pk_forecast_totals')),
    comment='A run\'s forecasts summed per warehouse and day (cloud/planning/totals.py), for the dashboard.'
    )
    op.create_table('fact_zone_hourly',
    sa.Column('warehouse', sa.String(length=64), nullable=False),
    sa.Column('zone', sa.String(length=64), nullable=False),
    sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ops', sa.BigInteger(), server_default='0', nullable=False, comment='Floor ops touching the zone.'),
    sa.PrimaryKeyConstraint('warehouse', 'zone', 'hour', name=op.f('pk_fact_zone_hourly')),
    comment='Floor work per zone and hour (cloud/web/reports/rollup.py), for the slow and idle zone alerts.'
    )
    with op.batch_alter_table('fact_zone_hourly', schema=None) as batch_op:
        batch_op.create_index('ix_fact_zone_hourly_hour', ['hour'], unique=False)
    if op.get_bind().dialect.name == "postgresql":  # the dashboard's order fulfilment finds an order's ops by it
        op.execute(
            "CREATE INDEX ix_ops_order_id ON ops (((body::jsonb -> 'payload') ->> 'order_id'))"
            " WHERE kind IN ('pick', 'ship')"
        )
    with op.batch_alter_table('forecasts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('week_total', sa.Float(), nullable=True, comment='The first 7 days of mean, summed when the run is stored.'))
        batch_op.create_index('ix_forecasts_run_week_total', ['run_id', 'week_total'], unique=False)


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_ops_order_id")
    with op.batch_alter_table('forecasts', schema=None) as batch_op:
        batch_op.drop_index('ix_forecasts_run_week_total')
        batch_op.drop_column('week_total')
    op.drop_table('forecast_totals')
    with op.batch_alter_table('fact_zone_hourly', schema=None) as batch_op:
        batch_op.drop_index('ix_fact_zone_hourly_hour')
    op.drop_table('fact_zone_hourly')
