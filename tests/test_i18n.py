"""Arabic is first-class: every string on every page has a translation."""

from pathlib import Path

import pytest
from flask_babel import force_locale, gettext

from devtools.i18n import DOMAINS, _files, main, missing, uncovered


def test_every_string_has_an_arabic_translation():
    assert missing() == {}


@pytest.mark.one_database
def test_catalogs_of_every_domain_are_loaded(app):
    with app.test_request_context(), force_locale("ar"):
        assert gettext("Monthly") == "شهريًا"


def test_every_file_calling_gettext_feeds_a_domain():
    assert uncovered() == []


def _write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_extraction_follows_modules_and_templates_into_sub_folders(tmp_path):
    _write(tmp_path, "support/staff/reports/weekly.py", '_("Weekly report")\n')
    _write(tmp_path, "templates/email/digest/weekly.txt", '{{ gettext("Your week") }}\n')
    _write(tmp_path, "templates/appeal/parts/amounts.html", "{{ _('Amount') }}\n")

    assert tmp_path / "support/staff/reports/weekly.py" in _files(DOMAINS["staff"], tmp_path)
    assert tmp_path / "templates/email/digest/weekly.txt" in _files(DOMAINS["manage"], tmp_path)
    assert tmp_path / "templates/appeal/parts/amounts.html" in _files(DOMAINS["messages"], tmp_path)
    assert uncovered(tmp_path) == []


def test_a_translatable_file_outside_every_domain_is_reported(tmp_path):
    _write(tmp_path, "support/reports/weekly.py", 'label = lazy_gettext("Weekly")\n')
    _write(tmp_path, "support/reports/counts.py", 'ngettext("%(num)s gift", "%(num)s gifts", n)\n')
    _write(tmp_path, "templates/reports/week.html", "<p>{{ _('This week') }}</p>\n")
    _write(tmp_path, "support/reports/plain.py", "def total(rows):\n    return sum(rows)\n")
    _write(tmp_path, "templates/reports/plain.html", "<p>{{ total }}</p>\n")

    assert uncovered(tmp_path) == [
        "support/reports/counts.py",
        "support/reports/weekly.py",
        "templates/reports/week.html",
    ]


def test_check_fails_on_a_module_no_domain_extracts(monkeypatch, capsys):
    monkeypatch.setitem(DOMAINS, "banner", ["templates/banner/**/*.html"])

    assert main(["i18n", "check"]) == 1
    out = capsys.readouterr().out
    assert "support/banner/content.py: calls gettext but no domain" in out
