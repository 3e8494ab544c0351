"""`/staff/supporters.csv`: one row per supporter, streamed in id order.

Columns and the `status` rule are a contract (DESIGN.md). The export takes
the supporters list's filters (`q`, `status`, `currency`, `interval`), so it
holds what the list shows, every page of it. Supporters are read in keyset
batches (`id > last`), so the export neither holds one long cursor nor loads
the table into memory. Amounts are in major units ("5.00") for spreadsheets.
Any cell a spreadsheet could run as a formula is neutralised. `excel=1` starts
the file with a byte-order mark, which is how Excel knows it is UTF-8 (without
it, Excel reads Arabic names and "€" as mojibake).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import aliased

from support.extensions import db
from support.models import Payment, Subscription, Supporter
from support.money import exponent
from support.staff.supporters.queries import Filters, filtered, with_gift

COLUMNS = (
    "email", "name", "status", "amount", "currency", "interval",
    "started_at", "canceled_at", "source", "lang",
)  # fmt: skip
BATCH = 2_000
# Excel, LibreOffice and Google Sheets treat cells starting with these as formulas.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
BOM = "\ufeff"


def safe_cell(value: object) -> str:
    """The cell as text, prefixed with `'` when a spreadsheet would run it as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) or text.lstrip().startswith(FORMULA_STARTS[:4]):
        return "'" + text
    return text


def major_units(minor: int | None, currency: str | None) -> str:
    """500, "usd" → "5.00"; empty when there is no amount."""
    if minor is None or not currency:
        return ""
    places = exponent(currency)
    return f"{Decimal(minor).scaleb(-places):.{places}f}"


def when(moment: datetime | None) -> str:
    """ISO 8601 in UTC, to the second."""
    return moment.isoformat(timespec="seconds") if moment else ""


def _batch(after: int, filters: Filters) -> list[tuple]:
    sub = aliased(Subscription)
    query = filtered(with_gift(sub), filters, sub)
    return db.session.execute(
        query.where(Supporter.id > after).order_by(Supporter.id).limit(BATCH)
    ).all()


def row_for(supporter: Supporter, sub: Subscription | None, gift: Payment | None) -> list[str]:
    """The contract's columns for one supporter."""
    if sub is not None:
        values = [sub.status, major_units(sub.amount, sub.currency), sub.currency, sub.interval,
                  when(sub.started_at), when(sub.canceled_at), sub.source]  # fmt: skip
    else:
        amount = major_units(gift.amount, gift.currency) if gift else ""
        values = ["one_time", amount, gift.currency if gift else "", "",
                  when(supporter.first_supported_at or (gift.paid_at if gift else None)), "",
                  gift.source if gift else ""]  # fmt: skip
    return [safe_cell(v) for v in (supporter.email, supporter.name, *values, supporter.lang)]


def generate(filters: Filters | None = None, excel: bool = False) -> Iterator[str]:
    """The CSV text of the supporters `filters` match (all without), a header and then
    one chunk per batch; `excel` puts a byte-order mark first."""
    filters = filters or Filters()
    buffer = io.StringIO()
    if excel:
        buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    after = 0
    while True:
        rows = _batch(after, filters)
        for supporter, sub, gift in rows:
            writer.writerow(row_for(supporter, sub, gift))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(rows) < BATCH:
            break
        after = rows[-1][0].id
        # Keep the session small between batches.
        db.session.expunge_all()
