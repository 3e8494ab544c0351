"""Staff desk: what admins did on a supporter's page; dashboard figures marked stale

Revision ID: 0011_staff_actions
Revises: 0010_staff_accounts
Create Date: 2026-12-09 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0011_staff_actions"
down_revision = "0010_staff_accounts"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "staff_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("staff_email", sa.String(length=320), nullable=False),
        sa.Column("supporter_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_user.id"],
            name=op.f("fk_staff_action_staff_user_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["supporter_id"],
            ["supporter.id"],
            name=op.f("fk_staff_action_supporter_id_supporter"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_action")),
        sa.UniqueConstraint("key", name=op.f("uq_staff_action_key")),
    )
    with op.batch_alter_table("staff_action", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_action_supporter_id"), ["supporter_id"], unique=False
        )
    with op.batch_alter_table("stats_snapshot", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stale_since", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("stats_snapshot", schema=None) as batch_op:
        batch_op.drop_column("stale_since")
    with op.batch_alter_table("staff_action", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_action_supporter_id"))
    op.drop_table("staff_action")
