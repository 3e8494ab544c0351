"""Staff dashboard: monthly rollup table and indexes for the headline figures

Revision ID: 0003_staff_stats
Revises: 0002_outbound_email_retry
Create Date: 2026-11-24 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0003_staff_stats"
down_revision = "0002_outbound_email_retry"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stats_month",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("started", sa.BigInteger(), nullable=False),
        sa.Column("canceled", sa.BigInteger(), nullable=False),
        sa.Column("mrr_started_x12", sa.BigInteger(), nullable=False),
        sa.Column("mrr_canceled_x12", sa.BigInteger(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("month", "currency", name=op.f("pk_stats_month")),
    )
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.create_index(
            "ix_subscription_status_supporter", ["status", "supporter_id"], unique=False
        )
        batch_op.create_index(
            "ix_subscription_status_currency",
            ["status", "currency", "interval", "amount"],
            unique=False,
        )
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index("ix_payment_kind_paid_at", ["kind", "paid_at"], unique=False)


def downgrade():
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_kind_paid_at")
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.drop_index("ix_subscription_status_currency")
        batch_op.drop_index("ix_subscription_status_supporter")
    op.drop_table("stats_month")
