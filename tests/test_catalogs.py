"""Arabic never silently becomes English: `create_app` compiles the catalogs it needs.

Each test works on a copy of the package's translations in a temporary
directory (`BABEL_TRANSLATION_DIRECTORIES`), so the real catalogs, which other
tests read at the same time, are never removed or rewritten.
"""

import os
import shutil
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

import support
from support import create_app
from support.config import TRANSLATION_DOMAINS, ConfigError
from support.extensions import db
from tests.conftest import base_config

PACKAGE_TRANSLATIONS = Path(support.__file__).parent / "translations"
ARABIC_HEADLINE = "في الشهر تصنع فرقًا"


@pytest.fixture
def translations(tmp_path) -> Path:
    """A copy of the package's .po files (no .mo) in a temporary directory."""
    copy = tmp_path / "translations"
    shutil.copytree(PACKAGE_TRANSLATIONS, copy, ignore=shutil.ignore_patterns("*.mo"))
    return copy


def start(tmp_path, translations: Path):
    """An app reading its catalogs from `translations`, on an empty database of its own."""
    config = base_config(f"sqlite:///{tmp_path / 'catalogs.db'}", "http://127.0.0.1:9")
    config["SUPPORT_GOAL"] = 0  # no supporter count to read
    config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(
        [str(translations)] * len(TRANSLATION_DOMAINS)
    )
    app = create_app(config)
    with app.app_context():
        db.create_all()  # the appeal looks for a running campaign
    return app


def arabic_page(app) -> str:
    response = app.test_client().get("/ar/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def mo_files(translations: Path) -> list[Path]:
    return sorted((translations / "ar" / "LC_MESSAGES").glob("*.mo"))


def test_missing_catalogs_are_compiled_at_start_up(tmp_path, translations):
    assert mo_files(translations) == []
    app = start(tmp_path, translations)
    assert [p.name for p in mo_files(translations)] == sorted(
        f"{d}.mo" for d in TRANSLATION_DOMAINS
    )
    html = arabic_page(app)
    assert '<html lang="ar" dir="rtl">' in html
    assert ARABIC_HEADLINE in html
    assert "a month makes a difference" not in html


def test_a_catalog_older_than_its_po_is_compiled_again(tmp_path, translations):
    start(tmp_path, translations)
    po = translations / "ar" / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    # A catalog compiled from an earlier .po, whose headline was still untranslated.
    with po.open("rb") as handle:
        catalog = read_po(handle, locale="ar", domain="messages")
    catalog["%(amount)s a month makes a difference"].string = ""
    with mo.open("wb") as handle:
        write_mo(handle, catalog)
    # Older than its .po, whatever the .po's own time (a checkout keeps no file times).
    earlier = po.stat().st_mtime - 3600
    os.utime(mo, (earlier, earlier))

    html = arabic_page(start(tmp_path, translations))
    assert ARABIC_HEADLINE in html
    assert mo.stat().st_mtime >= po.stat().st_mtime


def test_up_to_date_catalogs_are_left_alone(tmp_path, translations):
    # A read-only installation with compiled catalogs must start without writing.
    start(tmp_path, translations)
    before = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in mo_files(translations)}
    start(tmp_path, translations)
    assert {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in mo_files(translations)} == before


def test_a_compiled_catalog_without_its_po_is_used(tmp_path, translations):
    start(tmp_path, translations)
    for po in (translations / "ar" / "LC_MESSAGES").glob("*.po"):
        po.unlink()
    assert ARABIC_HEADLINE in arabic_page(start(tmp_path, translations))


def test_an_unwritable_directory_refuses_to_start_naming_the_catalog(
    tmp_path, translations, monkeypatch
):
    messages = translations / "ar" / "LC_MESSAGES"
    (messages / "staff.mo").touch()  # up to date: only the others need writing
    messages.chmod(0o555)
    if os.geteuid() == 0:
        # Permissions do not stop root: fail the write as the OS would for anyone else.
        def refuse(*args, **kwargs):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr("support.catalogs.tempfile.mkstemp", refuse)
    try:
        with pytest.raises(ConfigError) as refused:
            start(tmp_path, translations)
    finally:
        messages.chmod(0o755)
    message = str(refused.value)
    assert "ar/messages" in message
    assert str(messages / "messages.mo") in message
    assert "missing" in message
    assert "Permission denied" in message
    assert not list(messages.glob(".*.tmp"))


def test_a_stale_catalog_that_cannot_be_written_is_named_as_stale(
    tmp_path, translations, monkeypatch
):
    start(tmp_path, translations)
    mo = translations / "ar" / "LC_MESSAGES" / "banner.mo"
    earlier = mo.with_suffix(".po").stat().st_mtime - 3600
    os.utime(mo, (earlier, earlier))

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("support.catalogs.tempfile.mkstemp", refuse)
    with pytest.raises(ConfigError, match=r"ar/banner .*banner\.mo is older than its \.po"):
        start(tmp_path, translations)


def test_a_missing_catalog_refuses_to_start(tmp_path, translations):
    (translations / "ar" / "LC_MESSAGES" / "staff.po").unlink()
    with pytest.raises(ConfigError, match="No ar/staff translation catalog"):
        start(tmp_path, translations)
