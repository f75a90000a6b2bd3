"""What a hall display shows and says: a zone's recent calls and waits, its ticker line, and
the spoken announcement of a call (with espeak-ng audio for screens without a Spanish voice).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from server.auth import audit
from server.config_types import DisplayZone
from server.context import Turnos
from server.domain import speech
from server.domain.errors import DomainError, NotFound
from server.domain.numbering import service_day
from server.models import DisplayMessage, Event, Ticket
from server.models.display import DISPLAY_MESSAGE_MAX
from server.services import queries

CALL_EVENTS = ("ticket.called", "ticket.recalled")
# How many calls a display lists (the current one included).
RECENT_CALLS = 8
# Looked at when building the list: enough for a busy zone in a building of many zones.
_EVENTS_SCANNED = 400
# The longest a ticker line may be set for, in minutes (a week).
MESSAGE_MAX_MINUTES = 7 * 24 * 60


class InvalidMessage(DomainError):
    code = "invalid_message"
    http_status = 422


class SpeechUnavailable(Exception):
    """espeak-ng is missing, failed or took too long."""


@dataclass(frozen=True, slots=True)
class Call:
    ticket_id: int
    number: str
    service: str
    counter: str | None
    preferential: bool
    recall: bool
    at: dt.datetime
    seq: int

    def as_json(self) -> dict[str, Any]:
        return {"ticket_id": self.ticket_id, "number": self.number, "service": self.service,
                "counter": self.counter, "preferential": self.preferential,
                "recall": self.recall, "at": self.at.isoformat(), "seq": self.seq}


@dataclass(frozen=True, slots=True)
class Message:
    zone: str
    text: str
    set_by: str
    set_at: dt.datetime
    expires_at: dt.datetime | None

    def as_json(self) -> dict[str, Any]:
        return {"text": self.text,
                "expires_at": self.expires_at.isoformat() if self.expires_at else None}


@dataclass(frozen=True, slots=True)
class Announcement:
    text: str
    lang: str


def zone_services(ctx: Turnos, zone: DisplayZone) -> list[str]:
    """Services whose waits the zone shows: those it lists, then those of its counters."""
    codes = list(zone.services)
    for counter_id in zone.counters:
        codes += [c for c in ctx.config.counter(counter_id).services if c not in codes]
    return [s.code for s in ctx.config.services if s.code in codes]


def shows(zone: DisplayZone, *, service: str, counter: str | None) -> bool:
    """Whether a call of this service at this counter appears on the zone's displays (the same
    rule as the realtime zone rooms)."""
    return service in zone.services or (counter is not None and counter in zone.counters)


def recent_calls(ctx: Turnos, zone: DisplayZone, *, limit: int = RECENT_CALLS) -> list[Call]:
    """Today's latest calls and recalls shown in the zone, newest first, one per ticket."""
    now = ctx.clock.now()
    today = service_day(now, ctx.config.timezone)
    start = dt.datetime.combine(today, dt.time(), ctx.config.timezone).astimezone(dt.UTC)
    with ctx.db.read() as conn:
        rows = conn.execute(
            select(Event.seq, Event.type, Event.at, Event.payload)
            .where(Event.type.in_(CALL_EVENTS), Event.at >= start)
            .order_by(Event.seq.desc()).limit(_EVENTS_SCANNED)
        ).all()
    calls: list[Call] = []
    seen: set[int] = set()
    for row in rows:
        ticket = (row.payload or {}).get("ticket") or {}
        ticket_id = ticket.get("id")
        if ticket_id is None or ticket_id in seen:
            continue
        if not shows(zone, service=ticket.get("service", ""), counter=ticket.get("counter")):
            continue
        seen.add(ticket_id)
        calls.append(Call(ticket_id, ticket.get("number", ""), ticket.get("service", ""),
                          ticket.get("counter"), bool(ticket.get("preferential")),
                          row.type == "ticket.recalled", _utc(row.at), row.seq))
        if len(calls) == limit:
            break
    return calls


def waiting(ctx: Turnos, zone: DisplayZone) -> list[dict[str, Any]]:
    """How many wait for each service the zone shows."""
    wanted = set(zone_services(ctx, zone))
    return [{"service": q.service, "waiting": q.waiting,
             "waiting_preferential": q.waiting_preferential}
            for q in queries.queues(ctx) if q.service in wanted]


# --- the ticker line ------------------------------------------------------------------------

def current_message(ctx: Turnos, zone_id: str) -> Message | None:
    """The zone's ticker line, unless it has expired."""
    with ctx.db.read() as conn:
        row = conn.execute(select(DisplayMessage.__table__)
                           .where(DisplayMessage.zone_id == zone_id)).first()
    if row is None:
        return None
    message = Message(row.zone_id, row.text, row.set_by, _utc(row.set_at),
                      _utc(row.expires_at) if row.expires_at else None)
    if message.expires_at is not None and message.expires_at <= ctx.clock.now():
        return None
    return message


def set_message(ctx: Turnos, zone: DisplayZone, text: str, *, minutes: int | None,
                actor: str, role: str, device: str | None) -> Message:
    """Show `text` on the zone's displays (for `minutes`, or until cleared); audited."""
    text = " ".join(text.split())
    if not text:
        raise InvalidMessage("write the message to show, or clear it", code="message_empty")
    if len(text) > DISPLAY_MESSAGE_MAX:
        raise InvalidMessage(f"the message is {len(text)} characters long; at most "
                             f"{DISPLAY_MESSAGE_MAX} fit", code="message_too_long")
    if any(ord(ch) < 32 or 0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        raise InvalidMessage("the message contains control characters",
                             code="message_characters")
    if minutes is not None and not 1 <= minutes <= MESSAGE_MAX_MINUTES:
        raise InvalidMessage(f"a message lasts from 1 to {MESSAGE_MAX_MINUTES} minutes",
                             code="message_duration")
    now = ctx.clock.now()
    expires = now + dt.timedelta(minutes=minutes) if minutes else None
    with ctx.db.write() as conn:
        conn.execute(delete(DisplayMessage).where(DisplayMessage.zone_id == zone.id))
        conn.execute(DisplayMessage.__table__.insert().values(
            zone_id=zone.id, text=text, set_by=actor, set_at=now, expires_at=expires))
        audit.record(conn, actor=actor, role=role, action="display.message_set",
                     target=zone.id, device=device,
                     details={"text": text, "minutes": minutes}, now=now)
    return Message(zone.id, text, actor, now, expires)


def clear_message(ctx: Turnos, zone: DisplayZone, *, actor: str, role: str,
                  device: str | None) -> bool:
    """Remove the zone's ticker line; audited. False when there was none."""
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        removed = conn.execute(delete(DisplayMessage).where(DisplayMessage.zone_id == zone.id))
        if not removed.rowcount:
            return False
        audit.record(conn, actor=actor, role=role, action="display.message_cleared",
                     target=zone.id, device=device, now=now)
    return True


# --- announcements --------------------------------------------------------------------------

def announcement(ctx: Turnos, zone: DisplayZone, ticket_id: int) -> Announcement:
    """The sentence that calls this ticket to its counter, for a display of `zone`.

    Only tickets that were called to a counter this zone shows are announced here; nothing
    else can be turned into speech, so the audio endpoint cannot be made to say anything.
    """
    with ctx.db.read() as conn:
        row = conn.execute(
            select(Ticket.number, Ticket.service_code, Ticket.counter_id)
            .where(Ticket.id == ticket_id)
        ).first()
    if row is None or row.counter_id is None or not shows(
            zone, service=row.service_code, counter=row.counter_id):
        raise NotFound("this display has no call of that ticket to announce")
    counter = ctx.config.counter(row.counter_id)
    return Announcement(speech.call_sentence(row.number, counter.name), zone.voice)


def espeak_voice(voice: str) -> str:
    """espeak-ng's Spanish for a language tag: Castilian for Spain, else Latin American."""
    return "es" if voice in ("es", "es-ES") else "es-419"


class SpeechCache:
    """WAV files espeak-ng made, one per (voice, sentence), kept under a size bound.

    Files are written to a temporary name and renamed, so a reader never sees half a file and
    two processes making the same sentence do no harm. When the folder grows past `max_bytes`
    the least recently used files are deleted.
    """

    def __init__(self, folder: Path, *, max_bytes: int = 50 * 1024 * 1024,
                 espeak: str = "espeak-ng", timeout: float = 20.0) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self._espeak = espeak
        self._timeout = timeout
        self._lock = threading.Lock()

    def path_for(self, text: str, voice: str) -> Path:
        digest = hashlib.sha256(f"{voice}\n{text}".encode()).hexdigest()[:40]
        return self.folder / f"{digest}.wav"

    def audio(self, text: str, voice: str) -> Path:
        """The WAV file of `text` spoken in `voice`, made now if it is not cached."""
        path = self.path_for(text, voice)
        try:
            os.utime(path)  # recently used: evicted last
            return path
        except FileNotFoundError:
            pass
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            os.close(handle)
        except OSError as error:
            raise SpeechUnavailable(f"cannot write under {self.folder}: {error}") from error
        try:
            subprocess.run([self._espeak, "-v", espeak_voice(voice), "-s", "150",
                            "-w", temporary, "--stdin"], input=text.encode(), check=True,
                           capture_output=True, timeout=self._timeout)
            if os.path.getsize(temporary) == 0:
                raise SpeechUnavailable(f"{self._espeak} wrote no audio")
            os.replace(temporary, path)
        except (OSError, subprocess.SubprocessError) as error:
            raise SpeechUnavailable(f"{self._espeak} could not speak: {error}") from error
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
        self._evict(keep=path)
        return path

    def size(self) -> int:
        return sum(f.stat().st_size for f in self.folder.glob("*.wav"))

    def _evict(self, keep: Path) -> None:
        with self._lock:
            files = []
            for file in self.folder.glob("*.wav"):
                try:
                    stat = file.stat()
                except FileNotFoundError:
                    continue
                files.append((stat.st_mtime, stat.st_size, file))
            total = sum(size for _, size, _ in files)
            for _, size, file in sorted(files):
                if total <= self.max_bytes:
                    break
                if file == keep:
                    continue
                file.unlink(missing_ok=True)
                total -= size


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
