"""`/staff/accounts`: invitations, roles, deactivation, and always one admin left."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from support.extensions import db
from support.models import OutboundEmail, StaffUser
from support.staff.auth import account_admin, account_links
from tests.factories import PASSWORD, csrf, sign_in, signed_in, staff
from tests.staff_mail import sent_link

NEW_PASSWORD = "a brand new passphrase"


def account(email: str) -> StaffUser:
    db.session.expire_all()
    return db.session.scalar(sa.select(StaffUser).where(StaffUser.email == email))


def invite(client, email: str, role: str = "viewer", **headers):
    token = csrf(client, "/staff/accounts")
    return client.post(
        "/staff/accounts/invite",
        data={"email": email, "role": role, "csrf_token": token},
        headers=headers,
    )


def choose_password(client, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    token = csrf(client, path)
    return client.post(
        path, data={"password": password, "confirm": confirm or password, "csrf_token": token}
    )


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_only_admins_reach_the_accounts_page(client, role):
    signed_in(client, role)
    assert client.get("/staff/accounts").status_code == 403
    assert "/staff/accounts" not in client.get("/staff/").get_data(as_text=True)
    token = csrf(client, "/staff/")
    refused = client.post(
        "/staff/accounts/invite",
        data={"email": "new@example.org", "role": "admin", "csrf_token": token},
    )
    assert refused.status_code == 403
    assert account("new@example.org") is None


@pytest.mark.one_database
def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/staff/accounts")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_the_list_shows_role_status_last_sign_in_and_two_step(client):
    staff("reader@example.org", "viewer")
    signed_in(client, "admin")
    page = client.get("/staff/accounts").get_data(as_text=True)
    assert "reader@example.org" in page and "admin@example.org" in page
    row = page.split('data-account="reader@example.org"')[1].split("</tr>")[0]
    assert "Viewer" in row and "active" in row and "off" in row and "—" in row
    mine = page.split('data-account="admin@example.org"')[1].split("</tr>")[0]
    assert "on" in mine and "<time" in mine  # just signed in, with two-step sign-in


def test_an_invitation_is_accepted_once_and_signs_in(client, smtp_server):
    signed_in(client, "admin")
    response = invite(client, " New.Person@Example.org ", "editor")
    assert response.status_code == 303
    assert "Invitation sent to new.person@example.org" in client.get("/staff/accounts").get_data(
        as_text=True
    )
    assert account("new.person@example.org").status == "invited"

    path = sent_link(smtp_server)
    [mail] = smtp_server.messages
    assert mail["To"] == "new.person@example.org"
    assert mail["Subject"] == "Your invitation to the staff area of The Newsroom"

    client.post("/staff/logout", data={"csrf_token": csrf(client, "/staff/")})
    assert client.get(path).status_code == 200  # opening the link uses nothing up
    assert client.head(path).status_code == 200
    accepted = choose_password(client, path)
    assert accepted.status_code == 303 and accepted.headers["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    user = account("new.person@example.org")
    assert user.status == "active" and user.role == "editor"

    again = choose_password(client, path, "yet another passphrase")
    assert again.status_code == 410
    assert "already been used" in again.get_data(as_text=True)
    client.post("/staff/logout", data={"csrf_token": csrf(client, "/staff/")})
    assert sign_in(client, "new.person@example.org", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("lang", "subject", "name"),
    [
        ("en", "Your invitation to the staff area of The Newsroom", "The team at The Newsroom"),
        ("ar", "دعوتك إلى مساحة فريق العمل في غرفة الأخبار", "فريق غرفة الأخبار"),
    ],
)
def test_an_invitation_names_the_newsroom_once_in_its_language_and_is_not_a_thank_you(
    app, smtp_server, lang, subject, name
):
    account_admin.invite("colleague@example.org", "viewer", lang)
    db.session.commit()
    sent_link(smtp_server)
    [mail] = smtp_server.messages
    assert mail["Subject"] == subject
    for body in (mail.get_body(("plain",)), mail.get_body(("html",))):
        text = body.get_content()
        assert name in text
        assert "The Newsroom" not in text if lang == "ar" else "the The" not in text
        # Gratitude is for supporters; a colleague's invitation is signed by the team.
        assert "With gratitude" not in text and "الامتنان" not in text


def test_an_invited_admin_must_set_up_two_step_sign_in_first(client, smtp_server):
    signed_in(client, "admin")
    invite(client, "boss@example.org", "admin")
    path = sent_link(smtp_server)
    client.post("/staff/logout", data={"csrf_token": csrf(client, "/staff/")})
    choose_password(client, path)
    for page in ("/staff/", "/staff/accounts", "/staff/supporters"):
        response = client.get(page)
        assert response.status_code == 302
        assert response.headers["Location"] == "/staff/account/two-factor"
    assert client.get("/staff/api/stats.json").status_code == 403
    assert client.get("/staff/account/two-factor").status_code == 200


def test_an_expired_invitation_says_so(client, smtp_server, monkeypatch):
    signed_in(client, "admin")
    invite(client, "late@example.org")
    path = sent_link(smtp_server)
    monkeypatch.setitem(account_links.MAX_AGE, "invite", -1)
    response = client.get(path)
    assert response.status_code == 410
    assert "This link has expired" in response.get_data(as_text=True)
    assert choose_password(client, path).status_code == 410
    assert account("late@example.org").status == "invited"


def test_inviting_again_voids_the_first_link(client, smtp_server):
    signed_in(client, "admin")
    invite(client, "twice@example.org")
    first = sent_link(smtp_server)
    invite(client, "twice@example.org", "editor")
    second = sent_link(smtp_server, 2)
    assert client.get(first).status_code == 410
    assert choose_password(client, second).status_code == 303
    assert account("twice@example.org").role == "editor"


def test_a_tampered_link_is_refused(client, smtp_server):
    signed_in(client, "admin")
    invite(client, "someone@example.org")
    path = sent_link(smtp_server)
    response = client.get(path[:-3] + "xyz")
    assert response.status_code == 400
    assert "This link does not work" in response.get_data(as_text=True)


def test_bad_invitations_keep_what_was_typed(client):
    signed_in(client, "admin")
    staff("taken@example.org")
    wrong = invite(client, "not-an-address")
    assert wrong.status_code == 400
    page = wrong.get_data(as_text=True)
    assert "Enter a valid email address." in page and 'value="not-an-address"' in page
    taken = invite(client, "taken@example.org")
    assert taken.status_code == 400
    assert "taken@example.org already has an account." in taken.get_data(as_text=True)
    bad_role = invite(client, "new@example.org", "owner")
    assert bad_role.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboundEmail)) == 0


def test_arabic_errors_for_a_bad_invitation(client):
    signed_in(client, "admin")
    wrong = invite(client, "", **{"Accept-Language": "ar"})
    assert wrong.status_code == 400
    assert 'dir="rtl"' in wrong.get_data(as_text=True)
    assert "أدخل عنوان البريد الإلكتروني" in wrong.get_data(as_text=True)


def test_a_short_or_mismatched_password_is_refused_and_the_link_still_works(client, smtp_server):
    signed_in(client, "admin")
    invite(client, "short@example.org")
    path = sent_link(smtp_server)
    client.post("/staff/logout", data={"csrf_token": csrf(client, "/staff/")})
    short = choose_password(client, path, "short")
    assert short.status_code == 400
    assert "at least 10 characters" in short.get_data(as_text=True)
    mismatch = choose_password(client, path, NEW_PASSWORD, "something else entirely")
    assert mismatch.status_code == 400
    assert "not the same" in mismatch.get_data(as_text=True)
    assert choose_password(client, path).status_code == 303


def post_action(client, user: StaffUser, action: str, **data):
    token = csrf(client, "/staff/accounts")
    return client.post(f"/staff/accounts/{user.id}/{action}", data={"csrf_token": token, **data})


def test_admins_change_roles(client):
    reader = staff("reader@example.org", "viewer")
    signed_in(client, "admin")
    assert post_action(client, reader, "role", role="editor").status_code == 303
    assert account("reader@example.org").role == "editor"
    assert post_action(client, reader, "role", role="owner").status_code == 303
    assert account("reader@example.org").role == "editor"


def test_a_deactivated_users_session_ends_at_once(app, client):
    other = app.test_client()
    signed_in(other, "viewer")
    assert other.get("/staff/").status_code == 200
    signed_in(client, "admin")
    viewer = account("viewer@example.org")
    assert post_action(client, viewer, "deactivate").status_code == 303
    response = other.get("/staff/")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    refused = sign_in(other, "viewer@example.org", PASSWORD)
    assert refused.status_code == 401
    assert account("viewer@example.org").status == "deactivated"

    assert post_action(client, viewer, "reactivate").status_code == 303
    assert sign_in(other, "viewer@example.org", PASSWORD).status_code == 302


def test_the_last_admin_cannot_demote_or_deactivate_themselves(client):
    signed_in(client, "admin")
    me = account("admin@example.org")
    demote = post_action(client, me, "role", role="viewer")
    assert demote.status_code == 303
    assert "at least one active admin" in client.get("/staff/accounts").get_data(as_text=True)
    assert post_action(client, me, "deactivate").status_code == 303
    me = account("admin@example.org")
    assert me.role == "admin" and me.status == "active"

    staff("second@example.org", "admin")
    assert post_action(client, me, "role", role="editor").status_code == 303
    assert account("admin@example.org").role == "editor"
    # No longer an admin: the accounts page is closed to them.
    assert client.get("/staff/accounts").status_code == 403


def test_an_invited_admin_does_not_count_as_an_admin_left(client, smtp_server):
    signed_in(client, "admin")
    invite(client, "pending@example.org", "admin")
    post_action(client, account("admin@example.org"), "role", role="viewer")
    assert account("admin@example.org").role == "admin"


def test_invitation_links_are_kept_used_for_as_long_as_they_live():
    from support.manage.single_use import KEEP

    assert max(account_links.MAX_AGE.values()) <= KEEP.total_seconds()
    assert timedelta(seconds=account_links.MAX_AGE["reset"]) <= timedelta(hours=1)


def _at_the_same_time(app, changes) -> list[str]:
    """Run each `(email, change)` in its own thread and app context, both checks before
    either write; what each ended in ("done" or "refused")."""
    results: list[str] = []
    barrier = threading.Barrier(len(changes))

    def run(email: str, change) -> None:
        with app.test_request_context("/staff/accounts"):
            user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == email))
            barrier.wait()
            try:
                change(user)
            except account_admin.ChangeRefused:
                db.session.rollback()
                results.append("refused")
            else:
                results.append("done")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=pair) for pair in changes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return sorted(results)


@pytest.fixture
def slow_writes(app):
    """Every write to `staff_user` waits a moment first, so two changes overlap."""

    def wait(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE STAFF_USER"):
            time.sleep(0.3)

    sa.event.listen(db.engine, "before_cursor_execute", wait)
    yield
    sa.event.remove(db.engine, "before_cursor_execute", wait)


@pytest.mark.parametrize(
    "changes",
    [
        ("demote", "demote"),
        ("deactivate", "deactivate"),
        ("demote", "deactivate"),
    ],
)
def test_two_admins_removing_each_other_at_once_leave_one(app, slow_writes, changes):
    staff("one@example.org", "admin")
    staff("two@example.org", "admin")
    how = {
        "demote": lambda user: account_admin.change_role(user, "viewer"),
        "deactivate": account_admin.deactivate,
    }
    results = _at_the_same_time(
        app, [("one@example.org", how[changes[0]]), ("two@example.org", how[changes[1]])]
    )
    assert results == ["done", "refused"]
    db.session.expire_all()
    admins = db.session.scalar(
        sa.select(sa.func.count()).where(StaffUser.role == "admin", StaffUser.status == "active")
    )
    assert admins == 1
