"""outbound_email.next_attempt_at: when a failed mail may be retried

Revision ID: 0002_outbound_email_retry
Revises: 0001_initial
Create Date: 2026-11-24 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0002_outbound_email_retry"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbound_email", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("outbound_email", schema=None) as batch_op:
        batch_op.drop_column("next_attempt_at")
