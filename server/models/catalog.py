"""Agencies, services and counters: copied from config.toml at start-up so rows can refer to
them with foreign keys, plus the live state of each counter."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base

COUNTER_STATES = ("open", "paused", "closed")


class AgencyRow(Base):
    __tablename__ = "agencies"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    order: Mapped[str] = mapped_column(String(20))


class ServiceRow(Base):
    __tablename__ = "services"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    # Unique among the services config.toml lists (checked there), not among retired ones.
    prefix: Mapped[str] = mapped_column(String(2))
    name: Mapped[str] = mapped_column(String(200))
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    # False once a service disappears from config.toml: its old tickets still refer to it.
    active: Mapped[bool] = mapped_column(default=True)


class CounterRow(Base):
    __tablename__ = "counters"
    __table_args__ = (
        CheckConstraint(f"state IN {COUNTER_STATES!r}", name="state"),
        CheckConstraint("regular_since_preferential IS NULL OR regular_since_preferential >= 0",
                        name="streak"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"))
    state: Mapped[str] = mapped_column(String(10), default="open")
    # Feeds the interleaving preferential policy; see server.domain.policy.
    regular_since_preferential: Mapped[int | None] = mapped_column(default=None)
    active: Mapped[bool] = mapped_column(default=True)
