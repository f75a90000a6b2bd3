"""How many tickets wait in each group of a service's queue, kept by SQLite triggers.

A ticket's place in line is the number of waiting tickets ahead of it. SQLite counts an index
range entry by entry, so counting grows with the line: on the long queues of a busy hour it
was the largest single cost of issuing a ticket after the COMMIT (docs/performance.md). These
counts let a position be a lookup plus a seek over the few tickets queued after it.

SQLite only, and maintained by the triggers of migration 0009, so that no code path that moves
a ticket can forget them. PostgreSQL keeps counting: a counter row would make its concurrent
call-nexts, which SKIP LOCKED lets run side by side, queue on that row until each commits.
This table is in a metadata of its own so that nothing creates it (untended) on PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Column, Date, Integer, MetaData, String, Table

queue_lengths = Table(
    "queue_lengths",
    MetaData(),
    # Untargeted waiting tickets only: those sent to one counter are few and are counted.
    Column("service_code", String(40), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("preferential", Boolean, primary_key=True),
    Column("front", Boolean, primary_key=True),
    Column("waiting", Integer, nullable=False),
    CheckConstraint("waiting >= 0", name="ck_queue_lengths_waiting"),
)
