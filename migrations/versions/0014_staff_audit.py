"""Staff audit: `staff_action` records every staff action, not only those on a supporter

Revision ID: 0014_staff_audit
Revises: 0013_staff_sessions
Create Date: 2026-12-07 09:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0014_staff_audit"
down_revision = "0013_staff_sessions"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("staff_action", schema=None) as batch_op:
        batch_op.alter_column("key", existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column("staff_email", existing_type=sa.String(length=320), nullable=True)
        batch_op.alter_column("supporter_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f("ix_staff_action_created_at"), ["created_at"])
        batch_op.create_index(batch_op.f("ix_staff_action_action"), ["action"])
        batch_op.create_index(batch_op.f("ix_staff_action_staff_email"), ["staff_email"])


def downgrade():
    # Rows only the audit keeps (no form key, the command line, no supporter) cannot go back.
    op.execute(
        "DELETE FROM staff_action"
        " WHERE key IS NULL OR staff_email IS NULL OR supporter_id IS NULL"
    )
    with op.batch_alter_table("staff_action", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_action_staff_email"))
        batch_op.drop_index(batch_op.f("ix_staff_action_action"))
        batch_op.drop_index(batch_op.f("ix_staff_action_created_at"))
        batch_op.alter_column("supporter_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("staff_email", existing_type=sa.String(length=320), nullable=False)
        batch_op.alter_column("key", existing_type=sa.String(length=64), nullable=False)
