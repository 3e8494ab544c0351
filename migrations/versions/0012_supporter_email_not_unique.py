"""One supporter per Stripe customer: email no longer unique; supporter sessions;
the customer that paid each checkout

Revision ID: 0012_supporter_email_not_unique
Revises: 0011_staff_actions
Create Date: 2026-12-11 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0012_supporter_email_not_unique"
down_revision = "0011_staff_actions"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("supporter", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_supporter_email"), type_="unique")
        batch_op.create_index(batch_op.f("ix_supporter_email"), ["email"], unique=False)
    with op.batch_alter_table("checkout_attempt", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stripe_customer_id", sa.String(length=64), nullable=True))
    op.create_table(
        "supporter_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("supporter_id", sa.Integer(), nullable=False),
        sa.Column("address_digest", sa.String(length=64), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["supporter_id"],
            ["supporter.id"],
            name=op.f("fk_supporter_session_supporter_id_supporter"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supporter_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_supporter_session_token_hash")),
    )
    with op.batch_alter_table("supporter_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supporter_session_supporter_id"), ["supporter_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_supporter_session_expires_at"), ["expires_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("supporter_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supporter_session_expires_at"))
        batch_op.drop_index(batch_op.f("ix_supporter_session_supporter_id"))
    op.drop_table("supporter_session")
    with op.batch_alter_table("checkout_attempt", schema=None) as batch_op:
        batch_op.drop_column("stripe_customer_id")
    # Only possible while no two supporters share an address.
    with op.batch_alter_table("supporter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supporter_email"))
        batch_op.create_unique_constraint(batch_op.f("uq_supporter_email"), ["email"])
