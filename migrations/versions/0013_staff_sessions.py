"""Staff sessions kept on the server; room for encrypted TOTP secrets

Secrets stored in clear before this revision stay readable: they are
encrypted the next time their owner signs in with a code, or at once by
`flask --app wsgi staff rotate-totp-keys`.

Revision ID: 0013_staff_sessions
Revises: 0012_supporter_email_not_unique
Create Date: 2026-12-07 09:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0013_staff_sessions"
down_revision = "0012_supporter_email_not_unique"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "staff_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("totp_setup", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_user.id"],
            name=op.f("fk_staff_session_staff_user_id_staff_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_session_token_hash")),
    )
    with op.batch_alter_table("staff_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_session_staff_user_id"), ["staff_user_id"], unique=False
        )
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.alter_column(
            "totp_secret",
            existing_type=sa.String(length=64),
            type_=sa.String(length=255),
            existing_nullable=True,
        )


def downgrade():
    # Encrypted secrets do not fit the old column: turn two-step sign-in off
    # (admins set it up again) rather than cut them.
    op.execute(sa.text("UPDATE staff_user SET totp_secret = NULL WHERE length(totp_secret) > 64"))
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.alter_column(
            "totp_secret",
            existing_type=sa.String(length=255),
            type_=sa.String(length=64),
            existing_nullable=True,
        )
    with op.batch_alter_table("staff_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_session_staff_user_id"))
    op.drop_table("staff_session")
