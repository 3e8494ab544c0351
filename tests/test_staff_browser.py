"""A fundraiser signs in with Chromium and reads the dashboard, in English and Arabic."""

from __future__ import annotations

from datetime import timedelta

from support.extensions import db
from support.models import utcnow
from tests.factories import PASSWORD, staff, subscription, supporter
from tests.helpers.page_checks import overflow


def test_sign_in_and_read_the_dashboard(live_server, page):
    staff("editor@example.org", "viewer")
    subscription(supporter(), 500, "usd")
    subscription(supporter(), 1200, "usd", interval="year")
    db.session.commit()

    page.goto(live_server.url + "/staff/supporters")
    assert "/staff/login" in page.url  # signed out: sent to the form first
    page.get_by_label("Email").fill("editor@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/staff/supporters")

    page.get_by_role("link", name="Dashboard").click()
    figure = page.locator(".figures div", has_text="Active supporters")
    assert figure.locator("dd").first.inner_text() == "2"
    assert (
        page.locator(".figures div", has_text="Monthly recurring revenue")
        .locator("dd")
        .inner_text()
        == "$6"
    )  # 5 + 12/12
    chart = page.get_by_role(
        "img", name="Running subscriptions at each month's end, last 12 months"
    )
    assert chart.is_visible()
    page.get_by_text("Show the numbers").first.click()
    assert page.locator("table.data").first.is_visible()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/staff/login")


def test_arabic_dashboard_is_right_to_left(live_server, browser):
    staff("editor@example.org", "viewer")
    context = browser.new_context(locale="ar", extra_http_headers={"Accept-Language": "ar"})
    page = context.new_page()
    page.goto(live_server.url + "/staff/login")
    assert page.locator("html").get_attribute("dir") == "rtl"
    page.get_by_label("البريد الإلكتروني").fill("editor@example.org")
    page.get_by_label("كلمة المرور").fill(PASSWORD)
    page.get_by_role("button", name="تسجيل الدخول").click()
    page.wait_for_url("**/staff/")
    assert page.get_by_text("الداعمون النشطون").is_visible()
    context.close()


def signed_in_at(live_server, browser, width: int):
    """A staff member signed in, in a window `width` pixels wide."""
    staff("editor@example.org", "viewer")
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto(live_server.url + "/staff/login")
    page.get_by_label("Email").fill("editor@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/staff/")
    return context, page


def test_staff_pages_on_a_phone(live_server, browser):
    for n in range(3):
        who = supporter(email=f"a-long-address-{n}@subdomain.example.org", name="Reader " * 4)
        subscription(who, 500, "usd")
    db.session.commit()
    context, page = signed_in_at(live_server, browser, 390)
    header = page.locator(".site-header").bounding_box()
    assert header["height"] < 60  # the navigation is folded behind "Menu"
    page.get_by_text("Menu").click()
    page.get_by_role("link", name="Supporters").click()
    page.wait_for_url("**/staff/supporters")
    assert overflow(page) == 0
    table = page.locator("table.data").first
    assert table.evaluate("t => t.scrollWidth > t.clientWidth")  # it scrolls in its box
    context.close()


def test_staff_header_is_a_row_on_a_laptop(live_server, browser):
    context, page = signed_in_at(live_server, browser, 1280)
    assert page.get_by_role("link", name="Supporters").is_visible()
    assert not page.get_by_text("Menu").is_visible()
    context.close()


def test_the_password_field_is_styled(live_server, page):
    page.goto(live_server.url + "/staff/login")
    border = page.locator('input[type="password"]').evaluate(
        "e => getComputedStyle(e).borderTopWidth"
    )
    assert border == "2px"


def test_the_retention_table_on_a_phone(live_server, browser):
    for month in range(1, 4):
        subscription(supporter(), 500, "usd", started_at=utcnow() - timedelta(days=31 * month))
    db.session.commit()
    context, page = signed_in_at(live_server, browser, 390)
    cohorts = page.locator("#cohorts")
    cohorts.scroll_into_view_if_needed()
    assert cohorts.is_visible()
    assert overflow(page) == 0  # the table scrolls in its own box, not the page
    assert page.locator("#cohorts tbody tr").count() == 13
    context.close()


def test_chart_labels_are_readable_on_a_phone(live_server, browser):
    """At 390 px every label of a chart is drawn at 11 px or more; the chart scrolls in
    its own box rather than widening the page."""
    for _ in range(5):
        subscription(supporter(), 500, "usd")
    db.session.commit()
    context, page = signed_in_at(live_server, browser, 390)
    charts = page.locator("svg.chart")
    assert charts.count() >= 1
    sizes = charts.evaluate_all(
        """svgs => svgs.flatMap(svg => {
            const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
            return [...svg.querySelectorAll('text')].map(
                t => parseFloat(getComputedStyle(t).fontSize) * scale);
        })"""
    )
    assert sizes and min(sizes) >= 11, min(sizes)
    assert overflow(page) == 0
    context.close()
