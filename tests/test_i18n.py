"""Arabic is first-class: every string on every page has a translation."""

from flask_babel import force_locale, gettext

from devtools.i18n import missing


def test_every_string_has_an_arabic_translation():
    assert missing() == {}


def test_catalogs_of_every_domain_are_loaded(app):
    with app.test_request_context(), force_locale("ar"):
        assert gettext("Monthly") == "شهريًا"
