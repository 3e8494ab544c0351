"""What the erasure tests share: every spelling of a value, and a logical dump of the database."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from urllib.parse import quote, quote_plus

from support.extensions import db


def spellings(value: str) -> set[str]:
    """How a dump could hold `value` (searched ignoring case)."""
    escaped = json.dumps(value)
    return {
        value,
        value.lower(),
        value.upper(),
        escaped,
        escaped[1:-1],
        json.dumps(value, ensure_ascii=False),
        quote(value),
        quote(value, safe=""),
        quote_plus(value),
        value.encode("ascii", "xmlcharrefreplace").decode(),
        "".join(f"&#{ord(c)};" for c in value),
    }


def logical_dump() -> str:
    """The whole database as SQL: pg_dump on PostgreSQL, iterdump on SQLite."""
    db.session.commit()
    url = db.engine.url
    if url.get_backend_name() == "postgresql":
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        done = subprocess.run(
            ["pg_dump", "--data-only", dsn], capture_output=True, text=True, check=True
        )
        return done.stdout
    connection = sqlite3.connect(url.database)
    try:
        return "\n".join(connection.iterdump())
    finally:
        connection.close()
