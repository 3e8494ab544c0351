"""Errors: a page in the reader's language, JSON for APIs, never a bare 500."""

import pytest
from flask import abort


@pytest.mark.one_database
def test_wrong_method_on_a_page_is_a_405_page(client):
    response = client.get("/en/checkout")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert "That action is not possible here." in response.get_data(as_text=True)


@pytest.mark.one_database
def test_wrong_method_on_an_api_is_json(client):
    response = client.get("/stripe/webhook")
    assert response.status_code == 405
    assert response.get_json()["error"]["status"] == 405


@pytest.mark.one_database
def test_unknown_page_in_arabic(client):
    response = client.get("/ar/nowhere")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    assert "الصفحة غير موجودة" in html


def test_staff_error_pages_lead_back_to_the_staff_desk(client):
    from tests.factories import signed_in

    signed_in(client, "viewer")
    for path in ("/staff/nowhere", "/staff/supporters/999999", "/staff/campaigns/nope"):
        response = client.get(path)
        html = response.get_data(as_text=True)
        assert response.status_code == 404, path
        assert 'href="/staff/">Back to the staff desk' in html, path
        assert "Back to the support page" not in html and 'href="/en/"' not in html, path
    reader = client.get("/en/nowhere").get_data(as_text=True)
    assert "Back to the support page" in reader and "staff desk" not in reader


@pytest.mark.own_app
@pytest.mark.one_database
def test_unexpected_error_is_a_500_page_and_rolls_back(app, client):
    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    response = client.get("/boom")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.get_data(as_text=True)


def _raising(app, path, status):
    """A route at `path` that aborts with `status`."""
    app.add_url_rule(path, f"raise_{status}", lambda: abort(status))


@pytest.mark.own_app
@pytest.mark.one_database
@pytest.mark.parametrize(
    ("status", "lang", "title", "text"),
    [
        (401, "en", "Please sign in", "You need to sign in to see this page."),
        (401, "ar", "يُرجى تسجيل الدخول", "عليك تسجيل الدخول لرؤية هذه الصفحة."),
        (410, "en", "No longer available", "This link has expired or what it led to was removed."),
        (410, "ar", "لم يعد متاحًا", "انتهت صلاحية هذا الرابط أو أُزيل ما كان يؤدي إليه."),
    ],
    ids=["401-en", "401-ar", "410-en", "410-ar"],
)
def test_401_and_410_are_pages_in_the_readers_language(app, client, status, lang, title, text):
    _raising(app, f"/{lang}/raises", status)
    response = client.get(f"/{lang}/raises")
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert f'<html lang="{lang}"' in html
    assert title in html
    assert text in html
    assert "Something went wrong on our side" not in html


@pytest.mark.own_app
@pytest.mark.one_database
@pytest.mark.parametrize("status", [401, 410])
def test_401_and_410_on_an_api_are_json(app, client, status):
    _raising(app, "/staff/api/raises", status)
    response = client.get("/staff/api/raises")
    assert response.status_code == status
    assert response.get_json()["error"]["status"] == status


@pytest.mark.own_app
@pytest.mark.one_database
@pytest.mark.parametrize(("status", "words"), [(418, "not right"), (503, "on our side")])
def test_other_statuses_keep_their_code_with_their_class_words(app, client, status, words):
    _raising(app, "/en/raises", status)
    app.add_url_rule("/staff/api/raises", "api_raises", lambda: abort(status))
    response = client.get("/en/raises")
    assert response.status_code == status
    assert words in response.get_data(as_text=True)
    api = client.get("/staff/api/raises")
    assert api.status_code == status
    assert api.get_json()["error"]["status"] == status
