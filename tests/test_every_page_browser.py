"""Every reader and staff page, in both languages, on a laptop and on a phone.

Each page must fit its window (nothing wider than the screen, so no sideways
scrolling) and axe-core must find no serious or critical accessibility problem, at
each width. A page is loaded once, in the laptop's window, then the window is
narrowed to the phone's (as the page's own scripts expect: the staff menu folds and
wide tables scroll on `resize`), which checks both without loading it twice.
With `SCREENSHOTS=DIR` in the environment each page is also saved as a PNG there,
named page-language-width, for a person to look at.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from support import audit
from support.asks import queueing
from support.asks.links import accept_url, unsubscribe_url
from support.campaigns import store
from support.extensions import db
from support.manage.done import return_token
from support.models import CheckoutAttempt, UpgradeAskRecipient, utcnow
from support.portal_links import make_token
from support.staff.supporters.queries import Filters
from tests.factories import PASSWORD, event, payment, staff, subscription, supporter, totp_code
from tests.helpers import network, page_checks
from tests.helpers.campaigns import sample

pytestmark = pytest.mark.browser

WIDTHS = (1280, 390)
HEIGHT = 900
LANGS = ("en", "ar")


def seed() -> dict[str, str]:
    """A small newsroom: supporters with gifts, an event, a campaign; the paths to visit."""
    layla = supporter("layla@example.org", name="ليلى حداد", lang="ar")
    plan = subscription(layla, 500, "usd", campaign="ramadan", variant="iftar")
    # The same address under a second Stripe customer (account page, staff grouping).
    again = supporter("layla@example.org", name="ليلى حداد", lang="ar")
    subscription(again, 1000, "usd", interval="year", status="canceled", canceled_at=utcnow())
    paid = payment(layla, 500, "usd", paid_at=utcnow())
    # A paused gift and one ending, for the account page's resume and keep pages.
    resting = subscription(layla, 300, "usd", collection_paused=True, paused_until=utcnow())
    ending = subscription(layla, 700, "usd", cancel_at_period_end=True, current_period_end=utcnow())
    once = supporter("omar@example.org", name="Omar")
    payment(once, 2500, "usd", kind="one_time")
    event("invoice.paid")
    attempt = CheckoutAttempt(
        session_id="cs_test_pages",
        amount=500,
        currency="usd",
        frequency="once",
        lang="en",
        source="https://news.example.org/en/article-1",
        completed_at=utcnow(),
        supporter_id=once.id,
    )
    db.session.add(attempt)
    store.create({**sample(), "status": "live"}, "admin@example.org")
    staff("admin@example.org", "admin")
    # The audit page's rows: one from the command line, with long words that must wrap.
    audit.record(audit.ERASE, supporter_id=once.id, detail=audit.STRIPE_CUSTOMER_DELETED)
    audit.record(
        audit.INVITE, "a-rather-long-address-for-a-phone@newsroom.example.org", detail="editor"
    )
    audit.record(audit.REPLAY, "evt_1QpLongStripeEventIdentifier00", detail="processed")
    db.session.commit()
    # An upgrade ask to one supporter: its staff pages and the mailed links' pages.
    nadia = supporter("nadia@example.org", name="نادية", lang="ar")
    subscription(nadia, 300, "usd", current_period_end=utcnow())
    draft = queueing.Draft(
        Filters(q="nadia@example.org"), "usd", "set", 800, "More?", "Please.", "المزيد؟", "رجاءً."
    )
    ask, _ = queueing.record(draft, "every-page-ask-form-token", "admin@example.org")
    recipient = db.session.scalar(sa.select(UpgradeAskRecipient))
    return {
        "ask": str(ask.id),
        **{f"ask-{lang}": urlsplit(accept_url(recipient.id, lang)).path for lang in LANGS},
        **{f"unsubscribe-{lang}": urlsplit(unsubscribe_url(nadia.id, lang)).path for lang in LANGS},
        "layla": str(layla.id),
        "plan": str(plan.id),
        "paid": str(paid.id),
        "resting": str(resting.id),
        "ending": str(ending.id),
        "token": return_token(layla.id),
        **{f"link-{lang}": make_token(layla.id, lang, "mail") for lang in LANGS},
    }


def reader_pages(ids: dict[str, str], lang: str) -> dict[str, str]:
    return {
        "appeal": f"/{lang}/",
        "campaign-appeal": f"/{lang}/?campaign=ramadan",
        "cancelled": f"/{lang}/cancelled?amount=5",
        "thanks": f"/{lang}/thanks?session_id=cs_test_pages",
        "manage": f"/{lang}/manage",
        "manage-done": f"/{lang}/manage/done?r={ids['token']}",
        "account-closed": f"/{lang}/account",
        "manage-link": f"/manage/{ids[f'link-{lang}']}",
        "bad-link": "/manage/not-a-token",
        "not-found": f"/{lang}/no-such-page",
        "banner-preview": "/embed/",
        "ask-raise": ids[f"ask-{lang}"],
        "ask-unsubscribe": ids[f"unsubscribe-{lang}"],
        "ask-bad-link": "/asks/not-a-token",
    }


def staff_pages(ids: dict[str, str]) -> dict[str, str]:
    return {
        "dashboard": "/staff/",
        "supporters": "/staff/supporters",
        "supporter": f"/staff/supporters/{ids['layla']}",
        "refund": f"/staff/supporters/{ids['layla']}/payments/{ids['paid']}/refund",
        "cancel": f"/staff/supporters/{ids['layla']}/subscriptions/{ids['plan']}/cancel",
        "events": "/staff/events",
        "banner-funnel": "/staff/banner",
        "campaigns": "/staff/campaigns",
        "campaign-new": "/staff/campaigns/new",
        "campaign-edit": "/staff/campaigns/ramadan",
        "campaign-preview": "/staff/campaigns/ramadan/preview",
        "campaign-history": "/staff/campaigns/ramadan/history",
        "campaign-end": "/staff/campaigns/ramadan/end",
        "accounts": "/staff/accounts",
        "two-factor": "/staff/account/two-factor",
        "audit": "/staff/audit",
        "asks": "/staff/asks",
        "ask-new": "/staff/asks/new",
        "ask": f"/staff/asks/{ids['ask']}",
    }


def signed_out_staff_pages() -> dict[str, str]:
    return {"staff-login": "/staff/login", "password-reset": "/staff/password-reset"}


def problems_on(page, url: str, name: str, lang: str) -> list[str]:
    """What is wrong with one page: loaded in a window WIDTHS[0] wide, then looked at
    in each width in turn (a window narrowed, a phone turned): overflow and serious
    axe-core findings at each."""
    page.set_viewport_size({"width": WIDTHS[0], "height": HEIGHT})
    response = network.goto(page, url)
    found = []
    if response is None or response.status >= 500:
        found.append(f"{name}: answered {response.status if response else 'nothing'}")
    for width in WIDTHS:
        found += page_checks.fits_at(page, f"{name}-{lang}", width, HEIGHT)
        found += [f"{name} at {width} px: {problem}" for problem in page_checks.axe_problems(page)]
    return found


def sign_in(page, base: str) -> None:
    page.goto(base + "/staff/login")
    page.locator("input[name=email]").fill("admin@example.org")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url("**/staff/login/code*")
    page.locator("input[name=code]").fill(totp_code())
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url("**/staff/")


class Tour:
    """One fresh browser window (no cookies) asking for `lang`, and what was wrong on
    each page it visited."""

    def __init__(self, browser, lang: str) -> None:
        self.lang = lang
        self.context = browser.new_context(
            viewport={"width": WIDTHS[0], "height": HEIGHT},
            locale="ar" if lang == "ar" else "en-US",
            extra_http_headers={"Accept-Language": lang},
        )
        self.page = network.watch(self.context.new_page())
        self.problems: list[str] = []

    def visit(self, pages: dict[str, str]) -> None:
        for name, url in pages.items():
            self.problems += problems_on(self.page, url, name, self.lang)

    def end(self) -> None:
        self.context.close()
        assert not self.problems, "\n".join(self.problems)


# A run per language, so they share out over the suite's processes rather than
# keeping one busy for minutes.
@pytest.mark.parametrize("lang", LANGS)
def test_every_reader_page_fits_and_passes_axe(live_server, browser, lang):
    ids = seed()
    base = live_server.url
    tour = Tour(browser, lang)
    pages = {**reader_pages(ids, lang), **signed_out_staff_pages()}
    tour.visit({name: base + path for name, path in pages.items()})
    # The mailed link's button opens the account page (a supporter session).
    tour.page.goto(f"{base}/manage/{ids[f'link-{lang}']}")
    tour.page.locator("main form button[type=submit]").click()
    tour.page.wait_for_url(f"**/{lang}/account")
    account = f"{base}/{lang}/account"
    gifts = f"{account}/gifts"
    tour.visit(
        {
            "account": account,
            "account-amount": f"{gifts}/{ids['plan']}/amount",
            "account-pause": f"{gifts}/{ids['plan']}/pause",
            "account-cancel-offer": f"{gifts}/{ids['plan']}/cancel",
            "account-cancel": f"{gifts}/{ids['plan']}/cancel?step=reasons&offered=pause",
            "account-resume": f"{gifts}/{ids['resting']}/resume",
            "account-keep": f"{gifts}/{ids['ending']}/keep",
        }
    )
    tour.end()


@pytest.mark.parametrize("lang", LANGS)
def test_every_staff_page_fits_and_passes_axe(live_server, browser, lang):
    ids = seed()
    tour = Tour(browser, lang)
    sign_in(tour.page, live_server.url)
    tour.visit({name: live_server.url + path for name, path in staff_pages(ids).items()})
    tour.end()
