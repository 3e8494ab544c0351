"""`flask demo seed`: realistic data that the dashboard reads."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from support.extensions import db
from support.models import Payment, StatsMonth, StripeEvent, Subscription, Supporter
from support.stats import figures as stats


def test_seed_builds_supporters_with_history(app, runner):
    result = runner.invoke(args=["demo", "seed", "--supporters", "300"])
    assert result.exit_code == 0, result.output
    assert "Added 300 supporters" in result.output
    count = db.session.scalar(sa.select(sa.func.count(Supporter.id)))
    assert count == 300
    payments = db.session.scalar(sa.select(sa.func.count(Payment.id)))
    assert 5 * count < payments < 20 * count  # about a dozen each
    statuses = set(db.session.scalars(sa.select(Subscription.status).distinct()))
    assert {"active", "canceled"} <= statuses
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StatsMonth)) > 12
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StripeEvent)) > 0
    figures = stats.overview(goal=1000)
    assert 0 < figures.active_supporters < count and figures.mrr["usd"] > 0


def test_seeding_again_adds_more(app, runner):
    assert runner.invoke(args=["demo", "seed", "--supporters", "20"]).exit_code == 0
    assert runner.invoke(args=["demo", "seed", "--supporters", "20", "--seed", "2"]).exit_code == 0
    assert db.session.scalar(sa.select(sa.func.count(Supporter.id))) == 40


@pytest.mark.one_database
def test_seed_refuses_nonsense(app, runner):
    result = runner.invoke(args=["demo", "seed", "--supporters", "0"])
    assert result.exit_code == 2 and "Invalid value" in result.output
