"""MAIL_URL parsing and real SMTP delivery: plain, STARTTLS with login, implicit TLS."""

from __future__ import annotations

import logging
import ssl
import subprocess
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from support.addresses import mask_address
from support.mail.transport import MailError, parse_mail_url, send
from tests.conftest import MailSink, free_port


def test_plain_smtp_url_with_credentials():
    settings = parse_mail_url("smtp://user%40example.org:p%3Ass@mail.example.org:2525")
    assert (settings.host, settings.port) == ("mail.example.org", 2525)
    assert (settings.username, settings.password) == ("user@example.org", "p:ss")
    assert not settings.implicit_tls and not settings.starttls
    assert settings.timeout == 10


def test_default_ports_follow_the_scheme():
    assert parse_mail_url("smtp://mail.example.org").port == 25
    assert parse_mail_url("smtp://mail.example.org?starttls=1").port == 587
    assert parse_mail_url("smtps://mail.example.org").port == 465


def test_starttls_and_implicit_tls_flags():
    starttls = parse_mail_url("smtp://mail.example.org:587?starttls=1&timeout=3")
    assert starttls.starttls and not starttls.implicit_tls and starttls.timeout == 3
    implicit = parse_mail_url("smtps://u:p@mail.example.org")
    assert implicit.implicit_tls and not implicit.starttls


def test_unset_means_log_and_bad_urls_are_refused():
    assert parse_mail_url("") is None
    for bad in (
        "http://mail.example.org",
        "smtp://",
        "smtps://mail.example.org?starttls=1",
        "smtp://mail.example.org:notaport",
        "smtp://mail.example.org?timeout=0",
    ):
        with pytest.raises(ValueError):
            parse_mail_url(bad)


def test_the_password_never_shows_in_a_repr():
    assert "s3cret" not in repr(parse_mail_url("smtp://u:s3cret@mail.example.org"))


def _message(to: str = "reader@example.com") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Support <support@example.org>"
    message["To"] = to
    message["Subject"] = "Hello"
    message.set_content("Plain body")
    return message


def test_a_message_reaches_a_real_smtp_server(_smtp_sink):
    _smtp_sink.clear()
    send(_message(), _smtp_sink.url)
    [received] = _smtp_sink.wait_for(1)
    assert received["Subject"] == "Hello"
    assert received.get_content().strip() == "Plain body"


def test_no_server_is_a_mail_error_not_a_crash():
    with pytest.raises(MailError, match="ConnectionRefused"):
        send(_message(), f"smtp://127.0.0.1:{free_port()}?timeout=2")


def test_without_mail_url_the_mail_goes_to_the_log(caplog):
    with caplog.at_level(logging.INFO, logger="support.mail.transport"):
        send(_message("layla@example.com"), "")
    assert "Plain body" in caplog.text
    assert "l***@example.com" in caplog.text
    assert "layla@example.com" not in caplog.text
    assert mask_address("not-an-address") == "***"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, and a server context using it."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return cert, context


class Accept:
    """An authenticator that accepts one password and remembers the logins it saw."""

    def __init__(self):
        self.logins = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        self.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"pa ss")


def test_starttls_then_login(certificate, monkeypatch):
    cert, context = certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust the test certificate only
    sink, auth = MailSink(), Accept()
    controller = Controller(
        sink, hostname="127.0.0.1", port=free_port(), tls_context=context,
        require_starttls=True, authenticator=auth, auth_require_tls=True,
    )  # fmt: skip
    controller.start()
    try:
        send(
            _message(), f"smtp://news%40example.org:pa%20ss@127.0.0.1:{controller.port}?starttls=1"
        )
        assert len(sink.wait_for(1)) == 1
        assert auth.logins == [(b"news@example.org", b"pa ss")]
        with pytest.raises(MailError):  # the server insists on STARTTLS
            send(_message(), f"smtp://127.0.0.1:{controller.port}")
    finally:
        controller.stop()


def test_implicit_tls(certificate, monkeypatch):
    cert, context = certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    sink = MailSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port(), ssl_context=context)
    controller.start()
    try:
        send(_message(), f"smtps://127.0.0.1:{controller.port}")
        assert len(sink.wait_for(1)) == 1
    finally:
        controller.stop()


def test_an_untrusted_certificate_is_refused(certificate, monkeypatch):
    _cert, context = certificate
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    controller = Controller(MailSink(), hostname="127.0.0.1", port=free_port(), ssl_context=context)
    controller.start()
    try:
        with pytest.raises(MailError, match=r"CERTIFICATE_VERIFY_FAILED|SSL"):
            send(_message(), f"smtps://127.0.0.1:{controller.port}?timeout=3")
    finally:
        controller.stop()
