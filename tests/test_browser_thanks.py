"""The thanks page in Chromium: back to the article, and sharing with a sentence through
the device's share sheet, or by email where there is none."""

from urllib.parse import parse_qs, urlsplit

import pytest

from support.extensions import db
from support.models import CheckoutAttempt, utcnow
from tests.factories import supporter

pytestmark = pytest.mark.browser

ARTICLE = "https://news.example.org/{lang}/article-1"
SENTENCE = {
    "en": "I have just supported independent journalism at The Newsroom. You can too:",
    "ar": "دعمتُ للتو الصحافة المستقلة في غرفة الأخبار. يمكنك أن تدعمها أنت أيضًا:",
}
# A share sheet that records what it was given.
SHARE_SHEET = """
navigator.share = (data) => { window.sharedWith = data; return Promise.resolve(); };
navigator.canShare = () => true;
"""


def thanks_path(lang: str, source: str | None) -> str:
    reader = supporter(f"reader-{lang}@example.org", lang=lang)
    attempt = CheckoutAttempt(
        session_id=f"cs_test_thanks{lang}",
        amount=500,
        currency="usd",
        frequency="month",
        lang=lang,
        source=source,
        completed_at=utcnow(),
        supporter_id=reader.id,
    )
    db.session.add(attempt)
    db.session.commit()
    return f"/{lang}/thanks?session_id={attempt.session_id}"


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_share_sheet_gets_a_sentence_and_the_appeal_and_back_goes_to_the_article(
    live_server, page, lang
):
    path = thanks_path(lang, ARTICLE.format(lang=lang))
    page.add_init_script(SHARE_SHEET)
    page.goto(live_server.url + path)
    share = page.locator("[data-share]")
    assert share.is_visible()
    share.click()
    shared = page.wait_for_function("window.sharedWith").json_value()
    assert shared["text"] == SENTENCE[lang]
    assert shared["url"] == f"{live_server.url}/{lang}/"
    back = page.locator("[data-back-to-article]")
    assert back.get_attribute("href") == ARTICLE.format(lang=lang) + "#supported"
    assert "primary" in back.get_attribute("class")
    assert "primary" not in share.get_attribute("class")
    assert ARTICLE.format(lang=lang) not in page.inner_text("main")  # no raw address


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_without_a_share_sheet_the_mail_carries_the_same_words(live_server, page, lang):
    path = thanks_path(lang, None)
    page.add_init_script("delete Navigator.prototype.share; delete navigator.share;")
    page.goto(live_server.url + path)
    assert page.locator("[data-share]").is_hidden()
    mail = page.locator("[data-share-mail]")
    assert mail.is_visible()
    body = parse_qs(urlsplit(mail.get_attribute("href")).query)["body"][0]
    assert body == f"{SENTENCE[lang]} {live_server.url}/{lang}/"
    # No article: no button back to the appeal they just gave through.
    assert page.locator("[data-back-to-article]").count() == 0
    assert page.locator(f'main a[href="/{lang}/"]').count() == 0
