"""`flask campaigns export|import|optimise`: campaigns as JSON files, for version control."""

from __future__ import annotations

import json
from decimal import Decimal

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from support import json_input
from support.campaigns import optimise as optimiser
from support.campaigns import store
from support.campaigns.live import forget
from support.extensions import db

campaigns_group = AppGroup("campaigns", help="Export, import and optimise campaigns.")


@campaigns_group.command("export")
@click.argument("slug", required=False)
def export(slug: str | None) -> None:
    """Print SLUG's campaign as JSON, or every campaign as a JSON list (by slug)."""
    if slug:
        campaign = store.get(slug)
        if campaign is None:
            raise click.ClickException(f"no campaign is called {slug!r}")
        data = store.document(campaign)
    else:
        # By slug, so an export diffs cleanly against the last one in version control.
        data = [store.document(c) for c in sorted(store.all_campaigns(), key=lambda c: c.slug)]
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@campaigns_group.command("import")
@click.argument("file", type=click.File("rb"))
def import_(file) -> None:
    """Create or update campaigns by slug from FILE (one campaign or a list), all or nothing.

    An invalid file changes nothing; every problem is named. The file is read
    strictly (`json_input`): a key given twice or text that is not UTF-8 is refused.
    """
    try:
        # Numbers as written, so an amount such as 1e1 meets money.py's rules as typed.
        data = json_input.loads(file.read(), parse_float=Decimal)
    except json_input.JSONInputError as error:
        raise click.ClickException(f"{file.name} is not a campaign file: {error}") from None
    items = data if isinstance(data, list) else [data]
    with force_locale("en"):
        try:
            outcome = store.import_documents(items, author=None)
        except store.Invalid as error:
            db.session.rollback()
            for problem in error.problems:
                click.echo(f"  {problem}", err=True)
            raise click.ClickException(
                f"{file.name}: {len(error.problems)} problem(s); nothing was imported"
            ) from None
    db.session.commit()
    forget()
    for slug, what in outcome:
        click.echo(f"{slug}: {what}")


@campaigns_group.command("optimise")
def optimise() -> None:
    """Recompute the banner weights of running campaigns with optimise on, now."""
    for campaign in store.all_campaigns():
        if campaign.status == "live" and store.document(campaign)["banner"]["optimise"]:
            result = optimiser.optimise(campaign)
            weights = ", ".join(f"{name} {w:.0%}" for name, w in result["weights"].items())
            click.echo(f"{campaign.slug}: {weights}")
    db.session.commit()
