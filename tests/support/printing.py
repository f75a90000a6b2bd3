"""The demo CSA with printers the tests choose, and tickets queued for printing."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import select

from server.context import Turnos
from server.models import PrintJob
from server.services import issuing
from server.services.views import TicketView

ROOT = Path(__file__).resolve().parents[2]
_FIRST_PRINTER = '[[printers]]\nid = "pb-1"'
_KIOSKS = "# ------------------------------------------------------------------------------------------\n# Kiosks:"  # noqa: E501


def network(port: int, *, width: int = 80) -> str:
    return f'kind = "network"\nhost = "127.0.0.1"\nport = {port}\npaper_width_mm = {width}'


def file(path: Path, *, width: int = 80) -> str:
    return f'kind = "file"\npath = "{path}"\npaper_width_mm = {width}'


def config_with_printers(tmp_path: Path, printers: dict[str, str], printing_toml: str = "",
                         ) -> Path:
    """The demo config.toml with its printer section replaced: `printers` maps the ids the
    kiosks use (pb-1, pb-2, pa-1) to their TOML keys; `printing_toml` is the [printing] body."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    start, end = text.index(_FIRST_PRINTER), text.index(_KIOSKS)
    section = "".join(f'[[printers]]\nid = "{printer_id}"\n{body}\n\n'
                      for printer_id, body in printers.items())
    section += f"[printing]\n{printing_toml}\n\n"
    path = tmp_path / "config.toml"
    path.write_text(text[:start] + section + text[end:], encoding="utf-8")
    return path


def issue_and_queue(ctx: Turnos, *, service: str = "LIC-RENOV", printer: str = "pb-1",
                    preferential: str | None = None) -> tuple[TicketView, int]:
    """Issue a ticket with its paper queued, as the kiosk does; returns it and its job id."""
    issued = issuing.issue_ticket(
        ctx, issuing.IssueRequest(service, preferential, printer=printer),
        caller="test-kiosk", key=uuid.uuid4().hex,
    )
    with ctx.db.read() as conn:
        job_id = conn.execute(
            select(PrintJob.id).where(PrintJob.ticket_id == issued.ticket.id)
        ).scalar_one()
    return issued.ticket, job_id
