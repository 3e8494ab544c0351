"""A reader's whole way in Chromium, in Arabic and in English: from the banner on an
article page to a paid monthly gift on our own pay page, then, through the link in
the thank-you mail, the supporter page: lower the amount, update the card, pause,
resume, and cancel with a reason. Every change goes to the emulator and comes back
through the webhooks and the live worker, and the ledger equals Stripe's objects
after each.

In Arabic, no page (its frames included: Stripe's card form) and no mail on the way
shows a Latin-script word other than the reader's own address, the card's brand and
last 4, and the newsroom's configured Latin name. Each page fits both 390 and 1280
px windows (pictured with SCREENSHOTS=DIR) and reports no CSP violation.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from support.extensions import db
from support.models import Subscription
from tests.helpers import network
from tests.helpers.account_changes import ledger_matches_stripe
from tests.helpers.article import Article
from tests.helpers.card_frame import fill_and_confirm
from tests.helpers.latin import latin_words, mail_text, page_text
from tests.helpers.page_checks import at_widths
from tests.helpers.pay import (
    SUCCEEDS,
    collect_csp_violations,
    pay_on_pay_page,
    use_pay_page,
)

pytestmark = pytest.mark.browser

EMAIL = "rana@example.org"
NEW_CARD = "4000002500003155"  # a new card that asks for 3-D Secure, completed
LINK = re.compile(r"https?://\S+/manage/[\w.-]+")


class Journey:
    """Looks at every page and mail on the way; what is wrong with any of them."""

    def __init__(self, page, lang: str, allowed: set[str]):
        self.page, self.lang, self.allowed = page, lang, allowed
        self.problems: list[str] = []
        self.violations = collect_csp_violations(page)

    def look(self, name: str) -> None:
        page = self.page
        network.quiet(page)
        expected = "rtl" if self.lang == "ar" else "ltr"
        if page.evaluate("document.documentElement.dir || 'ltr'") != expected:
            self.problems.append(f"{name}: not {expected}")
        self.problems += at_widths(page, f"journey-{name}-{self.lang}")
        self._latin(name, page_text(page))

    def read_mail(self, mail) -> None:
        kind = mail["X-Support-Mail"].split(";")[0]
        if mail["Content-Language"] != self.lang:
            self.problems.append(f"mail {kind}: in {mail['Content-Language']}")
        self._latin(f"mail {kind}", mail_text(mail))

    def _latin(self, name: str, text: str) -> None:
        if self.lang != "ar":
            return
        words = latin_words(text, self.allowed)
        if words:
            self.problems.append(f"{name}: {sorted(set(words))}")

    def back_on_account(self) -> None:
        self.page.wait_for_url(re.compile(rf"/{self.lang}/account$"))


@pytest.fixture
def article(live_server):
    server = Article()
    yield lambda attributes="", **kw: server.page(live_server.url, attributes, **kw)
    server.server.shutdown()


def sub_row() -> Subscription:
    db.session.expire_all()
    return db.session.scalar(sa.select(Subscription))


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_from_the_banner_to_a_paid_gift_and_every_change_in_the_readers_language(
    page, article, live_server, emulator, smtp_server, app, lang
):
    use_pay_page(app)
    base = live_server.url
    newsroom = app.config["SUPPORT_NEWSROOM_NAME_AR" if lang == "ar" else "SUPPORT_NEWSROOM_NAME"]
    journey = Journey(page, lang, {EMAIL, newsroom, "Visa", "Rana"})
    # The Arabic reader moves on a phone's width, the English one on a laptop's.
    page.set_viewport_size({"width": 390 if lang == "ar" else 1280, "height": 900})

    # The banner on an article page, in the article's language: its call to action.
    page.goto(article(f'data-lang="{lang}"'))
    banner = page.locator("[data-support-banner] section[role=region]")
    banner.wait_for()
    banner.locator("a.c").click()
    page.wait_for_url(re.compile(rf"{re.escape(base)}/{lang}/\?"))
    journey.look("appeal")

    # $5 a month on our own pay page.
    page.locator("input[name=amount][value='5']").check(force=True)
    page.locator("input[name=frequency][value=month]").check(force=True)
    page.fill("#email", EMAIL)
    page.locator(".appeal-form button[type=submit]").click()
    page.locator("[data-pay-button]:not([disabled])").wait_for()
    page.locator("[data-pay-loading]").wait_for(state="hidden")
    journey.look("pay")
    pay_on_pay_page(page, SUCCEEDS, EMAIL)
    journey.look("thanks")
    live_server.settle()
    sub = sub_row()
    assert (sub.amount, sub.interval, sub.status) == (500, "month", "active")
    ledger_matches_stripe(emulator, sub.stripe_id)

    # The thank-you mail, in the reader's language, and its link to the supporter page.
    (thanks,) = smtp_server.wait_for(1)
    journey.read_mail(thanks)
    link = LINK.search(thanks.get_body(("plain",)).get_content()).group(0)
    page.goto(link)
    journey.look("manage-link")
    page.locator("form button[type=submit]").first.click()
    journey.back_on_account()
    journey.look("account")

    def applied(name: str) -> None:
        """After a change: the page says it is on its way; once the webhook is applied,
        the ledger equals Stripe and the page no longer says so."""
        journey.look(f"{name}-sent")
        live_server.settle()
        page.reload()
        assert page.locator("[data-pending], [data-card-pending]").count() == 0
        journey.look(f"{name}-applied")
        ledger_matches_stripe(emulator, sub.stripe_id)

    # Lower the amount: $5 → $1 a month, from the next payment.
    page.locator("a[data-action=amount]").first.click()
    journey.look("amount")
    page.locator("label.choice", has=page.locator("input[name=amount][value='1']")).click()
    page.locator("form button[type=submit]").click()
    journey.back_on_account()
    applied("amount")
    assert sub_row().amount == 100

    # Update the card: the Payment Element in the page's language, 3-D Secure completed.
    page.locator(f"[data-card-for='{sub.id}'] button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/{lang}/account/card/seti_"))
    page.locator("#card-form[data-ready=yes]").wait_for()
    journey.look("card")
    fill_and_confirm(page, NEW_CARD, three_d_secure="complete")
    page.wait_for_url(re.compile(rf"/{lang}/account/card/seti_\w+/done"))
    page.locator("[data-card-result]").wait_for()
    journey.look("card-done")
    page.goto(f"{base}/{lang}/account")
    applied("card")
    assert sub_row().card_last4 == "3155"

    # Pause for a month, then resume early.
    page.locator("a[data-action=pause]").first.click()
    journey.look("pause")
    page.locator("input[name=months][value='1']").check()
    page.locator("form button[type=submit]").click()
    journey.back_on_account()
    applied("pause")
    assert sub_row().collection_paused
    page.locator("a[data-action=resume]").first.click()
    journey.look("resume")
    page.locator("form button[type=submit]").click()
    journey.back_on_account()
    applied("resume")
    assert not sub_row().collection_paused

    # Cancel: the one offer (a pause) declined, then a reason and a few words.
    page.locator("a[data-action=cancel]").first.click()
    journey.look("cancel-offer")
    page.locator("a[href*='step=reasons']").click()
    page.wait_for_load_state()
    journey.look("cancel")
    page.locator("input[name=reason][value=too_expensive]").check()
    page.locator("textarea[name=comment]").fill("الأسعار ارتفعت" if lang == "ar" else "Prices rose")
    page.locator("form button[type=submit]").click()
    journey.back_on_account()
    applied("cancel")
    row = sub_row()
    assert row.cancel_at_period_end and row.cancel_reason == "too_expensive"

    # One mail per change, each in the reader's language.
    mails = smtp_server.wait_for(6)
    kinds = sorted(m["X-Support-Mail"].split(";")[0] for m in mails)
    changes = ["gift_changed", "card_updated", "gift_paused", "gift_resumed", "gift_cancelled"]
    assert kinds == sorted(["thank_you", *changes])
    for mail in mails[1:]:
        journey.read_mail(mail)
    assert journey.problems == []
    assert journey.violations == []
