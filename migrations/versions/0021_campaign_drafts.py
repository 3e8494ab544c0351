"""Campaign drafts: a running campaign's next version, saved apart until published

Revision ID: 0021_campaign_drafts
Revises: 0020_staff_alerts
Create Date: 2026-12-07 15:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0021_campaign_drafts"
down_revision = "0020_staff_alerts"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(sa.Column("draft", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("draft")
