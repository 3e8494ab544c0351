"""Campaigns and their revisions; banner counters per campaign

Revision ID: 0008_campaigns
Revises: 0007_used_link
Create Date: 2026-12-14 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0008_campaigns"
down_revision = "0007_used_link"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("weights", sa.Text(), nullable=True),
        sa.Column("weights_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=320), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
        sa.UniqueConstraint("slug", name=op.f("uq_campaign_slug")),
    )
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_status"), ["status"], unique=False)
    op.create_table(
        "campaign_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=320), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_campaign_revision_campaign_id_campaign"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_revision")),
        sa.UniqueConstraint("campaign_id", "version", name="uq_campaign_revision_version"),
    )
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.create_index("ix_subscription_campaign_status", ["campaign", "status"], unique=False)
    # Counters so far all belong to the default campaign, whose slug is "banner".
    with op.batch_alter_table("banner_daily_stat", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("campaign", sa.String(length=64), server_default="banner", nullable=False)
        )
        batch_op.drop_constraint("uq_banner_daily_stat_key", type_="unique")
        batch_op.create_unique_constraint(
            "uq_banner_daily_stat_campaign_key", ["day", "campaign", "variant", "lang"]
        )


def downgrade():
    # The old table has no place for other campaigns' counters.
    op.execute("DELETE FROM banner_daily_stat WHERE campaign <> 'banner'")
    with op.batch_alter_table("banner_daily_stat", schema=None) as batch_op:
        batch_op.drop_constraint("uq_banner_daily_stat_campaign_key", type_="unique")
        batch_op.drop_column("campaign")
        batch_op.create_unique_constraint("uq_banner_daily_stat_key", ["day", "variant", "lang"])
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.drop_index("ix_subscription_campaign_status")
    op.drop_table("campaign_revision")
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_status"))
    op.drop_table("campaign")
