"""Typed, frozen description of one CSA, as read from config.toml.

These objects are what the rest of Turnos sees; `server.config.load_config` builds them and
is the only place that knows about TOML.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo


class GovernmentOrder(StrEnum):
    MUNICIPAL = "municipal"
    STATE = "state"
    FEDERAL = "federal"
    BANK = "bank"


class TransferPlacement(StrEnum):
    """Where a transferred ticket re-enters its new queue."""

    FRONT = "front"
    ORIGINAL_TIME = "original_time"


class PreferentialMode(StrEnum):
    """How preferential tickets (60+, pregnancy, disability) are mixed with regular ones."""

    # Preferential first, unless the oldest regular ticket has waited past a cap.
    CAP = "cap"
    # When both wait, one call in every `every` goes to a preferential ticket.
    INTERLEAVE = "interleave"


@dataclass(frozen=True, slots=True)
class PreferentialPolicyConfig:
    mode: PreferentialMode = PreferentialMode.CAP
    regular_wait_cap_minutes: int = 20
    every: int = 2


@dataclass(frozen=True, slots=True)
class QueueRules:
    transfer_placement: TransferPlacement = TransferPlacement.FRONT
    # A called ticket may be marked no-show once it has been recalled this many times.
    no_show_after_recalls: int = 1
    # Recalling past this many recalls marks the ticket as a no-show by itself.
    max_recalls: int = 3
    preferential: PreferentialPolicyConfig = field(default_factory=PreferentialPolicyConfig)


@dataclass(frozen=True, slots=True)
class OpeningHours:
    opens: dt.time
    closes: dt.time


@dataclass(frozen=True, slots=True)
class Agency:
    id: str
    name: str
    order: GovernmentOrder


@dataclass(frozen=True, slots=True)
class Service:
    code: str
    prefix: str
    name: str
    agency: str
    target_wait_minutes: int
    preferential: bool
    # Optional English name for citizen screens; Spanish `name` is the default.
    name_en: str | None = None


@dataclass(frozen=True, slots=True)
class Counter:
    id: str
    name: str
    agency: str
    services: tuple[str, ...]
    # Printer for the short receipt slips this counter prints on request (optional).
    printer: str | None = None


@dataclass(frozen=True, slots=True)
class DisplayZone:
    id: str
    name: str
    counters: tuple[str, ...]
    services: tuple[str, ...]
    # Loudness of the chime and the spoken call on this zone's displays, 0-100 (% of the TV's).
    volume: int = 100
    # Spanish language tag of the voice that announces calls ("es-MX", "es-US", "es-ES"...):
    # the browser's voice for it, else the server's espeak-ng Spanish.
    voice: str = "es-MX"


class PrinterKind(StrEnum):
    NETWORK = "network"
    USB = "usb"
    SERIAL = "serial"
    CUPS = "cups"
    FILE = "file"


@dataclass(frozen=True, slots=True)
class Printer:
    id: str
    kind: PrinterKind
    # network: host/port; usb: vendor_id/product_id; serial: device/baudrate;
    # cups: queue; file: path. Unused fields stay None.
    host: str | None = None
    port: int = 9100
    vendor_id: int | None = None
    product_id: int | None = None
    device: str | None = None
    baudrate: int = 9600
    queue: str | None = None
    path: str | None = None
    paper_width_mm: int = 80


class GiveUp(StrEnum):
    """What happens to a print job that could not be printed in time."""

    # Marked cancelled: the citizen has the ticket on the kiosk screen; nothing left to do.
    CANCEL = "cancel"
    # Marked failed and kept: managers see it among the printer's failed jobs.
    KEEP = "keep"


@dataclass(frozen=True, slots=True)
class PrintingConfig:
    # First wait before retrying a job that did not print; doubles up to a minute.
    retry_seconds: int = 5
    # A job not printed this long after the ticket was issued is never printed: a ticket that
    # comes out 20 minutes late would only confuse the next person at the kiosk.
    give_up_after_minutes: int = 15
    on_give_up: GiveUp = GiveUp.CANCEL
    # Image printed at the top of every ticket (absolute path), or none.
    logo: str | None = None


@dataclass(frozen=True, slots=True)
class SecurityConfig:
    """Staff sign-in: how long an idle session lasts and how hard guessing is made."""

    # A staff session unused this long ends; the next request asks to sign in again.
    session_idle_minutes: int = 30
    # Login attempts allowed per minute, counted per account and per source address.
    login_attempts_per_minute: int = 10
    # Consecutive failed logins that lock an account, and for how long.
    lockout_after_failures: int = 10
    lockout_minutes: int = 15


@dataclass(frozen=True, slots=True)
class ReceiptsConfig:
    """Signed receipts ([receipts]): the signing identity, trust roots, level and storage.

    Paths are absolute (the loader resolves them against config.toml's folder); the key files
    are read when a signer starts, not when the config is loaded.
    """

    enabled: bool = False
    # Signing identity: a PKCS#12 file, or a PEM private key plus PEM certificates (the
    # signing certificate first, then its chain).
    pkcs12: str | None = None
    key: str | None = None
    certificates: tuple[str, ...] = ()
    # Environment variable holding the passphrase of the PKCS#12 file or PEM key.
    passphrase_env: str = "TURNOS_SIGNING_PASSPHRASE"
    # CA certificates a receipt's signature must chain to for /verify to call it valid.
    trust_roots: tuple[str, ...] = ()
    # CRL files (PEM or DER) embedded as validation data when no other source is reachable.
    crls: tuple[str, ...] = ()
    # RFC 3161 timestamp authority: with it receipts are PAdES B-T, otherwise B-B.
    tsa_url: str | None = None
    # Embed certificates and revocation data (PAdES B-LT); needs tsa_url.
    embed_validation_data: bool = False
    retention_days: int = 365
    page_size: str = "letter"
    show_staff_name: bool = False
    storage_dir: str = "instance/receipts"


@dataclass(frozen=True, slots=True)
class Kiosk:
    id: str
    name: str
    agencies: tuple[str, ...]
    printer: str | None


@dataclass(frozen=True, slots=True)
class CsaConfig:
    name: str
    timezone: ZoneInfo
    base_url: str
    hours: OpeningHours
    # ISO weekday numbers, Monday = 1.
    working_days: frozenset[int]
    holidays: frozenset[dt.date]
    agencies: tuple[Agency, ...]
    services: tuple[Service, ...]
    counters: tuple[Counter, ...]
    zones: tuple[DisplayZone, ...]
    printers: tuple[Printer, ...]
    kiosks: tuple[Kiosk, ...]
    rules: QueueRules = field(default_factory=QueueRules)
    default_locale: str = "es_MX"
    printing: PrintingConfig = field(default_factory=PrintingConfig)
    security: SecurityConfig = field(default_factory=SecurityConfig)
    receipts: ReceiptsConfig = field(default_factory=ReceiptsConfig)

    # Services and counters by id: every issue and every counter action looks one up.
    _services: dict[str, Service] = field(init=False, repr=False, compare=False)
    _counters: dict[str, Counter] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_services", {s.code: s for s in self.services})
        object.__setattr__(self, "_counters", {c.id: c for c in self.counters})

    def service(self, code: str) -> Service:
        return self._services[code]

    def counter(self, counter_id: str) -> Counter:
        return self._counters[counter_id]

    def agency(self, agency_id: str) -> Agency:
        return _by_key(self.agencies, "id", agency_id)

    def zone(self, zone_id: str) -> DisplayZone:
        return _by_key(self.zones, "id", zone_id)

    def printer(self, printer_id: str) -> Printer:
        return _by_key(self.printers, "id", printer_id)

    def zones_showing(self, *, service: str, counter: str | None) -> tuple[str, ...]:
        """Zones whose displays show this service or this counter."""
        return tuple(
            z.id
            for z in self.zones
            if service in z.services or (counter is not None and counter in z.counters)
        )


def _by_key(items: tuple, attr: str, key: str):
    for item in items:
        if getattr(item, attr) == key:
            return item
    raise KeyError(key)
