"""Ticket printers as managers' dashboards see them: state, and jobs waiting or given up."""

from __future__ import annotations

from server.api import bp
from server.api.auth import STAFF, requires
from server.api.serialize import iso
from server.extensions import ctx
from server.services import printing


@bp.get("/printers")
@requires(*STAFF)
def list_printers():
    return {"printers": [
        {
            "id": p.id,
            "kind": p.kind,
            "status": p.status.value,
            "message": p.message,
            "checked_at": iso(p.checked_at),
            "queued_jobs": p.queued_jobs,
            "failed_jobs": p.failed_jobs,
        }
        for p in printing.printer_states(ctx())
    ]}
