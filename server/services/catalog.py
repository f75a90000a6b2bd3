"""Copy the agencies, services and counters of config.toml into the database."""

from __future__ import annotations

from sqlalchemy import Connection, update
from sqlalchemy.dialects import postgresql, sqlite

from server.config_types import CsaConfig
from server.db import Database
from server.models import AgencyRow, CounterRow, ServiceRow
from server.services import events


def sync_catalog(db: Database, config: CsaConfig) -> None:
    """Upsert what config.toml describes; rows it no longer lists stay, marked inactive."""
    with db.write() as conn:
        _upsert(conn, AgencyRow, "id", [
            {"id": a.id, "name": a.name, "order": a.order.value} for a in config.agencies
        ])
        _upsert(conn, ServiceRow, "code", [
            {"code": s.code, "prefix": s.prefix, "name": s.name, "agency_id": s.agency,
             "active": True}
            for s in config.services
        ])
        known = {s.code for s in config.services}
        conn.execute(update(ServiceRow).where(ServiceRow.code.not_in(known)).values(active=False))
        _upsert(conn, CounterRow, "id", [
            {"id": c.id, "name": c.name, "agency_id": c.agency, "active": True}
            for c in config.counters
        ], insert_only={"state": "open"})
        counters = {c.id for c in config.counters}
        conn.execute(update(CounterRow).where(CounterRow.id.not_in(counters))
                     .values(active=False, state="closed"))
        events.ensure_sequence(conn)


def _upsert(conn: Connection, model, key: str, rows: list[dict],
            insert_only: dict | None = None) -> None:
    if not rows:
        return
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    table = model.__table__
    for row in rows:
        statement = dialect.insert(table).values(**row, **(insert_only or {}))
        statement = statement.on_conflict_do_update(
            index_elements=[table.c[key]],
            set_={k: v for k, v in row.items() if k != key},
        )
        conn.execute(statement)
