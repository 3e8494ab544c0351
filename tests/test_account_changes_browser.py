"""The account page's actions in Chromium, in English and in Arabic, at 1280 and 390 px:
a supporter lowers the amount, pauses, resumes, cancels with a reason through the
save offer, and undoes it; after each the live worker applies the webhook and the
page shows it. Every new page is saved when SCREENSHOTS is set, and in Arabic no
page or mail shows a Latin word but the reader's address, the newsroom's configured
name, the card's brand, and the reader's own typed name in mails."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from support.extensions import db
from support.models import CheckoutAttempt, Subscription
from support.portal_links import make_token
from tests.helpers.account_changes import ledger_matches_stripe
from tests.helpers.checkout import give_over_http
from tests.helpers.latin import latin_words as words_in
from tests.helpers.page_checks import screenshot

pytestmark = pytest.mark.browser

EMAIL = "rana@example.org"


def latin_words(text: str, allowed: set[str]) -> set[str]:
    return set(words_in(text, {*allowed, EMAIL}))


class Walk:
    """One supporter's walk through the pages: shots and visible text of each."""

    def __init__(self, page, lang: str, allowed: set[str]):
        self.page, self.lang, self.allowed = page, lang, allowed
        self.seen: dict[str, set[str]] = {}

    def look(self, name: str) -> None:
        """Screenshot the page at both widths and keep its Latin words (Arabic only)."""
        for width, height in ((390, 844), (1280, 900)):
            self.page.set_viewport_size({"width": width, "height": height})
            screenshot(self.page, f"account-{name}-{self.lang}")
        assert self.page.evaluate("document.documentElement.dir") == (
            "rtl" if self.lang == "ar" else "ltr"
        )
        if self.lang == "ar":
            text = self.page.evaluate("document.body.innerText")
            words = latin_words(text, self.allowed)
            if words:
                self.seen[name] = words

    def open_action(self, action: str) -> None:
        self.page.locator(f"a[data-action={action}]").first.click()
        self.page.wait_for_load_state()


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_lower_pause_resume_cancel_and_undo_in_the_browser(
    live_server, page, emulator, smtp_server, app, lang
):
    base = live_server.url
    session_id = give_over_http(base, lang, EMAIL, name="Rana")
    live_server.settle()
    attempt = db.session.scalar(
        sa.select(CheckoutAttempt).where(CheckoutAttempt.session_id == session_id)
    )
    sub = db.session.scalar(sa.select(Subscription))
    newsroom = app.config["SUPPORT_NEWSROOM_NAME_AR"]
    # The newsroom's configured name, and the name the reader typed (mail greetings).
    walk = Walk(page, lang, {newsroom, "Rana", "Visa"})
    smtp_server.clear()

    # The mailed link's one button opens the account page.
    page.set_viewport_size({"width": 1280, "height": 900})
    with app.test_request_context():
        token = make_token(attempt.supporter_id, lang, "mail")
    page.goto(f"{base}/manage/{token}")
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(f"**/{lang}/account")
    walk.look("page")

    def settle_and_reload(name: str) -> None:
        assert page.locator("[data-changed]").count() == 1
        walk.look(f"{name}-sent")
        live_server.settle()
        page.reload()
        assert page.locator("[data-pending]").count() == 0
        db.session.expire_all()
        ledger_matches_stripe(emulator, sub.stripe_id)

    # Lower the amount: $5 → $1 a month.
    walk.open_action("amount")
    walk.look("amount")
    page.locator("label.choice", has=page.locator("input[name=amount][value='1']")).click()
    page.locator("form button[type=submit]").click()
    page.wait_for_url(f"**/{lang}/account")
    settle_and_reload("amount")
    assert db.session.get(Subscription, sub.id).amount == 100

    # Pause for two months, then resume early.
    walk.open_action("pause")
    walk.look("pause")
    page.locator("input[name=months][value='2']").check()
    page.locator("form button[type=submit]").click()
    page.wait_for_url(f"**/{lang}/account")
    settle_and_reload("pause")
    assert db.session.get(Subscription, sub.id).collection_paused
    walk.open_action("resume")
    walk.look("resume")
    page.locator("form button[type=submit]").click()
    page.wait_for_url(f"**/{lang}/account")
    settle_and_reload("resume")

    # Cancel: the save offer (a pause) first, declined; then the reason.
    walk.open_action("cancel")
    walk.look("cancel-offer")
    page.locator("a[href*='step=reasons']").click()
    page.wait_for_load_state()
    walk.look("cancel")
    page.locator("input[name=reason][value=unused]").check()
    page.locator("textarea[name=comment]").fill("٣ مقالات في الشهر" if lang == "ar" else "Busy")
    page.locator("form button[type=submit]").click()
    page.wait_for_url(f"**/{lang}/account")
    settle_and_reload("cancel")
    row = db.session.get(Subscription, sub.id)
    assert row.cancel_at_period_end and row.cancel_reason == "unused"

    # Undo the cancellation.
    walk.open_action("keep")
    walk.look("keep")
    page.locator("form button[type=submit]").click()
    page.wait_for_url(f"**/{lang}/account")
    settle_and_reload("keep")
    assert not db.session.get(Subscription, sub.id).cancel_at_period_end

    # One mail per change, in the page's language.
    mails = smtp_server.wait_for(5)
    kinds = [m["X-Support-Mail"].split(";")[0] for m in mails]
    assert sorted(kinds) == sorted(
        ["gift_changed", "gift_paused", "gift_resumed", "gift_cancelled", "gift_kept"]
    )
    assert {m["Content-Language"] for m in mails} == {lang}
    if lang == "ar":
        for mail in mails:
            words = latin_words(mail.get_body(("plain",)).get_content(), walk.allowed)
            words |= latin_words(str(mail["Subject"]), walk.allowed)
            if words:
                walk.seen[mail["X-Support-Mail"]] = words
    assert walk.seen == {}
