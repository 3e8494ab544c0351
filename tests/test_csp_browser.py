"""The strict Content-Security-Policy in Chromium: the pages work and nothing is blocked.

Every page of the browser context reports `securitypolicyviolation` events to the
test, and Chromium's console messages about the policy are kept too.
"""

from __future__ import annotations

import re

import pytest

from support.extensions import db
from tests.factories import PASSWORD, staff, subscription, supporter

pytestmark = pytest.mark.browser

REPORT = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.cspViolation(`${e.violatedDirective} blocked ${e.blockedURI} on ${e.documentURI}`);
});
"""


@pytest.fixture
def watched(browser):
    """A page whose CSP violations (events and console messages) are collected."""
    context = browser.new_context()
    violations: list[str] = []
    context.expose_function("cspViolation", lambda text: violations.append(text))
    context.add_init_script(REPORT)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield page, violations
    context.close()


def test_the_collector_sees_a_violation(live_server, watched):
    page, violations = watched
    page.goto(f"{live_server.url}/en/")
    page.evaluate("document.body.setAttribute('style', 'color: red')")
    for _ in range(50):  # the report arrives through the page's event loop
        if violations:
            break
        page.wait_for_timeout(20)
    assert any("style-src" in v for v in violations), violations


def test_the_appeal_works_and_pays_without_a_violation(live_server, watched):
    page, violations = watched
    page.goto(f"{live_server.url}/en/")
    # appeal.js: typing an amount selects "Other" and rewrites the fee note.
    page.locator('input[name="amount"][value="other"]').check(force=True)
    page.fill("#amount_other", "7")
    assert page.locator('input[name="amount"][value="other"]').is_checked()
    assert "Of $7, the card processor keeps $0.50" in page.inner_text("[data-fee-note]")
    assert "Add $0.52" in page.inner_text("[data-fee-cover]")
    page.get_by_role("button", name="Continue to secure payment").click()

    # A form whose answer redirects to Stripe: allowed by form-action.
    page.wait_for_url(re.compile(r"/c/pay/cs_test_"))
    page.fill("#email", "reader@example.org")
    page.click("#pay")
    page.wait_for_url(re.compile(r"/en/thanks\?session_id=cs_test_"))
    assert "Your payment is confirmed" in page.inner_text("main")
    # The site's stylesheet applies (a blocked one would leave the default white).
    background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    assert background == "rgb(244, 244, 247)"

    page.goto(f"{live_server.url}/ar/")
    page.locator('input[name="amount"][value="other"]').check(force=True)
    page.fill("#amount_other", "٩")
    assert "9" in page.inner_text("[data-fee-note]")
    assert violations == []


def test_the_staff_dashboard_works_without_a_violation(live_server, watched):
    page, violations = watched
    staff("editor@example.org", "viewer")
    subscription(supporter(), 500, "usd")
    db.session.commit()
    page.goto(f"{live_server.url}/staff/login")
    page.get_by_label("Email").fill("editor@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/staff/")
    chart = page.get_by_role(
        "img", name="Running subscriptions at each month's end, last 12 months"
    )
    assert chart.is_visible()
    # staff.css styles the charts: proof the stylesheet was not blocked.
    assert page.evaluate("getComputedStyle(document.querySelector('svg.chart')).fontSize") == "13px"
    page.get_by_text("Show the numbers").first.click()
    assert page.locator("table.data").first.is_visible()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/staff/login")
    assert violations == []


def test_the_banner_preview_and_iframe_page_work_without_a_violation(live_server, watched):
    page, violations = watched
    page.goto(f"{live_server.url}/embed/")
    banners = page.locator("[data-support-banner] section[role=region]")
    banners.nth(1).wait_for()
    assert banners.count() == 2
    # The goal bar's width is set through the CSSOM, which style-src allows.
    host = page.locator("[data-support-banner]").first
    width = host.evaluate("h => h.shadowRoot.querySelector('.g i').style.width")
    assert width.endswith("%")
    snippet = page.locator(".snippet").first
    assert snippet.evaluate("e => getComputedStyle(e).whiteSpace") == "pre-wrap"

    page.goto(f"{live_server.url}/embed/banner.html?lang=ar&variant=goal")
    assert page.locator("html").get_attribute("dir") == "rtl"
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(255, 248, 225)"  # from /embed/banner.css
    assert violations == []
