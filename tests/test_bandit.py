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
    assert {v["name"]: v["weight"] for v in variants} == learned["weights"]  # only a draft
    store.set_status(campaign, "live", 2, None)  # published
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
    # What happened first (6 per 1,000 counted), then the model: (1 + 6) / (2 + 1,000)
    # per 1,000 with its interval.
    assert '<td class="observed">6.00</td>' in ranking and "6.99 (" in ranking
    assert '<td class="observed">1.00</td>' in ranking
    assert "Optimise is on" in page and "Chance of being best" in page
    # Both were shown 1,000 times or more and night is almost surely the better one.
    assert "Decided: “night” brings the most paying supporters per impression" in ranking


def _funnel_page(client, counts):
    """The banner page for `ramadan` with (variant, impressions, paid) counted today."""
    from support.campaigns import store
    from support.extensions import db
    from support.models import BannerDailyStat, CheckoutAttempt, utcnow
    from tests.factories import signed_in
    from tests.helpers.campaigns import sample

    store.create(sample(status="live"), None)
    today = utcnow().date()
    n = 0
    for variant, shown, paid in counts:
        db.session.add(
            BannerDailyStat(day=today, campaign="ramadan", variant=variant, lang="en",
                            impressions=shown, clicks=0, dismissals=0)
        )  # fmt: skip
        for _ in range(paid):
            n += 1
            db.session.add(
                CheckoutAttempt(session_id=f"cs_f{n}", amount=500, currency="usd",
                                frequency="month", lang="en", campaign="ramadan",
                                variant=variant, completed_at=utcnow())
            )  # fmt: skip
    db.session.commit()
    signed_in(client)
    page = client.get("/staff/banner").get_data(as_text=True)
    return page[page.index("Ramadan drive") : page.index("</table>", page.index("Ramadan drive"))]


def _row(table: str, variant: str) -> str:
    start = table.index(f'data-variant="{variant}"')
    return table[start : table.index("</tr>", start)]


def test_a_variant_seen_once_is_not_ranked_on_its_estimate(app, client):
    """1 impression and 0 paid: the model says 333.33 per 1,000, which ranks nothing."""
    table = _funnel_page(client, [("night", 1, 0), ("iftar", 5000, 10)])
    assert table.index('data-variant="iftar"') < table.index('data-variant="night"')
    iftar, night = _row(table, "iftar"), _row(table, "night")
    assert '<td class="rank">1</td>' in iftar
    assert "not yet: too few impressions" in night and '<td class="rank">1' not in night
    assert '<td class="observed">0.00</td>' in night and "333.33 (" in night
    assert '<td class="observed">2.00</td>' in iftar
    # night needs 999 more to reach 1,000, and more to tell the two apart.
    more = int(table.split("About ", 1)[1].split(" more impressions", 1)[0].replace(",", ""))
    assert more >= 999


def test_enough_evidence_is_a_decision(app, client):
    table = _funnel_page(client, [("night", 20_000, 200), ("iftar", 20_000, 20)])
    assert "Decided: “night” brings the most paying supporters per impression" in table
    assert "more impressions are needed" not in table
    assert '<td class="rank">2</td>' in _row(table, "iftar")


def test_the_verdict_counts_what_a_decision_needs():
    from support.campaigns.optimise import MIN_IMPRESSIONS, impressions_per_variant, verdict

    close = estimate([("a", 1000, 10), ("b", 1000, 11)], seed="v")
    undecided = verdict(close)
    assert undecided.leader is None
    each = impressions_per_variant(close[0].mean, close[1].mean)
    assert each > 100_000  # a 1.0% and a 1.1% rate take many impressions to tell apart
    assert undecided.more_impressions == 2 * each - 2000
    fresh = verdict(estimate([("a", 0, 0), ("b", 0, 0)]))
    assert fresh.more_impressions >= 2 * MIN_IMPRESSIONS
    assert verdict(estimate([("a", 300, 0)])).more_impressions == MIN_IMPRESSIONS - 300
