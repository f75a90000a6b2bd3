"""Demo data for `make run`: device tokens and a realistic morning queue."""

from __future__ import annotations

import random
import secrets
import uuid
from pathlib import Path

from sqlalchemy import func, select

from server.context import Turnos
from server.domain.numbering import service_day
from server.models import ApiToken, Ticket
from server.services import issuing, tokens

DEMO_TOKENS_FILE = Path("instance") / "demo-tokens.txt"
DEMO_ACCOUNTS_FILE = Path("instance") / "demo-accounts.txt"


def load_demo(ctx: Turnos, *, tickets: int = 40, seed: int = 7) -> list[str]:
    """Create the demo's tokens (once) and, if today has no tickets, some waiting ones.

    Returns what was done, one line each, for the CLI to print.
    """
    done = _ensure_tokens(ctx) + _ensure_accounts(ctx)
    today = service_day(ctx.clock.now(), ctx.config.timezone)
    with ctx.db.read() as conn:
        existing = conn.execute(
            select(func.count()).select_from(Ticket).where(Ticket.day == today)
        ).scalar_one()
    if existing:
        return [*done, f"today already has {existing} tickets; none added"]
    rng = random.Random(seed)
    services = list(ctx.config.services)
    for _ in range(tickets):
        service = rng.choice(services)
        reason = None
        if service.preferential and rng.random() < 0.2:
            reason = rng.choice(issuing.PREFERENTIAL_REASONS)
        issuing.issue_ticket(ctx, issuing.IssueRequest(service.code, reason),
                             caller="demo", key=uuid.uuid4().hex)
    return [*done, f"issued {tickets} demo tickets"]


def _ensure_tokens(ctx: Turnos) -> list[str]:
    wanted = [("demo-admin", "admin"), ("demo-staff", "staff")]
    wanted += [(f"kiosk-{k.id}", "kiosk") for k in ctx.config.kiosks]
    wanted += [(f"display-{z.id}", "display") for z in ctx.config.zones]
    with ctx.db.read() as conn:
        have = set(conn.execute(select(ApiToken.name)).scalars())
    created = [(name, role, tokens.create_token(ctx, name, role))
               for name, role in wanted if name not in have]
    if not created:
        return [f"demo tokens exist (see {DEMO_TOKENS_FILE})"]
    _append_secrets(DEMO_TOKENS_FILE, created)
    return [f"created {len(created)} demo tokens in {DEMO_TOKENS_FILE}"]


def _ensure_accounts(ctx: Turnos) -> list[str]:
    """A sign-in for each role, and a clerk per agency, with random passwords saved under
    instance/ (never a fixed demo password: a demo left running is still a server)."""
    from server.auth import accounts

    wanted = [("admin", "Administración", "admin", None),
              ("gerente", "Gerencia del CSA", "manager", None),
              ("orientacion", "Orientación", "orientation", None)]
    wanted += [(f"{a.id}-1", f"Ventanilla de {a.name}", "counter", a.id)
               for a in ctx.config.agencies]
    have = {a.username for a in accounts.list_accounts(ctx)}
    created = []
    for username, name, role, agency in wanted:
        if username in have:
            continue
        password = secrets.token_urlsafe(12)
        accounts.create_account(ctx, username=username, display_name=name, role=role,
                                agency_id=agency, password=password, actor=accounts.CLI)
        created.append((username, role, password))
    if not created:
        return [f"demo staff accounts exist (see {DEMO_ACCOUNTS_FILE})"]
    _append_secrets(DEMO_ACCOUNTS_FILE, created)
    return [f"created {len(created)} demo staff accounts in {DEMO_ACCOUNTS_FILE} "
            f"(sign in at /login)"]


def _append_secrets(path: Path, rows: list[tuple[str, str, str]]) -> None:
    """Add `name  role  secret` lines to a file only its owner may read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        path.chmod(0o600)
        for name, role, secret in rows:
            out.write(f"{name}\t{role}\t{secret}\n")
