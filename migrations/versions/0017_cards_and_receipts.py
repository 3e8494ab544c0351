"""Cards and receipts: the card a subscription is charged to, a payment's receipt link

The supporter page shows both from the ledger, without asking Stripe. Only
the card's brand, last 4 digits and expiry are kept.

Revision ID: 0017_cards_and_receipts
Revises: 0016_supporter_changes
Create Date: 2026-12-07 12:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0017_cards_and_receipts"
down_revision = "0016_supporter_changes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.add_column(sa.Column("card_brand", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("card_last4", sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column("card_exp_month", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("card_exp_year", sa.SmallInteger(), nullable=True))
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("receipt_url", sa.String(length=500), nullable=True))


def downgrade():
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_column("receipt_url")
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.drop_column("card_exp_year")
        batch_op.drop_column("card_exp_month")
        batch_op.drop_column("card_last4")
        batch_op.drop_column("card_brand")
