"""Compiled translation catalogs (`.mo`), made sure of at start-up.

Only the `.po` files are in git. Without their `.mo`, Flask-Babel quietly falls
back to English, so an app started without `make` (pip install, then gunicorn)
would serve `/ar/` right to left but in English. `create_app` therefore
compiles any catalog that is missing or older than its `.po`, and refuses to
start when it cannot.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from support.choices import LANGUAGES
from support.config import ConfigError

log = logging.getLogger(__name__)


def compile_catalog(po: Path, mo: Path) -> None:
    """Write `mo` from `po` with Babel, replacing it in one step.

    Written beside it and renamed, so a worker starting at the same moment never
    reads half a catalog. Raises OSError when `mo` cannot be written.
    """
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=po.parent.parent.name, domain=po.stem)
    fd, temporary = tempfile.mkstemp(dir=mo.parent, prefix=f".{mo.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write_mo(handle, catalog)
        os.chmod(temporary, 0o644)
        os.replace(temporary, mo)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def catalogs(config: Mapping, root: Path) -> Iterator[tuple[str, Path]]:
    """Each (locale/domain, .po path) the app reads, from Flask-Babel's settings.

    `BABEL_TRANSLATION_DIRECTORIES` and `BABEL_DOMAIN` are paired lists, as
    Flask-Babel reads them; relative directories are under the app's root.
    """
    directories = config["BABEL_TRANSLATION_DIRECTORIES"].split(";")
    domains = config["BABEL_DOMAIN"].split(";")
    locales = [lang for lang in LANGUAGES if lang != config["BABEL_DEFAULT_LOCALE"]]
    for directory, domain in zip(directories, domains, strict=False):
        for locale in locales:
            po = root / directory / locale / "LC_MESSAGES" / f"{domain}.po"
            yield f"{locale}/{domain}", po


def ensure_compiled(config: Mapping, root: Path) -> list[Path]:
    """Compile every catalog whose `.mo` is missing or older than its `.po`.

    Returns the `.mo` files written. Raises ConfigError, naming the catalog,
    when one is missing altogether or cannot be compiled: better not to start
    than to serve English as Arabic.
    """
    written = []
    for name, po in catalogs(config, root):
        mo = po.with_suffix(".mo")
        if not po.exists():
            if mo.exists():
                continue  # shipped compiled, without its source
            raise ConfigError(f"No {name} translation catalog: neither {po} nor {mo} exists")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        state = "older than its .po" if mo.exists() else "missing"
        try:
            compile_catalog(po, mo)
        except OSError as error:
            raise ConfigError(
                f"The {name} translation catalog {mo} is {state} and cannot be written "
                f"({error.strerror or error}): compile it where it can be "
                "(make translations), or make its directory writable"
            ) from error
        except ValueError as error:  # a .po that is not valid text
            raise ConfigError(f"Cannot compile the {name} catalog {po}: {error}") from error
        log.info("Compiled the %s translation catalog (%s)", name, state)
        written.append(mo)
    return written
