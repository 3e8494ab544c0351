"""Single-use manage links: the nonces of links already used

Revision ID: 0007_used_link
Revises: 0006_event_worker
Create Date: 2026-12-07 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0007_used_link"
down_revision = "0006_event_worker"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "used_link",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_used_link")),
    )
    with op.batch_alter_table("used_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_used_link_used_at"), ["used_at"], unique=False)


def downgrade():
    with op.batch_alter_table("used_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_used_link_used_at"))
    op.drop_table("used_link")
