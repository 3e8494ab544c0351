"""Webhook worker: heartbeats, wake-up triggers, waiting events, supporters' freshness

Revision ID: 0006_event_worker
Revises: 0005_stats_covering
Create Date: 2026-11-30 14:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0006_event_worker"
down_revision = "0005_stats_covering"
branch_labels = None
depends_on = None

# On PostgreSQL, storing a webhook event or a mail wakes the workers listening on
# this channel (support/wakeup.py), when the storing transaction commits.
WAKEUP_FUNCTION = """
CREATE FUNCTION support_worker_wakeup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('support_worker', '');
    RETURN NULL;
END
$$
"""
WAKEUP_TABLES = ("stripe_event", "outbound_email")


def upgrade():
    op.create_table(
        "worker_heartbeat",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("threads", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_heartbeat")),
    )
    with op.batch_alter_table("worker_heartbeat", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_worker_heartbeat_seen_at"), ["seen_at"], unique=False)
    waiting = sa.column("status").in_(("pending", "processing", "failed"))
    op.create_index(
        "ix_stripe_event_waiting",
        "stripe_event",
        ["received_at"],
        postgresql_where=waiting,
        sqlite_where=waiting,
    )
    with op.batch_alter_table("supporter", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stripe_updated", sa.BigInteger(), nullable=False, server_default="0")
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(WAKEUP_FUNCTION)
        for table in WAKEUP_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_wakeup AFTER INSERT ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION support_worker_wakeup()"
            )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in WAKEUP_TABLES:
            op.execute(f"DROP TRIGGER {table}_wakeup ON {table}")
        op.execute("DROP FUNCTION support_worker_wakeup()")
    with op.batch_alter_table("supporter", schema=None) as batch_op:
        batch_op.drop_column("stripe_updated")
    op.drop_index("ix_stripe_event_waiting", table_name="stripe_event")
    with op.batch_alter_table("worker_heartbeat", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_worker_heartbeat_seen_at"))
    op.drop_table("worker_heartbeat")
