"""The optimiser on simulated campaigns with known rates: it finds the variant that pays."""

from __future__ import annotations

import pytest

from bench.bandit import binomial, simulate
from support.campaigns.optimise import Arm, estimate, weights


def test_estimates_are_bayesian_summaries_of_the_counts():
    strong, weak = estimate([("a", 10_000, 50), ("b", 10_000, 20)], draws=4000)
    assert strong.mean == pytest.approx(51 / 10_002)
    assert strong.low < 0.005 < strong.high and weak.low < 0.002 < weak.high
    assert strong.high - strong.low < 0.004
    assert strong.p_best > 0.99 and strong.p_best + weak.p_best == pytest.approx(1)
    # Same counts, same figures: pages do not flicker between views.
    assert estimate([("a", 100, 1), ("b", 100, 2)], seed="x") == estimate(
        [("a", 100, 1), ("b", 100, 2)], seed="x"
    )
    unseen = estimate([("a", 0, 0), ("b", 0, 0)])
    assert [round(arm.p_best, 1) for arm in unseen] == [0.5, 0.5]


def test_weights_follow_the_chance_of_being_best_with_a_floor():
    arms = [Arm("a", 1, 0, p_best=1.0), Arm("b", 1, 0, p_best=0.0), Arm("c", 1, 0, p_best=0.0)]
    assert weights(arms) == {"a": 0.8, "b": 0.1, "c": 0.1}
    many = [Arm(str(i), 1, 0, p_best=1.0 if i == 0 else 0.0) for i in range(12)]
    assert min(weights(many).values()) == pytest.approx(1 / 12, abs=1e-3)  # the floor fits
    assert sum(weights(many).values()) == pytest.approx(1, abs=1e-3)


def test_binomial_draws_have_the_right_mean():
    import random

    rng = random.Random(1)
    draws = [binomial(rng, 10_000, 0.003) for _ in range(400)]
    assert sum(draws) / len(draws) == pytest.approx(30, rel=0.05)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_optimise_finds_the_best_variant_and_wastes_fewer_impressions(seed):
    rates = [0.002, 0.003, 0.005]
    tuned = simulate(rates, seed, hours=24 * 7)
    even = simulate(rates, seed, hours=24 * 7, optimise=False)
    assert tuned.found_best
    assert tuned.impressions_to_confidence is not None
    assert tuned.impressions_to_confidence < 100_000
    assert tuned.final_weights[2] >= 0.6 and min(tuned.final_weights) >= 0.1
    # Learning costs: fewer readers shown the worse variants than with an even split.
    assert tuned.regret_share < 0.4 < even.regret_share


def test_the_worker_moves_live_campaigns_weights_hourly_and_banner_json_follows(app, client):
    from datetime import timedelta

    from support.campaigns import live, optimise, store
    from support.extensions import db
    from support.models import BannerDailyStat, CheckoutAttempt, utcnow
    from tests.helpers.campaigns import sample

    doc = sample(status="live", banner={**sample()["banner"], "optimise": True})
    campaign = store.create(doc, None)
    today = utcnow().date()
    for variant, shown in (("iftar", 5000), ("night", 5000)):
        db.session.add(
            BannerDailyStat(day=today, campaign="ramadan", variant=variant, lang="en",
                            impressions=shown, clicks=0, dismissals=0)
        )  # fmt: skip
    for n in range(30):
        db.session.add(
            CheckoutAttempt(session_id=f"cs_b{n}", amount=500, currency="usd", frequency="month",
                            lang="en", campaign="ramadan", variant="night" if n < 27 else "iftar",
                            completed_at=utcnow())
        )  # fmt: skip
    db.session.commit()
    now = utcnow()
    assert optimise.refresh_due(now) == ["ramadan"]
    assert optimise.refresh_due(now + timedelta(minutes=59)) == []  # at most hourly
    learned = optimise.explained(campaign)
    assert learned["weights"]["night"] > 0.85 and learned["weights"]["iftar"] >= 0.1
    night = next(arm for arm in learned["arms"] if arm["name"] == "night")
    assert (night["impressions"], night["paid"]) == (5000, 27)
    live.forget()
    variants = client.get("/embed/banner.json?lang=en").get_json()["campaigns"][0]["variants"]
    assert {v["name"]: v["weight"] for v in variants} == learned["weights"]
    # Turned off, the editor's weights are back.
    store.save(campaign, {**doc, "banner": {**doc["banner"], "optimise": False}}, 1, None)
    db.session.commit()
    live.forget()
    variants = client.get("/embed/banner.json?lang=en").get_json()["campaigns"][0]["variants"]
    assert {v["name"]: v["weight"] for v in variants} == {"iftar": 2, "night": 1}


def test_the_funnel_ranks_variants_by_paid_per_impression_with_intervals(app, client):
    from support.campaigns import optimise, store
    from support.extensions import db
    from support.models import BannerDailyStat, CheckoutAttempt, utcnow
    from tests.factories import signed_in
    from tests.helpers.campaigns import sample

    doc = sample(status="live", banner={**sample()["banner"], "optimise": True})
    campaign = store.create(doc, None)
    today = utcnow().date()
    for variant, shown in (("iftar", 4000), ("night", 1000)):
        db.session.add(
            BannerDailyStat(day=today, campaign="ramadan", variant=variant, lang="ar",
                            impressions=shown, clicks=shown // 50, dismissals=0)
        )  # fmt: skip
    for n, variant in enumerate(["iftar"] * 4 + ["night"] * 6):
        db.session.add(
            CheckoutAttempt(session_id=f"cs_r{n}", amount=500, currency="usd", frequency="month",
                            lang="ar", campaign="ramadan", variant=variant, completed_at=utcnow())
        )  # fmt: skip
    optimise.optimise(campaign)
    db.session.commit()
    signed_in(client)
    page = client.get("/staff/banner").get_data(as_text=True)
    ranking = page[page.index("Ramadan drive") :]
    # night: 6 paid of 1,000 impressions beats iftar's 4 of 4,000, though iftar has more paid.
    assert ranking.index(">night<") < ranking.index(">iftar<")
    assert "6.99 (" in ranking  # (1 + 6) / (2 + 1,000) per 1,000, then its interval
    assert "Optimise is on" in page and "Chance of being best" in page
