"""Renewal reminders and expiring cards: an index to find cards that expire first

Revision ID: 0019_renewal_reminders
Revises: 0018_customer_only_sessions
Create Date: 2026-12-07 15:00:00.000000

"""

from alembic import op

revision = "0019_renewal_reminders"
down_revision = "0018_customer_only_sessions"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_subscription_card_expiry",
        "subscription",
        ["card_exp_year", "card_exp_month", "current_period_end"],
    )


def downgrade():
    op.drop_index("ix_subscription_card_expiry", table_name="subscription")
