"""The `turnos` command: serve, database, demo data, tokens, staff accounts and the audit log."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from server.auth import accounts, audit
from server.config import ConfigError, load_config
from server.context import NoPush, Turnos
from server.db import Database
from server.domain.errors import DomainError
from server.migrate import upgrade
from server.models.staff import STAFF_ROLES
from server.services import tokens
from server.services.catalog import sync_catalog
from server.settings import Settings


def _context(settings: Settings) -> Turnos:
    config = load_config(settings.config_path)
    db = Database(settings.database_url)
    upgrade(db.engine)
    sync_catalog(db, config)
    return Turnos(config=config, db=db, clock=settings.clock, sink=NoPush())


@click.group()
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="config.toml of the CSA (default: $TURNOS_CONFIG or ./config.toml)")
@click.pass_context
def main(click_ctx: click.Context, config_path: Path | None) -> None:
    """Turnos: kiosk and turn management for a service centre."""
    settings = Settings()
    if config_path is not None:
        settings = Settings(config_path=config_path)
    click_ctx.obj = settings


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.pass_obj
def serve(settings: Settings, host: str, port: int) -> None:
    """Serve the CSA (development server; see README for gunicorn in production)."""
    from server.app import create_app
    from server.extensions import ext

    app = create_app(settings)
    click.echo(f"Turnos: {ext(app).ctx.config.name} on http://{host}:{port}/")
    ext(app).socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True,
                          use_reloader=False, log_output=False)


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(settings: Settings) -> None:
    """Create the database or migrate it to the newest schema."""
    _context(settings)
    click.echo("database is up to date")


@main.command("check-config")
@click.pass_obj
def check_config(settings: Settings) -> None:
    """Validate config.toml and say what it describes."""
    config = load_config(settings.config_path)
    click.echo(
        f"{config.name}: {len(config.agencies)} agencies, {len(config.services)} services, "
        f"{len(config.counters)} counters, {len(config.zones)} zones, "
        f"{len(config.kiosks)} kiosks"
    )


@main.command()
@click.option("--tickets", default=40, show_default=True, help="waiting tickets to issue")
@click.pass_obj
def demo(settings: Settings, tickets: int) -> None:
    """Load demo data: device tokens (saved under instance/) and a morning queue."""
    from server.services.demo import load_demo

    for line in load_demo(_context(settings), tickets=tickets):
        click.echo(line)


@main.group()
def token() -> None:
    """API and device tokens."""


@token.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "staff", "kiosk", "display"]),
              required=True)
@click.pass_obj
def token_create(settings: Settings, name: str, role: str) -> None:
    """Create a token and print it once; only its hash is stored."""
    click.echo(tokens.create_token(_context(settings), name, role, actor="cli"))


@token.command("revoke")
@click.argument("name")
@click.pass_obj
def token_revoke(settings: Settings, name: str) -> None:
    """Revoke a token by name."""
    tokens.revoke_token(_context(settings), name, actor="cli")
    click.echo(f"revoked {name}")


@main.group()
def printers() -> None:
    """Ticket printers."""


@printers.command("status")
@click.option("--timeout", default=1.0, show_default=True, type=float,
              help="seconds to wait for each printer's answer")
@click.pass_obj
def printers_status(settings: Settings, timeout: float) -> None:
    """Ask every printer how it is now and list the answers."""
    from server.services.printing import check_printers

    ctx = _context(settings)
    try:
        states = check_printers(ctx, timeout=timeout)
    finally:
        ctx.db.dispose()
    rows = [("PRINTER", "KIND", "STATUS", "QUEUED", "FAILED", "MESSAGE")]
    for printer in states:
        rows.append((printer.id, printer.kind, printer.status.value, str(printer.queued_jobs),
                     str(printer.failed_jobs), printer.message or ""))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
                   + "  " + row[-1])


@printers.command("test")
@click.argument("printer_id")
@click.pass_obj
def printers_test(settings: Settings, printer_id: str) -> None:
    """Print a test page on one printer now and say how it went."""
    from server.services.print_worker import print_now
    from server.services.printing import cancel_job, queue_test_page

    config = load_config(settings.config_path)
    if printer_id not in {p.id for p in config.printers}:
        known = ", ".join(p.id for p in config.printers) or "none"
        raise click.ClickException(f"there is no printer '{printer_id}' (printers: {known})")
    ctx = _context(settings)
    try:
        outcome = print_now(ctx, queue_test_page(ctx, printer_id))
        if outcome.status != "printed":
            # A test page that comes out later, unasked, would only puzzle whoever is nearby.
            cancel_job(ctx, outcome.job_id, "the test page was not printed at once")
    finally:
        ctx.db.dispose()
    if outcome.status == "printed":
        click.echo(f"{printer_id}: test page printed")
        return
    detail = f": {outcome.error}" if outcome.error else ""
    click.echo(f"{printer_id}: test page not printed{detail}", err=True)
    sys.exit(1)


@main.group()
def staff() -> None:
    """Staff accounts (browser sign-in for counters, orientation, managers, administrators)."""


@staff.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(STAFF_ROLES), required=True)
@click.option("--agency", default=None, help="agency id from config.toml (counter staff)")
@click.option("--name", "display_name", default="", help="name shown on screens")
@click.option("--password-stdin", is_flag=True,
              help="read the password from the first line of standard input")
@click.pass_obj
def staff_add(settings: Settings, username: str, role: str, agency: str | None,
              display_name: str, password_stdin: bool) -> None:
    """Create an account; the password is asked twice (or read from stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    ctx = _context(settings)
    try:
        account = accounts.create_account(
            ctx, username=username, display_name=display_name, role=role, agency_id=agency,
            password=password, actor=accounts.CLI)
    finally:
        ctx.db.dispose()
    click.echo(f"created {account.username} ({account.role})")


@staff.command("list")
@click.pass_obj
def staff_list(settings: Settings) -> None:
    """List the accounts, with their state."""
    ctx = _context(settings)
    try:
        now = ctx.clock.now()
        rows = [("USERNAME", "ROLE", "AGENCY", "STATE", "FAILED", "NAME")]
        for account in accounts.list_accounts(ctx):
            state = "active" if account.active else "disabled"
            if account.locked(now):
                state += f", locked until {account.locked_until:%Y-%m-%d %H:%M}Z"
            rows.append((account.username, account.role, account.agency_id or "-", state,
                         str(account.failed_logins), account.display_name))
    finally:
        ctx.db.dispose()
    _table(rows)


@staff.command("disable")
@click.argument("username")
@click.pass_obj
def staff_disable(settings: Settings, username: str) -> None:
    """Deactivate an account; its open sessions end at once."""
    ctx = _context(settings)
    try:
        account = accounts.find_account(ctx, username)
        accounts.set_active(ctx, account.id, False, actor=accounts.CLI)
    finally:
        ctx.db.dispose()
    click.echo(f"disabled {account.username}")


@main.group()
def keys() -> None:
    """Keys that sign citizens' receipts."""


@keys.command("init")
@click.option("--force", is_flag=True, help="replace keys that already exist")
@click.option("--dir", "directory", type=click.Path(path_type=Path), default=None,
              help="where to write them (default: the folder of [receipts] pkcs12)")
@click.pass_obj
def keys_init(settings: Settings, force: bool, directory: Path | None) -> None:
    """Make a development CA and a signing certificate for this CSA (not for production)."""
    from server.receipts import keys as dev_keys

    config = load_config(settings.config_path)
    directory = directory or dev_keys.key_directory(config.receipts, settings.config_path)
    existing = dev_keys.existing_files(directory)
    if existing and not force:
        names = ", ".join(path.name for path in existing)
        raise click.ClickException(f"{directory} already holds {names}; "
                                   "use --force to replace them (old receipts stay signed "
                                   "by the old CA)")
    made = dev_keys.make_dev_keys(config.name)
    written = dev_keys.write_dev_keys(made, directory)
    click.echo(f"development CA: {written['ca_cert']} (key {written['ca_key']}, "
               f"CRL {written['crl']}), valid until {made.ca_cert.not_valid_after_utc:%Y-%m-%d}")
    click.echo(f"signing certificate for {config.name!r}: {written['signing']} (PKCS#12), "
               f"valid until {made.signing_cert.not_valid_after_utc:%Y-%m-%d}")
    click.echo(f"its passphrase is in {written['passphrase']}; the server reads it from "
               f"${config.receipts.passphrase_env} (make run exports it)")


@main.group("audit")
def audit_group() -> None:
    """The audit log of staff actions."""


@audit_group.command("verify")
@click.pass_obj
def audit_verify(settings: Settings) -> None:
    """Check the hash chain; exit 1 naming the first broken entry."""
    ctx = _context(settings)
    try:
        problems = audit.verify(ctx)
        seq, head = audit.head(ctx)
    finally:
        ctx.db.dispose()
    if problems:
        click.echo(f"audit log broken at seq {problems[0].seq}: {problems[0].message}", err=True)
        for problem in problems[1:]:
            click.echo(f"also: {problem}", err=True)
        sys.exit(1)
    click.echo(f"audit log intact: {seq} entries (head {head})")


@main.group("receipts")
def receipts_group() -> None:
    """Citizens' signed receipts."""


@receipts_group.command("sign")
@click.option("--day", "day", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="CSA-local day whose receipts to produce (YYYY-MM-DD)")
@click.option("--force", is_flag=True, help="sign again the receipts already signed")
@click.option("--processes", default=None, type=click.IntRange(1, 64),
              help="signing processes (default: one per CPU)")
@click.pass_obj
def receipts_sign(settings: Settings, day, force: bool, processes: int | None) -> None:
    """(Re)produce the signed receipts of one day; resumable (signed ones are skipped)."""
    import os

    from server.services import receipt_worker, receipts

    ctx = _context(settings)
    try:
        if not receipts.enabled(ctx.config):
            raise click.ClickException("receipts are not enabled in config.toml ([receipts])")
        rows = receipt_worker.day_receipts(ctx, day.date(), force=force)
        processes = processes or os.cpu_count() or 1
        tally: dict[str, int] = {}
        with click.progressbar(length=len(rows), label=f"receipts of {day:%Y-%m-%d}",
                               show_pos=True, file=sys.stderr) as bar:
            for outcome in receipt_worker.sign_day(ctx, rows, force=force,
                                                   processes=min(processes, len(rows) or 1)):
                tally[outcome.status] = tally.get(outcome.status, 0) + 1
                bar.update(1)
    finally:
        ctx.db.dispose()
    summary = ", ".join(f"{count} {status}" for status, count in sorted(tally.items()))
    click.echo(f"{day:%Y-%m-%d}: {len(rows)} receipts to sign" + (f" ({summary})" if summary
                                                                  else ""))
    if tally.get("failed") or tally.get("pending"):
        sys.exit(1)


def _table(rows: list[tuple[str, ...]]) -> None:
    """Columns padded to their widest cell; the last one as it is."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
                   + "  " + row[-1])


def run() -> None:
    try:
        main(standalone_mode=False)
    except ConfigError as error:
        click.echo(f"config error: {error}", err=True)
        sys.exit(2)
    except DomainError as error:
        click.echo(f"error: {error.message}", err=True)
        sys.exit(1)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except click.exceptions.Abort:
        sys.exit(1)
