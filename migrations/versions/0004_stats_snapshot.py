"""Staff dashboard: the last computed figures, served while fresh

Revision ID: 0004_stats_snapshot
Revises: 0003_staff_stats
Create Date: 2026-11-24 10:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0004_stats_snapshot"
down_revision = "0003_staff_stats"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stats_snapshot",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refreshing_since", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_stats_snapshot")),
    )


def downgrade():
    op.drop_table("stats_snapshot")
