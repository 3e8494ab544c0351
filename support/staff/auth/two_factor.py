"""The second factor: TOTP codes from an authenticator app, and one-time recovery codes.

A TOTP code is accepted for the current 30-second step or the one either side
(clocks drift), and only for a step later than the last one accepted, so a code
seen over someone's shoulder cannot be used again. Recovery codes are random,
stored as SHA-256 digests (they carry 50 random bits, so a slow hash adds
nothing), and each is marked used by one conditional UPDATE, so two requests
cannot both spend it. The TOTP secret is stored encrypted (`totp_keys`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time

import pyotp
import segno
import sqlalchemy as sa
from flask import current_app

from support.extensions import db
from support.models import StaffRecoveryCode, StaffUser, utcnow
from support.staff.auth import totp_keys

log = logging.getLogger(__name__)

RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
STEP = 30
# Arabic-Indic and Eastern Arabic-Indic digits, as an Arabic keyboard types them.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def new_secret() -> str:
    """A fresh base32 secret for an authenticator app."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    """The `otpauth://` address an authenticator app reads from the QR code."""
    issuer = current_app.config["SUPPORT_NEWSROOM_NAME"]
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def qr_data_uri(uri: str) -> str:
    """The QR code of `uri` as an SVG `data:` URI: drawn here, no request leaves the page."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2, light="#fff")


def clean_code(text: str | None) -> str:
    """A typed code without spaces or dashes, lower case, Arabic digits made ASCII."""
    text = (text or "").translate(_DIGITS).lower()
    return "".join(ch for ch in text if ch.isalnum())[:32]


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step whose TOTP code is `code` (now or one step either side), else None."""
    code = clean_code(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // STEP)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.at(step * STEP), code):
            return step
    return None


def _digest(code: str) -> str:
    """The stored form of a recovery code, however it was typed."""
    return hashlib.sha256(clean_code(code).encode()).hexdigest()


def _new_recovery_code() -> str:
    """Ten random letters and digits, shown as two groups of five."""
    letters = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
    return f"{letters[:5]}-{letters[5:]}"


def replace_recovery_codes(user: StaffUser) -> list[str]:
    """Forget `user`'s recovery codes and make new ones (not committed); the codes in clear."""
    db.session.execute(
        sa.delete(StaffRecoveryCode).where(StaffRecoveryCode.staff_user_id == user.id)
    )
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    db.session.add_all(
        StaffRecoveryCode(staff_user_id=user.id, code_hash=_digest(code)) for code in codes
    )
    return codes


def enable(user: StaffUser, secret: str, code: str) -> list[str] | None:
    """Turn the second factor on if `code` matches `secret` (not committed).

    The new recovery codes in clear, or None when the code is wrong.
    """
    step = matching_step(secret, code)
    if step is None:
        return None
    user.totp_secret = totp_keys.encrypt(secret)
    user.totp_last_step = step
    return replace_recovery_codes(user)


def disable(user: StaffUser) -> None:
    """Turn the second factor off and drop the recovery codes (not committed)."""
    user.totp_secret = None
    user.totp_last_step = None
    db.session.execute(
        sa.delete(StaffRecoveryCode).where(StaffRecoveryCode.staff_user_id == user.id)
    )


def _spend_step(user: StaffUser, step: int) -> bool:
    """Record `step` as used unless it, or a later one, was used already."""
    done = db.session.execute(
        sa.update(StaffUser)
        .where(
            StaffUser.id == user.id,
            sa.or_(StaffUser.totp_last_step.is_(None), StaffUser.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    return done.rowcount == 1


def _spend_recovery_code(user: StaffUser, code: str) -> bool:
    """Mark one unused recovery code of `user` as used; False if there is none such."""
    done = db.session.execute(
        sa.update(StaffRecoveryCode)
        .where(
            StaffRecoveryCode.staff_user_id == user.id,
            StaffRecoveryCode.code_hash == _digest(code),
            StaffRecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )
    return done.rowcount == 1


# What `check` found: the code opens the door, was used already (the app's code of a
# spent step, or a spent recovery code), or is not right.
ACCEPTED, USED, USED_RECOVERY, WRONG = "accepted", "used", "used_recovery", "wrong"


def check(user: StaffUser, code: str) -> str:
    """ACCEPTED for a fresh TOTP code or an unused recovery code of `user` (spent; not
    committed); USED for the app's code of a step already spent (it is right, but the
    next one is needed); USED_RECOVERY for a recovery code spent before; WRONG otherwise."""
    if not user.totp_secret:
        return WRONG
    try:
        secret = totp_keys.decrypt(user.totp_secret)
    except totp_keys.SecretUnreadable:
        log.error("No STAFF_TOTP_KEYS key opens the TOTP secret of staff user %s", user.id)
        secret = None
    step = matching_step(secret, code) if secret else None
    if step is not None:
        if not totp_keys.is_encrypted(user.totp_secret):
            user.totp_secret = totp_keys.encrypt(secret)  # one kept in clear before encryption
        return ACCEPTED if _spend_step(user, step) else USED
    if len(clean_code(code)) == 10:
        if _spend_recovery_code(user, code):
            return ACCEPTED
        if _recovery_code_spent(user, code):
            return USED_RECOVERY
    return WRONG


def _recovery_code_spent(user: StaffUser, code: str) -> bool:
    """Whether `code` is one of `user`'s recovery codes, used already."""
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(StaffRecoveryCode)
            .where(
                StaffRecoveryCode.staff_user_id == user.id,
                StaffRecoveryCode.code_hash == _digest(code),
                StaffRecoveryCode.used_at.is_not(None),
            )
        )
        > 0
    )


def verify(user: StaffUser, code: str) -> bool:
    """True if `code` is a fresh TOTP code or an unused recovery code of `user` (not committed)."""
    return check(user, code) == ACCEPTED


def rotate_keys() -> int:
    """Encrypt every stored secret again under the first key (not committed); how many."""
    users = db.session.scalars(sa.select(StaffUser).where(StaffUser.totp_secret.is_not(None)))
    count = 0
    for user in users:
        user.totp_secret = totp_keys.rotate(user.totp_secret)
        count += 1
    return count


def recovery_codes_left(user: StaffUser) -> int:
    """How many recovery codes `user` has not used."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(StaffRecoveryCode)
        .where(StaffRecoveryCode.staff_user_id == user.id, StaffRecoveryCode.used_at.is_(None))
    )
