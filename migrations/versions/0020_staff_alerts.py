"""Staff alerts: the daily digest opt-in, recovered payments, the chat alert queue

Revision ID: 0020_staff_alerts
Revises: 0019_renewal_reminders
Create Date: 2026-12-07 15:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0020_staff_alerts"
down_revision = "0019_renewal_reminders"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("daily_digest", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("digest_lang", sa.String(length=8), nullable=True))
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("recovered", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    recovered = sa.column("recovered", sa.Boolean())
    op.create_index(
        "ix_payment_recovered_paid_at",
        "payment",
        ["paid_at", "currency"],
        postgresql_where=recovered,
        sqlite_where=recovered,
    )
    op.create_table(
        "staff_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_alert")),
        sa.UniqueConstraint("key", name=op.f("uq_staff_alert_key")),
    )
    with op.batch_alter_table("staff_alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_alert_status"), ["status"], unique=False)


def downgrade():
    with op.batch_alter_table("staff_alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_alert_status"))
    op.drop_table("staff_alert")
    op.drop_index("ix_payment_recovered_paid_at", table_name="payment")
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_column("recovered")
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.drop_column("digest_lang")
        batch_op.drop_column("daily_digest")
