"""Customer-only supporter sessions: the paying browser's session from the thanks page

Revision ID: 0018_customer_only_sessions
Revises: 0017_cards_and_receipts
Create Date: 2026-12-07 13:05:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0018_customer_only_sessions"
down_revision = "0017_cards_and_receipts"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("supporter_session", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("customer_only", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade():
    with op.batch_alter_table("supporter_session", schema=None) as batch_op:
        batch_op.drop_column("customer_only")
