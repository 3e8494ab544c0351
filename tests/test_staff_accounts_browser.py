"""In Chromium: an admin invites someone who accepts by mail, a forgotten password is
reset by mail, and a staff member sets up two-step sign-in and signs in with a code."""

from __future__ import annotations

import re

import pyotp

from tests.factories import PASSWORD, staff, totp_code

NEW_PASSWORD = "a brand new passphrase"
_LINK = re.compile(r"http://127\.0\.0\.1:\d+/staff/(?:invitation|password-reset)/\S+")


def mailed_link(smtp_server, count: int = 1) -> str:
    """The link in the `count`-th mail the worker sent."""
    mails = smtp_server.wait_for(count)
    assert len(mails) >= count, "no mail arrived"
    return _LINK.search(mails[count - 1].get_body(("plain",)).get_content()).group(0)


def sign_in(page, url: str, email: str, password: str = PASSWORD, code: str | None = None):
    page.goto(url + "/staff/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if code is not None:
        page.wait_for_url("**/staff/login/code**")
        page.get_by_label("Code").fill(code)
        page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/staff/")


def border_width(page, selector: str) -> str:
    return page.eval_on_selector(selector, "e => getComputedStyle(e).borderTopWidth")


def test_an_invitation_is_accepted_from_the_mail(live_server, smtp_server, browser, page):
    staff("boss@example.org", "admin")
    sign_in(page, live_server.url, "boss@example.org", code=totp_code())
    page.get_by_role("link", name="Accounts").click()
    page.get_by_label("Email", exact=True).fill("newcomer@example.org")
    page.get_by_label("Role", exact=True).select_option("editor")
    page.get_by_role("button", name="Send invitation").click()
    assert page.get_by_text("Invitation sent to newcomer@example.org").is_visible()
    row = page.locator('tr[data-account="newcomer@example.org"]')
    assert "invited" in row.inner_text()

    link = mailed_link(smtp_server)
    invited = browser.new_context().new_page()
    invited.goto(link)
    assert invited.get_by_text("Account: newcomer@example.org").is_visible()
    assert border_width(invited, "input[type=password]") == "2px"  # styled like other fields
    invited.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    invited.get_by_label("New password again").fill(NEW_PASSWORD)
    invited.get_by_role("button", name="Save the password").click()
    invited.wait_for_url("**/staff/")
    assert invited.get_by_text("Welcome! Your account is ready.").is_visible()
    invited.context.close()

    page.reload()
    assert "active" in page.locator('tr[data-account="newcomer@example.org"]').inner_text()


def test_a_forgotten_password_is_reset_from_the_mail(live_server, smtp_server, page):
    staff("editor@example.org", "editor")
    page.goto(live_server.url + "/staff/login")
    assert border_width(page, "input[type=password]") == "2px"
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("editor@example.org")
    page.get_by_role("button", name="Email me a link").click()
    assert page.get_by_role("heading", name="Check your email").is_visible()

    page.goto(mailed_link(smtp_server))
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save the password").click()
    page.wait_for_url("**/staff/login")
    assert page.get_by_text("Your password is changed").is_visible()
    sign_in(page, live_server.url, "editor@example.org", NEW_PASSWORD)


def test_two_step_sign_in_is_set_up_and_used(live_server, page):
    staff("editor@example.org", "viewer")
    sign_in(page, live_server.url, "editor@example.org")
    page.get_by_role("link", name="Two-step sign-in").click()
    qr = page.get_by_role("img", name="QR code for your authenticator app")
    assert qr.is_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")  # drawn, not blocked
    secret = page.locator("[data-secret]").inner_text()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    assert page.get_by_role("heading", name="Your recovery codes").is_visible()
    assert page.locator(".recovery-codes li").count() == 10

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/staff/login")
    # The code used to confirm cannot be used again: the next one signs in.
    sign_in(page, live_server.url, "editor@example.org", code=totp_code(1, secret))
    assert page.get_by_text("Active supporters").is_visible()
