"""Pay page: a Checkout Session for Elements keeps its `client_secret` on its attempt

Revision ID: 0015_pay_page
Revises: 0014_staff_audit
Create Date: 2026-12-07 12:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0015_pay_page"
down_revision = "0014_staff_audit"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("checkout_attempt", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_secret", sa.String(length=500), nullable=True))


def downgrade():
    with op.batch_alter_table("checkout_attempt", schema=None) as batch_op:
        batch_op.drop_column("client_secret")
