"""Encrypting TOTP secrets at rest, with keys that can be rotated.

Whoever reads the database (a backup, a dump, a replica) must not be able to
produce second-factor codes, so secrets are stored as Fernet tokens (AES-128
in CBC mode with an HMAC-SHA256, from the `cryptography` package).

The keys come from `STAFF_TOTP_KEYS`, comma-separated: the first encrypts,
every one decrypts (MultiFernet), so a new key can be put first while old
tokens still open; `flask --app wsgi staff rotate-totp-keys` then re-encrypts
every secret with the first key, after which the old one can be removed.
Without the setting the key is derived from SECRET_KEY by HKDF-SHA256 (so
changing SECRET_KEY needs the derived key listed, see `staff totp-key`).

Secrets stored in clear by earlier versions (base32, never starting like a
Fernet token) are still read, and are encrypted when next used.
"""

from __future__ import annotations

import base64
import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

log = logging.getLogger(__name__)

HKDF_INFO = b"support.staff.totp-secret"
# Every Fernet token starts with version byte 0x80 and a time stamp: "gAAAAA" in base64.
TOKEN_PREFIX = "gAAAAA"


class SecretUnreadable(Exception):
    """No configured key opens a stored secret (a key was removed too early)."""


def derived_key(secret_key: str) -> str:
    """The Fernet key HKDF derives from SECRET_KEY (used when STAFF_TOTP_KEYS is empty)."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(
        secret_key.encode()
    )
    return base64.urlsafe_b64encode(raw).decode()


def _keys() -> MultiFernet:
    keys = current_app.config["STAFF_TOTP_KEYS"] or [derived_key(current_app.config["SECRET_KEY"])]
    return MultiFernet([Fernet(key) for key in keys])


def is_encrypted(stored: str) -> bool:
    """Whether `stored` is a Fernet token rather than a secret kept in clear."""
    return stored.startswith(TOKEN_PREFIX)


def encrypt(secret: str) -> str:
    """`secret` as a Fernet token under the first key."""
    return _keys().encrypt(secret.encode()).decode()


def decrypt(stored: str) -> str:
    """The secret in `stored` (a token, or an old secret kept in clear)."""
    if not is_encrypted(stored):
        return stored
    try:
        return _keys().decrypt(stored.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("no key in STAFF_TOTP_KEYS opens this TOTP secret") from None


def rotate(stored: str) -> str:
    """`stored` encrypted again under the first key (a clear secret is encrypted)."""
    if not is_encrypted(stored):
        return encrypt(stored)
    try:
        return _keys().rotate(stored.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("no key in STAFF_TOTP_KEYS opens this TOTP secret") from None
