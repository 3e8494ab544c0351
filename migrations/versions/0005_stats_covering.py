"""Staff dashboard: covering indexes for subscriptions started or canceled in a window

Revision ID: 0005_stats_covering
Revises: 0004_stats_snapshot
Create Date: 2026-11-24 08:35:00.000000

"""

from alembic import op

revision = "0005_stats_covering"
down_revision = "0004_stats_snapshot"
branch_labels = None
depends_on = None

COLUMNS = ["status", "supporter_id", "currency", "interval", "amount"]


def upgrade():
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.create_index("ix_subscription_started_cover", ["started_at", *COLUMNS])
        batch_op.create_index("ix_subscription_canceled_cover", ["canceled_at", *COLUMNS])


def downgrade():
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.drop_index("ix_subscription_canceled_cover")
        batch_op.drop_index("ix_subscription_started_cover")
