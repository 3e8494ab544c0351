"""A manage link opens the Billing Portal once: its nonce is recorded when it is used.

Gift links (support/gift_links.py: restart a gift, give monthly) are spent the same way.

The nonce is the primary key of `used_link`, so of two requests using one link
at the same moment exactly one inserts it; the other fails on the key and is
told the link was used. The claim is committed before Stripe is asked, so no
transaction stays open during the call; if Stripe does not answer the claim is
given back and the reader can try again with the same link.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from support import gift_links
from support.extensions import db
from support.models import UsedLink, utcnow
from support.portal_links import MAX_AGE

# A nonce used longer ago than any link lives belongs to an expired link: forget it.
# Gift links (support/gift_links.py) are recorded here too.
KEEP = timedelta(seconds=max(*MAX_AGE.values(), gift_links.MAX_AGE))


def claim(nonce: str) -> bool:
    """Record the link as used and commit; False if it had been used already."""
    now = utcnow()
    # The delete comes first so that on SQLite the transaction starts with a write
    # and takes the lock at once (see support/sqlite_pragmas.py).
    db.session.execute(sa.delete(UsedLink).where(UsedLink.used_at < now - KEEP))
    try:
        db.session.execute(sa.insert(UsedLink).values(nonce=nonce, used_at=now))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def release(nonce: str) -> None:
    """Give a claim back (the portal could not be opened), so the link works again."""
    db.session.execute(sa.delete(UsedLink).where(UsedLink.nonce == nonce))
    db.session.commit()


def is_used(nonce: str) -> bool:
    """Whether the link was used already (a plain read; spends nothing)."""
    return db.session.get(UsedLink, nonce) is not None
