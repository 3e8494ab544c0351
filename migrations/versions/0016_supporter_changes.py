"""Supporter changes: what supporters asked for on the account page, and Stripe's pause
and cancellation details on subscriptions

Revision ID: 0016_supporter_changes
Revises: 0015_pay_page
Create Date: 2026-12-07 12:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0016_supporter_changes"
down_revision = "0015_pay_page"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("collection_paused", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("cancel_reason", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("cancel_comment", sa.Text(), nullable=True))
    op.create_table(
        "supporter_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("supporter_id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("old_amount", sa.BigInteger(), nullable=True),
        sa.Column("new_amount", sa.BigInteger(), nullable=True),
        sa.Column("old_interval", sa.String(length=8), nullable=True),
        sa.Column("new_interval", sa.String(length=8), nullable=True),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("offer", sa.String(length=16), nullable=True),
        sa.Column("saved", sa.Boolean(), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("asked_version", sa.BigInteger(), nullable=False),
        sa.Column("answered_version", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscription.id"],
            name=op.f("fk_supporter_change_subscription_id_subscription"),
        ),
        sa.ForeignKeyConstraint(
            ["supporter_id"],
            ["supporter.id"],
            name=op.f("fk_supporter_change_supporter_id_supporter"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supporter_change")),
        sa.UniqueConstraint("key", "attempt", name=op.f("uq_supporter_change_key")),
    )
    with op.batch_alter_table("supporter_change", schema=None) as batch_op:
        batch_op.create_index("ix_supporter_change_kind_created_at", ["kind", "created_at"])
        batch_op.create_index(batch_op.f("ix_supporter_change_supporter_id"), ["supporter_id"])
        batch_op.create_index(
            batch_op.f("ix_supporter_change_subscription_id"), ["subscription_id"]
        )


def downgrade():
    op.drop_table("supporter_change")
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.drop_column("cancel_comment")
        batch_op.drop_column("cancel_reason")
        batch_op.drop_column("paused_until")
        batch_op.drop_column("collection_paused")
