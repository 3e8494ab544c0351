"""Errors: a page in the reader's language, JSON for APIs, never a bare 500."""


def test_wrong_method_on_a_page_is_a_405_page(client):
    response = client.get("/en/checkout")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert "That action is not possible here." in response.get_data(as_text=True)


def test_wrong_method_on_an_api_is_json(client):
    response = client.get("/stripe/webhook")
    assert response.status_code == 405
    assert response.get_json()["error"]["status"] == 405


def test_unknown_page_in_arabic(client):
    response = client.get("/ar/nowhere")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    assert "الصفحة غير موجودة" in html


def test_unexpected_error_is_a_500_page_and_rolls_back(app, client):
    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    response = client.get("/boom")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.get_data(as_text=True)
