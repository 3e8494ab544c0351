"""Upgrade asks: staff mails asking a group to raise their gift, and unsubscribing

An ask and the supporters it was queued for (with the gift to raise and to
what); the supporter's opt-out from asks.

Revision ID: 0022_upgrade_asks
Revises: 0021_campaign_drafts
Create Date: 2026-12-07 15:00:00.000000

"""

import sqlalchemy as sa
from alembic import op


revision = "0022_upgrade_asks"
down_revision = "0021_campaign_drafts"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("supporter", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("asks_opted_out_at", sa.DateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "upgrade_ask",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("filters", sa.Text(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rule", sa.String(length=8), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("subject_en", sa.String(length=200), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("subject_ar", sa.String(length=200), nullable=False),
        sa.Column("body_ar", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("through_id", sa.BigInteger(), nullable=False),
        sa.Column("until_id", sa.BigInteger(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upgrade_ask")),
        sa.UniqueConstraint("token", name=op.f("uq_upgrade_ask_token")),
    )
    with op.batch_alter_table("upgrade_ask", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_upgrade_ask_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_upgrade_ask_created_at"), ["created_at"], unique=False)
    op.create_table(
        "upgrade_ask_recipient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ask_id", sa.Integer(), nullable=False),
        sa.Column("supporter_id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("old_amount", sa.BigInteger(), nullable=False),
        sa.Column("new_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("interval", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["ask_id"], ["upgrade_ask.id"], name=op.f("fk_upgrade_ask_recipient_ask_id_upgrade_ask")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscription.id"],
            name=op.f("fk_upgrade_ask_recipient_subscription_id_subscription"),
        ),
        sa.ForeignKeyConstraint(
            ["supporter_id"],
            ["supporter.id"],
            name=op.f("fk_upgrade_ask_recipient_supporter_id_supporter"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upgrade_ask_recipient")),
        sa.UniqueConstraint("ask_id", "supporter_id", name=op.f("uq_upgrade_ask_recipient_ask_id")),
    )
    with op.batch_alter_table("upgrade_ask_recipient", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_upgrade_ask_recipient_supporter_id"), ["supporter_id"], unique=False
        )


def downgrade():
    op.drop_table("upgrade_ask_recipient")
    op.drop_table("upgrade_ask")
    with op.batch_alter_table("supporter", schema=None) as batch_op:
        batch_op.drop_column("asks_opted_out_at")
