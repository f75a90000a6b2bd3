"""The audit log: every staff action, append-only and hash-chained.

Each entry's hash is the sha256 of its fields and the previous entry's hash, written as
canonical JSON. Changing any stored field of any entry, deleting an entry (the last one too,
through the head row) or reordering them shows up in `verify`. Whoever can write to the
database could still rebuild the whole chain; `turnos audit verify` prints the head hash so
that it can be noted elsewhere (a log server, a paper register) and compared later.

Entries are written by `record` inside the caller's own write transaction, so an action and
its entry are committed together or not at all. The previous hash is read from the one-row
`audit_head` table in that transaction: SQLite serialises write transactions, and on
PostgreSQL the head row is locked FOR UPDATE, so two writers can never chain onto the same
entry. Call `record` as late as possible in a transaction: on PostgreSQL the head row stays
locked until the commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from server.context import Turnos
from server.models import AuditEntry, AuditHead
from server.prepared import Prepared

GENESIS = "0" * 64
HEAD_ID = 1
_FIELDS = ("seq", "at", "actor", "role", "action", "target", "counter_id", "device", "details")
_COLUMNS = [AuditEntry.__table__.c[name] for name in (*_FIELDS, "prev_hash", "hash")]


@dataclass(frozen=True, slots=True)
class AuditProblem:
    seq: int
    message: str

    def __str__(self) -> str:
        return f"seq {self.seq}: {self.message}"


@dataclass(frozen=True, slots=True)
class AuditRecord:
    seq: int
    at: dt.datetime
    actor: str
    role: str | None
    action: str
    target: str | None
    counter_id: str | None
    device: str | None
    details: dict[str, Any] | None


def record(conn: Connection, *, actor: str, role: str | None, action: str,
           target: str | None = None, counter_id: str | None = None, device: str | None = None,
           details: dict[str, Any] | None = None, now: dt.datetime) -> int:
    """Append one entry inside the caller's write transaction; returns its seq.

    `actor`: a username, token name, "cli" or "system"; `role`: the actor's role (None for the
    CLI and the system); `action`: noun.verb in the past tense (`ticket.called`); `target`:
    what was acted on (a ticket number, a username, a token name); `device`: the browser or
    device it came from; `details`: a small JSON object (strings, numbers, booleans).
    """
    head = _LOCK_HEAD.execute(conn, {"head": HEAD_ID}).one()
    entry = {
        "seq": head.seq + 1,
        "at": now.astimezone(dt.UTC),
        "actor": _clip(actor, 80) or "system",
        "role": role,
        "action": action,
        "target": _clip(target, 200),
        "counter_id": counter_id,
        "device": _clip(device, 300),
        "details": details or None,
    }
    entry["prev_hash"] = head.hash
    entry["hash"] = entry_hash(entry, head.hash)
    _INSERT_ENTRY.execute(conn, entry)
    _MOVE_HEAD.execute(conn, {"head": HEAD_ID, "new_seq": entry["seq"], "new_hash": entry["hash"]})
    return entry["seq"]


# Built once and run as Prepared statements: every staff action on a ticket writes an entry,
# and building these per call cost more than running them (docs/performance.md).
_HEAD = AuditHead.__table__
_LOCK_HEAD = Prepared(
    select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == bindparam("head")).with_for_update()
)
_INSERT_ENTRY = Prepared(insert(AuditEntry.__table__))
_MOVE_HEAD = Prepared(
    update(_HEAD).where(_HEAD.c.id == bindparam("head"))
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)


def entry_hash(entry: dict[str, Any], prev_hash: str) -> str:
    """sha256 over the canonical JSON of the entry's fields and the previous hash."""
    fields = {name: entry[name] for name in _FIELDS}
    at = fields["at"]
    fields["at"] = at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    fields["prev_hash"] = prev_hash
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                           allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def verify(ctx: Turnos) -> list[AuditProblem]:
    """Every break in the chain, oldest first; an empty list means the log is intact."""
    problems: list[AuditProblem] = []
    expected_seq, prev_hash = 1, GENESIS
    with ctx.db.read() as conn:
        for row in _entries(conn):
            entry = row._asdict()
            if row.seq != expected_seq:
                missing = (f"seq {expected_seq}" if row.seq == expected_seq + 1
                           else f"seq {expected_seq} to {row.seq - 1}")
                problems.append(AuditProblem(expected_seq, f"missing: {missing} deleted"))
            elif row.prev_hash != prev_hash:
                problems.append(AuditProblem(
                    row.seq, "does not follow the entry before it (altered or reordered)"))
            if entry_hash(entry, row.prev_hash) != row.hash:
                problems.append(AuditProblem(row.seq, "its contents do not match its hash "
                                                      "(altered)"))
            expected_seq, prev_hash = row.seq + 1, row.hash
        head = conn.execute(select(AuditHead.seq, AuditHead.hash)
                            .where(AuditHead.id == HEAD_ID)).first()
    last_seq = expected_seq - 1
    if head is None:
        problems.append(AuditProblem(last_seq, "the audit head row is missing"))
    elif head.seq != last_seq or head.hash != prev_hash:
        if head.seq > last_seq:
            message = f"missing: the newest entries up to seq {head.seq} were deleted"
            problems.append(AuditProblem(last_seq + 1, message))
        else:
            problems.append(AuditProblem(head.seq, "the audit head does not match the newest "
                                                   "entry"))
    return problems


def head(ctx: Turnos) -> tuple[int, str]:
    """(seq, hash) of the newest entry: note it somewhere else to detect a rebuilt chain."""
    with ctx.db.read() as conn:
        row = conn.execute(select(AuditHead.seq, AuditHead.hash)
                           .where(AuditHead.id == HEAD_ID)).one()
    return row.seq, row.hash


def recent(ctx: Turnos, *, limit: int = 200) -> list[AuditRecord]:
    """The newest entries, newest first, for the administrators' page."""
    with ctx.db.read() as conn:
        rows = conn.execute(
            select(*[AuditEntry.__table__.c[name] for name in _FIELDS])
            .order_by(AuditEntry.seq.desc()).limit(limit)
        ).all()
    return [AuditRecord(**row._asdict()) for row in rows]


def _entries(conn: Connection, batch: int = 1000) -> Iterator[Any]:
    """All entries in seq order, a batch at a time (the log grows without bound)."""
    after = 0
    while True:
        rows = conn.execute(select(*_COLUMNS).where(AuditEntry.seq > after)
                            .order_by(AuditEntry.seq).limit(batch)).all()
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].seq


def _clip(value: str | None, length: int) -> str | None:
    return None if value is None else value[:length]
