"""What hall displays show besides the calls: the ticker line a manager sets for a zone."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime

# Long enough for a sentence or two; the display scrolls it, so it need not fit a line.
DISPLAY_MESSAGE_MAX = 280


class DisplayMessage(Base):
    """The ticker line of one zone's hall displays; at most one per zone (clearing it deletes
    the row). Zones come and go with config.toml, so zone_id has no foreign key."""

    __tablename__ = "display_messages"
    __table_args__ = (
        CheckConstraint(f"length(text) BETWEEN 1 AND {DISPLAY_MESSAGE_MAX}", name="text_length"),
        CheckConstraint("expires_at IS NULL OR expires_at > set_at", name="expires_after_set"),
    )

    zone_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    # The staff username (or "cli") who set it; the audit log has the rest.
    set_by: Mapped[str] = mapped_column(String(80))
    set_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # None: shown until cleared or replaced.
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
